"""Shared fixtures: random states with numpy generators (seeded)."""

from __future__ import annotations

import numpy as np
import pytest


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


@pytest.fixture(scope="session", autouse=True)
def _device_cache_in_a_temporary_folder(tmp_path_factory):
    """Runs on devices keep layouts, transpilations and calibrations in ``$QKIT_CACHE_DIR``
    (:mod:`qkit.backends._cache`): the suite's go to a folder of its own, never the user's."""
    import os

    folder = tmp_path_factory.mktemp("qkit-cache")
    previous = os.environ.get("QKIT_CACHE_DIR")
    os.environ["QKIT_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("QKIT_CACHE_DIR", None)
    else:
        os.environ["QKIT_CACHE_DIR"] = previous
