"""Repeater-chain theory: swapping, dephasing and DEJMPS against explicit 16x16 density
matrices and against Qiskit's ``quantum_info`` (deferred measurement), the twirled closed forms,
the reach of a chain, the rounds a target needs, and input validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from qkit import measures
from qkit.distill import theory as distill
from qkit.mixup import theory as mixup
from qkit.repeater import theory
from tests.conftest import random_density_matrix

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
PHI_PLUS = np.array([1, 0, 0, 1]) / np.sqrt(2)
BELL_VECTORS = {  # independent of qkit's tables
    "Phi+": np.array([1, 0, 0, 1]) / np.sqrt(2),
    "Phi-": np.array([1, 0, 0, -1]) / np.sqrt(2),
    "Psi+": np.array([0, 1, 1, 0]) / np.sqrt(2),
    "Psi-": np.array([0, 1, -1, 0]) / np.sqrt(2),
}
CORRECTIONS = {"Phi+": I2, "Phi-": Z, "Psi+": X, "Psi-": Y}  # textbook teleportation


def kron(*ops: np.ndarray) -> np.ndarray:
    out = np.eye(1)
    for op in ops:
        out = np.kron(out, op)
    return out


def trace_middle(rho16: np.ndarray) -> np.ndarray:
    """Keep qubits 0 and 3 of a 4-qubit (16x16) density matrix."""
    r = rho16.reshape([2] * 8)
    return np.einsum("abcdebcg->adeg", r).reshape(4, 4)


def trace_last_two(rho16: np.ndarray) -> np.ndarray:
    r = rho16.reshape(4, 4, 4, 4)
    return np.einsum("ajbj->ab", r)


def explicit_swap(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Bell measurement on qubits 1, 2 of left ⊗ right, Pauli on qubit 3, outcomes summed."""
    four = np.kron(left, right)
    out = np.zeros((4, 4), dtype=complex)
    for name, vec in BELL_VECTORS.items():
        proj = kron(I2, np.outer(vec, vec.conj()), I2)
        fix = kron(I2, I2, I2, CORRECTIONS[name])
        out += trace_middle(fix @ proj @ four @ proj @ fix.conj().T)
    return out


def rx(angle: float) -> np.ndarray:
    return expm(-0.5j * angle * X)


def cnot(control: int, target: int) -> np.ndarray:
    """CNOT on 4 qubits (qubit 0 the most significant), as a permutation matrix."""
    out = np.zeros((16, 16))
    for i in range(16):
        bits = [(i >> (3 - q)) & 1 for q in range(4)]
        bits[target] ^= bits[control]
        out[int("".join(map(str, bits)), 2), i] = 1
    return out


def explicit_dejmps(rho: np.ndarray) -> tuple[float, np.ndarray]:
    """DEJMPS on rho ⊗ rho, qubits (A1, B1, A2, B2): rotations, two CNOTs, keep agreeing Z."""
    u = kron(rx(np.pi / 2), rx(-np.pi / 2), rx(np.pi / 2), rx(-np.pi / 2))
    c = cnot(0, 2) @ cnot(1, 3)
    evolved = c @ u @ np.kron(rho, rho) @ u.conj().T @ c.T
    kept = np.zeros((4, 4), dtype=complex)
    for m in (0, 1):
        ket = np.zeros(4)
        ket[3 * m] = 1  # |mm> on (A2, B2)
        proj = np.kron(np.eye(4), np.outer(ket, ket))
        kept += trace_last_two(proj @ evolved @ proj)
    p = float(np.real(np.trace(kept)))
    return p, kept / p


def explicit_dephase(rho: np.ndarray, p: float) -> np.ndarray:
    for op in (np.kron(Z, I2), np.kron(I2, Z)):
        rho = (1 - p) * rho + p * op @ rho @ op
    return rho


def explicit_chain(link: np.ndarray, levels: int, rounds: int, p: float):
    state, probabilities = link, []
    for level in range(levels + 1):
        if level:
            state = explicit_swap(state, state)
        state = explicit_dephase(state, p)
        for _ in range(rounds):
            pk, state = explicit_dejmps(state)
            probabilities.append(pk)
    return state, probabilities


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261207)


# --- the operations, against explicit matrices and Qiskit ------------------------------------


def test_swap_matches_explicit_bell_projections_for_random_states(rng):
    for rank in (1, 2, 3, 4):
        left, right = random_density_matrix(rng, rank=rank), random_density_matrix(rng, rank=4)
        np.testing.assert_allclose(theory.swap(left, right), explicit_swap(left, right), atol=1e-13)


def test_swap_outcome_probabilities_are_the_explicit_ones(rng):
    left, right = random_density_matrix(rng, rank=2), random_density_matrix(rng, rank=3)
    four = np.kron(left, right)
    expected = [
        np.real(np.trace(kron(I2, np.outer(v, v.conj()), I2) @ four))
        for v in (BELL_VECTORS[k] for k in distill.BELL_NAMES)
    ]
    np.testing.assert_allclose(theory.swap_probabilities(left, right), expected, atol=1e-13)


def test_swap_matches_qiskit_deferred_measurement_circuit(rng):
    """Independent: Qiskit evolves the Bell measurement (CX, H) and controlled corrections."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import DensityMatrix, partial_trace

    circuit = QuantumCircuit(4)  # qubits 0 = A, 1 = B1, 2 = B2, 3 = C
    circuit.cx(1, 2)
    circuit.h(1)
    circuit.cx(2, 3)  # X^{m2}
    circuit.cz(1, 3)  # Z^{m1}
    for _ in range(3):
        left, right = random_density_matrix(rng, rank=2), random_density_matrix(rng, rank=4)
        state = DensityMatrix(measures.from_qiskit_order(right)).tensor(
            DensityMatrix(measures.from_qiskit_order(left))
        )  # tensor puts its argument on the low qubits: left on (0, 1), right on (2, 3)
        out = partial_trace(state.evolve(circuit), [1, 2])
        np.testing.assert_allclose(
            theory.swap(left, right), measures.from_qiskit_order(out.data), atol=1e-12
        )


def test_perfect_pairs_swap_to_a_perfect_pair_for_every_outcome():
    bell = np.outer(PHI_PLUS, PHI_PLUS)
    four = np.kron(bell, bell)
    for k, vec in enumerate(theory.BELL_BASIS):
        proj = kron(I2, np.outer(vec, vec.conj()), I2)
        fix = kron(I2, I2, I2, theory.SWAP_CORRECTIONS[k])
        out = trace_middle(fix @ proj @ four @ proj @ fix.conj().T)
        np.testing.assert_allclose(out / np.trace(out), bell, atol=1e-15)


def test_swapping_with_a_perfect_pair_teleports_the_other_pair(rng):
    bell = np.outer(PHI_PLUS, PHI_PLUS)
    rho = random_density_matrix(rng, rank=3)
    np.testing.assert_allclose(theory.swap(rho, bell), rho, atol=1e-13)


def test_dephasing_matches_explicit_kraus_operators(rng):
    rho = random_density_matrix(rng, rank=4)
    for p in (0.0, 0.1, 0.37, 0.5):
        np.testing.assert_allclose(theory.dephase(rho, p), explicit_dephase(rho, p), atol=1e-15)


def test_dejmps_round_used_by_the_chain_matches_explicit_cnots(rng):
    rho = random_density_matrix(rng, rank=3)
    p, out = distill.dejmps_round(rho)
    p_num, out_num = explicit_dejmps(rho)
    assert p == pytest.approx(p_num, abs=1e-13)
    np.testing.assert_allclose(out, out_num, atol=1e-13)


@pytest.mark.parametrize(
    ("levels", "rounds", "dephasing"), [(1, 0, 0.0), (1, 1, 0.07), (2, 2, 0.03)]
)
def test_chain_matches_explicit_16x16_computation_for_random_links(rng, levels, rounds, dephasing):
    link = random_density_matrix(rng, rank=3)
    rho, p = theory.chain_state_from(link, 2**levels, rounds, dephasing)
    rho_num, p_num = explicit_chain(link, levels, rounds, dephasing)
    np.testing.assert_allclose(rho, rho_num, atol=1e-12)
    np.testing.assert_allclose(p, p_num, atol=1e-12)
    assert len(p) == (levels + 1) * rounds


def test_chain_of_mixed_up_pairs_matches_explicit_computation():
    for s, a, k, dephasing in ((0.9, 0.7, 1, 0.02), (0.6, 0.4, 2, 0.0), (0.3, 0.25, 0, 0.1)):
        rho, p = theory.chain_state(4, s, a, k, dephasing)
        rho_num, p_num = explicit_chain(mixup.state(s, a), 2, k, dephasing)
        np.testing.assert_allclose(rho, rho_num, atol=1e-12)
        np.testing.assert_allclose(p, p_num, atol=1e-12)


def test_single_link_is_the_delivered_pair_and_the_prefixes_are_the_shorter_chains():
    rho, p = theory.chain_state(1, 0.8, 0.6)
    np.testing.assert_allclose(rho, mixup.state(0.8, 0.6), atol=1e-15)
    assert p == []
    states, probabilities = theory.chain_levels(mixup.state(0.8, 0.6), 5, 1, 0.01)
    for level in range(6):
        rho, p = theory.chain_state(2**level, 0.8, 0.6, 1, 0.01)
        np.testing.assert_allclose(states[level], rho, atol=1e-14)
        np.testing.assert_allclose(probabilities[: level + 1].ravel(), p, atol=1e-14)


# --- the record -----------------------------------------------------------------------------


def test_chain_record_keys_values_and_yield():
    record = theory.chain(2, 0.85, 0.6, rounds=1, dephasing=0.01)
    assert (
        tuple(record)
        == theory.CHAIN_KEYS
        == (
            "links",
            "success",
            "amplitude",
            "rounds",
            "dephasing",
            "fidelity",
            "concurrence",
            "eof",
            "chsh_max",
            "yield",
            "success_probabilities",
        )
    )
    rho, p = explicit_chain(mixup.state(0.85, 0.6), 1, 1, 0.01)
    assert record["fidelity"] == pytest.approx(np.real(PHI_PLUS @ rho @ PHI_PLUS), abs=1e-12)
    assert record["concurrence"] == pytest.approx(float(measures.concurrence(rho)), abs=1e-12)
    assert record["eof"] == pytest.approx(float(measures.entanglement_of_formation(rho)), abs=1e-12)
    assert record["chsh_max"] == pytest.approx(float(measures.chsh_max(rho)), abs=1e-12)
    # 2 links, each level-0 pair costs 2/p0 links, the top pair 2/p1 level-1 pairs
    assert record["yield"] == pytest.approx(1 / (2 * (2 / p[0]) * (2 / p[1])), rel=1e-12, abs=0)
    assert record["success_probabilities"] == pytest.approx(p, abs=1e-12)


def test_perfect_links_give_perfect_pairs_at_every_distance():
    for links in (1, 2, 64, 1024):
        record = theory.chain(links, 1.0, 2**-0.5, rounds=1)
        assert record["fidelity"] == pytest.approx(1.0, abs=1e-12)
        assert record["chsh_max"] == pytest.approx(2 * np.sqrt(2), abs=1e-12)
        assert record["yield"] == pytest.approx(
            1 / (links * 2 ** (links.bit_length())), rel=1e-12, abs=0
        )


def test_a_million_links_cost_21_levels():
    record = theory.chain(2**20, 0.99, 2**-0.5, rounds=3, dephasing=1e-4)
    assert len(record["success_probabilities"]) == 21 * 3
    assert 0.25 <= record["fidelity"] <= 1


# --- twirled closed forms -------------------------------------------------------------------


def test_bell_diagonal_chain_follows_the_closed_form_recurrences(rng):
    weights = rng.dirichlet(np.ones(4) * 0.5, size=5)
    weights[:, 0] += 1.5
    weights /= weights.sum(axis=1, keepdims=True)
    states, p = theory.chain_levels(distill.bell_diagonal_state(weights), 4, 2, 0.02)
    w_closed, p_closed = theory.bell_diagonal_chain_levels(weights, 4, 2, 0.02)
    np.testing.assert_allclose(distill.bell_weights(states), w_closed, atol=1e-12)
    np.testing.assert_allclose(p, p_closed, atol=1e-12)


def test_bell_diagonal_swap_and_werner_swap_agree_with_the_matrices(rng):
    for f1, f2 in ((0.9, 0.8), (0.6, 0.99), (0.25, 0.7)):
        left = distill.bell_diagonal_state(distill.werner_weights(f1))
        right = distill.bell_diagonal_state(distill.werner_weights(f2))
        out = theory.swap(left, right)
        assert distill.bell_fidelity(out) == pytest.approx(theory.werner_swap(f1, f2), abs=1e-14)
        np.testing.assert_allclose(
            distill.bell_weights(out),
            theory.bell_diagonal_swap(distill.werner_weights(f1), distill.werner_weights(f2)),
            atol=1e-14,
        )


def test_werner_chain_fidelity_closed_form():
    for f, levels, dephasing in ((0.95, 3, 0.0), (0.9, 5, 0.01), (0.8, 2, 0.2)):
        link = distill.bell_diagonal_state(distill.werner_weights(f))
        states, _ = theory.chain_levels(link, levels, 0, dephasing)
        expected = theory.werner_chain_fidelity(f, 2 ** np.arange(levels + 1), dephasing)
        np.testing.assert_allclose(distill.bell_fidelity(states), expected, atol=1e-13)


def test_mixed_up_bell_pairs_are_werner_with_w_equal_to_s():
    s = 0.93
    rho, _ = theory.chain_state(8, s, 2**-0.5)
    assert distill.bell_fidelity(rho) == pytest.approx(0.25 + 0.75 * s**8, abs=1e-13)


# --- reach and rounds -----------------------------------------------------------------------


@pytest.mark.parametrize("s", [0.5, 0.8, 0.9, 0.97, 0.995])
def test_reach_of_undistilled_werner_links_is_the_closed_form_distance(s):
    f = 0.25 + 0.75 * s  # M[Phi+] is Werner with w = S
    for criterion, distance in (
        ("entangled", theory.werner_entanglement_distance(f)),
        ("chsh", theory.werner_chsh_distance(f)),
    ):
        reach = theory.reach(s, 2**-0.5, criterion=criterion)
        expected = 0 if distance < 1 else 2 ** int(np.floor(np.log2(distance - 1e-12)))
        if distance < 1:
            assert reach == 0
        else:
            assert reach == expected, (criterion, float(distance))
            assert reach < distance <= 2 * reach or (reach == 1 and distance <= 2)


def test_reach_agrees_with_brute_force_over_the_prefixes():
    for s, a, k, dephasing in ((0.8, 0.5, 0, 0.0), (0.7, 0.6, 1, 0.01), (0.9, 0.7, 2, 0.05)):
        curves = theory.chain_curves(s, a, 10, k, dephasing)
        for criterion, ok in (
            ("entangled", curves["concurrence"] > 1e-12),
            ("chsh", curves["chsh_max"] > 2 + 1e-12),
        ):
            failing = np.flatnonzero(~ok)
            expected = (
                1024 if failing.size == 0 else (0 if failing[0] == 0 else 2 ** (failing[0] - 1))
            )
            assert theory.reach(s, a, k, dephasing, criterion, max_links=1024) == expected


def test_distillation_extends_the_reach():
    assert theory.reach(0.9, 2**-0.5, 1, 0.001) > theory.reach(0.9, 2**-0.5, 0, 0.001)


def test_best_rounds_is_the_fewest_that_reach_the_target():
    target = 0.97
    k = theory.best_rounds(16, 0.9, 2**-0.5, target, dephasing=0.005)
    assert k is not None and k > 0
    assert theory.chain(16, 0.9, 2**-0.5, k, 0.005)["fidelity"] >= target
    for fewer in range(k):
        assert theory.chain(16, 0.9, 2**-0.5, fewer, 0.005)["fidelity"] < target
    assert theory.best_rounds(16, 0.5, 2**-0.5, 0.999, dephasing=0.2, max_rounds=4) is None


def test_chain_curves_broadcast_over_success():
    s = np.array([0.7, 0.9, 1.0])
    curves = theory.chain_curves(s, 2**-0.5, 6, 1, 0.01)
    assert curves["fidelity"].shape == (3, 7)
    for i, si in enumerate(s):
        for level in (0, 3, 6):
            record = theory.chain(2**level, si, 2**-0.5, 1, 0.01)
            assert curves["fidelity"][i, level] == pytest.approx(record["fidelity"], abs=1e-13)
            assert curves["yield"][i, level] == pytest.approx(record["yield"], rel=1e-12, abs=0)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"links": 3}, "links must be a power of two in [1, 1048576]"),
        ({"links": 0}, "links must be a power of two"),
        ({"links": 2**21}, "links must be a power of two"),
        ({"links": True}, "links must be a power of two"),
        ({"links": 2.5}, "links must be a power of two"),
        ({"links": float("nan")}, "links must be a power of two"),
        ({"rounds": -1}, "rounds must be an integer in [0, 64]"),
        ({"rounds": 65}, "rounds must be an integer in [0, 64]"),
        ({"rounds": 1.5}, "rounds must be an integer in [0, 64]"),
        ({"dephasing": 0.6}, "dephasing must be in [0, 0.5]"),
        ({"dephasing": -0.1}, "dephasing must be in [0, 0.5]"),
        ({"success": 0.0}, "success must be in (0, 1]"),
        ({"amplitude": 1.5}, "amplitude must be in [0, 1]"),
    ],
)
def test_bad_input_raises_one_line_value_errors(kwargs, message):
    args = {"links": 4, "success": 0.9, "amplitude": 0.7, "rounds": 1, "dephasing": 0.0}
    args.update(kwargs)
    with pytest.raises(ValueError) as info:
        theory.chain(**args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_integral_floats_are_accepted_as_counts():
    assert theory.chain(4.0, 0.9, 0.7, 1.0)["links"] == 4


def test_bell_weights_and_probabilities_depend_only_on_the_links_bell_weights(rng):
    """Swap, DEJMPS and dephasing are Pauli-covariant: they commute with the Pauli twirl, so the
    end-to-end Bell weights (fidelity) and success probabilities of any link state are those of
    its twirl; concurrence and CHSH are not (the coherences between Bell states count)."""
    bell = distill.bell_diagonal_state([1.0, 0.0, 0.0, 0.0])
    link = 0.85 * bell + 0.15 * random_density_matrix(rng, rank=1)
    twirled = distill.bell_diagonal_state(distill.bell_weights(link))
    for k in (0, 1, 2):
        rho, p = theory.chain_state_from(link, 4, k, 0.01)
        rho_t, p_t = theory.chain_state_from(twirled, 4, k, 0.01)
        np.testing.assert_allclose(
            distill.bell_weights(rho), distill.bell_weights(rho_t), atol=1e-14
        )
        np.testing.assert_allclose(p, p_t, atol=1e-14)
    rho, _ = theory.chain_state_from(link, 4, 0, 0.01)
    rho_t, _ = theory.chain_state_from(twirled, 4, 0, 0.01)
    assert abs(float(measures.concurrence(rho)) - float(measures.concurrence(rho_t))) > 1e-3
