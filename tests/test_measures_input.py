"""Inputs of qkit.measures and the theory modules: what users hold is accepted, bad input refused.

Accepted: numpy arrays, nested lists, qiskit.quantum_info DensityMatrix/Statevector and QuTiP
Qobj kets and density matrices; values are compared with qiskit.quantum_info and QuTiP.
Refused, with one line naming the argument: wrong shapes, NaN/inf, non-Hermitian, non-unit-trace,
non-positive states and probabilities that are negative or do not sum to 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import qiskit.quantum_info as qi
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st

from qkit import measures
from qkit._states import as_density_matrix, as_state_vector
from qkit._validate import check_density_matrix
from qkit.channel import theory as channel_theory
from qkit.mixup import theory as mixup_theory
from tests.conftest import random_density_matrix

seeds = st.integers(min_value=0, max_value=2**32 - 1)
BELL = np.zeros((4, 4))
BELL[0, 0] = BELL[0, 3] = BELL[3, 0] = BELL[3, 3] = 0.5


def random_ket(rng: np.random.Generator, dim: int = 4) -> np.ndarray:
    psi = rng.normal(size=dim) + 1j * rng.normal(size=dim)
    return psi / np.linalg.norm(psi)


def qutip_dm(rho: np.ndarray) -> qutip.Qobj:
    return qutip.Qobj(rho, dims=[[2, 2], [2, 2]])


def qiskit_dm(rho: np.ndarray) -> qi.DensityMatrix:
    """The qkit-order state ``rho`` as a Qiskit DensityMatrix (qkit's left qubit = qubit 0)."""
    return qi.DensityMatrix(measures.from_qiskit_order(rho))


# --- accepted inputs ----------------------------------------------------------------------


def test_concurrence_of_a_qutip_bell_state():
    assert float(measures.concurrence(qutip.ket2dm(qutip.bell_state("00")))) == pytest.approx(1.0)
    assert float(measures.concurrence(qutip.bell_state("00"))) == pytest.approx(1.0)


@given(seed=seeds, rank=st.integers(1, 4))
@settings(max_examples=30, deadline=None)
def test_every_input_type_gives_the_ndarray_value_and_the_libraries_value(seed, rank):
    rho = random_density_matrix(np.random.default_rng(seed), 4, rank)
    expected = float(measures.concurrence(rho))
    for held in (rho.tolist(), qutip_dm(rho), qiskit_dm(rho), qi.DensityMatrix(rho)):
        assert float(measures.concurrence(held)) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(qi.concurrence(qi.DensityMatrix(rho)), abs=1e-6)
    assert expected == pytest.approx(qutip.concurrence(qutip_dm(rho)), abs=1e-6)
    eof = float(measures.entanglement_of_formation(qutip_dm(rho)))
    assert eof == pytest.approx(qi.entanglement_of_formation(qi.DensityMatrix(rho)), abs=1e-5)
    entropy = float(measures.von_neumann_entropy(qiskit_dm(rho)))
    assert entropy == pytest.approx(qi.entropy(qi.DensityMatrix(rho), base=2), abs=1e-9)
    assert entropy == pytest.approx(qutip.entropy_vn(qutip_dm(rho), base=2), abs=1e-9)
    assert float(measures.chsh_max(qutip_dm(rho))) == pytest.approx(
        float(measures.chsh_max(rho)), abs=1e-12
    )


@given(seed=seeds)
@settings(max_examples=30, deadline=None)
def test_kets_give_their_projector(seed):
    rng = np.random.default_rng(seed)
    psi = random_ket(rng)
    rho = np.outer(psi, psi.conj())
    expected = float(measures.concurrence(rho))
    sv = qi.Statevector(psi.reshape(2, 2).T.ravel())  # qkit |a b> -> qiskit index b*2 + a
    assert float(measures.concurrence(sv)) == pytest.approx(expected, abs=1e-12)
    assert float(measures.concurrence(qutip.Qobj(psi, dims=[[2, 2], [1]]))) == pytest.approx(
        expected, abs=1e-12
    )
    assert expected == pytest.approx(qi.concurrence(qi.Statevector(psi)), abs=1e-6)
    # fidelity with a Statevector, against qiskit
    sigma = random_density_matrix(rng)
    ours = float(measures.fidelity_pure(sv, qiskit_dm(sigma)))
    assert ours == pytest.approx(float(measures.fidelity_pure(psi, sigma)), abs=1e-12)
    assert ours == pytest.approx(qi.state_fidelity(sv, qiskit_dm(sigma)), abs=1e-9)


@given(seed=seeds)
@settings(max_examples=30, deadline=None)
def test_qiskit_states_are_read_with_qubit_0_as_the_left_factor(seed):
    """Asymmetric quantities: the reduced state and T_ij = <sigma_i(q0) sigma_j(q1)>."""
    rho = random_density_matrix(np.random.default_rng(seed))
    dm = qiskit_dm(rho)
    assert np.allclose(measures.partial_trace(dm, 0), qi.partial_trace(dm, [1]).data, atol=1e-12)
    assert np.allclose(measures.partial_trace(dm, 1), qi.partial_trace(dm, [0]).data, atol=1e-12)
    labels = "XYZ"
    expected = np.array(
        [
            [dm.expectation_value(qi.Pauli(labels[j] + labels[i])).real for j in range(3)]
            for i in range(3)
        ]
    )  # Pauli label order: qubit 1 first, qubit 0 last
    assert np.allclose(measures.correlation_matrix(dm), expected, atol=1e-12)
    assert np.allclose(measures.correlation_matrix(rho), expected, atol=1e-12)
    assert np.allclose(measures.partial_trace(qutip_dm(rho), 0), qutip_dm(rho).ptrace(0).full())


def test_holevo_chi_takes_a_list_of_qutip_states_and_matches_the_arrays(rng):
    states = [random_density_matrix(rng, 2) for _ in range(3)]
    p = [0.2, 0.3, 0.5]
    expected = float(measures.holevo_chi(p, np.array(states)))
    for held in ([qutip.Qobj(s) for s in states], np.array([qutip.Qobj(s) for s in states])):
        assert float(measures.holevo_chi(p, held)) == pytest.approx(expected, abs=1e-12)
    average = qutip.Qobj(np.einsum("k,kab->ab", p, states))
    by_qutip = qutip.entropy_vn(average, 2) - sum(
        w * qutip.entropy_vn(qutip.Qobj(s), 2) for w, s in zip(p, states, strict=True)
    )
    assert expected == pytest.approx(by_qutip, abs=1e-9)


def test_theory_functions_accept_qiskit_and_qutip_states(rng):
    rho = random_density_matrix(rng)
    for held in (qutip_dm(rho), rho.tolist()):
        assert np.allclose(mixup_theory.mixup(held, 0.4), mixup_theory.mixup(rho, 0.4))
        assert float(channel_theory.werner_parameter(held)) == pytest.approx(
            float(channel_theory.werner_parameter(rho)), abs=1e-12
        )
    singlet = qi.Statevector([0, 1, -1, 0] / np.sqrt(2))
    assert float(channel_theory.werner_parameter(singlet)) == pytest.approx(1.0)
    assert check_density_matrix(qutip.Qobj(np.eye(9) / 9), dim=9).shape == (9, 9)


def test_trusted_skips_the_checks_and_gives_the_same_values(rng):
    rhos = np.array([random_density_matrix(rng) for _ in range(50)])
    for f in (measures.concurrence, measures.chsh_max, measures.von_neumann_entropy):
        assert np.array_equal(f(rhos, trusted=True), f(rhos))
    # the caller vouches for the input: no check, no exception
    assert np.isfinite(measures.concurrence(2 * BELL, trusted=True))
    assert float(measures.shannon_entropy([0.5, 0.25], trusted=True)) == pytest.approx(1.0)


# --- refused inputs -----------------------------------------------------------------------

NON_HERMITIAN = np.diag([1.0, 0, 0, 0]).astype(complex)
NON_HERMITIAN[0, 1] = 0.2
NAN = BELL.copy()
NAN[1, 2] = np.nan
INF = BELL.copy()
INF[0, 0] = np.inf
BAD_STATES = [
    (2 * BELL, r"must have unit trace \(got trace 2\)"),
    (NON_HERMITIAN, r"must be Hermitian \(max \|rho - rho\^dagger\| = 0\.2\)"),
    (np.diag([1.5, -0.5, 0, 0]), r"must be positive semidefinite \(min eigenvalue -0\.5\)"),
    (NAN, "must be finite"),
    (INF, "must be finite"),
    (np.eye(3) / 3, r"must have shape \(\.\.\., 4, 4\), got \(3, 3\)"),
    (np.ones(4) / 2, r"must have shape \(\.\.\., 4, 4\), got \(4,\)"),
    ([[1, 0], [0]], "must be a density matrix"),
    ("bell", "must be a density matrix"),
    (np.array([["a", "b"], ["c", "d"]]), "must be a density matrix"),
    (qi.Operator(np.eye(4)), "must be a state, got qiskit Operator"),
    (qutip.to_super(qutip.qeye([2, 2])), "must be a ket or a density matrix"),
    (qi.DensityMatrix(2 * BELL), "must have unit trace"),
    (qutip.Qobj(np.diag([1.5, -0.5, 0, 0])), "must be positive semidefinite"),
]
STATE_FUNCTIONS = [
    measures.concurrence,
    measures.entanglement_of_formation,
    measures.chsh_max,
    measures.correlation_matrix,
    measures.optimal_chsh_settings,
    lambda rho: measures.partial_trace(rho, 0),
    measures.von_neumann_entropy,
    lambda rho: measures.fidelity_pure([1, 0, 0, 0], rho),
    channel_theory.werner_parameter,
    channel_theory.embed_two_photon,
    lambda rho: mixup_theory.mixup(rho, 0.5),
    check_density_matrix,
]


def _one_line_naming(name: str, pattern: str, call) -> None:
    with pytest.raises(ValueError, match=rf"^{name}(?!\w).*{pattern}") as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("bad", "pattern"), BAD_STATES)
@pytest.mark.parametrize("function", STATE_FUNCTIONS)
def test_invalid_states_are_refused_in_one_line_naming_rho(function, bad, pattern):
    if function is measures.von_neumann_entropy and "4, 4" in pattern:
        pattern = r"must have shape \(\.\.\., d, d\)"
        if np.ndim(bad) == 2:  # any square size is a state for the entropy: I/3 has log2 3
            assert float(function(bad)) == pytest.approx(np.log2(3))
            return
    _one_line_naming("rho", pattern, lambda: function(bad))


def test_the_reported_example_values_are_refused():
    for function in (measures.concurrence, measures.von_neumann_entropy, measures.chsh_max):
        _one_line_naming("rho", "unit trace", lambda f=function: f(2 * BELL))
    _one_line_naming(
        "probabilities",
        r"sum to 1 \(got 0\.5\)",
        lambda: measures.holevo_chi([0.25, 0.25], [np.eye(2) / 2, np.eye(2) / 2]),
    )
    _one_line_naming(
        "probabilities",
        r"non-negative \(got -0\.5\)",
        lambda: measures.shannon_entropy([1.5, -0.5]),
    )
    _one_line_naming("rho", "Hermitian", lambda: channel_theory.werner_parameter(NON_HERMITIAN))
    _one_line_naming("rho", "unit trace", lambda: channel_theory.werner_parameter(np.zeros((4, 4))))
    _one_line_naming("rho", "finite", lambda: channel_theory.werner_parameter(NAN))


def test_the_bad_member_of_a_stack_is_named_by_index(rng):
    stack = np.array([random_density_matrix(rng) for _ in range(5)])
    stack[3] *= 1.5
    _one_line_naming(
        r"rho\[3\]", r"unit trace \(got trace 1\.5\)", lambda: measures.concurrence(stack)
    )
    states = [qutip.Qobj(np.eye(2) / 2), qutip.Qobj(np.diag([2.0, 0.0]))]
    _one_line_naming(r"states\[1\]", "unit trace", lambda: measures.holevo_chi([0.5, 0.5], states))


@pytest.mark.parametrize(
    ("call", "name", "pattern"),
    [
        (lambda: measures.shannon_entropy([0.5, 0.6]), "probabilities", "sum to 1"),
        (lambda: measures.shannon_entropy([np.nan, 1.0]), "probabilities", "finite"),
        (lambda: measures.shannon_entropy(0.5), "probabilities", "scalar"),
        (lambda: measures.shannon_entropy(["a", "b"]), "probabilities", "array of probabilities"),
        (lambda: measures.holevo_chi([0.5, 0.5], np.eye(2) / 2), "states", "shape"),
        (lambda: measures.holevo_chi([-0.5, 1.5], [np.eye(2) / 2] * 2), "probabilities", "non-neg"),
        (lambda: measures.mutual_information([[0.5, -0.1], [0.1, 0.5]]), "joint", "non-negative"),
        (lambda: measures.mutual_information([[0.0, 0.0], [0.0, 0.0]]), "joint", "positive total"),
        (lambda: measures.mutual_information([[np.nan, 0.0], [0.0, 1.0]]), "joint", "finite"),
        (lambda: measures.mutual_information([0.5, 0.5]), "joint", "shape"),
        (lambda: measures.binary_entropy(1.5), "x", r"\[0, 1\]"),
        (lambda: measures.binary_entropy(np.nan), "x", "nan"),
        (lambda: measures.eof_from_concurrence(2.0), "c", r"\[0, 1\]"),
        (lambda: measures.fidelity_pure([1, 1, 0, 0], BELL), "psi", "normalized"),
        (lambda: measures.fidelity_pure([1, 0, 0], BELL), "rho", r"\(\.\.\., 3, 3\)"),
        (lambda: measures.fidelity_pure(qutip.ket2dm(qutip.basis(2, 0)), BELL), "psi", "vector"),
        (lambda: measures.from_qiskit_order(np.eye(2)), "rho", "shape"),
        (lambda: as_state_vector(np.ones((2, 0))), "psi", "shape"),
    ],
)
def test_invalid_probabilities_and_vectors_are_refused(call, name, pattern):
    _one_line_naming(name, pattern, call)


@given(seed=seeds, scale=st.floats(1e-6, 10.0), sign=st.sampled_from([-1.0, 1.0]))
@settings(max_examples=60, deadline=None)
def test_any_non_hermitian_or_non_normalised_state_is_refused(seed, scale, sign):
    rng = np.random.default_rng(seed)
    rho = random_density_matrix(rng)
    noise = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    anti = noise - noise.conj().T  # anti-Hermitian: moves rho off the Hermitian matrices
    anti *= scale / np.abs(anti).max()
    with pytest.raises(ValueError, match="^rho must be Hermitian"):
        measures.concurrence(rho + anti)
    factor = 1.0 + sign * scale / 10.0
    if abs(factor - 1.0) > 1e-7 and factor != 0:
        with pytest.raises(ValueError, match="^rho must have unit trace"):
            measures.chsh_max(factor * rho)


@given(seed=seeds, depth=st.floats(1e-6, 1.0))
@settings(max_examples=60, deadline=None)
def test_any_state_with_a_negative_eigenvalue_is_refused(seed, depth):
    rng = np.random.default_rng(seed)
    vecs = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))[0]
    eigs = np.append(rng.dirichlet(np.ones(3)) * (1 + depth), -depth)  # unit trace, Hermitian
    rho = (vecs * eigs) @ vecs.conj().T
    with pytest.raises(ValueError, match="^rho must be positive semidefinite"):
        measures.von_neumann_entropy(rho)


@given(p=st.lists(st.floats(-1.0, 2.0), min_size=1, max_size=6))
@settings(max_examples=100, deadline=None)
def test_shannon_entropy_takes_exactly_the_probability_vectors(p):
    valid = min(p) >= -1e-9 and abs(sum(p) - 1.0) <= 1e-9
    if valid:
        value = float(measures.shannon_entropy(p))
        assert 0.0 <= value <= np.log2(len(p)) + 1e-12
        assert value == pytest.approx(qi.shannon_entropy(np.clip(p, 0, None)), abs=1e-9)
    else:
        with pytest.raises(ValueError, match="^probabilities must"):
            measures.shannon_entropy(p)


@given(seed=seeds)
@settings(max_examples=20, deadline=None)
def test_valid_states_are_returned_unchanged(seed):
    rng = np.random.default_rng(seed)
    rhos = np.array([random_density_matrix(rng, 4, rank) for rank in (1, 2, 4)])
    assert np.array_equal(as_density_matrix(rhos, "rho", 4), rhos)
    psi = random_ket(rng, 3)
    assert np.array_equal(as_state_vector(psi, "psi", 3), psi)


def test_the_light_modules_import_neither_qiskit_nor_qutip():
    code = (
        "import sys, qkit.measures, qkit._states, qkit._validate, qkit.mixup.theory, "
        "qkit.channel.theory; print(sorted(m for m in ('qiskit', 'qutip', 'scipy.stats', "
        "'matplotlib') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"
