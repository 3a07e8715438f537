"""qkit.estimators.bootstrap against Efron's formulas computed independently.

References: ``numpy.quantile`` (linear interpolation) and ``scipy.stats.norm`` for the
percentile, basic and bias-corrected intervals (Efron and Tibshirani, *An Introduction to the
Bootstrap*, ch. 13-14); exact counts for the resampling. Every check is deterministic except
the one marked, whose false-failure rate is stated.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from qkit.estimators import bootstrap


def _replicates() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    reps = np.column_stack(
        [rng.normal(0.3, 0.1, 401), rng.gamma(2.0, 0.5, 401), 0.1 * np.arange(401)]
    )
    reps[:5, 2] = 100.0  # ties above the point of the third column
    ties = np.round(rng.normal(0.0, 1.0, 401), 1)  # ~16 replicates on the point 0.0
    return np.array([0.31, 0.8, 100.0, 0.0]), np.column_stack([reps, ties])


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_percentile_and_basic_intervals_are_the_replicates_quantiles(confidence):
    point, reps = _replicates()
    a = 1 - confidence
    q = np.quantile(reps, [a / 2, 1 - a / 2], axis=0)
    low, high, edge = bootstrap.interval_from_replicates(point, reps, confidence)
    np.testing.assert_array_equal([low, high], q)
    assert not np.any(edge)
    low, high, _ = bootstrap.interval_from_replicates(point, reps, confidence, "basic")
    np.testing.assert_allclose(
        [low, high], [2 * point - q[1], 2 * point - q[0]], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_the_bias_corrected_interval_is_efrons(confidence):
    # z0 = Phi^-1(P*(theta* < theta_hat) + P*(theta* = theta_hat) / 2), kept within half a
    # replicate of 0 and 1; the ends are the quantiles at Phi(2 z0 -/+ z).
    point, reps = _replicates()
    # every replicate above the point, every one below: z0 clipped at each end
    point = np.concatenate([point, [-5.0, 5.0]])
    reps = np.column_stack([reps, reps[:, 0], reps[:, 0]])
    n = reps.shape[0]
    z = norm.ppf(1 - (1 - confidence) / 2)
    low, high, _ = bootstrap.interval_from_replicates(point, reps, confidence, "bc")
    for i in range(point.size):
        frac = np.mean(reps[:, i] < point[i]) + 0.5 * np.mean(reps[:, i] == point[i])
        z0 = norm.ppf(min(max(frac, 0.5 / n), 1 - 0.5 / n))
        want = np.quantile(reps[:, i], [norm.cdf(2 * z0 - z), norm.cdf(2 * z0 + z)])
        np.testing.assert_allclose([low[i], high[i]], want, rtol=0, atol=1e-12)
    # the third column's point ties with 5 replicates and exceeds the 396 others: 398.5 / 401;
    # the fourth ties with a dozen in the bulk, where half of them moves both ends
    assert np.mean(reps[:, 2] < point[2]) + 0.5 * np.mean(reps[:, 2] == point[2]) == 398.5 / n
    assert np.sum(reps[:, 3] == 0.0) >= 10


def _flag(point, reps, method="percentile", confidence=0.75, **limits):
    reps = np.asarray(reps, dtype=float)[:, None]
    out = bootstrap.interval_from_replicates(np.array([point]), reps, confidence, method, **limits)
    return float(out[0][0]), float(out[1][0]), bool(out[2][0])


def test_each_reason_to_flag_a_limit_flags_it_alone():
    # At confidence 0.75 alpha / 2 = 0.125 exactly: 50 of 400 replicates on a limit flag it,
    # 49 do not. Each case below meets one reason only (the others are checked false).
    inside = np.linspace(0.2, 0.8, 400)
    on_low = np.concatenate([np.zeros(50), np.linspace(0.2, 0.8, 350)])
    fewer = np.concatenate([np.zeros(49), np.linspace(0.2, 0.8, 351)])
    assert _flag(0.5, on_low, lower=0.0)[2] and not _flag(0.5, fewer, lower=0.0)[2]
    assert _flag(0.5, 1 - on_low, upper=1.0)[2] and not _flag(0.5, 1 - fewer, upper=1.0)[2]
    # the point within 1e-12 of a limit (the replicates far from it)
    assert _flag(5e-13, inside, lower=0.0)[2] and not _flag(2e-12, inside, lower=0.0)[2]
    assert _flag(1 - 5e-13, inside, upper=1.0)[2] and not _flag(1 - 2e-12, inside, upper=1.0)[2]
    # an end within 1e-12 of a limit: the basic interval 2 theta - q reaches past it
    low, _, flagged = _flag(0.25, inside, "basic", lower=0.0)
    assert flagged and low == 0.0  # 2 * 0.25 - q_high < 0, clipped
    assert not _flag(0.45, inside, "basic", lower=0.0)[2]  # 0.9 - q_high > 0
    _, high, flagged = _flag(0.75, inside, "basic", upper=1.0)
    assert flagged and high == 1.0
    assert not _flag(0.55, inside, "basic", upper=1.0)[2]
    # an end exactly on the limit: 2 theta - q = 0 and = 1 (to rounding) flag it
    q_low, q_high = np.quantile(inside, [0.125, 0.875])
    assert _flag(q_high / 2, inside, "basic", lower=0.0) == (0.0, 2 * q_high / 2 - q_low, True)
    low, high, flagged = _flag((1.0 + q_low) / 2, inside, "basic", upper=1.0)
    assert flagged and abs(high - 1.0) < 1e-15 and low < 1.0
    # no limit given: nothing flagged, nothing clipped
    assert _flag(0.25, inside, "basic")[:2] == pytest.approx(
        tuple(2 * 0.25 - np.quantile(inside, [0.875, 0.125])), abs=1e-12
    )
    assert not _flag(0.0, on_low)[2]


def test_ends_are_clipped_into_the_limits():
    low, high, flagged = _flag(0.2, np.linspace(0.1, 0.9, 400), upper=0.5)
    assert high == 0.5 and low == pytest.approx(np.quantile(np.linspace(0.1, 0.9, 400), 0.125))
    low, high, _ = _flag(0.2, np.linspace(0.6, 0.9, 400), lower=0.7, upper=0.8)
    assert low == 0.7 and high == 0.8
    low, high, _ = _flag(0.2, np.linspace(-0.9, -0.6, 400), lower=0.0)
    assert low == 0.0 and high == 0.0
    low, high, _ = _flag(0.9, np.linspace(1.5, 2.0, 400), upper=1.0)
    assert low == 1.0 and high == 1.0
    with pytest.raises(ValueError, match="interval must be one of"):
        bootstrap.interval_from_replicates(np.array([0.2]), np.ones((4, 1)), 0.95, "bca")


def _counts_statistic(draws, points):
    """The resampled counts themselves, flattened per replicate, and the points' indices."""
    n_boot, m = draws.shape[:2]
    index = np.broadcast_to(np.arange(points.start, points.stop), (n_boot, m))
    return draws.reshape(n_boot, m, -1).sum(axis=-1), draws[..., 0, 0], index.astype(float)


def test_resampling_draws_each_rows_shots_from_its_normalized_probabilities(monkeypatch):
    # Three points, two rows each; every row's draws add up to its shots, rows of
    # probability (0, 1) (up to rounding: a -1e-17 and an unnormalized 2) put every shot
    # in the second outcome, and the point index survives the chunking (2 rows per chunk).
    shots = np.array([[10, 20], [30, 40], [50, 60]])
    probs = np.array([[[-1e-17, 2.0], [0.5, 0.5]]] * 3)
    monkeypatch.setattr(bootstrap, "_MAX_ROWS_PER_CHUNK", 8)  # 8 // (4 * 2) = 1 point a chunk
    for rng in (np.random.default_rng(1), [np.random.default_rng(i) for i in range(3)]):
        total, first, index = bootstrap.resampled_statistics(
            _counts_statistic, shots, probs, 4, rng
        )
        assert total.shape == (4, 3) and np.all(total == shots.sum(-1))
        assert np.all(first == 0.0)
        assert np.all(index == np.arange(3))


def test_a_batch_of_any_shape_gets_replicates_of_that_shape():
    # shots (2, 3, rows): replicates (n_boot, 2, 3), each point's own shots in its entry
    shots = np.arange(1, 13).reshape(2, 3, 2) * 10
    probs = np.full((2, 3, 2, 2), 0.5)
    (total,) = bootstrap.resampled_statistics(
        lambda d, p: (d.sum(axis=(-2, -1)),), shots, probs, 4, np.random.default_rng(2)
    )
    assert total.shape == (4, 2, 3)
    np.testing.assert_array_equal(total, np.broadcast_to(shots.sum(-1), (4, 2, 3)))


def test_a_point_with_its_own_generator_resamples_the_same_alone_or_in_a_batch(monkeypatch):
    shots = np.array([[100, 100], [200, 50], [7, 9]])
    probs = np.array([[[0.2, 0.8], [0.6, 0.4]], [[0.5, 0.5], [0.1, 0.9]], [[0.3, 0.7], [0.9, 0.1]]])

    def run(rows, chunk):
        monkeypatch.setattr(bootstrap, "_MAX_ROWS_PER_CHUNK", chunk)
        gens = [np.random.default_rng(10 + i) for i in rows]
        return bootstrap.resampled_statistics(
            lambda d, p: (d[..., 0, 0], d[..., 1, 1]), shots[rows], probs[rows], 5, gens
        )

    together = run([0, 1, 2], 2_000_000)
    for chunk in (10, 20):
        np.testing.assert_array_equal(run([0, 1, 2], chunk)[0], together[0])
    alone = run([1], 2_000_000)
    np.testing.assert_array_equal(alone[1][:, 0], together[1][:, 1])


def test_unnormalized_probabilities_are_normalized_before_drawing():
    # Rows (1, 1) and (3, 1): drawn as (1/2, 1/2) and (3/4, 1/4). 40,000 shots: the first
    # outcome's fraction has sd 0.0025 and 0.0022; the band of 0.012 is 4.8 and 5.5 sd wide,
    # a false failure with probability < 2e-6 (seeded, so it is fixed once it passes).
    shots = np.array([[40_000, 40_000]])
    probs = np.array([[[1.0, 1.0], [3.0, 1.0]]])
    first_a, first_b = bootstrap.resampled_statistics(
        lambda d, p: (d[..., 0, 0] / 40_000, d[..., 1, 0] / 40_000),
        shots,
        probs,
        3,
        np.random.default_rng(5),
    )
    assert np.all(np.abs(first_a - 0.5) < 0.012) and np.all(np.abs(first_b - 0.75) < 0.012)
