"""Exact pieces of the mutual-information interval, checked by hand (deterministic: no sampling).

They pin what the mutation test of ``qkit/estimators/information.py`` changes one at a time:
letters sent with prior 0, the Fano bound of a noiseless channel at few shots and unequal
shots, and the switch between Feldman-Cousins and the normal interval.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from qkit import measures
from qkit.estimators import information, mutual_information, noncentral


def _h(p: float) -> float:
    return float(measures.shannon_entropy([p, 1.0 - p]))


@pytest.mark.parametrize(
    "counts",
    [
        [[700, 300], [250, 750]],  # resolved: normal interval
        [[505, 495], [498, 502]],  # weak: Feldman-Cousins
        [[1000, 0], [0, 1000]],  # noiseless: Fano
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
    assert est.value == pytest.approx(top, rel=1e-12)
    assert est.ci_low == pytest.approx(top - _h(p_err), rel=1e-12)
    # five letters on their own outcomes: Fano's log2(k - 1) term is there
    five = mutual_information(np.eye(5) * 50, np.full(5, 0.2))
    eps5 = np.log(2 / 0.05) * 0.2 / 50
    lost = _h(eps5) + eps5 * np.log2(4)
    assert five.ci_low == pytest.approx(np.log2(5) - lost, rel=1e-12)


def _pair_counts(signal: float, shots: int = 1000) -> np.ndarray:
    """Two letters, equal prior, rows ``1/2 -/+ g``: the G statistic ``X = 8 N g^2`` (the
    binary channel's ``I = 2 g^2`` nats over ``c = 1/(4 N ln2)`` bits), so ``sqrt(X - 1)`` is
    about ``signal``."""
    gap = np.sqrt((signal**2 + 1.0) / (8.0 * shots))
    k = int(round(shots * (0.5 + gap)))
    return np.array([[k, shots - k], [shots - k, k]], dtype=float)


@pytest.mark.parametrize("target", [2.5, 3.5, 3.9, 4.5, 6.0])
def test_feldman_cousins_below_a_signal_of_four_sigma_the_normal_interval_above(target):
    counts = _pair_counts(target)
    prior = np.array([0.5, 0.5])
    fixed, plugin, scale, dof = information._weak_signal(counts, prior)
    signal = np.sqrt((plugin - fixed) / scale - dof)
    est = mutual_information(counts, prior)
    z = norm.ppf(0.975)
    if signal < 4.0:
        lo, hi = noncentral.interval(np.array([(plugin - fixed) / scale]), dof, 0.95)
        assert est.ci_low == pytest.approx(float(fixed + scale * lo[0]), rel=1e-12, abs=1e-15)
        assert est.ci_high == pytest.approx(float(fixed + scale * hi[0]), rel=1e-12)
    else:
        sd = information._prior_mi_spread(counts, prior)
        assert est.ci_low == pytest.approx(float(est.value - z * sd), rel=1e-12)
        assert est.ci_high == pytest.approx(float(est.value + z * sd), rel=1e-12)
    assert abs(signal - target) < 0.1  # the helper above aims where it should
    if target == 3.9:  # X - d = 15.3 < 16 < X + d: pins the test's "minus d" too
        assert (plugin - fixed) / scale + dof > 16


def test_a_batch_of_unequal_designs_gives_each_points_own_interval():
    # two letters, three outcomes, unequal shots: rows and outcomes must not be swapped in a
    # batch (each point alone is a 2-D array, the batch a 3-D one)
    batch = np.array(
        [
            [[100.0, 0.0, 0.0], [0.0, 400.0, 0.0]],  # noiseless: Fano
            [[60.0, 30.0, 10.0], [100.0, 250.0, 50.0]],  # resolved
            [[34.0, 33.0, 33.0], [130.0, 140.0, 130.0]],  # weak
        ]
    )
    prior = np.array([0.3, 0.7])
    est = mutual_information(batch, prior)
    for i, counts in enumerate(batch):
        one = mutual_information(counts, prior)
        for name in ("value", "ci_low", "ci_high"):
            assert getattr(est, name)[i] == pytest.approx(float(getattr(one, name)), rel=1e-12)
    fixed, plugin, scale, dof = information._weak_signal(batch, np.broadcast_to(prior, (3, 2)))
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


def _folded_normal_fc(t0: float, confidence: float = 0.95) -> tuple[float, float]:
    """Feldman-Cousins interval for ``mu`` from ``t0 = |mu + Z|``, by root finding (no grid).

    ``f(t | mu) = phi(t - mu) + phi(t + mu)``; the best ``mu`` of a ``t`` is 0 for ``t <= 1``
    and else solves ``mu = t tanh(t mu)``; each ``mu``'s region ``{t : R(t) >= r}`` holds
    ``confidence``; the interval is every ``mu`` whose region holds ``t0``.
    """
    from scipy.optimize import brentq

    def best(t):
        return 0.0 if t <= 1.0 else brentq(lambda m: m - t * np.tanh(t * m), 1e-9, t + 1.0)

    def ratio(t, mu):
        return (norm.pdf(t - mu) + norm.pdf(t + mu)) / (
            norm.pdf(t - best(t)) + norm.pdf(t + best(t))
        )

    def region(mu):
        top = 0.0 if mu == 0 else brentq(lambda t: best(t) - mu, 1.0, mu + 10.0)

        def ends(r):
            left = 0.0 if ratio(0.0, mu) >= r else brentq(lambda t: ratio(t, mu) - r, 0.0, top)
            return left, brentq(lambda t: ratio(t, mu) - r, top, top + 20.0)

        def mass(r):
            a, b = ends(r)
            cdf = lambda t: norm.cdf(t - mu) - norm.cdf(-t - mu)  # noqa: E731
            return cdf(b) - cdf(a) - confidence

        return ends(brentq(mass, 1e-12, 1 - 1e-12, xtol=1e-14))

    low = 0.0 if t0 <= region(0.0)[1] else brentq(lambda m: region(m)[1] - t0, 0.0, t0 + 1.0)
    return low, brentq(lambda m: region(m)[0] - t0, 1e-6, t0 + 6.0)


def test_the_belt_contains_the_exact_feldman_cousins_interval_within_a_few_grid_steps():
    # The grid rounds outwards: never inside the exact interval by more than rounding, and
    # at most a few steps of 0.01 (cells of the region, then one step of mu) outside it.
    t = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
    lo, hi = noncentral.interval(t**2, 1.0, 0.95)
    for i, t0 in enumerate(t):
        low, high = _folded_normal_fc(float(t0))
        assert low - 0.04 <= np.sqrt(lo[i]) <= low + 1e-3, (t0, np.sqrt(lo[i]), low)
        assert high - 1e-3 <= np.sqrt(hi[i]) <= high + 0.03, (t0, np.sqrt(hi[i]), high)
