"""The post-selection proportion and the binomial tails behind the CHSH tests, exactly.

Independent references: ``scipy.stats.binom`` for the tails (identical doubles promised, see
``qkit.estimators._binomial``) and ``scipy.stats.binomtest`` for Clopper-Pearson. No sampling,
so nothing here can fail by chance.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from qkit.estimators import _binomial, proportion


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_the_tails_are_scipys_outside_the_support_too(p):
    # k below 0, inside, on n and beyond n: P(X > k) and P(X <= k) bit for bit, including the
    # exact 1 and 0 outside the support (the callers' min(1, .) would hide a 1.1 there).
    for n in (1, 4, 40):
        k = np.arange(-3, n + 4)
        nn = np.full(k.shape, n)
        np.testing.assert_array_equal(_binomial.sf(k, nn, p), binom.sf(k, n, p))
        np.testing.assert_array_equal(_binomial.cdf(k, nn, p), binom.cdf(k, n, p))
        assert _binomial.sf(np.array(-1), np.array(n), p) == 1.0
        assert _binomial.cdf(np.array(n), np.array(n), p) == 1.0
        assert _binomial.sf(np.array(n + 2), np.array(n), p) == 0.0
        assert _binomial.cdf(np.array(-2), np.array(n), p) == 0.0


def test_a_proportion_is_successes_over_trials_with_its_clopper_pearson_interval():
    k = np.array([0, 3, 7, 10, 250])
    n = np.array([10, 10, 10, 10, 1000])
    for confidence in (None, 0.9):
        est = proportion(k, n) if confidence is None else proportion(k, n, confidence)
        level = 0.95 if confidence is None else confidence  # the default is 95%
        np.testing.assert_array_equal(est.value, k / n)
        for i in range(k.size):
            ci = binomtest(int(k[i]), int(n[i])).proportion_ci(level, method="exact")
            assert est.ci_low[i] == pytest.approx(ci.low, rel=1e-9, abs=0)
            assert est.ci_high[i] == pytest.approx(ci.high, rel=1e-9, abs=0)
        assert est.confidence == level and est.method == "clopper-pearson"
        # flagged exactly where nothing or everything passed: the interval touches 0 or 1
        assert est.at_boundary.tolist() == [True, False, False, True, False]
    assert proportion(3, 10).value == pytest.approx(0.3, rel=0, abs=1e-15)
