"""Stored runs and jobs as Python records, and their JSON columns.

Times are UTC ISO 8601; run ids sort by creation time. A row whose JSON cannot be decoded is
reported by its id (:class:`~qkit.store.StoreError`), never as a bare ``JSONDecodeError``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qkit.result import jsonable
from qkit.store import _owner
from qkit.store._errors import StoreError

RUN_STATUSES = ("submitted", "running", "done", "failed")
JOB_STATUSES = ("SUBMITTED", "QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")
RUN_JSON = (
    "backend",
    "params",
    "prediction",
    "estimate",
    "counts",
    "seeds",
    "versions",
    "metadata",
)
JOB_JSON = ("payload", "result")


@dataclass(frozen=True)
class RunRecord:
    """One stored run; JSON columns are decoded (``counts`` is None when not loaded)."""

    run_id: str
    kind: str
    status: str
    created_at: str
    finished_at: str | None
    backend: Any
    params: dict[str, Any]
    prediction: Any
    estimate: Any
    counts: Any
    seeds: Any
    versions: dict[str, str] | None
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobRecord:
    """One cloud job belonging to a run."""

    job_id: str
    run_id: str
    backend: str
    status: str
    payload: Any
    result: Any
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RUN_COLUMNS = tuple(f.name for f in fields(RunRecord))
"""The columns of the ``runs`` table, in order (:data:`qkit.store._schema.TABLES`)."""
JOB_COLUMNS = tuple(f.name for f in fields(JobRecord))
"""The columns of the ``jobs`` table, in order."""


def new_run_id(at: datetime | None = None) -> str:
    """A unique id that sorts by creation time: ``YYYYmmddTHHMMSS.ffffff-<6 hex>`` (UTC)."""
    return f"{at or datetime.now(UTC):%Y%m%dT%H%M%S.%f}-{secrets.token_hex(3)}"


def now(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat(timespec="microseconds")


def check_status(status: str, allowed: Sequence[str], what: str) -> str:
    if status not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {status!r}")
    return status


def encode(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(jsonable(value), allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} cannot be stored as JSON: {exc}") from None


def run_from_row(row: sqlite3.Row, path: Path) -> RunRecord:
    """The record of a ``runs`` row; StoreError naming the run if a column is not JSON."""
    values = {key: row[key] for key in RUN_COLUMNS}
    _decode(values, RUN_JSON, f"run {values['run_id']}", path)
    return RunRecord(**_owner.view(values))  # a run whose process was killed: failed


def job_from_row(row: sqlite3.Row, path: Path) -> JobRecord:
    """The record of a ``jobs`` row; StoreError naming the job if a column is not JSON."""
    values = {key: row[key] for key in JOB_COLUMNS}
    _decode(values, JOB_JSON, f"job {values['job_id']}", path)
    return JobRecord(**values)


def _decode(values: dict[str, Any], columns: Sequence[str], what: str, path: Path) -> None:
    for key in columns:
        text = values[key]
        if text is None:
            continue
        try:
            values[key] = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{what} in {path} is unreadable: column {key}: {exc}") from None
