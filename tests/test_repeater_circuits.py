"""The repeater chain's circuits against the exact theory (:mod:`qkit.repeater.theory`).

The deferred form's end pair and success probability come from Aer's density-matrix method
with the noise model (mix-up and dephasing mixtures) and must equal ``chain_state`` to 1e-9;
the dynamic form (mid-circuit measurements, feed-forward) is sampled on Aer with the same noise
model and must agree statistically. Removing the Pauli corrections must break both.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit_aer import AerSimulator

from qkit import noise
from qkit.mixup import circuits as mixup_circuits
from qkit.repeater import circuits, theory
from qkit.repeater.experiment import CHAIN, end_pair

BELL = 2**-0.5


def _kept_probability(links, success, amplitude, rounds, dephasing):
    _, p = theory.chain_state(links, success, amplitude, rounds, dephasing)
    if not rounds:
        return 1.0
    per_level = np.reshape(p, (-1, rounds))
    return float(np.prod(per_level ** circuits.round_counts(links, rounds)))


@pytest.mark.parametrize(
    ("links", "rounds", "success", "amplitude", "dephasing"),
    [
        (2, 0, 0.9, BELL, 0.0),
        (2, 0, 0.8, 0.6, 0.1),
        (4, 0, 0.85, 0.5, 0.05),
        pytest.param(2, 1, 0.9, 0.6, 0.1, marks=pytest.mark.slow),  # 11 qubits: 5-10 s
        (1, 2, 0.8, BELL, 0.02),
    ],
)
def test_deferred_chain_on_aer_density_matrices_is_the_theory(
    links, rounds, success, amplitude, dephasing
):
    point = CHAIN.point(
        links=links, success=success, amplitude=amplitude, rounds=rounds, dephasing=dephasing
    )
    p_kept, rho = end_pair(point)
    expected, _ = theory.chain_state(links, success, amplitude, rounds, dephasing)
    assert np.abs(rho - expected).max() < 1e-9
    assert p_kept == pytest.approx(_kept_probability(**point_args(point)), abs=1e-9)


def point_args(point):
    return {
        "links": int(point["links"]),
        "success": point["success"],
        "amplitude": point["amplitude"],
        "rounds": int(point["rounds"]),
        "dephasing": point["dephasing"],
    }


def test_round_counts_make_the_success_probability_of_a_whole_chain():
    # a round at level l runs once per pair it outputs: 2 links, 1 round -> 4 + 1
    assert circuits.round_counts(2, 1).tolist() == [[4], [1]]
    assert circuits.round_counts(1, 2).tolist() == [[2, 1]]
    assert circuits.round_counts(4, 1).tolist() == [[16], [4], [1]]


def test_chains_are_small_enough_for_density_matrices_and_small_devices():
    assert circuits.chain_width(2, 0) == 6
    assert circuits.chain_width(4, 0) == 8
    assert circuits.chain_width(2, 1) == 10
    chain = circuits.chain_circuit(2, 0)
    assert chain.circuit.num_qubits == 6


def test_dynamic_chain_measures_mid_circuit_and_feeds_forward():
    chain = circuits.chain_circuit(2, 1)
    names = [inst.operation.name for inst in chain.circuit.data]
    assert names.count("if_else") == 2 * 2  # two swaps (two level-1 pairs): X and Z each
    first_if = names.index("if_else")
    assert "measure" in names[:first_if]  # the Bell measurement comes before its correction
    assert "reset" in names  # measured and scratch qubits are reused
    assert len(chain.rounds) == 5  # 4 rounds at level 0, 1 at level 1
    deferred = circuits.chain_circuit(2, 1, form="deferred")
    deferred_names = [inst.operation.name for inst in deferred.circuit.data]
    assert "if_else" not in deferred_names
    assert deferred_names.count("measure") == 3  # the flag and the end pair, at the end


def _sampled_correlators(chain, success, amplitude, dephasing, shots, seed):
    """<XX>, <YY>, <ZZ> of the kept end pair of a dynamic chain sampled on Aer, and the kept
    fraction; the noise model of the mixtures, the settings bound per circuit."""
    mixtures = [noise.swap_mixture(success)]
    if dephasing:
        mixtures.append(circuits.dephasing_mixture(dephasing))
    simulator = AerSimulator(noise_model=noise.noise_model(mixtures), max_parallel_threads=1)
    directions = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}
    out, kept_total, total = [], 0, 0
    for k, axis in enumerate("XYZ"):
        (bound,) = mixup_circuits.bind_settings(
            chain.circuit, [directions[axis]], [directions[axis]]
        )
        angle = {p: mixup_circuits.amplitude_angle(amplitude) for p in bound.parameters}
        counts = (
            simulator.run(bound.assign_parameters(angle), shots=shots, seed_simulator=seed + k)
            .result()
            .get_counts()
        )
        parity = n_kept = 0
        for key, n in counts.items():
            bits = key.replace(" ", "")[::-1]  # bits[i] = clbit i
            if any(bits[a] != bits[b] for a, b in chain.rounds):
                continue
            n_kept += n
            parity += n * (1 if bits[chain.meas[0]] == bits[chain.meas[1]] else -1)
        out.append(parity / n_kept)
        kept_total += n_kept
        total += shots
    return np.array(out), kept_total / total


def _fidelity(correlators):
    xx, yy, zz = correlators
    return (1 + xx - yy + zz) / 4


@pytest.mark.parametrize(("links", "rounds"), [(2, 0), pytest.param(4, 0, marks=pytest.mark.slow)])
def test_feed_forward_matters_the_sampled_chain_needs_its_corrections(links, rounds):
    """With corrections the sampled fidelity is the theory's; without, it is far from it.

    Each correlator from 3000 shots has sd <= 0.018, the fidelity <= 0.016: 5 sd is 0.08, a
    false failure below 1e-6 (seeded).
    """
    success, amplitude = 0.95, BELL
    expected, _ = theory.chain_state(links, success, amplitude, rounds)
    truth = float(theory.figures_of_merit(expected)["fidelity"])
    with_ff, kept = _sampled_correlators(
        circuits.chain_circuit(links, rounds), success, amplitude, 0.0, 3000, 5
    )
    assert kept == 1.0
    assert abs(_fidelity(with_ff) - truth) < 0.08
    without, _ = _sampled_correlators(
        circuits.chain_circuit(links, rounds, corrections=False), success, amplitude, 0.0, 3000, 5
    )
    assert abs(_fidelity(without) - truth) > 0.3  # uncorrected outcomes average to ~1/4-1/2


def test_removing_the_corrections_breaks_the_exact_agreement():
    """Perfect links (S = 1): the corrected chain gives |Phi+> exactly, the uncorrected one a
    pair averaged over the four Bell outcomes (fidelity 1/4)."""
    from qiskit.quantum_info import DensityMatrix, partial_trace

    from qkit import measures

    def pair(corrections):
        chain = circuits.chain_circuit(2, 0, form="deferred", corrections=corrections)
        body = noise.strip_sites(chain.circuit.remove_final_measurements(inplace=False))
        angle = mixup_circuits.amplitude_angle(BELL)
        body = body.assign_parameters(
            {p: angle if p.name == "pair_angle" else 0.0 for p in body.parameters}
        )
        traced = [q for q in range(body.num_qubits) if q not in chain.kept]
        rho = partial_trace(DensityMatrix(body), traced).data
        return measures.from_qiskit_order(rho)

    fidelity = [float(theory.figures_of_merit(pair(c))["fidelity"]) for c in (True, False)]
    assert fidelity[0] == pytest.approx(1.0, abs=1e-12)
    assert fidelity[1] == pytest.approx(0.25, abs=1e-12)


@pytest.mark.slow
def test_sampled_chain_with_a_round_and_dephasing_agrees_with_the_theory():
    """L = 2, K = 1, P = 0.05 sampled shot by shot: kept fraction within 5 sd (sd ~0.008),
    fidelity within 5 sd of its sampling error (false failure below 1e-5, seeded)."""
    success, amplitude, dephasing = 0.9, BELL, 0.05
    chain = circuits.chain_circuit(2, 1, dephasing=True)
    correlators, kept = _sampled_correlators(chain, success, amplitude, dephasing, 1500, 9)
    expected, _ = theory.chain_state(2, success, amplitude, 1, dephasing)
    truth = float(theory.figures_of_merit(expected)["fidelity"])
    p = _kept_probability(2, success, amplitude, 1, dephasing)
    assert abs(kept - p) < 5 * np.sqrt(p * (1 - p) / 4500)
    sd = 0.5 / np.sqrt(p * 1500)  # each correlator's sd <= 1/sqrt(kept shots); F adds 3 / 4
    assert abs(_fidelity(correlators) - truth) < 5 * 0.75 * sd * 2


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"links": 3}, "links"),
        ({"links": 2, "rounds": -1}, "rounds"),
        ({"links": 2, "form": "quantum"}, "form"),
        ({"links": 2, "idle": -5.0}, "idle"),
        ({"links": 4, "rounds": 2}, "qubits"),
        ({"links": 1024, "rounds": 64}, "pairs"),
    ],
)
def test_bad_chains_are_refused_in_one_line(kwargs, needle):
    with pytest.raises(ValueError, match=needle) as info:
        circuits.chain_circuit(**kwargs)
    assert "\n" not in str(info.value)
