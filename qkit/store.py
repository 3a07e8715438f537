"""The results store: every run and every cloud job, kept in one SQLite file.

Where: an explicit ``path``, else the ``QKIT_STORE`` environment variable, else
``platformdirs.user_data_dir("qkit") / "results.sqlite"``.

A *run* is one experiment (``kind`` "mixup", "channel", "sweep", ...). Its life is
``create_run`` (status "running", or "submitted" for cloud work) then ``finish_run``
("done") or ``fail_run`` ("failed"); ``save_run`` does both at once. Parameters, prediction,
estimate, raw counts, backend, seeds, package versions and metadata are JSON columns; times
are UTC ISO 8601. Cloud *jobs* (issue #5) are recorded with ``add_jobs`` before waiting on
them, so an interrupted session can find and resume them.

Guarantees:

- every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL mode: an
  interrupted process leaves either the whole record or nothing;
- several processes may write at once: writers queue on SQLite's lock (``timeout`` seconds);
- nothing that looks like a credential is stored: values under keys such as ``token``,
  ``api_key``, ``secret``, ``password``, ``instance`` are replaced by ``"<redacted>"``
  (at any depth) and the redacted paths listed in ``metadata["redacted"]``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qkit.result import jsonable, package_versions

ENV_VAR = "QKIT_STORE"
RUN_STATUSES = ("submitted", "running", "done", "failed")
JOB_STATUSES = ("SUBMITTED", "QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")
REDACTED = "<redacted>"

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    finished_at TEXT,
    backend     TEXT,
    params      TEXT NOT NULL,
    prediction  TEXT,
    estimate    TEXT,
    counts      TEXT,
    seeds       TEXT,
    versions    TEXT,
    metadata    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_kind ON runs (kind, run_id);
CREATE TABLE IF NOT EXISTS jobs (
    job_id     TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs (run_id),
    backend    TEXT NOT NULL,
    status     TEXT NOT NULL,
    payload    TEXT,
    result     TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs (run_id);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
"""

_RUN_COLUMNS = (
    "run_id",
    "kind",
    "status",
    "created_at",
    "finished_at",
    "backend",
    "params",
    "prediction",
    "estimate",
    "counts",
    "seeds",
    "versions",
    "metadata",
)
_RUN_JSON = (
    "backend",
    "params",
    "prediction",
    "estimate",
    "counts",
    "seeds",
    "versions",
    "metadata",
)
_JOB_JSON = ("payload", "result")

# Key names whose values are never stored (matched case-insensitively anywhere in the key).
_SECRET_KEY = re.compile(
    r"token|api[_-]?key|secret|passw(or)?d|credential|private[_-]?key|access[_-]?key"
    r"|instance|crn|cookie|bearer|^auth|authori[sz]ation",
    re.IGNORECASE,
)
# Values that are credentials whatever their key: bearer headers, AWS access key ids.
_SECRET_VALUE = re.compile(r"^(bearer\s+\S+|(AKIA|ASIA)[A-Z0-9]{16})$", re.IGNORECASE)


def default_store_path() -> Path:
    """``$QKIT_STORE`` if set, else ``<user data dir>/qkit/results.sqlite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("qkit")) / "results.sqlite"


def new_run_id(at: datetime | None = None) -> str:
    """A unique id that sorts by creation time: ``YYYYmmddTHHMMSS.ffffff-<6 hex>`` (UTC)."""
    return f"{at or datetime.now(UTC):%Y%m%dT%H%M%S.%f}-{secrets.token_hex(3)}"


def _now(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat(timespec="microseconds")


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


class ResultsStore:
    """Runs and cloud jobs in a SQLite file (see the module docstring for the guarantees).

    Parameters
    ----------
    path : str or Path, optional
        Database file; default :func:`default_store_path`. Parent directories are created.
    timeout : float
        Seconds a writer waits for another process's lock before giving up.
    create : bool
        If False, a missing file is an error instead of a new, empty store.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = ResultsStore(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
    >>> run_id = store.save_run("mixup", {"success": 0.9}, prediction={"chsh_max": 2.5},
    ...                         estimate={"chsh": {"value": 2.48, "stderr": 0.02}})
    >>> store.get_run(run_id[:20]).estimate["chsh"]["value"]
    2.48
    """

    def __init__(
        self, path: str | os.PathLike | None = None, *, timeout: float = 30.0, create: bool = True
    ):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.timeout = float(timeout)
        if not self.path.exists():
            if not create:
                raise ValueError(f"no results store at {self.path}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")  # persistent: once per file
                if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                    conn.executescript(
                        f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={_SCHEMA_VERSION}; COMMIT;"
                    )
            except sqlite3.DatabaseError as exc:
                raise ValueError(f"{self.path} is not a usable results store: {exc}") from None

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe across threads and processes.
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise ValueError(f"cannot open results store {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole on success, rolled back on any exception.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers queue on the
        busy timeout instead of failing on a lock upgrade.
        """
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        kind: str,
        params: dict[str, Any],
        backend: Any = None,
        seeds: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        prediction: Any = None,
        versions: dict[str, str] | None = None,
        status: str = "running",
        run_id: str | None = None,
    ) -> str:
        """Record a new run before sampling; returns its ``run_id``."""
        _check_status(status, RUN_STATUSES, "run status")
        if status == "done":
            raise ValueError("create_run cannot create a finished run: use save_run")
        return self._insert_run(
            kind,
            params,
            backend,
            seeds,
            metadata,
            prediction,
            None,
            None,
            versions,
            status,
            run_id,
            finished=False,
        )

    def finish_run(
        self,
        run_id: str,
        prediction: Any = None,
        estimate: Any = None,
        counts: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        status: str = "done",
    ) -> None:
        """Store the outcome of a run and mark it finished (``metadata`` is merged in).

        Fields passed as None keep their stored value.
        """
        _check_status(status, ("done", "failed"), "finished run status")
        updates = {"prediction": prediction, "estimate": estimate, "counts": counts}
        updates = {key: value for key, value in updates.items() if value is not None}
        self._update_run(run_id, updates, metadata, status, finished=True)

    def fail_run(self, run_id: str, error: str, *, metadata: dict[str, Any] | None = None) -> None:
        """Mark a run failed, keeping the one-line ``error`` in its metadata."""
        extra = {**(metadata or {}), "error": str(error)}
        self._update_run(run_id, {}, extra, "failed", finished=True)

    def set_status(self, run_id: str, status: str) -> None:
        """Move a run to ``status`` (e.g. "submitted" -> "running" when its jobs start)."""
        _check_status(status, RUN_STATUSES, "run status")
        self._update_run(run_id, {}, None, status, finished=status in ("done", "failed"))

    def save_run(
        self,
        kind: str,
        params: dict[str, Any],
        prediction: Any = None,
        estimate: Any = None,
        counts: Any = None,
        backend: Any = None,
        seeds: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        versions: dict[str, str] | None = None,
        run_id: str | None = None,
    ) -> str:
        """Record a complete run (create + finish) in one transaction; returns its ``run_id``."""
        return self._insert_run(
            kind,
            params,
            backend,
            seeds,
            metadata,
            prediction,
            estimate,
            counts,
            versions,
            "done",
            run_id,
            finished=True,
        )

    def save_result(self, result: Any) -> str:
        """Save a :class:`qkit.result.Result`; returns the run id (the result's own, if set)."""
        metadata = dict(result.metadata or {})
        metadata.setdefault("shots", result.shots)
        return self.save_run(
            result.kind,
            result.params,
            result.prediction,
            result.estimate,
            result.counts,
            result.backend,
            {"seed": result.seed},
            metadata=metadata,
            run_id=result.run_id,
        )

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or with this unique id prefix; ValueError otherwise."""
        run_id = str(run_id).strip()
        if not run_id:
            raise ValueError("run id must not be empty")
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                rows = conn.execute(
                    "SELECT * FROM runs WHERE substr(run_id, 1, ?) = ? LIMIT 2",
                    (len(run_id), run_id),
                ).fetchall()
                if len(rows) > 1:
                    raise ValueError(f"run id prefix {run_id!r} is ambiguous in {self.path}")
                if not rows:
                    raise ValueError(f"no run {run_id!r} in {self.path}")
                row = rows[0]
        return _run_from_row(row)

    def list_runs(
        self,
        kind: str | None = None,
        *,
        status: str | None = None,
        limit: int | None = 50,
        with_counts: bool = False,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one ``kind`` / ``status``; counts only on request."""
        columns = ", ".join(
            name if with_counts or name != "counts" else "NULL AS counts" for name in _RUN_COLUMNS
        )
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if status is not None:
            _check_status(status, RUN_STATUSES, "run status")
            where.append("status = ?")
            args.append(status)
        rows = self._select(f"SELECT {columns} FROM runs", where, args, "run_id DESC", limit)
        return [_run_from_row(row) for row in rows]

    # ------------------------------------------------------------------ jobs

    def add_jobs(
        self,
        run_id: str,
        backend: str,
        job_ids: Sequence[str],
        payload: Any = None,
        *,
        payloads: Sequence[Any] | None = None,
        status: str = "SUBMITTED",
    ) -> None:
        """Record cloud jobs of a run, all or none, BEFORE waiting on them.

        ``payload`` is stored with every job (e.g. what the jobs sample, to resume later);
        ``payloads`` gives one per job instead.
        """
        job_ids = [str(j) for j in job_ids]
        if not job_ids or any(not j for j in job_ids):
            raise ValueError("job_ids must be a non-empty list of non-empty ids")
        status = _check_status(status.upper(), JOB_STATUSES, "job status")
        if payloads is not None and len(payloads) != len(job_ids):
            raise ValueError(f"payloads has {len(payloads)} entries for {len(job_ids)} jobs")
        per_job = list(payloads) if payloads is not None else [payload] * len(job_ids)
        encoded = [_encode(_redact(p, "payload", []), "payload") for p in per_job]
        now = _now()
        try:
            with self._transaction() as conn:
                self._require_run(conn, run_id)
                conn.executemany(
                    "INSERT INTO jobs (job_id, run_id, backend, status, payload, result,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                    [
                        (j, run_id, str(backend), status, p, now, now)
                        for j, p in zip(job_ids, encoded, strict=True)
                    ],
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"cannot record jobs {job_ids}: {exc}") from None

    def update_job(self, job_id: str, status: str, result: Any = None) -> None:
        """Set a job's status (one of ``JOB_STATUSES``, any case) and optionally its result."""
        status = _check_status(str(status).upper(), JOB_STATUSES, "job status")
        sets, args = ["status = ?", "updated_at = ?"], [status, _now()]
        if result is not None:
            sets.append("result = ?")
            args.append(_encode(_redact(result, "result", []), "result"))
        with self._transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ?", (*args, str(job_id))
            )
            if cursor.rowcount == 0:
                raise ValueError(f"no job {job_id!r} in {self.path}")

    def get_job(self, job_id: str) -> JobRecord:
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (str(job_id),)).fetchone()
        if row is None:
            raise ValueError(f"no job {job_id!r} in {self.path}")
        return _job_from_row(row)

    def jobs_for_run(self, run_id: str) -> list[JobRecord]:
        """The jobs of a run (full id), in the order they were recorded."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT * FROM jobs WHERE run_id = ? ORDER BY created_at, rowid", (run_id,)
            ).fetchall()
        return [_job_from_row(row) for row in rows]

    def list_jobs(
        self, status: str | None = None, backend: str | None = None, limit: int | None = None
    ) -> list[JobRecord]:
        """Jobs, newest first, optionally filtered by status and backend."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(_check_status(status.upper(), JOB_STATUSES, "job status"))
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        rows = self._select("SELECT * FROM jobs", where, args, "created_at DESC, rowid DESC", limit)
        return [_job_from_row(row) for row in rows]

    # ------------------------------------------------------------------ internals

    def _select(
        self, select: str, where: list[str], args: list, order: str, limit: int | None
    ) -> list[sqlite3.Row]:
        """Rows of ``select`` filtered by ``where`` (ANDed), ordered, at most ``limit``."""
        sql = select
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if limit is not None:
            if int(limit) < 1:
                raise ValueError(f"limit must be a positive integer, got {limit}")
            sql += " LIMIT ?"
            args = [*args, int(limit)]
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, args).fetchall()

    def _insert_run(
        self,
        kind,
        params,
        backend,
        seeds,
        metadata,
        prediction,
        estimate,
        counts,
        versions,
        status,
        run_id,
        *,
        finished: bool,
    ) -> str:
        if not isinstance(kind, str) or not kind.strip():
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        if not isinstance(params, dict):
            raise ValueError(f"params must be a dict, got {type(params).__name__}")
        created = datetime.now(UTC)
        run_id = new_run_id(created) if run_id is None else str(run_id)
        if not run_id or any(ch.isspace() for ch in run_id):
            raise ValueError(f"run_id must be a non-empty string without spaces, got {run_id!r}")
        redacted: list[str] = []
        row = {
            "backend": _redact(backend, "backend", redacted),
            "params": _redact(params, "params", redacted),
            "prediction": _redact(prediction, "prediction", redacted),
            "estimate": _redact(estimate, "estimate", redacted),
            "counts": counts,  # raw data: never keyed by credentials, and can be large
            "seeds": _redact(seeds, "seeds", redacted),
            "versions": package_versions() if versions is None else versions,
            "metadata": dict(_redact(metadata or {}, "metadata", redacted)),
        }
        if redacted:
            row["metadata"]["redacted"] = redacted
        encoded = {key: _encode(value, key) for key, value in row.items()}
        now = _now(created)
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO runs (run_id, kind, status, created_at, finished_at, backend,"
                    " params, prediction, estimate, counts, seeds, versions, metadata)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        kind,
                        status,
                        now,
                        now if finished else None,
                        *(encoded[key] for key in _RUN_JSON),
                    ),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"run {run_id!r} already exists in {self.path}") from None
        return run_id

    def _update_run(
        self,
        run_id: str,
        updates: dict[str, Any],
        metadata: dict | None,
        status: str,
        *,
        finished: bool,
    ) -> None:
        redacted: list[str] = []
        updates = {
            key: value if key == "counts" else _redact(value, key, redacted)
            for key, value in updates.items()
        }
        extra = dict(_redact(metadata or {}, "metadata", redacted))
        encoded = {key: _encode(value, key) for key, value in updates.items()}
        with self._transaction() as conn:
            self._require_run(conn, run_id)
            stored = json.loads(
                conn.execute("SELECT metadata FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
            )
            stored.update(extra)
            if redacted:
                stored["redacted"] = sorted(set(stored.get("redacted", [])) | set(redacted))
            encoded["metadata"] = _encode(stored, "metadata")
            encoded["status"] = status
            if finished:
                encoded["finished_at"] = _now()
            assignments = ", ".join(f"{key} = ?" for key in encoded)
            conn.execute(
                f"UPDATE runs SET {assignments} WHERE run_id = ?", (*encoded.values(), run_id)
            )

    def _require_run(self, conn: sqlite3.Connection, run_id: str) -> None:
        if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
            raise ValueError(f"no run {run_id!r} in {self.path}")


def _check_status(status: str, allowed: Sequence[str], what: str) -> str:
    if status not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {status!r}")
    return status


def _redact(value: Any, path: str, redacted: list[str]) -> Any:
    """Copy of ``value`` with credential-looking entries replaced; their paths appended."""
    if hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}"
            if _SECRET_KEY.search(str(key)) and item is not None:
                out[key] = REDACTED
                redacted.append(where)
            else:
                out[key] = _redact(item, where, redacted)
        return out
    if isinstance(value, list | tuple):
        return [_redact(item, f"{path}[{i}]", redacted) for i, item in enumerate(value)]
    if isinstance(value, str) and _SECRET_VALUE.match(value.strip()):
        redacted.append(path)
        return REDACTED
    return value


def _encode(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(jsonable(value), allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} cannot be stored as JSON: {exc}") from None


def _decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    values = {key: row[key] for key in row.keys()}
    for key in _RUN_JSON:
        values[key] = _decode(values[key])
    return RunRecord(**values)


def _job_from_row(row: sqlite3.Row) -> JobRecord:
    values = {key: row[key] for key in row.keys()}
    for key in _JOB_JSON:
        values[key] = _decode(values[key])
    return JobRecord(**values)
