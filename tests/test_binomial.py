"""The CHSH tests' exact binomial tails and bounds equal ``scipy.stats.binomtest``'s bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from qkit.estimators import _binomial
from qkit.estimators.correlators import _binomial_tests


def _reference(k: int, n: int, p: float, confidence: float) -> tuple[float, ...]:
    up = binomtest(k, n, p, alternative="greater")
    down = binomtest(k, n, p, alternative="less")
    return (
        up.pvalue,
        up.proportion_ci(confidence).low,
        down.pvalue,
        down.proportion_ci(confidence).high,
    )


def _pairs() -> list[tuple[int, int]]:
    rng = np.random.default_rng(23)
    pairs = [(k, n) for n in (1, 2, 3, 13, 40) for k in range(n + 1)]
    for n in (400, 4000, 16000, 160000):  # the edges, the bulk near 3/4, the far tails
        ks = {0, 1, 2, n - 2, n - 1, n, int(0.75 * n), int(0.75 * n) + 1}
        ks |= set(rng.integers(0, n + 1, 12).tolist())
        ks |= set(rng.binomial(n, 0.8, 12).tolist())
        pairs += [(k, n) for k in sorted(ks)]
    return pairs


@pytest.mark.parametrize("p, confidence", [(0.75, 0.95), (0.75, 0.99), (0.3, 1 - 0.3173)])
def test_one_sided_tests_equal_binomtest_bit_for_bit(p, confidence):
    pairs = _pairs()
    k = np.array([a for a, _ in pairs])
    n = np.array([b for _, b in pairs])
    ours = np.stack(_binomial.one_sided_tests(k, n, p, confidence), axis=-1)
    theirs = np.array([_reference(a, b, p, confidence) for a, b in pairs])
    assert ours.tobytes() == theirs.tobytes()  # identical doubles, not merely close


def test_the_chsh_tests_are_binomtests_per_point_in_any_shape():
    rng = np.random.default_rng(4)
    total = np.full((3, 5), 16000)
    total[0, 0] = 400
    wins = rng.binomial(total, 0.76)
    wins[1, 1] = wins[1, 2]  # a repeated pair is computed once and shared
    tests = _binomial_tests(wins, total, 0.05)
    for index in np.ndindex(wins.shape):
        reference = _reference(int(wins[index]), int(total[index]), 0.75, 1.0 - 0.05)
        assert tuple(float(t[index]) for t in tests) == reference


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="trials >= 1"):
        _binomial.one_sided_tests(np.array([0]), np.array([0]), 0.75, 0.95)
    with pytest.raises(ValueError, match="successes <= trials"):
        _binomial.one_sided_tests(np.array([5]), np.array([4]), 0.75, 0.95)
