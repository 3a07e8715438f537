"""The noise description: a classical mixture of unitaries on a labelled site, and its builders.

:class:`MixedUnitary` is the one description every realization derives from (see
:mod:`qkit.noise`). The builders give the mixtures of the two papers: the mix-up of paper A
(:func:`swap_mixture`), and the correlated rotation and slot-2 depolarization of paper B
(:func:`correlated_rotation_mixture`, :func:`depolarizing_mixture`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from qiskit_aer.noise import QuantumError, mixed_unitary_error

from qkit._validate import check_eta, check_range
from qkit.noise.sites import ATOL, DEPOLARIZATION, MIXUP, ROTATION, NoiseSite, noise_site
from qkit.noise.unitaries import PAULIS, SWAP, clifford_group


@dataclass(frozen=True, eq=False)
class MixedUnitary:
    """A classical mixture ``rho -> sum_k w_k U_k rho U_k^dag`` attached to a label.

    Parameters
    ----------
    label : str
        The label of the :func:`~qkit.noise.noise_site` it acts on.
    unitaries : array_like
        Shape (k, d, d), ``d = 2**n``, Qiskit order on the site's qubits. The list is fixed;
        only the weights depend on physical parameters, so branch circuits never change.
    weights : array_like
        Shape (k,), non-negative, summing to 1.
    factors : array_like, optional
        Shape (k, n, 2, 2): single-qubit factors,
        ``U_k = factors[k, n-1] ⊗ ... ⊗ factors[k, 0]``,
        for mixtures of product unitaries (enables :func:`~qkit.noise.parametrize_sites`).
    """

    label: str
    unitaries: np.ndarray
    weights: np.ndarray
    factors: np.ndarray | None = None

    def __post_init__(self) -> None:
        u = np.asarray(self.unitaries, dtype=complex)
        w = np.asarray(self.weights, dtype=float)
        if (
            u.ndim != 3
            or u.shape[1] != u.shape[2]
            or u.shape[1] < 2
            or u.shape[1] & (u.shape[1] - 1)
        ):
            raise ValueError(f"unitaries must have shape (k, 2^n, 2^n), got {u.shape}")
        eye = np.eye(u.shape[1])
        if not np.allclose(np.conj(np.swapaxes(u, 1, 2)) @ u, eye, atol=ATOL):
            raise ValueError("unitaries must be unitary")
        if w.shape != (u.shape[0],):
            raise ValueError(f"weights must have shape ({u.shape[0]},), got {w.shape}")
        if np.any(w < -ATOL) or not np.isclose(w.sum(), 1.0, atol=1e-9):
            raise ValueError("weights must be non-negative and sum to 1")
        object.__setattr__(self, "unitaries", u)
        object.__setattr__(self, "weights", np.clip(w, 0.0, None))
        if self.factors is not None:
            f = np.asarray(self.factors, dtype=complex)
            if f.shape != (u.shape[0], self.num_qubits, 2, 2):
                raise ValueError(f"factors must have shape {(u.shape[0], self.num_qubits, 2, 2)}")
            if not np.allclose(kron_factors(f), u, atol=ATOL):
                raise ValueError("factors do not multiply to the unitaries")
            object.__setattr__(self, "factors", f)

    @property
    def num_qubits(self) -> int:
        return int(self.unitaries.shape[1]).bit_length() - 1

    def site(self) -> NoiseSite:
        """The placeholder instruction this mixture attaches to."""
        return noise_site(self.label, self.num_qubits)

    def quantum_error(self) -> QuantumError:
        """The Aer mixed-unitary error (zero-weight terms dropped)."""
        keep = self.weights > 0
        return mixed_unitary_error(list(zip(self.unitaries[keep], self.weights[keep], strict=True)))

    def apply(self, rho: ArrayLike) -> np.ndarray:
        """The channel on a density matrix of the site's qubits (same order as the unitaries)."""
        rho = np.asarray(rho, dtype=complex)
        return np.einsum(
            "k,kab,bc,kdc->ad", self.weights, self.unitaries, rho, self.unitaries.conj()
        )


def kron_factors(factors: np.ndarray) -> np.ndarray:
    """``factors[:, n-1] ⊗ ... ⊗ factors[:, 0]`` for each term, shape (k, 2^n, 2^n)."""
    out = factors[:, 0]
    for j in range(1, factors.shape[1]):
        out = np.einsum("kab,kcd->kacbd", factors[:, j], out).reshape(
            factors.shape[0], 2 * out.shape[1], 2 * out.shape[2]
        )
    return out


def swap_mixture(success: float, label: str = MIXUP) -> MixedUnitary:
    """Mix-up of paper A (Eq. 2.1): identity with probability ``S``, SWAP with ``1 - S``.

    On (B1, B2) of two independent pairs it leaves (A1, B1) in ``M[rho]``.

    >>> swap_mixture(0.75).weights.tolist()
    [0.75, 0.25]
    """
    s = float(check_range("success", success, 0.0, 1.0))
    return MixedUnitary(label, np.stack([np.eye(4), SWAP]), np.array([s, 1.0 - s]))


def correlated_rotation_mixture(label: str = ROTATION) -> MixedUnitary:
    """Paper B's correlated rotation: ``C ⊗ C`` over the 24 Cliffords, uniform (exact Haar twirl).

    >>> correlated_rotation_mixture().weights.sum().round(12)
    np.float64(1.0)
    """
    c = clifford_group()
    factors = np.stack([c, c], axis=1)
    return MixedUnitary(label, kron_factors(factors), np.full(24, 1.0 / 24.0), factors)


def depolarizing_mixture(eta: float, label: str = DEPOLARIZATION) -> MixedUnitary:
    """Partial depolarization, Bloch shrink ``eta``: I w.p. ``(1+3eta)/4``, X, Y, Z ``(1-eta)/4``.

    ``rho -> eta rho + (1 - eta) I/2`` (paper B, slot 2).

    >>> (depolarizing_mixture(0.6).weights * 10).round(12).tolist()
    [7.0, 1.0, 1.0, 1.0]
    """
    e = float(check_eta(eta))
    w = np.array([1 + 3 * e, 1 - e, 1 - e, 1 - e]) / 4.0
    return MixedUnitary(label, PAULIS, w, PAULIS[:, None])
