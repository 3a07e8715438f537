"""Writing and reading the ``runs`` table, inside a connection the store hands over."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qkit.result import jsonable, package_versions
from qkit.store._errors import StoreError
from qkit.store._export_schema import RUN_ID
from qkit.store._records import (
    RUN_COLUMNS,
    RUN_JSON,
    RunRecord,
    encode,
    new_run_id,
    now,
    run_from_row,
)
from qkit.store._redaction import redact

SELECT_RUNS = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"


@dataclass(frozen=True)
class NewRun:
    """A run about to be inserted (``finished``: it is stored with its ``finished_at``)."""

    kind: str
    params: dict[str, Any]
    backend: Any = None
    seeds: Any = None
    metadata: dict[str, Any] | None = None
    prediction: Any = None
    estimate: Any = None
    counts: Any = None
    versions: dict[str, str] | None = None
    status: str = "running"
    run_id: str | None = None
    finished: bool = False


def insert_row(run: NewRun) -> tuple:
    """The checked, redacted, JSON-encoded ``runs`` row of ``run`` (in column order)."""
    if not isinstance(run.kind, str) or not run.kind.strip():
        raise ValueError(f"kind must be a non-empty string, got {run.kind!r}")
    if not isinstance(run.params, dict):
        raise ValueError(f"params must be a dict, got {type(run.params).__name__}")
    created = datetime.now(UTC)
    run_id = new_run_id(created) if run.run_id is None else str(run.run_id)
    if not re.fullmatch(RUN_ID, run_id):
        raise ValueError(
            "run_id must be 1 to 128 letters, digits, '.', '_' or '-' starting with a letter or"
            f" digit, got {run_id[:80]!r}"
        )
    redacted: list[str] = []
    row = {
        "backend": redact(run.backend, "backend", redacted),
        "params": redact(run.params, "params", redacted),
        "prediction": redact(run.prediction, "prediction", redacted),
        "estimate": redact(run.estimate, "estimate", redacted),
        "counts": run.counts,  # raw data: never keyed by credentials, and can be large
        "seeds": redact(run.seeds, "seeds", redacted),
        "versions": package_versions() if run.versions is None else run.versions,
        "metadata": dict(redact(run.metadata or {}, "metadata", redacted)),
    }
    if redacted:
        row["metadata"]["redacted"] = redacted
    stamp = now(created)
    finished_at = stamp if run.finished else None
    encoded = tuple(encode(row[key], key) for key in RUN_JSON)
    return (run_id, run.kind, run.status, stamp, finished_at, *encoded)


def insert(conn: sqlite3.Connection, row: tuple, path: Path) -> str:
    """Insert a row made by :func:`insert_row`; returns the run id."""
    marks = ", ".join("?" * len(RUN_COLUMNS))
    try:
        conn.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({marks})", row)
    except sqlite3.IntegrityError:
        raise ValueError(f"run {row[0]!r} already exists in {path}") from None
    return row[0]


def update(
    conn: sqlite3.Connection,
    run_id: str,
    updates: dict[str, Any],
    *,
    metadata: dict | None,
    status: str,
    path: Path,
) -> None:
    """Set columns of a run (JSON values), merge ``metadata`` in, move it to ``status``."""
    finished = status in ("done", "failed")
    redacted: list[str] = []
    updates = {
        key: value if key == "counts" else redact(value, key, redacted)
        for key, value in updates.items()
    }
    extra = dict(redact(metadata or {}, "metadata", redacted))
    encoded: dict[str, Any] = {key: encode(value, key) for key, value in updates.items()}
    row = conn.execute("SELECT metadata FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise ValueError(f"no run {run_id!r} in {path}")
    try:
        stored = json.loads(row[0])
    except (TypeError, ValueError) as exc:
        raise StoreError(f"run {run_id} in {path} is unreadable: column metadata: {exc}") from None
    stored.update(extra)
    if finished or stored.get("owner", 0) is None:  # see qkit.store._owner
        stored.pop("owner", None)
    if redacted:
        stored["redacted"] = sorted(set(stored.get("redacted", [])) | set(redacted))
    encoded["metadata"] = encode(stored, "metadata")
    encoded["status"] = status
    if finished:
        encoded["finished_at"] = now()
    assignments = ", ".join(f"{key} = ?" for key in encoded)
    conn.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?", (*encoded.values(), run_id))


def find(conn: sqlite3.Connection, run_id: str, path: Path) -> RunRecord:
    """The run with this id, or with this unique id prefix; ValueError otherwise."""
    run_id = str(run_id).strip()
    if not run_id:
        raise ValueError("run id must not be empty")
    conn.row_factory = sqlite3.Row
    row = conn.execute(f"{SELECT_RUNS} WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        rows = conn.execute(
            f"{SELECT_RUNS} WHERE substr(run_id, 1, ?) = ? LIMIT 2", (len(run_id), run_id)
        ).fetchall()
        if len(rows) > 1:
            raise ValueError(f"run id prefix {run_id!r} is ambiguous in {path}")
        if not rows:
            raise ValueError(f"no run {run_id!r} in {path}")
        row = rows[0]
    return run_from_row(row, path)


def require(conn: sqlite3.Connection, run_id: str, path: Path) -> None:
    if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
        raise ValueError(f"no run {run_id!r} in {path}")


def imported(document: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """The run, jobs and provenance of an exported document that passed
    :func:`qkit.store._document.check` (its schema and meaning), with credential-looking values
    redacted as on every write."""
    redacted: list[str] = []
    run = {
        key: value
        if key in ("run_id", "kind", "status", "created_at", "finished_at", "counts")
        else redact(value, key, redacted)
        for key, value in document["run"].items()
    }
    run["metadata"] = dict(run["metadata"] or {})
    if redacted:
        known = set(run["metadata"].get("redacted", []))
        run["metadata"]["redacted"] = sorted(known | set(redacted))
    return run, document.get("jobs") or [], document.get("provenance")


def same_content(a: Any, b: Any) -> bool:
    """Equal as canonical JSON (key order and numpy types aside)."""
    return json.dumps(jsonable(a), sort_keys=True) == json.dumps(jsonable(b), sort_keys=True)


def insert_record(conn: sqlite3.Connection, run: dict[str, Any], path: Path) -> None:
    """Insert a complete run record as it is (an imported run keeps its id and times)."""
    row = tuple(encode(run[key], key) if key in RUN_JSON else run[key] for key in RUN_COLUMNS)
    insert(conn, row, path)
