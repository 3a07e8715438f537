"""Job handles and the conversion of sampler results into counts.

Every backend returns the same thing per PUB: the counts of all its classical registers,
joined into one bitstring in Qiskit's convention (registers in circuit order, the first
register's bits rightmost; clbit 0 is the rightmost character). A PUB without parameter
values (or with a scalar batch) gives one ``dict``; a PUB with parameter values of batch
shape ``s`` gives a ``numpy`` object array of shape ``s`` whose entries are dicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

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


def pub_counts(pub_result) -> dict[str, int] | np.ndarray:
    """Counts of one ``SamplerPubResult``: a dict, or an object array of dicts over its shape."""
    names = list(pub_result.data)
    if not names:
        raise ValueError("a pub produced no classical data: measure into a classical register")
    bits = pub_result.join_data(names) if len(names) > 1 else pub_result.data[names[0]]
    if bits.shape == ():
        return {str(k): int(v) for k, v in bits.get_counts().items()}
    out = np.empty(bits.shape, dtype=object)
    for index in np.ndindex(bits.shape):
        out[index] = {str(k): int(v) for k, v in bits.get_counts(index).items()}
    return out


def counts_from_result(primitive_result) -> list[dict[str, int] | np.ndarray]:
    """Counts per PUB of a ``PrimitiveResult`` from any ``SamplerV2``."""
    return [pub_counts(pub_result) for pub_result in primitive_result]


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
        status = self.raw.status()
        word = str(getattr(status, "name", status)).upper().rsplit(".", 1)[-1]
        return _STATUS.get(word, word)

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
            self._counts = self._convert(self.raw.result())
        return self._counts

    def __repr__(self) -> str:
        return f"Job({self.job_id()!r}, backend={self.backend!r})"
