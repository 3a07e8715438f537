"""Feldman-Cousins intervals for a normal mean next to a physical bound.

Feldman and Cousins, PRD 57, 3873 (1998), Sec. IV B: for ``x ~ N(nu, 1)`` with ``nu >= 0``, the
acceptance region of each ``nu`` holds the ``x`` of highest likelihood ratio
``R(x) = phi(x - nu) / phi(x - max(0, x))`` up to probability ``confidence``; the interval of an
observed ``x`` is every ``nu`` whose region contains it. It covers exactly ``confidence`` at
every ``nu >= 0`` (the bound included), is never empty, and turns from an upper limit into the
usual ``x -/+ z`` by itself (no flip-flopping between one- and two-sided readings).

With ``x >= 0`` the ratio is ``exp(-(x - nu)^2 / 2)``, with ``x < 0`` it is
``exp(x nu - nu^2 / 2)``, so for ``nu < z`` the region ``[x1, x2]`` has ``x1 < 0`` on the level
of ``x2``: ``x1 = (nu^2 - (x2 - nu)^2) / (2 nu)``, with ``Phi(x2 - nu) - Phi(x1 - nu) =
confidence`` fixing ``x2``; for ``nu >= z`` it is ``nu -/+ z``.

Accuracy: the regions are solved to 1e-13 on a grid of ``nu`` (step 0.005) and inverted by
linear interpolation, so at confidence 0.9-0.99 the interval's ends are within 5e-5 (in units
of the standard deviation) of the exact ones for ``x >= -5``, the upper end within 1e-3 for any
``x >= -100`` (an end of a few hundredths there). ``_NU_MAX`` and ``_GRID`` set that step:
changed by 10% the ends stay within these (tolerances, not equivalent mutants); 60 bisections
reach the last bit (61 give the same doubles).
"""

from __future__ import annotations

import functools

import numpy as np

from qkit.estimators._normal import norm

_NU_MAX = 10.0  # beyond this the region is nu -/+ z to machine precision
_GRID = 2001
_BISECTIONS = 60  # equivalent[60 -> 61]: converged to the last bit from 55 on


@functools.cache
def _regions(confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acceptance regions ``[x1(nu), x2(nu)]`` on a grid of ``nu`` in ``[0, _NU_MAX]``.

    ``x2`` by bisection on every ``nu`` at once (the coverage of ``[x1(x2), x2]`` increases
    with ``x2``), to below 1e-13.
    """
    z = float(norm.ppf(0.5 + confidence / 2.0))
    nus = np.linspace(0.0, _NU_MAX, _GRID)
    # at nu = z the two forms agree, x1 = 0 and x2 = 2 z; nu = 0 (a division by 0) is set below
    inner = (nus > 0.0) & (nus < z)  # equivalent[Lt -> LtE]
    nu = nus[inner]
    # any bracket above x2 (< nu + z) gives the same root: nu - z + 10 or nu + z + 11 as well
    below, above = nu.copy(), nu + z + 10.0  # equivalent[Add -> Sub #2; 10.0 -> 11.0]
    for _ in range(_BISECTIONS):
        top = (below + above) / 2.0
        low = (nu * nu - (top - nu) ** 2) / (2.0 * nu)
        # (<= instead of <: the same root to below 1e-13, the bisection's own resolution)
        short = norm.cdf(top - nu) - norm.cdf(low - nu) < confidence  # equivalent[Lt -> LtE]
        below, above = np.where(short, top, below), np.where(short, above, top)
    top = (below + above) / 2.0
    x1, x2 = nus - z, nus + z
    x1[inner], x2[inner] = (nu * nu - (top - nu) ** 2) / (2.0 * nu), top
    # nu = 0: every x < 0 ranks first, so the region is (-inf, z_one] (x1[0] is never read).
    x2[0] = float(norm.ppf(confidence))
    return nus, x1, x2


def interval(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Feldman-Cousins interval ``[nu_lo, nu_hi]`` (``nu >= 0``) of observations ``x ~ N(nu, 1)``.

    >>> lo, hi = interval(np.array([-1.0, 0.0, 2.0, 5.0]), 0.95)  # FC's Table X
    >>> np.round(lo, 2).tolist(), np.round(hi, 2).tolist()
    ([0.0, 0.0, 0.35, 3.04], [1.1, 1.96, 3.96, 6.96])
    """
    nus, x1, x2 = _regions(float(confidence))
    x = np.asarray(x, dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2.0))
    # x2 increases from z_one: nu_lo solves x2(nu) = x (0 below z_one, where interp holds
    # nus[0] = 0); x1 increases from -inf: nu_hi solves x1(nu) = x. Beyond the grid: x -/+ z.
    lo = np.interp(x, x2, nus)
    hi = np.interp(x, x1[1:], nus[1:])
    # (the switch to x -/+ z at or before the grid's last node: both are x -/+ z there)
    lo = np.where(x > x2[-1], x - z, lo)  # equivalent[Gt -> GtE; 1 -> 2]
    hi = np.where(x > x1[-1], x + z, hi)  # equivalent[Gt -> GtE; 1 -> 2]
    return lo, hi


def bounded_interval(
    estimate: np.ndarray, sd: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Feldman-Cousins interval for a quantity in ``[0, 1]`` from a normal, unclipped estimate.

    ``estimate ~ N(theta, sd)`` with ``theta`` the signed quantity (e.g. a witness whose positive
    part is the concurrence): the interval for ``max(0, min(theta, 1))`` is :func:`interval` at
    the nearer bound, ``sd x`` the interval of ``estimate / sd`` near 0 and ``1 - sd x`` that of
    ``(1 - estimate) / sd`` near 1 (``sd`` is far below 1/2 wherever the interval means
    anything; ``sd > 0``; an estimate of exactly 1/2 takes the reading near 0). It covers
    ``confidence`` at every ``theta`` in ``[0, 1]``, more outside.

    >>> lo, hi = bounded_interval(np.array([-0.01, 0.5, 1.0]), np.array([0.01, 0.01, 0.01]), 0.95)
    >>> np.round(lo, 4).tolist(), np.round(hi, 4).tolist()
    ([0.0, 0.4804, 0.9804], [0.011, 0.5196, 1.0])
    """
    estimate, sd = np.broadcast_arrays(np.asarray(estimate, float), np.asarray(sd, float))
    upper = estimate > 0.5
    near, far = interval(np.where(upper, 1.0 - estimate, estimate) / sd, confidence)
    # near >= 0, so only the far end can pass the opposite bound (sd comparable to 1/2).
    low = np.where(upper, np.maximum(1.0 - sd * far, 0.0), sd * near)
    high = np.where(upper, 1.0 - sd * near, np.minimum(sd * far, 1.0))
    return low, high
