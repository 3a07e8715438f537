"""Coverage of the estimators' nominal 95% intervals over seeded repetitions.

Each test draws many independent multinomial data sets from exact outcome probabilities
(computed here from an explicit density matrix and projectors, independently of the
estimators' own forward model), builds the interval on each, and asserts that the fraction
covering the truth lies in [0.90, 0.99].

False-failure rates (probability that an estimator whose true coverage is 0.95 fails the
[0.90, 0.99] check, exact binomial): 2000 repetitions < 1e-19; 1000 < 1e-10; 400 < 2e-5.
If the true coverage were 0.93 (a mildly optimistic interval) the 400-repetition checks would
fail 1% of the time; every test is seeded, so a given checkout passes or fails reproducibly.
"""

from __future__ import annotations

import numpy as np
import pytest

from qkit import measures
from qkit.estimators import chsh, mutual_information, state_tomography
from qkit.mixup import theory

LOW, HIGH = 0.90, 0.99


def _projectors(direction: np.ndarray) -> list[np.ndarray]:
    op = np.einsum("i,iab->ab", direction, measures.PAULI)
    return [(np.eye(2) + op) / 2, (np.eye(2) - op) / 2]  # bit 0 = eigenvalue +1


def _probabilities(rho: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Outcome probabilities (settings, 4) by explicit projectors, qkit outcome order."""
    return np.array(
        [
            [
                np.real(np.trace(rho @ np.kron(pa, pb)))
                for pa in _projectors(a)
                for pb in _projectors(b)
            ]
            for a, b in pairs
        ]
    )


def _chsh_probabilities(rho: np.ndarray) -> tuple[np.ndarray, float]:
    d = measures.optimal_chsh_settings(rho)
    pairs = [
        (d["a"], d["b"]),
        (d["a"], d["b_prime"]),
        (d["a_prime"], d["b"]),
        (d["a_prime"], d["b_prime"]),
    ]
    return _probabilities(rho, pairs), float(d["value"])


def _pauli_setting_probabilities(rho: np.ndarray) -> np.ndarray:
    axes = np.eye(3)  # X, Y, Z Bloch directions
    return _probabilities(rho, [(axes[i], axes[j]) for i in range(3) for j in range(3)])


def test_chsh_normal_interval_covers_at_95_percent():
    rho = theory.state(0.9, 0.6)
    probs, truth = _chsh_probabilities(rho)
    assert truth == pytest.approx(float(theory.chsh_max(0.9, 0.6)), abs=1e-9)
    rng = np.random.default_rng(20240601)
    counts = rng.multinomial(500, probs, size=(2000, 4))
    low, high = chsh(counts).normal_interval(0.95)
    coverage = np.mean((low <= truth) & (truth <= high))
    assert LOW <= coverage <= HIGH, coverage


def test_chsh_standard_error_shrinks_as_one_over_root_shots():
    # Figures (this seed, S = 0.9, a = 0.6, CHSH = 2.50): stderr 0.0499, 0.0156, 0.00494 at
    # N = 1e3, 1e4, 1e5 shots per setting.
    probs, _ = _chsh_probabilities(theory.state(0.9, 0.6))
    rng = np.random.default_rng(7)
    shots = np.array([1e3, 1e4, 1e5])
    stderr = np.array([chsh(rng.multinomial(int(n), probs)).stderr for n in shots])
    slope = np.polyfit(np.log(shots), np.log(stderr), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.02)


def test_tomography_interval_width_shrinks_as_one_over_root_shots():
    # Figures (this seed, S = 0.8, a = 0.6, C = 0.676): 95% interval width / 3.92 (a 1-sigma
    # equivalent) 0.0179, 0.0053, 0.0016 at N = 1e3, 1e4, 1e5 shots per setting.
    probs = _pauli_setting_probabilities(theory.state(0.8, 0.6))
    rng = np.random.default_rng(8)
    shots = np.array([1e3, 1e4, 1e5])
    widths = []
    for n in shots:
        est = state_tomography(rng.multinomial(int(n), probs), n_boot=400, rng=rng)
        widths.append(float(est.concurrence.ci_high - est.concurrence.ci_low))
    slope = np.polyfit(np.log(shots), np.log(widths), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


@pytest.mark.slow
def test_tomography_intervals_cover_concurrence_eof_and_fidelity_at_95_percent():
    success, amplitude = 0.8, 0.6  # interior: C = 0.68, smallest eigenvalue 0.045
    rho = theory.state(success, amplitude)
    truth = {
        "concurrence": float(measures.concurrence(rho)),
        "eof": float(measures.entanglement_of_formation(rho)),
        "fidelity": float(measures.fidelity_pure(theory.psi(amplitude), rho)),
    }
    rng = np.random.default_rng(99)
    counts = rng.multinomial(1000, _pauli_setting_probabilities(rho), size=(400, 9))
    est = state_tomography(counts, theory.psi(amplitude), n_boot=300, rng=rng)
    for name, value in truth.items():
        interval = getattr(est, name)
        assert not np.any(interval.at_boundary), name
        coverage = np.mean(interval.covers(value))
        assert LOW <= coverage <= HIGH, (name, coverage)


def test_tomography_flags_zero_concurrence_as_boundary():
    # Bell pairs at S = 0.3 < 1/3 are separable: C = 0 sits on the max(0, .) boundary, where no
    # interval has nominal coverage; every data set must say so.
    rho = theory.state(0.3, theory.BELL_AMPLITUDE)
    assert float(measures.concurrence(rho)) == 0.0
    rng = np.random.default_rng(5)
    counts = rng.multinomial(1000, _pauli_setting_probabilities(rho), size=(50, 9))
    est = state_tomography(counts, n_boot=200, rng=rng)
    assert np.all(est.concurrence.at_boundary)
    assert np.all(est.eof.at_boundary)
    assert np.all(est.concurrence.ci_low == 0.0)
    assert est.concurrence[0].to_dict()["at_boundary"] is True


def _werner_channel(eta: float, werner: np.ndarray) -> np.ndarray:
    """Singlet/triplet outcome probabilities for Werner inputs: P(singlet) = (1 + 3 eta p)/4."""
    singlet = (1 + 3 * eta * werner) / 4
    return np.stack([singlet, 1 - singlet], axis=-1)


@pytest.mark.parametrize(("eta", "shots"), [(0.6, 200), (0.3, 100)])
def test_mutual_information_interval_covers_at_95_percent_with_known_prior(eta, shots):
    channel = _werner_channel(eta, np.array([1.0, -1 / 3]))  # the entangled alphabet's ends
    prior = np.array([0.45, 0.55])
    truth = float(measures.mutual_information(prior[:, None] * channel))
    rng = np.random.default_rng(31)
    counts = rng.multinomial(shots, channel, size=(1000, 2))
    est = mutual_information(counts, prior, n_boot=500, rng=rng)
    coverage = np.mean(est.covers(truth))
    assert LOW <= coverage <= HIGH, coverage


def test_mutual_information_interval_covers_at_95_percent_for_the_two_slot_alphabet():
    # Five inputs (vacuum, photon in slot 1, in slot 2, two Werner ends) read by the
    # photon-counting + singlet/triplet receiver: outcomes vac, slot 1, slot 2, singlet, triplet.
    eta = 0.5
    pair = _werner_channel(eta, np.array([1.0, -1 / 3]))
    channel = np.zeros((5, 5))
    channel[0, 0] = channel[1, 1] = channel[2, 2] = 1.0
    channel[3:, 3:] = pair
    prior = np.array([0.15, 0.25, 0.25, 0.15, 0.2])
    truth = float(measures.mutual_information(prior[:, None] * channel))
    rng = np.random.default_rng(32)
    counts = rng.multinomial(150, channel, size=(1000, 5))
    est = mutual_information(counts, prior, n_boot=500, rng=rng)
    coverage = np.mean(est.covers(truth))
    assert LOW <= coverage <= HIGH, coverage


def test_mutual_information_interval_covers_at_95_percent_for_random_inputs():
    channel = _werner_channel(0.6, np.array([1.0, -1 / 3]))
    joint = 0.5 * channel
    truth = float(measures.mutual_information(joint))
    rng = np.random.default_rng(33)
    counts = rng.multinomial(400, joint.ravel(), size=1000).reshape(1000, 2, 2)
    est = mutual_information(counts, n_boot=500, rng=rng)
    coverage = np.mean(est.covers(truth))
    assert LOW <= coverage <= HIGH, coverage
