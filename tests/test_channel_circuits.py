"""Paper B circuits: encodings, the correlated-noise fibre, the singlet/triplet measurement and the
two-slot receiver, against the Werner-state theory (Eqs. 18-21, Fig. 4), qkit.channel.theory and
the QuTiP beam-splitter model, with the noise as an Aer noise model, as branches and Haar-sampled.
"""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
import scipy.linalg
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Statevector
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2
from scipy import stats

from qkit import measures, noise
from qkit.channel import circuits
from tests.conftest import aer_probabilities, random_density_matrix

SINGLET = np.array([0, 1, -1, 0]) / np.sqrt(2)
try:  # written in parallel (issue #2); the tests that need it skip without it
    from qkit.channel import theory
except ImportError:  # pragma: no cover
    theory = None
HAS_OPTICS = importlib.util.find_spec("qkit.channel.optics") is not None


def werner(p: float) -> np.ndarray:
    """rho(p) = p |psi-><psi-| + (1 - p) I/4 (docs/physics.md, paper B)."""
    return p * np.outer(SINGLET, SINGLET) + (1 - p) * np.eye(4) / 4


def werner_parameter(rho: np.ndarray) -> float:
    return (4 * np.real(SINGLET @ rho @ SINGLET) - 1) / 3


def aer_density_matrix(circuit: QuantumCircuit, qubits, eta: float) -> np.ndarray:
    """Reduced state of ``qubits`` (qkit order) with the fibre as an Aer noise model."""
    qc = circuit.copy()
    qc.save_density_matrix(qubits)
    sim = AerSimulator(
        method="density_matrix", noise_model=noise.noise_model(circuits.channel_mixtures(eta))
    )
    return measures.from_qiskit_order(np.asarray(sim.run(qc).result().data()["density_matrix"]))


def mixed_input_circuit(rho: np.ndarray) -> QuantumCircuit:
    """pol1, pol2 plus two purifying qubits, prepared in a purification of ``rho`` (qkit order)."""
    lam, vecs = np.linalg.eigh(rho)
    amplitudes = np.zeros(16, dtype=complex)
    for i, a, b in itertools.product(range(4), range(2), range(2)):
        amplitudes[a + 2 * b + 4 * i] = np.sqrt(max(lam[i], 0.0)) * vecs[2 * a + b, i]
    first = amplitudes[:, None] / np.linalg.norm(amplitudes)
    qc = QuantumCircuit(4)
    qc.append(UnitaryGate(np.hstack([first, scipy.linalg.null_space(first.conj().T)])), range(4))
    circuits.add_channel_noise(qc, 0, 1)
    return qc


def test_named_encodings_prepare_the_listed_states():
    for name, vector in circuits.TWO_PHOTON_STATES.items():
        state = Statevector(circuits.encoding_circuit(name)).reverse_qargs().data
        assert np.isclose(abs(np.vdot(vector, state)), 1.0, atol=1e-12), name


def test_general_encoding_prepares_any_four_vector(rng):
    for _ in range(3):
        vec = rng.normal(size=4) + 1j * rng.normal(size=4)
        vec /= np.linalg.norm(vec)
        state = Statevector(circuits.encoding_circuit(vec)).reverse_qargs().data
        assert np.allclose(state, vec, atol=1e-12)


def test_werner_parameters_of_the_encodings_span_the_papers_ranges():
    p = {n: werner_parameter(np.outer(v, v.conj())) for n, v in circuits.TWO_PHOTON_STATES.items()}
    assert p["singlet"] == pytest.approx(1.0)
    for triplet in ("psi+", "phi+", "phi-", "HH", "VV", "triplet_HH"):
        assert p[triplet] == pytest.approx(-1 / 3)
    assert p["HV"] == pytest.approx(1 / 3) and p["VH"] == pytest.approx(1 / 3)


def test_fibre_turns_any_two_photon_input_into_the_werner_state_eta_p(rng):
    # Eqs. 18-21 to 1e-10: pure named and random inputs, and random mixed inputs
    for name in ("singlet", "triplet_HH", "HV", "phi-"):
        eta = rng.uniform(0, 1)
        rho_in = np.outer(circuits.TWO_PHOTON_STATES[name], circuits.TWO_PHOTON_STATES[name])
        out = aer_density_matrix(circuits.two_photon_circuit(name, measure=False), [0, 1], eta)
        assert np.allclose(out, werner(eta * werner_parameter(rho_in)), atol=1e-10), name
    for rank in (1, 2, 4):
        eta, rho_in = rng.uniform(0, 1), random_density_matrix(rng, rank=rank)
        out = aer_density_matrix(mixed_input_circuit(rho_in), [0, 1], eta)
        assert np.allclose(out, werner(eta * werner_parameter(rho_in)), atol=1e-10)
        if theory is not None and hasattr(theory, "werner_state"):
            assert np.allclose(
                out, theory.werner_state(eta * theory.werner_parameter(rho_in)), atol=1e-10
            )


def test_singlet_triplet_circuit_identifies_the_bell_states():
    for name in ("singlet", "psi+", "phi+", "phi-"):
        p = noise.outcome_distribution(circuits.two_photon_circuit(name, noisy=False))
        assert p[3] == pytest.approx(1.0 if name == "singlet" else 0.0, abs=1e-12)  # key '11'


@pytest.mark.skipif(theory is None, reason="qkit.channel.theory not present")
def test_singlet_triplet_probabilities_match_the_conditional_probabilities_of_fig_4(rng):
    for name, eta in itertools.product(
        ("singlet", "triplet_HH", "HV", "psi+"), (0.0, rng.uniform(0, 1), 1.0)
    ):
        qc = circuits.two_photon_circuit(name)
        p = aer_probabilities(qc, circuits.channel_mixtures(eta))
        v = circuits.TWO_PHOTON_STATES[name]
        expected = theory.conditional_probabilities(werner_parameter(np.outer(v, v)), eta)
        assert np.allclose([p[3], 1 - p[3]], expected, atol=1e-10)


@pytest.mark.skipif(not HAS_OPTICS, reason="qkit.channel.optics not present")
def test_singlet_triplet_circuit_agrees_with_the_beam_splitter_model(rng):
    from qkit.channel.optics import beam_splitter_probabilities

    states = [circuits.TWO_PHOTON_STATES[n] for n in ("singlet", "HV", "HH")]
    states += [
        v / np.linalg.norm(v) for v in rng.normal(size=(2, 4)) + 1j * rng.normal(size=(2, 4))
    ]
    for v in states:
        p_circuit = noise.outcome_distribution(circuits.two_photon_circuit(v, noisy=False))[3]
        assert p_circuit == pytest.approx(
            beam_splitter_probabilities(v)["different_ports"], abs=1e-9
        )


def test_noise_model_and_96_branches_agree_on_every_letter_and_pair_circuit(rng):
    eta = rng.uniform(0, 1)
    mixtures = circuits.channel_mixtures(eta)
    qcs = [circuits.alphabet_circuit(letter) for letter in circuits.LETTERS]
    qcs += [circuits.two_photon_circuit(name) for name in ("singlet", "HV", "HH")]
    for qc in qcs:
        assert len(noise.expand_branches(qc, mixtures)) == 96
        assert np.allclose(
            noise.outcome_distribution(qc, mixtures), aer_probabilities(qc, mixtures), atol=1e-10
        )


def receiver_matrix(letters, eta: float) -> np.ndarray:
    """P(outcome | letter) of the circuits, exact (Aer density matrix with the noise model)."""
    rows = []
    for letter in letters:
        p = aer_probabilities(circuits.alphabet_circuit(letter), circuits.channel_mixtures(eta))
        rows.append(np.zeros(len(circuits.OUTCOMES)))
        for k, prob in enumerate(p):
            rows[-1][circuits.OUTCOMES.index(circuits.receiver_outcome(format(k, "04b")))] += prob
    return np.array(rows)


@pytest.mark.skipif(theory is None, reason="qkit.channel.theory not present")
def test_receiver_on_the_two_slot_alphabet_matches_the_theory(rng):
    assert circuits.OUTCOMES == tuple(theory.RECEIVER_OUTCOMES)
    for inputs, pair in (("entangled", ("singlet", "triplet_HH")), ("separable", ("HV", "HH"))):
        eta = rng.uniform(0, 1)
        got = receiver_matrix(("empty", "slot1", "slot2", *pair), eta)
        assert np.allclose(got, theory.receiver_conditional_probabilities(eta, inputs), atol=1e-10)


def test_receiver_outcome_reads_every_bit_pattern():
    for k in range(16):
        occ1, occ2, b1, b2 = k & 1, (k >> 1) & 1, (k >> 2) & 1, (k >> 3) & 1
        expected = ("none", "slot1", "slot2", "singlet" if b1 and b2 else "triplet")[
            occ1 + 2 * occ2
        ]
        assert circuits.receiver_outcome(format(k, "04b")) == expected


def test_haar_sampled_rotation_converges_to_the_werner_statistics():
    # one fresh Haar U ⊗ U per shot (groups of one shot), slot-2 depolarization by noise model;
    # singlet counts ~ Binomial(n, (1 + 3 eta p)/4) exactly. Two-sided test, false-failure 1e-4
    eta, groups = 0.7, 3000
    for name, p in (("singlet", 1.0), ("HV", 1 / 3)):
        template, params = noise.parametrize_sites(
            circuits.two_photon_circuit(name), noise.ROTATION
        )
        values = noise.haar_parameter_values(groups, params, np.random.default_rng(17))
        options = noise.aer_sampler_options(
            [noise.depolarizing_mixture(eta)], method="statevector", seed=3
        )
        result = (
            SamplerV2(options=options)
            .run([(template, dict(zip(params, values.T, strict=True)))], shots=1)
            .result()
        )
        singlets = int(np.sum(result[0].data.bsm.array[..., 0] == 0b11))
        assert stats.binomtest(singlets, groups, (1 + 3 * eta * p) / 4).pvalue > 1e-4


def test_clifford_bindings_of_the_parametrized_fibre_are_exact(rng):
    eta = rng.uniform(0, 1)
    mixtures = circuits.channel_mixtures(eta)
    qc = circuits.alphabet_circuit("singlet")
    template, rot = noise.parametrize_sites(qc, noise.ROTATION)
    template, dep = noise.parametrize_sites(template, noise.DEPOLARIZATION)
    rot_values, rot_weights = noise.branch_parameter_values(qc, mixtures[0])
    dep_values, dep_weights = noise.branch_parameter_values(qc, mixtures[1])
    total = 0.0
    for (rv, rw), (dv, dw) in itertools.product(
        zip(rot_values, rot_weights, strict=True), zip(dep_values, dep_weights, strict=True)
    ):
        bound = template.assign_parameters(
            {**dict(zip(rot, rv, strict=True)), **dict(zip(dep, dv, strict=True))}
        )
        total = total + rw * dw * noise.outcome_distribution(bound)
    assert np.allclose(total, aer_probabilities(qc, mixtures), atol=1e-10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: circuits.encoding_circuit("bogus"), "state must be one of"),
        (lambda: circuits.encoding_circuit([1, 1, 0, 0]), "normalized"),
        (lambda: circuits.alphabet_circuit("VV"), "letter must be one of"),
        (lambda: circuits.receiver_outcome("10"), "4-bit"),
        (lambda: circuits.channel_mixtures(1.5), "eta must be in"),
    ],
)
def test_bad_inputs_raise_one_line_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
