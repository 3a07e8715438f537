"""Durable jobs for local backends: a detached worker process per job.

Cloud jobs outlive the process that submitted them; local simulations normally do not. With
``Backend.submit(..., detach=True)`` a local job runs in its own process (its own session,
so Ctrl-C or killing the submitter does not reach it), which writes the counts to
``<jobs dir>/<job id>/result.json`` atomically. ``Backend.retrieve(job_id)`` re-attaches from
any process. The jobs directory is ``$QKIT_JOBS_DIR`` or ``<user data dir>/qkit/jobs``.

Liveness: the worker holds an exclusive ``flock`` on ``<job>/lock`` from the moment it starts
(the submitter takes the lock and hands the open file to the worker), and the kernel releases
it when the worker dies. So a job is running exactly while its lock is held, whatever process
later gets the worker's PID. Jobs written before the lock existed have only a ``pid`` file:
their PID counts as the worker only if that process started before the file was written.

Nothing in a job folder is code: the request is JSON (``request.json``), the circuits and the
noise model's error circuits are QPY (``circuits.qpy``, ``noise.qpy``), the parameter values
a NumPy ``.npz`` read with ``allow_pickle=False``, the counts JSON (``result.json``). A job id
must be ``qkit-local-`` and 32 hex digits, and its folder must lie directly in the jobs
directory, so an id taken from an imported run cannot point anywhere else. Job folders and
files are created readable by their user only (0700, 0600, whatever the umask), and a folder
that belongs to another user or that others may write is refused before anything in it is
read. Folders of an older qkit (``request.pkl``) are refused, never unpickled.
:func:`cleanup_job` removes the folder of a job whose counts have been stored.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from qkit._files import write_atomic
from qkit.store._files import make_private_dirs

PREFIX = "qkit-local-"
JOB_ID = re.compile(r"qkit-local-[0-9a-f]{32}")
_POLL_SECONDS = 0.1
REQUEST, RESULT, CIRCUITS, NOISE, VALUES = (
    "request.json",
    "result.json",
    "circuits.qpy",
    "noise.qpy",
    "values.npz",
)
_FILES = (REQUEST, RESULT, CIRCUITS, NOISE, VALUES)
MAX_RESULT_BYTES = 1 << 30
"""A ``result.json`` larger than this is refused (1 GiB: far above any real counts)."""


def jobs_dir() -> Path:
    env = os.environ.get("QKIT_JOBS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("qkit")) / "jobs"


def is_local_job_id(job_id: object) -> bool:
    """Is ``job_id`` exactly a detached local job's id (``qkit-local-`` + 32 hex digits)?"""
    return isinstance(job_id, str) and JOB_ID.fullmatch(job_id) is not None


def job_folder(job_id: str) -> Path:
    """The folder of local job ``job_id``: ValueError unless the id has its exact format and
    the folder lies directly inside the jobs directory (no ``..``, no symbolic link out)."""
    if not is_local_job_id(job_id):
        raise ValueError(
            f"not a local job id: {str(job_id)[:80]!r} (expected {PREFIX} and 32 hex digits)"
        )
    base = jobs_dir()
    folder = base / job_id
    if folder.resolve().parent != base.resolve():
        raise ValueError(f"refusing local job {job_id}: {folder} is outside {base}")
    return folder


def _write_private(path: Path, payload: bytes) -> None:
    write_atomic(path, payload, overwrite=True, mode=0o600)


def check_private(job_id: str, directory: Path) -> None:
    """ValueError unless the job folder and its files are the user's and writable by them only.

    ``qkit jobs fetch`` reads the counts in ``result.json``: a file someone else could write
    would let them choose what this user's store records.
    """
    for path in (directory, *(directory / name for name in _FILES)):
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
                f" files would be loaded (if you trust it: chmod -R go-w {directory})"
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
        if (self._dir / RESULT).exists():
            return "DONE"
        if (self._dir / "error.txt").exists():
            return "ERROR"
        if self._worker_alive():
            return "RUNNING"
        # the worker may have finished between the two checks
        return "DONE" if (self._dir / RESULT).exists() else "ERROR"

    def cancel(self) -> None:
        raise ValueError("detached local jobs cannot be cancelled from qkit")

    def result(self, timeout: float | None = None) -> list:
        """The counts, waiting at most ``timeout`` seconds (then ``TimeoutError``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if status == "DONE":
                check_private(self._job_id, self._dir)
                return load_counts(self._dir / RESULT, self._job_id)
            if status == "ERROR":
                error = self._dir / "error.txt"
                reason = error.read_text().strip() if error.exists() else "its worker process died"
                raise RuntimeError(f"local job {self._job_id} failed: {reason}")
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"local job {self._job_id} is still running")
            time.sleep(_POLL_SECONDS)


# -- the files of a job: JSON, QPY and .npz, never pickle ---------------------------------
def _qpy_bytes(circuits: list) -> bytes:
    from qiskit import qpy

    buffer = io.BytesIO()
    qpy.dump(circuits, buffer)
    return buffer.getvalue()


def _qpy_load(path: Path) -> list:
    from qiskit import qpy

    with open(path, "rb") as handle:
        return list(qpy.load(handle))


def _noise_files(noise_model) -> tuple[dict[str, Any] | None, bytes | None]:
    """The JSON description of an Aer noise model and the QPY of its error circuits.

    qkit's noise models hold all-qubit errors keyed by site label (:mod:`qkit.noise.aer`);
    anything else cannot be kept by a detached job and is refused (ValueError).
    """
    if noise_model is None:
        return None, None
    if (
        noise_model._local_quantum_errors
        or noise_model._default_readout_error is not None
        or noise_model._local_readout_errors
        or noise_model._custom_noise_passes
    ):
        raise ValueError(
            "a detached local job can keep only all-qubit quantum errors in its noise model"
        )
    circuits: list = []
    errors = []
    for label, error in noise_model._default_quantum_errors.items():
        first = len(circuits)
        circuits.extend(error.circuits)
        errors.append(
            {
                "label": str(label),
                "probabilities": [float(p) for p in error.probabilities],
                "circuits": list(range(first, len(circuits))),
            }
        )
    return {"basis_gates": list(noise_model.basis_gates), "errors": errors}, _qpy_bytes(circuits)


def _noise_model(description: dict[str, Any] | None, directory: Path):
    if description is None:
        return None
    from qiskit_aer.noise import NoiseModel, QuantumError

    circuits = _qpy_load(directory / NOISE)
    model = NoiseModel(basis_gates=description["basis_gates"])
    for error in description["errors"]:
        pairs = zip(error["circuits"], error["probabilities"], strict=True)
        terms = [(circuits[i], p) for i, p in pairs]
        model.add_all_qubit_quantum_error(QuantumError(terms), error["label"])
    return model


def _request_files(backend, pubs, shots: int, noise_model, seed: int | None) -> dict[str, bytes]:
    """The files of a job's request, by name."""
    circuits: list = []
    index: dict[int, int] = {}
    entries = []
    values: dict[str, np.ndarray] = {}
    for k, pub in enumerate(pubs):
        pub = tuple(pub) if isinstance(pub, tuple | list) else (pub,)
        circuit = pub[0]
        if id(circuit) not in index:
            index[id(circuit)] = len(circuits)
            circuits.append(circuit)
        key: str | dict[str, str] | None = None
        if len(pub) > 1 and pub[1] is not None:
            if isinstance(pub[1], dict):  # {Parameter or name: values}, kept by name
                key = {}
                for j, (parameter, array) in enumerate(pub[1].items()):
                    if not isinstance(parameter, str) and not hasattr(parameter, "name"):
                        raise ValueError("a detached job takes values keyed by one parameter")
                    name = parameter if isinstance(parameter, str) else parameter.name
                    key[name] = f"pub{k}_{j}"
                    values[key[name]] = np.asarray(array, dtype=float)
            else:
                key = f"pub{k}"
                values[key] = np.asarray(pub[1], dtype=float)
        pub_shots = pub[2] if len(pub) > 2 else None
        entries.append(
            {
                "circuit": index[id(circuit)],
                "values": key,
                "shots": None if pub_shots is None else int(pub_shots),
            }
        )
    noise, noise_qpy = _noise_files(noise_model)
    request = {
        "format": 1,
        "backend": backend.name,
        "optimization_level": int(backend.optimization_level),
        "pubs": entries,
        "shots": int(shots),
        "noise": noise,
        "seed": None if seed is None else int(seed),
    }
    files = {REQUEST: json.dumps(request).encode(), CIRCUITS: _qpy_bytes(circuits)}
    if noise_qpy is not None:
        files[NOISE] = noise_qpy
    if values:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **values)
        files[VALUES] = buffer.getvalue()
    return files


def _load_request(directory: Path) -> dict[str, Any]:
    """The request as ``Backend.run`` takes it, read without pickle."""
    request = json.loads((directory / REQUEST).read_text(encoding="utf-8"))
    circuits = _qpy_load(directory / CIRCUITS)
    arrays: dict[str, np.ndarray] = {}
    if (directory / VALUES).exists():
        with np.load(directory / VALUES, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    pubs = []
    for entry in request["pubs"]:
        circuit = circuits[entry["circuit"]]
        pub: tuple = (circuit,)
        stored = entry["values"]
        if isinstance(stored, dict):
            by_name = {p.name: p for p in circuit.parameters}
            pub += ({by_name[name]: arrays[key] for name, key in stored.items()},)
        elif stored is not None or entry["shots"] is not None:
            pub += (None if stored is None else arrays[stored],)
        if entry["shots"] is not None:
            pub += (entry["shots"],)
        pubs.append(pub)
    request["pubs"] = pubs
    request["noise_model"] = _noise_model(request.pop("noise"), directory)
    return request


def counts_json(counts: list) -> bytes:
    """Counts per PUB (a dict, or an object array of dicts) as JSON."""
    out: list[dict[str, Any]] = []
    for item in counts:
        if isinstance(item, dict):
            out.append({"shape": None, "counts": item})
        else:
            array = np.asarray(item, dtype=object)
            out.append({"shape": list(array.shape), "counts": list(array.ravel())})
    return json.dumps(out, separators=(",", ":")).encode()


def load_counts(path: Path, job_id: str) -> list:
    """The counts written by :func:`counts_json`; ValueError naming the job if malformed."""
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise ValueError(f"larger than {MAX_RESULT_BYTES} bytes")
        entries = json.loads(path.read_text(encoding="utf-8"))
        out: list = []
        for entry in entries:
            if entry["shape"] is None:
                out.append(_check_counts(entry["counts"]))
                continue
            shape = tuple(int(n) for n in entry["shape"])
            cells = [_check_counts(c) for c in entry["counts"]]
            array = np.empty(len(cells), dtype=object)
            array[:] = cells
            out.append(array.reshape(shape))
        return out
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"local job {job_id}: {path.name} is malformed ({exc})") from None


def _check_counts(counts: Any) -> dict[str, int]:
    if not isinstance(counts, dict) or not all(
        isinstance(k, str) and set(k) <= {"0", "1", " "} and type(v) is int and v >= 0
        for k, v in counts.items()
    ):
        raise ValueError("counts must map bit strings to non-negative integers")
    return counts


def submit(backend, pubs, shots: int, noise_model, seed: int | None) -> DetachedJob:
    """Write the request and start a detached worker holding the job's lock; returns at once."""
    files = _request_files(backend, pubs, shots, noise_model, seed)  # before any folder exists
    job_id = f"{PREFIX}{uuid.uuid4().hex}"
    make_private_dirs(jobs_dir())
    directory = job_folder(job_id)
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    try:
        for name in sorted(files, key=lambda n: n == REQUEST):  # request.json last: complete
            _write_private(directory / name, files[name])
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
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
    _write_private(directory / "pid", str(process.pid).encode())
    return DetachedJob(job_id, directory, process)


def retrieve(job_id: str) -> DetachedJob:
    directory = job_folder(job_id)
    check_private(job_id, directory)
    if not (directory / REQUEST).exists():
        if (directory / "request.pkl").exists():
            raise ValueError(
                f"local job {job_id} was written by an older qkit as a Python pickle, which"
                " qkit no longer loads; run it again"
            )
        raise ValueError(f"no local job {job_id!r} in {jobs_dir()}")
    return DetachedJob(job_id, directory)


def cleanup_job(job_id: str) -> bool:
    """Remove the folder of a finished local job (call once its counts are stored).

    Returns True if a folder was removed; False for other job ids, a job that is not
    finished (no ``result.json``, or its worker still holds the lock), or no folder.
    """
    if not is_local_job_id(job_id):
        return False
    directory = job_folder(job_id)
    if not (directory / REQUEST).exists() or not (directory / RESULT).exists():
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
        request = _load_request(directory)
        from qkit.backends import get_backend

        backend = get_backend(request["backend"], optimization_level=request["optimization_level"])
        counts = backend.run(
            request["pubs"],
            shots=request["shots"],
            noise_model=request["noise_model"],
            seed=request["seed"],
        )
        _write_private(directory / RESULT, counts_json(counts))
        if lock is not None:
            os.close(lock)  # done: the folder may be cleaned up while this process exits
    except BaseException as exc:  # record every failure, then let it propagate
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        _write_private(directory / "error.txt", message.encode())
        raise


if __name__ == "__main__":
    _work(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
