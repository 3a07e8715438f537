"""Nothing runs that the user did not ask for (issue 20), tried as an adversary would.

No code from data (no pickle, job ids that cannot walk out of their folder), no file changed
that qkit did not create (refusals before anything is made, atomic writes, a full disk),
every input bounded at the door, and no run left ``running`` by a killed process.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import qkit
from qkit import _files
from qkit.backends import _detached
from qkit.cli import main
from qkit.store import ResultsStore

QKIT = Path(qkit.__file__).parent
EXACT = [
    "run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--seed", "2",
    "--engine", "exact", "--intervals", "none",
]  # fmt: skip


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "s.sqlite"
    monkeypatch.setenv("QKIT_STORE", str(path))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path / "jobs"))
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qkit: error: "), err
    return lines[0]


def cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qkit.cli", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )


# -- 1. no code from data -------------------------------------------------------------------
def test_no_module_of_qkit_uses_pickle():
    for path in QKIT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in ("pickle", "dill", "cloudpickle") for n in names)
            if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, path


@pytest.mark.parametrize(
    "job_id",
    [
        "qkit-local-" + "a" * 32 + "/../../Downloads/shared-run",
        "qkit-local-../x",
        "qkit-local-" + "A" * 32,
        "qkit-local-" + "a" * 31,
        "/etc/qkit-local-" + "a" * 32,
    ],
)
def test_a_job_id_is_checked_against_its_exact_format(store, job_id):
    with pytest.raises(ValueError, match="not a local job id"):
        _detached.retrieve(job_id)
    assert not _detached.cleanup_job(job_id)


def test_an_old_pickled_job_folder_is_refused_and_never_unpickled(store, tmp_path):
    job_id = "qkit-local-" + "b" * 32
    folder = tmp_path / "jobs" / job_id
    folder.mkdir(parents=True, mode=0o700)
    canary = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {canary}",))

    (folder / "request.pkl").write_bytes(pickle.dumps(Payload()))
    (folder / "result.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="older qkit"):
        _detached.retrieve(job_id)
    assert not canary.exists()


def test_a_tampered_result_file_is_a_one_line_error(store, tmp_path):
    job_id = "qkit-local-" + "c" * 32
    folder = tmp_path / "jobs" / job_id
    folder.mkdir(parents=True, mode=0o700)
    for name in ("request.json", "result.json"):
        (folder / name).write_text("{}")
        os.chmod(folder / name, 0o600)
    (folder / "result.json").write_text('[{"shape": null, "counts": {"00": "many"}}]')
    with pytest.raises(ValueError, match="malformed"):
        _detached.retrieve(job_id).result(timeout=5)


# -- 3. no file qkit did not create is changed ----------------------------------------------
@pytest.fixture
def stored_run(store, capsys) -> str:
    assert main([*EXACT, "--json"]) == 0
    capsys.readouterr()
    return ResultsStore(store, readonly=True).list_runs(limit=1)[0].run_id


def test_export_refuses_an_existing_file_and_a_link_unless_overwrite(stored_run, tmp_path, capsys):
    mine = tmp_path / "mine.txt"
    mine.write_text("precious")
    link = tmp_path / "link.json"
    link.symlink_to(mine)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere")
    for target in (mine, link, dangling):
        assert main(["results", "export", stored_run, "--out", str(target)]) == 2
        assert "--overwrite" in one_line(capsys.readouterr().err)
    assert mine.read_text() == "precious" and not (tmp_path / "nowhere").exists()
    # --overwrite replaces the link itself; the file it pointed to is left alone
    assert main(["results", "export", stored_run, "--out", str(link), "--overwrite"]) == 0
    assert not link.is_symlink() and json.loads(link.read_text())["format"] == "qkit-run/1"
    assert mine.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_survey_refusals_create_nothing(store, tmp_path, capsys):
    figure = tmp_path / "map.png"
    figure.write_bytes(b"not yours")
    args = ["survey", "--backend", "fake:lima", "--shots", "10", "--figure", str(figure)]
    assert main(args) == 2
    assert "--overwrite" in one_line(capsys.readouterr().err)
    assert figure.read_bytes() == b"not yours"
    assert main(["survey", "--backend", "aer", "--shots", "10"]) == 2  # no couplers
    one_line(capsys.readouterr().err)
    assert not store.exists()  # a refused survey leaves no store


def test_export_circuits_replaces_a_planted_link_without_following_it(tmp_path, capsys):
    out = tmp_path / "circuits"
    assert main(["export-circuits", "--out", str(out)]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    first = sorted(out.glob("*.qasm"))[0]
    first.unlink()
    first.symlink_to(victim)
    assert main(["export-circuits", "--out", str(out)]) == 0
    assert victim.read_text() == "keep me" and not first.is_symlink()


def test_a_full_disk_is_one_line_exit_3_and_leaves_nothing(
    stored_run, tmp_path, capsys, monkeypatch
):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files.os, "write", full)
    out = tmp_path / "run.json"
    assert main(["results", "export", stored_run, "--out", str(out)]) == 3
    assert "the disk is full" in one_line(capsys.readouterr().err)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if "qkit-tmp" in p.name]
    # export-circuits: no half-written folder either
    assert main(["export-circuits", "--out", str(tmp_path / "circuits")]) == 3
    assert "the disk is full" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "circuits").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MiB tmpfs (root only; skipped elsewhere)."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_an_intact_store_is_read_on_a_full_disk(tiny_disk):
    store = tiny_disk / "s.sqlite"
    env = {"QKIT_STORE": str(store)}
    assert cli(*EXACT, env=env).returncode == 0
    with open(tiny_disk / "fill", "wb") as handle:  # fill the disk
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    listed = cli("results", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    assert cli("results", "show", run["run_id"], env=env).returncode == 0
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["fill", "s.sqlite"]  # nothing left
    failed = cli(*EXACT, env=env)
    assert failed.returncode == 3 and "the disk is full" in one_line(failed.stderr.decode())
    out = cli("results", "export", run["run_id"], "--out", str(tiny_disk / "x.json"), env=env)
    assert out.returncode == 3 and "the disk is full" in one_line(out.stderr.decode())
    assert not (tiny_disk / "x.json").exists()


# -- 4. every input bounded and checked at the door -----------------------------------------
def test_a_huge_round_count_is_refused_at_once(capsys):
    started = time.monotonic()
    assert main(["theory", "distill", "-S", "0.9", "-a", "0.7", "--rounds", "1" + "0" * 30]) == 2
    assert time.monotonic() - started < 5
    assert "rounds must be an integer in [0, 1024]" in one_line(capsys.readouterr().err)


def test_a_huge_list_limit_is_a_usage_error(store, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["results", "list", "--limit", "1" + "0" * 30])
    assert exc.value.code == 2 and "--limit" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "value", [True, False, 0.5 + 0.1j, [0.5, True], "0.9", [[0.5 + 0j]]], ids=repr
)
def test_booleans_complex_and_strings_are_refused_by_the_theory_api(value):
    from qkit.mixup import theory

    with pytest.raises(ValueError, match="success must be a number in") as exc:
        theory.fidelity(value, 0.5)
    assert "\n" not in str(exc.value)


def test_a_store_path_that_is_not_utf8_works(tmp_path):
    path = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.sqlite")
    env = {"QKIT_STORE": path, "PYTHONIOENCODING": "utf-8"}
    assert cli(*EXACT, env=env).returncode == 0
    listed = cli("results", "list", env=env)
    assert listed.returncode == 0 and b"mixup" in listed.stdout
    assert os.path.exists(os.fsencode(str(tmp_path)) + b"/caf\xe9.sqlite")


def test_a_closed_stdout_is_one_line_exit_3_and_nothing_runs(tmp_path):
    env = {"QKIT_STORE": str(tmp_path / "s.sqlite")}
    closed = cli(*EXACT, env=env, stdout=None, pass_fds=(), preexec_fn=lambda: os.close(1))
    assert closed.returncode == 3
    assert "standard output is closed" in one_line(closed.stderr.decode())
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.slow
def test_a_low_memory_limit_is_one_line_exit_3(tmp_path):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (300 * 2**20, 300 * 2**20))

    env = {"QKIT_STORE": str(tmp_path / "s.sqlite")}
    low = cli(*EXACT, env=env, preexec_fn=limit)
    assert low.returncode == 3, low.stderr
    line = one_line(low.stderr.decode())
    assert "memory" in line


def test_a_killed_process_leaves_no_running_run(store):
    code = (
        "import os, signal; from qkit.store import ResultsStore; "
        f"ResultsStore({str(store)!r}).create_run('reproduce', {{}}); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    killed = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    raw = subprocess.run(
        [sys.executable, "-c", f"import sqlite3; print(sqlite3.connect({str(store)!r})"
         ".execute('select status from runs').fetchone()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert raw == "running"  # as the killed process left it
    reader = ResultsStore(store, readonly=True)
    (run,) = reader.list_runs()
    assert run.status == "failed" and "interrupted" in run.metadata["error"]
    assert reader.list_runs(status="running") == []
    assert [r.run_id for r in reader.list_runs(status="failed")] == [run.run_id]
    ResultsStore(store)  # the next writer records it
    assert ResultsStore(store, readonly=True).get_run(run.run_id).finished_at is not None


def test_a_live_run_is_not_interrupted(store):
    live = ResultsStore(store)
    run_id = live.create_run("reproduce", {})
    assert ResultsStore(store).get_run(run_id).status == "running"
    live.finish_run(run_id, estimate={})
    assert "owner" not in ResultsStore(store).get_run(run_id).metadata


def test_an_uncoupled_explicit_pair_is_refused(capsys):
    args = ["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--backend", "fake:lima"]
    assert main([*args, "--layout", "0,4", "--no-store"]) == 2
    assert "not coupled" in one_line(capsys.readouterr().err)


def test_the_record_holds_the_physical_qubits_read_back_from_the_transpiled_circuits(store, capsys):
    args = ["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--backend", "fake:lima"]
    assert main([*args, "--layout", "3,4", "--json"]) == 0
    layout = json.loads(capsys.readouterr().out)["metadata"]["layout"]
    assert layout["physical"] == [3, 4] and layout["used"] == [3, 4]
    assert {3, 4} <= set(layout["qubits"]) and set(layout["qubits"]) <= set(range(5))


def test_a_circuit_wider_than_the_device_runs_on_the_qubits_it_uses_or_is_one_line(capsys):
    from qiskit import QuantumCircuit

    from qkit.backends import get_backend

    lima = get_backend("fake:lima", seed=1)
    wide = QuantumCircuit(8, 2)
    wide.h(5)
    wide.cx(5, 6)
    wide.measure([5, 6], [0, 1])
    (narrow,) = lima.transpile([wide])
    counts = lima.run([(narrow,)], shots=200)[0]
    assert sum(counts.values()) == 200 and set(counts) <= {"00", "01", "10", "11"}
    assert main(["run", "distill", "-S", "0.9", "-a", "0.7", "--shots", "100",
                 "--backend", "fake:lima", "--no-store"]) == 2  # fmt: skip
    assert "needs 8 qubits" in one_line(capsys.readouterr().err)


def test_a_sweep_refused_at_its_start_leaves_no_parts_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "mixup", "-S", "0.5:1:3", "-a", "0.7", "--shots", "10", "--backend", "nope"]
    assert main([*args, "--out", "sw.csv", "--no-store"]) == 2
    one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_a_huge_sweep_axis_writes_a_small_manifest(tmp_path, monkeypatch):
    from qkit.sweep import mixup_spec, parse_range, run_sweep
    from qkit.sweep import runner as sweep_runner
    from qkit.sweep.table import parts_dir

    def failing(spec, chunk):
        raise RuntimeError("stop after the manifest")

    monkeypatch.setattr(sweep_runner, "compute_chunk", failing)
    spec = mixup_spec(parse_range("0.001:1:1000000"), parse_range("0.5"), shots=10, seed=1)
    out = tmp_path / "huge.csv"
    with pytest.raises(RuntimeError):
        run_sweep(spec, out)
    manifest = parts_dir(out) / "manifest.json"
    assert manifest.stat().st_size < 10_000  # the 10^6 values would be ~20 MB
    # the digest still tells another spec apart (resume refuses it)
    other = mixup_spec(parse_range("0.001:1:1000001"), parse_range("0.5"), shots=10, seed=1)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="other arguments"):
        run_sweep(other, out)
