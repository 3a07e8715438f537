"""One road from a definition to counts: a sweep row is ``qkit run`` at that point and seed,
with the same run options, by the same execution layer (:mod:`qkit.engines`)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from qkit import experiment as definitions
from qkit.options import RunOptions
from qkit.sweep import make_spec, read_table, run_sweep
from qkit.sweep.runner import provenance_dir


@pytest.mark.slow
def test_device_sweep_rows_equal_runs_with_mitigation(tmp_path):
    """Every row of a sampled, readout-mitigated sweep on fake:lima carries the estimates,
    intervals and device prediction of ``Experiment.run`` at its point and seed, and keeps
    the provenance of each row (deterministic: no false failures)."""
    opts = RunOptions(shots=200, backend="fake:lima", engine="sampler", mitigate="readout")
    spec = make_spec(
        "mixup", {"success": [0.7, 1.0], "amplitude": [0.6]}, opts.replace(seed=5), chunk_size=1
    )
    out = tmp_path / "lima.csv"
    run_sweep(spec, out)
    table = read_table(out)
    mixup = definitions.get("mixup")
    documents = []
    for chunk in range(spec.num_chunks):
        path = provenance_dir(out) / f"chunk-{chunk:07d}.json.gz"
        documents += json.loads(gzip.decompress(path.read_bytes()))["provenance"]
    assert len(documents) == 2
    for i in range(2):
        seed = int(table["seed"][i])
        result = mixup.run(opts.replace(seed=seed), success=table["success"][i], amplitude=0.6)
        for key in ("chsh", "concurrence", "fidelity"):
            est = result.estimate[key]
            assert table[key][i] == pytest.approx(est["value"], abs=1e-12)
            assert table[f"{key}_ci_low"][i] == pytest.approx(est["ci_low"], abs=1e-12)
            assert table[f"{key}_ci_high"][i] == pytest.approx(est["ci_high"], abs=1e-12)
        device = result.metadata["prediction_device"]
        assert device
        for key, value in device.items():
            assert table[f"device_{key}"][i] == pytest.approx(value, abs=1e-12)
        assert documents[i]["seed"] == seed and documents[i]["mitigate"] == "readout"
        assert documents[i]["counts"]  # the raw counts replay compares with


def test_run_options_are_one_object():
    """The Python API, the sweep and the CLI take the same object and the same checks."""
    with pytest.raises(ValueError, match="shots"):
        RunOptions(shots=0)
    with pytest.raises(ValueError, match="intervals"):
        RunOptions(intervals="sometimes")
    assert RunOptions(n_boot=0).intervals == "none"  # the old spelling, kept one release
    assert RunOptions(intervals="none").analysis.n_boot == 0
    spec = make_spec("mixup", {"success": [1.0], "amplitude": [0.5]}, RunOptions(seed=1))
    assert spec.options.analysis == RunOptions().analysis
    with pytest.raises(ValueError, match="mitigate"):
        RunOptions(mitigate="readout")  # aer has no readout error


def test_cli_flags_mean_the_same_on_every_command():
    from qkit.cli import build_parser

    parser = build_parser()
    flags = ("--shots", "--seed", "--backend", "--engine", "--intervals", "--bootstrap")
    defaults = {}
    for command in (["run", "mixup"], ["sweep", "mixup"]):
        sub = parser._subparsers._group_actions[0].choices[command[0]]
        leaf = sub._subparsers._group_actions[0].choices[command[1]]
        actions = {a.option_strings[0]: a for a in leaf._actions if a.option_strings}
        defaults[command[0]] = {f: (actions[f].default, actions[f].help) for f in flags}
    assert defaults["run"] == defaults["sweep"]


def test_sweep_rows_equal_runs_exact_and_sampler_on_aer(tmp_path):
    """On Aer, a sampled sweep row equals ``qkit run`` at that point and seed."""
    opts = RunOptions(shots=300, engine="sampler")
    spec = make_spec("channel", {"eta": [0.5], "inputs": "entangled"}, opts.replace(seed=2))
    out = tmp_path / "t.csv"
    run_sweep(spec, out)
    table = read_table(out)
    seed = int(table["seed"][0])
    result = definitions.get("channel").run(opts.replace(seed=seed), eta=0.5, inputs="entangled")
    value = result.estimate["mutual_information"]
    assert np.isclose(table["mutual_information"][0], value["value"])
    assert np.isclose(table["mutual_information_ci_low"][0], value["ci_low"])


def test_a_sampled_sweep_row_replays_exactly(tmp_path, capsys):
    """``qkit replay SWEEP --row N`` reruns a sampled row from the provenance kept beside the
    table and gets the same counts (Aer is seeded: deterministic, no false failures)."""
    from qkit.cli import main

    store = tmp_path / "runs.db"
    out = tmp_path / "grid.csv"
    argv = ["sweep", "channel", "--eta", "0.3,0.9", "--inputs", "entangled", "--shots", "200"]
    argv += ["--seed", "4", "--engine", "sampler", "--out", str(out), "--store", str(store)]
    assert main([*argv, "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["replay", run_id, "--row", "1", "--store", str(store), "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["match"] is True and outcome["engine"] == "sampler"
    assert main(["replay", run_id, "--row", "7", "--store", str(store)]) == 2
    assert "no provenance of row 7" in capsys.readouterr().err


def test_the_survey_samples_through_the_execution_layer(monkeypatch):
    """The survey's sampler engine goes through :func:`qkit.engines.sample_families` (one
    call for every class), draws every random number from the recorded seed (a survey without
    a seed records the one it drew, and that seed gives the same counts again) and meets the
    execution layer's memory check. Deterministic: no false failures."""
    from qkit import engines, options
    from qkit.backends import get_backend
    from qkit.survey import run_survey

    manila = get_backend("fake:manila", seed=2)
    calls = []
    real = engines.sample_families

    def spy(device, families, **kwargs):
        calls.append(len(families))
        return real(device, families, **kwargs)

    monkeypatch.setattr(engines, "sample_families", spy)
    first = run_survey(manila, "chsh", shots=100, engine="sampler")
    assert isinstance(first.seed, int) and calls == [len(first.classes)]
    again = run_survey(manila, "chsh", shots=100, seed=first.seed, engine="sampler")
    assert [r.counts.tolist() for r in again.couplers] == [
        r.counts.tolist() for r in first.couplers
    ]
    assert all(int(r.counts.sum()) == 4 * 100 for r in first.couplers)  # 4 settings x shots
    monkeypatch.setattr(options, "available_memory", lambda: 1)
    with pytest.raises(MemoryError, match="this survey needs about"):
        run_survey(manila, "chsh", shots=100, seed=1, engine="sampler")
