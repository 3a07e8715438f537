"""Run every point of a reproduction and keep one plain record per experiment.

Each finished point's record is written into the output directory as it completes
(``points/<id>.json``), so an interrupted reproduction resumes from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from qkit import experiment as definitions
from qkit._files import write_atomic
from qkit.options import RunOptions
from qkit.reproduce import _plan
from qkit.reproduce._plan import Settings
from qkit.result import Result, jsonable

POINTS_DIR = "points"
BEYOND = "beyond"
"""The ``paper`` of every experiment that is neither paper A's nor paper B's."""
_PAPERS = {"mixup": "A", "channel": "B"}


def paper_of(kind: str) -> str:
    """``"A"``, ``"B"`` or :data:`BEYOND`: the report section of experiment ``kind``."""
    return _PAPERS.get(kind, BEYOND)


def _id_prefix(kind: str) -> str:
    paper = paper_of(kind)
    return paper if paper != BEYOND else kind[:1].upper()


def _label(kind: str, params: Mapping[str, Any]) -> str:
    paper = paper_of(kind)
    where = f"paper {paper}" if paper != BEYOND else kind
    values = (f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
    return f"{where}: " + " ".join(values)


def record(point_id: str, result: Result, groups: list[str] | None = None) -> dict[str, Any]:
    """The JSON record of one experiment in ``results.json`` (counts included)."""
    paper = paper_of(result.kind)
    return jsonable(
        {
            "id": point_id,
            "paper": paper,
            "kind": result.kind,
            "key": definitions.point_key(result.kind, result.params),
            "params": result.params,
            "groups": groups or [],
            "seed": result.seed,
            "shots": result.shots,
            "backend": result.backend,
            "run_id": result.run_id,
            "prediction": result.prediction,
            "estimate": result.estimate,
            "counts": result.counts,
            "metadata": result.metadata,
        }
    )


def run_points(
    points: Mapping[str, list[dict[str, Any]]],
    config: Settings,
    opts: RunOptions,
    *,
    seed: int,
    shots: int | None,
    out: Path,
    starting: Callable[[str], None] = lambda label: None,
    done: Callable[[], None] = lambda: None,
) -> list[dict[str, Any]]:
    """Sample every point on the backend named ``backend``; reuse points finished in ``out``.

    ``points`` maps an experiment's name (:func:`qkit.experiment.get`) to its points: the
    parameters, optionally with ``"groups"`` (figure curves). ``starting(label)`` and ``done()``
    are called around each experiment (progress). ``shots`` overrides the mode's defaults;
    ``seed`` is the master seed (each point's own derives from it); the rest of ``opts``
    applies to every point as in ``qkit run``.
    """
    todo = []
    for kind, entries in points.items():
        for i, entry in enumerate(entries, start=1):
            params = {k: v for k, v in entry.items() if k != "groups"}
            n_shots = shots or _plan.shots(config, kind)
            point_id = f"{_id_prefix(kind)}{i:02d}"
            todo.append((point_id, kind, params, n_shots, _label(kind, params), entry))
    folder = out / POINTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for point_id, kind, params, n_shots, label, extra in todo:
        path = folder / f"{point_id}.json"
        experiment = definitions.get(kind)
        point = experiment.point(**params)
        key = definitions.point_key(experiment, point)
        previous = _load(path)
        if previous is not None and previous.get("key") == key and previous.get("shots") == n_shots:
            records.append(previous)
            done()
            continue
        starting(label)
        point_opts = opts.replace(shots=n_shots, seed=definitions.point_seed(seed, key))
        result = experiment.run(point_opts, **point)
        entry = record(point_id, result, extra.get("groups"))
        write_atomic(path, json.dumps(entry), overwrite=True)  # qkit's own output folder
        records.append(entry)
        done()
    return records


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
