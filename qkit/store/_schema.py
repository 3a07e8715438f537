"""The store's tables, its version, and what opening a file finds there.

The version is SQLite's ``user_version``; since version 2 the header also carries qkit's
``application_id``, so another program's database is told apart by its first page. Version 1
(every store written before the id existed) is read as it is and migrated on the first write:
a backup copy is written next to the file, then the upgrade runs in one transaction.
Version 3 adds the ``provenance`` table: per run, a zlib-compressed JSON document with what is
needed to redo it (:mod:`qkit.provenance`); older runs have no row there.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qkit.store._errors import StoreError
from qkit.store._files import connect, create_private_file
from qkit.store._records import JOB_COLUMNS, RUN_COLUMNS

SCHEMA_VERSION = 3
APPLICATION_ID = int.from_bytes(b"qkit", "big")  # 0x716b6974 in the file header

TABLES = """
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
{provenance}"""

PROVENANCE_TABLE = """
CREATE TABLE IF NOT EXISTS provenance (
    run_id   TEXT PRIMARY KEY REFERENCES runs (run_id),
    encoding TEXT NOT NULL,
    data     BLOB NOT NULL
)"""
TABLES = TABLES.format(provenance=PROVENANCE_TABLE + ";")

PROVENANCE_COLUMNS = ("run_id", "encoding", "data")
_REQUIRED = {
    "runs": set(RUN_COLUMNS),
    "jobs": set(JOB_COLUMNS),
    "provenance": set(PROVENANCE_COLUMNS),
}
# tables a store of an older version does not have yet (its migration creates them)
_SINCE = {"provenance": 3}

# version -> the statements taking a store from that version to the next (all of them run
# in one transaction, after the backup).
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (f"PRAGMA application_id = {APPLICATION_ID}",),
    2: (PROVENANCE_TABLE,),
}


@dataclass(frozen=True)
class Found:
    """What a file holds: its schema version (0: an empty database, no tables yet)."""

    version: int
    application_id: int


def inspect(conn: sqlite3.Connection, path: Path) -> Found:
    """Classify the database behind ``conn``; StoreError unless qkit can read it.

    Runs inside the caller's read transaction, so it sees one consistent state.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {
        name: sql
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    _check_size(conn, path)
    if app_id not in (0, APPLICATION_ID):
        raise StoreError(f"{path} is not a results store: it belongs to another program")
    ours = app_id == APPLICATION_ID or (tables and set(tables) <= set(_REQUIRED))
    if version > SCHEMA_VERSION and ours:
        raise StoreError(
            f"{path} was written by a newer qkit (store version {version}; this qkit reads"
            f" up to {SCHEMA_VERSION}): upgrade qkit to use it"
        )
    if not tables and version == 0 and app_id == 0:
        return Found(0, app_id)  # an empty SQLite database: nothing in it yet
    expected = {t for t in _REQUIRED if max(version, 1) >= _SINCE.get(t, 1)}
    if not ours or version > SCHEMA_VERSION or set(tables) != expected:
        listed = ", ".join(sorted(tables)) or "none"
        raise StoreError(f"{path} is not a results store (its tables: {listed})")
    for table, required in _REQUIRED.items():
        if table not in expected:
            continue
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not required <= columns:
            missing = ", ".join(sorted(required - columns))
            raise StoreError(f"{path} is corrupt: table {table} lacks columns {missing}")
    return Found(max(version, 1), app_id)


def _check_size(conn: sqlite3.Connection, path: Path) -> None:
    """A file shorter than its pages (and no WAL holding them) was truncated."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    size = path.stat().st_size
    if wal_size == 0 and 0 < size < pages * page_size:
        raise StoreError(f"{path} is corrupt: truncated ({size} bytes of {pages * page_size})")


def initialise(conn: sqlite3.Connection) -> None:
    """Create the tables in an empty database (inside the caller's write transaction)."""
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate(conn: sqlite3.Connection, path: Path, found: Found) -> Path | None:
    """Bring a store of an older version up to date: backup, then one transaction.

    ``conn`` must hold the write lock (``BEGIN IMMEDIATE``) and ``found`` must have been read
    under it. Returns the backup's path (None when there was nothing to do).
    """
    if found.version >= SCHEMA_VERSION:
        return None
    backup = backup_path(path, found.version)
    create_private_file(backup)
    # Copied through a second connection: ``conn`` holds the write lock and has changed
    # nothing yet, so the reader sees exactly the state being migrated (WAL content included).
    source = connect(path, 30.0, readonly=True)
    copy = sqlite3.connect(backup)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    try:
        for version in range(found.version, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.Error as exc:  # the caller's transaction rolls everything back
        raise StoreError(
            f"cannot upgrade results store {path} from version {found.version} to"
            f" {SCHEMA_VERSION} ({exc}); it is unchanged, and copied to {backup}"
        ) from None
    return backup


def backup_path(path: Path, version: int) -> Path:
    """``<store>.v<version>-<UTC time>.bak`` beside the store; never an existing file."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    candidate = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.v{version}-{stamp}-{n}.bak")
        n += 1
    return candidate
