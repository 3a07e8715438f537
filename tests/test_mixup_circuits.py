"""Paper A circuits: psi_a, the delivered pair under mix-up (Eq. 2.1), CHSH and tomography settings.

The circuits are held against the closed forms of qkit.mixup.theory and the Born rule, with the
noise realized by Aer's density-matrix simulator and by explicit branch mixtures.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Statevector
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2
from scipy import stats

from qkit import measures, noise
from qkit.mixup import circuits, theory
from tests.conftest import aer_probabilities, random_density_matrix

PAULI = np.concatenate([np.eye(2)[None], measures.PAULI])


def purification_circuit(rho: np.ndarray) -> QuantumCircuit:
    """Prepare a purification of the two-qubit ``rho`` (qkit order) on qubits A, B, E0, E1."""
    lam, vecs = np.linalg.eigh(rho)
    amplitudes = np.zeros(16, dtype=complex)
    for i in range(4):
        for a in range(2):
            for b in range(2):
                # Qiskit index a + 2b + 4i: qubit 0 = A, 1 = B, 2-3 = purifying index i
                amplitudes[a + 2 * b + 4 * i] = np.sqrt(max(lam[i], 0.0)) * vecs[2 * a + b, i]
    first = amplitudes[:, None] / np.linalg.norm(amplitudes)
    unitary = np.hstack([first, scipy.linalg.null_space(first.conj().T)])  # maps |0000> to it
    qc = QuantumCircuit(4)
    qc.append(UnitaryGate(unitary), range(4))
    return qc


def aer_density_matrix(circuit: QuantumCircuit, success: float) -> np.ndarray:
    """Reduced state of qubits (0, 1) in qkit order, with the mix-up as an Aer noise model."""
    qc = circuit.copy()
    qc.save_density_matrix([0, 1])
    sim = AerSimulator(
        method="density_matrix", noise_model=noise.noise_model([noise.swap_mixture(success)])
    )
    return measures.from_qiskit_order(np.asarray(sim.run(qc).result().data()["density_matrix"]))


def to_qkit(probabilities: np.ndarray) -> np.ndarray:
    """Qiskit order (index bA + 2 bB) -> qkit order (index 2 bA + bB)."""
    return probabilities.reshape(2, 2).T.ravel()


def born_probabilities(rho: np.ndarray, direction_a, direction_b) -> np.ndarray:
    """P(x, y) = Tr[rho Pi_x(a) ⊗ Pi_y(b)], Pi_0 = (I + n.sigma)/2, qkit order 2x + y."""

    def projectors(n):
        n = np.asarray(n) / np.linalg.norm(n)
        ns = np.einsum("i,iab->ab", n, measures.PAULI)
        return [(np.eye(2) + ns) / 2, (np.eye(2) - ns) / 2]

    pa, pb = projectors(direction_a), projectors(direction_b)
    return np.array([np.real(np.trace(rho @ np.kron(x, y))) for x in pa for y in pb])


def test_psi_circuit_prepares_psi_a_for_floats_parameters_and_angles(rng):
    a_param, theta = Parameter("a"), Parameter("theta")
    for a in [0.0, 1.0, 2**-0.5, *rng.uniform(0, 1, 3)]:
        expected = theory.psi(a)
        for qc in (
            circuits.psi_circuit(a),
            circuits.psi_circuit(a_param).assign_parameters({a_param: a}),
            circuits.psi_circuit(angle=theta).assign_parameters({theta: 2 * np.arccos(a)}),
        ):
            state = Statevector(qc).reverse_qargs().data  # qkit order, A first
            assert np.allclose(state, expected, atol=1e-12)


def test_delivered_pair_is_the_mixup_of_any_input_state(rng):
    # Eq. 2.1 on random mixed inputs of rank 1, 2 and 4, random S, to 1e-10
    for rank in (1, 2, 4, 4):
        rho = random_density_matrix(rng, rank=rank)
        success = rng.uniform(0, 1)
        qc = circuits.delivered_pair_circuit(purification_circuit(rho))
        assert qc.num_qubits == 8 and [r.name for r in qc.qregs] == [
            "a1",
            "b1",
            "a2",
            "b2",
            "e1",
            "e2",
        ]
        assert np.allclose(aer_density_matrix(qc, success), theory.mixup(rho, success), atol=1e-10)


def test_delivered_pair_of_psi_a_is_the_x_state_of_section_two(rng):
    a = Parameter("a")
    template = circuits.delivered_pair_circuit(a)
    for s, amp in rng.uniform(0, 1, (3, 2)):
        rho = aer_density_matrix(template.assign_parameters({a: amp}), s)
        assert np.allclose(rho, theory.state(s, amp), atol=1e-10)


def test_every_setting_has_identical_probabilities_from_noise_model_branches_and_theory(rng):
    s, amp = 0.62, 0.4
    mixtures = [noise.swap_mixture(s)]
    template = circuits.measure_directions(circuits.delivered_pair_circuit(amp))
    branches = circuits.delivered_pair_branches(template)
    weights = noise.branch_weights(template, mixtures)
    dirs_a, dirs_b = circuits.tomography_directions()
    chsh_a, chsh_b = circuits.chsh_directions(theory.chsh_settings(s, amp))
    rand_a, rand_b = rng.normal(size=(2, 3, 3))
    dirs_a = np.concatenate([dirs_a, chsh_a, rand_a])
    dirs_b = np.concatenate([dirs_b, chsh_b, rand_b])
    bound = circuits.bind_settings(template, dirs_a, dirs_b)
    bound_branches = [circuits.bind_settings(b, dirs_a, dirs_b) for b in branches]
    rho = theory.state(s, amp)
    for k, qc in enumerate(bound):
        by_noise_model = to_qkit(aer_probabilities(qc, mixtures))
        by_branches = to_qkit(
            sum(
                w * noise.outcome_distribution(b[k])
                for w, b in zip(weights, bound_branches, strict=True)
            )
        )
        expected = born_probabilities(rho, dirs_a[k], dirs_b[k])
        assert np.allclose(by_noise_model, expected, atol=1e-10)
        assert np.allclose(by_branches, expected, atol=1e-10)


def test_optimal_chsh_settings_reach_the_horodecki_value(rng):
    for s, amp in [(1.0, 2**-0.5), (0.9, 0.5), *rng.uniform(0.3, 1, (2, 2))]:
        template = circuits.measure_directions(circuits.delivered_pair_circuit(amp))
        mixtures = [noise.swap_mixture(s)]
        correlators = []
        for qc in circuits.chsh_circuits(template, theory.chsh_settings(s, amp)):
            p = to_qkit(noise.outcome_distribution(qc, mixtures))
            correlators.append(p[0] - p[1] - p[2] + p[3])
        assert np.dot(circuits.CHSH_SIGNS, correlators) == pytest.approx(
            float(theory.chsh_max(s, amp)), abs=1e-10
        )


def test_pauli_tomography_settings_reconstruct_the_delivered_state():
    # rho = (1/4) sum_ij T_ij sigma_i ⊗ sigma_j with T_ij read from setting (i, j); marginals
    # T_i0, T_0j from any setting sharing that side (all agree)
    s, amp = 0.45, 0.3
    template = circuits.measure_directions(circuits.delivered_pair_circuit(amp))
    t = np.zeros((4, 4))
    t[0, 0] = 1.0
    for setting, qc in zip(
        circuits.PAULI_SETTINGS, circuits.tomography_circuits(template), strict=True
    ):
        p = to_qkit(noise.outcome_distribution(qc, [noise.swap_mixture(s)]))
        i, j = "XYZ".index(setting[0]) + 1, "XYZ".index(setting[1]) + 1
        t[i, j] = p @ [1, -1, -1, 1]
        t[i, 0] = p @ [1, 1, -1, -1]
        t[0, j] = p @ [1, -1, 1, -1]
    rho = sum(t[i, j] * np.kron(PAULI[i], PAULI[j]) for i in range(4) for j in range(4)) / 4
    assert np.allclose(rho, theory.state(s, amp), atol=1e-10)


def test_failure_branch_measures_a1_with_b2_without_a_swap_gate():
    template = circuits.measure_directions(circuits.delivered_pair_circuit(0.3))
    intact, failure = circuits.delivered_pair_branches(template)
    measured = [
        [b.find_bit(i.qubits[0]).index for i in b.data if i.operation.name == "measure"]
        for b in (intact, failure)
    ]
    assert measured == [[0, 1], [0, 3]]  # (A1, B1) and (A1, B2)
    assert "swap" not in failure.count_ops() and noise.sites(failure) == []
    assert (
        intact.count_ops()["cx"] == 1 and failure.count_ops()["cx"] == 2
    )  # unmeasured pair pruned


def test_counts_array_puts_side_a_first_and_zero_for_plus_one():
    qc = QuantumCircuit(2)
    qc.x(0)  # A = |1> (eigenvalue -1 of Z), B = |0>
    qc.h(1)  # B = |+> (eigenvalue +1 of X)
    qc = circuits.measure_directions(qc)
    bindings = circuits.setting_bindings(qc, [0, 0, 1], [1, 0, 0])  # A along z, B along x
    result = (
        SamplerV2(options={"backend_options": {"seed_simulator": 1}})
        .run([(qc, bindings)], shots=50)
        .result()
    )
    counts = circuits.counts_array(result[0].data.meas.get_counts())
    assert counts.tolist() == [0, 0, 50, 0]  # bA = 1, bB = 0 -> index 2


def test_one_transpiled_circuit_samples_all_chsh_settings_on_aer_with_the_noise_model():
    s, amp, shots = 0.8, 2**-0.5, 2000
    mixtures = [noise.swap_mixture(s)]
    options = noise.aer_sampler_options(mixtures, method="density_matrix", seed=5)
    template = circuits.measure_directions(circuits.delivered_pair_circuit(Parameter("a")))
    backend = AerSimulator(noise_model=options["backend_options"]["noise_model"])
    compiled = generate_preset_pass_manager(optimization_level=3, backend=backend).run(template)
    settings = theory.chsh_settings(s, amp)
    bindings = circuits.chsh_bindings(compiled, settings)
    bindings[next(p for p in compiled.parameters if p.name == "a")] = np.full(4, amp)
    data = SamplerV2(options=options).run([(compiled, bindings)], shots=shots).result()[0].data.meas
    rho = theory.state(s, amp)
    dirs_a, dirs_b = circuits.chsh_directions(settings)
    for k in range(4):
        observed = circuits.counts_array(data[k].get_counts())
        expected = born_probabilities(rho, dirs_a[k], dirs_b[k]) * shots
        # chi-square goodness of fit, 3 dof; false-failure rate 1e-4 per setting
        keep = expected > 0
        assert (
            stats.chisquare(
                observed[keep], expected[keep] * observed.sum() / expected[keep].sum()
            ).pvalue
            > 1e-4
        )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: circuits.psi_circuit(1.2), "amplitude must be in"),
        (lambda: circuits.psi_circuit(0.3, angle=0.1), "exactly one"),
        (lambda: circuits.direction_angles([0, 0, 0]), "non-zero"),
        (
            lambda: circuits.setting_bindings(QuantumCircuit(2), [0, 0, 1], [0, 0, 1]),
            "measure_directions",
        ),
        (lambda: circuits.counts_array({"012": 1}), "2-bit"),
        (lambda: circuits.delivered_pair_circuit(QuantumCircuit(1)), "qubits"),
    ],
)
def test_bad_inputs_raise_one_line_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
