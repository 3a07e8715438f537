"""Provenance and exact replay: every stored run is redone from the store alone.

A small store is made offline with every experiment and backend kind available here; every
deterministic run (Aer, fake devices, the exact engine) must replay to exactly the stored
counts, PUB by PUB, from the stored QPY circuits and from the stored OpenQASM 3.
"""

from __future__ import annotations

import json

import pytest

from qkit import experiment as definitions
from qkit import provenance, replay
from qkit.cli import main
from qkit.store import ResultsStore

SHOTS = 200


def _runs() -> dict[str, dict]:
    mixup = {"experiment": "mixup", "success": 0.7, "amplitude": 0.6}
    channel = {"experiment": "channel", "eta": 0.8, "inputs": "entangled", "alphabet": "two-slot"}
    distill = {"experiment": "distill", "success": 0.8, "amplitude": 0.6}
    return {
        "mixup-aer-noise-model": {**mixup},
        "mixup-aer-branch-mixture": {**mixup, "realization": "branch-mixture"},
        "mixup-aer-exact": {**mixup, "engine": "exact"},
        "mixup-fake-readout": {**mixup, "backend": "fake:lima", "mitigate": "readout"},
        "channel-aer-noise-model": {**channel},
        "channel-aer-branch-mixture": {**channel, "realization": "branch-mixture"},
        "channel-aer-exact": {**channel, "engine": "exact"},
        "distill-aer-noise-model": {**distill},
        "distill-aer-branch-mixture": {**distill, "realization": "branch-mixture"},
    }


RUNS = _runs()
DETERMINISTIC = list(RUNS)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A store with one run of each kind: {name: run id}."""
    path = tmp_path_factory.mktemp("replay") / "store.sqlite"
    store = ResultsStore(path)
    ids = {}
    for seed, (name, spec) in enumerate(RUNS.items()):
        spec = dict(spec)
        experiment = definitions.get(spec.pop("experiment"))
        result = experiment.run(shots=SHOTS, seed=seed + 1, n_boot=0, store=store, **spec)
        ids[name] = result.run_id
    return path, ids


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_every_deterministic_run_replays_exactly(made, name):
    path, ids = made
    store = ResultsStore(path, readonly=True)
    outcome = replay.replay(store, ids[name])
    assert outcome.deterministic
    assert outcome.match, outcome.mismatched_pubs
    assert outcome.counts == outcome.stored_counts
    if RUNS[name].get("engine") == "exact":
        assert outcome.source == "experiment"
        assert outcome.counts == store.get_run(ids[name]).counts["counts"]
    else:
        assert outcome.source == "qpy" and outcome.pubs > 0


@pytest.mark.parametrize(
    "name",
    [
        "mixup-aer-noise-model",
        "mixup-aer-branch-mixture",
        "channel-aer-noise-model",
        "mixup-fake-readout",
    ],
)
def test_openqasm3_form_replays_exactly_too(made, name):
    pytest.importorskip("qiskit_qasm3_import")  # what qiskit.qasm3.loads reads with
    path, ids = made
    outcome = replay.replay(ResultsStore(path, readonly=True), ids[name], source="qasm3")
    assert outcome.source == "qasm3"
    assert outcome.match, outcome.mismatched_pubs


@pytest.mark.slow
def test_a_channel_run_on_a_fake_device_replays_exactly(tmp_path):
    # over 100 branch PUBs, one local-mode simulation each: about 30 s per run
    store = ResultsStore(tmp_path / "fake.sqlite")
    result = definitions.get("channel").run(
        eta=0.5,
        inputs="separable",
        alphabet="pair",
        backend="fake:lima",
        shots=SHOTS,
        seed=11,
        n_boot=0,
        store=store,
    )
    outcome = replay.replay(store, result.run_id)
    assert outcome.deterministic and outcome.pubs > 100
    assert outcome.match, outcome.mismatched_pubs


def test_provenance_records_what_a_run_needs(made):
    path, ids = made
    store = ResultsStore(path, readonly=True)
    fake = store.get_provenance(ids["mixup-fake-readout"])
    assert fake["backend"] == "fake:lima" and fake["mitigate"] == "readout"
    assert fake["seed"] == store.get_run(ids["mixup-fake-readout"]).seeds["seed"]
    assert fake["simulator_seed"] == definitions.simulator_seed(fake["seed"])
    assert fake["realization"] == "branch-mixture" and fake["noise"] is None
    calibration = fake["calibration"]
    assert not calibration["ideal"] and calibration["qubits"]
    assert all(q["t1"] > 0 and q["t2"] > 0 for q in calibration["qubits"].values())
    assert calibration["instructions"]["measure"] and calibration["properties_sha256"]
    assert sum(p["shots"] for p in fake["pubs"]) == 13 * SHOTS  # 4 CHSH + 9 tomography
    assert {"qiskit", "qiskit-aer", "qkit", "qiskit-ibm-runtime"} <= set(fake["versions"])
    # raw counts per PUB, before mitigation: every PUB's shots are there
    assert [sum(c.values()) for c in fake["counts"]] == [p["shots"] for p in fake["pubs"]]
    model = store.get_provenance(ids["channel-aer-noise-model"])
    assert model["calibration"]["ideal"] and {m["label"] for m in model["noise"]}
    assert all(text.startswith("OPENQASM 3") for text in model["circuits"]["qasm3"])
    assert any(provenance.NOISE_GATE_PREFIX in text for text in model["circuits"]["qasm3"])
    exact = store.get_provenance(ids["mixup-aer-exact"])
    assert exact["engine"] == "exact" and exact["point"] == {"success": 0.7, "amplitude": 0.6}
    # compact: a mix-up run is a few kB, a 192-PUB channel run some 10 kB
    assert store.provenance_size(ids["mixup-aer-noise-model"]) < 4000
    assert store.provenance_size(ids["channel-aer-branch-mixture"]) < 40_000
    # the run's own metadata stays small: the provenance is beside it
    assert "provenance" not in store.get_run(ids["mixup-aer-noise-model"]).metadata


def test_a_run_nothing_stores_computes_no_provenance(monkeypatch, tmp_path):
    """The provenance (QPY, OpenQASM 3, calibration) is kept beside a stored run only: a run
    without a store skips it and gives the same result as a stored one."""
    mixup = definitions.get("mixup")
    spec = {"success": 0.7, "amplitude": 0.6, "shots": SHOTS, "seed": 4, "n_boot": 0}
    stored = mixup.run(store=ResultsStore(tmp_path / "s.sqlite"), **spec)

    def refuse(*args, **kwargs):
        raise AssertionError("provenance computed for a run nothing stores")

    monkeypatch.setattr(provenance, "sampled", refuse)
    alone = mixup.run(**spec)
    same = [json.dumps([r.estimate, r.counts], sort_keys=True) for r in (alone, stored)]
    assert same[0] == same[1]  # NaN intervals (n_boot=0) compare as text
    with pytest.raises(AssertionError, match="nothing stores"):
        mixup.run(store=ResultsStore(tmp_path / "t.sqlite"), **spec)


def test_cli_replay_prints_the_match(made, capsys):
    path, ids = made
    assert main(["replay", ids["mixup-fake-readout"][:24], "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "counts match exactly (26 PUBs)" in out
    assert main(["replay", ids["channel-aer-exact"], "--store", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["match"] is True and record["engine"] == "exact"


def test_changed_counts_do_not_match_and_exit_4(made, tmp_path, capsys):
    path, ids = made
    document = ResultsStore(path, readonly=True).export_run(ids["mixup-aer-branch-mixture"])
    document["run"]["run_id"] = "tampered-run"
    first = document["provenance"]["counts"][0]
    key = sorted(first)[0]
    first[key] += 1  # one shot moved: the replay must notice
    other = sorted(first)[-1]
    first[other] -= 1
    store = ResultsStore(tmp_path / "other.sqlite")
    store.import_run(document)
    assert main(["replay", "tampered-run", "--store", str(store.path)]) == 4
    assert "DO NOT match (PUBs [0])" in capsys.readouterr().out


def test_replay_on_another_backend_is_stored_and_linked(made, tmp_path, capsys):
    path, ids = made
    document = ResultsStore(path, readonly=True).export_run(ids["mixup-aer-branch-mixture"])
    store = ResultsStore(tmp_path / "copy.sqlite")
    run_id, added = store.import_run(document)
    assert added
    code = main(["replay", run_id, "--backend", "fake:lima", "--store", str(store.path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "not deterministic" in out and "stored as run" in out
    (stored,) = store.list_runs("replay", with_counts=True)
    assert stored.metadata["replay_of"] == run_id and stored.params["of"] == run_id
    assert stored.backend == "fake:lima"
    assert len(stored.counts["pubs"]) == len(document["provenance"]["pubs"])


def test_a_noise_model_run_needs_aer(made):
    path, ids = made
    store = ResultsStore(path, readonly=True)
    with pytest.raises(ValueError, match="noise model: replay it on aer"):
        replay.replay(store, ids["mixup-aer-noise-model"], backend="fake:lima")


def test_braket_local_is_compared_as_distributions(tmp_path):
    pytest.importorskip("qiskit_braket_provider")
    store = ResultsStore(tmp_path / "braket.sqlite")
    result = definitions.get("mixup").run(
        success=0.7, amplitude=0.6, shots=400, seed=5, n_boot=0, backend="braket:local", store=store
    )
    outcome = replay.replay(store, result.run_id)
    assert not outcome.deterministic and outcome.match is None
    # the same distributions: the homogeneity test at level 1e-6 (its false-failure rate)
    assert outcome.dof > 0 and outcome.p_value > 1e-6
    assert store.get_provenance(result.run_id)["deterministic"] is False


def test_homogeneity_test_tells_different_distributions_apart():
    same = replay.homogeneity([{"0": 500, "1": 500}], [{"0": 510, "1": 490}])
    different = replay.homogeneity([{"0": 500, "1": 500}], [{"0": 900, "1": 100}])
    assert same[2] > 0.5 and different[2] < 1e-20 and same[1] == 1


def test_export_import_round_trip(made, tmp_path, capsys):
    path, ids = made
    run_id = ids["channel-aer-noise-model"]
    out = tmp_path / "run.json"
    assert main(["results", "export", run_id, "--out", str(out), "--store", str(path)]) == 0
    document = json.loads(out.read_text())
    assert document["format"] == "qkit-run/1" and document["run"]["run_id"] == run_id
    assert document["provenance"]["pubs"]
    other = tmp_path / "other.sqlite"
    assert main(["results", "import", str(out), "--store", str(other)]) == 0
    assert "imported" in capsys.readouterr().out
    assert ResultsStore(other, readonly=True).export_run(run_id) == document
    # the same content again: nothing changes
    assert main(["results", "import", str(out), "--store", str(other)]) == 0
    assert "already" in capsys.readouterr().out
    # the imported run replays exactly from the other store
    assert replay.replay(ResultsStore(other, readonly=True), run_id).match
    # the same id with other content is refused on one line
    document["run"]["params"]["eta"] = 0.5
    out.write_text(json.dumps(document))
    assert main(["results", "import", str(out), "--store", str(other)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "different content" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("unknown", "no run 'nope'"),
        ("no-provenance", "has no provenance"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, setup, message):
    store = ResultsStore(tmp_path / "s.sqlite")
    run_id = store.save_run("mixup", {"success": 0.5, "amplitude": 0.3}, estimate={})
    target = "nope" if setup == "unknown" else run_id
    assert main(["replay", target, "--store", str(store.path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_import_of_a_file_that_is_not_a_run_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main(["results", "import", str(bad), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "not an exported qkit run" in err and len(err.splitlines()) == 1


def test_a_store_of_version_2_has_no_provenance_until_migrated(tmp_path, capsys):
    import sqlite3

    path = tmp_path / "v2.sqlite"
    run_id = ResultsStore(path).save_run("mixup", {"success": 0.5, "amplitude": 0.3})
    with sqlite3.connect(path) as conn:  # as a store written before the provenance table
        conn.execute("DROP TABLE provenance")
        conn.execute("PRAGMA user_version = 2")
    assert ResultsStore(path, readonly=True).get_provenance(run_id) is None
    assert main(["replay", run_id, "--store", str(path)]) == 2
    assert "has no provenance" in capsys.readouterr().err
    store = ResultsStore(path)  # writable: migrated to the current version, after a backup
    assert store.backup is not None and store.backup.exists()
    assert store.get_provenance(run_id) is None and store.provenance_size(run_id) == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM provenance").fetchone()[0] == 0
