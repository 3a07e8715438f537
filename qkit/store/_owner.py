"""Which process is running a run, so a run whose process was killed is not ``running`` forever.

A run created ``running`` by this process (sampled here, no durable jobs) records its owner
in ``metadata["owner"]``: host, PID and the PID's start time (Linux ``/proc``), so a reused
PID is not mistaken for the owner. A ``running`` run whose owner on this host is gone
(SIGKILL, power cut) is *interrupted*: every reader shows it ``failed`` with the reason, and
the next command that opens the store for writing records that (:func:`settle`). Runs of
another host, or without an owner (older runs, durable runs), are left as they are.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from typing import Any

INTERRUPTED = "interrupted: the process that ran it (pid {pid}) ended before it finished"


def _start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def current() -> dict[str, Any]:
    """The owner record of this process."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _start_ticks(pid)}


def gone(owner: Any) -> bool:
    """Is ``owner`` (a record of :func:`current`) a process of this host that has ended?"""
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    if type(pid) is not int or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        pass  # alive (another user's): the start time decides
    started = owner.get("started")
    now = _start_ticks(pid)
    return started is not None and now is not None and now != started


def view(values: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``runs`` row as readers see it: an interrupted run is ``failed``."""
    metadata = values.get("metadata")
    if values.get("status") != "running" or not isinstance(metadata, dict):
        return values
    owner = metadata.get("owner")
    if not isinstance(owner, dict) or not gone(owner):
        return values
    error = INTERRUPTED.format(pid=owner["pid"])
    return {**values, "status": "failed", "metadata": {**metadata, "error": error}}


def interrupted(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """``{run_id: metadata}`` of the ``running`` runs of this host whose process has ended."""
    rows = conn.execute(
        "SELECT run_id, metadata FROM runs WHERE status = 'running' AND metadata LIKE ?",
        ('%"owner"%',),
    ).fetchall()
    found = {}
    for run_id, text in rows:
        try:
            metadata = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(metadata, dict) and gone(metadata.get("owner")):
            found[run_id] = metadata
    return found


def settle(conn: sqlite3.Connection, runs: dict[str, dict[str, Any]], now: str) -> None:
    """Record the :func:`interrupted` ``runs`` as failed (the caller's write transaction)."""
    for run_id, metadata in runs.items():
        metadata = {**metadata, "error": INTERRUPTED.format(pid=metadata["owner"]["pid"])}
        conn.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, metadata = ?"
            " WHERE run_id = ? AND status = 'running'",
            (now, json.dumps(metadata, separators=(",", ":")), run_id),
        )
