"""One chunk of a sweep: its rows' counts and estimates, through the execution layer.

Nothing here knows a paper or a backend: every row is the experiment at one point with the
row's own seed, its counts made by :func:`qkit.engines.batch` exactly as ``qkit run`` makes
them (the sampler with readout mitigation, provenance and, on a device, the device's own
prediction), and the analysis runs batched over the chunk, each row with its own stream.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from qkit import engines
from qkit import experiment as definitions
from qkit.sweep.grid import SweepSpec

# Transpilation caches of a backend are not meant for concurrent writers (Dask threads).
_LOCK = threading.RLock()
_BACKENDS: dict[str, Any] = {}

PROVENANCE = "provenance"
"""Key of a sampled chunk's per-row provenance (kept beside the table, not a column)."""


def sweep_backend(spec: SweepSpec):
    """The backend of ``spec``, created once per process (its transpilations are cached).

    Created without a seed: the transpiler seed is then qkit's fixed default (layouts are the
    same for every sweep), and every sampling call passes the point's simulator seed.
    """
    from qkit.backends import get_backend

    with _LOCK:
        if spec.backend not in _BACKENDS:
            _BACKENDS[spec.backend] = get_backend(spec.backend)
        return _BACKENDS[spec.backend]


def row_points(spec: SweepSpec, indices: range) -> tuple[list[dict[str, Any]], list[int]]:
    """The points of rows ``indices`` and their seeds (:func:`qkit.experiment.point_key` and
    :func:`~qkit.experiment.point_seed`, with each axis value's key text made once per sweep)."""
    names = [name for name, _ in spec.axes]
    values = spec.values(indices)
    columns = [values[name].tolist() for name in names]  # plain floats and strings
    points = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    texts = spec.key_texts
    positions = spec.axis_positions(indices)
    keys = [
        " ".join(parts)
        for parts in zip(
            [spec.kind] * len(indices),
            *([text[i] for i in pos] for text, pos in zip(texts, positions, strict=True)),
            strict=True,
        )
    ]
    if spec.repeat > 1:
        replicates = spec.replicates(indices).tolist()
        keys = [f"{k} replicate={r}" if r else k for k, r in zip(keys, replicates, strict=True)]
    return points, definitions.point_seeds(spec.seed, keys)


def compute(spec: SweepSpec, indices: range) -> dict[str, Any]:
    """Table columns of the rows ``indices`` (a chunk); a sampled chunk also carries each
    row's provenance under :data:`PROVENANCE`."""
    experiment = definitions.get(spec.kind)
    points, seeds = row_points(spec, indices)
    backend = sweep_backend(spec)
    opts = spec.options
    placed = None if spec.layout is None else {"mode": "explicit", "physical": list(spec.layout)}
    with _LOCK:
        counts, metadata = engines.batch(
            experiment, points, seeds, opts, backend, engine=spec.engine, placed=placed
        )
    batch = experiment.batch(points)
    estimates = engines.estimates(experiment, counts, batch, seeds, opts.analysis)
    columns: dict[str, Any] = {"point": np.asarray(indices, dtype=np.int64) // spec.repeat}
    if spec.repeat > 1:
        columns["replicate"] = spec.replicates(indices)
    for name, _ in spec.axes:
        columns[name] = np.asarray(batch[name], dtype=float if batch[name].dtype != object else str)
    columns["seed"] = np.array(seeds, dtype=np.int64)
    for key, value in experiment.predict(batch).items():
        columns[f"predicted_{key}"] = np.asarray(value, dtype=float)
    device = [m.get("prediction_device") for m in metadata]
    if any(d is not None for d in device):
        keys = sorted({k for d in device if d for k in d})
        for key in keys:
            columns[f"device_{key}"] = np.array(
                [np.nan if not d or d.get(key) is None else float(d[key]) for d in device]
            )
    columns.update(definitions.columns_of(estimates, len(indices)))
    if spec.engine == "sampler":
        columns[PROVENANCE] = [m.get(engines.PROVENANCE_KEY) for m in metadata]
    return columns


def compute_chunk(spec: SweepSpec, chunk: int) -> tuple[int, dict[str, Any]]:
    """``(chunk, columns)`` of one chunk: the same for the same spec in any process."""
    return chunk, compute(spec, spec.chunk_range(chunk))
