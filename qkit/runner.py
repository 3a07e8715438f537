"""Run one point of an experiment on a backend: submit once, record the jobs, wait, analyse, store.

The experiment (:class:`qkit.experiment.Experiment`) says what to sample and how to read it;
this module runs it. With a results store, a run is created *before* anything is submitted and
its job ids are recorded *before* waiting, so a run interrupted while waiting (Ctrl-C, a killed
process, a closed laptop) is finished later by :func:`fetch`, which rebuilds the same PUBs from
the stored parameters and seed and re-attaches to the same jobs: nothing is submitted twice.
Every run that starts also ends: analysed and ``done``, or ``failed`` with its reason.

Which runs are durable (their jobs recorded and resumable): with a store, every run on a
cloud backend (IBM Quantum, Braket devices), every :func:`submit_point`, and waiting runs on
local simulators (Aer, fake devices, the Braket local simulator) of at least
:data:`DURABLE_SHOTS` shots in total. A durable local run samples in a detached worker process
(:mod:`qkit.backends._detached`), which Ctrl-C or killing the waiting process does not reach;
starting it costs 1-5 s (imports, device noise model), too much for the few-second runs below
the threshold, which are simply run again if interrupted. ``durable=True`` forces it. The
``exact`` engine (Aer) computes in this process and is never durable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit import experiment as definitions
from qkit import options
from qkit.experiment import Analysis, Experiment, Point
from qkit.result import Result, package_versions

if TYPE_CHECKING:
    from qkit.backends import Backend
    from qkit.sampling import Prepared

DURABLE_SHOTS = 200_000
"""Total shots (settings x shots per setting) from which a waiting local run is durable."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while waiting on a durable run: its jobs run on; ``fetch(run_id)`` finishes it."""

    def __init__(self, run_id: str):
        super().__init__(f"run {run_id} keeps running; finish it with 'qkit jobs fetch {run_id}'")
        self.run_id = run_id


@dataclass
class Pending:
    """A submitted run that was not waited for: fetch it later by ``run_id``."""

    run_id: str
    job_ids: list[str]
    backend: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": "submitted",
            "job_ids": self.job_ids,
            "backend": self.backend,
        }


@dataclass(frozen=True)
class _Run:
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


def _validated(
    experiment: Experiment,
    point: Point,
    backend: str | Backend,
    *,
    shots: int,
    seed: int | None,
    engine: str,
    analysis: Analysis,
    realization: str | None,
    mitigate: str | None,
    layout: Any = "auto",
) -> _Run:
    name = backend if isinstance(backend, str) else backend.name
    return _Run(
        experiment=experiment,
        point=point,
        shots=options.check_shots(shots),
        seed=options.resolve_seed(seed),
        engine=options.resolve_engine(engine, name, realization, default=experiment.default_engine),
        analysis=analysis,
        realization=options.check_realization(realization),
        mitigate=options.check_mitigate(mitigate, name),
        layout=options.check_layout(layout, name),
    )


def place(run: _Run, device: Backend, store: Any) -> tuple[_Run, dict[str, Any]]:
    """Resolve ``layout="best"`` (:func:`qkit.survey.layout.choose`) or check explicit qubits
    against ``device``; returns the run with physical qubits and the record of the choice."""
    from dataclasses import replace

    if run.layout == "auto":
        return run, {"mode": "auto"}
    if run.layout == "best":
        from qkit.survey.layout import choose

        info = {"mode": "best", **choose(device, run.experiment.name, store)}
    else:
        info = {"mode": "explicit", "physical": list(run.layout)}
    from qkit.backends._base import check_coupled, check_layout

    physical = check_layout(info["physical"], device.num_qubits)
    check_coupled(physical, device.device)  # no SWAPs hidden behind an explicit pair
    return replace(run, layout=physical), info


def resolve_backend(backend: str | Backend, seed: int | None = None) -> Backend:
    from qkit.backends import Backend, get_backend

    return backend if isinstance(backend, Backend) else get_backend(backend, seed=seed)


def run_point(
    experiment: Experiment,
    point: Point,
    *,
    shots: int = options.DEFAULT_SHOTS,
    seed: int | None = None,
    backend: str | Backend = "aer",
    engine: str = "auto",
    analysis: Analysis | None = None,
    realization: str | None = None,
    mitigate: str | None = None,
    store: Any = None,
    durable: bool | None = None,
    layout: Any = "auto",
) -> Result:
    """Sample ``point`` of ``experiment`` on ``backend``, wait, analyse; save it in ``store``.

    Parameters
    ----------
    shots : int
        Shots per measurement setting (per circuit and setting of the layout).
    seed : int, optional
        The point's seed (drawn and recorded when omitted): every random draw of the run
        comes from its own stream of it (:mod:`qkit.experiment`).
    engine : {"auto", "sampler", "exact"}
        ``sampler`` samples every shot on the backend; ``exact`` (Aer) draws the counts from
        the circuits' exact outcome probabilities; ``auto`` is the experiment's default.
    realization : {"noise-model", "branch-mixture"}, optional
        How the classical noise is realized by the sampler (default: a noise model where the
        backend takes one).
    mitigate : {"readout"}, optional
        Readout-error mitigation with a calibration measured on the same device.
    store : qkit.store.ResultsStore, optional
        Save the run; durable runs record their jobs before waiting.
    durable : bool, optional
        Force (or forbid) a durable run (see the module docstring).
    layout : {"auto", "best"} or sequence of int
        Physical qubits of the experiment's first qubits (the measured pair) on a device:
        ``auto`` the transpiler's choice, ``best`` the best predicted coupler
        (:mod:`qkit.survey.layout`), or explicit qubits; recorded in ``metadata["layout"]``.
    """
    run = _validated(
        experiment,
        point,
        backend,
        shots=shots,
        seed=seed,
        engine=engine,
        analysis=analysis or Analysis(),
        realization=realization,
        mitigate=mitigate,
        layout=layout,
    )
    device = resolve_backend(backend, run.seed)
    if run.engine == "exact":
        return _run_exact(run, device, store)
    run, placed = place(run, device, store)
    outcome = _sample(run, device, store, wait=True, durable=durable, placed=placed)
    assert isinstance(outcome, Result)
    return outcome


def submit_point(
    experiment: Experiment,
    point: Point,
    *,
    store: Any,
    shots: int = options.DEFAULT_SHOTS,
    seed: int | None = None,
    backend: str | Backend = "aer",
    analysis: Analysis | None = None,
    realization: str | None = None,
    mitigate: str | None = None,
    layout: Any = "auto",
) -> Pending:
    """Submit ``point`` durably (a cloud job or a detached local process) and return at once.

    ``fetch(run_id, store)`` finishes it; ``qkit jobs fetch RUN_ID`` from the command line.
    """
    if store is None:
        raise ValueError("a submitted run needs a results store to be fetched from")
    run = _validated(
        experiment,
        point,
        backend,
        shots=shots,
        seed=seed,
        engine="sampler",
        analysis=analysis or Analysis(),
        realization=realization,
        mitigate=mitigate,
        layout=layout,
    )
    device = resolve_backend(backend, run.seed)
    run, placed = place(run, device, store)
    outcome = _sample(run, device, store, wait=False, durable=True, placed=placed)
    assert isinstance(outcome, Pending)
    return outcome


def _run_exact(run: _Run, device: Backend, store: Any) -> Result:
    started = time.perf_counter()
    run_id = _create(store, run, device, status="running")
    try:
        points = run.experiment.batch([run.point])
        counts = definitions.exact_counts(run.experiment, device, points, [run.seed], run.shots)[0]
        result = _result(run, device, counts, started, metadata=_provenance(run, device))
    except BaseException as exc:
        _fail(store, run_id, exc)
        raise
    return _finish(store, run_id, result)


def can_detach(device: Backend) -> bool:
    """Can a job on ``device`` outlive this process (a cloud job, or a detached local one)?"""
    return device.caps.retrievable or device.caps.detachable


def total_shots(prepared: Prepared, shots: int) -> int:
    """Shots the run samples: measurement settings of every circuit x shots per setting."""
    family = prepared.family
    return shots * sum(family.num_settings(i) for i in range(len(family.circuits)))


def is_durable(
    prepared: Prepared, shots: int, device: Backend, store: Any, wait: bool, durable: bool | None
) -> bool:
    """Whether a run records its jobs and survives its process (see the module docstring)."""
    if store is None:
        if durable or not wait:
            raise ValueError("a durable run (wait=False or durable=True) needs a results store")
        return False
    if durable is False and not wait:
        raise ValueError("a submitted run is durable; drop durable=False")
    if durable or not wait:
        if not can_detach(device):
            raise ValueError(
                f"jobs on {device.name} run in this process and cannot be fetched later; "
                "wait for them (drop --no-wait)"
            )
        return True
    if durable is False:
        return False
    return device.caps.cloud or total_shots(prepared, shots) >= DURABLE_SHOTS


def prepare_run(run: _Run, device: Backend) -> Prepared:
    """Transpile and lay out the PUBs of a run (deterministic in its seed)."""
    from qkit.sampling import prepare

    family, mixtures = run.experiment.layout(run.point)
    return prepare(
        device,
        family,
        mixtures,
        shots=run.shots,
        rng=definitions.stream(run.seed, definitions.STREAM_ALLOCATION),
        realization=run.realization,
        layout=None if isinstance(run.layout, str) else run.layout,  # "auto" (or unresolved)
    )


def _sample(
    run: _Run,
    device: Backend,
    store: Any,
    *,
    wait: bool,
    durable: bool | None,
    placed: dict[str, Any] | None = None,
):
    started = time.perf_counter()
    prepared = prepare_run(run, device)
    _check_memory(prepared, run.shots)
    device.confirm(prepared.pubs, shots=run.shots)  # a paid backend: the yes before a record
    durable = is_durable(prepared, run.shots, device, store, wait, durable)
    run_id = _create(
        store,
        run,
        device,
        status="submitted" if durable else "running",
        realization=prepared.realization,
        placed=placed,
    )
    job = None
    try:
        submit_kwargs = {"detach": True} if durable and not device.caps.retrievable else {}
        job = device.submit(
            prepared.pubs,
            shots=run.shots,
            noise_model=prepared.noise_model,
            seed=definitions.simulator_seed(run.seed),
            **submit_kwargs,
        )
        if durable:
            store.add_jobs(run_id, device.name, [job.job_id()], {"pubs": len(prepared.pubs)})
        if not wait:
            return Pending(run_id, [job.job_id()], device.name)
        results = job.result()
    except KeyboardInterrupt:
        if durable and job is not None:
            raise Interrupted(run_id) from None  # the job runs on; fetch finishes the run
        _fail(store, run_id, "interrupted before the results arrived")
        raise
    except Exception as exc:
        if store is not None and (not durable or job is None or _job_failed(job, store)):
            _fail(store, run_id, exc)
        raise
    try:
        result = analyse_sampled(run, device, prepared, results, started, placed)
    except BaseException as exc:
        _fail(store, run_id, exc)
        raise
    finished = _finish(store, run_id, result)
    if durable:
        store.update_job(job.job_id(), "DONE")
        _cleanup(job.job_id())
    return finished


def _check_memory(prepared: Prepared, shots: int) -> None:
    """Refuse a submission the machine cannot hold (the estimate is in the message)."""
    from qkit.backends._base import MAX_CALL_SHOTS

    total = total_shots(prepared, shots)
    options.check_memory(len(prepared.pubs), min(total, MAX_CALL_SHOTS), "this run")


def _create(store: Any, run: _Run, device: Backend, *, status: str, realization=None, placed=None):
    if store is None:
        return None
    opts = run.options
    if realization is not None:
        opts["realization"] = realization
    metadata: dict[str, Any] = {"shots": run.shots, "options": opts}
    if placed and placed.get("mode") != "auto":
        metadata["layout"] = placed
    return store.create_run(
        run.experiment.name,
        run.point,
        device.name,
        {"seed": run.seed},
        status=status,
        metadata=metadata,
    )


def _fail(store: Any, run_id: str | None, reason: BaseException | str) -> None:
    if store is None or run_id is None:
        return
    if isinstance(reason, KeyboardInterrupt):
        text = "interrupted"
    elif isinstance(reason, BaseException):
        text = f"{type(reason).__name__}: {reason}"
    else:
        text = reason
    store.fail_run(run_id, " ".join(text.split()))


def _finish(store: Any, run_id: str | None, result: Result) -> Result:
    provenance = result.metadata.pop(_PROVENANCE, None)  # stored beside the run, not shown
    if store is not None:
        result.run_id = run_id
        store.finish_run(
            run_id,
            result.prediction,
            result.estimate,
            result.counts,
            metadata=result.metadata,
            provenance=provenance,
        )
    return result


_PROVENANCE = "provenance"


def _provenance(run: _Run, device: Backend, prepared=None, results=None) -> dict[str, Any]:
    """``{"provenance": ...}``: what the store keeps to redo the run (:mod:`qkit.provenance`).

    ``results`` are the raw counts per PUB (before any mitigation); none for the exact engine.
    """
    from qkit import provenance

    if prepared is None:
        return {_PROVENANCE: provenance.exact(run, device)}
    return {_PROVENANCE: provenance.sampled(run, device, prepared, results)}


def _job_failed(job, store) -> bool:
    """Record a job that ended in ERROR or CANCELLED; False if it may still finish."""
    try:
        status = job.status()
    except Exception:  # noqa: BLE001 - cannot tell (e.g. the network): keep it fetchable
        return False
    if status in ("ERROR", "CANCELLED"):
        store.update_job(job.job_id(), status)
        return True
    return False


def analyse_sampled(
    run: _Run, device: Backend, prepared: Prepared, results, started, placed=None
) -> Result:
    """Per-PUB results -> counts per setting -> estimates (readout-mitigated if asked)."""
    from qkit.sampling import collect

    metadata: dict[str, Any] = _provenance(run, device, prepared, results)
    if run.mitigate == "readout":
        from qkit import mitigation

        qubits = sorted({q for c in prepared.circuits for q in mitigation.measured_qubits(c)})
        calibration = mitigation.calibrate_readout(
            device, qubits, seed=definitions.simulator_seed(run.seed)
        )
        metadata["readout_errors"] = calibration.readout_errors
        raw = _counts(run, prepared, collect(prepared, results))
        metadata["raw_estimate"] = _estimate(run, raw)
        results = mitigation.mitigate_pooled(calibration, prepared, results)
    sampled = collect(prepared, results)
    metadata["transpiled"] = sampled.transpiled
    if device.caps.readout_error:
        metadata["layout"] = _layout_record(run, prepared, placed)
    counts = _counts(run, prepared, sampled)
    result = _result(run, device, counts, started, metadata, realization=prepared.realization)
    if device.caps.readout_error:
        result.metadata["prediction_device"] = device_prediction(run, device, prepared)
    return result


def _layout_record(run: _Run, prepared: Prepared, placed: dict[str, Any] | None) -> dict:
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


def device_prediction(run: _Run, device: Backend, prepared: Prepared) -> dict[str, Any] | None:
    """The experiment's estimates of the exact outcome distributions of the transpiled
    circuits under the device noise model (:func:`qkit.survey.predict.circuit_probabilities`):
    what the device should give, with the keys of the ideal prediction. ``None`` where the
    device has no noise model (a cloud device without calibration). A readout-mitigated run
    is compared with the distributions before readout errors."""
    from qkit.survey import predict

    exact = predict.run_probabilities(device, prepared, readout=run.mitigate != "readout")
    if exact is None:
        return None
    counts = _counts(run, prepared, exact)
    points = run.experiment.batch([run.point])
    rngs = [definitions.stream(run.seed, definitions.STREAM_ANALYSIS)]
    estimates = run.experiment.analyse([counts], points, rngs, Analysis(0, 0.95))
    values = definitions.estimate_of(estimates, 0)
    targets = dict(run.experiment.targets)
    prediction = run.experiment.prediction(run.point)
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) and "value" in value and targets.get(key, key) in prediction:
            out[targets.get(key, key)] = value["value"]
    return out


def _counts(run: _Run, prepared: Prepared, sampled) -> np.ndarray:
    return definitions.counts_array(run.experiment, run.point, prepared.family, sampled.counts)


def _estimate(run: _Run, counts: np.ndarray) -> dict[str, Any]:
    points = run.experiment.batch([run.point])
    rngs = definitions.Streams([run.seed], definitions.STREAM_ANALYSIS)
    estimates = run.experiment.analyse([counts], points, rngs, run.analysis)
    return definitions.estimate_of(estimates, 0)


def _result(
    run: _Run,
    device: Backend,
    counts: np.ndarray,
    started: float,
    metadata: dict[str, Any],
    *,
    realization: str | None = None,
) -> Result:
    estimate = _estimate(run, counts)
    labels = run.experiment.labels(run.point) if run.experiment.labels else {}
    opts = run.options
    if realization is not None:
        opts["realization"] = realization
    metadata = {
        "options": opts,
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


def fetch(
    run_id: str, store: Any, *, wait: bool = True, timeout: float | None = None
) -> Result | Pending:
    """Finish a submitted run: re-attach to its recorded jobs, analyse, store. Never resubmits.

    ``wait=False`` returns a :class:`Pending` while the jobs run; ``timeout`` bounds the wait
    (then ``TimeoutError``; the run stays fetchable). A finished detached job's folder is
    removed once its counts are in the store.
    """
    record = store.get_run(run_id)
    if record.status == "done":
        raise ValueError(
            f"run {record.run_id} is already done; see 'qkit results show {record.run_id}'"
        )
    jobs = store.jobs_for_run(record.run_id)
    if not jobs:
        raise ValueError(f"run {record.run_id} has no recorded jobs to fetch")
    meta = record.metadata or {}
    opts = meta.get("options", {})
    experiment = definitions.get(record.kind)
    run = _validated(
        experiment,
        experiment.point(**record.params),
        record.backend,
        shots=int(meta["shots"]),
        seed=int(record.seeds["seed"]),
        engine="sampler",
        analysis=Analysis(
            opts.get("n_boot", options.DEFAULT_BOOTSTRAP), opts.get("confidence", 0.95)
        ),
        realization=opts.get("realization"),
        mitigate=opts.get("mitigate"),
        layout=opts.get("layout", "auto"),
    )
    device = resolve_backend(record.backend, run.seed)
    # The same PUBs as at submission (deterministic in the seed): split cloud jobs need them.
    prepared = prepare_run(run, device)
    job = device.retrieve(jobs[-1].job_id, pubs=prepared.pubs, shots=run.shots)
    status = job.status()
    store.update_job(jobs[-1].job_id, status)
    if not wait and status != "DONE":
        return Pending(record.run_id, [jobs[-1].job_id], device.name)
    started = time.perf_counter()
    try:
        results = job.result(timeout=timeout) if timeout is not None else job.result()
    except TimeoutError:
        raise
    except Exception as exc:
        if _job_failed(job, store):
            message = " ".join(str(exc).split())
            store.fail_run(record.run_id, message)
            raise ValueError(
                f"run {record.run_id}: job {jobs[-1].job_id} failed: {message}"
            ) from None
        raise
    try:
        placed = (meta.get("layout") or {}) if run.layout != "auto" else None
        result = analyse_sampled(run, device, prepared, results, started, placed)
    except BaseException as exc:
        _fail(store, record.run_id, exc)
        raise
    store.update_job(jobs[-1].job_id, "DONE")
    finished = _finish(store, record.run_id, result)
    _cleanup(jobs[-1].job_id)
    return finished


def _cleanup(job_id: str) -> None:
    """Remove a finished detached job's private folder (its counts are in the store)."""
    from qkit.backends._detached import cleanup_job

    cleanup_job(job_id)
