"""The repeater chain through the experiment API, ``qkit run chain`` and ``qkit sweep chain``.

Sampled estimates (Aer, both engines) are compared with ``chain_state``'s prediction: every
check is ``|estimate - prediction| <= 4.5 sd`` (sd from the 95% interval), a false failure
below 1e-5 per check (seeded runs: a failure reproduces).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from qkit.cli import main
from qkit.repeater import theory
from qkit.repeater.experiment import CHAIN, outcomes, probabilities

BELL = 2**-0.5
KEYS = ("fidelity", "concurrence", "chsh", "success_probability")


def _within(estimate, prediction, sigmas=4.5):
    sigma = (estimate["ci_high"] - estimate["ci_low"]) / 2 / 1.96
    return abs(estimate["value"] - prediction) <= sigmas * sigma + 1e-9


def test_prediction_is_the_theory_of_the_chain():
    point = CHAIN.point(links=4, success=0.9, amplitude=0.6, rounds=0, dephasing=0.05)
    prediction = CHAIN.prediction(point)
    record = theory.chain(4, 0.9, 0.6, 0, 0.05)
    for key in ("fidelity", "concurrence", "eof", "chsh_max", "yield"):
        assert prediction[key] == pytest.approx(record[key], abs=1e-12), key
    assert prediction["chsh"] == prediction["chsh_max"]
    assert prediction["success_probability"] == 1.0
    with_round = CHAIN.prediction(CHAIN.point(links=2, success=0.9, amplitude=BELL, rounds=1))
    p0, p1 = theory.chain(2, 0.9, BELL, 1)["success_probabilities"]
    assert with_round["success_probability"] == pytest.approx(p0**4 * p1, abs=1e-12)


@pytest.mark.parametrize(
    ("links", "rounds", "engine", "shots"),
    [
        (2, 0, "sampler", 800),
        (2, 0, "exact", 3000),
        (4, 0, "exact", 3000),
        pytest.param(2, 1, "exact", 3000, marks=pytest.mark.slow),  # 11-qubit density matrix
        pytest.param(4, 0, "sampler", 400, marks=pytest.mark.slow),
        pytest.param(2, 1, "sampler", 600, marks=pytest.mark.slow),
    ],
)
def test_sampled_chain_agrees_with_the_prediction_on_aer(links, rounds, engine, shots):
    result = CHAIN.run(
        links=links,
        success=0.95,
        amplitude=BELL,
        rounds=rounds,
        dephasing=0.02,
        shots=shots,
        seed=7,
        engine=engine,
        n_boot=0 if engine == "sampler" else 100,
    )
    assert result.metadata["options"]["engine"] == engine
    for key in KEYS:
        estimate = result.estimate[key]
        if np.isnan(estimate["ci_low"]):  # n_boot = 0: analytic intervals are still there
            continue
        assert _within(estimate, result.prediction[key]), key


def test_outcome_map_keeps_only_shots_whose_rounds_all_agree():
    point = CHAIN.point(links=1, success=0.9, amplitude=BELL, rounds=1)
    # clbits 0, 1: the round's target outcomes (left, right); 2, 3: meas (left, right)
    rows = outcomes(point, 0, 4)
    assert rows[int("1000", 2)].tolist() == [0, 1, 0, 0, 0]  # left 0, right 1, round 00
    assert rows[int("0111", 2)].tolist() == [0, 0, 1, 0, 0]  # left 1, right 0, round 11
    assert rows[int("1101", 2)].argmax() == 4  # round 01: disagree, discarded
    assert rows[int("0010", 2)].argmax() == 4


def test_exact_distributions_have_the_predicted_kept_fraction():
    from qkit.backends import get_backend

    points = CHAIN.batch([CHAIN.point(links=1, success=0.8, amplitude=0.6, rounds=1)])
    (dist,) = probabilities(get_backend("aer"), points)
    predicted = CHAIN.predict(points)["success_probability"][0]
    assert dist.shape == (13, 5)
    assert np.allclose(dist[:, :4].sum(axis=1), predicted, atol=1e-12)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_run_chain_json_has_estimates_with_intervals_beside_the_prediction():
    argv = ["run", "chain", "--links", "1", "--success", "0.9", "--amplitude", str(BELL)]
    argv += ["--rounds", "1", "--dephasing", "0.05", "--shots", "400", "--seed", "3"]
    code, out, err = _cli(argv + ["--engine", "exact", "--no-store", "--json"])
    assert code == 0, err
    record = json.loads(out)
    for key in KEYS:
        assert set(record["estimate"][key]) >= {"value", "ci_low", "ci_high"}, key
        assert isinstance(record["prediction"][key], float), key
    assert record["rounds"] == 1 and record["dephasing"] == 0.05


def test_run_chain_defaults_need_no_rounds_dephasing_or_idle():
    argv = ["run", "chain", "-L", "2", "-S", "0.9", "-a", str(BELL), "--shots", "200"]
    code, out, err = _cli(argv + ["--seed", "1", "--engine", "exact", "--no-store", "--json"])
    assert code == 0, err
    record = json.loads(out)
    assert (record["rounds"], record["dephasing"], record["idle"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--links", "3"], "links"),
        (["--links", "2", "--rounds", "1.5"], "rounds"),
        (["--links", "2", "--dephasing", "0.7"], "dephasing"),
        (["--links", "2", "--idle", "-1"], "idle"),
        (["--links", "4", "--rounds", "2"], "qubits"),
        (["--links", "2", "--idle", "100"], "idle"),  # aer has no timing
        (["--links", "2", "--backend", "braket:local"], "feed-forward"),
        (["--links", "1", "--rounds", "1", "--backend", "braket:local"], "dynamic circuits"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    if "braket:local" in args:
        pytest.importorskip("qiskit_braket_provider")
    argv = ["run", "chain", "-S", "0.9", "-a", "0.7", *args, "--shots", "10", "--seed", "1"]
    code, _, err = _cli([*argv, "--no-store"])
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and needle in err, err


@pytest.mark.slow
def test_one_link_runs_on_braket_local_which_has_no_feed_forward():
    """One link needs no swap and no round: Braket's local simulator runs it (longer chains
    are refused, above)."""
    pytest.importorskip("qiskit_braket_provider")
    result = CHAIN.run(
        links=1, success=0.9, amplitude=BELL, shots=400, seed=3, backend="braket:local"
    )
    for key in ("fidelity", "concurrence", "chsh"):
        assert _within(result.estimate[key], result.prediction[key]), key


def test_sweep_chain_over_links_and_dephasing(tmp_path: Path):
    from qkit.sweep import read_table

    out = tmp_path / "chain.csv"
    argv = ["sweep", "chain", "--links", "1,2", "--success", "0.9", "--amplitude", str(BELL)]
    argv += ["--dephasing", "0,0.05", "--shots", "300", "--seed", "4", "--engine", "exact"]
    code, _, err = _cli([*argv, "--out", str(out), "--no-store", "--bootstrap", "20"])
    assert code == 0, err
    table = read_table(out)
    assert len(table["point"]) == 4
    for i in range(4):
        f = theory.chain(int(table["links"][i]), 0.9, BELL, 0, table["dephasing"][i])["fidelity"]
        assert table["predicted_fidelity"][i] == pytest.approx(f, abs=1e-12)
