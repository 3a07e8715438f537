"""Exact one-sided binomial tests and Clopper-Pearson bounds, as ``scipy.stats.binomtest`` gives
them, bit for bit, at a fraction of its cost.

``binomtest(k, n, p, alternative).pvalue`` is ``binom.sf(k - 1, n, p)`` (``"greater"``) or
``binom.cdf(k, n, p)`` (``"less"``), and its exact ``proportion_ci`` the root in ``[0, 1]``, by
Brent's method, of the same tail minus ``alpha`` (Clopper & Pearson 1934). ``scipy.stats.binom``
evaluates the tails with the Boost binomial ufuncs ``scipy.special._ufuncs._binom_sf`` and
``_binom_cdf`` behind its generic argument checks (~50 us a call; a bound takes ~30 calls).
Here the same ufuncs run vectorized over every ``(k, n)`` at once for the p-values, and the
bounds call ``scipy.optimize.brentq`` with the same tolerances on the bare ufunc, so every
number is the one ``binomtest`` gives (``tests/test_binomial.py`` compares them). Where the
ufuncs are missing (another SciPy), ``scipy.stats.binom``'s methods stand in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np


@functools.cache
def _tails() -> tuple[Callable, Callable]:
    """``(sf, cdf)`` of the binomial inside its support ``0 <= k < n`` (Boost's, as
    ``scipy.stats.binom`` calls them)."""
    try:
        from scipy.special._ufuncs import _binom_cdf, _binom_sf
    except ImportError:  # pragma: no cover - a SciPy without them: its public methods
        from scipy.stats import binom

        return binom.sf, binom.cdf
    return _binom_sf, _binom_cdf


def sf(k: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """``scipy.stats.binom.sf(k, n, p)`` for integer ``k`` and ``n >= 1``: ``P(X > k)``."""
    k, n = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    inside = (k >= 0) & (k < n)  # equivalent[Lt -> LtE]: Boost's sf at k = n is 0 exactly
    out = np.where(k < 0, 1.0, 0.0)  # equivalent[Lt -> LtE; 0 -> 1]: k = 0 is inside
    if np.any(inside):
        # equivalent[1 -> 2]: a tail is never above 1
        out[inside] = np.clip(_tails()[0](k[inside], n[inside], p), 0, 1)
    return out


def cdf(k: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """``scipy.stats.binom.cdf(k, n, p)`` for integer ``k`` and ``n >= 1``: ``P(X <= k)``."""
    k, n = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    inside = (k >= 0) & (k < n)  # equivalent[Lt -> LtE]: Boost's cdf at k = n is 1 exactly
    out = np.where(k >= n, 1.0, 0.0)
    if np.any(inside):
        # equivalent[1 -> 2 #1]: a tail is never above 1
        out[inside] = np.clip(_tails()[1](k[inside], n[inside], p), 0, 1)
    return out


def one_sided_tests(
    k: np.ndarray, n: np.ndarray, p: float, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each ``(k, n)``: ``binomtest(k, n, p, "greater")``'s p-value and exact lower bound,
    then ``binomtest(k, n, p, "less")``'s p-value and exact upper bound at ``confidence``.

    ``k`` and ``n`` are integer arrays of one shape with ``0 <= k <= n`` and ``n >= 1``. The
    bounds are kept per process (:func:`_bounds`): a sweep meets the same win counts in every
    chunk.
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError("binomial tests need 0 <= successes <= trials and trials >= 1")
    p_up = np.minimum(1.0, sf(k - 1, n, p))  # equivalent[1.0 -> 1.1]: sf is in [0, 1]
    p_down = np.minimum(1.0, cdf(k, n, p))  # equivalent[1.0 -> 1.1]: cdf is in [0, 1]
    low = np.zeros(k.shape)
    high = np.ones(k.shape)
    for index in np.ndindex(k.shape):
        low[index], high[index] = _bounds(int(k[index]), int(n[index]), float(p), confidence)
    return p_up, low, p_down, high


@functools.lru_cache(maxsize=1 << 17)  # equivalent[1 -> 2; 17 -> 18]: a cache's size
def _bounds(k: int, n: int, p: float, confidence: float) -> tuple[float, float]:
    """``binomtest(k, n, p, "greater").proportion_ci(confidence).low`` and the ``"less"``
    test's ``.high``: Brent's method on the tail minus ``alpha``, as SciPy solves it."""
    from scipy.optimize import brentq

    alpha = 1 - confidence  # as binomtest's proportion_ci computes it
    sf_inside, cdf_inside = _tails()
    kk, nn = float(k), float(n)
    low, high = 0.0, 1.0
    if k > 0:  # P(X >= k; q) = alpha; k - 1 < n always
        low = brentq(lambda q: _clip(sf_inside(kk - 1, nn, q)) - alpha, 0, 1)
    if k < n:  # P(X <= k; q) = alpha; 0 <= k < n
        high = brentq(lambda q: _clip(cdf_inside(kk, nn, q)) - alpha, 0, 1)
    return float(low), float(high)


def _clip(value) -> float:
    """``np.clip(value, 0, 1)`` of one float (as ``scipy.stats.binom`` clips its tails)."""
    return min(max(float(value), 0.0), 1.0)  # equivalent[1.0 -> 1.1]: tails are <= 1
