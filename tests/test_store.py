"""The SQLite results store: round trips, prefixes, jobs, secrets, atomicity, concurrency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from qkit.store import REDACTED, ResultsStore, default_store_path


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path / "results.sqlite")


def _run_python(code: str, *args: str, wait: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    return proc


def test_saved_run_reads_back_with_every_field(store):
    counts = np.arange(36).reshape(9, 4)
    run_id = store.save_run(
        "mixup",
        {"success": 0.9, "amplitude": np.float64(0.6)},
        prediction={"chsh_max": 2.5},
        estimate={"chsh": {"value": 2.48, "stderr": 0.02}, "nan": float("nan")},
        counts={"tomography": counts},
        backend="aer",
        seeds={"seed": 7},
        metadata={"shots": 1000},
    )
    run = store.get_run(run_id)
    assert run.run_id == run_id and run.kind == "mixup" and run.status == "done"
    assert run.params == {"success": 0.9, "amplitude": 0.6}
    assert run.estimate == {"chsh": {"value": 2.48, "stderr": 0.02}, "nan": None}
    assert run.counts == {"tomography": counts.tolist()}
    assert run.backend == "aer" and run.seeds == {"seed": 7} and run.metadata == {"shots": 1000}
    assert {"python", "numpy", "qiskit", "qkit"} <= set(run.versions)
    created = datetime.fromisoformat(run.created_at)
    assert created.utcoffset().total_seconds() == 0
    assert datetime.fromisoformat(run.finished_at) >= created
    assert json.loads(json.dumps(run.to_dict()))["run_id"] == run_id


def test_run_ids_are_unique_and_sort_by_creation_time(store):
    ids = [store.save_run("sweep", {"i": i}) for i in range(20)]
    assert len(set(ids)) == 20
    assert sorted(ids) == ids
    assert [r.params["i"] for r in store.list_runs(limit=5)] == [19, 18, 17, 16, 15]


def test_get_run_accepts_a_unique_prefix_and_rejects_ambiguous_or_unknown(store):
    first = store.save_run("mixup", {}, run_id="abc-1")
    store.save_run("mixup", {}, run_id="abc-2")
    assert store.get_run("abc-1").run_id == first
    with pytest.raises(ValueError, match="ambiguous"):
        store.get_run("abc")
    with pytest.raises(ValueError, match="no run 'zzz'"):
        store.get_run("zzz")
    real = store.save_run("channel", {})
    assert store.get_run(real[:16]).run_id == real


def test_run_lifecycle_create_finish_fail(store):
    run_id = store.create_run("channel", {"eta": 0.5}, backend="aer", seeds={"seed": 1})
    run = store.get_run(run_id)
    assert run.status == "running" and run.finished_at is None and run.estimate is None
    store.finish_run(run_id, estimate={"mi": 0.3}, counts=[[1, 2]], metadata={"wall": 1.5})
    run = store.get_run(run_id)
    assert run.status == "done" and run.finished_at is not None
    assert run.estimate == {"mi": 0.3} and run.counts == [[1, 2]] and run.metadata == {"wall": 1.5}

    other = store.create_run("channel", {"eta": 0.1}, status="submitted")
    store.set_status(other, "running")
    store.fail_run(other, "backend went away")
    run = store.get_run(other)
    assert run.status == "failed" and run.metadata["error"] == "backend went away"
    with pytest.raises(ValueError, match="no run"):
        store.finish_run("missing", estimate={})
    with pytest.raises(ValueError, match="status"):
        store.create_run("channel", {}, status="paused")


def test_list_runs_filters_by_kind_and_status_and_skips_counts(store):
    store.save_run("mixup", {"n": 1}, counts=[1, 2, 3])
    store.save_run("channel", {"n": 2})
    store.create_run("mixup", {"n": 3})
    assert [r.params["n"] for r in store.list_runs("mixup")] == [3, 1]
    assert [r.params["n"] for r in store.list_runs(status="done")] == [2, 1]
    assert store.list_runs("mixup")[1].counts is None
    assert store.list_runs("mixup", with_counts=True)[1].counts == [1, 2, 3]


def test_store_path_explicit_then_env_then_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("QKIT_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "qkit" / "results.sqlite"
    assert ResultsStore().path == tmp_path / "xdg" / "qkit" / "results.sqlite"
    monkeypatch.setenv("QKIT_STORE", str(tmp_path / "env.sqlite"))
    assert ResultsStore().path == tmp_path / "env.sqlite"
    assert ResultsStore(tmp_path / "explicit.sqlite").path == tmp_path / "explicit.sqlite"
    assert (tmp_path / "env.sqlite").exists()


def test_store_uses_write_ahead_logging(store):
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_missing_store_is_an_error_when_not_creating(tmp_path):
    with pytest.raises(ValueError, match="no results store"):
        ResultsStore(tmp_path / "nope.sqlite", create=False)
    assert not (tmp_path / "nope.sqlite").exists()


def test_credentials_are_never_written_to_disk(store):
    secrets = ["tok-SECRET-1", "key-SECRET-2", "crn:v1:SECRET-3", "pw-SECRET-4", "SECRET-5"]
    run_id = store.save_run(
        "channel",
        {"eta": 0.5, "token": secrets[0], "options": {"IBM_API_KEY": secrets[1]}},
        backend={"name": "ibm:fez", "channel_instance": secrets[2]},
        metadata={"auth": {"password": secrets[3]}, "headers": ["Bearer SECRET-5"]},
    )
    store.add_jobs(run_id, "ibm:fez", ["job-1"], payload={"session_token": "SECRET-6"})
    store.update_job("job-1", "done", result={"aws_secret_access_key": "SECRET-7"})
    run = store.get_run(run_id)
    assert run.params["token"] == REDACTED and run.params["options"]["IBM_API_KEY"] == REDACTED
    assert run.params["eta"] == 0.5 and run.backend["name"] == "ibm:fez"
    assert run.backend["channel_instance"] == REDACTED
    assert "params.token" in run.metadata["redacted"]
    assert store.get_job("job-1").payload == {"session_token": REDACTED}
    with sqlite3.connect(store.path) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob("results.sqlite*"))
    assert b"SECRET" not in raw


def test_jobs_are_recorded_listed_and_updated(store):
    run_id = store.create_run("mixup", {}, status="submitted")
    store.add_jobs(run_id, "braket:local", ["j1", "j2"], payloads=[{"pub": 0}, {"pub": 1}])
    other = store.create_run("channel", {})
    store.add_jobs(other, "ibm:fez", ["j3"], payload={"pubs": [0, 1]})
    assert [j.job_id for j in store.jobs_for_run(run_id)] == ["j1", "j2"]
    assert store.get_job("j2").payload == {"pub": 1} and store.get_job("j2").status == "SUBMITTED"
    store.update_job("j1", "done", result={"counts": {"00": 5}})
    job = store.get_job("j1")
    assert job.status == "DONE" and job.result == {"counts": {"00": 5}}
    assert job.updated_at >= job.created_at
    assert [j.job_id for j in store.list_jobs(status="SUBMITTED")] == ["j3", "j2"]
    assert [j.job_id for j in store.list_jobs(backend="ibm:fez")] == ["j3"]
    with pytest.raises(ValueError, match="no job"):
        store.update_job("j9", "DONE")
    with pytest.raises(ValueError, match="job status"):
        store.update_job("j1", "FINISHED")


def test_add_jobs_records_all_or_nothing(store):
    run_id = store.create_run("mixup", {})
    with pytest.raises(ValueError, match="cannot record jobs"):
        store.add_jobs(run_id, "aer", ["a", "b", "a"])  # the third insert fails
    assert store.jobs_for_run(run_id) == []
    with pytest.raises(ValueError, match="no run"):
        store.add_jobs("missing-run", "aer", ["c"])
    assert store.list_jobs() == []


def test_process_killed_inside_a_write_leaves_no_half_record(store):
    store.save_run("mixup", {"before": True})
    code = """
        import os, signal, sys
        from qkit.store import ResultsStore
        store = ResultsStore(sys.argv[1])
        with store._db.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, kind, status, created_at, params, metadata)"
                " VALUES ('half', 'mixup', 'running', 'now', '{}', '{}')"
            )
            conn.execute("UPDATE runs SET status = 'failed'")
            os.kill(os.getpid(), signal.SIGKILL)
    """
    proc = _run_python(code, str(store.path), wait=False)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    runs = store.list_runs()
    assert [r.params for r in runs] == [{"before": True}] and runs[0].status == "done"
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_writer_killed_at_a_random_moment_leaves_only_complete_records(store):
    code = """
        import sys
        from qkit.store import ResultsStore
        store = ResultsStore(sys.argv[1])
        counts = list(range(100_000))  # ~0.6 MB of JSON: most of the time is spent writing
        i = 0
        while True:
            store.save_run("sweep", {"i": i}, estimate={"i": i}, counts=counts)
            if i == 0:
                print("first", flush=True)
            i += 1
    """
    proc = _run_python(code, str(store.path), wait=False)
    assert proc.stdout.readline().strip() == "first"
    time.sleep(0.3 + np.random.default_rng().uniform(0, 0.3))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    runs = store.list_runs(limit=None, with_counts=True)
    assert len(runs) >= 1
    for run in runs:
        assert run.status == "done" and run.estimate == {"i": run.params["i"]}
        assert len(run.counts) == 100_000 and run.counts[-1] == 99_999
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.save_run("sweep", {"after": True})  # still writable


def test_several_processes_write_concurrently(store):
    code = """
        import sys
        from qkit.store import ResultsStore
        store = ResultsStore(sys.argv[1], timeout=60)
        for i in range(25):
            run_id = store.create_run("sweep", {"writer": sys.argv[2], "i": i})
            store.add_jobs(run_id, "aer", [f"{sys.argv[2]}-{i}"])
            store.finish_run(run_id, estimate={"i": i})
    """
    procs = [_run_python(code, str(store.path), str(w), wait=False) for w in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    runs = store.list_runs(limit=None)
    assert len(runs) == 75 and len({r.run_id for r in runs}) == 75
    assert all(r.status == "done" for r in runs)
    assert len(store.list_jobs()) == 75
