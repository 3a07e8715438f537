"""The one road from a definition to counts: (experiment, points, run options) -> counts,
provenance and, on a device, the device's own prediction.

Every door calls this layer: ``qkit run`` (:mod:`qkit.runner`, a batch of one point, with the
store and durable jobs around it), ``qkit sweep`` (:mod:`qkit.sweep`, chunks of a grid),
``qkit reproduce`` (named points) and ``qkit replay`` (an ``exact`` run recomputed). So the same
point, seed and :class:`~qkit.options.RunOptions` give the same counts, the same readout
mitigation, the same estimates and intervals and the same provenance by every door.

- ``exact`` engine (Aer): each point's outcome distributions from the backend's exact
  probabilities (every branch of the noise simulated once per process, mixed with the point's
  weights), the counts of every setting drawn multinomially from the point's counts stream;
- ``sampler`` engine (every backend): the point's circuits transpiled and laid out
  (:mod:`qkit.sampling`), sampled with the point's simulator seed, counts read back, readout
  mitigated where asked; the provenance records what was submitted (:mod:`qkit.provenance`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit import device_model, options, progress
from qkit.experiment import (
    STREAM_ALLOCATION,
    STREAM_ANALYSIS,
    STREAM_COUNTS,
    Experiment,
    Point,
    Points,
    Streams,
    _plain,
    cache,
    each_stream,
    estimate_of,
    simulator_seed,
    stream,
)
from qkit.options import Analysis
from qkit.result import Result, interval_methods, package_versions

if TYPE_CHECKING:
    from qkit.backends import Backend
    from qkit.sampling import Family, Prepared, Sampled


@dataclass(frozen=True)
class PointRun:
    """A validated run of one point: everything that determines its samples and estimates."""

    experiment: Experiment
    point: Point
    shots: int
    seed: int
    engine: str
    analysis: Analysis
    realization: str | None
    mitigate: str | None
    layout: str | tuple[int, ...] = "auto"  # "auto", "best", or physical qubits once placed

    @property
    def options(self) -> dict[str, Any]:
        """Stored with the run: what :func:`fetch` needs besides parameters, shots and seed."""
        opts = {
            "n_boot": self.analysis.n_boot,
            "confidence": self.analysis.confidence,
            "engine": self.engine,
            "realization": self.realization,
            "mitigate": self.mitigate,
        }
        if self.layout != "auto":
            opts["layout"] = list(self.layout)
        return opts


def point_run(
    experiment: Experiment,
    point: Point,
    opts: options.RunOptions,
    *,
    default_engine: str | None = None,
) -> PointRun:
    """The validated run of ``point`` under ``opts`` (its seed drawn if ``opts.seed`` is None).

    ``default_engine`` is what ``engine="auto"`` means at this door (the experiment's default
    for one point, ``exact`` for a sweep where the backend allows it).
    """
    return PointRun(
        experiment=experiment,
        point=point,
        shots=opts.shots,
        seed=options.resolve_seed(opts.seed),
        engine=opts.resolved_engine(default_engine or experiment.default_engine),
        analysis=opts.analysis,
        realization=opts.realization,
        mitigate=opts.mitigate,
        layout=opts.layout,
    )


def place(run: PointRun, device: Backend, store: Any) -> tuple[PointRun, dict[str, Any]]:
    """Resolve ``layout="best"`` (the definition's ``choose_layout``, else the lowest
    calibration error, :func:`qkit.device_model.choose_by_calibration`) or check explicit qubits
    against ``device``; returns the run with physical qubits and the record of the choice."""
    from dataclasses import replace

    if run.layout == "auto":
        return run, {"mode": "auto"}
    if run.layout == "best":
        family, _ = run.experiment.circuits(run.point)
        width = max(circuit.num_qubits for circuit in family.circuits)
        with progress.phase("choosing the best coupler"):
            info = {"mode": "best", **choose_best(run.experiment, device, store, width)}
    else:
        info = {"mode": "explicit", "physical": list(run.layout)}
    from qkit.backends._base import check_coupled, check_layout

    physical = check_layout(info["physical"], device.num_qubits)
    check_coupled(physical, device.device)  # no SWAPs hidden behind an explicit pair
    return replace(run, layout=physical), info


def choose_best(
    experiment: Experiment, device: Backend, store: Any, width: int = 2
) -> dict[str, Any]:
    """What ``layout="best"`` means for ``experiment`` on ``device`` for circuits of ``width``
    qubits: its definition's ``choose_layout``, else the lowest calibration error."""
    choose = experiment.choose_layout or device_model.choose_by_calibration
    return choose(device, store, width)


def resolve_backend(backend: str | Backend, seed: int | None = None) -> Backend:
    from qkit.backends import Backend, get_backend

    return backend if isinstance(backend, Backend) else get_backend(backend, seed=seed)


def prepare_run(run: PointRun, device: Backend) -> Prepared:
    """Transpile and lay out the PUBs of a run (deterministic in its seed)."""
    from qkit.sampling import prepare

    family, mixtures = run.experiment.circuits(run.point)
    return prepare(
        device,
        family,
        mixtures,
        shots=run.shots,
        rng=stream(run.seed, STREAM_ALLOCATION),
        realization=run.realization,
        layout=None if isinstance(run.layout, str) else run.layout,  # "auto" (or unresolved)
    )


def check_memory(prepared: Prepared, shots: int) -> None:
    """Refuse a submission the machine cannot hold (the estimate is in the message)."""
    from qkit.backends._base import MAX_CALL_SHOTS

    total = total_shots(prepared, shots)
    options.check_memory(len(prepared.pubs), min(total, MAX_CALL_SHOTS), "this run")


PROVENANCE_KEY = "provenance"


def _provenance(run: PointRun, device: Backend, prepared=None, results=None) -> dict[str, Any]:
    """``{"provenance": ...}``: what the store keeps to redo the run (:mod:`qkit.provenance`).

    ``results`` are the raw counts per PUB (before any mitigation); none for the exact engine.
    """
    from qkit import provenance

    if prepared is None:
        return {PROVENANCE_KEY: provenance.exact(run, device)}
    return {PROVENANCE_KEY: provenance.sampled(run, device, prepared, results)}


def read_sampled(
    run: PointRun,
    device: Backend,
    prepared: Prepared,
    results,
    placed=None,
    *,
    provenance: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-PUB results -> the point's counts (readout-mitigated if asked) and its metadata:
    provenance (raw counts; ``provenance=False`` leaves it out, for a run nothing will store),
    readout errors and raw estimate, transpile statistics, the layout and, on a device,
    ``prediction_device``. Every door reads sampled counts here."""
    from qkit.sampling import collect

    metadata: dict[str, Any] = _provenance(run, device, prepared, results) if provenance else {}
    if run.mitigate == "readout":
        from qkit import mitigation

        qubits = sorted({q for c in prepared.circuits for q in mitigation.measured_qubits(c)})
        calibration = mitigation.calibrate_readout(device, qubits, seed=simulator_seed(run.seed))
        metadata["readout_errors"] = calibration.readout_errors
        raw = _counts(run, prepared, collect(prepared, results))
        metadata["raw_estimate"] = _estimate(run, raw)
        results = mitigation.mitigate_pooled(calibration, prepared, results)
    sampled = collect(prepared, results)
    metadata["transpiled"] = sampled.transpiled
    metadata["realization"] = prepared.realization
    if device.caps.readout_error:
        metadata["layout"] = _layout_record(run, prepared, placed)
        metadata["prediction_device"] = device_prediction(run, device, prepared)
    return _counts(run, prepared, sampled), metadata


def import_analysis(run: PointRun) -> None:
    """Import what the analysis of ``run`` will need (the estimators, and the readout
    correction's linear algebra), before waiting for its results: a local simulator samples
    in a thread of its own, so on a second core the ~0.1-0.2 s of imports cost no wall time
    (a second run on a fake device is mostly imports). Nothing else happens here."""
    import qkit.estimators  # noqa: F401 - every built-in analysis uses them

    if run.mitigate == "readout":
        import scipy.linalg  # noqa: F401 - the correction's LU solve (qkit.mitigation)


def analyse_sampled(
    run: PointRun,
    device: Backend,
    prepared: Prepared,
    results,
    started,
    placed=None,
    *,
    provenance: bool = True,
) -> Result:
    """Per-PUB results -> counts -> estimates: the :class:`~qkit.result.Result` of one point
    (``provenance``: see :func:`read_sampled`)."""
    counts, metadata = read_sampled(run, device, prepared, results, placed, provenance=provenance)
    realization = metadata.pop("realization")
    prediction_device = metadata.pop("prediction_device", None)
    result = result_of(run, device, counts, started, metadata, realization=realization)
    if device.caps.readout_error:
        result.metadata["prediction_device"] = prediction_device
    return result


def sample(run: PointRun, device: Backend, placed=None) -> tuple[np.ndarray, dict[str, Any]]:
    """Sample one point here and now (no store, no durable job): counts and metadata."""
    prepared = prepare_run(run, device)
    check_memory(prepared, run.shots)
    results = device.run(
        prepared.pubs,
        shots=run.shots,
        noise_model=prepared.noise_model,
        seed=simulator_seed(run.seed),
    )
    return read_sampled(run, device, prepared, results, placed)


def sample_families(
    device: Backend,
    families: Sequence[tuple[Family, Sequence[int]]],
    *,
    shots: int,
    seed: int,
    what: str = "this run",
) -> list[tuple[Prepared, Sampled]]:
    """Sample circuit families without classical noise, each on its own physical qubits
    (``(family, layout)``), in one backend call: the road of a driver whose circuits are not
    one experiment's point (the survey's packed coupler classes). The same transpilation
    (:func:`qkit.sampling.prepare`), shot splitting, memory check and simulator seed as a point
    of ``qkit run`` with ``seed``; the prepared PUBs and counts of each family."""
    from qkit.backends._base import MAX_CALL_SHOTS
    from qkit.sampling import collect, prepare

    prepared = [
        prepare(device, family, (), shots=shots, rng=stream(seed, STREAM_ALLOCATION), layout=on)
        for family, on in families
    ]
    pubs = [pub for p in prepared for pub in p.pubs]
    total = sum(total_shots(p, shots) for p in prepared)
    options.check_memory(len(pubs), min(total, MAX_CALL_SHOTS), what)
    results = device.run(pubs, shots=shots, seed=simulator_seed(seed))
    out, start = [], 0
    for p in prepared:
        out.append((p, collect(p, results[start : start + len(p.pubs)])))
        start += len(p.pubs)
    return out


def exact_point(run: PointRun, device: Backend) -> tuple[np.ndarray, dict[str, Any]]:
    """Counts of one point by the ``exact`` engine and its provenance."""
    counts = exact_counts(
        run.experiment, device, run.experiment.batch([run.point]), [run.seed], run.shots
    )
    return counts[0], _provenance(run, device)


def batch(
    experiment: Experiment,
    points: Sequence[Point],
    seeds: Sequence[int],
    opts: options.RunOptions,
    device: Backend,
    *,
    engine: str,
    placed: dict[str, Any] | None = None,
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Counts and metadata of a batch of points, each with its own seed: the exact engine in
    one batched call, the sampler point by point exactly as :func:`sample` (so a sweep row is
    ``qkit run`` at that point and seed)."""
    if engine == "exact":
        counts = exact_counts(experiment, device, experiment.batch(points), seeds, opts.shots)
        return counts, [{} for _ in points]
    out: list[np.ndarray] = []
    metadata: list[dict[str, Any]] = []
    for point, seed in zip(points, seeds, strict=True):
        run = point_run(experiment, point, opts.replace(seed=seed), default_engine=engine)
        point_counts, meta = sample(run, device, placed)
        out.append(point_counts)
        metadata.append(meta)
    return out, metadata


def estimates(
    experiment: Experiment,
    counts: Sequence[np.ndarray],
    points: Points,
    seeds: Sequence[int],
    analysis: Analysis,
) -> dict[str, Any]:
    """The experiment's analysis of a batch, each point with its own analysis stream."""
    return experiment.analyse(list(counts), points, Streams(seeds, STREAM_ANALYSIS), analysis)


def _layout_record(run: PointRun, prepared: Prepared, placed: dict[str, Any] | None) -> dict:
    """How the layout was chosen and the physical qubits the measured pair started on (the
    initial layout of the experiment's qubits 0 and 1)."""
    record = dict(placed or {"mode": "auto" if run.layout == "auto" else "explicit"})
    first = prepared.circuits[0] if prepared.circuits else None
    used = []
    if first is not None and first.layout is not None:
        used = [int(q) for q in first.layout.initial_index_layout(filter_ancillas=True)[:2]]
    record["used"] = used
    from qkit.backends._transpile import physical_qubits  # read back from what ran

    distinct = {id(c): c for c in prepared.circuits}.values()
    record["qubits"] = sorted({q for c in distinct for q in physical_qubits(c)})
    record.setdefault("physical", used)
    return record


def device_prediction(run: PointRun, device: Backend, prepared: Prepared) -> dict[str, Any] | None:
    """The experiment's estimates of the exact outcome distributions of the transpiled
    circuits under the device noise model (:func:`qkit.device_model.run_probabilities`):
    what the device should give, with the keys of the ideal prediction. ``None`` where the
    device has no noise model (a cloud device without calibration). A readout-mitigated run
    is compared with the distributions before readout errors."""
    exact = device_model.run_probabilities(device, prepared, readout=run.mitigate != "readout")
    if exact is None:
        return None
    counts = _counts(run, prepared, exact)
    points = run.experiment.batch([run.point])
    rngs = [stream(run.seed, STREAM_ANALYSIS)]
    values = estimate_of(run.experiment.analyse([counts], points, rngs, Analysis(0)), 0)
    targets = dict(run.experiment.targets)
    prediction = run.experiment.prediction(run.point)
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) and "value" in value and targets.get(key, key) in prediction:
            out[targets.get(key, key)] = value["value"]
    return out


def _counts(run: PointRun, prepared: Prepared, sampled) -> np.ndarray:
    return counts_array(run.experiment, run.point, prepared.family, sampled.counts)


def _estimate(run: PointRun, counts: np.ndarray) -> dict[str, Any]:
    return estimate_of(_analysed(run, counts), 0)


def _analysed(run: PointRun, counts: np.ndarray) -> dict[str, Any]:
    points = run.experiment.batch([run.point])
    return estimates(run.experiment, [counts], points, [run.seed], run.analysis)


def result_of(
    run: PointRun,
    device: Backend,
    counts: np.ndarray,
    started: float,
    metadata: dict[str, Any],
    *,
    realization: str | None = None,
) -> Result:
    found = _analysed(run, counts)
    estimate = estimate_of(found, 0)
    labels = run.experiment.labels(run.point) if run.experiment.labels else {}
    opts = run.options
    if realization is not None:
        opts["realization"] = realization
    metadata = {
        "options": opts,
        "intervals": interval_methods(found, run.analysis.intervals),
        **metadata,
        "wall_time_s": round(time.perf_counter() - started, 3),
        "versions": package_versions(),
    }
    return Result(
        kind=run.experiment.name,
        params=dict(run.point),
        prediction=run.experiment.prediction(run.point),
        estimate=estimate,
        counts={**labels, "counts": counts.tolist()},
        shots=run.shots,
        seed=run.seed,
        backend=device.name,
        metadata=metadata,
    )


def total_shots(prepared: Prepared, shots: int) -> int:
    """Shots the run samples: measurement settings of every circuit x shots per setting."""
    family = prepared.family
    return shots * sum(family.num_settings(i) for i in range(len(family.circuits)))


def outcome_matrix(experiment: Experiment, point: Point, index: int, num_clbits: int):
    """The experiment's outcome map of circuit ``index`` (cached per shape)."""
    return np.asarray(experiment.outcomes(point, index, num_clbits), dtype=float)


def counts_array(
    experiment: Experiment,
    point: Point,
    family: Family,
    counts: Sequence[Sequence[Mapping[str, int]]],
) -> np.ndarray:
    """Counts dicts per circuit and setting -> one array (measurements, outcomes)."""
    rows = []
    for index, per_setting in enumerate(counts):
        matrix = outcome_matrix(experiment, point, index, family.circuits[index].num_clbits)
        for c in per_setting:
            row = np.zeros(matrix.shape[1])
            for key, n in c.items():
                row += n * matrix[int(key.replace(" ", ""), 2)]
            rows.append(row)
    return np.rint(np.array(rows)).astype(np.int64)


_BRANCHES: dict[tuple, tuple[Any, np.ndarray]] = cache({})


def exact_probabilities(
    experiment: Experiment, backend: Backend, points: Points
) -> list[np.ndarray]:
    """Exact outcome distributions (measurements, outcomes) of each point, from its layout.

    Every branch of the noise (:func:`qkit.noise.parametrized_branches`) is simulated once per
    circuit and setting values (cached per process); a point's mixture weights combine them,
    so a new noise strength never means a new simulation.
    """
    from qkit import noise

    out = []
    for i in range(len(next(iter(points.values())))):
        point = {name: _plain(values[i]) for name, values in points.items()}
        family, mixtures = experiment.circuits(point)
        rows = []
        for index, circuit in enumerate(family.circuits):
            settings = family.settings[index]
            key = (backend.name, id(circuit), _settings_key(settings))
            if key not in _BRANCHES:
                _BRANCHES[key] = (
                    circuit,
                    _branch_probabilities(backend, circuit, mixtures, settings),
                )
            per_branch = _BRANCHES[key][1]  # (branches, settings, 2**clbits)
            weights = noise.mixture_weights(circuit, mixtures)
            p = np.einsum("b,bko->ko", weights, per_branch)
            matrix = outcome_matrix(experiment, point, index, circuit.num_clbits)
            rows.append(p @ matrix)
        q = np.clip(np.concatenate(rows), 0.0, None)
        out.append(q / q.sum(axis=-1, keepdims=True))
    return out


def _settings_key(settings: Mapping[str, np.ndarray]) -> tuple:
    return tuple(
        (name, np.asarray(v, dtype=float).tobytes()) for name, v in sorted(settings.items())
    )


def _branch_probabilities(backend, circuit, mixtures, settings) -> np.ndarray:
    """Outcome probabilities (branches, settings, 2**clbits) of every branch and setting.

    Mixtures of single-qubit factors become one template with ``U`` gates bound per branch
    (:func:`qkit.noise.parametrized_branches`); others (a SWAP mixture) one circuit per branch
    (:func:`qkit.noise.expand_branches`), in the same row order.
    """
    from qkit import noise

    n_settings = len(next(iter(settings.values()))) if settings else 1
    try:
        template, params, values, _ = noise.parametrized_branches(circuit, mixtures)
    except ValueError:  # a branch that is not a product of single-qubit unitaries
        rows = [
            _setting_probabilities(backend, branch, {}, settings, 1)
            for branch in noise.expand_branches(circuit, mixtures)
        ]
        return np.array(rows).reshape(len(rows), n_settings, -1)
    n_branches = values.shape[0]
    branch_values = {p.name: np.repeat(values[:, k], n_settings) for k, p in enumerate(params)}
    table = _setting_probabilities(backend, template, branch_values, settings, n_branches)
    return table.reshape(n_branches, n_settings, -1)


def _setting_probabilities(backend, circuit, extra, settings, repeat) -> np.ndarray:
    """Probabilities of ``circuit`` bound to ``extra`` values and the settings (tiled)."""
    values = dict(extra)
    for name, setting_values in settings.items():
        values[name] = np.tile(np.asarray(setting_values, dtype=float), repeat)
    by_name = {p.name: p for p in circuit.parameters}
    binds = {by_name[name]: v for name, v in values.items() if name in by_name}
    table = backend.probabilities(circuit, binds or None)
    rows = max((len(v) for v in values.values()), default=1)
    return np.broadcast_to(table, (rows, table.shape[-1])) if len(table) == 1 else table
    # (an unparametrized circuit gives one row: the same for every setting)


def probabilities(experiment: Experiment, backend: Backend, points: Points) -> list[np.ndarray]:
    """The exact outcome distributions of ``points`` on ``backend`` (the exact engine)."""
    if not backend.caps.exact:
        raise ValueError(f"backend {backend.name!r} cannot give exact outcome probabilities")
    if experiment.probabilities is not None:
        return experiment.probabilities(backend, points)
    return exact_probabilities(experiment, backend, points)


def exact_counts(
    experiment: Experiment, backend: Backend, points: Points, seeds: Sequence[int], shots: int
) -> list[np.ndarray]:
    """Counts of every setting drawn multinomially from the exact distributions.

    Point ``i`` draws from its own counts stream of ``seeds[i]``.
    """
    dists = probabilities(experiment, backend, points)
    streams = each_stream(seeds, STREAM_COUNTS)  # = stream(seed, STREAM_COUNTS), seeded faster
    return [rng.multinomial(shots, p) for rng, p in zip(streams, dists, strict=True)]
