"""``qkit results list`` / ``show``: read the store back through the command line."""

from __future__ import annotations

import json

import pytest

from qkit.cli import main
from qkit.store import ResultsStore


@pytest.fixture
def filled(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    mixup = store.save_run(
        "mixup",
        {"success": 0.9, "amplitude": 0.6},
        prediction={"chsh_max": 2.5, "concurrence": 0.83},
        estimate={
            "chsh": {"value": 2.48, "stderr": 0.02},
            "concurrence": {"value": 0.0, "ci_low": 0.0, "ci_high": 0.05, "at_boundary": True},
        },
        counts={"chsh": [[10, 20, 30, 40]] * 4},
        backend="aer",
        seeds={"seed": 3},
    )
    channel = store.create_run("channel", {"eta": 0.5}, backend="ibm:fez", status="submitted")
    store.add_jobs(channel, "ibm:fez", ["job-a"])
    return store, mixup, channel


def test_list_prints_a_table_newest_first(filled, capsys):
    store, mixup, channel = filled
    assert main(["results", "list", "--store", str(store.path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["RUN_ID", "KIND", "STATUS"]
    assert lines[1].startswith(channel) and "submitted" in lines[1] and "eta=0.5" in lines[1]
    assert lines[2].startswith(mixup) and "done" in lines[2] and "aer" in lines[2]


def test_list_json_filters_by_kind_and_limits(filled, capsys):
    store, mixup, _ = filled
    assert main(["results", "list", "--store", str(store.path), "--json", "--kind", "mixup"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in records] == [mixup]
    assert records[0]["estimate"]["chsh"] == {"value": 2.48, "stderr": 0.02}
    assert "counts" not in records[0]
    assert main(["results", "list", "--store", str(store.path), "--json", "--limit", "1"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_list_of_a_store_that_does_not_exist_is_empty(tmp_path, capsys):
    missing = tmp_path / "none.sqlite"
    assert main(["results", "list", "--store", str(missing), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not missing.exists()


def test_store_comes_from_the_environment(filled, capsys, monkeypatch):
    store, mixup, _ = filled
    monkeypatch.setenv("QKIT_STORE", str(store.path))
    assert main(["results", "show", mixup[:24], "--json"]) == 0  # a unique prefix
    assert json.loads(capsys.readouterr().out)["run_id"] == mixup


def test_show_json_is_the_whole_record_with_jobs(filled, capsys):
    store, mixup, channel = filled
    assert main(["results", "show", mixup, "--store", str(store.path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["counts"] == {"chsh": [[10, 20, 30, 40]] * 4}
    assert record["prediction"]["chsh_max"] == 2.5 and record["seeds"] == {"seed": 3}
    assert "numpy" in record["versions"] and record["jobs"] == []
    assert main(["results", "show", channel, "--store", str(store.path), "--json"]) == 0
    assert [j["job_id"] for j in json.loads(capsys.readouterr().out)["jobs"]] == ["job-a"]


def test_show_text_puts_estimates_with_error_bars(filled, capsys):
    store, mixup, _ = filled
    assert main(["results", "show", mixup, "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert f"run {mixup}  (mixup, done)" in out
    assert "2.48 +- 0.02" in out
    assert "0 [0, 0.05]  (at a physical bound" in out
    assert "16 cells, 400 shots" in out


@pytest.mark.parametrize("run_id", ["nope", ""])
def test_show_unknown_run_is_a_one_line_error_with_exit_2(filled, capsys, run_id):
    store, _, _ = filled
    assert main(["results", "show", run_id, "--store", str(store.path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qkit: error: ") and err.count("\n") == 1


def test_show_from_a_missing_store_is_a_one_line_error(tmp_path, capsys):
    assert main(["results", "show", "x", "--store", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "no results store" in err and err.count("\n") == 1


def test_bad_limit_is_a_usage_error(filled, capsys):
    store, _, _ = filled
    with pytest.raises(SystemExit) as exc:
        main(["results", "list", "--store", str(store.path), "--limit", "0"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
