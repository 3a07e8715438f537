"""Where the store lives, and opening its file without creating or changing what is there.

A new store is created readable by its user only (0600; SQLite gives the ``-wal`` and
``-shm`` files the same mode), in folders created 0700, whatever the umask. Reading never
creates anything: a read-only connection (``mode=ro``) is used, and when SQLite cannot keep its
shared-memory index beside a store in a read-only folder, the file is opened ``immutable``
(nobody can be writing it there either).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

from qkit.store._errors import StoreError, StoreNotFound

ENV_VAR = "QKIT_STORE"
SQLITE_HEADER = b"SQLite format 3\x00"


def default_store_path() -> Path:
    """``$QKIT_STORE`` if set, else ``<user data dir>/qkit/results.sqlite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("qkit")) / "results.sqlite"


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents as 0700 folders (existing ones are left alone)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file at ``path``; False if something already exists there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by the umask
    finally:
        os.close(fd)
    return True


def check_file(path: Path) -> int:
    """Size of the store file at ``path``; StoreError unless it can be a SQLite database.

    Looks before SQLite does, so a folder, a device, a text file or a garbage header is named
    as such instead of SQLite's "file is not a database" (or a silent initialisation).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise StoreNotFound(f"no results store at {path} yet") from None
    except OSError as exc:
        raise StoreError(f"cannot read results store {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{path} is a folder, not a results store")
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path} is not a regular file, so not a results store")
    if info.st_size == 0:
        return 0
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read results store {path}: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a results store (not a SQLite database)")
    if info.st_size < 512:
        raise StoreError(f"{path} is corrupt: truncated to {info.st_size} bytes")
    return info.st_size


def connect(path: Path, timeout: float, *, readonly: bool, immutable: bool = False):
    """A connection in autocommit mode (transactions are explicit) to an existing file."""
    # mode=rw: a store deleted meanwhile is an error, not a new empty file.
    # the bytes of the name: a path that is not valid UTF-8 is still a path
    uri = f"file:{quote(os.fsencode(path.absolute()))}?mode={'ro' if readonly else 'rw'}"
    uri += "&immutable=1" if immutable else ""
    conn = sqlite3.connect(uri, timeout=timeout, isolation_level=None, uri=True)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
