"""qkit.noise: one mixture description, realized as an Aer noise model, as circuit branches and as
one parametrized circuit.

Claims are checked against independent machinery: explicit matrices and qiskit.quantum_info for
the mixtures, Aer's density-matrix simulator for the noise model, Statevector for branches.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import PermutationGate, UnitaryGate
from qiskit.quantum_info import Operator, SuperOp, random_unitary
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2
from scipy import stats

from qkit import noise
from tests.conftest import aer_probabilities, random_density_matrix

SINGLET = np.array([0, 1, -1, 0]) / np.sqrt(2)


def random_circuit_with_sites(
    rng: np.random.Generator, labels_qubits, num_qubits=3
) -> QuantumCircuit:
    """Random unitaries, then the sites, then more random unitaries, then measure all."""
    qc = QuantumCircuit(num_qubits, num_qubits)
    qc.append(
        UnitaryGate(random_unitary(2**num_qubits, seed=int(rng.integers(1 << 30)))),
        range(num_qubits),
    )
    for label, qubits in labels_qubits:
        qc.append(noise.noise_site(label, len(qubits)), qubits)
    qc.append(
        UnitaryGate(random_unitary(2**num_qubits, seed=int(rng.integers(1 << 30)))),
        range(num_qubits),
    )
    qc.measure(range(num_qubits), range(num_qubits))
    return qc


def random_mixture(
    rng: np.random.Generator, label: str, num_qubits: int, terms: int = 3
) -> noise.MixedUnitary:
    unitaries = np.array(
        [random_unitary(2**num_qubits, seed=int(rng.integers(1 << 30))).data for _ in range(terms)]
    )
    return noise.MixedUnitary(label, unitaries, rng.dirichlet(np.ones(terms)))


# --- the builders -------------------------------------------------------------------------


def test_clifford_group_has_24_distinct_elements_closed_under_products():
    group = noise.clifford_group()
    assert group.shape == (24, 2, 2)
    overlaps = np.abs(np.einsum("iab,jab->ij", group.conj(), group)) / 2  # |Tr(C_i^dag C_j)| / 2
    assert np.allclose(overlaps[np.eye(24, dtype=bool)], 1.0)
    assert np.all(overlaps[~np.eye(24, dtype=bool)] < 1 - 1e-9)  # distinct modulo phase
    for a, b in itertools.product(group, repeat=2):
        assert np.max(np.abs(np.einsum("iab,ab->i", group.conj(), a @ b)) / 2) == pytest.approx(1.0)


def test_clifford_group_is_a_unitary_2_design():
    # frame potential (1/K^2) sum |Tr C_i^dag C_j|^4 = 2 exactly for a 2-design on a qubit
    group = noise.clifford_group()
    frame = np.mean(np.abs(np.einsum("iab,jab->ij", group.conj(), group)) ** 4)
    assert frame == pytest.approx(2.0, abs=1e-12)


def test_correlated_rotation_twirls_any_state_into_the_werner_state(rng):
    mixture = noise.correlated_rotation_mixture()
    for _ in range(5):
        rho = random_density_matrix(rng)
        fidelity = np.real(SINGLET @ rho @ SINGLET)
        p = (4 * fidelity - 1) / 3
        werner = p * np.outer(SINGLET, SINGLET) + (1 - p) * np.eye(4) / 4
        # singlet and I are symmetric under qubit exchange, so the Qiskit/qkit order is moot
        assert np.allclose(mixture.apply(rho), werner, atol=1e-12)


def test_depolarizing_mixture_shrinks_the_bloch_vector_by_eta(rng):
    for eta in (0.0, 0.3, 1.0):
        mixture = noise.depolarizing_mixture(eta)
        rho = random_density_matrix(rng, dim=2)
        assert np.allclose(mixture.apply(rho), eta * rho + (1 - eta) * np.eye(2) / 2, atol=1e-12)


def test_swap_mixture_is_identity_with_probability_s(rng):
    rho = random_density_matrix(rng)
    swap = Operator(PermutationGate([1, 0])).data
    out = noise.swap_mixture(0.3).apply(rho)
    assert np.allclose(out, 0.3 * rho + 0.7 * swap @ rho @ swap, atol=1e-12)


def test_aer_quantum_error_equals_the_mixture_channel(rng):
    for mixture in (
        noise.correlated_rotation_mixture(),
        noise.depolarizing_mixture(0.4),
        noise.swap_mixture(0.8),
        random_mixture(rng, "r", 2),
    ):
        expected = sum(
            w * SuperOp(Operator(u))
            for w, u in zip(mixture.weights, mixture.unitaries, strict=True)
        )
        assert np.allclose(SuperOp(mixture.quantum_error()).data, expected.data, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: noise.swap_mixture(1.5), "success must be in"),
        (lambda: noise.depolarizing_mixture(-0.1), "eta must be in"),
        (lambda: noise.MixedUnitary("x", np.ones((1, 2, 2)), [1.0]), "unitary"),
        (lambda: noise.MixedUnitary("x", np.eye(2)[None], [0.5]), "sum to 1"),
        (lambda: noise.MixedUnitary("x", np.eye(3)[None], [1.0]), "shape"),
        (lambda: noise.noise_model([noise.swap_mixture(1), noise.swap_mixture(0)]), "duplicate"),
        (lambda: noise.allocate_shots([0.5, 0.6], 10, np.random.default_rng(0)), "sum"),
    ],
)
def test_bad_inputs_raise_one_line_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- realization 1 == realization 2 -------------------------------------------------------


def test_noise_model_and_branch_mixture_give_identical_probabilities(rng):
    for _ in range(3):
        mixtures = [random_mixture(rng, "two", 2), random_mixture(rng, "one", 1, terms=4)]
        qc = random_circuit_with_sites(rng, [("two", [0, 2]), ("one", [1]), ("two", [2, 1])])
        branches = noise.outcome_distribution(qc, mixtures)  # 3 * 4 * 3 = 36 branches
        assert len(noise.expand_branches(qc, mixtures)) == 36
        assert np.allclose(aer_probabilities(qc, mixtures), branches, atol=1e-10)


def test_noise_sites_survive_transpilation_for_aer_at_every_level(rng):
    mixtures = [random_mixture(rng, "two", 2), noise.depolarizing_mixture(0.2)]
    qc = random_circuit_with_sites(rng, [("two", [0, 2]), (noise.DEPOLARIZATION, [1])])
    exact = noise.outcome_distribution(qc, mixtures)
    simulator = AerSimulator(method="density_matrix", noise_model=noise.noise_model(mixtures))
    for level in range(4):
        compiled = generate_preset_pass_manager(optimization_level=level, backend=simulator).run(qc)
        assert sorted(s.label for s in noise.sites(compiled)) == sorted(
            ["two", noise.DEPOLARIZATION]
        )
        assert np.allclose(aer_probabilities(compiled, mixtures), exact, atol=1e-10)


def test_without_a_noise_model_a_site_is_the_identity(rng):
    qc = random_circuit_with_sites(rng, [(noise.MIXUP, [0, 1])]).remove_final_measurements(
        inplace=False
    )
    expected = Operator(noise.strip_sites(qc)).data[:, 0]
    qc.save_statevector()
    state = np.asarray(AerSimulator(method="statevector").run(qc).result().get_statevector())
    assert np.isclose(abs(np.vdot(expected, state)), 1.0, atol=1e-10)


def test_branch_circuits_do_not_depend_on_the_weights():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.append(noise.noise_site(noise.MIXUP, 2), [0, 1])
    qc.measure([0, 1], [0, 1])
    low = noise.expand_branches(qc, [noise.swap_mixture(0.1)])
    high = noise.expand_branches(qc, [noise.swap_mixture(1.0)])
    assert low == high
    assert np.allclose(noise.branch_weights(qc, [noise.swap_mixture(0.1)]), [0.1, 0.9])


def test_branch_weights_are_products_in_expansion_order(rng):
    a, b = random_mixture(rng, "a", 1, terms=2), random_mixture(rng, "b", 1, terms=3)
    qc = QuantumCircuit(1)
    for label in ("b", "a", "b"):
        qc.append(noise.noise_site(label, 1), [0])
    expected = [
        wb1 * wa * wb2 for wb1, wa, wb2 in itertools.product(b.weights, a.weights, b.weights)
    ]
    assert np.allclose(noise.branch_weights(qc, [a, b]), expected)
    assert noise.branch_weights(qc, [a, b]).sum() == pytest.approx(1.0)


def test_permutation_branches_relabel_wires_with_the_same_statistics(rng):
    cycle = PermutationGate([2, 0, 1]).to_matrix()
    qc = random_circuit_with_sites(rng, [("perm", [0, 1, 2])])
    relabelled = noise.expand_branches(qc, {"perm": [cycle]})[0]
    explicit = noise.expand_branches(qc, {"perm": [cycle]}, relabel_permutations=False)[0]
    assert dict(relabelled.count_ops()) == {"unitary": 2, "measure": 3}  # no gate for the cycle
    assert np.allclose(
        noise.outcome_distribution(relabelled), noise.outcome_distribution(explicit), atol=1e-12
    )


def test_product_unitary_branches_use_single_qubit_gates_only():
    qc = QuantumCircuit(2)
    qc.append(noise.noise_site(noise.ROTATION, 2), [0, 1])
    for branch in noise.expand_branches(qc, [noise.correlated_rotation_mixture()]):
        assert all(inst.operation.num_qubits == 1 for inst in branch.data)


def test_prune_keeps_the_outcome_distribution_and_drops_unmeasured_gates(rng):
    qc = QuantumCircuit(4, 2)
    qc.append(UnitaryGate(random_unitary(4, seed=1)), [0, 1])
    qc.append(UnitaryGate(random_unitary(4, seed=2)), [1, 2])
    qc.append(UnitaryGate(random_unitary(4, seed=3)), [2, 3])  # after the coupling: cannot matter
    qc.measure([0, 1], [0, 1])
    pruned = noise.prune_circuit(qc)
    assert pruned.size() == qc.size() - 1
    assert np.allclose(
        noise.outcome_distribution(pruned), noise.outcome_distribution(qc), atol=1e-12
    )


def test_allocate_shots_is_multinomial_and_seeded():
    weights = np.array([0.5, 0.3, 0.2, 0.0])
    draws = np.array(
        [noise.allocate_shots(weights, 100, np.random.default_rng(k)) for k in range(400)]
    )
    assert np.all(draws.sum(axis=1) == 100) and np.all(draws[:, 3] == 0)
    # mean per branch within 5 standard errors (false failure ~1e-6 per branch)
    stderr = np.sqrt(100 * weights * (1 - weights) / 400)
    assert np.all(np.abs(draws.mean(axis=0) - 100 * weights) <= 5 * stderr + 1e-12)
    assert np.array_equal(
        noise.allocate_shots(weights, 50, np.random.default_rng(7)),
        noise.allocate_shots(weights, 50, np.random.default_rng(7)),
    )


# --- realization 3: one parametrized circuit ----------------------------------------------


def test_parametrized_sites_bound_per_branch_equal_the_noise_model(rng):
    mixture = noise.correlated_rotation_mixture()
    qc = random_circuit_with_sites(rng, [(noise.ROTATION, [0, 2])])
    template, params = noise.parametrize_sites(qc, noise.ROTATION)
    values, weights = noise.branch_parameter_values(qc, mixture)
    assert values.shape == (24, len(params)) and np.allclose(weights, 1 / 24)
    mixed = sum(
        w
        * noise.outcome_distribution(template.assign_parameters(dict(zip(params, v, strict=True))))
        for w, v in zip(weights, values, strict=True)
    )
    assert np.allclose(mixed, aer_probabilities(qc, [mixture]), atol=1e-10)


def test_parametrized_branches_of_two_mixtures_equal_the_noise_model(rng):
    mixtures = [noise.correlated_rotation_mixture(), noise.depolarizing_mixture(rng.uniform(0, 1))]
    qc = random_circuit_with_sites(rng, [(noise.ROTATION, [0, 2]), (noise.DEPOLARIZATION, [2])])
    template, params, values, weights = noise.parametrized_branches(qc, mixtures)
    assert values.shape == (96, 9) and noise.sites(template) == []
    mixed = sum(
        w
        * noise.outcome_distribution(template.assign_parameters(dict(zip(params, v, strict=True))))
        for w, v in zip(weights, values, strict=True)
    )
    assert np.allclose(mixed, aer_probabilities(qc, mixtures), atol=1e-10)


def test_euler_angles_rebuild_the_unitaries_up_to_phase():
    from qiskit.circuit.library import UGate

    for u, (theta, phi, lam) in zip(
        noise.clifford_group(), noise.euler_angles(noise.clifford_group()), strict=True
    ):
        assert abs(np.trace(UGate(theta, phi, lam).to_matrix().conj().T @ u)) == pytest.approx(2.0)


def test_haar_unitaries_are_unitary_and_uniform_on_average():
    u = noise.haar_unitaries(4000, np.random.default_rng(3))
    assert np.allclose(np.conj(np.swapaxes(u, 1, 2)) @ u, np.eye(2), atol=1e-12)
    # E|U_00|^2 = 1/2 under Haar; |U_00|^2 is uniform on [0, 1], sd 1/sqrt(12): 5 sigma bound
    # (two-sided false failure 5.7e-7)
    assert abs(np.mean(np.abs(u[:, 0, 0]) ** 2) - 0.5) < 5 / np.sqrt(12 * 4000)


def test_haar_unitaries_are_scipys_haar_draws():
    """One Haar sampler: the same generator gives the same matrices as scipy's unitary_group."""
    ours = noise.haar_unitaries(50, np.random.default_rng(8))
    theirs = stats.unitary_group.rvs(2, size=50, random_state=np.random.default_rng(8))
    assert np.allclose(ours, theirs, atol=1e-14)


def test_haar_draws_of_a_seed_are_those_qkit_always_drew():
    """Seeded Haar results stored before qkit used scipy's sampler still reproduce: its draws
    are Mezzadri's QR of Ginibre matrices with the phases fixed, the algorithm qkit had."""
    rng = np.random.default_rng(8)
    z = (rng.normal(size=(50, 2, 2)) + 1j * rng.normal(size=(50, 2, 2))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r, axis1=1, axis2=2)
    before = q * (d / np.abs(d))[:, None, :]
    assert np.allclose(noise.haar_unitaries(50, np.random.default_rng(8)), before, atol=1e-14)
    assert noise.haar_unitaries(1, rng).shape == (1, 2, 2)
    assert noise.haar_unitaries(0, rng).shape == (0, 2, 2)


def test_mixture_weights_are_the_parametrized_branch_weights_row_by_row(rng):
    eta = rng.uniform(0, 1)
    mixtures = [noise.correlated_rotation_mixture(), noise.depolarizing_mixture(eta)]
    qc = random_circuit_with_sites(
        rng, [(noise.ROTATION, [0, 2]), (noise.DEPOLARIZATION, [2]), (noise.DEPOLARIZATION, [1])]
    )
    *_, weights = noise.parametrized_branches(qc, mixtures)
    assert weights.shape == (24 * 4 * 4,)
    assert np.allclose(noise.mixture_weights(qc, mixtures), weights, rtol=0, atol=1e-15)
    # the rows follow the same order for the mixtures listed the other way round
    *_, swapped = noise.parametrized_branches(qc, mixtures[::-1])
    assert np.allclose(noise.mixture_weights(qc, mixtures[::-1]), swapped, rtol=0, atol=1e-15)


def test_public_names_resolve_and_no_function_takes_more_than_six_positional_arguments():
    import inspect

    for name in noise.__all__:
        assert hasattr(noise, name), name
    modules = (noise.aer, noise.branches, noise.mixtures, noise.parametrized, noise.sites)
    for module in (*modules, noise.unitaries):
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__:
                positional = [
                    p
                    for p in inspect.signature(obj).parameters.values()
                    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                ]
                assert len(positional) <= 6, name


def test_aer_sampler_v2_runs_the_noise_model_with_the_seed_in_backend_options(rng):
    mixtures = [noise.swap_mixture(0.35)]
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.append(noise.noise_site(noise.MIXUP, 2), [0, 1])
    qc.measure([0, 1], [0, 1])
    shots = 4000
    options = noise.aer_sampler_options(mixtures, method="statevector", seed=11)
    counts = SamplerV2(options=options).run([qc], shots=shots).result()[0].data.c.get_counts()
    again = SamplerV2(options=options).run([qc], shots=shots).result()[0].data.c.get_counts()
    assert counts == again  # seeded
    assert set(counts) <= {"01", "10"}
    # binomial test, two-sided; false-failure rate 1e-4
    assert stats.binomtest(counts.get("01", 0), shots, 0.35).pvalue > 1e-4
