"""Readout-error mitigation (qkit.mitigation) with M3, checked on an IBM fake device."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qkit.mitigation import ReadoutCalibration, calibrate_readout, measured_qubits, mitigate_counts

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("qiskit_ibm_runtime") is None,
    reason="fake devices need qiskit-ibm-runtime (qkit-comm[ibm])",
)
SHOTS = 20_000


def bell(basis: str) -> QuantumCircuit:
    """Phi+ measured in ZZ or XX; both give 00 and 11 with probability 1/2 each."""
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    if basis == "XX":
        circuit.h([0, 1])
    circuit.measure([0, 1], [0, 1])
    return circuit


def total_variation(counts: dict[str, float], ideal: dict[str, float]) -> float:
    shots = sum(counts.values())
    keys = set(counts) | set(ideal)
    return 0.5 * sum(abs(counts.get(k, 0) / shots - ideal.get(k, 0)) for k in keys)


@pytest.fixture(scope="module")
def manila():
    from qkit.backends import get_backend

    backend = get_backend("fake:manila", seed=21)
    circuits = backend.transpile([bell("ZZ"), bell("XX")])
    qubits = sorted({q for c in circuits for q in measured_qubits(c)})
    calibration = calibrate_readout(backend, qubits, shots=SHOTS, seed=22)
    return backend, circuits, calibration


def test_calibrated_readout_errors_match_the_device_calibration_data(manila):
    backend, _, calibration = manila
    for qubit, error in calibration.readout_errors.items():
        reported = backend.device.target["measure"][(qubit,)].error
        # binomial standard error of a mean of two rates, each from ~SHOTS shots
        sigma = np.sqrt(reported * (1 - reported) / SHOTS)
        assert abs(error - reported) < 5 * sigma + 1e-3, (qubit, error, reported)
    for matrix in calibration.matrices.values():
        np.testing.assert_allclose(matrix.sum(axis=0), 1.0)  # columns are distributions


def test_mitigated_bell_statistics_are_closer_to_ideal_than_raw(manila):
    backend, circuits, calibration = manila
    raw = backend.run([(c,) for c in circuits], shots=SHOTS, seed=23)
    mitigated = mitigate_counts(calibration, raw, circuits)
    ideal = {"00": 0.5, "11": 0.5}
    for raw_counts, mitigated_counts in zip(raw, mitigated, strict=True):
        assert sum(mitigated_counts.values()) == pytest.approx(SHOTS)
        assert all(v >= 0 for v in mitigated_counts.values())
        raw_tv = total_variation(raw_counts, ideal)
        mitigated_tv = total_variation(mitigated_counts, ideal)
        assert mitigated_tv < raw_tv / 2, (raw_tv, mitigated_tv)


def test_mitigation_inverts_the_tensored_assignment_matrix():
    # Independent computation: with every outcome observed and a positive solution,
    # M3's result is the exact solution of (A_q1 (x) A_q0) p = observed frequencies.
    a0 = np.array([[0.97, 0.05], [0.03, 0.95]])
    a1 = np.array([[0.92, 0.10], [0.08, 0.90]])
    calibration = ReadoutCalibration("test", {0: a0, 5: a1}, shots=0)
    truth = np.array([0.4, 0.1, 0.2, 0.3])  # index = int(bitstring), clbit 0 rightmost
    observed = np.kron(a1, a0) @ truth * 10_000
    counts = {format(i, "02b"): observed[i] for i in range(4)}
    mitigated = calibration.mitigate(counts, qubits=[0, 5])
    np.testing.assert_allclose(
        [mitigated[format(i, "02b")] for i in range(4)], truth * 10_000, rtol=1e-4
    )
    # clbit order matters: swapping the qubits is a different correction
    swapped = calibration.mitigate(counts, qubits=[5, 0])
    assert not np.allclose([swapped[format(i, "02b")] for i in range(4)], truth * 10_000, rtol=1e-3)


def test_batched_counts_keep_their_shape_and_bad_input_is_rejected():
    calibration = ReadoutCalibration("test", {0: np.eye(2), 1: np.eye(2)}, shots=0)
    batch = np.empty(2, dtype=object)
    batch[0], batch[1] = {"00": 5, "11": 5}, {"01": 10}
    out = calibration.mitigate(batch, qubits=[0, 1])
    assert out.shape == (2,) and out[1] == {"01": 10.0}
    with pytest.raises(ValueError, match="were not calibrated"):
        calibration.mitigate({"000": 1}, qubits=[0, 1, 2])
    with pytest.raises(ValueError, match="expected 2"):
        calibration.mitigate({"000": 1}, qubits=[0, 1])
    unmeasured = QuantumCircuit(2, 2)
    unmeasured.measure(0, 0)
    with pytest.raises(ValueError, match=r"classical bits \[1\] are never measured"):
        measured_qubits(unmeasured)


def test_measured_qubits_follow_the_last_measurement_of_each_clbit():
    circuit = QuantumCircuit(4, 2)
    circuit.measure([1, 3], [0, 1])
    circuit.measure(2, 0)  # a later measurement into clbit 0 overrides the first
    assert measured_qubits(circuit) == [2, 3]
