"""Unit tests of qkit.estimators against independent computations (qiskit.quantum_info,
qiskit-experiments, explicit shot-by-shot averages, brute-force projections, hand-built Pauli
coefficients, the binomial and normal tails, Feldman and Cousins' table).

False-failure rate: none of these tests is statistical. Seeded data go through formulas that
must hold exactly for any data set (tolerances are floating-point ones, with an explicit ``abs``
wherever a value is small), and the one coverage check integrates exactly instead of sampling.
Kept fast (about 20 s) as the selection ``tools/mutate.py`` runs against."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, random_density_matrix, random_statevector
from scipy.stats import beta, binom, multinomial, norm

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
from qkit.estimators.correlators import _violation_test
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
        assert stderr == pytest.approx(np.std(shots) / np.sqrt(len(shots)), rel=1e-12, abs=0)


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
    assert est.stderr == pytest.approx(np.sqrt(np.sum(variances)), rel=1e-12, abs=0)
    assert est.significance == pytest.approx((est.value - 2) / est.stderr, rel=1e-12, abs=0)


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


def test_estimate_to_dict_keys_of_a_correlator_and_of_a_chsh_value():
    assert set(correlator(np.full(4, 25)).to_dict()) == {"value", "stderr"}
    est = chsh(np.full((4, 4), 25))
    assert set(est.to_dict()) == {
        "value",
        "stderr",
        "significance",
        "ci_low",
        "ci_high",
        "lower_bound",
        "violation_p_value",
        "violation_sigma",
        "upper_bound",
        "no_violation_p_value",
        "no_violation_sigma",
    }
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


def test_state_tomography_is_batched_and_reports_json_keys():
    rng = np.random.default_rng(11)
    probs = pauli_probabilities(theory.state(np.array([0.8, 0.9]), 0.6))
    counts = rng.multinomial(400, probs, size=(2, 9))
    target = theory.psi(0.6)
    one = state_tomography(counts, target)
    assert one.state.shape == (2, 4, 4)
    # M[psi_a] in the target's Schmidt basis: the concurrence is the witness's positive part.
    k_hat = (_witness_coefficients(0.6) * counts / 400).sum(axis=(-2, -1))
    np.testing.assert_allclose(one.concurrence.value, np.clip(k_hat, 0, 1), atol=1e-13)
    # The fidelity is the direct linear estimate <target|rho_LI|target>, not the projected one.
    np.testing.assert_allclose(
        one.fidelity.value,
        np.clip(measures.fidelity_pure(target, linear_inversion(counts), trusted=True), 0, 1),
        atol=1e-12,
    )
    assert one[1].concurrence.value == one.concurrence.value[1]
    np.testing.assert_array_equal(one[1].state, one.state[1])
    flat = Interval(np.zeros(3), np.zeros(3), np.ones(3))
    assert flat[2].at_boundary == np.False_
    single = state_tomography(counts[0], target)
    assert set(single.to_dict()) == {"concurrence", "eof", "fidelity"}
    assert set(single.to_dict()["concurrence"]) == {
        "value",
        "ci_low",
        "ci_high",
        "lower_bound",
        "entangled_p_value",
        "entangled_sigma",
        "upper_bound",
        "threshold",
        "below_p_value",
        "below_sigma",
    }
    for key in ("eof", "fidelity"):
        assert set(single.to_dict()[key]) == {"value", "ci_low", "ci_high"}
    for key in ("concurrence", "eof", "fidelity"):
        interval = getattr(single, key)
        assert interval.ci_low <= interval.value <= interval.ci_high


def test_every_point_of_a_batch_equals_the_same_point_computed_alone_bit_for_bit():
    rng = np.random.default_rng(12)
    n = 37  # an odd batch, with pure, separable and boundary points among random ones
    success = np.concatenate([[1.0, 0.9, 0.5, 0.3, 0.36], rng.uniform(0.05, 1, n - 5)])
    amplitude = np.concatenate([[2**-0.5, 0.3, 0.7, 0.7, 2**-0.5], rng.uniform(0, 1, n - 5)])
    counts = rng.multinomial(1000, pauli_probabilities(theory.state(success, amplitude)))
    targets = theory.psi(amplitude)
    seeds = [np.random.SeedSequence([7, i]) for i in range(n)]
    batch = state_tomography(counts, targets, rng=[np.random.default_rng(s) for s in seeds])
    for i in range(n):
        alone = state_tomography(counts[i], targets[i], rng=[np.random.default_rng(seeds[i])])
        assert batch[i].to_dict() == alone.to_dict()
        np.testing.assert_array_equal(batch.state[i], alone.state)
    chsh_counts = rng.multinomial(500, np.full((n, 4, 4), 0.25) + [0.1, -0.1, -0.1, 0.1])
    together = chsh(chsh_counts)
    for i in range(n):
        assert together[i].to_dict() == chsh(chsh_counts[i]).to_dict()
    mi_counts = rng.multinomial(300, [[0.8, 0.2], [0.3, 0.7]], size=(n, 2))
    prior = [0.4, 0.6]
    for kwargs in ({}, {"interval": "percentile", "n_boot": 200}):
        mi = mutual_information(
            mi_counts, prior, rng=[np.random.default_rng(s) for s in seeds], **kwargs
        )
        for i in range(n):
            alone = mutual_information(
                mi_counts[i], prior, rng=[np.random.default_rng(seeds[i])], **kwargs
            )
            assert mi[i].to_dict() == alone.to_dict()


def test_no_interval_mode_gives_the_same_point_estimates_and_nan_intervals():
    rng = np.random.default_rng(13)
    counts = rng.multinomial(500, pauli_probabilities(theory.state(0.7, 0.5)), size=(3, 9))
    full = state_tomography(counts, theory.psi(0.5))
    for cheap in (
        state_tomography(counts, theory.psi(0.5), n_boot=0),
        state_tomography(counts, theory.psi(0.5), intervals=False),
    ):
        for key in ("concurrence", "eof", "fidelity"):
            np.testing.assert_array_equal(getattr(cheap, key).value, getattr(full, key).value)
            assert np.all(np.isnan(getattr(cheap, key).ci_low))
    mi_counts = rng.multinomial(300, [[0.8, 0.2], [0.3, 0.7]], size=(3, 2))
    mi = mutual_information(mi_counts, [0.5, 0.5], n_boot=0)
    np.testing.assert_array_equal(
        mi.value, mutual_information(mi_counts, [0.5, 0.5], n_boot=20, rng=1).value
    )
    assert np.all(np.isnan(mi.ci_high))


def test_concurrence_the_witness_does_not_see_is_read_by_the_witness_in_the_fit_phase():
    # |psi> = a|00> + i b|11> against the target psi_a: C = 2ab, but the witness in the
    # target's basis reads the coherence's real part only (K = 0 < C). Where the fit's
    # concurrence exceeds that witness's by more than z sd, the witness is taken with the fitted
    # rho_03's phase, K' = 2 Re(e^{-i theta} rho_03) - rho_11 - rho_22, which sees all of C
    # (issue #24: adding the projected fit's excess instead covered 0.91 at the upper end).
    a, b = 0.6, 0.8
    psi = np.array([a, 0, 0, 1j * b])
    rho = np.outer(psi, psi.conj())
    counts = np.random.default_rng(3).multinomial(4000, pauli_probabilities(rho), size=(50, 9))
    est = state_tomography(counts, theory.psi(a)).concurrence
    k_hat = (_witness_coefficients(a) * counts / 4000).sum(axis=(-2, -1))
    fit = fit_state(counts)
    seen = np.maximum(np.einsum("ab,nba->n", _witness_operator(a), fit).real, 0)
    unseen = measures.concurrence(fit) - seen
    # (seeded; 0 of 200 redraws of the 50 data sets failed this)
    assert np.all(unseen > 0.9) and np.all(k_hat < 0.1)
    theta = np.angle(fit[:, 0, 3])  # rho_03 = <00|rho|11> = -0.48 i
    assert np.all(np.abs(theta + np.pi / 2) < 0.1)
    coeff = _aligned_witness_coefficients(theta)
    k_aligned = (coeff * counts / 4000).sum(axis=(-2, -1))
    smooth = (counts + 0.5) / 4002.0
    sd = np.sqrt(_multinomial_variance(coeff, smooth, 4000))
    np.testing.assert_allclose(est.stderr, sd, rtol=1e-12)
    k_fit = 2 * np.abs(fit[:, 0, 3]) - fit[:, 1, 1].real - fit[:, 2, 2].real
    excess = measures.concurrence(fit) - np.maximum(k_fit, 0)
    added = np.where(excess > norm.ppf(0.975) * sd, excess, 0.0)
    np.testing.assert_allclose(est.value, np.maximum(k_aligned, 0) + added, atol=1e-12)
    # (seeded; a 95% interval covers 2ab = 0.96 in 94.4% of data sets (measured, 4000
    # redraws); fewer than 41 of 50 has probability 4e-4 per redraw)
    assert np.mean((est.ci_low <= 2 * a * b) & (2 * a * b <= est.ci_high)) >= 0.82
    assert np.all(est.ci_low > 0.85)  # the aligned witness's lower end: C is seen
    # The fitted state's eigenvector gives the right basis when no target is given.
    free = state_tomography(counts).concurrence
    assert np.all(np.abs(free.value - 2 * a * b) < 0.05)  # 0 of 200 redraws failed (seeded)
    # (seeded; redrawn, a 95% interval would cover fewer than 45 of 50 with probability 0.04,
    # worse than 1e-3; measured: coverage 0.948, 19 of 400 redraws below 45 of 50)
    assert np.mean((free.ci_low <= 2 * a * b) & (2 * a * b <= free.ci_high)) >= 0.9


@given(
    success=st.floats(0.05, 1.0),
    amplitude=st.floats(0.0, 1.0),
    shots=st.sampled_from([10, 100, 1000]),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=60, deadline=None)
def test_intervals_lie_in_the_physical_range_and_contain_their_estimate(
    success, amplitude, shots, seed
):
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(shots, pauli_probabilities(theory.state(success, amplitude)))
    est = state_tomography(counts, theory.psi(amplitude))
    for key in ("concurrence", "eof", "fidelity"):
        i = getattr(est, key)
        assert 0.0 <= i.ci_low <= i.value <= i.ci_high <= 1.0, key
    assert 0.0 <= est.concurrence.lower_bound <= est.concurrence.value
    assert 0.0 <= est.concurrence.entangled_p_value <= 1.0
    chsh_counts = rng.multinomial(shots, np.full((4, 4), 0.25) + [0.2, -0.2, -0.2, 0.2])
    c = chsh(chsh_counts)
    assert -2 * np.sqrt(2) <= c.ci_low <= c.value <= c.ci_high <= 2 * np.sqrt(2)
    assert c.lower_bound <= c.value


CHSH_COUNTS = np.array(
    [[400, 100, 100, 400], [420, 80, 80, 420], [380, 120, 120, 380], [90, 410, 410, 90]]
)
CHSH_WINS = 800 + 840 + 760 + 820  # of 4000 shots


def test_chsh_violation_p_value_is_the_binomial_tail_of_the_wins():
    # Equal shots: CHSH = 2 W / N - 4 for W wins out of 4 N; p = P(Bin(4N, 3/4) >= W).
    est = chsh(CHSH_COUNTS)
    wins = CHSH_WINS
    assert est.value == pytest.approx(2 * wins / 1000 - 4, abs=1e-14)
    p = binom.sf(wins - 1, 4000, 0.75)
    assert 1e-20 < p < 1e-12  # abs=0 below: approx's default abs=1e-12 would pass any p
    assert est.violation_p_value == pytest.approx(p, rel=1e-9, abs=0)
    assert est.violation_sigma == pytest.approx(norm.isf(p), rel=1e-9, abs=0)
    # The opposite claim CHSH >= 2: the lower binomial tail, here near 1 (sigma 0).
    assert est.no_violation_p_value == pytest.approx(binom.cdf(wins, 4000, 0.75), abs=1e-15)
    assert est.no_violation_sigma == 0.0
    # One-sided Clopper-Pearson bounds, then kept outside the two-sided interval.
    _, lower, _, upper = _violation_test(
        CHSH_COUNTS.astype(float), np.full(4, 1000.0), np.asarray(est.value), 0.05
    )
    q_low = beta.ppf(0.05, wins, 4000 - wins + 1)
    q_high = beta.isf(0.05, wins + 1, 4000 - wins)
    assert lower == pytest.approx(8 * q_low - 4, rel=1e-9, abs=0)
    assert upper == pytest.approx(8 * q_high - 4, rel=1e-9, abs=0)
    assert est.lower_bound == min(lower, est.ci_low)
    assert est.upper_bound == max(upper, est.ci_high)
    assert 2.0 < est.lower_bound <= est.ci_low < est.value < est.ci_high <= est.upper_bound


def test_chsh_no_violation_is_shown_for_a_local_pair():
    # Mirror the counts about the local bound: 2 W' / N - 4 = 2 - (CHSH - 2), W' = 6000 - W.
    counts = CHSH_COUNTS.copy()
    counts[:3] = [[300, 200, 200, 300], [280, 220, 220, 280], [320, 180, 180, 320]]
    wins = 600 + 560 + 640 + 820
    est = chsh(counts)
    assert est.value == pytest.approx(2 * wins / 1000 - 4, abs=1e-14)
    p = binom.cdf(wins, 4000, 0.75)
    assert 1e-300 < p < 1e-12
    assert est.no_violation_p_value == pytest.approx(p, rel=1e-9, abs=0)
    assert est.no_violation_sigma == pytest.approx(norm.isf(p), rel=1e-9, abs=0)
    assert est.violation_p_value == pytest.approx(binom.sf(wins - 1, 4000, 0.75), abs=1e-15)
    assert est.violation_sigma == 0.0
    assert est.upper_bound < 2.0


def test_chsh_with_unequal_shots_uses_hoeffdings_inequality():
    counts = CHSH_COUNTS * np.array([1, 2, 1, 1])[:, None]
    est = chsh(counts)
    spread = 4 / 1000 + 4 / 2000 + 4 / 1000 + 4 / 1000
    excess = float(est.value) - 2.0
    assert excess > 0.3
    assert est.violation_p_value == pytest.approx(np.exp(-2 * excess**2 / spread), rel=1e-12, abs=0)
    assert est.no_violation_p_value == 1.0
    margin = np.sqrt(spread * np.log(20) / 2)
    assert est.lower_bound == pytest.approx(min(est.value - margin, est.ci_low), rel=1e-12, abs=0)
    assert est.upper_bound == pytest.approx(max(est.value + margin, est.ci_high), rel=1e-12, abs=0)
    # A local pair (CHSH = 1.24) with the same unequal shots: the test of CHSH >= 2.
    local = np.array([[300, 200, 200, 300], [280, 220, 220, 280], [320, 180, 180, 320]])
    mirrored = chsh(np.concatenate([local, CHSH_COUNTS[3:]]) * np.array([1, 2, 1, 1])[:, None])
    deficit = 2.0 - float(mirrored.value)
    assert deficit == pytest.approx(0.76, abs=1e-12)
    assert mirrored.no_violation_p_value == pytest.approx(
        np.exp(-2 * deficit**2 / spread), rel=1e-12, abs=0
    )
    assert mirrored.upper_bound == pytest.approx(
        max(mirrored.value + margin, mirrored.ci_high), rel=1e-12, abs=0
    )
    assert mirrored.violation_p_value == 1.0


def test_state_tomography_rejects_bad_input():
    counts = np.full((9, 4), 10)
    with pytest.raises(ValueError, match="shape"):
        state_tomography(np.ones((8, 4)))
    with pytest.raises(ValueError, match="normalized"):
        state_tomography(counts, target=[1, 1, 0, 0])
    with pytest.raises(ValueError, match="confidence"):
        state_tomography(counts, confidence=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        state_tomography(counts, n_boot=3)
    with pytest.raises(ValueError, match="rng"):
        state_tomography(np.full((2, 9, 4), 10), rng=[np.random.default_rng(1)])


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


def test_x_part_witness_is_a_lower_bound_on_the_concurrence_and_exact_at_the_target():
    from qkit.estimators.tomography import _x_part_witness

    def witness(psi, rho):
        probs = pauli_probabilities(rho)[None]
        value, _ = _x_part_witness(None, psi[None], probs, np.full((1, 9), 1e6))
        return float(value[0])

    for seed in range(20):
        psi = random_statevector(4, seed=seed).data
        assert witness(psi, np.outer(psi, psi.conj())) == pytest.approx(
            float(measures.concurrence(np.outer(psi, psi.conj()))), abs=1e-9
        )
        sigma = random_density_matrix(4, seed=100 + seed).data
        assert witness(psi, sigma) <= float(measures.concurrence(sigma)) + 1e-12
    for success, amplitude in [(0.8, 0.6), (0.3, 0.3), (1.0, 0.1), (0.36, 2**-0.5)]:
        rho = theory.state(success, amplitude)  # M[psi_a]: the bound is the concurrence itself
        assert witness(theory.psi(amplitude), rho) == pytest.approx(
            float(theory.concurrence(success, amplitude)), abs=1e-9
        )


def test_chsh_interval_is_the_normal_interval_of_add_one_smoothed_correlators():
    counts = np.array([[30, 5, 3, 62], [50, 0, 0, 50], [12, 40, 38, 10], [5, 45, 41, 9]])
    est = chsh(counts, confidence=0.9)
    shots = counts.sum(-1)
    raw = float(np.sum(np.array([1, 1, 1, -1]) * (counts @ PARITY) / shots))
    even = counts[:, 0] + counts[:, 3]
    smooth = 2 * (even + 1) / (shots + 2) - 1
    sd = np.sqrt(np.sum((1 - smooth**2) / shots))
    z = norm.ppf(0.95)
    assert est.value == pytest.approx(raw, abs=1e-14)
    assert est.ci_low == pytest.approx(raw - z * sd, abs=1e-13)
    assert est.ci_high == pytest.approx(raw + z * sd, abs=1e-13)
    # The unsmoothed standard error: setting 2 agreed on every shot, so it adds nothing.
    e = (counts @ PARITY) / shots
    assert est.stderr == pytest.approx(np.sqrt(np.sum((1 - e**2) / shots)), abs=1e-14)
    assert est.significance == pytest.approx((raw - 2) / float(est.stderr), abs=1e-12)
    assert not est.at_boundary
    assert est.confidence == 0.9


def test_chsh_beyond_tsirelson_is_clipped_and_flagged():
    # Counts no quantum state gives (every setting agreeing with its sign): raw CHSH = 4.
    counts = np.array([[100, 0, 0, 0]] * 3 + [[0, 100, 0, 0]])
    est = chsh(counts)
    tsirelson = 2 * np.sqrt(2)
    assert est.value == est.ci_high == est.upper_bound == pytest.approx(tsirelson, abs=1e-15)
    assert est.ci_low <= est.value and est.at_boundary
    assert est.stderr == 0 and est.significance == np.inf
    # Just inside the range the interval is not flagged; exactly 2 with no spread: 0 sigma.
    exactly_two = np.array([[100, 0, 0, 0]] * 4)
    assert chsh(exactly_two).significance == 0.0
    assert chsh(np.array([[0, 100, 0, 0]] * 3 + [[100, 0, 0, 0]])).significance == -np.inf
    inside = chsh(np.array([[80, 20, 20, 80]] * 3 + [[20, 80, 80, 20]]))
    assert inside.ci_high < tsirelson and not inside.at_boundary
    low = chsh(np.array([[0, 100, 0, 0]] * 3 + [[100, 0, 0, 0]]))
    assert low.value == low.ci_low == pytest.approx(-tsirelson, abs=1e-15)


def test_chsh_is_batched_point_by_point_with_distinct_win_counts():
    counts = np.stack([CHSH_COUNTS, CHSH_COUNTS[:, [1, 0, 3, 2]], CHSH_COUNTS])
    est = chsh(counts)
    alone = [chsh(c) for c in counts]
    for name in ("violation_p_value", "lower_bound", "no_violation_p_value", "upper_bound"):
        np.testing.assert_array_equal(getattr(est, name), [getattr(a, name) for a in alone])
    assert est.violation_p_value[0] < 1e-12 < est.violation_p_value[1]


def test_sigma_of_p_values_is_the_normal_quantile_from_the_log():
    from qkit.estimators.correlators import sigma_of

    p = np.array([0.3, 0.5, 0.6, 1e-10, 0.0])
    np.testing.assert_allclose(sigma_of(p)[:4], [norm.isf(0.3), 0, 0, norm.isf(1e-10)], rtol=1e-12)
    assert sigma_of(p)[4] == pytest.approx(norm.isf(1e-300), rel=1e-12, abs=0)
    # Below the smallest double: the normal tail log Q(z) = -z^2/2 - log(z sqrt(2 pi)) - 1/z^2.
    z = float(sigma_of(0.0, log_p=-2000.0))
    assert -(z**2) / 2 - np.log(z * np.sqrt(2 * np.pi)) - 1 / z**2 == pytest.approx(-2000, abs=1e-4)
    assert sigma_of(0.7, log_p=np.log(0.7)) == 0.0


def _witness_operator(a: float) -> np.ndarray:
    """``K = |00><11| + |11><00| - |01><01| - |10><10|`` (psi_a is in its Schmidt basis)."""
    op = np.zeros((4, 4))
    op[0, 3] = op[3, 0] = 1.0
    op[1, 1] = op[2, 2] = -1.0
    return op


def _witness_coefficients(a: float) -> np.ndarray:
    """Hand-built g[s, o] with ``K(rho_LI) = (<XX> - <YY> + <ZZ> - 1) / 2 = sum g * freqs``."""
    corr = np.array([1.0, -1.0, -1.0, 1.0])
    g = np.full((9, 4), -0.5 / 9)  # the constant -1/2, spread over the nine settings
    g[0] += corr / 2  # XX
    g[4] -= corr / 2  # YY
    g[8] += corr / 2  # ZZ
    return g


def _aligned_witness_coefficients(theta: np.ndarray) -> np.ndarray:
    """Hand-built g[..., s, o] for ``K' = 2 Re(e^{-i theta} rho_03) - rho_11 - rho_22``.

    ``rho_03 = (<XX> - <YY> - i <XY> - i <YX>) / 4`` and ``rho_11 + rho_22 = (1 - <ZZ>) / 2``.
    """
    theta = np.asarray(theta, float)[..., None, None]
    corr = np.array([1.0, -1.0, -1.0, 1.0])
    g = np.broadcast_to(np.full((9, 4), -0.5 / 9), (*theta.shape[:-2], 9, 4)).copy()
    for s, sign in ((0, 1.0), (4, -1.0)):  # XX, YY
        g[..., s, :] += sign * np.cos(theta[..., 0]) * corr / 2
    for s in (1, 3):  # XY, YX
        g[..., s, :] -= np.sin(theta[..., 0]) * corr / 2
    g[..., 8, :] += corr / 2  # ZZ
    return g


def _multinomial_variance(g: np.ndarray, probs: np.ndarray, shots: int) -> np.ndarray:
    """Variance of ``sum g * frequencies`` for nine independent multinomial settings."""
    mean = np.sum(g * probs, axis=-1)
    return np.sum(np.sum(g * g * probs, axis=-1) - mean * mean, axis=-1) / shots


def _fidelity_coefficients(a: float) -> np.ndarray:
    """Hand-built g[s, o] with <psi_a|rho_LI|psi_a> = sum g * frequencies, psi_a real.

    ``F = (1 + (a^2 - b^2)(<ZI> + <IZ>) + <ZZ>) / 4 + a b (<XX> - <YY>) / 2``; local terms are
    averaged over the three settings that measure them (settings s = 3 i + j over X, Y, Z).
    """
    b = np.sqrt(1 - a * a)
    s_a, s_b = np.array([1, 1, -1, -1]), np.array([1, -1, 1, -1])
    g = np.full((9, 4), 1 / 36)
    for s in (6, 7, 8):
        g[s] += (a * a - b * b) / 4 * s_a / 3
    for s in (2, 5, 8):
        g[s] += (a * a - b * b) / 4 * s_b / 3
    g[8] += s_a * s_b / 4
    g[0] += a * b / 2 * s_a * s_b
    g[4] -= a * b / 2 * s_a * s_b
    return g


def test_tomography_intervals_bounds_and_tests_follow_their_formulas():
    a, shots = 0.6, np.array([1000, 1000, 1000, 1000, 800, 1000, 1000, 1000, 1200])
    rng = np.random.default_rng(12)
    probs = pauli_probabilities(theory.state(0.8, a))
    counts = np.array([rng.multinomial(n, p) for n, p in zip(shots, probs, strict=True)])
    est = state_tomography(counts, theory.psi(a), confidence=0.9, threshold=0.7)
    freqs = counts / shots[:, None]
    z = norm.ppf(0.95)
    # Fidelity: the linear estimate and its add-half smoothed multinomial variance.
    g = _fidelity_coefficients(a)
    raw = float(np.sum(g * freqs))
    smooth = (counts + 0.5) / (shots[:, None] + 2)
    var = np.sum((np.sum(g * g * smooth, -1) - np.sum(g * smooth, -1) ** 2) / shots)
    assert est.fidelity.value == pytest.approx(raw, abs=1e-13)
    assert est.fidelity.ci_low == pytest.approx(raw - z * np.sqrt(var), abs=1e-13)
    assert est.fidelity.ci_high == pytest.approx(raw + z * np.sqrt(var), abs=1e-13)
    assert not est.fidelity.at_boundary and est.fidelity.confidence == 0.9
    # The witness K = (<XX> - <YY> + <ZZ> - 1) / 2 (= C on M[psi_a]) and Hoeffding's bound:
    # every shot of XX, YY, ZZ moves K_hat within a range of width 1 / N_s.
    corr = (counts @ np.array([1, -1, -1, 1])) / shots
    k_hat = (corr[0] - corr[4] + corr[8] - 1) / 2
    spread = 1 / shots[0] + 1 / shots[4] + 1 / shots[8]
    c = est.concurrence
    assert c.entangled_p_value == pytest.approx(np.exp(-2 * k_hat**2 / spread), rel=1e-9, abs=0)
    assert c.entangled_sigma == pytest.approx(norm.isf(c.entangled_p_value), rel=1e-9, abs=0)
    margin = np.sqrt(spread * np.log(1 / 0.1) / 2)
    assert c.lower_bound == pytest.approx(min(k_hat - margin, c.ci_low), abs=1e-13)
    # The delta interval (an interior state: the projection moved nothing) and C < 0.7.
    assert c.ci_low == pytest.approx(c.value - z * c.stderr, abs=1e-13)
    assert c.ci_high == pytest.approx(c.value + z * c.stderr, abs=1e-13)
    assert c.upper_bound == c.ci_high and c.threshold == 0.7
    below = norm.cdf((c.value - 0.7) / c.stderr)
    assert 1e-6 < below < 0.5
    assert c.below_p_value == pytest.approx(below, rel=1e-9, abs=0)
    assert c.below_sigma == pytest.approx(norm.isf(below), rel=1e-9, abs=0)
    assert not c.at_boundary
    np.testing.assert_allclose(est.eof.ci_low, measures.eof_from_concurrence(c.ci_low))
    np.testing.assert_allclose(est.eof.ci_high, measures.eof_from_concurrence(c.ci_high))


def test_edges_of_the_tomography_intervals():
    # A Bell pair's exact statistics: C = f = 1 reached, both flagged; no spread in K_hat.
    bell = theory.state(1.0, theory.BELL_AMPLITUDE)
    counts = np.round(1000 * pauli_probabilities(bell))
    est = state_tomography(counts, theory.psi(theory.BELL_AMPLITUDE), threshold=1.0)
    assert est.concurrence.value == pytest.approx(1.0, abs=1e-9)
    assert est.concurrence.ci_high == 1.0 and est.concurrence.at_boundary
    # Feldman-Cousins at f <= 1: an upper end at 1 and an honest two-sided reading (no flag).
    assert est.fidelity.ci_high == 1.0 and not est.fidelity.at_boundary
    assert est.fidelity.ci_low < 1.0
    assert est.concurrence.below_p_value == pytest.approx(0.5, abs=1e-5)  # C_hat = c = 1
    assert est.concurrence.below_sigma == pytest.approx(0.0, abs=1e-5)
    # A product state: C = 0, the interval reaches 0 (flagged), no evidence of entanglement.
    product = np.zeros((4, 4))
    product[0, 0] = 1.0
    est = state_tomography(np.round(1000 * pauli_probabilities(product)), threshold=0.5)
    assert est.concurrence.ci_low == 0.0 and est.concurrence.at_boundary
    assert est.concurrence.entangled_p_value == 1.0 and est.concurrence.entangled_sigma == 0.0
    assert est.concurrence.lower_bound == 0.0
    assert est.concurrence.below_p_value < 1e-6
    with pytest.raises(ValueError, match="threshold"):
        state_tomography(counts, threshold=1.5)
    with pytest.raises(ValueError, match="threshold"):
        state_tomography(counts, threshold=-0.1)


def test_feldman_cousins_interval_matches_the_paper_and_covers_exactly():
    from qkit.estimators import boundary

    # Feldman and Cousins (1998), Table X (95% C.L., Gaussian mean >= 0).
    x = np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0])
    lo, hi = boundary.interval(x, 0.95)
    np.testing.assert_allclose(lo, [0, 0, 0, 0, 0.35, 1.14, 3.04], atol=0.006)
    np.testing.assert_allclose(hi, [0.42, 1.10, 1.96, 2.96, 3.96, 4.96, 6.96], atol=0.006)
    # Far from the bound (beyond the tabulated nu) it is the usual x -/+ z.
    lo, hi = boundary.interval(np.array([25.0, 8.0]), 0.95)
    np.testing.assert_allclose([lo[0], hi[0]], [25 - 1.959964, 25 + 1.959964], atol=1e-6)
    np.testing.assert_allclose([lo[1], hi[1]], [8 - 1.959964, 8 + 1.959964], atol=1e-3)
    # Exact coverage (a quadrature over x, no sampling) at nu on and near the bound.
    grid = np.linspace(-12, 22, 340_001)
    lo, hi = boundary.interval(grid, 0.9)
    assert np.all(lo <= hi) and np.all(lo >= 0) and np.all(np.diff(lo) >= 0)
    for nu in (0.0, 0.2, 0.9, 1.6, 3.0, 15.0):
        inside = (lo <= nu) & (nu <= hi)
        cover = np.sum(norm.pdf(grid - nu) * inside) * (grid[1] - grid[0])
        assert cover == pytest.approx(0.9, abs=2e-3), nu


def test_near_pure_and_few_shot_concurrence_intervals_and_the_threshold_range():
    # A pure state's data: the linear witness is unbiased there (the projection onto physical
    # states, which biased C(rho_hat) low, plays no part), so the interval is K_hat -/+ z sd
    # far from both bounds, with nothing flagged.
    rng = np.random.default_rng(21)
    probs = pauli_probabilities(theory.state(1.0, 0.5))
    counts = rng.multinomial(1000, probs, size=(20, 9))
    est = state_tomography(counts, theory.psi(0.5), threshold=0.8)
    c, z = est.concurrence, norm.ppf(0.975)
    g = _witness_coefficients(0.5)
    k_hat = np.sum(g * counts / 1000, axis=(-2, -1))
    smooth = (counts + 0.5) / 1002
    var = np.sum((np.sum(g * g * smooth, -1) - np.sum(g * smooth, -1) ** 2) / 1000, -1)
    np.testing.assert_allclose(c.stderr, np.sqrt(var), rtol=1e-12)
    np.testing.assert_allclose(c.value, k_hat, atol=1e-13)
    np.testing.assert_allclose(c.ci_low, k_hat - z * c.stderr, atol=1e-12)
    np.testing.assert_allclose(c.ci_high, k_hat + z * c.stderr, atol=1e-12)
    np.testing.assert_allclose(c.below_p_value, norm.cdf((k_hat - 0.8) / c.stderr), rtol=1e-9)
    assert not np.any(c.at_boundary)
    # The linear fidelity goes above 1 in about half the data sets: value 1, upper end 1.
    # P(raw > 1) = 0.504 (measured): all 20 on one side has probability 2e-6 (6 data sets, as
    # before, gave 0.03); fidelity.ci_low > 0.9 failed in none of 2400 redrawn data sets.
    g = _fidelity_coefficients(0.5)
    raw = np.sum(g * counts / 1000, axis=(-2, -1))
    assert np.any(raw > 1) and np.any(raw < 1)
    np.testing.assert_allclose(est.fidelity.value, np.minimum(raw, 1.0), atol=1e-13)
    assert np.all(est.fidelity.ci_high[raw > 1] == 1.0)
    assert np.all(est.fidelity.ci_low < est.fidelity.value) and np.all(est.fidelity.ci_low > 0.9)
    # Few shots at C = 0.1: the interval reaches 0 and is flagged there. (The seed chooses a data
    # set in this case: a redraw of 20 shots a setting lands in it with probability ~0.37, so
    # the data are an input, not a statistical claim; given them, the checks are exact.)
    probs = pauli_probabilities(theory.state(0.4, theory.BELL_AMPLITUDE))
    few = np.random.default_rng(1).multinomial(20, probs)
    small = state_tomography(few, theory.psi(theory.BELL_AMPLITUDE)).concurrence
    assert small.value > 0.1 and small.value - z * small.stderr < 0
    assert small.ci_low == 0.0 and small.at_boundary
    # ... and its ends are Feldman and Cousins' for K_hat / sd (lower end 0 up to x = 1.64).
    from qkit.estimators import boundary

    fc_low, fc_high = boundary.interval(small.value / small.stderr, 0.95)
    assert small.ci_high == pytest.approx(float(fc_high) * small.stderr, rel=1e-12, abs=0)
    assert fc_low == 0.0 and small.value / small.stderr < 1.64
    # The threshold of C < c is a concurrence: both ends allowed, nothing beyond.
    for c_ok in (0.0, 1.0):
        assert state_tomography(few, threshold=c_ok).concurrence.threshold == c_ok
    for c_bad in (-1e-9, 1.0 + 1e-9):
        with pytest.raises(ValueError, match="threshold"):
            state_tomography(few, threshold=c_bad)


def test_point_estimate_flags_and_the_witness_basis_without_a_target():
    # Without intervals: the flags say where the estimate sits on its bound.
    product = np.zeros((4, 4))
    product[0, 0] = 1.0
    counts = np.round(1000 * pauli_probabilities(product))
    est = state_tomography(counts, intervals=False)
    assert est.concurrence.value == 0.0 and est.concurrence.at_boundary and est.eof.at_boundary
    rng = np.random.default_rng(5)
    sampled = rng.multinomial(1000, pauli_probabilities(theory.state(1.0, 0.5)), size=(20, 9))
    raw = np.sum(_fidelity_coefficients(0.5) * sampled / 1000, axis=(-2, -1))
    fid = state_tomography(sampled, theory.psi(0.5), intervals=False).fidelity
    # P(raw > 1) = 0.504: all 20 on one side has probability 2e-6 (8 data sets gave 8e-3)
    assert np.any(raw > 1) and np.any(raw < 1 - 1e-9)
    np.testing.assert_allclose(fid.value, np.clip(raw, 0, 1), atol=1e-13)
    np.testing.assert_array_equal(fid.at_boundary, raw >= 1)
    for scale in (1 - 1e-4, 1 + 1e-4):  # a target must be normalized
        with pytest.raises(ValueError, match="normalized"):
            state_tomography(sampled, theory.psi(0.5) * scale)
    assert state_tomography(sampled[0], theory.psi(0.5) * (1 + 5e-9)).fidelity is not None
    # Without a target the witness is taken in the Schmidt basis of the fitted state's leading
    # eigenvector: for Bell data that is the Bell state, the same test as with the target.
    bell = np.round(1000 * pauli_probabilities(theory.state(0.9, theory.BELL_AMPLITUDE)))
    with_target = state_tomography(bell, theory.psi(theory.BELL_AMPLITUDE)).concurrence
    without = state_tomography(bell).concurrence
    assert without.lower_bound == pytest.approx(float(with_target.lower_bound), abs=1e-9)
    assert without.entangled_sigma == pytest.approx(float(with_target.entangled_sigma), abs=1e-6)


def test_fidelity_with_an_orthogonal_target_is_feldman_cousins_at_zero():
    # Bell pairs measured against |01>: f = 0, the linear estimate scatters around 0. The
    # interval is Feldman-Cousins at the bound f >= 0 there: never zero width (the bound f <= 1
    # alone gave [0, 0] to 2.2% of data sets), and f = 0 excluded only where raw / sd passes
    # its region's end z_0.95 (5%). 4000 data sets: the band [0.93, 0.97] is 5.9 binomial sd
    # from 0.95 on each side, a false-failure rate below 1e-8.
    rng = np.random.default_rng(8)
    counts = rng.multinomial(400, pauli_probabilities(theory.state(1.0, 0.6)), size=(4000, 9))
    target = np.array([0, 1, 0, 0], dtype=complex)
    projector = np.zeros((4, 4))
    projector[1, 1] = 1.0
    raw = np.real(np.einsum("ab,...ba->...", projector, linear_inversion(counts)))
    for intervals in (True, False):
        fid = state_tomography(counts, target, intervals=intervals).fidelity
        np.testing.assert_allclose(fid.value, np.maximum(raw, 0), atol=1e-13)
    fid = state_tomography(counts, target).fidelity
    assert np.all(fid.ci_high > fid.ci_low) and np.all(fid.ci_low <= fid.value)
    assert np.all(fid.value <= fid.ci_high)
    assert 0.93 <= np.mean(fid.ci_low == 0.0) <= 0.97
    np.testing.assert_array_equal(fid.at_boundary, fid.ci_low <= 0.0)
    # the upper end of a raw estimate far below 0 is Feldman-Cousins' small upper limit
    lowest = np.argmin(raw)
    assert raw[lowest] < -0.01 and 0.0 < fid.ci_high[lowest] < 0.01


def test_concurrence_flags_and_bounds_just_above_zero_follow_their_formulas():
    # Exact statistics (rounded counts) of mixed-up Bell pairs with 0 < C < 0.2: the interval's
    # lower end and the one-sided bound sit strictly between 0 and 0.1, nothing is flagged.
    bell = theory.psi(theory.BELL_AMPLITUDE)
    counts = np.round(4000 * pauli_probabilities(theory.state(0.4, theory.BELL_AMPLITUDE)))
    est = state_tomography(counts, bell)
    c = est.concurrence
    assert 0.0 < c.ci_low < 0.1 and not c.at_boundary and not est.eof.at_boundary
    few = np.round(400 * pauli_probabilities(theory.state(0.47, theory.BELL_AMPLITUDE)))
    c = state_tomography(few, bell).concurrence
    k_hat = float(np.sum(_witness_coefficients(0.5) * few / 400))
    margin = np.sqrt(3 / 400 * np.log(20) / 2)  # XX, YY, ZZ: ranges 1 / 400 each
    assert 0.0 < k_hat - margin < 0.1 < c.ci_low
    assert c.lower_bound == pytest.approx(k_hat - margin, abs=1e-13)
    # Without intervals the flags mark an estimate on a bound: C = 0 or C = 1, not C = 0.05.
    for success, flagged in ((0.37, False), (0.3, True), (1.0, True)):
        probs = pauli_probabilities(theory.state(success, theory.BELL_AMPLITUDE))
        point = state_tomography(np.round(4000 * probs), bell, intervals=False)
        assert bool(point.concurrence.at_boundary) == flagged == bool(point.eof.at_boundary)
        assert success != 0.37 or 0 < point.concurrence.value < 0.1
    # A target's norm is checked to 1e-8.
    with pytest.raises(ValueError, match="normalized"):
        state_tomography(counts, bell * (1 + 1.05e-8))
    assert state_tomography(counts, bell * (1 - 0.95e-8)).fidelity is not None


def test_fidelity_just_above_zero_is_a_two_sided_interval():
    # Bell pairs against a target with f = 0.05: the lower end is above 0, nothing flagged.
    target = np.array([np.sqrt(0.1), np.sqrt(0.9), 0, 0], dtype=complex)  # f = 0.05
    counts = np.round(4000 * pauli_probabilities(theory.state(1.0, theory.BELL_AMPLITUDE)))
    fid = state_tomography(counts, target).fidelity
    assert fid.value == pytest.approx(0.05, abs=1e-3)
    assert 0.0 < fid.ci_low < 0.05 < fid.ci_high < 0.1 and not fid.at_boundary


def test_the_phase_switch_counts_from_z_sd_on_and_the_estimate_stays_in_range():
    # A small phase on |11>: the fit's concurrence exceeds the target's witness K by about z sd,
    # and the fitted coherence |rho_03| - Re rho_03 that K misses is near z of its sd, so some
    # data sets switch to the witness in the fitted phase K' and some do not; at confidence
    # 0.9 the cut is z = 1.645 sd.
    a, phase = 0.6, 0.07
    psi = np.array([a, 0, 0, np.exp(1j * phase) * np.sqrt(1 - a * a)])
    probs = pauli_probabilities(np.outer(psi, psi.conj()))
    counts = np.random.default_rng(4).multinomial(1000, probs, size=(300, 9))
    c = state_tomography(counts, theory.psi(a), confidence=0.9, threshold=0.95).concurrence
    z = norm.ppf(0.95)
    smooth = (counts + 0.5) / 1002.0
    fixed = _witness_coefficients(a)
    k_hat = np.sum(fixed * counts / 1000, axis=(-2, -1))
    sd = np.sqrt(_multinomial_variance(fixed, smooth, 1000))
    fit = fit_state(counts)
    c_fit = measures.concurrence(fit)
    k_fit = 2 * fit[:, 0, 3].real - fit[:, 1, 1].real - fit[:, 2, 2].real
    k_fit_a = 2 * np.abs(fit[:, 0, 3]) - fit[:, 1, 1].real - fit[:, 2, 2].real
    aligned = _aligned_witness_coefficients(np.angle(fit[:, 0, 3]))
    k_a = np.sum(aligned * counts / 1000, axis=(-2, -1))
    sd_a = np.sqrt(_multinomial_variance(aligned, smooth, 1000))
    sd_gap = np.sqrt(_multinomial_variance(aligned - fixed, smooth, 1000))
    switch = (c_fit - np.maximum(k_fit, 0) > z * sd) | (k_fit_a - k_fit > z * sd_gap)
    assert 0.1 < np.mean(switch) < 0.9  # 0.38 per set (20,000 redraws): 1e-30 (seeded)
    excess_a = c_fit - np.maximum(k_fit_a, 0)
    added = np.where(switch & (excess_a > z * sd_a), excess_a, 0.0)
    k = np.where(switch, k_a, k_hat)
    np.testing.assert_allclose(c.stderr, np.where(switch, sd_a, sd), rtol=1e-12)
    np.testing.assert_allclose(c.value, np.maximum(k, 0) + added, atol=1e-12)
    below = norm.cdf((k + added - 0.95) / c.stderr)
    assert np.any(below < 0.3) and np.any(below > 0.7)  # 3.2% and 80% per set: 6e-5
    np.testing.assert_allclose(c.below_p_value, below, rtol=1e-9, atol=0)
    # Bell pairs with a phase 1.2 on |11>: C = 1, the target's witness sees cos(1.2) = 0.36 of
    # it, the witness in the fitted phase nearly all; the estimate is capped at 1.
    psi = np.array([1, 0, 0, np.exp(1.2j)]) / np.sqrt(2)
    probs = pauli_probabilities(np.outer(psi, psi.conj()))
    counts = np.random.default_rng(5).multinomial(4000, probs, size=(200, 9))
    c = state_tomography(counts, theory.psi(theory.BELL_AMPLITUDE)).concurrence
    assert np.all(c.value <= 1.0) and np.all(c.ci_high <= 1.0) and np.any(c.value == 1.0)
    np.testing.assert_array_equal(c.at_boundary, c.ci_high >= 1.0)
    # Seeded. Redrawn (4000 data sets): the smallest value was 0.981, and the upper end reaches
    # C = 1 in 95.2% (Feldman-Cousins at the bound: the 5% all at that end; before issue #24's
    # fix, 100%), so fewer than 180 of 200 has probability 7e-4.
    assert np.all(c.value > 0.97) and np.mean(c.ci_high == 1.0) >= 0.9


def test_bounded_feldman_cousins_interval_covers_exactly_on_both_bounds_and_between():
    from qkit.estimators import boundary

    # Exact coverage (quadrature over the estimate) at theta on 0, near it, in the middle, near
    # and on 1, for sd = 0.01: the nearer bound's Feldman-Cousins reading, 95% everywhere.
    sd = 0.01
    grid = np.linspace(-0.2, 1.2, 280_001)
    lo, hi = boundary.bounded_interval(grid, np.full_like(grid, sd), 0.95)
    assert np.all((0 <= lo) & (lo <= hi) & (hi <= 1))
    for theta in (0.0, 0.004, 0.03, 0.5, 0.97, 0.996, 1.0):
        inside = (lo <= theta) & (theta <= hi)
        cover = np.sum(norm.pdf(grid, theta, sd) * inside) * (grid[1] - grid[0])
        assert cover == pytest.approx(0.95, abs=2e-3), theta
    # The reading switches at 1/2; with a wide sd the far ends meet the opposite bound.
    for estimate, upper in ((0.52, True), (0.48, False)):
        x = (1 - estimate if upper else estimate) / 0.2
        near, far = boundary.interval(np.array(x), 0.95)
        lo, hi = boundary.bounded_interval(np.array(estimate), np.array(0.2), 0.95)
        want = (1 - 0.2 * far, 1 - 0.2 * near) if upper else (0.2 * near, 0.2 * far)
        assert (lo, hi) == pytest.approx(want, abs=1e-12)
    lo, hi = boundary.bounded_interval(np.array([0.6, 0.4]), np.array([0.5, 0.5]), 0.95)
    assert lo.tolist() == [0.0, 0.0] and hi.tolist() == [1.0, 1.0]


def test_the_standard_normal_is_scipy_stats_norm_bit_for_bit():
    """qkit.estimators._normal spares the import of scipy.stats: the same doubles everywhere."""
    from scipy.stats import norm as scipy_norm

    from qkit.estimators._normal import norm

    x = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    q = np.concatenate([np.linspace(0, 1, 4001), [1e-300, 1 - 1e-16, -0.5, 1.5, np.nan]])
    for ours, theirs, arg in (
        (norm.cdf, scipy_norm.cdf, x),
        (norm.sf, scipy_norm.sf, x),
        (norm.logcdf, scipy_norm.logcdf, x),
        (norm.ppf, scipy_norm.ppf, q),
        (norm.isf, scipy_norm.isf, q),
    ):
        np.testing.assert_array_equal(ours(arg), theirs(arg))
        assert ours(0.3) == theirs(0.3)


def test_estimating_a_point_imports_no_scipy_stats():
    """scipy.stats costs ~0.35 s of every `qkit run`; the run path's estimators do without it."""
    code = (
        "import sys; import qkit.estimators, qkit.runner, qkit.mixup.experiment, "
        "qkit.channel.experiment, qkit.survey.layout; "
        "print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
