"""Job handles and the conversion of sampler results into counts.

Every backend returns the same thing per PUB: the counts of all its classical registers,
joined into one bitstring in Qiskit's convention (registers in circuit order, the first
register's bits rightmost; clbit 0 is the rightmost character). A PUB without parameter
values (or with a scalar batch) gives one ``dict``; a PUB with parameter values of batch
shape ``s`` gives a ``numpy`` object array of shape ``s`` whose entries are dicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from qiskit.primitives.containers import BitArray

from qkit import progress

# Status words of the Qiskit / runtime / Braket job classes, mapped onto qkit's five.
_STATUS = {
    "INITIALIZING": "QUEUED",
    "VALIDATING": "QUEUED",
    "QUEUED": "QUEUED",
    "CREATED": "QUEUED",
    "RUNNING": "RUNNING",
    "DONE": "DONE",
    "COMPLETED": "DONE",
    "ERROR": "ERROR",
    "FAILED": "ERROR",
    "CANCELLED": "CANCELLED",
    "CANCELED": "CANCELLED",
}
STATUSES = ("QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")


def pub_counts(pub_result, shots: int | None = None) -> dict[str, int] | np.ndarray:
    """Counts of one ``SamplerPubResult``: a dict, or an object array of dicts over its shape.

    With ``shots``, only the first ``shots`` shots count (shots are independent draws, so
    this is an exact sample of that size).
    """
    names = list(pub_result.data)
    if not names:
        raise ValueError("a pub produced no classical data: measure into a classical register")
    arrays = [pub_result.data[name] for name in names]
    if shots is not None:
        arrays = [array.slice_shots(range(shots)) for array in arrays]
    bits = BitArray.concatenate_bits(arrays) if len(arrays) > 1 else arrays[0]
    if bits.shape == ():
        return bit_counts(bits)
    out = np.empty(bits.shape, dtype=object)
    for index in np.ndindex(bits.shape):
        out[index] = bit_counts(bits, index)
    return out


def bit_counts(bits: BitArray, loc: tuple[int, ...] | None = None) -> dict[str, int]:
    """``bits.get_counts(loc)`` with ``str`` keys and ``int`` values, counted with numpy: the
    same bitstrings in the same order (of first occurrence), without a Python loop over the
    shots (Qiskit converts every shot's bytes to a string)."""
    rows = bits.array.reshape(-1, bits.array.shape[-1]) if loc is None else bits.array[loc]
    if rows.shape[-1] > 8 or rows.shape[0] == 0:  # more than 64 bits: Qiskit's own loop
        return {str(k): int(v) for k, v in bits.get_counts(loc).items()}
    keys = np.zeros(rows.shape[0], dtype=np.uint64)
    for column in range(rows.shape[-1]):  # the bytes are big-endian, as int.from_bytes reads
        keys = (keys << np.uint64(8)) | rows[:, column].astype(np.uint64)
    if bits.num_bits < 64:
        keys &= np.uint64(2**bits.num_bits - 1)
    values, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.argsort(first)
    width = bits.num_bits
    return {
        bin(int(v))[2:].zfill(width): int(n)
        for v, n in zip(values[order].tolist(), counts[order].tolist(), strict=True)
    }


def counts_from_result(primitive_result) -> list[dict[str, int] | np.ndarray]:
    """Counts per PUB of a ``PrimitiveResult`` from any ``SamplerV2``."""
    return [pub_counts(pub_result) for pub_result in primitive_result]


def normalized_status(raw) -> str:
    status = raw.status()
    word = str(getattr(status, "name", status)).upper().rsplit(".", 1)[-1]
    return _STATUS.get(word, word)


def shot_groups(pub_shots: Sequence[int], waste: float) -> list[tuple[int, list[int]]]:
    """Group PUBs whose samplers need one shot count per call.

    Each group ``(shots, indices)`` runs at the largest shot count of its PUBs; every PUB in
    it asks for at least ``shots / waste`` (so at most ``waste`` times the shots it needs are
    executed). Groups come largest first, indices in PUB order.

    >>> shot_groups([100, 30, 90, 60, 100], waste=2.0)
    [(100, [0, 2, 3, 4]), (30, [1])]
    """
    remaining = sorted(set(pub_shots), reverse=True)
    groups = []
    while remaining:
        top = remaining[0]
        members = {s for s in remaining if s * waste >= top}
        groups.append((top, [i for i, s in enumerate(pub_shots) if s in members]))
        remaining = [s for s in remaining if s not in members]
    return groups


class SplitJob:
    """Several primitive jobs for one submission whose PUBs asked for different shots.

    Samplers that take one shot count per call (IBM's, Braket's) get one call per group of
    :func:`shot_groups`, run at the group's largest shot count; each PUB keeps its first
    ``shots`` shots. The job id is ``qkit-split:`` and the primitive job ids joined by commas.
    """

    PREFIX = "qkit-split:"

    def __init__(self, raws: Sequence[Any], groups: list[tuple[int, list[int]]], pub_shots):
        self.raws = list(raws)
        self.groups = groups
        self.pub_shots = list(pub_shots)

    def job_id(self) -> str:
        return self.PREFIX + ",".join(str(raw.job_id()) for raw in self.raws)

    def status(self) -> str:
        statuses = {normalized_status(raw) for raw in self.raws}
        for word in ("ERROR", "CANCELLED", "RUNNING", "QUEUED"):
            if word in statuses:
                return word
        return "DONE"

    def cancel(self) -> None:
        for raw in self.raws:
            raw.cancel()

    def result(self) -> list[dict[str, int] | np.ndarray]:
        out: list = [None] * len(self.pub_shots)
        for raw, (_, indices) in progress.each(
            zip(self.raws, self.groups, strict=True), "simulating", len(self.raws), "circuits"
        ):
            result = raw.result()
            for position, index in enumerate(indices):
                out[index] = pub_counts(result[position], self.pub_shots[index])
        return out


class Job:
    """A handle on submitted sampler work.

    ``result()`` blocks and returns the counts per PUB (same format as ``Backend.run``);
    ``job_id()`` is the identifier to record before waiting; ``status()`` is one of
    ``QUEUED, RUNNING, DONE, ERROR, CANCELLED``. The primitive's own job is ``job.raw``.
    """

    def __init__(
        self,
        raw: Any,
        backend: str,
        convert: Callable[[Any], list] = counts_from_result,
        job_id: str | None = None,
    ):
        self.raw = raw
        self.backend = backend
        self._convert = convert
        self._job_id = job_id
        self._counts: list | None = None

    def job_id(self) -> str:
        return self._job_id if self._job_id is not None else str(self.raw.job_id())

    def status(self) -> str:
        return normalized_status(self.raw)

    def done(self) -> bool:
        return self.status() == "DONE"

    def in_final_state(self) -> bool:
        return self.status() in ("DONE", "ERROR", "CANCELLED")

    def cancel(self) -> None:
        self.raw.cancel()

    def result(self, timeout: float | None = None) -> list[dict[str, int] | np.ndarray]:
        """Wait for the job (at most ``timeout`` seconds, else ``TimeoutError``); counts per PUB."""
        if self._counts is None:
            if timeout is not None:
                deadline = time.monotonic() + timeout
                while not self.in_final_state():
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"job {self.job_id()} is still {self.status()}")
                    time.sleep(0.1)
            with progress.phase(f"simulating on {self.backend}"):
                self._counts = self._convert(self.raw.result())
        return self._counts

    def __repr__(self) -> str:
        return f"Job({self.job_id()!r}, backend={self.backend!r})"
