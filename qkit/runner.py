"""Execute an experiment plan on a backend: submit once, record the jobs, wait, analyse, store.

An experiment module turns parameters into a :class:`Plan` (circuits, noise, and how to
analyse the counts); this module runs it. With a results store, a run is created *before*
anything is submitted and its job ids are recorded *before* waiting, so a run interrupted while
waiting (Ctrl-C, a killed process, a closed laptop) is finished later by :func:`fetch`, which
rebuilds the same plan from the stored parameters and seed and re-attaches to the same jobs:
nothing is submitted twice.

Which runs are durable (their jobs recorded and resumable): with a store, every run on a
cloud backend (IBM Quantum, Braket devices), every ``wait=False`` run, and waiting runs on
local simulators (Aer, fake devices, the Braket local simulator) of at least
:data:`DURABLE_SHOTS` shots in total. A durable local run samples in a detached worker process
(:mod:`qkit.backends._detached`), which Ctrl-C or killing the waiting process does not reach;
starting it costs 1-5 s (imports, device noise model), too much for the few-second runs below
the threshold, which are simply run again if interrupted. ``durable=True`` forces it.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qkit import noise
from qkit.backends import Backend, get_backend
from qkit.result import Result, package_versions
from qkit.sampling import Family, Sampled, collect, prepare

# kind -> module whose ``plan(**params, shots=, seed=, **options)`` rebuilds a plan.
EXPERIMENTS = {"mixup": "qkit.mixup.experiment", "channel": "qkit.channel.experiment"}

DURABLE_SHOTS = 200_000
"""Total shots (settings x shots per setting) from which a waiting local run is durable."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while waiting on a durable run: its jobs run on; ``fetch(run_id)`` finishes it."""

    def __init__(self, run_id: str):
        super().__init__(f"run {run_id} keeps running; finish it with 'qkit jobs fetch {run_id}'")
        self.run_id = run_id


@dataclass
class Plan:
    """What to run and how to read it: the experiment's half of a run."""

    kind: str
    params: dict[str, Any]
    prediction: dict[str, Any]
    family: Family
    mixtures: list[noise.MixedUnitary]
    shots: int
    seed: int
    analyse: Callable[[Sampled], tuple[dict[str, Any], dict[str, Any]]]
    options: dict[str, Any] = field(default_factory=dict)  # analysis options, stored with the run


@dataclass
class Pending:
    """A submitted run that was not waited for (``wait=False``): fetch it later by ``run_id``."""

    run_id: str | None
    job_ids: list[str]
    backend: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": "submitted",
            "job_ids": self.job_ids,
            "backend": self.backend,
        }


def resolve_backend(backend: str | Backend, seed: int | None) -> Backend:
    return backend if isinstance(backend, Backend) else get_backend(backend, seed=seed)


def can_detach(device: Backend) -> bool:
    """Can a job on ``device`` outlive this process (a cloud job, or a detached local one)?"""
    # IBM backends are cloud backends; only the runtime's local testing service is not.
    return device.retrievable or device.kind != "ibm"


def total_shots(plan: Plan) -> int:
    """Shots the plan samples: measurement settings of every circuit x shots per setting."""
    settings = sum(plan.family.num_settings(i) for i in range(len(plan.family.circuits)))
    return settings * plan.shots


def is_durable(plan: Plan, device: Backend, store, wait: bool, durable: bool | None) -> bool:
    """Whether a run records its jobs and survives its process (see the module docstring)."""
    if store is None:
        if durable or not wait:
            raise ValueError("a durable run (wait=False or durable=True) needs a results store")
        return False
    if durable is False and not wait:
        raise ValueError("wait=False needs a durable run; drop durable=False")
    if durable or not wait:
        if not can_detach(device):
            raise ValueError(
                f"jobs on {device.name} run in this process and cannot be fetched later; "
                "wait for them (drop --no-wait)"
            )
        return True
    if durable is False:
        return False
    return device.retrievable or total_shots(plan) >= DURABLE_SHOTS


def execute(
    plan: Plan,
    backend: str | Backend = "aer",
    *,
    store=None,
    wait: bool = True,
    realization: str | None = None,
    mitigate: str | None = None,
    durable: bool | None = None,
) -> Result | Pending:
    """Run ``plan`` on ``backend``; save it in ``store`` (a ``ResultsStore``) if given.

    ``wait=False`` submits (durably: cloud jobs, or a detached local process) and returns a
    :class:`Pending`; ``fetch(run_id)`` finishes it. ``mitigate="readout"`` corrects readout
    errors with a calibration measured on the same device (device backends only).
    ``durable`` (default: decided as in the module docstring) makes a waiting run with a store
    resumable: interrupted while waiting, it raises :class:`Interrupted` and ``fetch`` finishes
    it from the recorded job.
    """
    if mitigate not in (None, "readout"):
        raise ValueError(f"mitigate must be 'readout' or omitted, got {mitigate!r}")
    device = resolve_backend(backend, plan.seed)
    if mitigate and device.kind == "aer":
        raise ValueError(
            "mitigate='readout' needs a device backend (fake:, ibm:, braket:); "
            "aer has no readout error"
        )
    started = time.perf_counter()
    prepared = prepare(
        device,
        plan.family,
        plan.mixtures,
        shots=plan.shots,
        seed=plan.seed,
        realization=realization,
    )
    options = {**plan.options, "realization": prepared.realization, "mitigate": mitigate}
    durable = is_durable(plan, device, store, wait, durable)
    run_id = None
    if store is not None:
        run_id = store.create_run(
            plan.kind,
            plan.params,
            device.name,
            {"seed": plan.seed},
            status="submitted" if durable else "running",
            metadata={"shots": plan.shots, "options": options},
        )
    job = None
    try:
        submit_kwargs = {"detach": True} if durable and not device.retrievable else {}
        job = device.submit(
            prepared.pubs,
            shots=plan.shots,
            noise_model=prepared.noise_model,
            seed=plan.seed,
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
        if store is not None:
            store.fail_run(run_id, "interrupted before the results arrived")
        raise
    except Exception as exc:
        if store is not None and (not durable or job is None or _job_failed(job, store)):
            store.fail_run(run_id, " ".join(f"{type(exc).__name__}: {exc}".split()))
        raise
    result = finish(plan, device, prepared, results, options, started, mitigate)
    if store is not None:
        result.run_id = run_id
        if durable:
            store.update_job(job.job_id(), "DONE")
        store.finish_run(
            run_id, result.prediction, result.estimate, result.counts, metadata=result.metadata
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


def finish(plan: Plan, device: Backend, prepared, results, options, started, mitigate) -> Result:
    """Analyse per-PUB results into a :class:`Result`."""
    metadata: dict[str, Any] = {}
    if mitigate == "readout":
        from qkit import mitigation

        qubits = sorted({q for c in prepared.circuits for q in mitigation.measured_qubits(c)})
        calibration = mitigation.calibrate_readout(device, qubits, seed=plan.seed)
        metadata["readout_errors"] = calibration.readout_errors
        raw = collect(prepared, results)
        results = _mitigate_pooled(calibration, prepared, results)
        metadata["raw_estimate"], _ = plan.analyse(raw)
    sampled = collect(prepared, results)
    estimate, counts = plan.analyse(sampled)
    metadata.update(
        {
            "options": options,
            "transpiled": sampled.transpiled,
            "wall_time_s": round(time.perf_counter() - started, 3),
            "versions": package_versions(),
        }
    )
    return Result(
        kind=plan.kind,
        params=plan.params,
        prediction=plan.prediction,
        estimate=estimate,
        counts=counts,
        shots=plan.shots,
        seed=plan.seed,
        backend=device.name,
        metadata=metadata,
    )


def _mitigate_pooled(calibration, prepared, results) -> list:
    """Readout-mitigated counts per PUB, the branches of one setting pooled first.

    Readout errors depend only on the physical qubits read, so the branch PUBs of one
    measurement setting that read the same qubits are mitigated together: M3's projection onto
    a probability distribution is nonlinear, and biased on the few shots of a single branch
    (a two-slot letter spreads its shots over 96 branches). The pooled result goes to the
    group's first PUB, empty counts to the others (``collect`` sums them per setting).
    """
    from qkit.mitigation import measured_qubits

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


def replan(
    kind: str, params: dict[str, Any], shots: int, seed: int, options: dict[str, Any]
) -> Plan:
    """Rebuild the plan of a stored run (same parameters and seed give the same PUBs)."""
    if kind not in EXPERIMENTS:
        raise ValueError(f"runs of kind {kind!r} cannot be fetched")
    module = importlib.import_module(EXPERIMENTS[kind])
    analysis = {k: v for k, v in options.items() if k in ("n_boot", "confidence")}
    return module.plan(**params, shots=shots, seed=seed, **analysis)


def fetch(run_id: str, store, *, wait: bool = True) -> Result | Pending:
    """Finish a submitted run: re-attach to its recorded jobs, analyse, store. Never resubmits."""
    record = store.get_run(run_id)
    if record.status == "done":
        raise ValueError(
            f"run {record.run_id} is already done; see 'qkit results show {record.run_id}'"
        )
    jobs = store.jobs_for_run(record.run_id)
    if not jobs:
        raise ValueError(f"run {record.run_id} has no recorded jobs to fetch")
    meta = record.metadata or {}
    options = meta.get("options", {})
    plan = replan(
        record.kind, record.params, int(meta["shots"]), int(record.seeds["seed"]), options
    )
    device = get_backend(record.backend, seed=plan.seed)
    # The same PUBs as at submission (deterministic in the seed): split cloud jobs need them.
    prepared = prepare(
        device,
        plan.family,
        plan.mixtures,
        shots=plan.shots,
        seed=plan.seed,
        realization=options.get("realization"),
    )
    job = device.retrieve(jobs[-1].job_id, pubs=prepared.pubs, shots=plan.shots)
    status = job.status()
    store.update_job(jobs[-1].job_id, status)
    if not wait and status != "DONE":
        return Pending(record.run_id, [jobs[-1].job_id], device.name)
    started = time.perf_counter()
    try:
        results = job.result()
    except Exception as exc:
        if _job_failed(job, store):
            message = " ".join(str(exc).split())
            store.fail_run(record.run_id, message)
            raise ValueError(
                f"run {record.run_id}: job {jobs[-1].job_id} failed: {message}"
            ) from None
        raise
    result = finish(plan, device, prepared, results, options, started, options.get("mitigate"))
    result.run_id = record.run_id
    store.update_job(jobs[-1].job_id, "DONE")
    store.finish_run(
        record.run_id, result.prediction, result.estimate, result.counts, metadata=result.metadata
    )
    return result
