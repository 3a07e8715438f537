"""The :class:`ResultsStore`: the public methods over runs and jobs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qkit.store import _document, _jobs, _owner, _provenance, _runs
from qkit.store._database import Database
from qkit.store._errors import StoreError
from qkit.store._files import default_store_path
from qkit.store._records import (
    JOB_STATUSES,
    RUN_STATUSES,
    JobRecord,
    RunRecord,
    check_status,
    job_from_row,
    now,
    run_from_row,
)

EXPORT_FORMAT = "qkit-run/1"
"""The ``format`` of an exported run document (:meth:`ResultsStore.export_run`)."""


class ResultsStore:
    """Runs and cloud jobs in a SQLite file (see :mod:`qkit.store` for the guarantees).

    Parameters
    ----------
    path : str or Path, optional
        Database file; default :func:`default_store_path`. Missing folders are created (0700).
    timeout : float
        Seconds a writer waits for another process's lock before giving up.
    create : bool
        If False, a missing file is an error instead of a new, empty store.
    readonly : bool
        Open for reading only: nothing is created, migrated or written (read-only files and
        folders can be read); writing methods raise :class:`StoreError`.

    Raises
    ------
    StoreError
        (a ``ValueError``) on one line naming the path, if the file is missing (when not
        creating: :class:`StoreNotFound`), a folder, empty (when not creating), not a SQLite
        database, corrupt, another program's database, from a newer qkit, or unreadable.

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
        self,
        path: str | os.PathLike | None = None,
        *,
        timeout: float = 30.0,
        create: bool = True,
        readonly: bool = False,
    ):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.timeout = float(timeout)
        self.readonly = bool(readonly)
        self._db = Database(self.path, timeout=self.timeout, create=create, readonly=self.readonly)
        self.backup: Path | None = self._db.backup  # the copy written before a migration
        if not self.readonly:
            self._settle_interrupted()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

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
        check_status(status, RUN_STATUSES, "run status")
        if status == "done":
            raise ValueError("create_run cannot create a finished run: use save_run")
        if status == "running":  # sampled by this process: interrupted if it dies
            metadata = {**(metadata or {}), "owner": _owner.current()}
        run = _runs.NewRun(
            kind,
            params,
            backend=backend,
            seeds=seeds,
            metadata=metadata,
            prediction=prediction,
            versions=versions,
            status=status,
            run_id=run_id,
        )
        return self._insert_run(run)

    def finish_run(
        self,
        run_id: str,
        prediction: Any = None,
        estimate: Any = None,
        counts: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        status: str = "done",
        provenance: Any = None,
    ) -> None:
        """Store the outcome of a run and mark it finished (``metadata`` is merged in).

        Fields passed as None keep their stored value. ``provenance`` (what is needed to redo
        the run, :mod:`qkit.provenance`) is stored compressed in the same transaction.
        """
        check_status(status, ("done", "failed"), "finished run status")
        updates = {"prediction": prediction, "estimate": estimate, "counts": counts}
        updates = {key: value for key, value in updates.items() if value is not None}
        self._update_run(run_id, updates, metadata=metadata, status=status, provenance=provenance)

    def fail_run(self, run_id: str, error: str, *, metadata: dict[str, Any] | None = None) -> None:
        """Mark a run failed, keeping the one-line ``error`` in its metadata."""
        extra = {**(metadata or {}), "error": str(error)}
        self._update_run(run_id, {}, metadata=extra, status="failed")

    def set_status(self, run_id: str, status: str) -> None:
        """Move a run to ``status`` (e.g. "submitted" -> "running" when its jobs start)."""
        check_status(status, RUN_STATUSES, "run status")
        owner = _owner.current() if status == "running" else None  # now this process's
        self._update_run(run_id, {}, metadata={"owner": owner}, status=status)

    def save_run(
        self,
        kind: str,
        params: dict[str, Any],
        prediction: Any = None,
        estimate: Any = None,
        counts: Any = None,
        backend: Any = None,
        *,
        seeds: Any = None,
        metadata: dict[str, Any] | None = None,
        versions: dict[str, str] | None = None,
        run_id: str | None = None,
        provenance: Any = None,
    ) -> str:
        """Record a complete run (create + finish) in one transaction; returns its ``run_id``.

        ``provenance`` as in :meth:`finish_run`.
        """
        run = _runs.NewRun(
            kind,
            params,
            backend=backend,
            seeds=seeds,
            metadata=metadata,
            prediction=prediction,
            estimate=estimate,
            counts=counts,
            versions=versions,
            status="done",
            run_id=run_id,
            finished=True,
        )
        return self._insert_run(run, provenance)

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
            seeds={"seed": result.seed},
            metadata=metadata,
            run_id=result.run_id,
        )

    def get_provenance(self, run_id: str) -> Any:
        """The provenance document of a run (full id or unique prefix), or None if it has none.

        Runs stored before provenance was kept (store version 2 or older) have none.
        """
        found = self._provenance(run_id)
        return None if found is None else found[0]

    def provenance_size(self, run_id: str) -> int:
        """Bytes the run's provenance takes in the store (compressed); 0 if it has none."""
        found = self._provenance(run_id)
        return 0 if found is None else found[1]

    def _provenance(self, run_id: str) -> tuple[Any, int] | None:
        with self._db.connect() as conn:
            full = _runs.find(conn, run_id, self.path).run_id
            return _provenance.get(conn, full, self.path)

    def export_run(self, run_id: str) -> dict[str, Any]:
        """One self-contained document of a run: its record, its jobs and its provenance."""
        with self._db.connect() as conn:  # one read: record, jobs and provenance agree
            return self._export_in(conn, _runs.find(conn, run_id, self.path))

    def import_run(self, document: dict[str, Any]) -> tuple[str, bool]:
        """Add a run exported by :meth:`export_run`; ``(run_id, added)``.

        A run id already here with the same content is left alone (``added`` False); with
        different content it is refused (ValueError). Credential-looking values are redacted
        as on every write.
        """
        _document.check(document)  # the whole document, before anything is stored
        run, jobs, provenance = _runs.imported(document)
        with self._db.transaction() as conn:
            conn.row_factory = sqlite3.Row
            existing = conn.execute(
                f"{_runs.SELECT_RUNS} WHERE run_id = ?", (run["run_id"],)
            ).fetchone()
            if existing is not None:
                here = self._export_in(conn, run_from_row(existing, self.path))
                if _runs.same_content(here, {**document, "run": run, "jobs": jobs}):
                    return run["run_id"], False
                raise ValueError(
                    f"run {run['run_id']} exists in {self.path} with different content; "
                    "not imported"
                )
            _runs.insert_record(conn, run, self.path)
            if jobs:
                _jobs.insert_records(conn, jobs, self.path)
            if provenance is not None:
                _provenance.put(conn, run["run_id"], provenance)
        return run["run_id"], True

    def _export_in(self, conn: sqlite3.Connection, record: RunRecord) -> dict[str, Any]:
        found = _provenance.get(conn, record.run_id, self.path)
        return {
            "format": EXPORT_FORMAT,
            "run": record.to_dict(),
            "jobs": [job.to_dict() for job in self._jobs_in(conn, record.run_id)],
            "provenance": None if found is None else found[0],
        }

    def _jobs_in(self, conn: sqlite3.Connection, run_id: str) -> list[JobRecord]:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            f"{_jobs.SELECT_JOBS} WHERE run_id = ? ORDER BY created_at, rowid", (run_id,)
        ).fetchall()
        return [job_from_row(row, self.path) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or with this unique id prefix; ValueError otherwise."""
        with self._db.connect() as conn:
            return _runs.find(conn, run_id, self.path)

    def list_runs(
        self,
        kind: str | None = None,
        *,
        status: str | None = None,
        limit: int | None = 50,
        with_counts: bool = False,
        unreadable: list[str] | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one ``kind`` / ``status``; counts only on request.

        A row that cannot be decoded raises :class:`StoreError` naming its run, unless a list
        is passed as ``unreadable``: then the row is skipped and its one-line reason appended.
        """
        columns = ", ".join(
            name if with_counts or name != "counts" else "NULL AS counts"
            for name in _runs.RUN_COLUMNS
        )
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if status is not None:
            check_status(status, RUN_STATUSES, "run status")
            # an interrupted run is stored 'running' until settled, and read as 'failed'
            where.append("status IN (?, 'running')" if status == "failed" else "status = ?")
            args.append(status)
        rows = self._select(f"SELECT {columns} FROM runs", where, args, "run_id DESC", limit)
        records = _decoded(rows, run_from_row, self.path, unreadable)
        return [r for r in records if status is None or r.status == status]

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
        job_ids = list(job_ids)
        per_job = list(payloads) if payloads is not None else [payload] * len(job_ids)
        rows = _jobs.new_rows(run_id, backend, job_ids, payloads=per_job, status=status)
        with self._db.transaction() as conn:
            _jobs.insert(conn, rows, self.path)

    def update_job(self, job_id: str, status: str, result: Any = None) -> None:
        """Set a job's status (one of ``JOB_STATUSES``, any case) and optionally its result."""
        check_status(str(status).upper(), JOB_STATUSES, "job status")
        with self._db.transaction() as conn:
            _jobs.update(conn, job_id, status, result, self.path)

    def get_job(self, job_id: str) -> JobRecord:
        with self._db.connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(f"{_jobs.SELECT_JOBS} WHERE job_id = ?", (str(job_id),)).fetchone()
        if row is None:
            raise ValueError(f"no job {job_id!r} in {self.path}")
        return job_from_row(row, self.path)

    def jobs_for_run(self, run_id: str) -> list[JobRecord]:
        """The jobs of a run (full id), in the order they were recorded."""
        with self._db.connect() as conn:
            return self._jobs_in(conn, run_id)

    def list_jobs(
        self,
        status: str | None = None,
        backend: str | None = None,
        limit: int | None = None,
        *,
        unreadable: list[str] | None = None,
    ) -> list[JobRecord]:
        """Jobs, newest first, optionally filtered by status and backend (see ``list_runs``)."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(check_status(status.upper(), JOB_STATUSES, "job status"))
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        order = "created_at DESC, rowid DESC"
        rows = self._select(_jobs.SELECT_JOBS, where, args, order, limit)
        return _decoded(rows, job_from_row, self.path, unreadable)

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
        with self._db.connect() as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, args).fetchall()

    def _settle_interrupted(self) -> None:
        """Record runs whose process was killed as failed (a read first: usually none)."""
        with self._db.connect() as conn:
            candidates = _owner.interrupted(conn)
        if candidates:
            with self._db.transaction() as conn:
                _owner.settle(conn, candidates, now())

    def _insert_run(self, run: _runs.NewRun, provenance: Any = None) -> str:
        row = _runs.insert_row(run)
        with self._db.transaction() as conn:
            run_id = _runs.insert(conn, row, self.path)
            if provenance is not None:
                _provenance.put(conn, run_id, provenance)
            return run_id

    def _update_run(
        self,
        run_id: str,
        updates: dict[str, Any],
        *,
        metadata: dict | None,
        status: str,
        provenance: Any = None,
    ) -> None:
        with self._db.transaction() as conn:
            _runs.update(conn, run_id, updates, metadata=metadata, status=status, path=self.path)
            if provenance is not None:
                _provenance.put(conn, run_id, provenance)


def _decoded(rows, from_row, path: Path, unreadable: list[str] | None) -> list:
    records = []
    for row in rows:
        try:
            records.append(from_row(row, path))
        except StoreError as exc:
            if unreadable is None:
                raise
            unreadable.append(str(exc))
    return records
