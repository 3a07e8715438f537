"""Readout-error mitigation for device runs: M3's algorithm, for the few qubits qkit reads.

A device misreads each measured qubit with probabilities that depend on the state it was in;
the correction uses per-qubit 2x2 assignment matrices ``A[read, prepared] = P(read | prepared)``
measured on the *physical* qubits a transpiled circuit reads. This module is the matrix-free
readout mitigation M3 (Nation, Kang, Sundaresan, Gambetta, PRX Quantum 2, 040326 (2021);
the ``mthree`` package) written out for small registers, so that a run needs neither mthree
nor what it imports (qiskit-ibm-runtime); the tests compare it with mthree 3.0 number by
number:

- calibration: M3's balanced circuits (its ``balanced_cal_circuits`` with the
  ``HadamardGenerator`` of Bravyi et al., PRA 103, 042605 (2021)), run through
  :meth:`Backend.run` so that they are seeded on simulators and grouped with the experiment on
  IBM Quantum;
- correction: the tensor product of the assignment matrices reduced to the observed bitstrings
  and to pairs within Hamming distance ``min(n, 3)`` (M3's default), each column renormalized to
  sum to one (PRX Quantum Eq. (5)), a direct LU solve in single precision as M3 does, then the
  nearest probability distribution in the 2-norm (Smolin, Gambetta, Smith, PRL 108, 070502
  (2012), Eq. (10)).

Mitigated counts are *floats*: the nearest probability distribution times the number of
shots, over the observed bitstrings that keep a positive probability (M3 works in that
subspace). Estimators that take counts arrays can use them unchanged; their binomial error
bars then ignore the (small) extra variance of the calibration.

Bitstrings use the convention of :mod:`qkit.backends`: clbit 0 is the rightmost character.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from qiskit import QuantumCircuit

from qkit import progress
from qkit.backends import Backend
from qkit.bits import read_qubits

__all__ = [
    "ReadoutCalibration",
    "balanced_calibration_bits",
    "balanced_calibration_circuits",
    "calibrate_readout",
    "measured_qubits",
    "mitigate_counts",
    "nearest_probabilities",
]

#: M3's default Hamming-distance cut-off of the reduced matrix is ``min(n, DISTANCE)``.
DISTANCE = 3

#: Observed bitstrings up to which M3 solves directly (its ``iter_threshold``); beyond, M3
#: iterates (GMRES), which qkit does not: its experiments read a few qubits.
MAX_BITSTRINGS = 4096


def measured_qubits(circuit: QuantumCircuit) -> list[int]:
    """Physical qubit read into each classical bit of a transpiled circuit (index = clbit).

    Raises ``ValueError`` if a classical bit is never measured (the correction needs every
    bit's qubit).

    >>> qc = QuantumCircuit(5, 2); _ = qc.measure(3, 0); _ = qc.measure(1, 1)
    >>> measured_qubits(qc)
    [3, 1]
    """
    try:
        return read_qubits(circuit)
    except ValueError as exc:
        raise ValueError(f"{exc}; cannot mitigate readout") from None


def balanced_calibration_bits(num_qubits: int) -> list[np.ndarray]:
    """The bit arrays of M3's ``HadamardGenerator(num_qubits)``, in its order.

    Row ``i`` of a Hadamard matrix of size ``2**p`` (``p = floor(log2(n)) + 1``) read at
    columns ``1..n``: bit ``k`` of array ``i`` is the parity of ``i & (k + 1)``. Every qubit
    is prepared in 0 and in 1 equally often, in balanced contexts of the others (Bravyi et al.,
    PRA 103, 042605 (2021)). Array index ``k`` is qubit ``n - 1 - k`` (M3 reverses it).

    >>> [b.tolist() for b in balanced_calibration_bits(2)]
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    if isinstance(num_qubits, bool) or not isinstance(num_qubits, int) or num_qubits < 1:
        raise ValueError(f"num_qubits must be a positive integer, got {num_qubits!r}")
    length = 2 ** (int(math.floor(math.log2(num_qubits) + 1)))
    columns = np.arange(1, num_qubits + 1)
    return [(np.bitwise_count(index & columns) % 2).astype(np.uint8) for index in range(length)]


def balanced_calibration_circuits(
    qubits: Sequence[int], num_system_qubits: int
) -> list[QuantumCircuit]:
    """M3's ``balanced_cal_circuits(HadamardGenerator(len(qubits)), qubits, num_system_qubits)``.

    Circuit ``i`` flips the physical qubits whose bit is 1 in :func:`balanced_calibration_bits`
    (reversed: entry ``k`` of the reversed array belongs to ``qubits[k]``) and measures
    ``qubits[k]`` into clbit ``k``.
    """
    qubits = [int(q) for q in qubits]
    circuits = []
    for bits in balanced_calibration_bits(len(qubits)):
        circuit = QuantumCircuit(num_system_qubits, len(qubits))
        for k, bit in enumerate(bits[::-1]):
            if bit == 1:
                circuit.x(qubits[k])
        circuit.measure(qubits, range(len(qubits)))
        circuits.append(circuit)
    return circuits


def nearest_probabilities(quasi: dict[str, float]) -> dict[str, float]:
    """The probability distribution nearest to ``quasi`` in the 2-norm (Smolin et al. 2012).

    The algorithm of PRL 108, 070502, as M3's ``quasi_to_probs``: walk the values from the
    most negative up, dropping each one whose value plus the running deficit shared over the
    remaining entries is negative, and spread the deficit evenly over those kept. The result
    holds only the kept keys, in increasing order of their quasi-probability; the values keep
    the type of the inputs' (M3 adds a double to its float32 quasi-probabilities).

    >>> nearest_probabilities({"00": 0.625, "01": -0.125, "10": 0.5})
    {'10': 0.4375, '00': 0.5625}
    """
    remaining = len(quasi)
    beta = 0.0
    out: dict[str, float] = {}
    for key, value in sorted(quasi.items(), key=lambda item: item[1]):
        if float(value) + beta / remaining < 0:
            beta += float(value)
            remaining -= 1
        else:
            out[key] = value + beta / remaining
    return out


def _reduced_assignment_matrix(bits: np.ndarray, cals: np.ndarray, distance: int) -> np.ndarray:
    """M3's reduced matrix over the observed bitstrings, columns renormalized (float32).

    ``bits[i, k]`` is character ``k`` of observed bitstring ``i`` and ``cals[k]`` the raveled
    ``A[read, prepared]`` of the qubit that character belongs to. Element ``(i, j)`` is
    ``prod_k A_k[bits[i, k], bits[j, k]]``, multiplied in the order of ``k`` in single
    precision as M3's C kernel, zero beyond Hamming distance ``distance``; each column is then
    multiplied by the reciprocal of its sum over the observed rows, accumulated row by row
    (what M3's compiled kernel does: the same float32 numbers).
    """
    m, n = bits.shape
    matrix = np.ones((m, m), dtype=np.float32)
    for k in range(n):
        matrix *= cals[k][2 * bits[:, k, None] + bits[None, :, k]]
    if distance < n:
        apart = np.zeros((m, m), dtype=np.uint8)  # Hamming distances, one bit at a time
        for k in range(n):
            apart += bits[:, k, None] != bits[None, :, k]
        matrix[apart > distance] = 0
    norms = np.zeros(m, dtype=np.float32)
    for row in matrix:
        norms += row
    matrix *= np.float32(1) / norms  # M3's compiled kernel multiplies by the reciprocal
    return matrix


@dataclass
class ReadoutCalibration:
    """Per-qubit assignment matrices ``A[read, prepared]`` measured on one backend."""

    backend: str
    matrices: dict[int, np.ndarray]
    shots: int
    seed: int | None = None
    _cals: dict[tuple[int, ...], np.ndarray] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def qubits(self) -> list[int]:
        return sorted(self.matrices)

    @property
    def readout_errors(self) -> dict[int, float]:
        """Mean misassignment probability ``(P(1|0) + P(0|1)) / 2`` per qubit."""
        return {q: float((m[1, 0] + m[0, 1]) / 2) for q, m in self.matrices.items()}

    def _cals_of(self, qubits: tuple[int, ...]) -> np.ndarray:
        """Row ``k``: the raveled float32 matrix of the qubit read into character ``k``."""
        cals = self._cals.get(qubits)
        if cals is None:
            cals = np.array(
                [np.asarray(self.matrices[q], dtype=np.float32).ravel() for q in qubits[::-1]]
            )
            self._cals[qubits] = cals
        return cals

    def quasi_probabilities(self, counts: dict[str, int], qubits: Sequence[int]) -> dict:
        """M3's direct solve: quasi-probabilities over the observed bitstrings (float32).

        The observed bitstrings in lexicographic order, their frequencies in single precision,
        the reduced and renormalized assignment matrix, one LU solve (M3's ``direct_solver``;
        M3 switches to GMRES above 4096 observed bitstrings, qkit's experiments read a few
        qubits).
        """
        keys = sorted(counts)
        cals = self._cals_of(tuple(int(q) for q in qubits))
        bits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(
            len(keys), len(cals)
        ) - np.uint8(48)
        values = np.array([counts[k] for k in keys], dtype=np.float32).astype(float)
        # M3: counts held as float32, divided by their sum in double, stored as float32
        frequencies = (values / sum(values.tolist())).astype(np.float32)
        matrix = _reduced_assignment_matrix(bits, cals, min(len(cals), DISTANCE))
        # scipy's LAPACK (sgetrf/sgetrs), as M3's direct_solver: the same float32 solution
        from scipy.linalg import LinAlgWarning, lu_factor, lu_solve

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LinAlgWarning)  # a zero pivot: the error below
            lu = lu_factor(matrix, check_finite=False)
        if not np.all(np.isfinite(lu[0])) or np.any(np.diag(lu[0]) == 0):
            raise ValueError(
                f"the assignment matrices of qubits {list(qubits)} are singular: "
                "cannot mitigate readout"
            )
        solution = lu_solve(lu, frequencies, check_finite=False)
        return dict(zip(keys, solution, strict=True))

    def mitigate(
        self, counts: dict[str, int] | np.ndarray, qubits: Sequence[int]
    ) -> dict[str, float] | np.ndarray:
        """Mitigated counts (nearest probability distribution x shots, floats).

        ``qubits[k]`` is the physical qubit read into clbit ``k`` (see
        :func:`measured_qubits`). ``counts`` is a dict or an object array of dicts, as
        returned by :meth:`Backend.run`; the result has the same form.
        """
        qubits = [int(q) for q in qubits]
        unknown = sorted(set(qubits) - set(self.matrices))
        if unknown:
            raise ValueError(f"qubits {unknown} were not calibrated (calibrated: {self.qubits})")
        if isinstance(counts, np.ndarray):
            out = np.empty(counts.shape, dtype=object)
            for index in np.ndindex(counts.shape):
                out[index] = self.mitigate(counts[index], qubits)
            return out
        if not counts:
            raise ValueError("counts must not be empty")
        width = {len(k) for k in counts}
        if width != {len(qubits)}:
            raise ValueError(
                f"bitstrings have length {width}, expected {len(qubits)} (one per qubit)"
            )
        if set("".join(counts)) - {"0", "1"}:
            raise ValueError("bitstrings must hold only the characters 0 and 1")
        if len(counts) > MAX_BITSTRINGS:
            raise ValueError(
                f"counts hold {len(counts)} distinct bitstrings; readout mitigation solves "
                f"directly for at most {MAX_BITSTRINGS} (measure fewer qubits)"
            )
        shots = sum(counts.values())
        probabilities = nearest_probabilities(self.quasi_probabilities(dict(counts), qubits))
        return {str(k): float(v) * shots for k, v in probabilities.items()}


def calibrate_readout(
    backend: Backend, qubits: Sequence[int], *, shots: int = 10_000, seed: int | None = None
) -> ReadoutCalibration:
    """Measure the assignment matrices of ``qubits`` on ``backend`` (M3 balanced method).

    Each qubit is prepared in 0 and in 1 in about ``shots`` shots each, in random
    (Hadamard-balanced) contexts of the other qubits, all in one sampler call. ``seed``
    makes simulator calibrations reproducible (a stream derived from it, independent of an
    experiment sampled with the same seed).
    """
    qubits = sorted({int(q) for q in qubits})
    if not qubits or qubits[0] < 0 or qubits[-1] >= backend.num_qubits:
        raise ValueError(
            f"qubits must be physical qubits in [0, {backend.num_qubits - 1}], got {qubits}"
        )
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    # prepared[i][k]: the state circuit i prepares on qubits[k] (read into clbit k)
    prepared = [bits[::-1].astype(int) for bits in balanced_calibration_bits(len(qubits))]
    n_circuits = len(prepared)
    per_circuit = math.ceil(2 * shots / n_circuits)
    # a stream of its own, so an experiment run with the same seed is independent of it
    cal_seed = (
        None if seed is None else int(np.random.SeedSequence([seed, 0x5EAD]).generate_state(1)[0])
    )
    # a seeded calibration on a local simulator is a function of the device's calibration,
    # the qubits, the shots and the seed: kept in the device's on-disk cache
    cache = backend.device_cache() if cal_seed is not None and not backend.caps.cloud else None
    key = f"readout|{qubits}|{per_circuit}x{n_circuits}|{cal_seed}"
    stored = cache.get_json("readout", key) if cache is not None else None
    if stored is not None:
        tally = np.asarray(stored, dtype=float).reshape(len(qubits), 2, 2)
    else:
        circuits = balanced_calibration_circuits(qubits, qubits[-1] + 1)
        with progress.phase("calibrating readout"):
            results = backend.run([(c,) for c in circuits], shots=per_circuit, seed=cal_seed)
        # tally[k, p, r]: qubit k prepared in p and read as r
        tally = np.zeros((len(qubits), 2, 2))
        for prep, counts in zip(prepared, results, strict=True):
            for bitstring, n in cast(dict[str, int], counts).items():  # PUBs without parameters
                read = np.array([int(b) for b in bitstring[::-1]])
                tally[np.arange(len(qubits)), prep, read] += n
        if cache is not None:
            cache.put_json("readout", key, tally.ravel().tolist())
    matrices = {}
    for k, qubit in enumerate(qubits):
        prep_totals = tally[k].sum(axis=1, keepdims=True)
        matrices[qubit] = (tally[k] / prep_totals).T  # A[read, prepared]
    return ReadoutCalibration(backend.name, matrices, per_circuit * n_circuits, seed)


def mitigate_counts(
    calibration: ReadoutCalibration,
    counts: Sequence[dict[str, int] | np.ndarray],
    circuits: Sequence[QuantumCircuit],
) -> list[dict[str, float] | np.ndarray]:
    """Mitigate the counts of each PUB given its transpiled circuit (same order)."""
    return [
        calibration.mitigate(c, measured_qubits(circuit))
        for c, circuit in zip(counts, circuits, strict=True)
    ]


def mitigate_pooled(calibration, prepared, results) -> list:
    """Readout-mitigated counts per PUB, the branches of one setting pooled first.

    Readout errors depend only on the physical qubits read, so the branch PUBs of one
    measurement setting that read the same qubits are mitigated together: M3's projection onto
    a probability distribution is nonlinear, and biased on the few shots of a single branch
    (a two-slot letter spreads its shots over 96 branches). The pooled result goes to the
    group's first PUB, empty counts to the others (``qkit.sampling.collect`` sums them per
    setting).
    """
    groups: dict[tuple, list[int]] = {}
    for position, ((index, k), circuit) in enumerate(
        zip(prepared.owners, prepared.circuits, strict=True)
    ):
        key = (index, k, tuple(measured_qubits(circuit))) if k is not None else (position,)
        groups.setdefault(key, []).append(position)
    out: list = [{} for _ in results]
    for key, positions in groups.items():
        qubits = measured_qubits(prepared.circuits[positions[0]])
        if len(key) == 1:  # a PUB holding every setting of its circuit: mitigate it as it is
            out[positions[0]] = calibration.mitigate(results[positions[0]], qubits)
            continue
        pooled: dict[str, float] = {}
        for position in positions:
            for bits, n in results[position].items():
                pooled[bits] = pooled.get(bits, 0) + n
        out[positions[0]] = calibration.mitigate(pooled, qubits)
    return out
