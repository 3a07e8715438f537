"""The store's SQLite file: opening it safely, short-lived connections, write transactions.

Opening looks before it writes: :func:`~qkit.store._schema.inspect` classifies the file in a
read transaction, and only a qkit store of this or an older version is used; an empty file is
initialised (when creating) and an older store migrated, under the write lock. A read-only
database never writes: ``mode=ro`` connections, and ``immutable`` reads when SQLite cannot keep
a WAL index beside the file. Every SQLite or OS error becomes a one-line :class:`StoreError`
naming the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qkit.store._errors import StoreError, StoreNotFound
from qkit.store._files import check_file, connect, create_private_file, make_private_dirs
from qkit.store._schema import SCHEMA_VERSION, initialise, inspect, migrate


class Database:
    """The file of a results store, opened and checked (see the module docstring)."""

    def __init__(self, path: Path, *, timeout: float, create: bool, readonly: bool):
        self.path = path
        self.timeout = timeout
        self.readonly = readonly
        self.immutable = False
        self.backup: Path | None = None  # the copy written before a migration, if any
        self._open(create=create and not readonly)

    def _open(self, *, create: bool) -> None:
        try:
            size = check_file(self.path)
        except StoreNotFound:
            if not create:
                raise
            try:
                make_private_dirs(self.path.parent)
                create_private_file(self.path)
            except OSError as exc:
                raise StoreError(f"cannot create results store {self.path}: {exc}") from None
            size = 0
        if size == 0 and not create:
            raise StoreError(f"{self.path} is an empty file, not a results store")
        if self.readonly:
            self._open_readonly()
            return
        index = [Path(f"{self.path}{suffix}") for suffix in ("-wal", "-shm")]
        absent = [not p.exists() for p in index]
        try:
            self._open_for_writing(create)
        except StoreError:
            if all(absent) and _empty(index[0]):  # what a failed first open left (full disk)
                for path in index:
                    path.unlink(missing_ok=True)
            raise

    def _open_readonly(self) -> None:
        index = [Path(f"{self.path}{suffix}") for suffix in ("-wal", "-shm")]
        absent = [not p.exists() for p in index]
        try:
            version = self._inspect()
        except StoreError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, sqlite3.OperationalError) and _no_wal_index(cause)):
                raise
            # A WAL store where SQLite cannot make its -shm file (a read-only folder, a full
            # disk): nobody can be writing it there either, so it is read as an immutable
            # file, and the empty index files the failed attempt left are removed.
            if all(absent) and _empty(index[0]):
                for path in index:
                    path.unlink(missing_ok=True)
            self.immutable = True
            version = self._inspect()
        if version == 0:
            raise StoreError(f"{self.path} is an empty SQLite database, not a results store")

    def _open_for_writing(self, create: bool) -> None:
        version = self._inspect()
        if version == 0 and not create:
            raise StoreError(f"{self.path} is an empty SQLite database, not a results store")
        if version < SCHEMA_VERSION:
            with self.transaction() as conn:  # the write lock: one process sets up or migrates
                found = inspect(conn, self.path)
                if found.version == 0:
                    initialise(conn)
                else:
                    self.backup = migrate(conn, self.path, found)
        with self.connect() as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")  # persistent: once per file

    def _inspect(self) -> int:
        with self.connect() as conn:
            conn.execute("BEGIN")
            try:
                return inspect(conn, self.path).version
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")  # a read: nothing to keep or undo

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection per operation: safe across threads and processes.

        SQLite and OS errors become one-line :class:`StoreError` naming the store (integrity
        errors are left to the callers, which know what they mean).
        """
        try:
            conn = connect(
                self.path, self.timeout, readonly=self.readonly, immutable=self.immutable
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, self.timeout) from exc
        try:
            yield conn
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, self.timeout) from exc
        except OSError as exc:
            raise StoreError(f"results store {self.path}: {exc}") from exc
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole on success, rolled back on any exception.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers queue on the
        busy timeout instead of failing on a lock upgrade.
        """
        if self.readonly:
            raise StoreError(f"results store {self.path} is open read-only")
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def _no_wal_index(exc: sqlite3.Error) -> bool:
    """SQLite could not open or create the ``-shm`` file of a WAL store it reads."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    shm = str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_IOERR_SHM")  # disk full
    return _cannot_open(exc) or code == sqlite3.SQLITE_READONLY or "readonly" in str(exc) or shm


def _disk_full(path: Path) -> bool:
    """Is there (almost) no space left where the store lives?"""
    import os

    try:
        info = os.statvfs(path.parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _cannot_open(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_CANTOPEN or "unable to open" in str(exc)


def _store_error(exc: sqlite3.Error, path: Path, timeout: float) -> StoreError:
    """One line naming the store for a SQLite error."""
    text = " ".join(str(exc).split())
    if "locked" in text or "busy" in text:
        return StoreError(
            f"results store {path} is busy: locked by another process for {timeout:g} s"
        )
    if isinstance(exc, sqlite3.OperationalError) and _cannot_open(exc):
        return StoreError(f"cannot open results store {path}: {text}")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"results store {path} is read-only: {text}")
    if "full" in text or (text == "disk I/O error" and _disk_full(path)):
        return StoreError(f"results store {path}: the disk is full ({text})")
    if type(exc) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text:
        return StoreError(f"{path} is corrupt: {text}")
    return StoreError(f"results store {path}: {text}")
