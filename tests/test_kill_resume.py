"""Kill a sweep or a reproduction midway, rerun the same command: the same results.

Real processes and real signals: ``qkit sweep`` is killed with SIGKILL after a chosen chunk,
``qkit reproduce`` gets SIGINT (Ctrl-C) after some points. Rerunning the same command resumes:
the sweep table is byte-identical to an uninterrupted one; the reproduction resumes into the
same folder, reuses its finished points (no new run in the store for them) and its estimates
equal those of an uninterrupted reproduction with the same seed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qkit.cli import main
from qkit.store import ResultsStore
from qkit.sweep.table import parts_dir

pytestmark = pytest.mark.slow

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _wait_for(predicate, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the process never got there")
        time.sleep(0.02)


def _quiet_main(argv: list[str]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


@pytest.mark.parametrize("after", [3, 7])
def test_sweep_killed_after_any_chunk_resumes_to_the_identical_table(tmp_path, after):
    args = (
        "sweep mixup --success 0.1:1:40 --amplitude 0.02:0.98:64 --shots 500 --seed 4 "
        "--chunk-size 64 --bootstrap 100 --no-store"
    ).split()  # 2560 points, 40 chunks: a chunk now takes milliseconds, so with 10 chunks
    # the whole sweep sometimes finished between two polls and the kill came too late
    whole, killed = tmp_path / "whole.csv", tmp_path / "killed.csv"
    command = [sys.executable, "-m", "qkit.cli", *args, "--out", str(killed)]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = parts_dir(killed)
    _wait_for(lambda: len(list(parts.glob("chunk-*"))) >= after or process.poll() is not None)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    written = len(list(parts.glob("chunk-*")))
    assert after <= written < 40 and not killed.exists()

    assert _quiet_main([*args, "--out", str(killed)]) == 0
    assert _quiet_main([*args, "--out", str(whole)]) == 0
    assert killed.read_bytes() == whole.read_bytes()
    assert not parts.exists()


def _ctrl_c_interrupts() -> None:
    """Restore SIGINT's default in the child: started from a background job (``make test &``)
    it would inherit an ignored SIGINT, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _estimates(out: Path) -> dict[str, tuple]:
    records = json.loads((out / "results.json").read_text())["points"]
    return {r["id"]: (r["seed"], json.dumps(r["estimate"], sort_keys=True)) for r in records}


def test_reproduce_interrupted_with_ctrl_c_resumes_into_the_same_folder(tmp_path):
    out, store_path = tmp_path / "out", tmp_path / "store.sqlite"
    args = ["reproduce", "--quick", "--shots", "100", "--bootstrap", "10", "--seed", "5"]
    resumable = [*args, "--out", str(out), "--store", str(store_path)]
    command = [sys.executable, "-m", "qkit.cli", *resumable]
    process = subprocess.Popen(
        command,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_interrupts,
    )
    points = out / "points"
    _wait_for(lambda: len(list(points.glob("*.json"))) >= 4 or process.poll() is not None)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err.decode()[-2000:]
    finished = {p.name for p in points.glob("*.json")}
    assert 4 <= len(finished) and not (out / "results.json").exists()
    store = ResultsStore(store_path)
    before = store.list_runs(limit=10_000)
    assert sum(r.status == "done" for r in before) == len(finished)
    assert all(r.status in ("done", "failed") for r in before)  # nothing left running

    assert _quiet_main(resumable) == 0  # the same command resumes into the same folder
    after = store.list_runs(limit=10_000)
    planned = len(_estimates(out))
    done = [r for r in after if r.status == "done"]
    assert len(done) == planned  # no second run for a finished point
    assert {p.name for p in points.glob("*.json")} >= finished

    fresh = tmp_path / "fresh"
    assert _quiet_main([*args, "--out", str(fresh), "--no-store"]) == 0
    assert _estimates(out) == _estimates(fresh)
