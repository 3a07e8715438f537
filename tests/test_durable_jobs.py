"""Durable jobs for real (issue #5): interrupt a waiting ``qkit run``, resume with ``jobs fetch``.

A run is killed while it waits on a durable local job (a detached Aer worker, made slow by
many shots), with Ctrl-C (SIGINT to its process group, as a terminal sends it) and with
SIGKILL. ``qkit jobs fetch RUN_ID`` then finishes it from the one recorded job, without
submitting anything again, and its estimate equals that of an uninterrupted run with the same
seed (Aer is seeded, so "equal" is exact). Runs stored earlier stay readable throughout.
No mocks: real subprocesses, real signals, real simulators.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qkit import engines, runner
from qkit.backends import get_backend
from qkit.channel import experiment as channel
from qkit.cli import main
from qkit.mixup import experiment as mixup
from qkit.options import RunOptions
from qkit.store import ResultsStore

# Big enough to be durable when waiting (13 settings x 16000 = 208000 >= DURABLE_SHOTS), and
# slow enough that the detached worker (its imports alone take seconds) is still busy when
# the submitter is killed.
MIXUP_ARGS = ["-S", "0.8", "-a", "0.6", "--shots", "16000", "--seed", "21", "--bootstrap", "100"]
MIXUP_KW = dict(shots=16000, seed=21, n_boot=100)
# 5 letters x 48000 = 240000 shots
CHANNEL_ARGS = ["--eta", "0.5", "--alphabet", "two-slot", "--shots", "48000", "--seed", "22"]
CHANNEL_ARGS += ["--bootstrap", "100"]
CHANNEL_KW = dict(shots=48000, seed=22, n_boot=100)


@pytest.fixture
def where(tmp_path, monkeypatch):
    """A results store and a jobs directory of their own, for this process and its children."""
    store_path = tmp_path / "results.sqlite"
    jobs = tmp_path / "jobs"
    monkeypatch.setenv("QKIT_STORE", str(store_path))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(jobs))
    return store_path, jobs


def cli_json(capsys, *argv: str) -> dict | list:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def cli_error(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qkit: error: "), err
    return err


def start_waiting_run(experiment: str, args: list[str]) -> subprocess.Popen:
    """``qkit run ... --json`` (waiting) in its own process group, like a terminal job."""
    return subprocess.Popen(
        [sys.executable, "-m", "qkit.cli", "run", experiment, *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        start_new_session=True,
        preexec_fn=_ctrl_c_interrupts,
    )


def _ctrl_c_interrupts() -> None:
    """Restore SIGINT's default in the child: started from a background job (``make test &``)
    it would inherit an ignored SIGINT, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_recorded_job(store_path: Path, process: subprocess.Popen, timeout: float = 90):
    """Poll the store until the waiting run has recorded its job; return (run_id, job_id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"qkit run exited early: {process.communicate()}")
        if store_path.exists():
            jobs = ResultsStore(store_path).list_jobs()
            if jobs:
                return jobs[0].run_id, jobs[0].job_id
        time.sleep(0.05)
    raise AssertionError("qkit run recorded no job")


def earlier_runs(store_path: Path) -> dict[str, dict]:
    """Store a real small run and a hand-made record before the interrupted one."""
    store = ResultsStore(store_path)
    small = mixup.run(0.9, 2**-0.5, shots=200, seed=3, n_boot=50, store=store)
    manual = store.save_run("sweep", {"note": "kept"}, estimate={"x": {"value": 1.5}})
    return {run_id: store.get_run(run_id).to_dict() for run_id in (small.run_id, manual)}


def assert_resumed_once(capsys, store_path, jobs_dir, run_id, job_id, reference, before):
    store = ResultsStore(store_path)
    assert store.get_run(run_id).status == "submitted"  # interrupted, not failed
    assert [p.name for p in jobs_dir.iterdir()] == [job_id]  # one job, still there

    fetched = cli_json(capsys, "jobs", "fetch", run_id, "--json")
    assert fetched["run_id"] == run_id
    assert fetched["estimate"] == reference.to_dict()["estimate"]  # same seed, nothing lost
    assert fetched["prediction"] == reference.to_dict()["prediction"]

    assert [j.job_id for j in store.jobs_for_run(run_id)] == [job_id]  # never resubmitted
    assert [j.job_id for j in store.list_jobs()] == [job_id]
    assert list(jobs_dir.iterdir()) == []  # its folder is removed once the run is stored
    record = store.get_run(run_id)
    assert record.status == "done" and record.counts == reference.counts
    for earlier_id, earlier in before.items():
        assert store.get_run(earlier_id).to_dict() == earlier

    err = cli_error(capsys, "jobs", "fetch", run_id)
    assert "already done" in err and f"qkit results show {run_id}" in err


@pytest.mark.slow
def test_ctrl_c_mid_wait_is_resumed_by_fetch_without_resubmitting(where, capsys):
    store_path, jobs_dir = where
    before = earlier_runs(store_path)
    waiting = start_waiting_run("mixup", MIXUP_ARGS)
    run_id, job_id = wait_for_recorded_job(store_path, waiting)
    assert job_id.startswith("qkit-local-")
    status = cli_json(capsys, "jobs", "status", run_id, "--json")
    assert [(s["job_id"], s["status"]) for s in status] == [(job_id, "RUNNING")]  # mid-wait

    os.killpg(waiting.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 130
    assert out == ""
    assert err.count("\n") == 1 and f"qkit jobs fetch {run_id}" in err, err

    reference = mixup.run(0.8, 0.6, **MIXUP_KW)  # uninterrupted, in this process, no store
    assert_resumed_once(capsys, store_path, jobs_dir, run_id, job_id, reference, before)


@pytest.mark.slow
def test_a_killed_waiting_run_is_resumed_by_fetch_without_resubmitting(where, capsys):
    store_path, jobs_dir = where
    before = earlier_runs(store_path)
    waiting = start_waiting_run("channel", CHANNEL_ARGS)
    run_id, job_id = wait_for_recorded_job(store_path, waiting)
    os.killpg(waiting.pid, signal.SIGKILL)  # no chance to clean up or to say anything
    waiting.communicate(timeout=60)
    assert waiting.returncode == -signal.SIGKILL
    assert get_backend("aer").retrieve(job_id).status() == "RUNNING"  # killed mid-wait

    listed = cli_json(capsys, "jobs", "list", "--json")
    assert [(j["job_id"], j["run_id"], j["backend"]) for j in listed] == [(job_id, run_id, "aer")]
    reference = channel.run(0.5, "entangled", "two-slot", **CHANNEL_KW)
    assert_resumed_once(capsys, store_path, jobs_dir, run_id, job_id, reference, before)


def test_no_wait_submits_once_and_jobs_list_status_fetch_finish_it(where, capsys):
    store_path, jobs_dir = where
    args = ["run", "channel", "--eta", "0.5", "--shots", "300", "--seed", "4", "--bootstrap", "50"]
    pending = cli_json(capsys, *args, "--no-wait", "--json")
    assert pending["status"] == "submitted" and pending["backend"] == "aer"
    run_id, (job_id,) = pending["run_id"], pending["job_ids"]
    assert job_id.startswith("qkit-local-")

    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["JOB_ID", "RUN_ID", "BACKEND", "STATUS", "UPDATED_AT"]
    assert table[1].split()[:4] == [job_id, run_id, "aer", "SUBMITTED"]
    assert main(["jobs", "status", run_id[:15]]) == 0  # a unique prefix is enough
    line = capsys.readouterr().out
    assert line.split()[:2] == [job_id, "aer"] and line.split()[2] in ("RUNNING", "DONE")

    fetched = cli_json(capsys, "jobs", "fetch", job_id, "--json")  # by job id works too
    reference = channel.run(0.5, shots=300, seed=4, n_boot=50)
    assert fetched["estimate"] == reference.to_dict()["estimate"]
    assert cli_json(capsys, "jobs", "list", "--json", "--status", "DONE")[0]["job_id"] == job_id
    assert list(jobs_dir.iterdir()) == []  # fetched: the job's folder is cleaned up
    shown = cli_json(capsys, "results", "show", run_id, "--json")
    assert shown["status"] == "done"
    assert "already done" in cli_error(capsys, "jobs", "fetch", run_id)


def test_small_waiting_runs_stay_in_process_and_big_ones_are_durable(where):
    store_path, jobs_dir = where
    store = ResultsStore(store_path)
    aer = get_backend("aer")
    run = engines.point_run(
        mixup.MIXUP,
        mixup.MIXUP.point(success=0.9, amplitude=0.7),
        RunOptions(shots=1000, seed=1, backend=aer, engine="sampler"),
    )
    prepared = runner.prepare_run(run, aer)
    assert runner.total_shots(prepared, 1000) == 13 * 1000
    assert not runner.is_durable(prepared, 1000, aer, store, True, None)
    assert runner.is_durable(prepared, 20000, aer, store, True, None)
    assert runner.is_durable(prepared, 1000, aer, store, True, True)  # forced
    assert not runner.is_durable(prepared, 20000, aer, None, True, None)  # nowhere to record

    result = mixup.run(0.9, 0.7, shots=200, seed=1, n_boot=50, store=store)
    assert store.jobs_for_run(result.run_id) == [] and not jobs_dir.exists()
    forced = mixup.run(0.9, 0.7, shots=200, seed=1, n_boot=50, store=store, durable=True)
    (job,) = store.jobs_for_run(forced.run_id)
    assert job.job_id.startswith("qkit-local-") and job.status == "DONE"
    assert forced.estimate == result.estimate  # detached or not, the same seeded samples


@pytest.mark.filterwarnings("ignore:Properties of fake_nighthawk")
def test_durable_runs_need_a_store_and_a_backend_that_can_detach(where, capsys):
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    from qkit.backends._runtime import ibm_backend

    with pytest.raises(ValueError, match="needs a results store"):
        mixup.submit(0.9, 0.7, shots=100, seed=1, store=None)
    local_ibm = ibm_backend(
        "fake_manila", seed=1, optimization_level=2, service=QiskitRuntimeLocalService()
    )
    with pytest.raises(ValueError, match="cannot be fetched later"):
        mixup.submit(0.9, 0.7, shots=100, seed=1, backend=local_ibm, store=ResultsStore(where[0]))
    err = cli_error(capsys, "run", "mixup", "-S", "0.9", "-a", "0.7", "--no-wait", "--no-store")
    assert "--no-wait needs the results store" in err


def test_jobs_commands_on_unknown_ids_or_a_missing_store_are_one_line_errors(where, capsys):
    store_path, _ = where
    assert main(["jobs", "list"]) == 0
    assert (
        capsys.readouterr().out.strip() == f"no jobs recorded: no results store at {store_path} yet"
    )
    assert not store_path.exists()  # listing does not create a store
    assert "no results store" in cli_error(capsys, "jobs", "fetch", "nope")
    run_id = ResultsStore(store_path).save_run("mixup", {"success": 0.9})
    assert "no run 'nope'" in cli_error(capsys, "jobs", "status", "nope")
    assert "no recorded jobs" in cli_error(capsys, "jobs", "status", run_id)
    assert "already done" in cli_error(capsys, "jobs", "fetch", run_id)


def test_fetching_a_run_whose_worker_died_fails_it_with_one_line(where, capsys):
    store_path, jobs_dir = where
    pending = cli_json(
        capsys, "run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--seed", "2",
        "--no-wait", "--json",
    )  # fmt: skip
    (job_id,) = pending["job_ids"]
    os.kill(int((jobs_dir / job_id / "pid").read_text()), signal.SIGKILL)
    err = cli_error(capsys, "jobs", "fetch", pending["run_id"])
    assert f"job {job_id} failed" in err and "worker process died" in err
    store = ResultsStore(store_path)
    assert store.get_run(pending["run_id"]).status == "failed"
    assert store.get_job(job_id).status == "ERROR"
