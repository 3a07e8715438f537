"""The ``provenance`` table: per run, what is needed to redo it, as compressed JSON.

One row per run (schema version 3): ``encoding`` names the format of ``data`` ("json+zlib":
compact JSON compressed with zlib), so a later qkit can change it without a migration. The
document itself is described in :mod:`qkit.provenance`.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

from qkit.store._errors import StoreError
from qkit.store._records import encode

ENCODING = "json+zlib"


def pack(document: Any) -> bytes:
    """Compact JSON of ``document`` (checked as the other JSON columns), zlib-compressed."""
    text = encode(document, "provenance")
    if text is None:
        raise ValueError("a run's provenance must not be empty")
    return zlib.compress(text.encode(), 9)


def unpack(encoding: str, data: bytes, run_id: str, path: Path) -> Any:
    if encoding != ENCODING:
        raise StoreError(
            f"provenance of run {run_id} in {path} is in an unknown encoding {encoding!r}"
        )
    try:
        return json.loads(zlib.decompress(data).decode())
    except (zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"provenance of run {run_id} in {path} is unreadable: {exc}") from None


def put(conn: sqlite3.Connection, run_id: str, document: Any) -> None:
    """Insert or replace the provenance of ``run_id`` (the caller's transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO provenance (run_id, encoding, data) VALUES (?, ?, ?)",
        (run_id, ENCODING, pack(document)),
    )


def get(conn: sqlite3.Connection, run_id: str, path: Path) -> tuple[Any, int] | None:
    """``(document, stored bytes)`` of a run's provenance, or None if it has none."""
    try:
        row = conn.execute(
            "SELECT encoding, data FROM provenance WHERE run_id = ?", (run_id,)
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a store of version 2 or older, opened read-only
        raise
    if row is None:
        return None
    return unpack(row[0], row[1], run_id, path), len(row[1])
