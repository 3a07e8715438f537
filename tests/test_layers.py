"""The import graph of ``qkit/`` shows the data flow: no cycle, and no module imports from a
layer above its own. Every import counts: module level, inside functions (lazy imports), and
under ``TYPE_CHECKING``.

Layers, lowest first (a module may import from its own layer and those below):

0. **base**: primitive checks, states, estimators, noise, store, backends, sampling,
   mitigation, the device noise model, coupler packing, results;
1. **physics**: each paper's theory, circuits and optics;
2. **options**: :class:`qkit.options.RunOptions` (consults the backends' capabilities);
3. **definition**: :mod:`qkit.experiment` (what an experiment is);
4. **pair predictions**: the survey's circuits, noise-model predictions, stored surveys and
   the layout rule (what ``layout="best"`` means for a paper's pair);
5. **experiments**: the papers' definitions (``mixup.experiment``, ...);
6. **execution**: :mod:`qkit.engines` and :mod:`qkit.provenance`;
7. **runner**: the store and durable jobs around one point;
8. **drivers**: sweep, survey, reproduce, replay, export, figures;
9. **interfaces**: the command line and the package's lazy namespace.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "qkit"

LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (9, ("qkit", "qkit.cli")),
    (8, ("qkit.sweep", "qkit.survey.survey", "qkit.survey", "qkit.reproduce", "qkit.replay",
         "qkit.export", "qkit.figures")),
    (7, ("qkit.runner",)),
    (6, ("qkit.engines", "qkit.provenance")),
    (5, ("qkit.mixup.experiment", "qkit.channel.experiment", "qkit.distill.experiment",
         "qkit.mixup", "qkit.channel", "qkit.distill")),
    (4, ("qkit.survey.circuits", "qkit.survey.predict", "qkit.survey.store",
         "qkit.survey.layout")),
    (3, ("qkit.experiment",)),
    (2, ("qkit.options",)),
    (1, ("qkit.mixup.theory", "qkit.mixup.circuits", "qkit.channel.theory",
         "qkit.channel.circuits", "qkit.channel.optics", "qkit.distill.theory",
         "qkit.distill.circuits")),
    (0, ("qkit._checks", "qkit._states", "qkit._validate", "qkit._lazy", "qkit.result",
         "qkit.measures", "qkit.estimators", "qkit.noise", "qkit.store", "qkit.backends",
         "qkit.sampling", "qkit.mitigation", "qkit.device_model", "qkit.survey.packing")),
]  # fmt: skip

ALLOWED = {
    # The Python API's two entry points on the definition (README: ``experiment.run(...)``):
    # a call-time import of the runner, which the definition itself never uses.
    ("qkit.experiment", "qkit.runner"),
    # The detached worker process's entry point (``python -m qkit.backends._detached``) builds
    # its backend by name; the backends spawn it. Left to the owners of the backends.
    ("qkit.backends._detached", "qkit.backends"),
}


def layer(module: str) -> int:
    """The layer of ``module``: the most specific (longest) matching prefix."""
    best = (-1, -1)
    for level, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), level)
    assert best[1] >= 0, f"{module} has no layer: add it to LAYERS"
    return best[1]


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every qkit module ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


@functools.cache
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def test_no_module_imports_from_a_layer_above():
    upward = sorted(
        f"{a} ({layer(a)}) imports {b} ({layer(b)})"
        for a, targets in graph().items()
        for b in targets
        if layer(b) > layer(a) and (a, b) not in ALLOWED
    )
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    """Depth-first search for a back edge: a cycle of imports among qkit's modules."""
    edges = {a: targets - {b for x, b in ALLOWED if x == a} for a, targets in graph().items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("name", ["qkit.runner", "qkit.engines"])
def test_the_generic_road_does_not_load_a_paper(name):
    """The runner and the execution layer import no paper and no survey prediction."""
    for target in graph()[name]:
        assert not target.startswith(("qkit.survey", "qkit.mixup", "qkit.channel")), target
