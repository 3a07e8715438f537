"""``qkit reproduce``: one quick run with tiny shots, checked file by file and number by number.

The run is made once per module (~30-50 s on 2 busy cores: ~15 s of it sampling 35
experiments, the rest drawing 9 figures twice). Every check recomputes what it checks from
independent sources: explicit density matrices and ``qiskit.quantum_info`` for the predictions,
the experiment API for the samples, the stored intervals for the agreement column.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, concurrence, partial_trace

from qkit.cli import main
from qkit.mixup import experiment as mixup_experiment
from qkit.reproduce import plan_points, resolve_out_dir
from qkit.store import ResultsStore

SHOTS = 200
BOOT = 50


# Every test of this fixture is marked slow: they share one `qkit reproduce --quick` (1-3 min).
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``qkit reproduce --quick`` with tiny shots into a fresh directory, runs stored."""
    root = tmp_path_factory.mktemp("reproduce")
    out, store = root / "out", root / "store.sqlite"
    argv = ["reproduce", "--quick", "--out", str(out), "--shots", str(SHOTS)]
    argv += ["--bootstrap", str(BOOT), "--seed", "7", "--store", str(store)]
    stderr = io.StringIO()  # not a terminal: no progress bar
    with contextlib.redirect_stderr(stderr):
        code = main(argv)
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    return {"out": out, "store": store, "results": results, "stderr": stderr.getvalue()}


def _error_line(capsys, argv) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit from inside the parser
        code = exc.code
    err = capsys.readouterr().err
    return code, err


def _explicit_mixup_state(success: float, amplitude: float) -> np.ndarray:
    """``S rho + (1 - S) Tr_B rho ⊗ Tr_A rho`` (Eq. 2.1), built with qiskit.quantum_info."""
    psi = np.zeros(4)
    psi[0], psi[3] = amplitude, np.sqrt(1.0 - amplitude**2)
    rho = DensityMatrix(np.outer(psi, psi))
    # qiskit's qubit 0 is the rightmost factor: trace out qubit 0 to keep the left one (A)
    rho_a = partial_trace(rho, [0]).data
    rho_b = partial_trace(rho, [1]).data
    return success * rho.data + (1.0 - success) * np.kron(rho_a, rho_b)


@pytest.mark.slow
def test_quick_run_writes_every_figure_as_png_and_pdf(quick_run):
    out, figures = quick_run["out"], quick_run["results"]["figures"]
    names = {f["name"] for f in figures}
    needles = ("fig2_phase", "fig3_eof_max", "fidelity", "construction", "fig4", "fig5", "distill")
    needles += ("repeater_chain",)
    for needle in needles:
        assert any(needle in n for n in names), needle
    for fig in figures:
        png, pdf = out / fig["png"], out / fig["pdf"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert pdf.read_bytes()[:5] == b"%PDF-"
    assert {p.name for p in out.iterdir()} == (
        {f["png"] for f in figures}
        | {f["pdf"] for f in figures}
        | {"report.md", "report.html", "results.json", "qkit-reproduce.json", "points"}
    )


@pytest.mark.slow
def test_results_hold_prediction_and_estimate_for_every_planned_point(quick_run):
    points = quick_run["results"]["points"]
    planned = plan_points(quick=True)
    assert len(points) == sum(len(entries) for entries in planned.values())
    assert {r["kind"] for r in points} == {"mixup", "channel", "distill", "chain"}
    for record in points:
        assert record["prediction"] and record["estimate"], record["id"]
        assert record["shots"] == SHOTS
        if record["kind"] == "mixup":
            assert set(record["estimate"]) >= {"chsh", "concurrence", "eof", "fidelity"}
        elif record["kind"] == "distill":
            assert record["paper"] == "beyond"
            assert set(record["estimate"]) >= {"success_probability", "fidelity_out", "yield"}
        elif record["kind"] == "chain":
            assert record["paper"] == "beyond"
            assert set(record["estimate"]) >= {"success_probability", "fidelity", "chsh"}
        else:
            assert "mutual_information" in record["estimate"]


@pytest.mark.slow
def test_mixup_predictions_match_explicit_density_matrices(quick_run):
    for record in quick_run["results"]["points"]:
        if record["kind"] != "mixup":
            continue
        s, a = record["params"]["success"], record["params"]["amplitude"]
        rho = _explicit_mixup_state(s, a)
        psi = np.array([a, 0, 0, np.sqrt(1 - a * a)])
        assert record["prediction"]["fidelity"] == pytest.approx(psi @ rho @ psi, abs=1e-12)
        assert record["prediction"]["concurrence"] == pytest.approx(concurrence(rho), abs=1e-7)


@pytest.mark.slow
def test_channel_predictions_at_full_correlation_are_the_papers_values(quick_run):
    expected = {
        ("entangled", "pair"): 1.0,
        ("separable", "pair"): np.log2(5 / 4),
        ("entangled", "two-slot"): np.log2(5),
        ("separable", "two-slot"): np.log2(17 / 4),
    }
    seen = set()
    for record in quick_run["results"]["points"]:
        p = record["params"]
        if record["kind"] == "channel" and p["eta"] == 1.0:
            key = (p["inputs"], p["alphabet"])
            assert record["prediction"]["holevo"] == pytest.approx(expected[key], abs=1e-12)
            seen.add(key)
    assert seen == set(expected)


@pytest.mark.slow
def test_a_point_is_reproduced_exactly_from_its_recorded_seed(quick_run):
    record = next(r for r in quick_run["results"]["points"] if r["kind"] == "mixup")
    again = mixup_experiment.run(**record["params"], shots=SHOTS, seed=record["seed"], n_boot=BOOT)
    assert again.counts["counts"] == record["counts"]["counts"]
    seeds = [r["seed"] for r in quick_run["results"]["points"]]
    assert len(set(seeds)) == len(seeds)


@pytest.mark.slow
def test_report_table_has_a_row_per_headline_number_with_recomputed_deviation(quick_run):
    out, results = quick_run["out"], quick_run["results"]
    md = (out / "report.md").read_text()
    assert "| id | point | quantity | prediction | estimate |" in md
    quantity = r"(Eq|CHSH|E_F|success_probability|fidelity|concurrence|eof|chsh|yield)"
    rows = [line for line in md.splitlines() if re.match(r"\| [A-Z]\d\d \| .*" + quantity, line)]
    assert len(rows) == len(results["headline"])
    for row in results["headline"]:
        same = abs(row["estimate"] - row["prediction"]) <= 1e-12  # rounding: no deviation
        if row["sigma_from"] == "stderr":
            sigma = row["sigma"]
        elif same:
            sigma = (row["ci_high"] - row["ci_low"]) / 2 / 1.959964
        elif row["prediction"] > row["estimate"]:  # the interval's side facing the prediction
            sigma = (row["ci_high"] - row["estimate"]) / 1.959964
        elif row["prediction"] < row["estimate"]:
            sigma = (row["estimate"] - row["ci_low"]) / 1.959964
        else:
            sigma = (row["ci_high"] - row["ci_low"]) / 2 / 1.959964
        assert row["sigma"] == pytest.approx(sigma, rel=1e-5, abs=1e-12)
        if sigma > 0:
            dev = 0.0 if same else (row["estimate"] - row["prediction"]) / sigma
            assert row["deviation"] == pytest.approx(dev, rel=1e-4, abs=1e-9)
    # every mix-up point has its four numbers, every channel point its mutual information
    per_point = {}
    for row in results["headline"]:
        per_point.setdefault(row["id"], []).append(row["quantity"])
    for record in results["points"]:
        assert len(per_point[record["id"]]) >= (4 if record["kind"] == "mixup" else 1)


@pytest.mark.slow
def test_estimates_agree_with_predictions_within_three_sigma(quick_run):
    # Fixed seed: deterministic. 95% intervals from 50 bootstrap resamples are rough, so
    # allow a few of ~70 numbers beyond 3 sigma; a broken estimator or circuit gives dozens.
    # More than 7% beyond 3 sigma (> 4 of 70, > 3 of 51): 1.5e-6 to 1.2e-5 were each number
    # normal (0.27% beyond 3 sigma), 7e-4 to 1.7e-3 should 1% be, as rough intervals may allow.
    summary = quick_run["results"]["summary"]
    assert summary["compared"] > 50
    assert summary["within_3_sigma"] >= 0.93 * summary["compared"]


@pytest.mark.slow
def test_capacity_figure_keeps_device_samples_below_two_bits_in_view(quick_run):
    # a noisy device can deliver less than the 2 bits of ignoring polarization
    from qkit.reproduce import _figures, _plan

    records = copy.deepcopy(quick_run["results"]["points"])
    low = next(r for r in records if r["params"].get("alphabet") == "two-slot")
    low["estimate"]["mutual_information"] = {"value": 1.6, "ci_low": 1.55, "ci_high": 1.65}
    spec = next(s for s in _figures.figure_specs(records, _plan.settings(True)) if "fig5" in s.name)
    bottom, top = spec.build().axes[1].get_ylim()
    assert bottom < 1.55 and top > np.log2(5)


@pytest.mark.slow
def test_report_html_embeds_every_figure_by_relative_path(quick_run):
    out = quick_run["out"]

    class Images(HTMLParser):
        sources: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.sources.append(dict(attrs)["src"])

    parser = Images()
    parser.feed((out / "report.html").read_text())
    pngs = {f["png"] for f in quick_run["results"]["figures"]}
    assert set(parser.sources) == pngs
    assert all((out / src).is_file() and not Path(src).is_absolute() for src in parser.sources)
    assert "<table>" in (out / "report.html").read_text()


@pytest.mark.slow
def test_every_run_is_in_the_store_under_the_recorded_run_id(quick_run):
    store = ResultsStore(quick_run["store"], create=False)
    for record in quick_run["results"]["points"]:
        stored = store.get_run(record["run_id"])
        assert stored.status == "done"
        assert stored.params == record["params"]


@pytest.mark.slow
def test_progress_bar_stays_off_when_stderr_is_not_a_terminal(quick_run):
    """No bar, only the start line with the estimate and the end line (qkit.progress)."""
    lines = quick_run["stderr"].splitlines()
    assert len(lines) == 2 and all(line.startswith("qkit: ~ reproduce --quick") for line in lines)
    assert "estimated" in lines[0] and "done after" in lines[1]


@pytest.mark.slow
def test_metadata_names_seed_backend_shots_versions_and_wall_time(quick_run):
    meta = quick_run["results"]["meta"]
    assert meta["seed"] == 7 and meta["backend"] == "aer" and meta["mode"] == "quick"
    assert meta["shots"] == {"mixup": SHOTS, "channel": SHOTS, "distill": SHOTS, "chain": SHOTS}
    assert {"qiskit", "qiskit-aer", "numpy", "qkit"} <= set(meta["versions"])
    assert meta["wall_time_s"] > 0
    md = (quick_run["out"] / "report.md").read_text()
    assert "wall time" in md and "version: qiskit" in md


@pytest.mark.parametrize(
    "extra",
    [["--shots", "-5"], ["--shots", "0"], ["--backend", "nope"], ["--seed", "-1"]],
    ids=["negative-shots", "zero-shots", "unknown-backend", "negative-seed"],
)
def test_bad_input_is_a_one_line_error_with_exit_2(capsys, tmp_path, extra):
    code, err = _error_line(
        capsys, ["reproduce", "--out", str(tmp_path / "o"), "--no-store", *extra]
    )
    assert code == 2
    assert err.startswith("qkit: error:") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_or_a_non_empty_directory_is_refused(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("keep me")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.txt").write_text("keep me")
    for target in (a_file, full):
        code, err = _error_line(capsys, ["reproduce", "--out", str(target), "--no-store"])
        assert code == 2 and err.startswith("qkit: error:") and err.count("\n") == 1
    assert a_file.read_text() == "keep me" and (full / "old.txt").read_text() == "keep me"


def test_default_directory_is_timestamped_and_never_reused(tmp_path):
    first, seed = resolve_out_dir(None, root=tmp_path)
    assert re.fullmatch(r"\d{8}T\d{6}Z", first.name) and seed is None
    first.mkdir()
    (first / "report.md").write_text("taken")
    second, _ = resolve_out_dir(None, root=tmp_path)
    assert second != first and not second.exists()
