"""Readout-error mitigation for device runs, with M3 (``mthree``).

A device misreads each measured qubit with probabilities that depend on the state it was in;
M3 corrects counts for that with per-qubit 2x2 assignment matrices
``A[read, prepared] = P(read | prepared)`` measured on the *physical* qubits a transpiled
circuit reads (Nation et al., PRX Quantum 2, 040326 (2021)). qkit measures the matrices with
M3's balanced calibration circuits, but runs them through :meth:`Backend.run` so that they
are seeded on simulators and grouped with the experiment on IBM Quantum; M3 then turns
counts into quasi-probabilities and the nearest probability distribution.

Mitigated counts are *floats*: the nearest probability distribution times the number of
shots, over the bitstrings that were observed (M3 works in that subspace). Estimators that
take counts arrays can use them unchanged; their binomial error bars then ignore the
(small) extra variance of the calibration.

Bitstrings use the convention of :mod:`qkit.backends`: clbit 0 is the rightmost character.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from qiskit import QuantumCircuit

from qkit import progress
from qkit.backends import Backend
from qkit.bits import measurements

__all__ = ["ReadoutCalibration", "calibrate_readout", "measured_qubits", "mitigate_counts"]


def measured_qubits(circuit: QuantumCircuit) -> list[int]:
    """Physical qubit read into each classical bit of a transpiled circuit (index = clbit).

    Raises ``ValueError`` if a classical bit is never measured (M3 needs every bit's qubit).

    >>> qc = QuantumCircuit(5, 2); _ = qc.measure(3, 0); _ = qc.measure(1, 1)
    >>> measured_qubits(qc)
    [3, 1]
    """
    try:
        return measurements(circuit, final=False)[1]
    except ValueError as exc:
        raise ValueError(f"{exc}; cannot mitigate readout") from None


@dataclass
class ReadoutCalibration:
    """Per-qubit assignment matrices ``A[read, prepared]`` measured on one backend."""

    backend: str
    matrices: dict[int, np.ndarray]
    shots: int
    seed: int | None = None
    _mitigator: object = field(default=None, repr=False, compare=False)

    @property
    def qubits(self) -> list[int]:
        return sorted(self.matrices)

    @property
    def readout_errors(self) -> dict[int, float]:
        """Mean misassignment probability ``(P(1|0) + P(0|1)) / 2`` per qubit."""
        return {q: float((m[1, 0] + m[0, 1]) / 2) for q, m in self.matrices.items()}

    def _m3(self):
        if self._mitigator is None:
            from mthree import M3Mitigation

            cals: list[np.ndarray | None] = [None] * (max(self.matrices) + 1)
            for qubit, matrix in self.matrices.items():
                cals[qubit] = np.asarray(matrix, dtype=np.float32)
            mitigator = M3Mitigation()
            mitigator.cals_from_matrices(cals)
            self._mitigator = mitigator
        return self._mitigator

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
        shots = sum(counts.values())
        quasi = self._m3().apply_correction(dict(counts), qubits)
        probabilities = quasi.nearest_probability_distribution()
        return {str(k): float(v) * shots for k, v in probabilities.items()}


def _require_mthree() -> None:
    try:
        import mthree  # noqa: F401
    except ImportError:
        raise ValueError(
            "readout mitigation needs mthree: install qkit-comm[mitigation] (pip install mthree)"
        ) from None


def calibrate_readout(
    backend: Backend, qubits: Sequence[int], *, shots: int = 10_000, seed: int | None = None
) -> ReadoutCalibration:
    """Measure the assignment matrices of ``qubits`` on ``backend`` (M3 balanced method).

    Each qubit is prepared in 0 and in 1 in about ``shots`` shots each, in random
    (Hadamard-balanced) contexts of the other qubits, all in one sampler call. ``seed``
    makes simulator calibrations reproducible (a stream derived from it, independent of an
    experiment sampled with the same seed).
    """
    _require_mthree()
    from mthree.circuits import balanced_cal_circuits
    from mthree.generators import HadamardGenerator

    qubits = sorted({int(q) for q in qubits})
    if not qubits or qubits[0] < 0 or qubits[-1] >= backend.num_qubits:
        raise ValueError(
            f"qubits must be physical qubits in [0, {backend.num_qubits - 1}], got {qubits}"
        )
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    generator = HadamardGenerator(len(qubits))
    prepared = [np.asarray(bits, dtype=int)[::-1] for bits in generator]  # index = clbit
    circuits = balanced_cal_circuits(generator, qubits, qubits[-1] + 1)
    per_circuit = math.ceil(2 * shots / len(circuits))
    # a stream of its own, so an experiment run with the same seed is independent of it
    cal_seed = (
        None if seed is None else int(np.random.SeedSequence([seed, 0x5EAD]).generate_state(1)[0])
    )
    # a seeded calibration on a local simulator is a function of the device's calibration,
    # the qubits, the shots and the seed: kept in the device's on-disk cache
    cache = backend.device_cache() if cal_seed is not None and not backend.caps.cloud else None
    key = f"readout|{qubits}|{per_circuit}x{len(circuits)}|{cal_seed}"
    stored = cache.get_json("readout", key) if cache is not None else None
    if stored is not None:
        tally = np.asarray(stored, dtype=float).reshape(len(qubits), 2, 2)
    else:
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
    return ReadoutCalibration(backend.name, matrices, per_circuit * len(circuits), seed)


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
