"""The tutorials in ``notebooks/`` run top to bottom, plot, use only public API, store no outputs.

Each notebook is executed by nbclient in a kernel that runs *this* interpreter: the test writes
its own kernel spec into a temporary ``JUPYTER_PATH``, so a fresh virtualenv needs nothing
registered by hand. Executing all four takes ~1-1.5 min (the fake-device one ~30-40 s).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "qkit-test-python"


def _repo_notebooks() -> list[Path]:
    skip = {".venv", ".git", ".ipynb_checkpoints", "node_modules"}
    return [p for p in REPO.rglob("*.ipynb") if not skip & set(p.relative_to(REPO).parts)]


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
    assert len(names) == 6, names
    for topic in ("mixup", "chsh", "channel", "device", "own_experiment", "distillation"):
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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_plots(path, kernel_dir, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(tmp_path)}},  # anything written lands here
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]
    assert images, f"{path.name} drew no figure"
