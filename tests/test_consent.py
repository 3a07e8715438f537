"""Consent and cost before a paid submission, with a local stand-in for a cloud backend.

The stand-in is Aer whose capabilities say ``cloud``: every submission to it passes the same
check as IBM Quantum or Braket would, and nothing touches the network.
"""

from __future__ import annotations

import json

import pytest

import qkit.backends
from qkit import consent
from qkit.backends._aer import AerBackend
from qkit.backends._capabilities import CLOUD
from qkit.cli import main
from qkit.store import ResultsStore

RUN = ["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--seed", "2"]


class StandIn(AerBackend):
    """Aer, sampling locally, but a cloud backend as far as qkit can tell."""

    caps = CLOUD
    submissions = 0

    def __init__(self, name: str, **kwargs):
        super().__init__(**kwargs)
        self.name = name

    def _submit_raw(self, pubs, shots, noise_model, seed):
        StandIn.submissions += 1
        return super()._submit_raw(pubs, shots, noise_model, seed)


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    """``ibm:stand_in`` and ``braket:arn:.../ionq/forte-1`` are the stand-in."""
    real = qkit.backends.get_backend

    def get_backend(name="aer", **kwargs):
        if name.startswith(("ibm:", "braket:arn")):
            return StandIn(name, **{k: v for k, v in kwargs.items() if k == "seed"})
        return real(name, **kwargs)

    monkeypatch.setattr(qkit.backends, "get_backend", get_backend)
    monkeypatch.setenv("QKIT_STORE", str(tmp_path / "s.sqlite"))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("QKIT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("QKIT_MAX_SHOTS", raising=False)
    StandIn.submissions = 0
    return tmp_path


def test_a_cloud_run_without_yes_is_refused_and_nothing_is_sent(cloud, capsys):
    assert main([*RUN, "--backend", "ibm:stand_in"]) == 2
    err = capsys.readouterr().err
    assert "paid submission to ibm:stand_in" in err and "shots" in err
    assert "cost unknown" in err  # IBM's usage cannot be predicted: said so, not guessed
    assert err.strip().splitlines()[-1].startswith("qkit: error: not submitted")
    assert StandIn.submissions == 0
    store = cloud / "s.sqlite"
    assert not store.exists() or ResultsStore(store).list_runs() == []  # no run recorded


def test_yes_submits_and_shows_the_estimate_first(cloud, capsys):
    assert main([*RUN, "--backend", "ibm:stand_in", "--yes", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("paid submission to ibm:stand_in") == 1  # shown once
    assert StandIn.submissions >= 1


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_a_budget_refuses_larger_submissions(cloud, capsys, monkeypatch, how):
    extra = []
    if how == "flag":
        extra = ["--max-shots", "50"]
    elif how == "env":
        monkeypatch.setenv("QKIT_MAX_SHOTS", "50")
    else:
        (cloud / "config.toml").write_text("max_shots = 50\n")
    assert main([*RUN, "--backend", "ibm:stand_in", "--yes", *extra]) == 2
    err = capsys.readouterr().err
    assert "budget is 50 shots" in err and len(err.strip().splitlines()) == 1
    assert StandIn.submissions == 0


def test_braket_devices_are_priced_from_published_prices(cloud):
    from qiskit import QuantumCircuit
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    backend = StandIn("braket:arn:aws:braket:us-east-1::device/qpu/ionq/forte-1")
    pubs = [SamplerPub.coerce((circuit,), 1000), SamplerPub.coerce((circuit,), 500)]
    cost = consent.estimate(backend, pubs)
    assert cost.tasks == 2 and cost.shots == 1500 and cost.circuits == 1
    assert cost.usd == pytest.approx(2 * 0.30 + 1500 * 0.08)


def test_the_python_api_needs_an_explicit_yes(cloud):
    from qkit import experiment as definitions

    mixup = definitions.get("mixup")
    with pytest.raises(consent.ConsentRequired, match="consent"):
        mixup.run(success=0.9, amplitude=0.7, shots=100, seed=2, backend="ibm:stand_in")
    assert StandIn.submissions == 0
    with consent.allow(max_shots=10**6):
        mixup.run(success=0.9, amplitude=0.7, shots=100, seed=2, backend="ibm:stand_in")
    assert StandIn.submissions >= 1


def test_local_backends_never_ask(cloud, capsys):
    assert main([*RUN, "--json"]) == 0
    assert "paid" not in capsys.readouterr().err


def _stored_run(tmp_path, backend: str) -> tuple[str, str]:
    """An aer run whose record and provenance are rewritten to name ``backend``."""
    assert main([*RUN, "--realization", "branch-mixture", "--json"]) == 0
    store = ResultsStore(tmp_path / "s.sqlite")
    (run,) = store.list_runs()
    document = store.export_run(run.run_id)
    document["run"]["run_id"] = "copied-run"
    document["run"]["backend"] = backend
    document["provenance"]["backend"] = backend
    other = tmp_path / "other.sqlite"
    ResultsStore(other).import_run(document)
    return "copied-run", str(other)


def test_replay_never_reaches_a_cloud_backend_it_was_not_told(cloud, capsys):
    run_id, other = _stored_run(cloud, "ibm:stand_in")
    capsys.readouterr()
    assert main(["replay", run_id, "--store", other]) == 2
    err = capsys.readouterr().err
    assert "--backend ibm:stand_in" in err and len(err.strip().splitlines()) == 1
    assert StandIn.submissions == 0
    # named, it still asks (no --yes): nothing sent
    assert main(["replay", run_id, "--store", other, "--backend", "ibm:stand_in"]) == 2
    assert StandIn.submissions == 0
    assert main(["replay", run_id, "--store", other, "--backend", "ibm:stand_in", "--yes"]) in (
        0,
        4,
    )
    assert StandIn.submissions >= 1


def test_replay_refuses_a_provenance_that_disagrees_with_its_record(cloud, capsys):
    assert main([*RUN, "--json"]) == 0
    store = ResultsStore(cloud / "s.sqlite")
    (run,) = store.list_runs()
    import sqlite3
    import zlib

    document = store.get_provenance(run.run_id)
    document["backend"] = "ibm:stand_in"
    document["shots"] = 10**9
    with sqlite3.connect(cloud / "s.sqlite") as conn:  # as a tampered store would hold it
        conn.execute(
            "UPDATE provenance SET data = ? WHERE run_id = ?",
            (zlib.compress(json.dumps(document).encode()), run.run_id),
        )
    capsys.readouterr()
    assert main(["replay", run.run_id]) == 2
    err = capsys.readouterr().err
    assert "provenance.backend" in err and "disagrees" in err
    assert StandIn.submissions == 0


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 2), ("\n", 2)])
def test_a_terminal_is_asked_and_only_yes_submits(cloud, capsys, monkeypatch, answer, code):
    import io

    monkeypatch.setattr(consent, "_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    assert main([*RUN, "--backend", "ibm:stand_in", "--json"]) == code
    assert "submit? [y/N]" in capsys.readouterr().err
    assert (StandIn.submissions > 0) == (code == 0)
