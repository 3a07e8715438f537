"""Mutation testing of qkit's statistics: do the tests notice a wrong number?

A small AST mutator (no dependency): for every comparison, arithmetic operator and numeric
constant of the chosen functions of one module it makes one mutant (``<`` <-> ``<=``, ``>`` <->
``>=``, ``==`` <-> ``!=``, ``+`` <-> ``-``, ``*`` <-> ``/``, ``**`` -> ``*``, an integer ``k`` ->
``k + 1``, a float ``x`` -> ``1.1 x`` (``0.0`` -> ``0.1``), unary ``-x`` -> ``x``), writes it
into a temporary copy of the ``qkit`` package and runs the given tests against that copy. A
mutant is *killed* when the tests fail (or time out), *survives* when they pass. Docstrings,
string constants and lines marked ``# no mutate`` are left alone.

An *equivalent* mutant (one that computes the same numbers, e.g. ``<`` -> ``<=`` where the two
sides are never equal, or a bisection bracket made wider) is declared on its line with
``# equivalent[DESCRIPTION; DESCRIPTION #K]`` (the description as printed, ``#K`` the K-th
mutant of that description on the line, in the order they are made, when there are several),
with the reason next to it, or on a comment line of its own just above the line it declares.
Declared mutants are not run and not counted (the usual score: killed / non-equivalent
mutants); the score line says how many there were and the score counting them.
``--check-equivalent`` runs them too and names any that the tests kill (a wrong declaration).

Usage (from the repository root)::

    python tools/mutate.py qkit/estimators/correlators.py -- tests/test_estimators.py -k chsh
    python tools/mutate.py qkit/estimators/tomography.py --functions state_tomography \\
        _x_part_witness -- tests/test_estimators.py

Prints one line per surviving mutant and the score ``killed / total``; exit status 1 when the
score is below ``--min-score`` (default 0).

Scores: ``tools/MUTATION.md`` lists each module's score, the command that measured it and why
its survivors stay.

``--in-process`` runs every mutant in this one Python process (100x faster on a busy
machine): the mutated module is compiled and its functions' code objects and its constants
are swapped into the imported module, so every reference to them sees the mutant, then
``pytest.main`` runs the tests. Constants other modules copied at import are not swapped
(their mutants can only survive, so the score is if anything low).
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_EQUIVALENT = re.compile(r"#\s*equivalent\[([^\]]*)\]")

_SWAP_CMP: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_SWAP_BIN: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    index: int  # position of the node in the module's walk order
    line: int
    description: str
    equivalent: bool = False  # declared with ``# equivalent[...]`` on its line


def _docstring_ids(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def _annotation_ids(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        anns = []
        if isinstance(node, ast.arg) and node.annotation is not None:
            anns.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            anns.append(node.returns)
        if isinstance(node, ast.AnnAssign):
            anns.append(node.annotation)
        for ann in anns:
            out.update(id(sub) for sub in ast.walk(ann))
    return out


def _scope_ids(tree: ast.Module, functions: list[str] | None) -> set[int] | None:
    """Ids of the nodes inside the named top-level functions (None: the whole module)."""
    if not functions:
        return None
    out: set[int] = set()
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            found.add(node.name)
            out.update(id(sub) for sub in ast.walk(node))
    missing = set(functions) - found
    if missing:
        raise SystemExit(f"mutate: no top-level function {', '.join(sorted(missing))}")
    return out


def _mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(description, replacement node) for each mutation of ``node``."""
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in _SWAP_CMP:
                new = copy.deepcopy(node)
                new.ops[k] = _SWAP_CMP[type(op)]()
                yield f"{type(op).__name__} -> {type(new.ops[k]).__name__}", new
    elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _SWAP_BIN:
        new = copy.deepcopy(node)
        new.op = _SWAP_BIN[type(node.op)]()
        yield f"{type(node.op).__name__} -> {type(new.op).__name__}", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "-x -> x", node.operand
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        if isinstance(value, int):
            changed: float = value + 1
            shown = repr(changed)
        else:
            changed = 0.1 if value == 0.0 else value * 1.1
            shown = repr(float(f"{changed:.12g}"))  # 1.1e-12, not 1.1000000000000002e-12
        yield f"{value!r} -> {shown}", ast.Constant(changed)


def _candidates(tree: ast.Module, functions: list[str] | None) -> list[tuple[int, ast.AST]]:
    skip = _docstring_ids(tree) | _annotation_ids(tree)
    scope = _scope_ids(tree, functions)
    nodes = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or (scope is not None and id(node) not in scope):
            continue
        nodes.append((index, node))
    return nodes


class _Replace(ast.NodeTransformer):
    def __init__(self, target_index: int, replacement: ast.AST, order: dict[int, int]):
        self.target_index = target_index
        self.replacement = replacement
        self.order = order

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if self.order.get(id(node)) == self.target_index:
            return ast.copy_location(self.replacement, node)
        return super().generic_visit(node)


def _declared(lines: list[str], line: int) -> set[str]:
    """The mutants declared equivalent on line ``line`` (1-based) or on a comment line just
    above it: ``{"Lt -> LtE", "Add -> Sub #2", ...}``."""
    texts = [lines[line - 1]]
    if line >= 2 and lines[line - 2].lstrip().startswith("#"):
        texts.append(lines[line - 2])
    out = set()
    for text in texts:
        found = _EQUIVALENT.search(text)
        if found:
            out |= {" ".join(item.split()) for item in found.group(1).split(";") if item.strip()}
    return out


def mutants(source: str, functions: list[str] | None = None) -> Iterator[tuple[Mutant, str]]:
    """Every single-point mutant of ``source`` as ``(Mutant, mutated source)``."""
    lines = source.splitlines()
    tree = ast.parse(source)
    seen: dict[tuple[int, str], int] = {}  # mutants of one description on one line so far
    for index, node in _candidates(tree, functions):
        line = getattr(node, "lineno", 0)
        if line and "# no mutate" in lines[line - 1]:
            continue
        declared = _declared(lines, line) if line else set()
        for description, replacement in _mutations(node):
            k = seen[line, description] = seen.get((line, description), 0) + 1
            equivalent = description in declared or f"{description} #{k}" in declared
            fresh = ast.parse(source)
            order = {id(n): i for i, n in enumerate(ast.walk(fresh))}
            mutated = _Replace(index, replacement, order).visit(fresh)
            ast.fix_missing_locations(mutated)
            yield Mutant(index, line, description, equivalent), ast.unparse(mutated)


class _Tally:
    """Killed / total over the non-equivalent mutants; the declared ones counted apart."""

    def __init__(self, module: Path, check_equivalent: bool):
        self.module, self.check = module, check_equivalent
        self.killed = self.total = self.equivalent = 0

    def skip(self, mutant: Mutant) -> bool:
        """Whether to skip running ``mutant`` (declared equivalent and not being checked)."""
        if mutant.equivalent:
            self.equivalent += 1
        return mutant.equivalent and not self.check

    def record(self, mutant: Mutant, survived: bool) -> None:
        where = f"{self.module}:{mutant.line}  {mutant.description}"
        if mutant.equivalent:
            if not survived:
                print(f"killed, yet declared equivalent  {where}", flush=True)
            return
        self.total += 1
        if survived:
            print(f"survived  {where}", flush=True)
        else:
            self.killed += 1

    def report(self) -> int:
        """Print the score line; the score in permille."""
        score = self.killed / self.total if self.total else 1.0
        text = f"{self.module}: killed {self.killed} of {self.total} mutants, score {score:.0%}"
        if self.equivalent:
            raw = self.killed / (self.total + self.equivalent)
            text += (
                f" ({self.equivalent} more declared equivalent, not counted;"
                f" {raw:.0%} counting them as survivors)"
            )
        print(text, flush=True)
        return int(round(1000 * score))


def run(
    module: Path,
    tests: list[str],
    functions: list[str] | None,
    timeout: float,
    check_equivalent: bool = False,
) -> int:
    root = Path.cwd()
    source = module.read_text()
    baseline = _pytest(root, root, tests, timeout)
    if baseline != "passed":
        raise SystemExit(f"mutate: the tests do not pass on the unmutated code ({baseline})")
    tally = _Tally(module, check_equivalent)
    with tempfile.TemporaryDirectory() as tmp:
        # The tests run in the copy: ``python -m pytest`` puts its working directory first on
        # sys.path, so running them in the repository would import the unmutated package.
        skip = shutil.ignore_patterns("*.pyc", "__pycache__")
        for folder in ("qkit", "tests"):
            shutil.copytree(root / folder, Path(tmp) / folder, ignore=skip)
        shutil.copy(root / "pyproject.toml", Path(tmp) / "pyproject.toml")
        target = Path(tmp) / module
        for mutant, text in mutants(source, functions):
            if tally.skip(mutant):
                continue
            target.write_text(text)
            tally.record(mutant, _pytest(Path(tmp), Path(tmp), tests, timeout) == "passed")
        target.write_text(source)
    return tally.report()


def run_in_process(
    module: Path, tests: list[str], functions: list[str] | None, check_equivalent: bool = False
) -> int:
    """As :func:`run`, swapping each mutant into the imported module (see the docstring)."""
    import importlib
    import types

    import pytest

    name = ".".join(module.with_suffix("").parts)
    target = importlib.import_module(name)
    source = module.read_text()
    original = dict(vars(target))
    # Cached functions (functools.cache) are swapped through their __wrapped__ function, and
    # their caches cleared before and after every mutant.
    cached = {k: v for k, v in original.items() if hasattr(v, "cache_clear")}
    functions_ = {k: v for k, v in original.items() if isinstance(v, types.FunctionType)}
    functions_ |= {k: v.__wrapped__ for k, v in cached.items()}
    codes = {k: (v.__code__, v.__defaults__, v.__kwdefaults__) for k, v in functions_.items()}
    args = ["-x", "-q", "-p", "no:cacheprovider", "-n", "0", "--no-header", "-W", "ignore"]

    def passes() -> bool:
        with open(os.devnull, "w") as sink:
            old = sys.stdout
            sys.stdout = sink
            try:
                return pytest.main([*args, *tests]) == 0
            finally:
                sys.stdout = old

    if not passes():
        raise SystemExit("mutate: the tests do not pass on the unmutated code")
    tally = _Tally(module, check_equivalent)
    for mutant, text in mutants(source, functions):
        if tally.skip(mutant):
            continue
        scope: dict = {"__name__": name, "__file__": str(module)}
        try:
            exec(compile(text, str(module), "exec"), scope)
        except Exception:
            tally.record(mutant, survived=False)  # the mutant does not even import
            continue
        for key, value in scope.items():
            value = getattr(value, "__wrapped__", value)
            if key in codes and isinstance(value, types.FunctionType):
                functions_[key].__code__ = value.__code__
                functions_[key].__defaults__ = value.__defaults__
                functions_[key].__kwdefaults__ = value.__kwdefaults__
            elif key in original and not isinstance(value, type | types.ModuleType):
                if not callable(value):
                    setattr(target, key, value)
        for wrapper in cached.values():
            wrapper.cache_clear()
        try:
            survived = passes()
        finally:
            for key, (code, defaults, kwdefaults) in codes.items():
                functions_[key].__code__ = code
                functions_[key].__defaults__ = defaults
                functions_[key].__kwdefaults__ = kwdefaults
            for wrapper in cached.values():
                wrapper.cache_clear()
            for key, value in original.items():
                setattr(target, key, value)
        tally.record(mutant, survived)
    return tally.report()


def _pytest(package_root: Path, root: Path, tests: list[str], timeout: float) -> str:
    """Run the tests in ``root`` importing qkit from ``package_root``: passed, failed, timeout."""
    env = dict(os.environ, PYTHONPATH=str(package_root), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0"]
    try:
        done = subprocess.run(
            [*cmd, *tests], cwd=root, env=env, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "passed" if done.returncode == 0 else "failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", type=Path, help="file to mutate, e.g. qkit/estimators/x.py")
    parser.add_argument("--functions", nargs="*", help="mutate only these top-level functions")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test run")
    parser.add_argument("--min-score", type=float, default=0.0, help="fail below this score")
    parser.add_argument(
        "--in-process", action="store_true", help="swap mutants into one process (fast)"
    )
    parser.add_argument(
        "--check-equivalent",
        action="store_true",
        help="run the mutants declared equivalent too and name any the tests kill",
    )
    parser.add_argument("tests", nargs="+", help="pytest arguments after --")
    args = parser.parse_args(argv)
    if not args.module.is_file() or args.module.is_absolute():
        parser.error(f"module must be a file path relative to the repository root: {args.module}")
    if args.in_process:
        score = run_in_process(args.module, args.tests, args.functions, args.check_equivalent)
    else:
        score = run(args.module, args.tests, args.functions, args.timeout, args.check_equivalent)
    score /= 1000
    return 0 if score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
