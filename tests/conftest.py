"""Shared fixtures: random states with numpy generators (seeded)."""

from __future__ import annotations

import numpy as np
import pytest


def random_density_matrix(rng: np.random.Generator, dim: int = 4, rank: int | None = None) -> np.ndarray:
    """A random density matrix (Ginibre ensemble of the given rank)."""
    rank = rank or dim
    g = rng.normal(size=(dim, rank)) + 1j * rng.normal(size=(dim, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)
