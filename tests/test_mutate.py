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


EQUIVALENT = """def h(x, y):
    top = x + y + 10.0  # equivalent[Add -> Sub #2; 10.0 -> 11.0]: any bracket above x + 2
    # equivalent[Lt -> LtE]: the two ends meet at x == y (declared on the line above)
    return top if x < y else y
"""


def test_declared_equivalent_mutants_are_marked_one_by_one():
    # Two Add -> Sub on the first line: the outer one ((x + y) - 10) is made first, so "#2"
    # names the inner one (x - y + 10) only.
    mutate = _tool()
    found = [(m.line, m.description, m.equivalent) for m, _ in mutate.mutants(EQUIVALENT)]
    assert sorted(found) == [
        (2, "10.0 -> 11.0", True),
        (2, "Add -> Sub", False),
        (2, "Add -> Sub", True),
        (4, "Lt -> LtE", True),
    ]
    texts = {(m.description, m.equivalent): text for m, text in mutate.mutants(EQUIVALENT)}
    assert "top = x + y - 10.0" in texts["Add -> Sub", False]
    assert "top = x - y + 10.0" in texts["Add -> Sub", True]


def test_declared_equivalent_mutants_are_not_counted_unless_checked(tmp_path, monkeypatch, capsys):
    # h(1, 2) = 13 kills the outer Add: the three declared mutants are skipped, so the score
    # is 1 of 1; checked, the toy's two wrong declarations (h(1, 2) is 14 and 9 with them)
    # are killed and named, the right one (x < y and x <= y agree at 1, 2) is not.
    mutate = _tool()
    package = tmp_path / "toy2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(EQUIVALENT)
    (tmp_path / "test_toy2.py").write_text(
        "from toy2.mod import h\n\ndef test_h():\n    assert h(1, 2) == 13\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    tests = [str(tmp_path / "test_toy2.py")]
    assert mutate.run_in_process(Path("toy2/mod.py"), tests, None) == 1000
    out = capsys.readouterr().out
    assert "killed 1 of 1 mutants, score 100% (3 more declared equivalent" in out
    assert "25% counting them as survivors" in out
    assert mutate.run_in_process(Path("toy2/mod.py"), tests, None, check_equivalent=True) == 1000
    out = capsys.readouterr().out
    assert "killed, yet declared equivalent  toy2/mod.py:2  10.0 -> 11.0" in out
    assert "killed, yet declared equivalent  toy2/mod.py:2  Add -> Sub" in out
    assert "Lt -> LtE" not in out


def test_no_tight_relative_approx_without_an_absolute_tolerance():
    # pytest.approx(x, rel=r) also accepts anything within its default abs=1e-12, so
    # approx(p, rel=1e-9) passes any p below 1e-12: a tight relative check says abs= too.
    import ast

    loose = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "approx":
                given = {k.arg: k.value for k in node.keywords}
                rel = given.get("rel")
                tight = isinstance(rel, ast.Constant) and rel.value <= 1e-6
                if tight and "abs" not in given:
                    loose.append(f"{path.name}:{node.lineno}")
    assert not loose, loose
