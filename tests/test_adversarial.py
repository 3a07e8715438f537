"""Bad input, huge sizes and half-finished runs, tried as an adversarial user would.

Error lines show the offending value exactly and briefly; ``--json`` is strict JSON; a PUB of
many shots is sampled as sub-PUBs whose counts add up to the same totals; a durable run whose
analysis failed after sampling is marked failed and finished later by ``fetch``.
"""

from __future__ import annotations

import json

import pytest

from qkit import engines, runner, sampling
from qkit._validate import check_success
from qkit.backends import _base
from qkit.cli import main
from qkit.cli._common import emit
from qkit.mixup import experiment as mixup
from qkit.store import ResultsStore


def test_the_error_line_does_not_round_the_value_into_range():
    with pytest.raises(ValueError, match=r"got 1\.0000001$"):
        check_success(1.0000001)
    with pytest.raises(ValueError, match=r"got -1e-300$"):
        check_success(-1e-300)


def test_a_huge_value_is_cut_in_the_message_itself():
    with pytest.raises(ValueError) as info:
        check_success("9" * 100 + "x" * 100_000)
    assert len(str(info.value)) < 150 and "characters)" in str(info.value)


def cli(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:  # argparse errors exit from the parser
        return int(exc.code)


def test_cli_cuts_huge_values_and_takes_negative_ranges(capsys, tmp_path):
    assert cli("theory", "mixup", "-S", "x" * 100_000, "-a", "0.5") == 2
    err = capsys.readouterr().err
    assert len(err) < 300 and err.count("\n") == 1
    # a negative range start after a flag is a value, not a flag: the range check answers
    out = str(tmp_path / "x.csv")
    assert cli("sweep", "channel", "--eta", "-0.1:1:3", "--no-store", "--out", out) == 2
    assert "eta must be in [0, 1], got -0.1" in capsys.readouterr().err


def test_json_output_is_strict(capsys):
    emit({"x": float("inf"), "y": float("nan"), "z": 1.5}, as_json=True)
    out = capsys.readouterr().out

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    assert json.loads(out, parse_constant=refuse) == {"x": None, "y": None, "z": 1.5}


def test_split_shots_covers_every_shot():
    assert sampling.split_shots(10, limit=4) == [4, 4, 2]
    assert sampling.split_shots(12, settings=3, limit=12) == [4, 4, 4]
    assert sampling.split_shots(3, limit=4) == [3]
    assert sum(sampling.split_shots(10**9)) == 10**9


@pytest.mark.parametrize("realization", [None, "branch-mixture"])
def test_sub_pubs_add_up_to_every_shot_of_every_setting(monkeypatch, realization):
    """Small bounds force sub-PUBs and several backend calls; totals must be exact."""
    monkeypatch.setattr(sampling, "MAX_PUB_SHOTS", 2_000)
    monkeypatch.setattr(_base, "MAX_CALL_SHOTS", 6_000)
    shots = 1_500
    result = mixup.run(
        0.9, 0.7, shots=shots, seed=3, engine="sampler", n_boot=0, realization=realization
    )
    counts = result.counts["counts"]
    totals = [sum(row) for row in counts]
    assert totals == [shots] * len(totals)
    # 1500 shots a setting: sd of C ~0.02, so 0.2 is a ~10 sd draw (false failure ~1e-23)
    assert abs(result.estimate["concurrence"]["value"] - result.prediction["concurrence"]) < 0.2


def test_a_durable_run_whose_analysis_failed_is_failed_then_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path / "jobs"))
    store = ResultsStore(tmp_path / "results.sqlite")
    estimate = engines._analysed
    calls = {"n": 0}

    def fails_once(run, counts):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the analysis broke")
        return estimate(run, counts)

    monkeypatch.setattr(engines, "_analysed", fails_once)
    kw = dict(shots=300, seed=7, n_boot=20, engine="sampler")
    with pytest.raises(RuntimeError, match="the analysis broke"):
        mixup.run(0.8, 0.6, store=store, durable=True, **kw)
    (record,) = store.list_runs()
    assert record.status == "failed" and "the analysis broke" in record.metadata["error"]
    (job,) = store.jobs_for_run(record.run_id)

    fetched = runner.fetch(record.run_id, store)
    assert store.get_run(record.run_id).status == "done"
    assert fetched.estimate == mixup.run(0.8, 0.6, **kw).estimate  # the same seeded samples
    with pytest.raises(ValueError, match="already done"):
        runner.fetch(record.run_id, store)


def test_a_run_the_machine_cannot_hold_is_refused_before_it_starts(monkeypatch, capsys, tmp_path):
    from qkit import options
    from qkit.cli import main

    monkeypatch.setattr(options, "available_memory", lambda: 10 * 2**20)  # 10 MiB left
    code = main(["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100000", "--no-store"])
    err = capsys.readouterr().err
    assert code == 3 and "GiB" in err and "available" in err and err.count("\n") == 1
    monkeypatch.setattr(options, "available_memory", lambda: None)  # unknown: no refusal
    assert main(["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--no-store"]) == 0
