"""Detached local jobs as an adversarial user meets them: reused PIDs, timeouts, permissions.

Real ``qkit run --no-wait`` submissions and real worker processes; a "reused" PID is a real
unrelated process (``sleep``) that holds the dead worker's PID file.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import time

import pytest

from qkit.backends import _detached
from qkit.cli import main
from qkit.store import ResultsStore

RUN = ["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--seed", "2"]


@pytest.fixture
def where(tmp_path, monkeypatch):
    store_path, jobs = tmp_path / "results.sqlite", tmp_path / "jobs"
    monkeypatch.setenv("QKIT_STORE", str(store_path))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(jobs))
    return store_path, jobs


def submit(capsys) -> tuple[str, str]:
    """``qkit run ... --no-wait``: (run id, job id)."""
    capsys.readouterr()
    assert main([*RUN, "--no-wait", "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)
    (job_id,) = pending["job_ids"]
    return pending["run_id"], job_id


def kill_worker(folder) -> None:
    pid = int((folder / "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # our child (submitted in this process): reap it
    except ChildProcessError:
        pass


def wait_done(job_id: str, timeout: float = 120) -> None:
    _detached.retrieve(job_id).result(timeout=timeout)


@pytest.fixture
def stranger():
    """A live process that is not the worker: the OS gave it the worker's old PID."""
    proc = subprocess.Popen(["sleep", "120"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_reused_pid_is_not_a_running_job(where, capsys, stranger):
    _, jobs = where
    run_id, job_id = submit(capsys)
    folder = jobs / job_id
    kill_worker(folder)  # dies before writing a result (its imports alone take seconds)
    (folder / "pid").write_text(str(stranger.pid))
    assert stranger.poll() is None

    job = _detached.retrieve(job_id)
    assert job.status() == "ERROR"
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="worker process died"):
        job.result(timeout=30)
    assert time.monotonic() - started < 5

    # The lock is what decides: held (as by a live worker), the job runs.
    fd = os.open(folder / "lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _detached.retrieve(job_id).status() == "RUNNING"
    finally:
        os.close(fd)
    assert _detached.retrieve(job_id).status() == "ERROR"

    capsys.readouterr()
    assert main(["jobs", "fetch", run_id]) == 2
    assert "worker process died" in capsys.readouterr().err
    assert ResultsStore(where[0]).get_run(run_id).status == "failed"


def test_a_job_from_before_the_lock_checks_its_pid_start_time(where, capsys, stranger):
    _, jobs = where
    _, job_id = submit(capsys)
    folder = jobs / job_id
    kill_worker(folder)
    (folder / "lock").unlink()  # as written by an older qkit: a pid file only
    (folder / "pid").write_text(str(stranger.pid))
    now = time.time()
    os.utime(folder / "pid", (now - 600, now - 600))  # written long before that process began
    assert _detached.retrieve(job_id).status() == "ERROR"
    os.utime(folder / "pid", (now + 600, now + 600))  # written after it began: the worker
    assert _detached.retrieve(job_id).status() == "RUNNING"


def test_fetch_gives_up_after_its_timeout(where, capsys):
    _, jobs = where
    run_id, job_id = submit(capsys)
    folder = jobs / job_id
    kill_worker(folder)
    fd = os.open(folder / "lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a worker that never finishes
    try:
        with pytest.raises(TimeoutError):
            _detached.retrieve(job_id).result(timeout=0.3)
        capsys.readouterr()
        started = time.monotonic()
        assert main(["jobs", "fetch", run_id, "--timeout", "1.5"]) == 0
        elapsed = time.monotonic() - started
        assert f"run {run_id} is still running" in capsys.readouterr().out
        assert 1.5 <= elapsed < 15
    finally:
        os.close(fd)
    store = ResultsStore(where[0])
    assert store.get_run(run_id).status == "submitted"
    capsys.readouterr()
    assert main(["jobs", "fetch", run_id, "--timeout", "5"]) == 2  # its worker is gone now
    assert "worker process died" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["--timeout=0", "--timeout=-1", "--timeout=nan", "--timeout=x"])
def test_a_bad_timeout_is_a_usage_error(where, capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["jobs", "fetch", "some-run", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--timeout" in err and "seconds" in err


def test_job_folders_are_private_and_removed_after_a_fetch(where, capsys):
    _, jobs = where
    old = os.umask(0)
    try:
        run_id, job_id = submit(capsys)
        wait_done(job_id)
    finally:
        os.umask(old)
    folder = jobs / job_id
    for path in (jobs, folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for name in ("request.json", "result.json", "circuits.qpy", "pid", "lock", "worker.log"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert not _detached.cleanup_job("ibm-job-123") and not _detached.cleanup_job(run_id)

    capsys.readouterr()
    assert main(["jobs", "fetch", run_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_id
    assert not folder.exists() and list(jobs.iterdir()) == []
    assert ResultsStore(where[0]).get_run(run_id).status == "done"


@pytest.mark.parametrize("target", ["folder", "result.json"])
def test_fetch_refuses_a_job_folder_others_can_write(where, capsys, target):
    _, jobs = where
    run_id, job_id = submit(capsys)
    wait_done(job_id)
    folder = jobs / job_id
    path = folder if target == "folder" else folder / "result.json"
    mode = path.stat().st_mode
    os.chmod(path, stat.S_IMODE(mode) | stat.S_IWGRP | stat.S_IWOTH)

    capsys.readouterr()
    assert main(["jobs", "fetch", run_id]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "writable by group or others" in err and str(path) in err
    assert ResultsStore(where[0]).get_run(run_id).status == "submitted"  # nothing was loaded
    assert folder.exists()

    os.chmod(path, stat.S_IMODE(mode))
    assert main(["jobs", "fetch", run_id, "--json"]) == 0
    assert ResultsStore(where[0]).get_run(run_id).status == "done"
