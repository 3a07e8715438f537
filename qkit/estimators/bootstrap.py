"""Parametric bootstrap machinery: multinomial resampling and interval construction.

Shared by the tomography and mutual-information estimators. Replicates carry the bootstrap
axis first, ``(n_boot, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qkit.estimators._normal import norm

INTERVAL_METHODS = ("percentile", "basic", "bc")

# Bootstrap draws are made in chunks of at most this many multinomial rows, so that a sweep of
# 10^4 points times 10^3 resamples does not allocate gigabytes at once.
_MAX_ROWS_PER_CHUNK = 2_000_000  # equivalent[2000000 -> 2000001]: a memory bound

_BOUNDARY_TOL = 1e-12


def resampled_statistics(
    statistic: Callable[[np.ndarray, slice], tuple[np.ndarray, ...]],
    shots: np.ndarray,
    probabilities: np.ndarray,
    n_boot: int,
    rng: np.random.Generator | list[np.random.Generator],
) -> tuple[np.ndarray, ...]:
    """Apply ``statistic`` to ``n_boot`` multinomial resamples of every row of counts.

    Parameters
    ----------
    statistic : callable
        ``statistic(draws, points)`` maps resampled counts ``(n_boot, m, n_rows, k)`` of the
        flattened batch points ``points`` (a slice) to a tuple of arrays ``(n_boot, m)``.
    shots : numpy.ndarray, shape (..., n_rows)
        Shots per row (e.g. per measurement setting or per input symbol).
    probabilities : numpy.ndarray, shape (..., n_rows, k)
        Outcome probabilities to draw each row from.
    n_boot : int
        Number of resamples.
    rng : numpy.random.Generator or list of Generators
        Source of randomness; the draws depend only on it and the input shapes. A list gives
        one Generator per (flattened) batch point: point ``i`` then draws from ``rng[i]``
        alone, so its replicates are the same whether it is computed alone or in any batch.

    Returns
    -------
    tuple of numpy.ndarray
        Each of shape ``(n_boot, ...)``.
    """
    batch = shots.shape[:-1]
    n_rows, k = probabilities.shape[-2:]
    # equivalent[1 -> 2]: numpy reads any negative size as "the rest", -2 as -1
    flat_shots = np.rint(shots.reshape(-1, n_rows)).astype(np.int64)
    # equivalent[1 -> 2]: the same
    flat_probs = np.broadcast_to(probabilities, (*batch, n_rows, k)).reshape(-1, n_rows, k)
    # Rounding in upstream arithmetic can leave tiny negative or non-normalized entries.
    flat_probs = np.clip(flat_probs, 0.0, None)
    flat_probs = flat_probs / np.sum(flat_probs, axis=-1, keepdims=True)
    n_points = flat_shots.shape[0]
    # equivalent[1 -> 2]: a chunk of at least 2 points only where one is over the memory bound
    chunk = max(1, _MAX_ROWS_PER_CHUNK // (n_boot * n_rows))
    pieces: list[tuple[np.ndarray, ...]] = []
    for start in range(0, n_points, chunk):
        points = slice(start, min(start + chunk, n_points))
        m = points.stop - points.start
        if isinstance(rng, list):
            draws = np.stack(
                [
                    rng[i].multinomial(flat_shots[i], flat_probs[i], size=(n_boot, n_rows))
                    for i in range(points.start, points.stop)
                ],
                axis=1,
            )
        else:
            draws = rng.multinomial(
                flat_shots[points], flat_probs[points], size=(n_boot, m, n_rows)
            )
        pieces.append(tuple(statistic(draws.astype(float), points)))
    return tuple(
        np.concatenate([p[i] for p in pieces], axis=1).reshape(n_boot, *batch)
        for i in range(len(pieces[0]))
    )


def interval_from_replicates(
    point: np.ndarray,
    replicates: np.ndarray,
    confidence: float,
    method: str = "percentile",
    lower: float | None = None,
    upper: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bootstrap confidence interval from replicates ``(n_boot, ...)`` of a statistic.

    Methods (Efron & Tibshirani, *An Introduction to the Bootstrap*, ch. 13-14):

    - ``"percentile"``: the ``alpha/2`` and ``1 - alpha/2`` quantiles of the replicates;
    - ``"basic"``: ``2 theta_hat - q_(1-alpha/2)``, ``2 theta_hat - q_(alpha/2)`` (corrects a
      constant bias of the estimator);
    - ``"bc"``: bias-corrected percentile, quantiles shifted by ``z0 = Phi^-1(P*(theta* <
      theta_hat))``.

    The ends are clipped to ``[lower, upper]``. ``at_boundary`` is True where the point
    estimate, an interval end, or at least ``alpha/2`` of the replicates sit on one of those
    limits: there the sampling distribution is truncated and coverage is not nominal.

    Returns
    -------
    (ci_low, ci_high, at_boundary)
    """
    if method not in INTERVAL_METHODS:
        raise ValueError(f"interval must be one of {', '.join(INTERVAL_METHODS)}, got {method!r}")
    alpha = 1.0 - confidence
    point = np.asarray(point, dtype=float)
    if method == "percentile":
        low, high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    elif method == "basic":
        q_low, q_high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
        low, high = 2.0 * point - q_high, 2.0 * point - q_low
    else:
        below = np.mean(replicates < point, axis=0) + 0.5 * np.mean(replicates == point, axis=0)
        n_boot = replicates.shape[0]
        below = np.clip(below, 0.5 / n_boot, 1.0 - 0.5 / n_boot)
        z0 = norm.ppf(below)
        z = norm.ppf(1.0 - alpha / 2.0)
        low = _quantile_per_point(replicates, norm.cdf(2.0 * z0 - z))
        high = _quantile_per_point(replicates, norm.cdf(2.0 * z0 + z))
    at_boundary = np.zeros(np.shape(point), dtype=bool)
    # (within _BOUNDARY_TOL, inclusive or not: "<=" and "<" differ only at exactly 1e-12)
    if lower is not None:
        at_boundary |= point <= lower + _BOUNDARY_TOL  # equivalent[LtE -> Lt]
        at_boundary |= low <= lower + _BOUNDARY_TOL  # equivalent[LtE -> Lt]
        # equivalent[LtE -> Lt]: a replicate exactly 1e-12 from the limit
        at_boundary |= np.mean(replicates <= lower + _BOUNDARY_TOL, axis=0) >= alpha / 2.0
        low, high = np.maximum(low, lower), np.maximum(high, lower)
    if upper is not None:
        at_boundary |= point >= upper - _BOUNDARY_TOL  # equivalent[GtE -> Gt]
        at_boundary |= high >= upper - _BOUNDARY_TOL  # equivalent[GtE -> Gt]
        # equivalent[GtE -> Gt #2]: a replicate exactly 1e-12 from the limit
        at_boundary |= np.mean(replicates >= upper - _BOUNDARY_TOL, axis=0) >= alpha / 2.0
        low, high = np.minimum(low, upper), np.minimum(high, upper)
    return np.asarray(low), np.asarray(high), at_boundary


def _quantile_per_point(replicates: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantile of ``replicates[:, i]`` at ``levels[i]`` for every batch index ``i``."""
    ordered = np.sort(replicates, axis=0)
    n_boot = ordered.shape[0]
    # Linear interpolation between order statistics, as numpy's default quantile method.
    position = np.asarray(levels) * (n_boot - 1)
    # levels are at most 1, so position <= n_boot - 1: the upper clips act only at level 1,
    # where clipping at n_boot - 2 gives frac = 1 and the same order statistic;
    # equivalent[Sub -> Add; 1 -> 2]
    below = np.clip(np.floor(position).astype(int), 0, n_boot - 1)
    # equivalent[Sub -> Add; 0 -> 1]: below + 1 >= 1, and Phi(2 z0 + z) < 1 keeps it <= n - 1
    above = np.clip(below + 1, 0, n_boot - 1)
    frac = position - below
    lo = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
    hi = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
    return lo + frac * (hi - lo)
