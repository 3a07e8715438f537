"""Durable jobs for local backends: a detached worker process per job.

Cloud jobs outlive the process that submitted them; local simulations normally do not. With
``Backend.submit(..., detach=True)`` a local job runs in its own process (its own session,
so Ctrl-C or killing the submitter does not reach it), which writes the counts to
``<jobs dir>/<job id>/result.pkl`` atomically. ``Backend.retrieve(job_id)`` re-attaches from
any process. The jobs directory is ``$QKIT_JOBS_DIR`` or ``<user data dir>/qkit/jobs``.

The files are Python pickles written by qkit for the same user; do not load job
directories from elsewhere.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
import uuid
from pathlib import Path

PREFIX = "qkit-local-"
_POLL_SECONDS = 0.1


def jobs_dir() -> Path:
    env = os.environ.get("QKIT_JOBS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("qkit")) / "jobs"


def _write_atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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
        try:
            pid = int((self._dir / "pid").read_text())
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
            return True
        return True

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
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if status == "DONE":
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
    """Write the request and start a detached worker; returns at once."""
    job_id = f"{PREFIX}{uuid.uuid4().hex}"
    directory = jobs_dir() / job_id
    directory.mkdir(parents=True)
    request = {
        "backend": backend.name,
        "optimization_level": backend.optimization_level,
        "pubs": [tuple(pub) if isinstance(pub, tuple | list) else (pub,) for pub in pubs],
        "shots": shots,
        "noise_model": noise_model,
        "seed": seed,
    }
    _write_atomic(directory / "request.pkl", pickle.dumps(request))
    with open(directory / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "qkit.backends._detached", str(directory)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives Ctrl-C / SIGHUP of the submitting process
        )
    _write_atomic(directory / "pid", str(process.pid).encode())
    return DetachedJob(job_id, directory, process)


def retrieve(job_id: str) -> DetachedJob:
    directory = jobs_dir() / job_id
    if not job_id.startswith(PREFIX) or not (directory / "request.pkl").exists():
        raise ValueError(f"no local job {job_id!r} in {jobs_dir()}")
    return DetachedJob(job_id, directory)


def _work(directory: Path) -> None:
    try:
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
    except BaseException as exc:  # record every failure, then let it propagate
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        _write_atomic(directory / "error.txt", message.encode())
        raise


if __name__ == "__main__":
    _work(Path(sys.argv[1]))
