"""qkit.measures against qiskit.quantum_info and QuTiP."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.quantum_info import DensityMatrix, entropy, partial_trace
from qiskit.quantum_info import concurrence as qi_concurrence

from qkit import measures
from tests.conftest import random_density_matrix

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@given(seed=seeds, rank=st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_concurrence_matches_qiskit_and_qutip(seed, rank):
    rho = random_density_matrix(np.random.default_rng(seed), 4, rank)
    ours = float(measures.concurrence(rho))
    # qiskit is little-endian, but concurrence is symmetric under swapping the qubits. Both
    # libraries take square roots of near-zero eigenvalues and lose ~8 digits on low-rank
    # states (see test_concurrence_to_the_last_digit), hence the tolerance.
    assert ours == pytest.approx(qi_concurrence(DensityMatrix(rho)), abs=1e-6)
    assert ours == pytest.approx(
        qutip.concurrence(qutip.Qobj(rho, dims=[[2, 2], [2, 2]])), abs=1e-6
    )


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_concurrence_to_the_last_digit(rank):
    """Against a 50-digit mpmath evaluation of Wootters' definition."""
    mpmath.mp.dps = 50
    for seed in range(5):
        rho = random_density_matrix(np.random.default_rng(seed), 4, rank)
        r = mpmath.matrix(rho.tolist())
        yy = mpmath.matrix(np.kron(measures.PAULI[1], measures.PAULI[1]).tolist())
        eigs = mpmath.eig(r * (yy * r.conjugate() * yy))[0]
        lam = sorted((mpmath.sqrt(max(mpmath.re(x), 0)) for x in eigs), reverse=True)
        exact = float(max(0, lam[0] - lam[1] - lam[2] - lam[3]))
        assert float(measures.concurrence(rho)) == pytest.approx(exact, abs=5e-15)


def test_concurrence_is_vectorized(rng):
    rhos = np.stack([random_density_matrix(rng) for _ in range(7)]).reshape(7, 4, 4)
    batch = measures.concurrence(rhos)
    assert batch.shape == (7,)
    assert np.allclose(batch, [measures.concurrence(r) for r in rhos])


@given(seed=seeds, dim=st.sampled_from([2, 4, 8]))
@settings(max_examples=40, deadline=None)
def test_von_neumann_entropy_matches_qiskit_and_qutip(seed, dim):
    rho = random_density_matrix(np.random.default_rng(seed), dim)
    ours = float(measures.von_neumann_entropy(rho))
    assert ours == pytest.approx(entropy(DensityMatrix(rho), base=2), abs=1e-9)
    assert ours == pytest.approx(qutip.entropy_vn(qutip.Qobj(rho), base=2), abs=1e-9)


@given(seed=seeds)
@settings(max_examples=30, deadline=None)
def test_partial_trace_matches_qiskit(seed):
    rho = random_density_matrix(np.random.default_rng(seed))
    dm = DensityMatrix(rho)  # qiskit's qubit 1 is the most significant: our left factor A
    # Keep A (qiskit qubit 1) -> trace out qiskit qubit 0, and vice versa.
    assert np.allclose(measures.partial_trace(rho, 0), partial_trace(dm, [0]).data, atol=1e-12)
    assert np.allclose(measures.partial_trace(rho, 1), partial_trace(dm, [1]).data, atol=1e-12)


def test_from_qiskit_order_swaps_the_qubits():
    ket01 = np.zeros(4)
    ket01[1] = 1  # |0>_A |1>_B in qkit order
    rho = np.outer(ket01, ket01)
    # In qiskit's labels |B A> the same state is |10> -> index 2.
    assert measures.from_qiskit_order(rho)[2, 2] == 1
    assert np.allclose(measures.from_qiskit_order(measures.from_qiskit_order(rho)), rho)


@given(seed=seeds)
@settings(max_examples=40, deadline=None)
def test_eof_is_monotone_in_concurrence_and_matches_qutip_entropy(seed):
    rng = np.random.default_rng(seed)
    c = np.sort(rng.uniform(0, 1, 20))
    e = measures.eof_from_concurrence(c)
    assert np.all(np.diff(e) >= -1e-12)
    x = (1 + np.sqrt(1 - c[0] ** 2)) / 2
    assert float(e[0]) == pytest.approx(
        qutip.entropy_vn(qutip.Qobj(np.diag([x, 1 - x])), base=2), abs=1e-10
    )


def test_eof_of_pure_state_is_entropy_of_entanglement(rng):
    psi = rng.normal(size=4) + 1j * rng.normal(size=4)
    psi /= np.linalg.norm(psi)
    rho = np.outer(psi, psi.conj())
    reduced = measures.partial_trace(rho, 0)
    assert float(measures.entanglement_of_formation(rho)) == pytest.approx(
        float(measures.von_neumann_entropy(reduced)), abs=1e-9
    )


def _pauli_expectation(rho, i, j):
    return np.real(np.trace(rho @ np.kron(measures.PAULI[i], measures.PAULI[j])))


@given(seed=seeds)
@settings(max_examples=40, deadline=None)
def test_chsh_settings_reach_the_horodecki_bound(seed):
    rho = random_density_matrix(np.random.default_rng(seed), 4, rank=1)
    settings_ = measures.optimal_chsh_settings(rho)

    def correlation(x, y):
        op = np.kron(
            np.einsum("i,iab->ab", x, measures.PAULI), np.einsum("i,iab->ab", y, measures.PAULI)
        )
        return np.real(np.trace(rho @ op))

    a, ap, b, bp = (settings_[k] for k in ("a", "a_prime", "b", "b_prime"))
    value = correlation(a, b) + correlation(a, bp) + correlation(ap, b) - correlation(ap, bp)
    assert value == pytest.approx(float(measures.chsh_max(rho)), abs=1e-9)
    for v in (a, ap, b, bp):
        assert np.linalg.norm(v) == pytest.approx(1.0)


@given(seed=seeds)
@settings(max_examples=20, deadline=None)
def test_no_random_setting_beats_the_horodecki_bound(seed):
    rng = np.random.default_rng(seed)
    rho = random_density_matrix(rng, 4, rank=2)
    t = measures.correlation_matrix(rho)
    dirs = rng.normal(size=(500, 4, 3))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    a, ap, b, bp = (dirs[:, k] for k in range(4))
    e = lambda x, y: np.einsum("ni,ij,nj->n", x, t, y)  # noqa: E731
    values = e(a, b) + e(a, bp) + e(ap, b) - e(ap, bp)
    assert values.max() <= float(measures.chsh_max(rho)) + 1e-12
    assert t[0, 2] == pytest.approx(_pauli_expectation(rho, 0, 2))


def test_holevo_of_orthogonal_states_is_the_shannon_entropy():
    states = np.stack([np.diag(np.eye(3)[k]) for k in range(3)])
    assert float(measures.holevo_chi([0.2, 0.3, 0.5], states)) == pytest.approx(
        float(measures.shannon_entropy([0.2, 0.3, 0.5]))
    )


def test_mutual_information_of_independent_variables_is_zero():
    joint = np.outer([0.3, 0.7], [0.1, 0.5, 0.4])
    assert float(measures.mutual_information(joint)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("c", [1e-12, 1e-6, 0.3, 0.999999])
def test_eof_keeps_every_digit_for_tiny_concurrence(c):
    mpmath.mp.dps = 60
    x = (1 + mpmath.sqrt(1 - mpmath.mpf(c) ** 2)) / 2
    exact = float(-x * mpmath.log(x, 2) - (1 - x) * mpmath.log(1 - x, 2))
    assert float(measures.eof_from_concurrence(c)) == pytest.approx(exact, rel=1e-13, abs=0)
