"""Exact one-sided binomial tests and Clopper-Pearson bounds, vectorized.

``binomtest(k, n, p, alternative).pvalue`` is ``binom.sf(k - 1, n, p)`` (``"greater"``) or
``binom.cdf(k, n, p)`` (``"less"``). ``scipy.stats.binom`` evaluates these tails with the Boost
binomial ufuncs ``scipy.special._ufuncs._binom_sf`` and ``_binom_cdf`` behind its generic
argument checks (~50 us a call); here the same ufuncs run vectorized over every ``(k, n)`` at
once, so the p-values are ``binomtest``'s bit for bit (``tests/test_binomial.py``).

The one-sided Clopper-Pearson bounds (Clopper & Pearson 1934) at level ``1 - alpha`` solve
``P(X >= k; q) = alpha`` (lower) and ``P(X <= k; q) = alpha`` (upper). Since
``P(X >= k; q) = I_q(k, n - k + 1)`` (the regularized incomplete beta function), they are beta
quantiles: ``low = I^-1(alpha; k, n - k + 1)`` and ``high = I^-1c(alpha; k + 1, n - k)``, Boost's
``ibeta_inv``/``ibetac_inv`` (``scipy.special.betaincinv``/``betainccinv``). ``binomtest``
finds the same roots by Brent's method to ``xtol = 2e-12``; the quantiles are the exact bound to
a few ulps (tested against mpmath at 50 digits), and need no ``scipy.optimize``.
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

    ``k`` and ``n`` are integer arrays of one shape with ``0 <= k <= n`` and ``n >= 1``.
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError("binomial tests need 0 <= successes <= trials and trials >= 1")
    p_up = np.minimum(1.0, sf(k - 1, n, p))  # equivalent[1.0 -> 1.1]: sf is in [0, 1]
    p_down = np.minimum(1.0, cdf(k, n, p))  # equivalent[1.0 -> 1.1]: cdf is in [0, 1]
    low, high = clopper_pearson_bounds(k, n, 1.0 - confidence)
    return p_up, low, p_down, high


def clopper_pearson_bounds(
    k: np.ndarray, n: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided exact bounds at level ``1 - alpha``: the lower bound solves
    ``P(X >= k; q) = alpha`` (0 at ``k = 0``), the upper ``P(X <= k; q) = alpha`` (1 at
    ``k = n``), as beta quantiles (module docstring).

    Each bound is computed once per process for up to :data:`MEMO_TRIALS` trials (a sweep
    meets the same win counts in every chunk; a quantile costs ~10 us)."""
    kf, nf = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    low = np.zeros(kf.shape)
    high = np.ones(kf.shape)
    for trials in np.unique(nf):
        chosen = nf == trials
        if trials > MEMO_TRIALS:
            low[chosen], high[chosen] = _quantiles(kf[chosen], float(trials), alpha)
            continue
        if len(_MEMO) >= MEMO_ENTRIES and (float(trials), alpha) not in _MEMO:
            _MEMO.clear()  # many distinct trial counts: start again rather than grow
        # equivalent[2 -> 3; 1 -> 2]: a larger table holds the same bounds where they are read
        known = _MEMO.setdefault((float(trials), alpha), np.full((2, int(trials) + 1), np.nan))
        wins = kf[chosen].astype(np.int64)
        # equivalent[0 -> 1]: both rows of a win count are filled together
        missing = np.unique(wins[np.isnan(known[0, wins])])
        if missing.size:
            known[0, missing], known[1, missing] = _quantiles(
                missing.astype(float), float(trials), alpha
            )
        low[chosen], high[chosen] = known[0, wins], known[1, wins]
    return low, high


MEMO_TRIALS = 1 << 20
"""Trial counts up to which :func:`clopper_pearson_bounds` keeps its bounds (two doubles per
possible win count)."""

MEMO_ENTRIES = 64
"""``(trials, alpha)`` tables kept at most (cleared when full)."""

_MEMO: dict[tuple[float, float], np.ndarray] = {}


def _quantiles(k: np.ndarray, n: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of :func:`clopper_pearson_bounds` for win counts ``k`` of ``n`` trials."""
    from scipy.special import betainccinv, betaincinv

    low = np.zeros(k.shape)
    high = np.ones(k.shape)
    above = k > 0  # the quantile's first shape must be positive: 0 at k = 0
    below = k < n  # and its second: 1 at k = n
    low[above] = betaincinv(k[above], n - k[above] + 1.0, alpha)
    high[below] = betainccinv(k[below] + 1.0, n - k[below], alpha)
    return low, high
