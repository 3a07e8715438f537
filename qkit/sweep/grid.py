"""Parameter grids: range syntax, the sweep specification, points, chunks and seeds.

A sweep is the Cartesian product of its axes, outer axis first (mix-up: ``success`` x
``amplitude``; channel: ``alphabet`` x ``inputs`` x ``eta``). Point ``i`` is the ``i``-th
element of that product in row-major order, whatever machine computes it. Points are cut
into *chunks* (the unit of work, of progress, of a file on disk and of a Dask task) made of
whole *blocks* of :data:`BLOCK` points; every random number a point sees derives from
``(seed, block index)`` only, so the table is the same however the chunks are run: in one
process, resumed after an interruption, or spread over a cluster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

BLOCK = 64
"""Points per random-number block (chunk sizes are multiples of it)."""
DEFAULT_CHUNK = 1024
ENGINES = ("auto", "exact", "sampler")
INTERVALS = ("bootstrap", "none")
# Independent random streams of one block (numpy SeedSequence entropy words).
STREAM_COUNTS, STREAM_BOOTSTRAP, STREAM_SAMPLER = 0, 1, 2


def parse_range(text: str, name: str = "values") -> np.ndarray:
    """Values of a range ``start:stop:count`` (both ends included) or a comma list.

    Parameters
    ----------
    text : str
        ``"0.05:1:20"`` (20 evenly spaced values from 0.05 to 1), ``"0.1,0.5,0.9"`` or a
        single number.
    name : str
        Parameter name for error messages.

    Returns
    -------
    numpy.ndarray
        The values in the order given (not validated against the physics: see
        :func:`mixup_spec` and :func:`channel_spec`).

    Raises
    ------
    ValueError
        One line naming the parameter and what was wrong.

    Examples
    --------
    >>> parse_range("0:1:5").tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> parse_range("0.2, 0.7").tolist()
    [0.2, 0.7]
    """
    text = str(text).strip()
    syntax = f"{name} must be start:stop:count or a comma list of numbers, got {text!r}"
    if not text:
        raise ValueError(syntax)
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(syntax)
        start, stop = (_number(p, name, text) for p in parts[:2])
        try:
            count = int(parts[2])
        except ValueError:
            raise ValueError(f"{name}: count in {text!r} must be a positive integer") from None
        if count < 1:
            raise ValueError(f"{name}: count in {text!r} must be a positive integer")
        if count == 1 and start != stop:
            raise ValueError(f"{name}: a range {text!r} with one value needs start == stop")
        return np.linspace(start, stop, count)
    return np.array([_number(p, name, text) for p in text.split(",")])


def _number(part: str, name: str, text: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise ValueError(
            f"{name} must be start:stop:count or a comma list of numbers, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} values must be finite, got {part.strip()!r} in {text!r}")
    return value


def parse_choices(text: str | Sequence[str], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """Comma-separated names (or a sequence), each one of ``allowed``; order kept.

    >>> parse_choices("entangled,separable", "inputs", ("entangled", "separable"))
    ('entangled', 'separable')
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    items = [str(item).strip() for item in items]
    if not items or any(not item for item in items):
        raise ValueError(f"{name} must be a comma list of {', '.join(allowed)}, got {text!r}")
    for item in items:
        if item not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {item!r}")
    return tuple(items)


@dataclass(frozen=True)
class SweepSpec:
    """Everything that determines a sweep's table (and so its resumability).

    ``axes`` holds ``(name, values)`` pairs, outer axis first. ``engine`` is resolved
    (``"exact"`` or ``"sampler"``), never ``"auto"``. Two specs with equal :meth:`to_dict`
    produce identical tables.
    """

    kind: str
    axes: tuple[tuple[str, tuple], ...]
    shots: int
    seed: int
    backend: str = "aer"
    engine: str = "exact"
    realization: str | None = None
    intervals: str = "bootstrap"
    n_boot: int = 200
    confidence: float = 0.95
    chunk_size: int = DEFAULT_CHUNK

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for _, values in self.axes)

    @property
    def num_points(self) -> int:
        return int(np.prod(self.shape))

    @property
    def num_chunks(self) -> int:
        return -(-self.num_points // self.chunk_size)

    def chunk_range(self, chunk: int) -> range:
        """Point indices of ``chunk``."""
        if not 0 <= chunk < self.num_chunks:
            raise ValueError(f"chunk must be in [0, {self.num_chunks}), got {chunk}")
        return range(chunk * self.chunk_size, min((chunk + 1) * self.chunk_size, self.num_points))

    def values(self, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """Axis values of the points ``indices``: one array per axis name."""
        idx = np.unravel_index(np.asarray(indices, dtype=np.int64), self.shape)
        return {
            name: np.asarray(values)[i] for (name, values), i in zip(self.axes, idx, strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["axes"] = {name: list(values) for name, values in self.axes}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSpec:
        data = dict(data)
        data["axes"] = tuple((name, tuple(values)) for name, values in data["axes"].items())
        return cls(**data)


def block_rng(seed: int, stream: int, block: int) -> np.random.Generator:
    """The generator of one block's ``stream`` (counts, bootstrap, sampler seeds)."""
    return np.random.default_rng([int(seed), int(stream), int(block)])


def blocks(indices: range) -> list[tuple[int, slice]]:
    """``(block index, slice into indices)`` for the blocks covering a chunk's ``indices``."""
    out = []
    start = indices.start
    while start < indices.stop:
        block = start // BLOCK
        stop = min((block + 1) * BLOCK, indices.stop)
        out.append((block, slice(start - indices.start, stop - indices.start)))
        start = stop
    return out


def check_common(
    *,
    shots: int,
    seed: int,
    engine: str,
    backend: str,
    intervals: str,
    n_boot: int,
    confidence: float,
    chunk_size: int,
    realization: str | None,
) -> str:
    """Validate the options every sweep shares; returns the resolved engine."""
    if isinstance(shots, bool) or int(shots) != shots or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if intervals not in INTERVALS:
        raise ValueError(f"intervals must be one of {', '.join(INTERVALS)}, got {intervals!r}")
    if int(n_boot) != n_boot or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if int(chunk_size) != chunk_size or chunk_size < BLOCK or chunk_size % BLOCK:
        raise ValueError(f"chunk size must be a positive multiple of {BLOCK}, got {chunk_size!r}")
    if realization not in (None, "noise-model", "branch-mixture"):
        raise ValueError(
            f"realization must be 'noise-model' or 'branch-mixture', got {realization!r}"
        )
    is_aer = backend == "aer"
    if realization == "noise-model" and not is_aer:
        raise ValueError(f"backend {backend!r} cannot take a noise model; use 'branch-mixture'")
    if engine == "auto":
        engine = "exact" if is_aer and realization is None else "sampler"
    if engine == "exact" and not is_aer:
        raise ValueError(
            f"engine 'exact' needs the aer backend (got {backend!r}); use engine 'sampler'"
        )
    if engine == "exact" and realization is not None:
        raise ValueError("realization applies to engine 'sampler' only")
    return engine
