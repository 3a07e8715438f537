"""Durable jobs for local backends: a detached worker process per job.

Cloud jobs outlive the process that submitted them; local simulations normally do not. With
``Backend.submit(..., detach=True)`` a local job runs in its own process (its own session,
so Ctrl-C or killing the submitter does not reach it), which writes the counts to
``<jobs dir>/<job id>/result.pkl`` atomically. ``Backend.retrieve(job_id)`` re-attaches from
any process. The jobs directory is ``$QKIT_JOBS_DIR`` or ``<user data dir>/qkit/jobs``.

Liveness: the worker holds an exclusive ``flock`` on ``<job>/lock`` from the moment it starts
(the submitter takes the lock and hands the open file to the worker), and the kernel releases
it when the worker dies. So a job is running exactly while its lock is held, whatever process
later gets the worker's PID. Jobs written before the lock existed have only a ``pid`` file:
their PID counts as the worker only if that process started before the file was written.

The files are Python pickles: job folders and files are created readable by their user only
(0700, 0600, whatever the umask), and a job folder that belongs to another user or that
others may write is refused before anything in it is unpickled. :func:`cleanup_job` removes
the folder of a job whose counts have been stored.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import secrets
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

from qkit.store._files import make_private_dirs

PREFIX = "qkit-local-"
_POLL_SECONDS = 0.1


def jobs_dir() -> Path:
    env = os.environ.get("QKIT_JOBS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("qkit")) / "jobs"


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a fresh private file beside ``path``, then rename it into place."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def check_private(job_id: str, directory: Path) -> None:
    """ValueError unless the job folder and its pickles are the user's and writable by them only.

    ``result.pkl`` is unpickled by ``qkit jobs fetch``: a file someone else could write is a
    way to run their code as this user.
    """
    for path in (directory, directory / "request.pkl", directory / "result.pkl"):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise ValueError(f"refusing local job {job_id}: {path} is a symbolic link")
        if info.st_uid != os.geteuid():
            raise ValueError(f"refusing local job {job_id}: {path} belongs to another user")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ValueError(
                f"refusing local job {job_id}: {path} is writable by group or others, and its"
                f" pickles would be loaded (if you trust it: chmod -R go-w {directory})"
            )


def _lock_held(lock: Path) -> bool:
    """True while some process (the worker) holds the exclusive lock on ``lock``."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the shared lock, if it was taken
    return False


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where the OS says (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _pid_is_worker(pid_file: Path) -> bool:
    """For jobs without a lock: the PID is alive and started before the pid file was written."""
    try:
        pid = int(pid_file.read_text())
        written = pid_file.stat().st_mtime
    except (FileNotFoundError, ValueError):
        return False
    try:
        # A dead worker started by this very process is a zombie until reaped, and
        # os.kill(pid, 0) succeeds on zombies: reap it if it is our child.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child (the usual case: another process submitted it)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's: the start time decides
    started = _started_at(pid)
    return started is None or started <= written + 1.0  # 1 s: the clock tick of /proc


class DetachedJob:
    """The raw job of a detached local run (wrapped by :class:`qkit.backends.Job`)."""

    def __init__(self, job_id: str, directory: Path, process: subprocess.Popen | None = None):
        self._job_id = job_id
        self._dir = directory
        self._process = process

    def job_id(self) -> str:
        return self._job_id

    def _worker_alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        lock = self._dir / "lock"
        if lock.exists():
            return _lock_held(lock)
        return _pid_is_worker(self._dir / "pid")

    def status(self) -> str:
        if (self._dir / "result.pkl").exists():
            return "DONE"
        if (self._dir / "error.txt").exists():
            return "ERROR"
        if self._worker_alive():
            return "RUNNING"
        # the worker may have finished between the two checks
        return "DONE" if (self._dir / "result.pkl").exists() else "ERROR"

    def cancel(self) -> None:
        raise ValueError("detached local jobs cannot be cancelled from qkit")

    def result(self, timeout: float | None = None) -> list:
        """The counts, waiting at most ``timeout`` seconds (then ``TimeoutError``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if status == "DONE":
                check_private(self._job_id, self._dir)
                with open(self._dir / "result.pkl", "rb") as handle:
                    return pickle.load(handle)
            if status == "ERROR":
                error = self._dir / "error.txt"
                reason = error.read_text().strip() if error.exists() else "its worker process died"
                raise RuntimeError(f"local job {self._job_id} failed: {reason}")
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"local job {self._job_id} is still running")
            time.sleep(_POLL_SECONDS)


def submit(backend, pubs, shots: int, noise_model, seed: int | None) -> DetachedJob:
    """Write the request and start a detached worker holding the job's lock; returns at once."""
    job_id = f"{PREFIX}{uuid.uuid4().hex}"
    make_private_dirs(jobs_dir())
    directory = jobs_dir() / job_id
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    request = {
        "backend": backend.name,
        "optimization_level": backend.optimization_level,
        "pubs": [tuple(pub) if isinstance(pub, tuple | list) else (pub,) for pub in pubs],
        "shots": shots,
        "noise_model": noise_model,
        "seed": seed,
    }
    _write_atomic(directory / "request.pkl", pickle.dumps(request))
    lock = os.open(directory / "lock", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    log = os.open(directory / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(lock, 0o600)
        os.fchmod(log, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)  # held by the worker from its first instruction
        process = subprocess.Popen(
            [sys.executable, "-m", "qkit.backends._detached", str(directory), str(lock)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(lock,),
            start_new_session=True,  # survives Ctrl-C / SIGHUP of the submitting process
        )
    finally:
        os.close(lock)  # the worker's copy keeps the lock until it exits
        os.close(log)
    _write_atomic(directory / "pid", str(process.pid).encode())
    return DetachedJob(job_id, directory, process)


def retrieve(job_id: str) -> DetachedJob:
    directory = jobs_dir() / job_id
    if not job_id.startswith(PREFIX) or not (directory / "request.pkl").exists():
        raise ValueError(f"no local job {job_id!r} in {jobs_dir()}")
    check_private(job_id, directory)
    return DetachedJob(job_id, directory)


def cleanup_job(job_id: str) -> bool:
    """Remove the folder of a finished local job (call once its counts are stored).

    Returns True if a folder was removed; False for other job ids, a job that is not
    finished (no ``result.pkl``, or its worker still holds the lock), or no folder.
    """
    directory = jobs_dir() / str(job_id)
    if not str(job_id).startswith(PREFIX) or not (directory / "request.pkl").exists():
        return False
    if not (directory / "result.pkl").exists():
        return False
    deadline = time.monotonic() + 5.0  # the worker lets go of its lock right after the result
    while _lock_held(directory / "lock"):
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_SECONDS)
    shutil.rmtree(directory)
    return True


def _work(directory: Path, lock: int | None = None) -> None:
    """Run the request in ``directory``; ``lock``: the inherited descriptor of its lock."""
    try:
        check_private(directory.name, directory)
        with open(directory / "request.pkl", "rb") as handle:
            request = pickle.load(handle)
        from qkit.backends import get_backend

        backend = get_backend(request["backend"], optimization_level=request["optimization_level"])
        counts = backend.run(
            request["pubs"],
            shots=request["shots"],
            noise_model=request["noise_model"],
            seed=request["seed"],
        )
        _write_atomic(directory / "result.pkl", pickle.dumps(counts))
        if lock is not None:
            os.close(lock)  # done: the folder may be cleaned up while this process exits
    except BaseException as exc:  # record every failure, then let it propagate
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        _write_atomic(directory / "error.txt", message.encode())
        raise


if __name__ == "__main__":
    _work(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
