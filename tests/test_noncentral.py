"""qkit.estimators.noncentral's belt against exact references (no sampling, no false failures).

With one degree of freedom ``t = sqrt(X) = |mu + Z|``; above the caller's switch the regions are
central, and where the fold ``phi(t + mu)`` is negligible the interval is ``t -/+ z`` rounded
outwards to the grid. Every region of the belt is checked to hold ``confidence`` under
``scipy.stats.ncx2`` itself, for few and for many degrees of freedom (a 21 x 21 table's G
statistic has d = 400, whose X lies far above a grid that would stop at t = 21).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.stats import ncx2, norm

from qkit.estimators import noncentral

SIGNAL = 6.0  # the mutual information's switch to a normal interval


def test_far_above_the_switch_the_interval_is_t_minus_plus_z_rounded_outwards():
    # one degree of freedom, t = 7.5 .. 8.4: regions of mu >= 5.5 are central and their fold
    # phi(t + mu) is below e^-60; each end at most 0.02 outside t -/+ z, never inside by more
    # than the ordering's 1e-3
    z = norm.ppf(0.975)
    t = np.array([7.5, 7.77, 8.0, 8.4])
    lo, hi = noncentral.upper_limit_interval(t**2, 1.0, 0.95, signal=SIGNAL)
    mu_lo, mu_hi = np.sqrt(lo), np.sqrt(hi)
    assert np.all(mu_lo <= t - z + 1e-3) and np.all(mu_lo >= t - z - 0.02), mu_lo - (t - z)
    assert np.all(mu_hi >= t + z - 1e-3) and np.all(mu_hi <= t + z + 0.02), mu_hi - (t + z)


@pytest.mark.parametrize("df", [1.0, 2.0, 3.5, 400.0])
def test_every_region_of_the_belt_holds_the_confidence_under_ncx2(df):
    # P(t_lo^2 <= X <= t_hi^2) >= 0.95 exactly (regions are whole cells, rounded outwards) and
    # no region is wider than it needs by more than two cells at each end
    mu, t_lo, t_hi = noncentral._upper_limit_belt(df, 0.95, SIGNAL, 1.0)
    # the top is mu_max rounded to the nearest node (d = 1: 10.4163 -> 10.42, d = 3.5: 10.4752
    # -> 10.48; a node within 0.005 above is kept)
    assert abs(mu[-1] - noncentral.mu_max(df, SIGNAL)) <= 0.005 + 1e-12
    rows = np.arange(0, mu.size, 37)
    lam = mu[rows] ** 2
    inside = ncx2.cdf(t_hi[rows] ** 2, df, lam) - ncx2.cdf(t_lo[rows] ** 2, df, lam)
    assert np.all(inside >= 0.95 - 1e-9), inside.min()
    step = 0.02
    trimmed = ncx2.cdf((t_hi[rows] - step) ** 2, df, lam) - ncx2.cdf(
        np.minimum(t_lo[rows] + step, t_hi[rows] - step) ** 2 * (t_lo[rows] > 0), df, lam
    )
    assert np.all(trimmed < 0.95), trimmed.max()


def test_one_degree_of_freedom_builds_its_belt_without_scipy_stats(monkeypatch):
    # The closed form Phi(t - mu) - Phi(-t - mu) spares `qkit run` the ~0.35 s import of
    # scipy.stats (tests/test_estimators.py checks a run imports none): with the import made
    # impossible, d = 1 still builds, and d = 2 (which needs ncx2) does not.
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    mu, t_lo, t_hi = noncentral._upper_limit_belt.__wrapped__(1.0, 0.95, SIGNAL, 1.0)
    assert mu[0] == 0.0 and np.all(np.diff(mu) > 0) and np.all(t_lo <= t_hi)
    with pytest.raises(ImportError):
        noncentral._upper_limit_belt.__wrapped__(2.0, 0.95, SIGNAL, 1.0)


@pytest.mark.slow  # two belts of many degrees of freedom: ~10 s
def test_many_degrees_of_freedom_get_an_interval_that_holds_the_noncentrality():
    # The grids grow with d (they stopped at t = 21, X = 441, whatever d: d = 400 got
    # [100, 100]). lambda = 4 and 30 seen at their 10%, 50% and 90% points (exact ncx2
    # quantiles, no sampling): each interval holds lambda and has positive width.
    for df in (400.0, 1000.0):
        for lam in (4.0, 30.0):
            x = ncx2.ppf([0.1, 0.5, 0.9], df, lam)
            lo, hi = noncentral.upper_limit_interval(x, df, 0.95, signal=SIGNAL)
            assert np.all(lo <= lam) and np.all(lam <= hi) and np.all(lo < hi), (df, lo, hi)
            assert np.all(hi < noncentral.mu_max(df, SIGNAL) ** 2), (df, hi)


def test_the_top_of_the_belt_grows_with_the_degrees_of_freedom():
    # MU_MAX = 10 for few degrees of freedom; the spread sqrt(2 (d + 2 lambda)) of X past the
    # switch sets it for many
    assert noncentral.mu_max(1.0, SIGNAL) == pytest.approx(
        np.sqrt(36.0 + 6.0 * np.sqrt(2.0 * 73.0)), rel=1e-12, abs=0
    )
    assert noncentral.mu_max(1.0, 2.0) == noncentral.MU_MAX
    assert noncentral.mu_max(1000.0, SIGNAL) > 17.0


@pytest.mark.parametrize(
    ("df", "confidence", "signal"),
    [
        (1.0, 0.08, SIGNAL),
        (1.0, 0.95, SIGNAL),
        (2.0, 0.95, SIGNAL),
        (1.0, 0.995, 0.0),
        (1.0, 0.95, 30.0),
    ],
)
def test_every_row_of_a_belt_of_few_degrees_of_freedom_holds_the_confidence(df, confidence, signal):
    # Every mu of the grid (not a sample of rows). With no switch (signal 0: central regions
    # from mu_floor = 1 on) at 0.995 the rows just above mu = 1 start at t = 0 and leave below
    # less than the first cell's probability (P(t <= 0.01) = 0.0048 > 0.0025), which a region
    # starting one cell higher would lose. At a confidence of 0.08 the region of mu = 0 is
    # [0, t] with P(|Z| <= t) >= 0.08 (t = 0.11, the first edge past Phi^-1(0.54) = 0.1004).
    # A switch at 30 sigma takes the grid to mu = 35.5, whose regions reach t = 37.5.
    mu, t_lo, t_hi = noncentral._upper_limit_belt(df, confidence, signal, 1.0)
    lam = mu**2
    inside = ncx2.cdf(t_hi**2, df, lam) - ncx2.cdf(t_lo**2, df, lam)
    assert np.all(inside >= confidence - 1e-9), (mu[np.argmin(inside)], inside.min())
    if confidence == 0.08:
        assert t_hi[0] == pytest.approx(0.11, abs=1e-9)


def test_an_x_beyond_the_top_of_the_belt_gets_the_top_not_past_it():
    # the caller switches to a normal interval long before; an X beyond every region (t = 100,
    # one degree of freedom) gets both ends at the belt's last mu, squared, and one just inside
    # the top region's upper end a lower end below it
    mu, t_lo, t_hi = noncentral._upper_limit_belt(1.0, 0.95, SIGNAL, 1.0)
    lo, hi = noncentral.upper_limit_interval(np.array([1e4, t_hi[-1] ** 2]), 1.0, 0.95, SIGNAL)
    assert lo[0] == mu[-1] ** 2 and hi[0] == mu[-1] ** 2
    assert hi[1] == mu[-1] ** 2 and lo[1] < mu[-1] ** 2
