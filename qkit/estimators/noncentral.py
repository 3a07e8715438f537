"""Feldman-Cousins intervals for the noncentrality of a chi-square variable.

A weak signal measured through a quadratic statistic: ``X ~ chi2_d(lambda)`` (``d`` degrees of
freedom, noncentrality ``lambda >= 0``), e.g. ``X`` the G statistic of a mutual information
that the shots barely resolve (Miller, 1955: ``2 N ln2 I`` is chi-square distributed). Feldman
and Cousins, PRD 57, 3873 (1998), Sec. IV: the acceptance region of each ``lambda`` holds the
``X`` of highest likelihood ratio ``f(X; lambda) / f(X; lambda_best(X))`` up to probability
``confidence``; the interval of an observed ``X`` is every ``lambda`` whose region holds it. It
covers ``confidence`` at every ``lambda >= 0``, the bound ``lambda = 0`` included, and becomes
the usual ``sqrt(X) -/+ z`` (in ``mu = sqrt(lambda)``) by itself as the signal grows.

The belt is built once per ``(d, confidence)`` on a grid of ``mu`` (step ``_STEP``) and
``t = sqrt(X)`` (step ``_STEP``); the interval ends are rounded outwards to the grid, so the
coverage is at least ``confidence`` up to the grid's resolution: in ``mu`` each end is outside
the exact Feldman-Cousins end by at most 0.04 and inside it by at most 1e-3 (where the exact
ordering and the grid's cells disagree). ``_STEP`` sets that resolution: 10% coarser it stays
within it (a tolerance, which its mutants survive). ``_MARGIN`` and ``_T_MAX`` only need to be
large enough (the belts are the same doubles with more); so do the half steps that make
``np.arange`` include its end.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

_STEP = 0.01
MU_MAX = 10.0
"""Largest ``mu = sqrt(lambda)`` in the belt; callers switch to a normal interval before."""
# the belt is built beyond MU_MAX, so the best-fitting mu of every t is in it
_MARGIN = 3.0  # equivalent[3.0 -> 3.3]: a wider margin gives the same belt
_T_MAX = MU_MAX + _MARGIN + 8.0  # equivalent[Add -> Sub #2; 8.0 -> 8.8]: t up to 15 or 21.8


@functools.cache
def _belt(df: float, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mu`` grid and the acceptance regions ``[t_lo(mu), t_hi(mu)]`` in ``t = sqrt(X)``."""
    # equivalent[Add -> Sub #1; Div -> Mult; 2 -> 3]: one node more or less of the margin
    mu = np.arange(0.0, MU_MAX + _MARGIN + _STEP / 2, _STEP)
    # equivalent[Add -> Sub; Div -> Mult; 2 -> 3]: one cell more or less beyond any region
    edges = np.arange(0.0, _T_MAX + _STEP / 2, _STEP)
    if df == 1.0:  # X = (mu + Z)^2: P(sqrt X <= t) = Phi(t - mu) - Phi(-t - mu), faster
        cdf = ndtr(edges[None, :] - mu[:, None]) - ndtr(-edges[None, :] - mu[:, None])
    else:
        from scipy.stats import ncx2  # ~0.35 s to import: only for a belt of several dof

        cdf = ncx2.cdf(edges[None, :] ** 2, df, mu[:, None] ** 2)
    mass = np.diff(cdf, axis=1)  # probability of each t cell, per mu
    # equivalent[1e-300 -> 1.1e-300]: only keeps an empty cell from dividing 0 by 0
    ratio = mass / np.maximum(np.max(mass, axis=0, keepdims=True), 1e-300)
    order = np.argsort(-ratio, axis=1, kind="stable")
    ranked = np.take_along_axis(mass, order, axis=1)
    before = np.cumsum(ranked, axis=1) - ranked  # mass of the better-ranked cells
    accepted = np.zeros_like(mass, dtype=bool)
    # equivalent[Lt -> LtE]: a running sum of cell masses is never exactly the confidence
    np.put_along_axis(accepted, order, before < confidence, axis=1)
    cells = np.arange(mass.shape[1])
    t_lo = edges[np.min(np.where(accepted, cells, cells.size), axis=1)]
    # equivalent[-x -> x; 1 -> 2 #3]: every row accepts a cell, the -1 is never the maximum
    t_hi = edges[np.max(np.where(accepted, cells, -1), axis=1) + 1]
    # monotone in mu (they are, up to the grid's ties); made so for the inversion
    keep = mu <= MU_MAX + _STEP / 2  # equivalent[LtE -> Lt; 2 -> 3]: mu is on the grid
    return mu[keep], np.maximum.accumulate(t_lo[keep]), np.maximum.accumulate(t_hi[keep])


def interval(x: np.ndarray, df: ArrayLike, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Feldman-Cousins interval ``[lambda_lo, lambda_hi]`` of ``X ~ chi2_df(lambda)``.

    ``df`` (broadcast with ``x``; at least 1) is rounded to a multiple of 0.5 (one belt per
    value, about a second to build); ``x`` below 0 counts as 0. Valid while
    ``sqrt(lambda_hi) < MU_MAX``: callers use it for weak signals only.

    >>> lo, hi = interval(np.array([0.0, 16.0]), 1.0, 0.95)
    >>> float(lo[0]), round(float(np.sqrt(hi[0])), 1)  # nothing seen: an upper limit
    (0.0, 1.7)
    >>> np.round(np.sqrt([lo[1], hi[1]]), 1).tolist()  # |mu + Z| = 4: about 4 -/+ 1.96
    [2.0, 6.0]
    """
    t = np.sqrt(np.clip(np.asarray(x, dtype=float), 0.0, None))
    dfs = np.maximum(1.0, np.round(np.asarray(df, dtype=float) * 2.0) / 2.0)
    t, dfs = np.broadcast_arrays(t, dfs)
    lam_lo, lam_hi = np.zeros(t.shape), np.zeros(t.shape)
    for value in np.unique(dfs):
        mu, t_lo, t_hi = _belt(float(value), float(confidence))
        here = dfs == value
        # lambda_lo: the smallest mu whose region reaches up to t; lambda_hi: the largest mu
        # whose region starts below t; one grid step outwards each, so the grid never
        # narrows them.
        lo = np.searchsorted(t_hi, t[here], side="left") - 1
        hi = np.searchsorted(t_lo, t[here], side="right")
        # equivalent[Sub -> Add]: lo <= mu.size - 1 already
        lam_lo[here] = mu[np.clip(lo, 0, mu.size - 1)] ** 2
        # equivalent[0 -> 1]: t_lo[0] = 0 <= t, so hi >= 1 already
        lam_hi[here] = mu[np.clip(hi, 0, mu.size - 1)] ** 2
    return lam_lo, lam_hi


def _cdf(edges: np.ndarray, mu: np.ndarray, df: float) -> np.ndarray:
    """``P(sqrt X <= edge)`` for ``X ~ chi2_df(mu^2)``, shape ``(mu, edge)``."""
    if df == 1.0:
        return ndtr(edges[None, :] - mu[:, None]) - ndtr(-edges[None, :] - mu[:, None])
    from scipy.stats import ncx2

    return ncx2.cdf(edges[None, :] ** 2, df, mu[:, None] ** 2)


@functools.cache
def _upper_limit_belt(
    df: float, confidence: float, signal: float, mu_floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Belt of :func:`upper_limit_interval`: ``mu`` grid and regions ``[t_lo, t_hi]``."""
    mu = np.arange(0.0, MU_MAX + _MARGIN + _STEP / 2, _STEP)
    edges = np.arange(0.0, _T_MAX + _STEP / 2, _STEP)
    cdf = _cdf(edges, mu, df)
    alpha = 1.0 - confidence
    cells = np.arange(edges.size)
    # the first edge reaching a probability (rounded up: the region only grows)
    central = edges[np.argmax(cdf >= 1.0 - alpha / 2.0, axis=1)]
    t_hi = np.maximum(edges[np.searchsorted(edges, np.sqrt(df + signal**2) - 1e-12)], central)
    below = alpha - (1.0 - cdf[np.arange(mu.size), np.searchsorted(edges, t_hi - 1e-12)])
    # the last edge below the lower miss (rounded down: the region only grows)
    t_lo = edges[np.max(np.where(cdf <= below[:, None], cells, 0), axis=1)]
    floor = mu <= mu_floor + _STEP / 2
    t_lo[floor] = 0.0
    t_hi[floor] = edges[np.argmax(cdf[floor] >= confidence, axis=1)]
    keep = mu <= MU_MAX + _STEP / 2
    t_lo = np.minimum.accumulate(t_lo[keep][::-1])[::-1]  # monotone, by growing the regions
    return mu[keep], t_lo, np.maximum.accumulate(t_hi[keep])


def upper_limit_interval(
    x: np.ndarray, df: ArrayLike, confidence: float, signal: float, mu_floor: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Neyman interval ``[lambda_lo, lambda_hi]`` of ``X ~ chi2_df(lambda)`` for a weak signal
    that a caller measures with a normal interval above ``sqrt(X - df) = signal``.

    Below the switch it is mostly an upper limit, turning central above it: the acceptance
    region of ``mu = sqrt(lambda)`` in ``t = sqrt(X)`` reaches up to ``t_hi = max(t_s,
    central)`` (``t_s = sqrt(df + signal^2)``, ``central`` the upper ``(1 - confidence)/2``
    point) and down to ``t_lo`` with ``P(t < t_lo) = 1 - confidence - P(t > t_hi)``; for
    ``mu <= mu_floor`` the region is ``[0, t_hi]`` with ``P(t <= t_hi) = confidence``, so no
    ``X`` gives a zero-width interval (and an ``X`` beyond those regions gets ``lambda_lo =
    mu_floor^2``). It covers ``confidence`` at every ``lambda >= 0`` (regions rounded
    outwards to the grid). Where the signal is small nearly all the miss is below, as for a
    one-sided upper limit: that minimizes the mean width at ``lambda = 0`` (Pratt, JASA 56,
    549 (1961): the mean length is the integral over false values of the probability of
    covering each), at the cost of lower ends at 0 or ``mu_floor^2`` below the switch.
    Feldman-Cousins (:func:`interval`) gives lower ends earlier and is wider at 0.

    >>> lo, hi = upper_limit_interval(np.array([0.0, 9.0, 50.0]), 1.0, 0.95, signal=6.0)
    >>> np.round(np.sqrt(lo), 2).tolist(), np.round(np.sqrt(hi), 2).tolist()
    ([0.0, 1.0, 5.11], [1.01, 4.97, 9.04])
    """
    t = np.sqrt(np.clip(np.asarray(x, dtype=float), 0.0, None))
    dfs = np.maximum(1.0, np.round(np.asarray(df, dtype=float) * 2.0) / 2.0)
    t, dfs = np.broadcast_arrays(t, dfs)
    lam_lo, lam_hi = np.zeros(t.shape), np.zeros(t.shape)
    for value in np.unique(dfs):
        mu, t_lo, t_hi = _upper_limit_belt(
            float(value), float(confidence), float(signal), float(mu_floor)
        )
        here = dfs == value
        lo = np.searchsorted(t_hi, t[here], side="left") - 1
        hi = np.searchsorted(t_lo, t[here], side="right")
        lam_lo[here] = mu[np.clip(lo, 0, mu.size - 1)] ** 2
        lam_hi[here] = mu[np.clip(hi, 0, mu.size - 1)] ** 2
    return lam_lo, lam_hi
