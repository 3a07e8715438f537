"""No credential text leaves the environment (issue #5): not in the store, logs, JSON or jobs.

Fake credentials for IBM Quantum and AWS are put in the environment, where qkit's users keep
them; then real runs go through the CLI (a fake device with readout mitigation, a durable
``--no-wait`` run fetched later, the jobs and results commands), the IBM and Braket paths fail
to connect (no network here), and credential-like keys are written to the store on purpose.
Afterwards every byte qkit wrote (results store with its WAL, the jobs directory, stdout,
stderr, log records) is searched for each secret.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qkit.backends import _detached
from qkit.cli import main
from qkit.result import Result
from qkit.store import REDACTED, ResultsStore

SECRETS = {
    "QISKIT_IBM_TOKEN": "SECRET-TOKEN-123",
    "QISKIT_IBM_INSTANCE": "crn:v1:bluemix:public:quantum-computing:us-east:a/SECRET-INSTANCE-456",
    "AWS_ACCESS_KEY_ID": "AKIASECRETKEYID00001",
    "AWS_SECRET_ACCESS_KEY": "SECRET-AWS-KEY-789",
    "AWS_SESSION_TOKEN": "SECRET-SESSION-000",
}
# distinctive parts of each secret: none may appear anywhere
NEEDLES = ["SECRET-TOKEN-123", "SECRET-INSTANCE-456", "SECRETKEYID00001", "SECRET-AWS-KEY-789",
           "SECRET-SESSION-000"]  # fmt: skip


@pytest.fixture
def secret_env(tmp_path, monkeypatch):
    """Credentials in the environment; store, jobs and HOME in a fresh directory."""
    for key in list(os.environ):
        if key.startswith(("QISKIT_IBM", "AWS_")):
            monkeypatch.delenv(key)
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one failed connection is enough
    monkeypatch.setenv("QISKIT_IBM_RUNTIME_LOG_LEVEL", "DEBUG")  # the runtime's own logger
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no saved IBM account or AWS config
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # fail fast, never reach out
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("QKIT_STORE", str(tmp_path / "results.sqlite"))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path / "jobs"))
    (tmp_path / "home").mkdir()
    return tmp_path


def assert_no_secret(text: str | bytes, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    for needle in NEEDLES:
        assert needle not in text, f"{needle} found in {where}"


def assert_no_secret_in_files(root: Path) -> int:
    """Search every file under ``root`` (store, WAL, journals, job files); returns the count."""
    files = [p for p in root.rglob("*") if p.is_file() and "home" not in p.parts]
    for path in files:
        assert_no_secret(path.read_bytes(), str(path))
    return len(files)


def cli(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert_no_secret(out, f"stdout of qkit {' '.join(argv)}")
    assert_no_secret(err, f"stderr of qkit {' '.join(argv)}")
    return code, out


def test_runs_jobs_and_results_commands_write_no_credentials(secret_env, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    code, out = cli(
        capsys, "run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "300", "--seed", "1",
        "--backend", "fake:lima", "--mitigate", "readout", "--bootstrap", "50", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["backend"] == "fake:lima"
    code, out = cli(
        capsys, "run", "channel", "--eta", "0.5", "--shots", "200", "--seed", "2",
        "--bootstrap", "50", "--no-wait", "--json",
    )  # fmt: skip
    assert code == 0
    run_id = json.loads(out)["run_id"]  # a detached worker ran with the secrets in its env
    (job_id,) = json.loads(out)["job_ids"]
    for argv in (
        ["jobs", "list", "--json"],
        ["jobs", "status", run_id, "--json"],
        ["jobs", "fetch", run_id, "--json"],
        ["jobs", "list"],
        ["results", "list", "--json"],
        ["results", "show", run_id, "--json"],
        ["results", "show", run_id],
    ):
        if argv[1] == "fetch":  # the job's files, all written, before fetch removes them
            _detached.retrieve(job_id).result(timeout=120)
            assert assert_no_secret_in_files(secret_env) >= 5  # store and the job's files
        assert cli(capsys, *argv)[0] == 0
    assert_no_secret(caplog.text, "log records")
    assert assert_no_secret_in_files(secret_env) >= 1  # the store (+ WAL)


def test_credential_like_keys_written_to_the_store_are_redacted(secret_env, capsys):
    store = ResultsStore()
    token, instance = SECRETS["QISKIT_IBM_TOKEN"], SECRETS["QISKIT_IBM_INSTANCE"]
    run_id = store.save_run(
        "mixup",
        {"success": 0.9, "amplitude": 0.7, "api_key": token},
        estimate={"chsh": {"value": 2.4, "stderr": 0.03}},
        backend="ibm:ibm_torino",
        metadata={
            "token": token,
            "ibm": {"instance": instance, "channel": "ibm_quantum_platform"},
            "aws": {"aws_secret_access_key": SECRETS["AWS_SECRET_ACCESS_KEY"],
                    "aws_session_token": SECRETS["AWS_SESSION_TOKEN"]},
            "headers": ["Bearer " + token],  # credential-shaped values, whatever the key
            "key_id": SECRETS["AWS_ACCESS_KEY_ID"],
        },
    )  # fmt: skip
    store.add_jobs(run_id, "ibm:ibm_torino", ["d1a2b3c4"], payload={"auth": {"token": token}})
    store.update_job("d1a2b3c4", "DONE", result={"password": token, "counts": {"00": 3}})
    result = Result(
        kind="channel",
        params={"eta": 0.5, "inputs": "entangled", "alphabet": "pair"},
        prediction={"holevo": 0.2},
        estimate={"mutual_information": {"value": 0.21}},
        counts={},
        shots=10,
        seed=1,
        backend="braket:local",
        metadata={"credentials": {"aws_access_key_id": SECRETS["AWS_ACCESS_KEY_ID"]}},
    )
    saved = store.save_result(result)

    record = store.get_run(run_id)
    assert record.params["api_key"] == REDACTED and record.params["success"] == 0.9
    assert record.metadata["token"] == REDACTED
    assert record.metadata["ibm"] == {"instance": REDACTED, "channel": "ibm_quantum_platform"}
    assert record.metadata["headers"] == [REDACTED] and record.metadata["key_id"] == REDACTED
    assert "metadata.aws.aws_secret_access_key" in record.metadata["redacted"]
    assert store.get_job("d1a2b3c4").payload == {"auth": REDACTED}
    assert store.get_job("d1a2b3c4").result == {"password": REDACTED, "counts": {"00": 3}}
    assert store.get_run(saved).metadata["credentials"] == REDACTED

    assert cli(capsys, "results", "show", run_id, "--json")[0] == 0
    assert cli(capsys, "jobs", "list", "--json")[0] == 0
    assert assert_no_secret_in_files(secret_env) >= 1


FAILING_CLOUD_PATHS = """
import contextlib, io, json, sys
from qkit.cli import main
report = []
for backend in ("ibm:ibm_torino", "braket:arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "10",
                     "--backend", backend, "--json"])
    report.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(report))
"""


@pytest.mark.slow
def test_failing_ibm_and_braket_connections_print_no_credentials(secret_env):
    done = subprocess.run(
        [sys.executable, "-c", FAILING_CLOUD_PATHS],
        capture_output=True, text=True, env=os.environ.copy(), timeout=180,
    )  # fmt: skip
    assert_no_secret(done.stdout, "stdout")
    assert_no_secret(done.stderr, "stderr (warnings, log records)")
    assert done.returncode == 0, done.stderr
    ibm, braket = json.loads(done.stdout.splitlines()[-1])
    for code, out, err in (ibm, braket):
        assert code == 2 and out == ""
        # one line from qkit; the runtime's own DEBUG log lines may precede it
        assert [line for line in err.splitlines() if "qkit" in line] == [err.splitlines()[-1]]
        assert err.splitlines()[-1].startswith("qkit: error: "), err
    assert "IBM Quantum" in ibm[2] and "Braket" in braket[2]
    assert_no_secret_in_files(secret_env)
