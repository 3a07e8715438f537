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


def _docs_extension(name: str):
    import importlib
    import sys
    from pathlib import Path

    ext = str(Path(__file__).resolve().parents[1] / "docs" / "_ext")
    sys.path.insert(0, ext)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(ext)


@pytest.mark.parametrize(
    "literal, tex",
    [
        (
            "C = max(0, 2 S a sqrt(1-a^2) - 2 (1-S) a^2 (1-a^2))",
            r"C = \max(0, 2 S a \sqrt{1-a^{2}}",
        ),
        ("E_F^max(S) = max_a E_F(M[psi_a])", r"E_F^{\max}(S) = \max_a E_F(M[\psi_a])"),
        ("F = <psi-|rho|psi->", r"F = \langle \psi-|\rho|\psi-\rangle"),
        ("C = log2(3 + 2^chi_2)", r"C = \log_2 (3 + 2^{\chi_2})"),
        ("a*^2 = (1 - sqrt(1 - 4 u*^2)) / 2", r"a^{*2} = (1 - \sqrt{1 - 4 u^{*2}}) / 2"),
        ("M[psi_a] = c rho_B + (1-c) rho_SEP", r"M[\psi_a] = c \rho_B + (1-c) \rho_{SEP}"),
    ],
)
def test_api_formulas_become_maths(literal, tex):
    math = _docs_extension("qkit_math")
    assert math.is_formula(literal)
    assert math.to_tex(literal).startswith(tex)


@pytest.mark.parametrize(
    "literal", ["max_rounds", "ValueError", "(yield, a, strength, rounds)", "layout='best'"]
)
def test_code_in_api_docstrings_stays_code(literal):
    math = _docs_extension("qkit_math")
    assert math.formulas_as_math(f"see ``{literal}``") == f"see ``{literal}``"


def test_every_formula_of_the_theory_modules_translates_with_balanced_braces():
    import importlib
    import inspect

    math = _docs_extension("qkit_math")
    converted = 0
    for name in math.MODULES:
        source = inspect.getsource(importlib.import_module(name))
        for literal in re.findall(r"``([^`\n]+)``", source):
            if math.is_formula(literal):
                converted += 1
                assert math._braces_ok(math.to_tex(literal)), literal
    assert converted > 50


def test_gallery_headings_turn_ascii_maths_into_maths():
    pytest.importorskip("docutils", reason="the docs extra (make docs installs it)")
    gallery = _docs_extension("qkit_gallery")
    assert gallery.as_math("Paper A, Fig. 3: E_F^max(S), Eq. 4.2, and fixed a = 1/sqrt2") == (
        r"Paper A, Fig. 3: $E_F^{\max}(S)$, Eq. 4.2, and fixed $a = 1/\sqrt{2}$"
    )
    assert gallery.as_math("capacity against eta") == r"capacity against $\eta$"
    assert gallery.as_math("the $\\chi_2$ gap (a-b)") == r"the $\chi_2$ gap \(a\-b\)"
