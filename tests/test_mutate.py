"""tools/mutate.py makes one mutant per comparison, operator and constant, and scores them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "tools" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # its dataclass resolves annotations through sys.modules
    spec.loader.exec_module(module)
    return module


SOURCE = '''"""Docstring: 1 < 2 is not mutated."""


def f(x: int = 3) -> float:
    """Neither is this 0.5."""
    if x <= 2:
        return -x * 0.5
    return x + 1  # no mutate


def g(y):
    return y == 4.0
'''


def test_every_comparison_operator_and_constant_gives_one_mutant():
    mutate = _tool()
    found = sorted((m.line, m.description) for m, _ in mutate.mutants(SOURCE))
    assert found == [
        (4, "3 -> 4"),
        (6, "2 -> 3"),
        (6, "LtE -> Lt"),
        (7, "-x -> x"),
        (7, "0.5 -> 0.55"),
        (7, "Mult -> Div"),
        (12, "4.0 -> 4.4"),
        (12, "Eq -> NotEq"),
    ]
    texts = {m.description: text for m, text in mutate.mutants(SOURCE)}
    assert "if x < 2:" in texts["LtE -> Lt"]
    assert "return x * 0.5" in texts["-x -> x"]
    assert "y != 4.0" in texts["Eq -> NotEq"]


def test_only_the_named_functions_are_mutated():
    mutate = _tool()
    found = {m.line for m, _ in mutate.mutants(SOURCE, ["g"])}
    assert found == {12}


def test_in_process_scoring_kills_what_the_tests_notice(tmp_path, monkeypatch):
    # A tiny package and a test that pins f(1) = -0.5: the mutants of f's return die, the
    # mutants of g (untested) survive.
    mutate = _tool()
    package = tmp_path / "toy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(
        "from toy.mod import f\n\ndef test_f():\n    assert f(1) == -0.5\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    permille = mutate.run_in_process(Path("toy/mod.py"), [str(tmp_path / "test_toy.py")], None)
    # Killed: -x, 0.5 and Mult (f(1) changes). Survive: 2 -> 3 and LtE -> Lt (f(1) takes the
    # same branch), 3 -> 4 (a default the test does not use) and g's two (untested): 3 of 8.
    assert permille == round(1000 * 3 / 8)
