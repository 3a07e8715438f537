"""The known-prior mutual information's interval pieces against independent computations.

The delta-method spread against a finite-difference gradient of the definition ``I = sum_x
pi_x sum_y p(y|x) log2(p(y|x) / q_y)`` and the multinomial covariance of each row; the blocks
of letters linked by a shared outcome, the switches between the normal, weak-signal belt and
Fano readings at their stated thresholds (6 sigma itself included), the normal interval's shift
and its fade, and the upper end's rare counts scaled down (clipped to [0, 1]), by hand. No
sampling: no false failures.
"""

from __future__ import annotations

import numpy as np
import pytest

from qkit.estimators import information, mutual_information, noncentral
from qkit.estimators._normal import norm

Z = float(norm.ppf(0.975))


def _mi(rows: np.ndarray, prior: np.ndarray) -> float:
    q = prior @ rows
    terms = np.where(rows > 0, rows * np.log2(np.where(rows > 0, rows, 1.0) / q), 0.0)
    return float(prior @ terms.sum(axis=1))


def _delta_sd(counts: np.ndarray, prior: np.ndarray) -> float:
    """sqrt(sum_x g_x^T (diag p_x - p_x p_x^T) g_x / N_x), g_x = dI/dp(.|x) by central
    differences (step 1e-6) over the outcomes row x saw."""
    shots = counts.sum(axis=1)
    rows = counts / shots[:, None]
    var = 0.0
    for x in range(rows.shape[0]):
        g = np.zeros(rows.shape[1])
        for y in np.flatnonzero(rows[x] > 0):
            up, down = rows.copy(), rows.copy()
            up[x, y] += 1e-6
            down[x, y] -= 1e-6
            g[y] = (_mi(up, prior) - _mi(down, prior)) / 2e-6
        p = rows[x]
        var += g @ (np.diag(p) - np.outer(p, p)) @ g / shots[x]
    return float(np.sqrt(var))


CHANNELS = [
    (np.array([[700.0, 300.0], [250.0, 750.0]]), np.array([0.5, 0.5])),
    (np.array([[600.0, 300.0, 100.0], [0.0, 500.0, 1500.0]]), np.array([0.3, 0.7])),
    (
        np.array([[80.0, 20.0, 0.0], [10.0, 60.0, 30.0], [0.0, 5.0, 395.0]]),
        np.array([0.2, 0.3, 0.5]),
    ),
]


@pytest.mark.parametrize(("counts", "prior"), CHANNELS)
def test_the_delta_spread_is_the_gradients_multinomial_variance(counts, prior):
    sd = information._prior_mi_spread(counts, prior)
    assert sd == pytest.approx(_delta_sd(counts, prior), rel=1e-6, abs=0)


@pytest.mark.parametrize(("counts", "prior"), CHANNELS)
def test_a_resolved_signal_gets_the_normal_interval_of_that_spread(counts, prior):
    # all three are far above the switch at 6 sigma and have many rare outcomes in every cell;
    # the normal interval is shifted up by c (d + z^2), fading out from a signal of 16 to 32
    est = mutual_information(counts, prior)
    sd = _delta_sd(counts, prior)
    fixed, plugin, scale, dof = information._weak_signal(counts, prior)
    signal = np.sqrt((plugin - fixed) / scale - dof)
    assert signal > 6.0
    shift = min(1.0, max(0.0, (32.0 - signal) / 16.0)) * scale * (dof + Z * Z)
    assert est.ci_low == pytest.approx(est.value + shift - Z * sd, rel=1e-6, abs=0)
    assert est.ci_high == pytest.approx(est.value + shift + Z * sd, rel=1e-6, abs=0)


def test_a_single_count_links_two_letters_into_one_block():
    # letter 0 saw outcome 1 once, letter 1 only outcome 1: one block, nothing known for free;
    # without that count the outcome names the letter: 1 bit known for free
    prior = np.array([0.5, 0.5])
    linked = information._weak_signal(np.array([[999.0, 1.0], [0.0, 1000.0]]), prior)[0]
    apart = information._weak_signal(np.array([[1000.0, 0.0], [0.0, 1000.0]]), prior)[0]
    assert linked == pytest.approx(0.0, abs=1e-15) and apart == pytest.approx(1.0, abs=1e-15)


def test_a_weak_signal_inside_blocks_is_measured_from_what_the_blocks_give_for_free():
    # two blocks of two letters (outcomes {0, 1} and {2, 3}): the outcome names the block, so
    # H(block prior) = 1 bit is known for free and only the information inside each block is
    # the weak noncentral chi-square: the interval is 1 + c [lambda_lo, lambda_hi].
    counts = np.array(
        [[530.0, 470.0, 0, 0], [470.0, 530.0, 0, 0], [0, 0, 525.0, 475.0], [0, 0, 475.0, 525.0]]
    )
    prior = np.full(4, 0.25)
    fixed, plugin, scale, dof = information._weak_signal(counts, prior)
    assert fixed == pytest.approx(1.0, rel=1e-12, abs=0)
    statistic = (plugin - 1.0) / scale
    assert statistic - dof < 36.0  # weak: the belt below the switch at 6 sigma
    lo, hi = noncentral.upper_limit_interval(np.array([statistic]), dof, 0.95, signal=6.0)
    est = mutual_information(counts, prior)
    assert est.ci_low == pytest.approx(1.0 + scale * lo[0], rel=1e-12, abs=0)
    assert est.ci_high == pytest.approx(1.0 + scale * hi[0], rel=1e-12, abs=0)
    assert 1.0 < est.ci_low < est.value < est.ci_high  # X - d = 10.2: resolved from 0


@pytest.mark.parametrize(("per_cell", "fano"), [(9, True), (10, False)])
def test_fanos_lower_end_below_ten_rare_outcomes_per_cell(per_cell, fano):
    # letter 0 spreads 3 x per_cell rare outcomes over three cells (30 or 27 in all, equal
    # weights); at 30 rare outcomes and 10 a cell neither threshold calls for Fano's end
    rare = 3 * per_cell
    counts = np.array([[1000.0 - rare, per_cell, per_cell, per_cell], [0, 0, 0, 1000.0]])
    prior = np.array([0.5, 0.5])
    assert information._rare_per_cell(counts, prior) == per_cell
    growth, effective = information._fano_growth(counts, prior, 0.95)
    assert effective == pytest.approx(rare, rel=1e-12, abs=0)
    est = mutual_information(counts, prior)
    delta = est.value - Z * _delta_sd(counts, prior)
    assert est.value - growth < delta - 1e-4  # the two readings differ
    want = est.value - growth if fano else delta
    assert est.ci_low == pytest.approx(want, rel=1e-6, abs=0)


def test_thirty_rare_outcomes_exactly_are_enough_for_the_delta_lower_end():
    # 15 + 15 rare outcomes of equal weight 2^-11 (1024 shots a letter, so the arithmetic is
    # exact): the effective count is 30 to the last bit, 15 a cell: neither threshold ("fewer
    # than 30", "fewer than 10 a cell") calls for Fano's end
    counts = np.array([[1009.0, 15.0], [15.0, 1009.0]])
    prior = np.array([0.5, 0.5])
    growth, effective = information._fano_growth(counts, prior, 0.95)
    assert effective == 30.0 and information._rare_per_cell(counts, prior) == 15.0
    est = mutual_information(counts, prior)
    delta = est.value - Z * _delta_sd(counts, prior)
    assert est.value - growth < delta - 1e-4  # Fano's would be lower
    assert est.ci_low == pytest.approx(delta, rel=1e-6, abs=0)


def _fewer_rare_by_hand(counts: np.ndarray, prior: np.ndarray) -> tuple[float, float]:
    """(ratio, estimate): the rare counts scaled by ratio = P_lo / y, clipped to [0, 1], with
    P_lo the 2.5% point of a gamma of mean y + w_M/2 and variance v + w_M^2/2 (scipy.stats),
    and the Miller-Madow estimate of the scaled counts."""
    from scipy.stats import gamma

    w = prior / counts.sum(axis=1)
    mode = counts.argmax(axis=1)
    rare = counts.sum(axis=1) - counts[np.arange(len(counts)), mode]
    y, v, half = float(w @ rare), float(w**2 @ rare), float(w.max()) / 2
    mean, var = y + half, v + 2 * half**2
    ratio = gamma.ppf(0.025, mean**2 / var, scale=var / mean) / y
    s = min(1.0, max(0.0, ratio))
    scaled = counts * s
    for x, m in enumerate(mode):
        scaled[x, m] = counts[x].sum() - (scaled[x].sum() - scaled[x, m])
    return ratio, float(information._prior_mi(scaled, prior, correct=True))


@pytest.mark.parametrize(
    ("counts", "prior", "ratio_range"),
    [
        # one rare count on the rarely weighted letter while the other letter's weight is 90x
        # larger: the gamma's shape is near 1/2 and the lower bound a twentieth of y
        (np.array([[100.0, 0.0], [1.0, 999.0]]), np.array([0.9, 0.1]), (0.01, 0.1)),
        # ... and 10^4 x larger: the lower bound (from w_M) exceeds y: kept at 1, the estimate
        (np.array([[10.0, 0.0], [1.0, 99999.0]]), np.array([0.5, 0.5]), (1.0, np.inf)),
    ],
)
def test_the_rare_counts_scale_is_clipped_to_between_nothing_and_all(counts, prior, ratio_range):
    ratio, want = _fewer_rare_by_hand(counts, prior)
    assert ratio_range[0] < ratio < ratio_range[1]
    got = information._fewer_rare(counts, prior, 0.95)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    if ratio > 1:
        assert got == pytest.approx(
            float(information._prior_mi(counts, prior, correct=True)), rel=1e-12, abs=1e-15
        )


def _patched_weak_signal(signal2: float, dof: float = 2.0, scale: float = 2.0**-12):
    """A _weak_signal whose statistic is d + signal2 exactly (powers of two: no rounding)."""
    fixed, plugin = np.array(0.0), np.array((dof + signal2) * scale)

    def weak(counts: np.ndarray, prior: np.ndarray):
        return fixed, plugin, np.array(scale), np.array(dof)

    return weak


@pytest.mark.parametrize(
    ("signal", "fade"),
    [
        (5.0, None),
        (6.0, 1.0),
        (10.0, 1.0),
        (16.0, 1.0),
        (20.0, 0.75),
        (24.0, 0.5),
        (32.0, 0.0),
        (40.0, 0.0),
    ],
)
def test_the_switch_at_six_sigma_and_the_shifts_fade_by_hand(monkeypatch, signal, fade):
    # A resolved channel (550 rare outcomes, 275 a cell: no Fano) whose weak-signal statistic
    # is set to X = d + signal^2: below 6 the belt, fixed + c [lambda_lo, lambda_hi]; from 6 on
    # (6 itself included) the normal interval shifted by fade c (d + z^2), fade = 1 up to 16,
    # (32 - signal) / 16 up to 32, 0 beyond.
    counts, prior = CHANNELS[0]
    point = information._prior_mi(counts, prior, correct=True)
    sd = _delta_sd(counts, prior)
    scale, dof = 2.0**-12, 2.0
    monkeypatch.setattr(information, "_weak_signal", _patched_weak_signal(signal**2))
    low, high = information._delta_interval(counts, prior, point, 0.95)
    if fade is None:
        lo, hi = noncentral.upper_limit_interval(np.array([dof + signal**2]), dof, 0.95, 6.0)
        want = (scale * lo[0], scale * hi[0])
    else:
        shift = fade * scale * (dof + Z * Z)
        want = (point + shift - Z * sd, point + shift + Z * sd)
    assert low == pytest.approx(want[0], rel=1e-6, abs=0)
    assert high == pytest.approx(want[1], rel=1e-6, abs=0)


def test_a_noiseless_channel_has_no_rare_outcomes_to_count():
    # every used letter on its own outcome: no rare outcome, so the effective count y^2 / v
    # and the rare outcomes per cell that saw one are 0 (not 0/0), and Fano's growth is the
    # whole of F(P_up) with P_up = ln(2/alpha) w_M (Fay-Feuer's gamma of shape 1, scale w_M)
    counts = np.array([[1000.0, 0.0], [0.0, 500.0]])
    prior = np.array([0.5, 0.5])
    growth, effective = information._fano_growth(counts, prior, 0.95)
    assert effective == 0.0 and information._rare_per_cell(counts, prior) == 0.0
    p_up = np.log(2.0 / 0.05) * 0.5 / 500.0
    h = -(p_up * np.log2(p_up) + (1 - p_up) * np.log2(1 - p_up))
    assert growth == pytest.approx(h, rel=1e-12, abs=0)
