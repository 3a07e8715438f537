"""One chunk of a sweep: its points' counts and estimates, from the experiment's definition.

Nothing here knows a paper: every row is the experiment (:class:`qkit.experiment.Experiment`)
at one point with the row's own seed, exactly as ``qkit run`` would sample and analyse it.

- ``exact`` engine (Aer): each point's outcome distributions from the backend's exact
  probabilities (branch circuits simulated once, mixed by the point's weights), the counts of
  every setting drawn multinomially from the point's counts stream;
- ``sampler`` engine (every backend): each point sampled shot by shot as ``qkit run`` does,
  one backend call per point with the point's own simulator seed.

The analysis runs batched over the chunk, each point with its own analysis stream.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from qkit import experiment as definitions
from qkit.sweep.grid import SweepSpec

# Transpilation caches of a backend are not meant for concurrent writers (Dask threads).
_LOCK = threading.RLock()
_BACKENDS: dict[str, Any] = {}


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
    """The points of rows ``indices`` and their seeds."""
    experiment = definitions.get(spec.kind)
    values = spec.values(indices)
    replicates = spec.replicates(indices)
    points, seeds = [], []
    for k in range(len(indices)):
        point = {name: _plain(values[name][k]) for name, _ in spec.axes}
        points.append(point)
        key = definitions.point_key(experiment, point, int(replicates[k]))
        seeds.append(definitions.point_seed(spec.seed, key))
    return points, seeds


def counts(spec: SweepSpec, backend, points: list[dict], seeds: list[int]) -> list[np.ndarray]:
    """Counts (measurements, outcomes) of each point."""
    experiment = definitions.get(spec.kind)
    if spec.engine == "exact":
        with _LOCK:
            batch = experiment.batch(points)
            return definitions.exact_counts(experiment, backend, batch, seeds, spec.shots)
    from qkit import runner
    from qkit.experiment import Analysis
    from qkit.sampling import collect

    out = []
    for point, seed in zip(points, seeds, strict=True):
        run = runner._Run(
            experiment,
            point,
            spec.shots,
            seed,
            "sampler",
            Analysis(0),
            spec.realization,
            None,
            layout="auto" if spec.layout is None else spec.layout,
        )
        with _LOCK:
            prepared = runner.prepare_run(run, backend)
        results = backend.run(
            prepared.pubs,
            shots=spec.shots,
            noise_model=prepared.noise_model,
            seed=definitions.simulator_seed(seed),
        )
        sampled = collect(prepared, results)
        out.append(definitions.counts_array(experiment, point, prepared.family, sampled.counts))
    return out


def compute(spec: SweepSpec, indices: range) -> dict[str, np.ndarray]:
    """Table columns of the rows ``indices`` (a chunk)."""
    from qkit.experiment import Analysis

    experiment = definitions.get(spec.kind)
    points, seeds = row_points(spec, indices)
    backend = sweep_backend(spec)
    counts_ = counts(spec, backend, points, seeds)
    batch = experiment.batch(points)
    rngs = definitions.Streams(seeds, definitions.STREAM_ANALYSIS)
    estimates = experiment.analyse(counts_, batch, rngs, Analysis(spec.n_boot, spec.confidence))
    columns: dict[str, np.ndarray] = {"point": np.asarray(indices, dtype=np.int64) // spec.repeat}
    if spec.repeat > 1:
        columns["replicate"] = spec.replicates(indices)
    for name, _ in spec.axes:
        columns[name] = np.asarray(batch[name], dtype=float if batch[name].dtype != object else str)
    columns["seed"] = np.array(seeds, dtype=np.int64)
    for key, value in experiment.predict(batch).items():
        columns[f"predicted_{key}"] = np.asarray(value, dtype=float)
    columns.update(definitions.columns_of(estimates, len(indices)))
    return columns


def compute_chunk(spec: SweepSpec, chunk: int) -> tuple[int, dict[str, np.ndarray]]:
    """``(chunk, columns)`` of one chunk: the same for the same spec in any process."""
    return chunk, compute(spec, spec.chunk_range(chunk))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
