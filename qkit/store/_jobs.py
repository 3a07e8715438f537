"""Writing the ``jobs`` table: cloud and detached jobs recorded before anyone waits on them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qkit.store._records import JOB_COLUMNS, JOB_STATUSES, check_status, encode, now
from qkit.store._redaction import redact
from qkit.store._runs import require

SELECT_JOBS = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"


def new_rows(
    run_id: str,
    backend: str,
    job_ids: Sequence[str],
    *,
    payloads: Sequence[Any],
    status: str,
) -> list[tuple]:
    """Checked, redacted ``jobs`` rows (in column order), one per job id."""
    job_ids = [str(j) for j in job_ids]
    if not job_ids or any(not j for j in job_ids):
        raise ValueError("job_ids must be a non-empty list of non-empty ids")
    status = check_status(status.upper(), JOB_STATUSES, "job status")
    if len(payloads) != len(job_ids):
        raise ValueError(f"payloads has {len(payloads)} entries for {len(job_ids)} jobs")
    stamp = now()
    return [
        (j, run_id, str(backend), status, encode(redact(p, "payload", []), "payload"), None)
        + (stamp, stamp)
        for j, p in zip(job_ids, payloads, strict=True)
    ]


def insert(conn: sqlite3.Connection, rows: list[tuple], path: Path) -> None:
    """Insert the rows of :func:`new_rows`, all or none (the caller's transaction)."""
    require(conn, rows[0][1], path)
    marks = ", ".join("?" * len(JOB_COLUMNS))
    try:
        conn.executemany(f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) VALUES ({marks})", rows)
    except sqlite3.IntegrityError as exc:
        raise ValueError(f"cannot record jobs {[r[0] for r in rows]}: {exc}") from None


def update(conn: sqlite3.Connection, job_id: str, status: str, result: Any, path: Path) -> None:
    """Set a job's status (one of ``JOB_STATUSES``, any case) and optionally its result."""
    status = check_status(str(status).upper(), JOB_STATUSES, "job status")
    sets = ["status = ?", "updated_at = ?"]
    args: list[str | None] = [status, now()]
    if result is not None:
        sets.append("result = ?")
        args.append(encode(redact(result, "result", []), "result"))
    cursor = conn.execute(
        f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ?", (*args, str(job_id))
    )
    if cursor.rowcount == 0:
        raise ValueError(f"no job {job_id!r} in {path}")


def insert_records(conn: sqlite3.Connection, jobs: Sequence[dict[str, Any]], path: Path) -> None:
    """Insert complete job records as they are (an imported run's jobs, checked by
    :func:`qkit.store._document.check`)."""
    rows = [
        tuple(
            encode(redact(job[key], key, []), key) if key in ("payload", "result") else job[key]
            for key in JOB_COLUMNS
        )
        for job in jobs
    ]
    insert(conn, rows, path)
