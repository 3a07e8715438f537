"""The unitaries the mixtures are made of: Paulis, SWAP, the Clifford group and Haar draws.

The 24 single-qubit Cliffords are a unitary 2-design, so the uniform mixture of ``C ⊗ C`` is
the exact Haar ``U ⊗ U`` twirl of paper B; :func:`haar_unitaries` draws the Haar ensemble it
replaces (for Monte Carlo checks and the Haar-sampled realization). :func:`euler_angles` gives
the ``U(theta, phi, lam)`` angles that bind a single-qubit unitary to a parametrized gate.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from qiskit.synthesis import OneQubitEulerDecomposer

IDENTITY = np.eye(2, dtype=complex)
PAULIS = np.array(
    [np.eye(2), [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex
)
"""I, X, Y, Z stacked on the first axis."""
SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)


@lru_cache(maxsize=1)
def _clifford_group() -> np.ndarray:
    gens = (np.array([[1, 1], [1, -1]]) / np.sqrt(2.0), np.diag([1.0, 1j]))

    def key(u: np.ndarray) -> tuple:
        pivot = u.flat[int(np.argmax(np.abs(u.ravel()) > 1e-9))]
        return tuple(np.round((u * abs(pivot) / pivot).ravel(), 8))

    found = {key(IDENTITY): IDENTITY}
    frontier = [IDENTITY]
    while frontier:
        fresh = []
        for u in frontier:
            for g in gens:
                v = g @ u
                if key(v) not in found:
                    found[key(v)] = v
                    fresh.append(v)
        frontier = fresh
    group = np.array(list(found.values()))
    group.setflags(write=False)
    return group


def clifford_group() -> np.ndarray:
    """The 24 single-qubit Clifford unitaries modulo phase, shape (24, 2, 2), identity first.

    A unitary 2-design: averaging ``C ⊗ C`` over them equals the Haar ``U ⊗ U`` twirl.

    >>> clifford_group().shape
    (24, 2, 2)
    """
    return _clifford_group().copy()


def haar_unitaries(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` Haar-random U(2) matrices, (count, 2, 2), drawn from ``rng``.

    ``scipy.stats.unitary_group`` (Mezzadri's QR of Ginibre matrices): the same generator
    state gives the same draws.
    """
    from scipy.stats import unitary_group  # ~0.3 s to import: only when drawing

    count = int(count)
    if count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count}")
    if count == 0:
        return np.empty((0, 2, 2), dtype=complex)
    return unitary_group.rvs(2, size=count, random_state=rng).reshape(count, 2, 2)


def euler_angles(unitaries: ArrayLike) -> np.ndarray:
    """``(theta, phi, lam)`` with ``U(theta, phi, lam) = u`` up to phase, shape (..., 3)."""
    u = np.asarray(unitaries, dtype=complex)
    decomposer = OneQubitEulerDecomposer("U")
    angles = np.array([decomposer.angles(m) for m in u.reshape(-1, 2, 2)], dtype=float)
    angles[:, 1:] = np.angle(np.exp(1j * angles[:, 1:]))  # phi, lam into (-pi, pi]
    return angles.reshape(*u.shape[:-2], 3)
