"""What a new user trips over first: fake:list says what each device is, and the two theory
commands that give pairs per Bell pair say which is a bound and which an achieved yield."""

from __future__ import annotations

import json
import re

import pytest

from qkit.cli import build_parser, main


def _out(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_fake_list_names_family_and_qubit_count(capsys):
    pytest.importorskip("qiskit_ibm_runtime")
    out = _out(capsys, "run", "mixup", "-S", "0.9", "-a", "0.7", "--backend", "fake:list")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert re.fullmatch(r"fake:fez\s+Heron r2\s+156 qubits", lines["fake:fez"])
    assert re.fullmatch(r"fake:sherbrooke\s+Eagle r3\s+127 qubits", lines["fake:sherbrooke"])
    assert re.fullmatch(r"fake:lima\s+Falcon r4\s+5 qubits", lines["fake:lima"])
    assert all(re.search(r"\d+ qubits?$", line) for line in lines.values())


def test_mixup_optimum_gives_the_bound_and_distill_optimum_the_achieved_cost(capsys):
    bound = json.loads(_out(capsys, "theory", "mixup-optimum", "-S", "0.5", "--json"))
    best = json.loads(_out(capsys, "theory", "distill-optimum", "-S", "0.5", "--json"))
    assert bound["pairs_per_bell_pair_bound"] == pytest.approx(1 / bound["eof_max"])
    assert best["pairs_per_bell_pair_bound"] == pytest.approx(bound["pairs_per_bell_pair_bound"])
    assert best["pairs_per_bell_pair_achieved"] == pytest.approx(1 / best["yield"])
    assert best["pairs_per_bell_pair_achieved"] > best["pairs_per_bell_pair_bound"]
    # the old, ambiguous key stays one release with its old meaning in each command
    assert bound["pairs_per_bell_pair"] == bound["pairs_per_bell_pair_bound"]
    assert best["pairs_per_bell_pair"] == best["pairs_per_bell_pair_achieved"]


@pytest.mark.parametrize("command", ["distill", "distill-optimum"])
def test_target_fidelity_help_says_its_default(command):
    theory = build_parser()._subparsers._group_actions[0].choices["theory"]
    sub = theory._subparsers._group_actions[0].choices[command]
    (action,) = [a for a in sub._actions if "--target-fidelity" in a.option_strings]
    assert action.default == 0.99 and "default: 0.99" in action.help
