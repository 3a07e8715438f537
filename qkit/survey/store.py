"""Surveys in the results store (kind ``"survey"``), with the calibration snapshot they used.

A survey run keeps, per coupler, the estimate with its interval, the ideal and the noise-model
prediction and the counts (``estimate["couplers"]``); the class packing, shots and seed; and a
compact calibration snapshot of the device target (:func:`calibration_snapshot`).
"""

from __future__ import annotations

from typing import Any

KIND = "survey"


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


def calibration_snapshot(device) -> dict[str, Any]:
    """Per-qubit T1, T2 (s), readout error, one-qubit gate errors and per-coupler two-qubit
    gate errors of ``device.target`` at this moment: ``{"qubits": {q: {...}}, "couplers":
    {"a-b": {gate: error}}}`` (missing values left out)."""
    target = device.target
    qubits: dict[str, dict[str, Any]] = {}
    for q in range(target.num_qubits or 0):
        props = target.qubit_properties[q] if target.qubit_properties else None
        entry: dict[str, Any] = {}
        for name in ("t1", "t2"):
            value = getattr(props, name, None) if props is not None else None
            if value is not None:
                entry[name] = _round(value)
        qubits[str(q)] = entry
    couplers: dict[str, dict[str, float]] = {}
    for name in target.operation_names:
        for qargs, props in target[name].items():
            error = getattr(props, "error", None) if props is not None else None
            if qargs is None or error is None:
                continue
            if len(qargs) == 1:
                key = "readout_error" if name == "measure" else f"{name}_error"
                qubits.setdefault(str(qargs[0]), {})[key] = _round(error)
            elif len(qargs) == 2:
                couplers.setdefault(f"{qargs[0]}-{qargs[1]}", {})[name] = _round(error)
    return {"device": getattr(device, "name", None), "qubits": qubits, "couplers": couplers}


def save(store, survey, device, *, figure: str | None = None) -> str:
    """Store a :class:`qkit.survey.Survey` with the calibration snapshot of ``device``;
    returns its run id."""
    record = survey.to_dict()
    rows = record["couplers"]
    counts = {"couplers": [{"coupler": r["coupler"], "counts": r["counts"]} for r in rows]}
    estimate = {
        "couplers": [{k: v for k, v in r.items() if k != "counts"} for r in rows],
        "coverage": record["coverage"],
        "best": survey.best().to_dict() | {"counts": None},
        "median": survey.median().to_dict() | {"counts": None},
    }
    metadata = {
        "shots": survey.shots,
        "classes": [[list(c) for c in group] for group in survey.classes],
        "num_circuits": survey.num_circuits,
        "engine": survey.engine,
        "confidence": survey.confidence,
        "wall_time_s": round(survey.seconds, 3),
        "calibration": calibration_snapshot(device),
    }
    if figure:
        metadata["figure"] = figure
    from qkit.result import package_versions

    return store.save_run(
        KIND,
        {"experiment": survey.experiment},
        {"ideal": rows[0]["ideal"] if rows else None},
        estimate,
        counts,
        survey.backend,
        seeds={"seed": survey.seed},
        metadata=metadata,
        versions=package_versions(),
    )


def largest(
    store, backend: str, experiment: str, min_shots: int = 1
) -> tuple[str, list[dict]] | None:
    """``(run_id, coupler rows)`` of the finished survey of ``experiment`` on ``backend`` with
    the most shots per setting (the newest among equals), if it has at least ``min_shots``;
    else ``None``. A later, smaller survey never replaces a larger one."""
    best: tuple[int, str, list[dict]] | None = None
    for record in store.list_runs(KIND, status="done", limit=None):  # newest first
        if record.backend != backend or (record.params or {}).get("experiment") != experiment:
            continue
        rows = (record.estimate or {}).get("couplers") or []
        shots = int((record.metadata or {}).get("shots") or 0)
        if rows and shots >= min_shots and (best is None or shots > best[0]):
            best = (shots, record.run_id, rows)
    return None if best is None else (best[1], best[2])
