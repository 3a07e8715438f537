"""One point with the results store around it: submit once, record the jobs, wait, store.

The experiment (:class:`qkit.experiment.Experiment`) says what to sample and how to read it;
the execution layer (:mod:`qkit.engines`) turns it into counts, estimates and provenance; this
module adds the store and durable jobs. With a results store, a run is created *before*
anything is submitted and its job ids are recorded *before* waiting, so a run interrupted
while waiting (Ctrl-C, a killed process, a closed laptop) is finished later by :func:`fetch`,
which rebuilds the same PUBs from the stored parameters and seed and re-attaches to the same
jobs: nothing is submitted twice. Every run that starts also ends: analysed and ``done``, or
``failed`` with its reason.

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

from qkit import engines, options, progress
from qkit.engines import PointRun, analyse_sampled, place, prepare_run, resolve_backend, total_shots
from qkit.experiment import Experiment, Point
from qkit.options import RunOptions
from qkit.result import Result

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


def run_point(
    experiment: Experiment,
    point: Point,
    opts: RunOptions | None = None,
    *,
    durable: bool | None = None,
    **kwargs: Any,
) -> Result:
    """Sample ``point`` of ``experiment`` under ``opts``, wait, analyse; save it in
    ``opts.store`` (:class:`~qkit.options.RunOptions`: shots, seed, backend, engine,
    realization, mitigation, layout, intervals, store; or its fields as keywords).
    ``durable`` forces (or forbids) a durable run (see the module docstring)."""
    opts = RunOptions.of(opts, kwargs)
    run = engines.point_run(experiment, point, opts)
    device = resolve_backend(opts.backend, run.seed)
    if run.engine == "exact":
        return _run_exact(run, device, opts.store)
    run, placed = place(run, device, opts.store)
    outcome = _sample(run, device, opts.store, wait=True, durable=durable, placed=placed)
    assert isinstance(outcome, Result)
    return outcome


def submit_point(
    experiment: Experiment, point: Point, opts: RunOptions | None = None, **kwargs: Any
) -> Pending:
    """Submit ``point`` durably (a cloud job or a detached local process) and return at once.

    ``fetch(run_id, store)`` finishes it; ``qkit jobs fetch RUN_ID`` from the command line.
    """
    opts = RunOptions.of(opts, kwargs)
    if opts.store is None:
        raise ValueError("a submitted run needs a results store to be fetched from")
    if opts.engine == "exact":
        raise ValueError("--no-wait needs the sampler engine (exact runs here and now)")
    run = engines.point_run(experiment, point, opts.replace(engine="sampler"))
    device = resolve_backend(opts.backend, run.seed)
    run, placed = place(run, device, opts.store)
    outcome = _sample(run, device, opts.store, wait=False, durable=True, placed=placed)
    assert isinstance(outcome, Pending)
    return outcome


def _run_exact(run: PointRun, device: Backend, store: Any) -> Result:
    started = time.perf_counter()
    run_id = _create(store, run, device, status="running")
    try:
        counts, provenance = engines.exact_point(run, device)
        result = engines.result_of(run, device, counts, started, metadata=provenance)
    except BaseException as exc:
        _fail(store, run_id, exc)
        raise
    return _finish(store, run_id, result)


def can_detach(device: Backend) -> bool:
    """Can a job on ``device`` outlive this process (a cloud job, or a detached local one)?"""
    return device.caps.retrievable or device.caps.detachable


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


def _sample(
    run: PointRun,
    device: Backend,
    store: Any,
    *,
    wait: bool,
    durable: bool | None,
    placed: dict[str, Any] | None = None,
):
    started = time.perf_counter()
    prepared = prepare_run(run, device)
    engines.check_memory(prepared, run.shots)
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
            seed=engines.simulator_seed(run.seed),
            **submit_kwargs,
        )
        if durable:
            store.add_jobs(run_id, device.name, [job.job_id()], {"pubs": len(prepared.pubs)})
        if not wait:
            return Pending(run_id, [job.job_id()], device.name)
        if not durable:  # while a local simulator samples in its own thread (a durable run's
            # worker is another process, and Ctrl-C during these imports killed the waiting
            # process outright, exit -2 without its 'qkit jobs fetch' line: measured, cause open)
            engines.import_analysis(run)
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
        with progress.phase("analysing"):
            # the provenance (QPY, OpenQASM 3, calibration) is kept beside a stored run only
            result = analyse_sampled(
                run, device, prepared, results, started, placed, provenance=store is not None
            )
    except BaseException as exc:
        _fail(store, run_id, exc)
        raise
    finished = _finish(store, run_id, result)
    if durable:
        store.update_job(job.job_id(), "DONE")
        _cleanup(job.job_id())
    return finished


def _create(
    store: Any, run: PointRun, device: Backend, *, status: str, realization=None, placed=None
):
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
    provenance = result.metadata.pop(
        engines.PROVENANCE_KEY, None
    )  # stored beside the run, not shown
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
    from qkit.experiment import get

    experiment = get(record.kind)
    stored = RunOptions(
        shots=int(meta["shots"]),
        seed=int(record.seeds["seed"]),
        backend=record.backend,
        engine="sampler",
        n_boot=opts.get("n_boot", options.DEFAULT_BOOTSTRAP) or options.DEFAULT_BOOTSTRAP,
        intervals="none" if opts.get("n_boot") == 0 else "auto",
        confidence=opts.get("confidence", options.DEFAULT_CONFIDENCE),
        realization=opts.get("realization"),
        mitigate=opts.get("mitigate"),
        layout=opts.get("layout", "auto"),
    )
    run = engines.point_run(experiment, experiment.point(**record.params), stored)
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
        with progress.phase("analysing"):
            # the provenance (QPY, OpenQASM 3, calibration) is kept beside a stored run only
            result = analyse_sampled(
                run, device, prepared, results, started, placed, provenance=store is not None
            )
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
