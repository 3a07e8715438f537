"""Exact pieces of the mutual-information interval, checked by hand (deterministic: no sampling).

They pin what the mutation test of ``qkit/estimators/information.py`` changes one at a time:
letters sent with prior 0, the Fano bound of a noiseless channel at few shots and unequal
shots, and the switch between the weak-signal belt and the normal interval.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import chi2, gamma, norm, poisson

from qkit import measures
from qkit.estimators import information, mutual_information, noncentral


def _h(p: float) -> float:
    return float(measures.shannon_entropy([p, 1.0 - p]))


@pytest.mark.parametrize(
    "counts",
    [
        [[700, 300], [250, 750]],  # resolved: normal interval
        [[505, 495], [498, 502]],  # weak: the Neyman belt
        [[1000, 0], [0, 1000]],  # noiseless: Fano
        [[995, 5], [2, 998]],  # nearly noiseless: Fano below, fewer rare counts above
    ],
)
def test_a_letter_sent_with_prior_zero_changes_nothing(counts):
    counts = np.array(counts, dtype=float)
    alone = mutual_information(counts, [0.4, 0.6])
    for unused in ([0.0, 0.0], [3.0, 9.0]):  # never sent, or sent and ignored
        padded = np.vstack([counts, [unused]])
        est = mutual_information(padded, [0.4, 0.6, 0.0])
        for name in ("value", "ci_low", "ci_high", "at_boundary"):
            assert getattr(est, name) == pytest.approx(getattr(alone, name), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("shots", [2, 20, 400])
def test_fano_bound_of_a_noiseless_pair_by_hand(shots):
    counts = np.array([[shots, 0], [0, shots]], dtype=float)
    est = mutual_information(counts, [0.5, 0.5])
    # no rare outcome: the decoding error is below ln(2/alpha) max_x(pi_x / N_x) (Garwood)
    p_err = min(np.log(2 / 0.05) * 0.5 / shots, 0.5)
    assert est.value == 1.0 and est.ci_high == 1.0 and est.at_boundary
    assert est.ci_low == pytest.approx(max(0.0, 1.0 - _h(p_err)), rel=1e-12, abs=1e-15)
    if shots == 2:
        assert est.ci_low == 0.0  # two shots a letter prove nothing


def test_fano_bound_with_unequal_shots_and_three_outcomes_by_hand():
    # letter 0 sent 100 times, letter 1 400 times, three outcomes (one never seen)
    counts = np.array([[100.0, 0.0, 0.0], [0.0, 400.0, 0.0]])
    prior = np.array([0.3, 0.7])
    est = mutual_information(counts, prior)
    p_err = np.log(2 / 0.05) * max(0.3 / 100, 0.7 / 400)
    top = _h(0.3)
    assert est.value == pytest.approx(top, rel=1e-12, abs=0)
    assert est.ci_low == pytest.approx(top - _h(p_err), rel=1e-12, abs=0)
    # five letters on their own outcomes: Fano's log2(k - 1) term is there
    five = mutual_information(np.eye(5) * 50, np.full(5, 0.2))
    eps5 = np.log(2 / 0.05) * 0.2 / 50
    lost = _h(eps5) + eps5 * np.log2(4)
    assert five.ci_low == pytest.approx(np.log2(5) - lost, rel=1e-12, abs=0)


def _pair_counts(signal: float, shots: int = 1000) -> np.ndarray:
    """Two letters, equal prior, rows ``1/2 -/+ g``: the G statistic ``X = 8 N g^2`` (the
    binary channel's ``I = 2 g^2`` nats over ``c = 1/(4 N ln2)`` bits), so ``sqrt(X - 1)`` is
    about ``signal``."""
    gap = np.sqrt((signal**2 + 1.0) / (8.0 * shots))
    k = int(round(shots * (0.5 + gap)))
    return np.array([[k, shots - k], [shots - k, k]], dtype=float)


@pytest.mark.parametrize("target", [2.2, 2.5, 3.5, 5.0, 5.9, 6.5, 8.0, 20.0, 40.0])
def test_the_neyman_belt_below_a_signal_of_six_sigma_the_normal_interval_above(target):
    counts = _pair_counts(target)
    prior = np.array([0.5, 0.5])
    fixed, plugin, scale, dof = information._weak_signal(counts, prior)
    signal = np.sqrt((plugin - fixed) / scale - dof)
    est = mutual_information(counts, prior)
    z = norm.ppf(0.975)
    if signal < 6.0:
        x = np.array([(plugin - fixed) / scale])
        lo, hi = noncentral.upper_limit_interval(x, dof, 0.95, signal=6.0)
        assert est.ci_low == pytest.approx(float(fixed + scale * lo[0]), rel=1e-12, abs=1e-15)
        assert est.ci_high == pytest.approx(float(fixed + scale * hi[0]), rel=1e-12, abs=0)
        if target == 2.2:  # below mu_floor = 1: a lower end strictly inside (0, 1)
            assert 0.0 < lo[0] < 1.0
    else:  # the normal interval shifted up by c (d + z^2), fading from a signal of 16 to 32
        sd = information._prior_mi_spread(counts, prior)
        shift = min(1.0, max(0.0, (32.0 - signal) / 16.0)) * scale * (dof + z * z)
        assert est.ci_low == pytest.approx(float(est.value + shift - z * sd), rel=1e-12, abs=0)
        assert est.ci_high == pytest.approx(float(est.value + shift + z * sd), rel=1e-12, abs=0)
        if target == 8.0:  # exactly the central interval [(t - z)^2, (t + z)^2] of lambda
            t = np.sqrt((plugin - fixed) / scale)
            c_sd = scale * 2.0 * t  # the delta sd is 2 c t in the chi-square model, to 1%
            assert sd == pytest.approx(c_sd, rel=0.01)
            assert est.ci_high - fixed == pytest.approx(scale * (t + z) ** 2, rel=0.01)
            assert est.ci_low - fixed == pytest.approx(scale * (t - z) ** 2, rel=0.02)
        if target == 40.0:
            assert shift == 0.0
        if target == 20.0:
            assert 0.0 < shift < scale * (dof + z * z)
    # the helper above aims where it should (rounded counts; the quadratic aim is off above 10)
    assert abs(signal - target) < (0.15 if target < 10 else 0.2 * target)
    if target == 5.9:  # X - d = 34.8 < 36 < X + d: pins the test's "minus d" too
        assert (plugin - fixed) / scale + dof > 36


def test_a_batch_of_unequal_designs_gives_each_points_own_interval():
    # two letters, three outcomes, unequal shots: rows and outcomes must not be swapped in a
    # batch (each point alone is a 2-D array, the batch a 3-D one)
    batch = np.array(
        [
            [[100.0, 0.0, 0.0], [0.0, 400.0, 0.0]],  # noiseless: Fano
            [[60.0, 30.0, 10.0], [100.0, 250.0, 50.0]],  # resolved
            [[34.0, 33.0, 33.0], [130.0, 140.0, 130.0]],  # weak
            [[97.0, 3.0, 0.0], [2.0, 397.0, 1.0]],  # nearly noiseless: few rare counts
        ]
    )
    prior = np.array([0.3, 0.7])
    est = mutual_information(batch, prior)
    for i, counts in enumerate(batch):
        one = mutual_information(counts, prior)
        for name in ("value", "ci_low", "ci_high"):
            assert getattr(est, name)[i] == pytest.approx(
                float(getattr(one, name)), rel=1e-12, abs=0
            )
    fixed, plugin, scale, dof = information._weak_signal(batch, np.broadcast_to(prior, (4, 2)))
    for i, counts in enumerate(batch):
        alone = information._weak_signal(counts, prior)
        assert [fixed[i], plugin[i], scale[i], dof[i]] == pytest.approx(
            [float(x) for x in alone], rel=1e-12, abs=0
        )


@pytest.mark.parametrize("counts", [[[505, 495], [498, 502]], [[700, 300], [250, 750]]])
def test_an_outcome_never_seen_changes_nothing(counts):
    counts = np.array(counts, dtype=float)
    alone = mutual_information(counts, [0.5, 0.5])
    padded = mutual_information(np.hstack([counts, np.zeros((2, 1))]), [0.5, 0.5])
    for name in ("value", "ci_low", "ci_high"):
        assert getattr(padded, name) == pytest.approx(getattr(alone, name), rel=1e-12, abs=1e-15)


def _upper_limit_belt_by_hand(t0: float, signal: float = 6.0) -> tuple[float, float]:
    """The belt of ``noncentral.upper_limit_interval`` for ``t = |mu + Z|`` (one degree of
    freedom), with root finding instead of a grid: ``mu <= 1``: ``[0, q_0.95(mu)]``; above,
    ``t_hi = max(t_s, q_0.975(mu))``, ``t_lo`` holding the rest of the 5% below."""
    from scipy.optimize import brentq
    from scipy.special import ndtr

    def cdf(t, mu):
        return ndtr(t - mu) - ndtr(-t - mu)

    def quantile(p, mu):
        return brentq(lambda t: cdf(t, mu) - p, 0.0, mu + 10.0)

    t_s = np.sqrt(1.0 + signal**2)

    def t_hi(mu):
        return quantile(0.95, mu) if mu <= 1.0 else max(t_s, quantile(0.975, mu))

    def t_lo(mu):
        below = 0.05 - (1.0 - cdf(t_hi(mu), mu))
        return 0.0 if mu <= 1.0 or below <= 0 else quantile(below, mu)

    if t0 <= t_hi(0.0):
        low = 0.0
    elif t0 <= t_hi(1.0):
        low = brentq(lambda m: t_hi(m) - t0, 0.0, 1.0)
    elif t0 <= t_s:
        low = 1.0
    else:
        low = brentq(lambda m: quantile(0.975, m) - t0, 1.0, t0)
    high = 1.0 if t_lo(1.0 + 1e-9) > t0 else brentq(lambda m: t_lo(m) - t0, 1.0 + 1e-9, t0 + 6)
    return low, high


def test_the_upper_limit_belt_is_the_construction_by_hand_within_a_few_grid_steps():
    # The grid rounds outwards: never inside the interval by more than rounding, at most a
    # few steps of 0.01 (cells of the region, then one step of mu) outside it.
    t = np.array([0.0, 0.05, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 6.5, 7.5])
    lo, hi = noncentral.upper_limit_interval(t**2, 1.0, 0.95, signal=6.0)
    for i, t0 in enumerate(t):
        low, high = _upper_limit_belt_by_hand(float(t0))
        assert low - 0.04 <= np.sqrt(lo[i]) <= low + 1e-3, (t0, np.sqrt(lo[i]), low)
        assert high - 1e-3 <= np.sqrt(hi[i]) <= high + 0.03, (t0, np.sqrt(hi[i]), high)
    # below the switch an upper limit (or from mu_floor = 1), central above it
    assert np.all(lo[t <= 1.96] == 0.0) and np.all(np.sqrt(lo[(t > 2.7) & (t < 6)]) == 1.0)
    assert np.sqrt(lo[-1]) == pytest.approx(7.5 - 1.96, abs=0.02)


def _fano(p: float, k: int) -> float:
    return _h(p) + p * np.log2(k - 1)


def test_few_rare_outcomes_lower_end_is_fanos_growth_by_hand():
    # seven rare outcomes in 2 x 1000 shots: the pooled decoding error has weights 0.5/1000,
    # P_hat = 7 w and Garwood's 97.5% bound is w times the gamma(8) quantile (Fay-Feuer with
    # equal weights); the lower end is the estimate less h(P_up) - h(P_hat)
    counts = np.array([[995.0, 5.0], [2.0, 998.0]])
    est = mutual_information(counts, [0.5, 0.5])
    w = 0.5 / 1000
    p_up = gamma.ppf(0.975, 8.0, scale=w)
    assert p_up == pytest.approx(w * chi2.ppf(0.975, 16) / 2, rel=1e-12, abs=0)  # Garwood
    assert est.ci_low == pytest.approx(est.value - (_h(p_up) - _h(7 * w)), rel=1e-12, abs=0)
    sd = information._prior_mi_spread(counts, np.array([0.5, 0.5]))
    assert est.ci_low < est.value - norm.ppf(0.975) * sd  # below the delta one
    # the upper end: the rare counts scaled down to the mid-P lower bound of their rate (gamma
    # with shape 7.5 for equal weights: Poisson's mid-P bound to 3%; the exact one is shape 7),
    # the estimate recomputed
    p_lo = gamma.ppf(0.025, 7.5, scale=w)
    mid_p = brentq(lambda m: poisson.sf(7, m) + 0.5 * poisson.pmf(7, m) - 0.025, 0.1, 20.0)
    assert p_lo / w == pytest.approx(mid_p, rel=0.03)
    assert p_lo > gamma.ppf(0.025, 7.0, scale=w)  # less conservative than Garwood's
    s = p_lo / (7 * w)
    scaled = np.array([[1000 - 5 * s, 5 * s], [2 * s, 1000 - 2 * s]])
    up = mutual_information(scaled, [0.5, 0.5], n_boot=0).value
    assert est.ci_high == pytest.approx(float(up), rel=1e-12, abs=0)
    assert est.ci_high < est.value + norm.ppf(0.975) * sd  # below the delta one


def test_the_upper_end_near_a_noiseless_channel_with_unequal_weights_by_hand():
    # letter 0 sent 200 times (prior 0.3), letter 1 800 times (0.7): weights w = pi / N differ,
    # y = sum w r, v = sum w^2 r; the rate's lower bound is the 2.5% point of a gamma with
    # mean y + w_max / 2 and variance v + w_max^2 / 2; every rare count is scaled by it / y
    counts = np.array([[196.0, 4.0], [3.0, 797.0]])
    prior = np.array([0.3, 0.7])
    est = mutual_information(counts, prior)
    w = prior / counts.sum(axis=1)
    rare = np.array([4.0, 3.0])
    y, v, w_half = float(w @ rare), float(w**2 @ rare), float(w.max()) / 2
    mean, var = y + w_half, v + 2 * w_half**2
    p_lo = gamma.ppf(0.025, mean**2 / var, scale=var / mean)
    s = p_lo / y
    scaled = np.array([[200 - 4 * s, 4 * s], [3 * s, 800 - 3 * s]])
    up = mutual_information(scaled, prior, n_boot=0).value
    assert est.ci_high == pytest.approx(float(up), rel=1e-12, abs=0)
    assert est.ci_low < est.value < est.ci_high


def test_unequal_weights_use_fay_and_feuers_gamma_bound_by_hand():
    # three letters on their own outcomes, unequal priors and shots, rare counts 2, 0, 3:
    # y = sum w r, v = sum w^2 r, w_M = max w; mean y + w_M, variance v + w_M^2
    counts = np.array([[198.0, 2.0, 0.0], [0.0, 400.0, 0.0], [1.0, 2.0, 297.0]])
    prior = np.array([0.5, 0.2, 0.3])
    w = prior / np.array([200.0, 400.0, 300.0])
    rare = np.array([2.0, 0.0, 3.0])
    y, v, top = w @ rare, w**2 @ rare, w.max()
    p_up = gamma.ppf(0.975, (y + top) ** 2 / (v + top**2), scale=(v + top**2) / (y + top))
    growth, effective = information._fano_growth(counts, prior, 0.95)
    assert growth == pytest.approx(_fano(p_up, 3) - _fano(y, 3), rel=1e-12, abs=0)
    assert effective == pytest.approx(y**2 / v, rel=1e-12, abs=0)
    est = mutual_information(counts, prior)
    assert est.ci_low == pytest.approx(est.value - growth, rel=1e-12, abs=0)


@pytest.mark.parametrize(("rare", "fano"), [(29, True), (30, False), (31, False)])
def test_fanos_lower_end_below_thirty_rare_outcomes_the_delta_one_from_thirty(rare, fano):
    # equal weights: the effective count y^2 / v is the number of rare outcomes itself
    counts = np.array([[1000.0 - rare, rare], [0.0, 1000.0]])
    est = mutual_information(counts, [0.5, 0.5])
    growth, effective = information._fano_growth(counts, np.array([0.5, 0.5]), 0.95)
    assert effective == pytest.approx(rare, rel=1e-12, abs=0)
    sd = information._prior_mi_spread(counts, np.array([0.5, 0.5]))
    delta = est.value - norm.ppf(0.975) * sd
    assert est.value - growth < delta  # Fano's is the lower of the two here
    expected = est.value - growth if fano else delta
    assert est.ci_low == pytest.approx(expected, rel=1e-12, abs=0)


def test_a_letter_sharing_its_mode_counts_one_block():
    # letters 0 and 1 both land on outcome 0 (one block), letter 2 on outcome 1: k = 2 blocks,
    # so Fano's log2(k - 1) term vanishes; one rare outcome in row 2
    counts = np.array([[100.0, 0.0], [100.0, 0.0], [1.0, 99.0]])
    prior = np.array([0.25, 0.25, 0.5])
    growth, _ = information._fano_growth(counts, prior, 0.95)
    w = 0.5 / 100
    p_up = gamma.ppf(0.975, 4.0 * w**2 / (2 * w**2), scale=2 * w**2 / (2 * w))
    assert growth == pytest.approx(_h(p_up) - _h(w), rel=1e-12, abs=0)


def test_one_block_loses_nothing_to_decoding_and_unused_letters_name_no_block():
    # every letter's mode is outcome 0: one block, nothing to decode, no growth from Fano
    growth, _ = information._fano_growth(
        np.array([[99.0, 1.0], [98.0, 2.0]]), np.array([0.5, 0.5]), 0.95
    )
    assert growth == 0.0
    # a letter sent with prior 0 whose mode is an outcome of its own adds no block (k = 2)
    counts = np.array([[100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [0.0, 0.0, 5.0]])
    with_unused, _ = information._fano_growth(counts, np.array([0.5, 0.5, 0.0]), 0.95)
    alone, _ = information._fano_growth(counts[:2], np.array([0.5, 0.5]), 0.95)
    assert with_unused == pytest.approx(alone, rel=1e-12, abs=0)
    assert alone == pytest.approx(_h(np.log(40) * 0.005), rel=1e-12, abs=0)


def test_fanos_growth_of_a_batch_of_non_square_designs_is_each_points_own():
    # two letters, three outcomes: rows and outcomes must not be swapped in a batch
    batch = np.array([[[95.0, 5.0, 0.0], [0.0, 1.0, 99.0]], [[0.0, 100.0, 0.0], [2.0, 0.0, 98.0]]])
    prior = np.array([0.4, 0.6])
    growth, effective = information._fano_growth(batch, np.broadcast_to(prior, (2, 2)), 0.95)
    for i, counts in enumerate(batch):
        one = information._fano_growth(counts, prior, 0.95)
        assert [growth[i], effective[i]] == pytest.approx([float(x) for x in one], rel=1e-12, abs=0)
    w = prior / 100.0  # point 0: modes 0 and 2 (two blocks), rare counts 5 and 1
    y, v = w @ [5.0, 1.0], w**2 @ [5.0, 1.0]
    p_up = gamma.ppf(0.975, (y + w[1]) ** 2 / (v + w[1] ** 2), scale=(v + w[1] ** 2) / (y + w[1]))
    assert growth[0] == pytest.approx(_h(p_up) - _h(y), rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("rows", "per_cell", "fano"),
    [
        # 40 rare outcomes in 4 cells of 10: the delta lower end
        ([[980, 10, 10], [10, 990, 0], [0, 10, 990]], 10.0, False),
        # 40 in 5 cells of 8: spread thin, Fano's
        ([[984, 8, 8], [8, 992, 0], [0, 8, 992]], 8.0, True),
        # 24 in 2 cells of 12: few, Fano's whatever the cells
        ([[976, 12, 12], [0, 1000, 0], [0, 0, 1000]], 12.0, True),
        # 44 in 6 cells, four of them single outcomes: 7.3 a cell, Fano's
        ([[960, 30, 10], [1, 998, 1], [1, 1, 998]], 44 / 6, True),
    ],
)
def test_rare_outcomes_few_or_spread_thin_get_fanos_lower_end(rows, per_cell, fano):
    counts = np.array(rows, dtype=float)
    prior = np.full(3, 1 / 3)
    est = mutual_information(counts, prior)
    growth, effective = information._fano_growth(counts, prior, 0.95)
    delta = est.value - norm.ppf(0.975) * information._prior_mi_spread(counts, prior)
    assert est.value - growth < delta  # the two lower ends differ: the test can tell
    assert information._rare_per_cell(counts, prior) == pytest.approx(per_cell, rel=1e-12, abs=0)
    assert (effective < 30) == (per_cell == 12.0)  # the third case is the few-outcomes one
    expected = est.value - growth if fano else delta
    assert est.ci_low == pytest.approx(expected, rel=1e-12, abs=0)


def test_a_letter_sent_with_prior_zero_does_not_count_as_thin_leakage():
    # 30 rare outcomes in 2 cells of 15: the delta lower end; an ignored letter's three single
    # counts would make it 33 in 5 cells (6.6 a cell) if they were counted
    counts = np.array([[985.0, 15.0, 0, 0, 0, 0], [15.0, 985.0, 0, 0, 0, 0]])
    alone = mutual_information(counts, [0.5, 0.5])
    padded = np.vstack([counts, [[0, 0, 1.0, 1.0, 1.0, 10.0]]])
    est = mutual_information(padded, [0.5, 0.5, 0.0])
    assert information._rare_per_cell(padded, np.array([0.5, 0.5, 0.0])) == 15.0
    growth, _ = information._fano_growth(counts, np.array([0.5, 0.5]), 0.95)
    assert alone.ci_low > alone.value - growth  # Fano's would be lower: the test can tell
    assert est.ci_low == pytest.approx(float(alone.ci_low), rel=1e-12, abs=0)
