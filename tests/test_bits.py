"""One outcome map and one measured-qubit scan (:mod:`qkit.bits`), checked against Qiskit's own
counts and circuits rather than against a second hand-written table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

from qkit import pairs
from qkit.bits import measurements, outcome_table, read_qubits


def aer_key(circuit: QuantumCircuit) -> int:
    """Qiskit's integer of the one bit string a deterministic circuit gives on Aer."""
    from qiskit_aer import AerSimulator

    (key,) = AerSimulator().run(circuit, shots=8, seed_simulator=1).result().get_counts()
    return int(key.replace(" ", ""), 2)


@pytest.mark.parametrize("b_a, b_b", list(itertools.product((0, 1), repeat=2)))
def test_pair_outcomes_read_qiskits_counts_as_2_bA_plus_bB(b_a, b_b):
    qc = QuantumCircuit(2)
    if b_a:
        qc.x(0)
    if b_b:
        qc.x(1)
    measured = pairs.bind_settings(pairs.measure_directions(qc), [[0, 0, 1]], [[0, 0, 1]])[0]
    assert pairs.pair_outcomes()[aer_key(measured)].argmax() == 2 * b_a + b_b


def test_outcome_table_passes_the_bits_in_clbit_order_to_the_rule():
    """Four clbits in two registers, as the distillation circuit has them."""
    table = outcome_table(4, lambda t_a, t_b, b_a, b_b: 2 * b_a + b_b if t_a == t_b else 4, 5)
    for bits in itertools.product((0, 1), repeat=4):  # clbits 0..3
        qc = QuantumCircuit(QuantumRegister(4), ClassicalRegister(2, "t"), ClassicalRegister(2))
        for k, bit in enumerate(bits):
            if bit:
                qc.x(k)
        qc.measure(range(4), range(4))
        t_a, t_b, b_a, b_b = bits
        assert table[aer_key(qc)].argmax() == (2 * b_a + b_b if t_a == t_b else 4)
    assert table.sum(axis=1).tolist() == [1.0] * 16


def test_outcome_table_refuses_an_outcome_out_of_range():
    with pytest.raises(ValueError, match=r"outcome 4 of bit string 3 is not in \[0, 4\)"):
        outcome_table(2, lambda a, b: 4 if a and b else 0, 4)


def test_measurements_split_the_gates_from_the_qubit_of_every_bit():
    qc = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1, "x"), ClassicalRegister(1, "y"))
    qc.h(2)
    qc.barrier()
    qc.cx(2, 0)
    qc.measure(0, 1)
    qc.measure(2, 0)
    qc.x(1)  # a gate on a qubit never measured may follow
    body, qubits = measurements(qc)
    assert qubits == [2, 0]
    assert [i.operation.name for i in body.data] == ["h", "cx", "x"]
    assert [r.name for r in body.cregs] == ["x", "y"]  # registers kept: save_probabilities


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda qc: (qc.measure(0, 0), qc.measure(1, 0)), "classical bit 0 is measured twice"),
        (lambda qc: qc.measure(0, 0), r"classical bits \[1\] are never measured"),
        (lambda qc: (qc.measure([0, 1], [0, 1]), qc.h(1)), "h acts on a qubit after its meas"),
    ],
)
def test_measurements_refuse_what_is_not_a_final_measurement_of_every_bit(build, message):
    qc = QuantumCircuit(2, 2)
    build(qc)
    with pytest.raises(ValueError, match=message):
        measurements(qc)


def test_read_qubits_reads_the_last_qubit_of_each_bit():
    qc = QuantumCircuit(3, 2)
    qc.measure(0, 0)
    qc.h(0)
    qc.measure(2, 0)
    qc.measure(1, 1)
    assert read_qubits(qc) == [2, 1]


def test_read_qubits_of_a_transpiled_circuit():
    """On a device's layout (registers renamed, ancillas, idle qubits) and with a bit missing."""
    from qiskit import transpile
    from qiskit.transpiler import CouplingMap

    qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(1, "a"), ClassicalRegister(1, "b"))
    qc.h(0)
    qc.cx(0, 1)
    qc.measure(1, 0)
    qc.measure(0, 1)
    compiled = transpile(
        qc, coupling_map=CouplingMap.from_line(6), initial_layout=[4, 3], seed_transpiler=1
    )
    assert read_qubits(compiled) == [3, 4]
    missing = QuantumCircuit(2, 2)
    missing.measure(0, 0)
    with pytest.raises(ValueError, match=r"classical bits \[1\] are never measured"):
        read_qubits(missing)


def test_setting_angles_bind_the_directions_they_came_from():
    rng = np.random.default_rng(5)
    dirs_a, dirs_b = rng.normal(size=(2, 6, 3))
    angles = pairs.setting_angles(dirs_a, dirs_b)
    assert list(angles) == list(pairs.SETTING_NAMES)
    theta, phi = angles["theta_B"], angles["phi_B"]
    unit = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1)
    assert np.allclose(unit, dirs_b / np.linalg.norm(dirs_b, axis=-1, keepdims=True))
