"""The test suite stays out of the user's data (the sandbox of ``tests/conftest.py``).

A child pytest runs a probe that writes through every default a test could reach (the results
store and jobs folder from the environment, ``qkit run`` in-process and as a subprocess, the
working directory, matplotlib's cache) with ``HOME`` pointed at a prepared folder that holds a
user's results store, jobs folder and caches; afterwards that folder is byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qkit.cli import main

REPO = Path(__file__).resolve().parents[1]
PROBE_VAR = "QKIT_ISOLATION_PROBE"
RUN = ["run", "mixup", "--success", "0.9", "--amplitude", "0.7", "--shots", "50", "--seed", "1"]


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.skipif(not os.environ.get(PROBE_VAR), reason="run by the isolation test only")
def test_probe_writes_through_every_default(capsys):
    """Write where a careless test would; everything must land in temporary folders."""
    home = Path(os.environ[PROBE_VAR])
    assert Path.home() != home, "HOME still points at the user's folder"
    assert main(RUN) == 0  # the default store, in-process
    subprocess.run([sys.executable, "-m", "qkit.cli", *RUN], check=True, capture_output=True)
    from qkit.store import ResultsStore, default_store_path

    assert not default_store_path().is_relative_to(home)
    assert len(ResultsStore(default_store_path()).list_runs()) == 2
    assert not Path.cwd().is_relative_to(REPO) and not Path.cwd().is_relative_to(home)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure()
    plt.savefig("figure.png")
    assert not Path(matplotlib.get_cachedir()).is_relative_to(home)


@pytest.mark.slow
def test_a_user_store_present_before_the_suite_is_byte_identical_after(tmp_path):
    home = tmp_path / "home"
    user_store = home / ".local" / "share" / "qkit" / "results.sqlite"
    user_store.parent.mkdir(parents=True)
    assert main([*RUN, "--store", str(user_store)]) == 0  # a user's store with one run
    (home / ".local" / "share" / "qkit" / "jobs").mkdir()
    (home / ".local" / "share" / "qkit" / "jobs" / "keep.json").write_text("{}")
    for cache in (".cache/matplotlib", ".config/matplotlib", ".jupyter", ".ipython"):
        (home / cache).mkdir(parents=True)
        (home / cache / "keep").write_text("user's")
    before = _snapshot(home)

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "JUPYTER", "QKIT_", "MPLCONFIG", "IPYTHON"))
    }
    env |= {"HOME": str(home), PROBE_VAR: str(home), "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
        + [f"{Path(__file__).relative_to(REPO)}::test_probe_writes_through_every_default"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0 and "1 passed" in child.stdout, child.stdout + child.stderr
    assert _snapshot(home) == before
