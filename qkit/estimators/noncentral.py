"""Neyman intervals for the noncentrality of a chi-square variable, for weak signals.

A weak signal measured through a quadratic statistic: ``X ~ chi2_d(lambda)`` (``d`` degrees of
freedom, noncentrality ``lambda >= 0``), e.g. ``X`` the G statistic of a mutual information
that the shots barely resolve (Miller, 1955: ``2 N ln2 I`` is chi-square distributed). The
interval of an observed ``X`` is every ``lambda`` whose acceptance region holds it (Neyman's
construction; Feldman and Cousins, PRD 57, 3873 (1998), Sec. II), so it covers ``confidence``
at every ``lambda >= 0``, the bound ``lambda = 0`` included. The regions are chosen for the
caller that switches to a normal interval once the signal is resolved
(:func:`upper_limit_interval`).

The belt is built once per ``(d, confidence, switch)`` on a grid of ``mu = sqrt(lambda)`` and
``t = sqrt(X)`` (step ``_STEP``), each region rounded outwards to whole cells, so the coverage is
at least ``confidence`` up to the grid's resolution. The grids reach as far as ``d`` needs: ``t``
from ``sqrt(d) - 12`` (below it ``X`` has probability < 1e-30 whatever ``lambda``) to ``8`` past
the largest region, ``mu`` to :func:`mu_max`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

_STEP = 0.01
MU_MAX = 10.0
"""Smallest top of the ``mu = sqrt(lambda)`` grid (:func:`mu_max` grows it with ``d``)."""


def mu_max(df: float, signal: float) -> float:
    """Top of the belt in ``mu``: past any interval end of an ``X`` below the caller's switch
    ``sqrt(X - df) = signal`` (that ``lambda``'s own ``X`` spreads by ``sqrt(2 (df + 2
    lambda))``: six of those above the switch), and at least :data:`MU_MAX`."""
    return max(MU_MAX, math.sqrt(signal**2 + 6.0 * math.sqrt(2.0 * (df + 2.0 * signal**2))))


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
    top = mu_max(df, signal)
    # Each row's region uses only its own probabilities: the grid stops at mu_max (the margin
    # past it that Feldman-Cousins' likelihood-ratio ordering needed changed no region here).
    # equivalent[Add -> Sub #1; Div -> Mult; 2 -> 3]: a node more or less at the top, which only
    # an X beyond every caller's switch reads
    mu = np.arange(0.0, top + _STEP / 2, _STEP)
    # t = sqrt(X) from sqrt(df) - 12 (whole cells: the same nodes as a grid from 0) to 8 past
    # the largest mu's bulk; what lies below the first edge (less than 1e-30) is left out.
    # equivalent[Div -> Mult; 12.0 -> 13.2]: from lower down (more cells below, each < 1e-30)
    first = _STEP * math.floor(max(0.0, math.sqrt(df) - 12.0) / _STEP)
    # the last edge 8 (or 5) past the top row's bulk: every cdf 1 to 3e-7, past every region
    # equivalent[8.0 -> 8.8; Add -> Sub #3; 2 -> 3]
    last = math.sqrt(df + top**2) + 8.0
    # equivalent[Add -> Sub #2; Sub -> Add; 1 -> 2]: an edge or two fewer, or more, past them
    edges = first + _STEP * np.arange(round((last - first) / _STEP) + 1)
    cdf = _cdf(edges, mu, df)
    cdf[:, 0] = 0.0
    alpha = 1.0 - confidence
    cells = np.arange(edges.size)
    # the first edge reaching a probability (rounded up: the region only grows)
    # equivalent[GtE -> Gt]: a cdf equal to 1 - alpha/2 to the last bit does not occur
    central = edges[np.argmax(cdf >= 1.0 - alpha / 2.0, axis=1)]
    # a tolerance: t_s or t_hi within 1e-12 of an edge (0.01 apart) is that edge; the switch
    # t_s = sqrt(d + signal^2) falls on an edge only for special signals (not 6: 6.0828; 0 with
    # d = 1: 1.0, where the central end of every row past mu_floor lies above it anyway)
    # equivalent[1e-12 -> 1.1e-12; Sub -> Add]
    t_hi = np.maximum(edges[np.searchsorted(edges, np.sqrt(df + signal**2) - 1e-12)], central)
    # equivalent[1e-12 -> 1.1e-12]: as above
    below = alpha - (1.0 - cdf[np.arange(mu.size), np.searchsorted(edges, t_hi - 1e-12)])
    # the last edge below the lower miss (rounded down: the region only grows)
    # equivalent[LtE -> Lt]: a cdf equal to the lower miss to the last bit does not occur
    t_lo = edges[np.max(np.where(cdf <= below[:, None], cells, 0), axis=1)]
    # equivalent[LtE -> Lt; 2 -> 3]: between two nodes (mu_floor = 1 is a node)
    floor = mu <= mu_floor + _STEP / 2
    t_lo[floor] = 0.0
    # equivalent[GtE -> Gt]: as for central
    t_hi[floor] = edges[np.argmax(cdf[floor] >= confidence, axis=1)]
    t_lo = np.minimum.accumulate(t_lo[::-1])[::-1]  # monotone, by growing the regions
    return mu, t_lo, np.maximum.accumulate(t_hi)


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
    Feldman-Cousins' likelihood-ratio ordering gives lower ends earlier and is 25-30% wider
    at 0 (``benchmarks/mi_floor.py``). ``df`` (broadcast with ``x``; at least 1) is rounded to
    a multiple of 0.5 (one belt per value, about a second to build); ``x`` below 0 counts as 0.

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
        # equivalent[Sub -> Add]: lo <= mu.size - 1 already (a searchsorted less one)
        lam_lo[here] = mu[np.clip(lo, 0, mu.size - 1)] ** 2
        # equivalent[0 -> 1]: hi >= 1 already (the floor rows' regions start at t = 0)
        lam_hi[here] = mu[np.clip(hi, 0, mu.size - 1)] ** 2
    return lam_lo, lam_hi
