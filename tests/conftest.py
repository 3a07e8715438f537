"""Shared fixtures: random states with numpy generators (seeded), and the sandbox.

The sandbox keeps the whole suite out of the user's data: before anything is collected the
session moves ``HOME``, the XDG folders, matplotlib's, Jupyter's and IPython's folders, the
results store and the jobs folder into one temporary folder (inherited by xdist workers,
notebook kernels and every subprocess), and every test then gets its own store, jobs folder and
working directory (commands that write default folders such as ``qkit-results/`` write there).
``tests/test_isolation.py`` checks it: a user store present before a run is byte-identical after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

SANDBOX_VAR = "QKIT_TEST_SANDBOX"  # set once per session; xdist workers inherit it

# Hypothesis: the same examples on every run (a failure in CI is the failure you get at home)
# and no example database in the working tree. `QKIT_HYPOTHESIS=explore` draws new examples
# on every run, to look for bugs by hand; a failure it finds becomes an @example.
settings.register_profile("qkit", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("QKIT_HYPOTHESIS", "qkit"))


def sandbox_environment(base: Path) -> dict[str, str]:
    """The variables that point every per-user folder into ``base``."""
    home = base / "home"
    return {
        SANDBOX_VAR: str(base),
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".local" / "share" / "jupyter" / "runtime"),
        "IPYTHONDIR": str(home / ".ipython"),
        "QKIT_STORE": str(base / "session-store.sqlite"),
        "QKIT_JOBS_DIR": str(base / "session-jobs"),
        "QKIT_CACHE_DIR": str(base / "session-device-cache"),
        # Hypothesis keeps its Unicode tables under ./.hypothesis unless told otherwise
        "HYPOTHESIS_STORAGE_DIRECTORY": str(base / "hypothesis"),
    }


def pytest_configure(config):
    """Point every per-user folder into a temporary folder, once per session, before any test
    module (or constant computed at import) reads the environment."""
    config.pluginmanager.register(_PerTest(), "qkit-per-test-sandbox")
    if os.environ.get(SANDBOX_VAR):  # an xdist worker: the controller made it
        return
    base = Path(tempfile.mkdtemp(prefix="qkit-tests-"))
    env = sandbox_environment(base)
    for name in ("HOME", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    config._qkit_sandbox = base


def pytest_unconfigure(config):
    base = getattr(config, "_qkit_sandbox", None)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)


class _PerTest:
    """Registered as a plugin, so it also covers the doctests under ``qkit/``."""

    @pytest.fixture(autouse=True)
    def _qkit_own_store_jobs_and_cwd(self, tmp_path_factory, monkeypatch):
        own = tmp_path_factory.mktemp("sandbox")
        monkeypatch.setenv("QKIT_STORE", str(own / "store.sqlite"))
        monkeypatch.setenv("QKIT_JOBS_DIR", str(own / "jobs"))
        monkeypatch.chdir(own)


def random_density_matrix(
    rng: np.random.Generator, dim: int = 4, rank: int | None = None
) -> np.ndarray:
    """A random density matrix (Ginibre ensemble of the given rank)."""
    rank = rank or dim
    g = rng.normal(size=(dim, rank)) + 1j * rng.normal(size=(dim, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def aer_probabilities(circuit, mixtures) -> np.ndarray:
    """Exact outcome probabilities (Qiskit clbit integer order) on Aer's density-matrix method.

    Final measurements become one save_probabilities over the measured qubits in clbit order.
    """
    from qiskit_aer import AerSimulator

    from qkit import noise

    measured = {
        circuit.find_bit(i.clbits[0]).index: i.qubits[0]
        for i in circuit.data
        if i.operation.name == "measure"
    }
    qc = circuit.remove_final_measurements(inplace=False)
    qc.save_probabilities([measured[k] for k in range(len(measured))])
    sim = AerSimulator(method="density_matrix", noise_model=noise.noise_model(mixtures))
    return np.asarray(sim.run(qc).result().data()["probabilities"])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)
