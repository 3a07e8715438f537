"""qkit.estimators.boundary against an independent Feldman-Cousins construction.

The reference solves the paper's defining equations (Feldman and Cousins, PRD 57, 3873 (1998),
Sec. IV B) with ``scipy.optimize.brentq`` and ``scipy.stats.norm``: the acceptance region of
``nu`` is ``[x1, x2]`` with equal likelihood ratios at both ends and probability ``confidence``;
the interval of ``x`` is every ``nu`` whose region holds it. No sampling: nothing here can fail
by chance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from qkit.estimators import boundary


def _ratio(x: float, nu: float) -> float:
    """log R(x) = log phi(x - nu) - log phi(x - max(0, x)), FC's ordering (their Eq. 4.3)."""
    return x * nu - nu * nu / 2 if x < 0 else -((x - nu) ** 2) / 2


def _region(nu: float, cl: float) -> tuple[float, float]:
    """[x1, x2]: R(x1) = R(x2) and Phi(x2 - nu) - Phi(x1 - nu) = cl (x1 = -inf at nu = 0)."""
    if nu == 0.0:
        return -np.inf, float(norm.ppf(cl))

    def x1_of(x2: float) -> float:  # the x < nu of the same ratio as x2 (R is unimodal)
        target = _ratio(x2, nu)
        low = (target - 1.0) / nu - 1.0  # log R(low) = target - 1 - nu - nu^2 / 2 < target
        return brentq(lambda x: _ratio(x, nu) - target, low, nu, xtol=1e-14)

    def excess(x2: float) -> float:
        return norm.cdf(x2 - nu) - norm.cdf(x1_of(x2) - nu) - cl

    x2 = brentq(excess, nu + 1e-9, nu + 10.0, xtol=1e-14)
    return x1_of(x2), x2


def _exact(x: float, cl: float) -> tuple[float, float]:
    """The interval of ``x``: x2(nu_lo) = x (0 if x is in the region of nu = 0), x1(nu_hi) = x."""
    lo = 0.0 if x <= norm.ppf(cl) else brentq(lambda n: _region(n, cl)[1] - x, 0.0, x + 1.0)
    hi = brentq(lambda n: _region(n, cl)[0] - x, 1e-9, max(x, 0.0) + 5.0, xtol=1e-14)
    return lo, hi


@pytest.mark.parametrize("cl", [0.9, 0.95, 0.99])
def test_the_interval_is_feldman_cousins_to_the_documented_accuracy(cl):
    # The module promises ends within 5e-5 (units of sd) for x >= -5 and an upper end within
    # 1e-3 for x >= -100; the reference is solved to 1e-12.
    x = np.array([-100.0, -40.0, -12.0, -5.0, -2.0, -0.7, 0.0, 0.4, 1.0, 1.3, 1.7, 2.1, 2.6])
    x = np.concatenate([x, [3.3, 4.4, 6.0, 9.0, 11.0, 11.8, 12.2, 14.0, 30.0]])
    want = np.array([_exact(float(v), cl) for v in x])
    lo, hi = boundary.interval(x, cl)
    near = x >= -5.0
    np.testing.assert_allclose(lo[near], want[near, 0], rtol=0, atol=5e-5)
    np.testing.assert_allclose(hi[near], want[near, 1], rtol=0, atol=5e-5)
    np.testing.assert_allclose(lo, want[:, 0], rtol=0, atol=5e-5)
    np.testing.assert_allclose(hi, want[:, 1], rtol=0, atol=1e-3)
    # below z_one the lower end is exactly 0; beyond nu = z it is exactly x - z, x + z
    z, z_one = norm.ppf(0.5 + cl / 2), norm.ppf(cl)
    assert np.all(lo[x <= z_one] == 0.0) and np.all(lo[x > z_one] > 0.0)
    far = x >= 2 * z + 1e-9  # the lower end nu_lo >= z: both ends are the usual ones
    np.testing.assert_allclose(lo[far], x[far] - z, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi[x > 12.0], x[x > 12.0] + z, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cl", [0.68, 0.95])
def test_each_acceptance_region_solves_the_defining_equations(cl):
    # The regions on the grid of nu: probability cl to 1e-12, equal likelihood ratio at both
    # ends (x1 < 0 < x2 below nu = z), nu -/+ z from z on, (-inf, z_one] at nu = 0.
    nus, x1, x2 = boundary._regions(cl)
    z = norm.ppf(0.5 + cl / 2)
    assert nus[0] == 0.0 and x2[0] == pytest.approx(norm.ppf(cl), abs=1e-15)
    assert np.all(np.diff(nus) > 0)
    prob = norm.cdf(x2[1:] - nus[1:]) - norm.cdf(x1[1:] - nus[1:])
    np.testing.assert_allclose(prob, cl, rtol=0, atol=1e-12)
    inner = (nus > 0) & (nus < z)
    lhs = np.array([_ratio(a, n) for a, n in zip(x1[inner], nus[inner], strict=True)])
    rhs = np.array([_ratio(b, n) for b, n in zip(x2[inner], nus[inner], strict=True)])
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-9)
    assert np.all(x1[inner] < 0) and np.all(x2[inner] > nus[inner])
    np.testing.assert_allclose(x1[nus >= z], nus[nus >= z] - z, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x2[nus >= z], nus[nus >= z] + z, rtol=0, atol=1e-12)
    # against the independent solver at a few nodes
    for k in (1, 7, 60, 200, 330):
        np.testing.assert_allclose((x1[k], x2[k]), _region(float(nus[k]), cl), atol=1e-9)


def test_building_the_regions_warns_about_nothing():
    # nu = 0 has no finite x1: it must be left out of the formula that divides by nu, not
    # computed and overwritten (a "divide by zero" RuntimeWarning in every user's console).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nus, x1, x2 = boundary._regions.__wrapped__(0.95)
    assert np.all(np.isfinite(x1[1:])) and np.isfinite(x2[0])


def test_the_bounded_interval_reads_at_the_nearer_bound_and_at_zero_for_one_half():
    # Mirror symmetry: an estimate e with sd s reads as 1 - (the interval of 1 - e) for
    # e != 1/2; at e = 1/2 exactly (a sd of 0.2 makes the readings differ by 0.01) the
    # reading near 0 is used, as the docstring says.
    e = np.array([-0.3, 0.0, 0.1, 0.3, 0.499, 0.501, 0.7, 0.95, 1.0, 1.2])
    sd = np.array([0.2, 0.05, 0.03, 0.2, 0.2, 0.2, 0.01, 0.02, 0.05, 0.3])
    lo, hi = boundary.bounded_interval(e, sd, 0.95)
    mlo, mhi = boundary.bounded_interval(1.0 - e, sd, 0.95)
    np.testing.assert_allclose(lo, 1.0 - mhi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi, 1.0 - mlo, rtol=0, atol=1e-12)
    for k, v in enumerate(e):
        a, b = _exact(float(min(v, 1 - v) / sd[k]), 0.95)
        want = (
            (a * sd[k], min(b * sd[k], 1.0))
            if v <= 0.5
            else (max(1 - b * sd[k], 0.0), 1 - a * sd[k])
        )
        assert (lo[k], hi[k]) == pytest.approx(
            want, rel=0, abs=5e-5 * sd[k] + 1e-3 * (v < -5 * sd[k])
        ), v
    half_lo, half_hi = boundary.bounded_interval(np.array(0.5), np.array(0.2), 0.95)
    near, far = _exact(2.5, 0.95)
    assert (half_lo, half_hi) == pytest.approx((0.2 * near, 0.2 * far), rel=0, abs=1e-5)
    assert abs((1 - 0.2 * far) - 0.2 * near) > 0.005  # the other reading is distinguishable
