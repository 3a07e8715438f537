"""The tutorials in ``notebooks/`` run top to bottom and cell by cell, plot, warn about nothing,
use only public API and store no outputs.

Each notebook is executed by nbclient in a kernel that runs *this* interpreter: the test writes
its own kernel spec into a temporary ``JUPYTER_PATH``, so a fresh virtualenv needs nothing
registered by hand. Executing all four, each cell twice, takes ~2-3 min.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "qkit-test-python"


def _repo_notebooks() -> list[Path]:
    # docs/_build holds executed copies, docs/notebooks the copies the docs build makes
    skip = {".venv", ".git", ".ipynb_checkpoints", "node_modules", "_build"}
    return [
        p
        for p in REPO.rglob("*.ipynb")
        if not skip & set(p.relative_to(REPO).parts) and p.parent != REPO / "docs" / "notebooks"
    ]


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernel spec for this interpreter, found through ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "qkit tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return root


def test_the_tutorials_exist():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 6, names
    for topic in ("mixup", "chsh", "channel", "device", "your_own_experiment", "distillation"):
        assert any(topic in n for n in names), topic


@pytest.mark.parametrize("path", _repo_notebooks(), ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has stored outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_only_public_qkit_api(path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    private = re.findall(r"qkit(?:\.\w+)*\._\w+|from qkit[\w.]* import [^\n]*\b_\w+", code)
    assert not private, private
    # cloud access is shown, never executed: no credentials or cloud backends in live code
    live = [line for line in code.splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"ibm:|braket:|save_account|token", line) for line in live)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_compiles_without_warnings(path):
    """No SyntaxWarning (invalid escape sequences warn on Python >= 3.12, fail later)."""
    from IPython.core.inputtransformer2 import TransformerManager

    nb = nbformat.read(path, as_version=4)
    transform = TransformerManager().transform_cell  # %magics -> Python, as IPython runs them
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(transform(cell.source), f"{path.name} cell {index}", "exec")


def _warnings_and_errors(cell) -> list[str]:
    found = []
    for out in cell.outputs:
        if out.output_type == "error":
            found.append(f"{out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            found += [ln for ln in out.text.splitlines() if re.search(r"\w*Warning\b", ln)]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_then_any_cell_again(path, kernel_dir, tmp_path, monkeypatch):
    """Run as a reader would: top to bottom, then every code cell once more, last to first, in
    the same kernel (a reader re-running a cell after the whole notebook must not meet a
    variable a later cell rebound), with no error and no warning in any output."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(tmp_path)}},  # anything written lands here
    )
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    problems = []
    with client.setup_kernel():
        client.reset_execution_trackers()
        for index, cell in code:  # raises CellExecutionError, naming the cell, on an error
            client.execute_cell(cell, index)
            problems += [f"cell {index}: {w}" for w in _warnings_and_errors(cell)]
        images = [
            out for _, cell in code for out in cell.outputs if "image/png" in out.get("data", {})
        ]
        assert images, f"{path.name} drew no figure"
        for index, cell in reversed(code):  # each cell meets the end state of a full run
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                last = re.sub(r"\x1b\[[0-9;]*m", "", str(exc).splitlines()[-1])  # no colours
                problems.append(f"re-running cell {index}: {last}")
                continue
            problems += [f"re-running cell {index}: {w}" for w in _warnings_and_errors(cell)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
