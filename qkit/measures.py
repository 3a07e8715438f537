"""State measures shared by both papers, vectorized over leading axes.

Conventions: bits everywhere; two-qubit states are ``(..., 4, 4)`` arrays in the
basis ``|00>, |01>, |10>, |11>`` with the *left* qubit the first tensor factor
(the opposite of Qiskit's little-endian labels; convert with :func:`from_qiskit_order`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

PAULI = np.array(
    [[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=complex,
)
"""The Pauli matrices X, Y, Z stacked on the first axis."""

_SIGMA_YY = np.kron(PAULI[1], PAULI[1])


def binary_entropy(x: ArrayLike) -> np.ndarray:
    """Binary entropy ``h(x) = -x log2 x - (1-x) log2(1-x)`` with ``h(0) = h(1) = 0``.

    >>> float(binary_entropy(0.5))
    1.0
    """
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    small = np.minimum(x, 1.0 - x)  # h is symmetric; log1p keeps all digits for tiny x
    return _xlog2x_neg(small) - (1.0 - small) * np.log1p(-small) / np.log(2.0)


def _xlog2x_neg(x: np.ndarray) -> np.ndarray:
    """``-x log2 x`` with the limit 0 at x = 0."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, -x * np.log2(safe), 0.0)


def shannon_entropy(probabilities: ArrayLike, axis: int = -1) -> np.ndarray:
    """Shannon entropy in bits of distributions along ``axis``.

    >>> float(shannon_entropy([0.25, 0.25, 0.5]))
    1.5
    """
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, None)
    return np.sum(_xlog2x_neg(p), axis=axis)


def von_neumann_entropy(rho: ArrayLike) -> np.ndarray:
    """Von Neumann entropy ``S(rho) = -Tr rho log2 rho`` of ``(..., d, d)`` states.

    >>> float(von_neumann_entropy(np.eye(4) / 4))
    2.0
    """
    eigs = np.linalg.eigvalsh(np.asarray(rho, dtype=complex))
    return shannon_entropy(eigs)


def partial_trace(rho: ArrayLike, keep: int) -> np.ndarray:
    """Reduced state of qubit ``keep`` (0 = left factor, 1 = right) of ``(..., 4, 4)`` states."""
    r = np.asarray(rho).reshape(*np.shape(rho)[:-2], 2, 2, 2, 2)
    if keep == 0:
        return np.einsum("...ijkj->...ik", r)
    if keep == 1:
        return np.einsum("...ijik->...jk", r)
    raise ValueError(f"keep must be 0 or 1, got {keep!r}")


def concurrence(rho: ArrayLike) -> np.ndarray:
    """Wootters concurrence of two-qubit states ``(..., 4, 4)``.

    ``C = max(0, l1 - l2 - l3 - l4)`` with ``l_i`` the decreasing square roots of the
    eigenvalues of ``rho (Y⊗Y) rho* (Y⊗Y)`` (Wootters, PRL 80, 2245 (1998)).

    Computed as the singular values of ``A^T (Y⊗Y) A`` for ``rho = A A^dag``: the same
    ``l_i`` without square roots of eigenvalues near zero, which cost the textbook route
    (and ``qiskit.quantum_info``, QuTiP) about 8 digits on rank-deficient states.

    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> round(float(concurrence(bell)), 15)
    1.0
    """
    rho = np.asarray(rho, dtype=complex)
    eigs, vecs = np.linalg.eigh(rho)
    factor = vecs * np.sqrt(np.clip(eigs, 0.0, None))[..., None, :]
    tau = np.swapaxes(factor, -1, -2) @ _SIGMA_YY @ factor
    lam = np.linalg.svd(tau, compute_uv=False)  # descending
    return np.maximum(0.0, lam[..., 0] - lam[..., 1] - lam[..., 2] - lam[..., 3])


def eof_from_concurrence(c: ArrayLike) -> np.ndarray:
    """Entanglement of formation ``E_F = h((1 + sqrt(1 - C^2)) / 2)`` (Wootters 1998).

    >>> float(eof_from_concurrence(1.0))
    1.0
    """
    c = np.clip(np.asarray(c, dtype=float), 0.0, 1.0)
    # (1 - sqrt(1 - C^2)) / 2 written without cancellation, so E_F ~ C^2 log(1/C) survives
    # for C down to ~1e-150 (paper A, Eq. 4.2 regime).
    return binary_entropy(c * c / (2.0 * (1.0 + np.sqrt(1.0 - c * c))))


def entanglement_of_formation(rho: ArrayLike) -> np.ndarray:
    """Entanglement of formation of two-qubit states, via their concurrence."""
    return eof_from_concurrence(concurrence(rho))


def correlation_matrix(rho: ArrayLike) -> np.ndarray:
    """Correlation matrix ``T_ij = Tr[rho sigma_i ⊗ sigma_j]`` (i, j over X, Y, Z), (..., 3, 3)."""
    rho = np.asarray(rho, dtype=complex)
    sigma2 = np.einsum("iab,jcd->ijacbd", PAULI, PAULI).reshape(3, 3, 4, 4)
    return np.real(np.einsum("ijab,...ba->...ij", sigma2, rho))


def chsh_max(rho: ArrayLike) -> np.ndarray:
    """Largest CHSH value ``2 sqrt(m1 + m2)`` over all settings (Horodecki, PLA 200, 340 (1995)).

    ``m1 >= m2`` are the two largest eigenvalues of ``T^T T``.

    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> round(float(chsh_max(bell)), 12) == round(2 * 2 ** 0.5, 12)
    True
    """
    t = correlation_matrix(rho)
    m = np.linalg.eigvalsh(np.swapaxes(t, -1, -2) @ t)  # ascending
    return 2.0 * np.sqrt(np.clip(m[..., -1] + m[..., -2], 0.0, None))


def optimal_chsh_settings(rho: ArrayLike) -> dict[str, np.ndarray]:
    """Measurement directions (unit Bloch vectors) reaching :func:`chsh_max`, batched.

    The CHSH value is ``E(a,b) + E(a,b') + E(a',b) - E(a',b')`` with ``E(x, y) = x^T T y``.
    With ``e1, e2`` the leading eigenvectors of ``T^T T`` (eigenvalues ``m1 >= m2``) and
    ``tan(theta) = sqrt(m2/m1)``: ``b, b' = cos(theta) e1 ± sin(theta) e2``,
    ``a = T e1 / |T e1|``, ``a' = T e2 / |T e2|`` (Horodecki et al., Phys. Lett. A 200, 340
    (1995)); where ``T e`` vanishes, any unit vector orthogonal to the others serves.

    Parameters
    ----------
    rho : array_like, shape (..., 4, 4)
        Two-qubit states (qkit order).

    Returns
    -------
    dict
        Keys ``a``, ``a_prime``, ``b``, ``b_prime`` (each (..., 3)) and ``value`` (...).

    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> round(float(optimal_chsh_settings(bell)["value"]), 12) == round(2 * 2 ** 0.5, 12)
    True
    """
    t = correlation_matrix(rho)
    m, vecs = np.linalg.eigh(np.swapaxes(t, -1, -2) @ t)
    e1, e2 = vecs[..., :, 2], vecs[..., :, 1]
    m1, m2 = np.maximum(m[..., 2], 0.0), np.maximum(m[..., 1], 0.0)
    theta = np.arctan2(np.sqrt(m2), np.sqrt(m1))[..., None]
    b = np.cos(theta) * e1 + np.sin(theta) * e2
    b_prime = np.cos(theta) * e1 - np.sin(theta) * e2
    a = _unit_or(np.einsum("...ij,...j->...i", t, e1), e1)
    cross = np.cross(a, e1)
    fallback = np.where(np.linalg.norm(cross, axis=-1, keepdims=True) > 1e-12, cross, e2)
    a_prime = _unit_or(np.einsum("...ij,...j->...i", t, e2), fallback)

    def e(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.einsum("...i,...ij,...j->...", x, t, y)

    value = e(a, b) + e(a, b_prime) + e(a_prime, b) - e(a_prime, b_prime)
    return {"a": a, "a_prime": a_prime, "b": b, "b_prime": b_prime, "value": value}


def _unit_or(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``v / |v|`` along the last axis, or the normalised ``fallback`` where ``v`` vanishes."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    safe = np.where(norm > 1e-12, norm, 1.0)
    unit_fallback = fallback / np.linalg.norm(fallback, axis=-1, keepdims=True)
    return np.where(norm > 1e-12, v / safe, unit_fallback)


def holevo_chi(probabilities: ArrayLike, states: ArrayLike) -> np.ndarray:
    """Holevo quantity ``chi = S(sum_i p_i rho_i) - sum_i p_i S(rho_i)`` (paper B, Eq. 1).

    ``probabilities`` has shape (..., k) and ``states`` (..., k, d, d).

    >>> zero, one = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    >>> float(holevo_chi([0.5, 0.5], [zero, one]))
    1.0
    """
    p = np.asarray(probabilities, dtype=float)
    rhos = np.asarray(states, dtype=complex)
    average = np.einsum("...k,...kab->...ab", p, rhos)
    return von_neumann_entropy(average) - np.sum(p * von_neumann_entropy(rhos), axis=-1)


def mutual_information(joint: ArrayLike) -> np.ndarray:
    """Mutual information in bits of joint distributions ``(..., n_in, n_out)``.

    >>> float(mutual_information([[0.5, 0.0], [0.0, 0.5]]))
    1.0
    """
    joint = np.asarray(joint, dtype=float)
    joint = joint / np.sum(joint, axis=(-2, -1), keepdims=True)
    px = np.sum(joint, axis=-1)
    py = np.sum(joint, axis=-2)
    return (
        shannon_entropy(px)
        + shannon_entropy(py)
        - shannon_entropy(joint.reshape(*joint.shape[:-2], -1))
    )


def fidelity_pure(psi: ArrayLike, rho: ArrayLike) -> np.ndarray:
    """Fidelity ``<psi|rho|psi>`` of a pure state with (a stack of) density matrices."""
    psi = np.asarray(psi, dtype=complex)
    return np.real(np.einsum("...a,...ab,...b->...", np.conj(psi), np.asarray(rho), psi))


def from_qiskit_order(rho: ArrayLike) -> np.ndarray:
    """Reorder a two-qubit density matrix from Qiskit's little-endian labels to ours.

    Qiskit writes qubit 0 as the rightmost label; qkit writes the first qubit leftmost.
    The map is its own inverse.
    """
    r = np.asarray(rho).reshape(*np.shape(rho)[:-2], 2, 2, 2, 2)
    return np.swapaxes(np.swapaxes(r, -4, -3), -2, -1).reshape(np.shape(rho))
