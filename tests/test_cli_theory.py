"""`qkit theory`: JSON keys, values against the API, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from qkit.channel import theory as channel
from qkit.cli import main
from qkit.mixup import theory as mixup
from qkit.repeater import theory as repeater


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_theory_mixup_keys_and_values(capsys):
    out = run_json(capsys, "theory", "mixup", "--success", "0.8", "--amplitude", "0.5")
    assert list(out) == [
        "success",
        "amplitude",
        "fidelity",
        "concurrence",
        "eof",
        "chsh_max",
        "entangled",
        "chsh_violated",
        "lhv_region",
    ]
    assert out["concurrence"] == pytest.approx(float(mixup.concurrence(0.8, 0.5)))
    assert out["chsh_violated"] is (float(mixup.chsh_max(0.8, 0.5)) > 2)
    assert isinstance(out["lhv_region"], bool)


def test_theory_mixup_optimum_keys(capsys):
    out = run_json(capsys, "theory", "mixup-optimum", "--success", "0.01")
    assert list(out) == [
        "success",
        "amplitude_opt",
        "eof_max",
        "eof_max_approx",
        "pairs_per_bell_pair_bound",
        "pairs_per_bell_pair",  # the bound's old name, kept for one release
    ]
    assert out["pairs_per_bell_pair"] == out["pairs_per_bell_pair_bound"]
    assert out["amplitude_opt"] <= 2**-0.5
    assert out["eof_max_approx"] == pytest.approx(out["eof_max"], rel=0.03)


def test_theory_mixup_threshold_is_null_for_product_states(capsys):
    out = run_json(capsys, "theory", "mixup-threshold", "--amplitude", "0")
    assert out == {"amplitude": 0.0, "success_entangled": None, "success_chsh": None}
    out = run_json(capsys, "theory", "mixup-threshold", "--amplitude", str(2**-0.5))
    assert out["success_entangled"] == pytest.approx(1 / 3)
    assert out["success_chsh"] == pytest.approx(2**-0.5)


def test_theory_channel_at_full_correlation(capsys):
    out = run_json(capsys, "theory", "channel", "--eta", "1")
    assert out["capacity_entangled"] == pytest.approx(np.log2(5))
    assert out["capacity_separable"] == pytest.approx(np.log2(17 / 4))
    assert out["capacity_unpolarized"] == 2.0
    assert out["chi2_entangled"] == pytest.approx(float(channel.chi2(1.0, "entangled")))


def test_theory_chain_keys_and_values(capsys):
    argv = ["--links", "8", "--success", "0.9", "--amplitude", "0.6", "--rounds", "1"]
    out = run_json(capsys, "theory", "chain", *argv, "--dephasing", "0.02")
    assert list(out) == [
        "links",
        "success",
        "amplitude",
        "rounds",
        "dephasing",
        "fidelity",
        "concurrence",
        "eof",
        "chsh_max",
        "yield",
        "success_probabilities",
    ]
    expected = repeater.chain(8, 0.9, 0.6, 1, 0.02)
    assert out["success_probabilities"] == pytest.approx(expected.pop("success_probabilities"))
    assert {k: out[k] for k in expected} == pytest.approx(expected, abs=1e-15)
    assert len(out["success_probabilities"]) == 4  # levels 0..3, one round each
    short = run_json(capsys, "theory", "chain", "-L", "1", "-S", "0.5", "-a", "0.3")
    assert short["rounds"] == 0 and short["dephasing"] == 0 and short["yield"] == 1
    assert short["fidelity"] == pytest.approx(
        float(np.real(mixup.state(0.5, 0.3)[[0, 0, 3, 3], [0, 3, 0, 3]].sum() / 2))
    )


def test_readable_table_is_not_json(capsys):
    assert main(["theory", "channel", "--eta", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "capacity_entangled" in text and "{" not in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["theory", "mixup", "--success", "0", "--amplitude", "0.5"],
            "success must be in (0, 1], got 0",
        ),
        (
            ["theory", "mixup", "--success", "0.5", "--amplitude", "1.01"],
            "amplitude must be in [0, 1]",
        ),
        (["theory", "mixup-optimum", "--success", "abc"], "not a number: 'abc'"),
        (["theory", "mixup-threshold", "--amplitude", "nan"], "not a finite number"),
        (["theory", "channel", "--eta", "-0.1"], "eta must be in [0, 1], got -0.1"),
        (["theory", "channel"], "required: --eta"),
        (
            ["theory", "chain", "-L", "6", "-S", "0.9", "-a", "0.7"],
            "links must be a power of two in [1, 1048576]",
        ),
        (["theory", "chain", "-L", "0", "-S", "0.9", "-a", "0.7"], "must be a positive integer"),
        (
            ["theory", "chain", "-L", "4", "-S", "0.9", "-a", "0.7", "-K", "65"],
            "rounds must be an integer in [0, 64], got 65",
        ),
        (
            ["theory", "chain", "-L", "4", "-S", "0.9", "-a", "0.7", "-P", "0.6"],
            "dephasing must be in [0, 0.5], got 0.6",
        ),
        (["theory", "chain", "-L", "4", "-S", "0.9"], "required: --amplitude"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_entry_point_exits_2_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "qkit.cli", "theory", "channel", "--eta", "7"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "qkit: error: eta must be in [0, 1], got 7"
