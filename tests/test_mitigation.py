"""Readout-error mitigation (qkit.mitigation): M3's algorithm, compared with mthree number by
number and checked on an IBM fake device."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qkit.mitigation import (
    ReadoutCalibration,
    balanced_calibration_bits,
    balanced_calibration_circuits,
    calibrate_readout,
    measured_qubits,
    mitigate_counts,
    nearest_probabilities,
)

needs_runtime = pytest.mark.skipif(
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


@needs_runtime
def test_calibrated_readout_errors_match_the_device_calibration_data(manila):
    backend, _, calibration = manila
    for qubit, error in calibration.readout_errors.items():
        reported = backend.device.target["measure"][(qubit,)].error
        # binomial standard error of a mean of two rates, each from ~SHOTS shots (an upper
        # bound: the mean's is smaller); 5 sd two-sided, 5.7e-7 per qubit (seeded)
        sigma = np.sqrt(reported * (1 - reported) / SHOTS)
        assert abs(error - reported) < 5 * sigma + 1e-3, (qubit, error, reported)
    for matrix in calibration.matrices.values():
        np.testing.assert_allclose(matrix.sum(axis=0), 1.0)  # columns are distributions


@needs_runtime
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
        # seeds 23-25: raw 0.032-0.040, mitigated 0.001-0.008 (the CX's own errors remain) with
        # a sampling sd ~0.003 at 20,000 shots: the bound raw / 2 ~0.02 is ~4 sd away, one-sided
        # ~3e-5 per circuit (seeded)
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
    with pytest.raises(ValueError, match="only the characters 0 and 1"):
        calibration.mitigate({"0x": 1}, qubits=[0, 1])
    wide = ReadoutCalibration("test", {q: np.eye(2) for q in range(13)}, shots=0)
    with pytest.raises(ValueError, match="at most 4096"):
        wide.mitigate({format(i, "013b"): 1 for i in range(4097)}, qubits=list(range(13)))
    unmeasured = QuantumCircuit(2, 2)
    unmeasured.measure(0, 0)
    with pytest.raises(ValueError, match=r"classical bits \[1\] are never measured"):
        measured_qubits(unmeasured)


def test_measured_qubits_follow_the_last_measurement_of_each_clbit():
    circuit = QuantumCircuit(4, 2)
    circuit.measure([1, 3], [0, 1])
    circuit.measure(2, 0)  # a later measurement into clbit 0 overrides the first
    assert measured_qubits(circuit) == [2, 3]


# -- the same numbers as mthree (M3), the reference implementation -------------------------


def random_assignment(rng: np.random.Generator, worst: float) -> np.ndarray:
    """A[read, prepared] with misassignment rates up to ``worst``."""
    e0, e1 = rng.uniform(0, worst, 2)
    return np.array([[1 - e0, e1], [e0, 1 - e1]])


def m3_mitigated(matrices: dict[int, np.ndarray], counts: dict[str, int], qubits: list[int]):
    mthree = pytest.importorskip("mthree")
    cals: list[np.ndarray | None] = [None] * (max(matrices) + 1)
    for qubit, matrix in matrices.items():
        cals[qubit] = np.asarray(matrix, dtype=np.float32)
    mitigator = mthree.M3Mitigation()
    mitigator.cals_from_matrices(cals)
    quasi = mitigator.apply_correction(dict(counts), qubits)
    shots = sum(counts.values())
    probabilities = quasi.nearest_probability_distribution()
    return quasi, {k: float(v) * shots for k, v in probabilities.items()}


@pytest.mark.parametrize("observed", ["all", "some"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_mitigated_counts_are_mthrees(n, observed):
    """Random assignment matrices and counts on 1-6 qubits (beyond 3 qubits M3 cuts the
    reduced matrix at Hamming distance 3): the same quasi-probabilities (float32, bit for bit)
    and the same mitigated counts, keys and their order as M3's direct solve + nearest
    probability distribution."""
    rng = np.random.default_rng(100 * n + (observed == "all"))
    for _ in range(15):
        qubits = [int(q) for q in rng.permutation(12)[:n]]
        matrices = {q: random_assignment(rng, 0.2) for q in qubits}
        calibration = ReadoutCalibration("test", matrices, shots=0)
        keys = [format(i, f"0{n}b") for i in rng.permutation(2**n)]  # in no particular order
        if observed == "some":
            keys = keys[: max(1, int(rng.integers(1, 2**n)))]
        scale = int(rng.choice([1, 1, 100, 10_000]))  # up to 4e7 shots: float32 counts round
        counts = {k: int(rng.integers(1, 4000)) * scale + int(rng.integers(0, 7)) for k in keys}
        quasi, expected = m3_mitigated(matrices, counts, qubits)
        ours = calibration.quasi_probabilities(counts, qubits)
        assert {k: float(v) for k, v in ours.items()} == {k: float(v) for k, v in quasi.items()}
        mitigated = calibration.mitigate(counts, qubits)
        assert list(mitigated) == list(expected)  # kept keys, in M3's order
        np.testing.assert_allclose(list(mitigated.values()), list(expected.values()), rtol=1e-6)
        assert sum(mitigated.values()) == pytest.approx(sum(counts.values()), rel=1e-5)


def test_mitigated_counts_are_mthrees_where_the_projection_drops_bitstrings():
    """Strong readout errors and a sharp distribution: the quasi-probabilities go negative and
    the nearest probability distribution drops bitstrings, as M3's does."""
    rng = np.random.default_rng(7)
    dropped = 0
    for _ in range(40):
        qubits = [0, 1, 2]
        matrices = {q: random_assignment(rng, 0.3) for q in qubits}
        counts = {k: int(rng.integers(0, 50)) for k in ("000", "001", "010", "100", "110")}
        counts = {k: v for k, v in counts.items() if v} | {"111": 3000}
        _, expected = m3_mitigated(matrices, counts, qubits)
        mitigated = ReadoutCalibration("test", matrices, shots=0).mitigate(counts, qubits)
        assert list(mitigated) == list(expected)
        np.testing.assert_allclose(list(mitigated.values()), list(expected.values()), rtol=1e-6)
        dropped += len(mitigated) < len(counts)
    assert dropped >= 10  # the case really occurs


def test_nearest_probabilities_solve_the_quadratic_program():
    """Independent check of Smolin et al.: the result is the Euclidean projection of the
    quasi-probabilities onto the simplex (KKT: p = max(q - t, 0) with sum p = 1)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        q = rng.normal(0.2, 0.3, int(rng.integers(1, 12)))
        q += (1 - q.sum()) / q.size  # quasi-probabilities sum to one
        keys = [f"{i:04b}" for i in range(q.size)]
        p = nearest_probabilities(dict(zip(keys, q.tolist(), strict=True)))
        full = np.array([p.get(k, 0.0) for k in keys])
        # the threshold t by bisection, independent of the sorting algorithm
        lo, hi = q.min() - 1, q.max()
        for _ in range(200):
            t = (lo + hi) / 2
            lo, hi = (t, hi) if np.maximum(q - t, 0).sum() > 1 else (lo, t)
        np.testing.assert_allclose(full, np.maximum(q - t, 0), atol=1e-12)
        assert all(v > 0 for v in p.values())


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 12])
def test_calibration_bits_and_circuits_are_mthrees(n):
    mthree_circuits = pytest.importorskip("mthree.circuits")
    from mthree.generators import HadamardGenerator

    generator = HadamardGenerator(n)
    expected_bits = [np.asarray(bits) for bits in generator]
    bits = balanced_calibration_bits(n)
    assert len(bits) == len(expected_bits)
    for ours, theirs in zip(bits, expected_bits, strict=True):
        assert ours.dtype == theirs.dtype and ours.tolist() == theirs.tolist()
    qubits = [int(q) for q in np.random.default_rng(n).permutation(20)[:n]]
    expected = mthree_circuits.balanced_cal_circuits(generator, qubits, 20)
    circuits = balanced_calibration_circuits(qubits, 20)

    def listing(circuit: QuantumCircuit) -> list:
        return [
            (
                i.operation.name,
                [circuit.find_bit(q).index for q in i.qubits],
                [circuit.find_bit(c).index for c in i.clbits],
            )
            for i in circuit.data
        ]

    assert [listing(c) for c in circuits] == [listing(c) for c in expected]
    assert all(c.num_qubits == 20 and c.num_clbits == n for c in circuits)
    with pytest.raises(ValueError, match="num_qubits must be a positive integer"):
        balanced_calibration_bits(0)
