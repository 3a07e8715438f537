"""Unit tests of qkit.estimators against independent computations (qiskit.quantum_info,
qiskit-experiments, explicit shot-by-shot averages, brute-force projections)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, random_density_matrix
from scipy.stats import binom, multinomial

from qkit import measures
from qkit.estimators import (
    PAULI_SETTINGS,
    Estimate,
    Interval,
    chsh,
    correlator,
    fit_state,
    linear_inversion,
    mutual_information,
    pauli_probabilities,
    project_to_physical,
    state_tomography,
)
from qkit.mixup import theory

PARITY = np.array([1, -1, -1, 1])


# ---------------------------------------------------------------- correlators and CHSH


def test_correlator_equals_mean_and_standard_error_of_the_shot_by_shot_parities():
    rng = np.random.default_rng(0)
    counts = rng.multinomial(777, [0.4, 0.1, 0.15, 0.35], size=5)
    est = correlator(counts)
    for row, value, stderr in zip(counts, est.value, est.stderr, strict=True):
        shots = np.repeat(PARITY, row)  # one +-1 per shot
        assert value == pytest.approx(np.mean(shots), abs=1e-14)
        assert stderr == pytest.approx(np.std(shots) / np.sqrt(len(shots)), rel=1e-12)


def test_correlator_broadcasts_over_leading_axes():
    counts = np.ones((3, 2, 5, 4))
    assert correlator(counts).value.shape == (3, 2, 5)


def test_chsh_stderr_adds_the_four_independent_setting_variances():
    rng = np.random.default_rng(1)
    counts = rng.multinomial([100, 200, 300, 400], np.full((4, 4), 0.25) + [0.1, -0.1, -0.1, 0.1])
    est = chsh(counts)
    values = [np.mean(np.repeat(PARITY, row)) for row in counts]
    variances = [np.var(np.repeat(PARITY, row)) / row.sum() for row in counts]
    assert est.value == pytest.approx(values[0] + values[1] + values[2] - values[3], abs=1e-14)
    assert est.stderr == pytest.approx(np.sqrt(np.sum(variances)), rel=1e-12)
    assert est.significance == pytest.approx((est.value - 2) / est.stderr, rel=1e-12)


def test_chsh_of_exact_bell_statistics_reaches_tsirelson_bound():
    bell = DensityMatrix.from_label("00").evolve(_bell_circuit())
    rho = measures.from_qiskit_order(bell.data)
    probs = _setting_probabilities(rho, measures.optimal_chsh_settings(rho))
    est = chsh(1e6 * probs)
    assert est.value == pytest.approx(2 * np.sqrt(2), abs=1e-9)
    assert est.significance > 100


def test_correlators_reject_bad_counts():
    with pytest.raises(ValueError, match="shape"):
        correlator(np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        correlator([1, -1, 0, 0])
    with pytest.raises(ValueError, match="at least one shot"):
        chsh(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="shape"):
        chsh(np.ones((3, 4)))


def test_estimate_to_dict_has_exactly_value_and_stderr():
    est = chsh(np.full((4, 4), 25))
    assert set(est.to_dict()) == {"value", "stderr"}
    assert isinstance(est.to_dict()["value"], float)
    batch = correlator(np.full((2, 4), 25))
    assert batch.to_dict()["value"] == [0.0, 0.0]
    assert isinstance(batch[1], Estimate) and batch[1].value.shape == ()


# ---------------------------------------------------------------- tomography


def _bell_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    return qc


def _qiskit_pauli_probabilities(rho_qkit: np.ndarray) -> np.ndarray:
    """Pauli-setting outcome probabilities by rotating with Qiskit gates (A = qubit 0)."""
    state = DensityMatrix(measures.from_qiskit_order(rho_qkit))
    out = np.zeros((9, 4))
    for s, label in enumerate(PAULI_SETTINGS):
        qc = QuantumCircuit(2)
        for qubit, basis in enumerate(label):
            if basis == "X":
                qc.h(qubit)
            elif basis == "Y":
                qc.sdg(qubit)
                qc.h(qubit)
        little = state.evolve(qc).probabilities()  # index = bit_q0 + 2 bit_q1
        for bit_a in (0, 1):
            for bit_b in (0, 1):
                out[s, 2 * bit_a + bit_b] = little[bit_a + 2 * bit_b]
    return out


def _setting_probabilities(rho: np.ndarray, directions: dict) -> np.ndarray:
    """Outcome probabilities (4 settings, 4 outcomes) for Bloch directions, by projectors."""

    def projectors(n):
        op = np.einsum("i,iab->ab", n, measures.PAULI)
        return [(np.eye(2) + op) / 2, (np.eye(2) - op) / 2]

    out = []
    for a_key, b_key in [("a", "b"), ("a", "b_prime"), ("a_prime", "b"), ("a_prime", "b_prime")]:
        pa, pb = projectors(directions[a_key]), projectors(directions[b_key])
        out.append([np.real(np.trace(rho @ np.kron(x, y))) for x in pa for y in pb])
    return np.array(out)


def test_pauli_probabilities_match_qiskit_basis_rotations():
    for seed in range(5):
        rho = measures.from_qiskit_order(random_density_matrix(4, seed=seed).data)
        np.testing.assert_allclose(
            pauli_probabilities(rho), _qiskit_pauli_probabilities(rho), atol=1e-12
        )


def test_linear_inversion_of_exact_probabilities_recovers_the_state():
    rhos = np.array(
        [measures.from_qiskit_order(random_density_matrix(4, seed=s).data) for s in range(6)]
    )
    probs = np.array([_qiskit_pauli_probabilities(r) for r in rhos])
    np.testing.assert_allclose(linear_inversion(probs), rhos, atol=1e-12)
    np.testing.assert_allclose(fit_state(probs), rhos, atol=1e-10)


def test_linear_inversion_matches_qiskit_experiments_fitter_on_sampled_counts():
    fitters = pytest.importorskip("qiskit_experiments.library.tomography.fitters")
    from qiskit_experiments.library.tomography.basis import PauliMeasurementBasis

    rng = np.random.default_rng(7)
    counts = rng.multinomial(500, pauli_probabilities(theory.state(0.7, 0.4)), size=9)
    qe_index = {"Z": 0, "X": 1, "Y": 2}
    outcome_data = np.zeros((1, 9, 4))
    meas = np.zeros((9, 2), dtype=int)
    for s, label in enumerate(PAULI_SETTINGS):
        meas[s] = [qe_index[label[0]], qe_index[label[1]]]  # qubit 0 = A
        for bit_a in (0, 1):
            for bit_b in (0, 1):
                outcome_data[0, s, bit_a + 2 * bit_b] = counts[s, 2 * bit_a + bit_b]
    raw, meta = fitters.linear_inversion(
        outcome_data, counts.sum(-1), meas, np.zeros((9, 0), dtype=int), PauliMeasurementBasis()
    )
    states, _ = fitters.postprocess_fitter(raw, meta, make_positive=True)
    expected = measures.from_qiskit_order(states[0].data)
    np.testing.assert_allclose(fit_state(counts), expected, atol=1e-10)


def _simplex_projection(values: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the probability simplex (sort-based, Duchi et al. 2008)."""
    u = np.sort(values)[::-1]
    css = np.cumsum(u)
    k = np.arange(1, len(u) + 1)
    rho = np.nonzero(u - (css - 1) / k > 0)[0][-1]
    theta = (css[rho] - 1) / (rho + 1)
    return np.maximum(values - theta, 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.6))
def test_projection_is_the_nearest_density_matrix(seed, spread):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    herm = (g + g.conj().T) / 2
    _, vecs = np.linalg.eigh(herm)
    eigs = rng.dirichlet(np.ones(4)) + spread * rng.normal(size=4)
    eigs += (1 - eigs.sum()) / 4  # unit trace, possibly negative eigenvalues
    h = vecs @ np.diag(eigs) @ vecs.conj().T
    projected = project_to_physical(h)
    expected = vecs @ np.diag(_simplex_projection(eigs)) @ vecs.conj().T
    np.testing.assert_allclose(projected, expected, atol=1e-10)
    assert np.linalg.eigvalsh(projected).min() > -1e-12
    assert np.trace(projected).real == pytest.approx(1.0, abs=1e-12)


def test_projection_agrees_with_qiskit_experiments_make_positive():
    from qiskit_experiments.library.tomography.fitters.postprocess_fit import _make_positive

    rng = np.random.default_rng(3)
    eigs = rng.normal(size=(200, 4)) * 0.4 + 0.25
    eigs += (1 - eigs.sum(-1, keepdims=True)) / 4
    eigs = -np.sort(-eigs, axis=-1)
    ours = np.array(
        [np.sort(np.linalg.eigvalsh(project_to_physical(np.diag(e))))[::-1] for e in eigs]
    )
    theirs = np.array([_make_positive(e) for e in eigs])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_state_tomography_is_batched_seeded_and_reports_json_keys():
    rng = np.random.default_rng(11)
    probs = pauli_probabilities(theory.state(np.array([0.8, 0.9]), 0.6))
    counts = rng.multinomial(400, probs, size=(2, 9))
    target = theory.psi(0.6)
    one = state_tomography(counts, target, n_boot=100, rng=5)
    two = state_tomography(counts, target, n_boot=100, rng=5)
    other = state_tomography(counts, target, n_boot=100, rng=6)
    assert one.state.shape == (2, 4, 4)
    np.testing.assert_array_equal(one.concurrence.ci_low, two.concurrence.ci_low)
    assert not np.array_equal(one.concurrence.ci_low, other.concurrence.ci_low)
    np.testing.assert_allclose(one.concurrence.value, measures.concurrence(fit_state(counts)))
    np.testing.assert_allclose(
        one.fidelity.value, measures.fidelity_pure(target, fit_state(counts)), atol=1e-12
    )
    assert one[1].concurrence.value == one.concurrence.value[1]
    np.testing.assert_array_equal(one[1].state, one.state[1])
    flat = Interval(np.zeros(3), np.zeros(3), np.ones(3))
    assert flat[2].at_boundary == np.False_
    single = state_tomography(counts[0], target, n_boot=100, rng=5)
    assert set(single.to_dict()) == {"concurrence", "eof", "fidelity"}
    for key in ("concurrence", "eof", "fidelity"):
        assert set(single.to_dict()[key]) == {"value", "ci_low", "ci_high"}
        interval = getattr(single, key)
        assert interval.ci_low <= interval.value <= interval.ci_high


def test_state_tomography_rejects_bad_input():
    counts = np.full((9, 4), 10)
    with pytest.raises(ValueError, match="shape"):
        state_tomography(np.ones((8, 4)))
    with pytest.raises(ValueError, match="normalized"):
        state_tomography(counts, target=[1, 1, 0, 0])
    with pytest.raises(ValueError, match="confidence"):
        state_tomography(counts, confidence=1.5)
    with pytest.raises(ValueError, match="interval"):
        state_tomography(counts, interval="magic")


def test_interval_to_dict_adds_at_boundary_only_when_flagged():
    inside = Interval(value=np.float64(0.5), ci_low=np.float64(0.4), ci_high=np.float64(0.6))
    assert set(inside.to_dict()) == {"value", "ci_low", "ci_high"}
    edge = Interval(np.float64(0.0), np.float64(0.0), np.float64(0.1), at_boundary=np.True_)
    assert edge.to_dict()["at_boundary"] is True


# ---------------------------------------------------------------- mutual information


def test_uncorrected_mutual_information_with_known_prior_is_the_plug_in_value():
    counts = np.array([[70, 20, 10], [5, 15, 80]])
    prior = np.array([0.3, 0.7])
    joint = prior[:, None] * counts / counts.sum(-1, keepdims=True)
    est = mutual_information(counts, prior, bias_correction="none", n_boot=50, rng=0)
    assert est.value == pytest.approx(float(measures.mutual_information(joint)), abs=1e-12)


def test_uncorrected_mutual_information_of_joint_counts_is_the_plug_in_value():
    counts = np.array([[[70, 20], [10, 40]], [[5, 15], [80, 1]]])
    est = mutual_information(counts, bias_correction="none", n_boot=50, rng=0)
    np.testing.assert_allclose(est.value, measures.mutual_information(counts), atol=1e-12)


@pytest.mark.parametrize(
    ("channel", "prior"),
    [
        ([[0.9, 0.1], [0.3, 0.7]], [0.4, 0.6]),
        ([[0.7, 0.3], [0.45, 0.55]], [0.5, 0.5]),
        ([[0.97, 0.03], [0.1, 0.9]], [0.3, 0.7]),
    ],
)
def test_miller_madow_removes_most_of_the_exact_known_prior_bias(channel, prior):
    # Exact expectation over every possible data set (two binomial rows of 50 shots). Channels
    # are kept away from I = 0, where clipping the estimate at 0 adds its own upward bias.
    channel, prior, shots = np.array(channel), np.array(prior), 50
    truth = float(measures.mutual_information(prior[:, None] * channel))
    k = np.arange(shots + 1)
    k0, k1 = np.meshgrid(k, k, indexing="ij")
    counts = np.stack([np.stack([k0, shots - k0], -1), np.stack([k1, shots - k1], -1)], -2).reshape(
        -1, 2, 2
    )
    weight = np.outer(binom.pmf(k, shots, channel[0, 0]), binom.pmf(k, shots, channel[1, 0]))
    weight = weight.ravel()
    plug = mutual_information(counts, prior, bias_correction="none", n_boot=10, rng=0).value
    corrected = mutual_information(counts, prior, n_boot=10, rng=0).value
    bias_plug = np.sum(weight * plug) - truth
    bias_corrected = np.sum(weight * corrected) - truth
    assert bias_plug > 0
    assert abs(bias_corrected) < bias_plug / 4


def test_miller_madow_removes_most_of_the_exact_joint_count_bias():
    joint_p = np.array([0.35, 0.15, 0.1, 0.4])
    shots = 40
    grid = [
        (a, b, c, shots - a - b - c)
        for a in range(shots + 1)
        for b in range(shots + 1 - a)
        for c in range(shots + 1 - a - b)
    ]
    counts = np.array(grid, dtype=float)
    weight = multinomial.pmf(counts, shots, joint_p)
    truth = float(measures.mutual_information(joint_p.reshape(2, 2)))
    tables = counts.reshape(-1, 2, 2)
    plug = mutual_information(tables, bias_correction="none", n_boot=10, rng=0).value
    corrected = mutual_information(tables, n_boot=10, rng=0).value
    bias_plug = np.sum(weight * plug) - truth
    assert bias_plug > 0
    assert abs(np.sum(weight * corrected) - truth) < bias_plug / 3


def test_mutual_information_rejects_bad_prior():
    with pytest.raises(ValueError, match="sum to 1"):
        mutual_information([[1, 2], [3, 4]], [0.5, 0.6])
    with pytest.raises(ValueError, match="shape"):
        mutual_information([[1, 2], [3, 4]], [1.0])
    with pytest.raises(ValueError, match="at least one shot"):
        mutual_information([[0, 0], [3, 4]], [0.5, 0.5])
    with pytest.raises(ValueError, match="bias_correction"):
        mutual_information([[1, 2], [3, 4]], [0.5, 0.5], bias_correction="magic")


def test_noiseless_channel_is_flagged_at_the_upper_boundary():
    est = mutual_information([[500, 0], [0, 500]], [0.5, 0.5], rng=0)
    assert est.value == pytest.approx(1.0)
    assert est.at_boundary
