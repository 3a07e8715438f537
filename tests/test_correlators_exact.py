"""Exact pieces of the CHSH statistics against an independent computation (scipy's binomtest).

Deterministic: no sampling, so no false failures. These pin the numbers the mutation test of
``qkit/estimators/correlators.py`` changes one at a time (``tools/mutate.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from qkit.estimators import chsh, clopper_pearson
from qkit.estimators.correlators import _binomial_tests


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.6827])
def test_clopper_pearson_is_scipys_exact_interval_including_both_ends(confidence):
    k = np.array([0, 1, 7, 50, 99, 100, 3])
    n = np.array([100, 100, 100, 100, 100, 100, 5])
    low, high = clopper_pearson(k, n, confidence)
    for i in range(k.size):
        ci = binomtest(int(k[i]), int(n[i])).proportion_ci(confidence, method="exact")
        assert low[i] == pytest.approx(ci.low, rel=1e-7, abs=1e-15), (k[i], n[i])
        assert high[i] == pytest.approx(ci.high, rel=1e-7, abs=1e-15), (k[i], n[i])
    assert low[0] == 0.0 and high[5] == 1.0  # nothing seen / everything seen: exact ends
    assert 0.0 < low[1] and high[4] < 1.0
    # the default is 95%
    assert [float(x) for x in clopper_pearson(7, 100)] == pytest.approx(
        [float(x[0]) for x in clopper_pearson(np.array([7]), np.array([100]), 0.95)],
        rel=1e-12,
        abs=0,
    )


def test_clopper_pearson_of_zero_trials_is_the_whole_range():
    low, high = clopper_pearson(np.array([0]), np.array([0]))
    assert (float(low[0]), float(high[0])) == (0.0, 1.0)


def test_binomial_tests_of_a_batch_are_each_points_own():
    # different wins AND different totals per point: a mixed-up pairing of (wins, total)
    # would test one point's wins against another's shots
    wins = np.array([780.0, 1500.0, 2950.0, 780.0])
    total = np.array([1000.0, 2000.0, 4000.0, 1000.0])
    p_up, q_low, p_down, q_high = _binomial_tests(wins, total, 0.05)
    for i in range(wins.size):
        up = binomtest(int(wins[i]), int(total[i]), 0.75, alternative="greater")
        down = binomtest(int(wins[i]), int(total[i]), 0.75, alternative="less")
        assert p_up[i] == pytest.approx(up.pvalue, rel=1e-12, abs=1e-300)
        assert p_down[i] == pytest.approx(down.pvalue, rel=1e-12, abs=1e-300)
        assert q_low[i] == pytest.approx(up.proportion_ci(0.95).low, rel=1e-12, abs=0)
        assert q_high[i] == pytest.approx(down.proportion_ci(0.95).high, rel=1e-12, abs=0)
    assert p_up.shape == wins.shape


def test_chsh_batch_with_unequal_point_shots_matches_each_point_alone():
    rng = np.random.default_rng(0)
    probs = np.array([0.42, 0.08, 0.08, 0.42])
    counts = np.stack(
        [
            np.stack(
                [rng.multinomial(m, probs if k < 3 else probs[[1, 0, 3, 2]]) for k in range(4)]
            )
            for m in (500, 1000, 2000)
        ]
    )
    est = chsh(counts)
    for i, c in enumerate(counts):
        alone = chsh(c)
        for name in ("violation_p_value", "lower_bound", "no_violation_p_value", "upper_bound"):
            assert getattr(est, name)[i] == getattr(alone, name), name
