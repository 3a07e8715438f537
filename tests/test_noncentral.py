"""qkit.estimators.noncentral's belt against exact references (no sampling, no false failures).

With one degree of freedom ``t = sqrt(X) = |mu + Z|``; where every ``mu`` that matters has its
region far from 0 the fold ``phi(t + mu)`` is below ``e^-40`` of ``phi(t - mu)`` and Feldman and
Cousins' interval is ``t -/+ z``: the upper end for ``t >= 5`` (regions of ``mu >= 6.9`` start
above 4.9), the lower end for ``t >= 7.5``. Nearer the bound ``tests/test_information_exact.py``
solves the folded normal's ordering by root finding. Every region of the belt is checked to
hold ``confidence`` under ``scipy.stats.ncx2`` itself.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.stats import ncx2, norm

from qkit.estimators import noncentral


def test_the_belt_rounds_outwards_up_to_the_top_of_its_range():
    # Documented: each end at most 1e-3 inside the exact one and at most 0.04 outside it, up to
    # an upper end just below MU_MAX = 10 (t = 8.035: the exact upper end is 9.995).
    z = norm.ppf(0.975)
    t = np.array([5.0, 6.37, 7.5, 8.0, 8.035])
    lo, hi = noncentral.interval(t**2, 1.0, 0.95)
    mu_lo, mu_hi = np.sqrt(lo), np.sqrt(hi)
    far = t >= 7.5
    assert np.all(mu_lo[far] <= t[far] - z + 1e-3), mu_lo - (t - z)
    assert np.all(mu_lo[far] >= t[far] - z - 0.04), mu_lo - (t - z)
    assert np.all(mu_hi >= t + z - 1e-3) and np.all(mu_hi <= t + z + 0.04), mu_hi - (t + z)
    assert 9.99 < t[-1] + z < 10.0  # the exact end is within the belt's last step


@pytest.mark.parametrize("df", [2.0, 3.5])
def test_every_region_of_the_belt_holds_the_confidence_under_ncx2(df):
    # P(t_lo^2 <= X <= t_hi^2) >= 0.95 exactly (the regions are sums of whole cells), and no
    # region is wider than it needs by more than two cells at each end.
    mu, t_lo, t_hi = noncentral._belt(df, 0.95)
    rows = np.arange(0, mu.size, 37)
    inside = ncx2.cdf(t_hi[rows] ** 2, df, mu[rows] ** 2) - ncx2.cdf(
        t_lo[rows] ** 2, df, mu[rows] ** 2
    )
    assert np.all(inside >= 0.95 - 1e-9), inside.min()
    step = 0.02
    trimmed = ncx2.cdf((t_hi[rows] - step) ** 2, df, mu[rows] ** 2) - ncx2.cdf(
        np.minimum(t_lo[rows] + step, t_hi[rows] - step) ** 2 * (t_lo[rows] > 0), df, mu[rows] ** 2
    )
    assert np.all(trimmed < 0.95), trimmed.max()


def test_one_degree_of_freedom_builds_its_belt_without_scipy_stats(monkeypatch):
    # The closed form Phi(t - mu) - Phi(-t - mu) spares `qkit run` the ~0.35 s import of
    # scipy.stats (tests/test_estimators.py checks a run imports none): with the import made
    # impossible, d = 1 still builds, and d = 2 (which needs ncx2) does not.
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    mu, t_lo, t_hi = noncentral._belt.__wrapped__(1.0, 0.95)
    assert mu[0] == 0.0 and np.all(np.diff(mu) > 0) and np.all(t_lo <= t_hi)
    with pytest.raises(ImportError):
        noncentral._belt.__wrapped__(2.0, 0.95)


@pytest.mark.slow  # two belts of many degrees of freedom: ~10 s
@pytest.mark.xfail(
    strict=True,
    reason="the belt's t grid ends at T_MAX = 21 (X = 441) and its mu grid at 10 whatever d: "
    "for d >= ~400 (a 21 x 21 table's G statistic) a weak signal's X lies beyond it and the "
    "interval comes back as [100, 100]; found by the mutation work, left to the owner of the MI",
)
def test_many_degrees_of_freedom_get_an_interval_that_holds_the_noncentrality():
    # lambda = 4 seen at its 10%, 50% and 90% points (exact ncx2 quantiles, no sampling)
    for df in (400.0, 1000.0):
        x = ncx2.ppf([0.1, 0.5, 0.9], df, 4.0)
        lo, hi = noncentral.interval(x, df, 0.95)
        assert np.all(lo <= 4.0) and np.all(4.0 <= hi), (df, lo, hi)
