"""The one way qkit writes a file: atomically, never over a file it was not asked to replace.

Every file qkit writes (exports, figures, sweep tables and parts, reproduce outputs, job
folders) goes through :func:`write_atomic` (:func:`atomic_file` for a file streamed in
parts): the bytes go to a fresh temporary file beside the target, are flushed to disk, and the
temporary file is then linked (a new file) or renamed (``overwrite=True``) into place. A crash
or a full disk leaves the old file or the new one, never half of one and never a 0-byte file;
the temporary file is removed on every failure.

Without ``overwrite`` an existing path, or a symbolic link (even a dangling one), is refused
with :class:`OutputExists` before anything is written; with it, a symbolic link is replaced
by the new file, and the file it pointed to is left as it was.

A full disk is :class:`DiskFull` ("the disk is full"), an ``OSError`` (the command line's
exit 3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class OutputExists(ValueError):
    """The path to write exists (or is a symbolic link) and ``overwrite`` was not given."""


class DiskFull(OSError):
    """No space left (ENOSPC, EDQUOT) while writing ``filename``."""

    def __init__(self, filename: str | os.PathLike[str]) -> None:
        super().__init__(errno.ENOSPC, "the disk is full", str(filename))


_FULL = (errno.ENOSPC, errno.EDQUOT)


def check_new(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """``path`` as a Path; :class:`OutputExists` if something is there and not ``overwrite``.

    Commands call this before they start working, so a refusal costs nothing and leaves
    nothing behind; :func:`write_atomic` checks again when it writes.
    """
    path = Path(path)
    if overwrite:
        if path.is_dir() and not path.is_symlink():
            raise OutputExists(f"{path} is a folder; give a file name")
        return path
    if path.is_symlink():
        raise OutputExists(f"{path} is a symbolic link; pass --overwrite to replace the link")
    if path.exists():
        raise OutputExists(f"{path} already exists; pass --overwrite to replace it")
    return path


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    overwrite: bool = False,
    mode: int | None = None,
) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path.

    ``mode`` (e.g. ``0o600``) is applied whatever the umask; by default the file gets the
    umask's usual permissions. Raises :class:`OutputExists` (see :func:`check_new`),
    :class:`DiskFull`, or the ``OSError`` of the file system.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with atomic_file(path, overwrite=overwrite, mode=mode) as handle:  # unbuffered here
        view = memoryview(payload)
        while view:
            view = view[os.write(handle.fileno(), view) :]
    return Path(path)


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str], *, overwrite: bool = False, mode: int | None = None
) -> Iterator[BinaryIO]:
    """A binary file to stream into (a table too large to hold in memory): on
    leaving the block it becomes ``path`` as :func:`write_atomic` makes it (flushed to disk,
    linked or renamed into place); on an error it is removed. Raises what
    :func:`write_atomic` raises."""
    path = check_new(path, overwrite=overwrite)
    tmp = path.with_name(f".{path.name[:200]}.qkit-tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(fd, mode)  # O_CREAT's mode is masked by the umask
            yield handle
            handle.flush()
            os.fsync(fd)
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except OSError as exc:
        _remove(tmp)
        if exc.errno in _FULL:
            raise DiskFull(path) from None
        if isinstance(exc, FileExistsError) and exc.filename in (str(path), path):
            raise OutputExists(f"{path} already exists; pass --overwrite to replace it") from None
        raise
    except BaseException:
        _remove(tmp)
        raise
    _remove(tmp)


def _link_new(tmp: Path, path: Path) -> None:
    """Give the finished ``tmp`` the name ``path``, failing if that name appeared meanwhile."""
    try:
        os.link(tmp, path)  # atomic, and never replaces: FileExistsError if path exists
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # a file system without hard links: rename (a race with another writer is lost)
        check_new(path)
        os.replace(tmp, path)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # best effort: the failure being reported matters more


def save_figure(figure, path: str | os.PathLike[str], *, overwrite: bool = False, **options):
    """Save a matplotlib ``figure`` to ``path`` through :func:`write_atomic` (format from the
    suffix; ``options`` go to ``savefig``); returns the path."""
    import io

    path = check_new(path, overwrite=overwrite)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", **options)
    return write_atomic(path, buffer.getvalue(), overwrite=overwrite)
