"""State measures shared by both papers, vectorized over leading axes.

Conventions: bits everywhere; two-qubit states are ``(..., 4, 4)`` arrays in the
basis ``|00>, |01>, |10>, |11>`` with the *left* qubit the first tensor factor
(the opposite of Qiskit's little-endian labels; convert arrays with :func:`from_qiskit_order`).

Inputs: states may be numpy arrays or nested lists (density matrices), Qiskit ``DensityMatrix``
or ``Statevector`` (reordered so that Qiskit's qubit 0 is the left factor) or QuTiP ``Qobj``
(ket or density matrix, tensor order kept). Every function checks them and raises a one-line
``ValueError`` naming the argument for a wrong shape, NaN/inf, a non-Hermitian, non-unit-trace
or non-positive matrix, or probabilities that are negative or do not sum to 1. Code that built
its states itself may pass ``trusted=True`` to skip the conversion and the checks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit._states import as_density_matrix, as_state_vector
from qkit._validate import check_probabilities, check_range

PAULI = np.array(
    [[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=complex,
)
"""The Pauli matrices X, Y, Z stacked on the first axis."""

_SIGMA_YY = np.kron(PAULI[1], PAULI[1])
_PROB_ATOL = 1e-9  # rounding tolerated on probabilities (then clipped)


def binary_entropy(x: ArrayLike) -> np.ndarray:
    """Binary entropy ``h(x) = -x log2 x - (1-x) log2(1-x)`` with ``h(0) = h(1) = 0``.

    >>> float(binary_entropy(0.5))
    1.0
    """
    x = _unit_interval("x", x)
    small = np.minimum(x, 1.0 - x)  # h is symmetric; log1p keeps all digits for tiny x
    return _xlog2x_neg(small) - (1.0 - small) * np.log1p(-small) / np.log(2.0)


def _unit_interval(name: str, x: ArrayLike) -> np.ndarray:
    """``x`` in [0, 1] as floats; rounding up to ``_PROB_ATOL`` outside is clipped."""
    try:
        return np.clip(check_range(name, x, -_PROB_ATOL, 1.0 + _PROB_ATOL), 0.0, 1.0)
    except ValueError:
        check_range(name, x, 0.0, 1.0)  # the same failure, stated with the range [0, 1]
        raise


def _xlog2x_neg(x: np.ndarray) -> np.ndarray:
    """``-x log2 x`` with the limit 0 at x = 0."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, -x * np.log2(safe), 0.0)


def shannon_entropy(
    probabilities: ArrayLike, axis: int = -1, *, trusted: bool = False
) -> np.ndarray:
    """Shannon entropy in bits of distributions along ``axis``.

    ``probabilities`` must be non-negative and sum to 1 along ``axis`` (to ``1e-9``).

    >>> float(shannon_entropy([0.25, 0.25, 0.5]))
    1.5
    """
    if trusted:
        p = np.asarray(probabilities, dtype=float)
    else:
        p = check_probabilities(probabilities, "probabilities", axis, atol=_PROB_ATOL)
    return _entropy_bits(p, axis)


def _entropy_bits(p: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sum(_xlog2x_neg(np.clip(p, 0.0, None)), axis=axis)


def von_neumann_entropy(rho: object, *, trusted: bool = False) -> np.ndarray:
    """Von Neumann entropy ``S(rho) = -Tr rho log2 rho`` of ``(..., d, d)`` states.

    >>> float(von_neumann_entropy(np.eye(4) / 4))
    2.0
    """
    rho = as_density_matrix(rho, "rho", trusted=trusted)
    return _entropy_bits(np.linalg.eigvalsh(rho))


def partial_trace(rho: object, keep: int, *, trusted: bool = False) -> np.ndarray:
    """Reduced state of qubit ``keep`` (0 = left factor, 1 = right) of ``(..., 4, 4)`` states."""
    rho = as_density_matrix(rho, "rho", 4, trusted=trusted)
    r = rho.reshape(*np.shape(rho)[:-2], 2, 2, 2, 2)
    if keep == 0:
        return np.einsum("...ijkj->...ik", r)
    if keep == 1:
        return np.einsum("...ijik->...jk", r)
    raise ValueError(f"keep must be 0 or 1, got {keep!r}")


def concurrence(rho: object, *, trusted: bool = False) -> np.ndarray:
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
    rho = as_density_matrix(rho, "rho", 4, trusted=trusted)
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
    c = _unit_interval("c", c)
    # (1 - sqrt(1 - C^2)) / 2 written without cancellation, so E_F ~ C^2 log(1/C) survives
    # for C down to ~1e-150 (paper A, Eq. 4.2 regime).
    return binary_entropy(c * c / (2.0 * (1.0 + np.sqrt(1.0 - c * c))))


def entanglement_of_formation(rho: object, *, trusted: bool = False) -> np.ndarray:
    """Entanglement of formation of two-qubit states, via their concurrence."""
    return eof_from_concurrence(concurrence(rho, trusted=trusted))


def correlation_matrix(rho: object, *, trusted: bool = False) -> np.ndarray:
    """Correlation matrix ``T_ij = Tr[rho sigma_i ⊗ sigma_j]`` (i, j over X, Y, Z), (..., 3, 3)."""
    rho = as_density_matrix(rho, "rho", 4, trusted=trusted)
    sigma2 = np.einsum("iab,jcd->ijacbd", PAULI, PAULI).reshape(3, 3, 4, 4)
    return np.real(np.einsum("ijab,...ba->...ij", sigma2, rho))


def chsh_max(rho: object, *, trusted: bool = False) -> np.ndarray:
    """Largest CHSH value ``2 sqrt(m1 + m2)`` over all settings (Horodecki, PLA 200, 340 (1995)).

    ``m1 >= m2`` are the two largest eigenvalues of ``T^T T``.

    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> round(float(chsh_max(bell)), 12) == round(2 * 2 ** 0.5, 12)
    True
    """
    t = correlation_matrix(rho, trusted=trusted)
    m = np.linalg.eigvalsh(np.swapaxes(t, -1, -2) @ t)  # ascending
    return 2.0 * np.sqrt(np.clip(m[..., -1] + m[..., -2], 0.0, None))


def optimal_chsh_settings(rho: object, *, trusted: bool = False) -> dict[str, np.ndarray]:
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
    t = correlation_matrix(rho, trusted=trusted)
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


def holevo_chi(probabilities: ArrayLike, states: object, *, trusted: bool = False) -> np.ndarray:
    """Holevo quantity ``chi = S(sum_i p_i rho_i) - sum_i p_i S(rho_i)`` (paper B, Eq. 1).

    ``probabilities`` has shape (..., k) and ``states`` (..., k, d, d).

    >>> zero, one = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    >>> float(holevo_chi([0.5, 0.5], [zero, one]))
    1.0
    """
    rhos = as_density_matrix(states, "states", trusted=trusted)
    if trusted:
        p = np.asarray(probabilities, dtype=float)
    else:
        p = check_probabilities(probabilities, "probabilities", atol=_PROB_ATOL)
        if rhos.ndim < 3 or p.shape[-1] != rhos.shape[-3]:
            raise ValueError(
                f"states must have shape (..., {p.shape[-1]}, d, d) to match probabilities "
                f"{p.shape}, got {rhos.shape}"
            )
    average = np.einsum("...k,...kab->...ab", p, rhos)
    entropies = _entropy_bits(np.linalg.eigvalsh(rhos))
    return _entropy_bits(np.linalg.eigvalsh(average)) - np.sum(p * entropies, axis=-1)


def mutual_information(joint: ArrayLike) -> np.ndarray:
    """Mutual information in bits of joint distributions ``(..., n_in, n_out)``.

    ``joint`` holds non-negative weights (probabilities or counts), normalized here.

    >>> float(mutual_information([[0.5, 0.0], [0.0, 0.5]]))
    1.0
    """
    joint = _check_joint(joint)
    joint = joint / np.sum(joint, axis=(-2, -1), keepdims=True)
    px = np.sum(joint, axis=-1)
    py = np.sum(joint, axis=-2)
    return _entropy_bits(px) + _entropy_bits(py) - _entropy_bits(joint.reshape(*px.shape[:-1], -1))


def _check_joint(joint: ArrayLike) -> np.ndarray:
    try:
        j = np.asarray(joint, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"joint must be an array of numbers, got {type(joint).__name__}") from None
    if j.ndim < 2:
        raise ValueError(f"joint must have shape (..., n_in, n_out), got {j.shape}")
    if not np.all(np.isfinite(j)):
        raise ValueError("joint must be finite (it contains NaN or inf)")
    if np.any(j < 0):
        raise ValueError(f"joint must be non-negative (got {float(j.min()):.12g})")
    if np.any(np.sum(j, axis=(-2, -1)) <= 0):
        raise ValueError("joint must have a positive total")
    return j


def fidelity_pure(psi: object, rho: object, *, trusted: bool = False) -> np.ndarray:
    """Fidelity ``<psi|rho|psi>`` of a pure state with (a stack of) density matrices.

    >>> float(fidelity_pure([1, 0], np.eye(2) / 2))
    0.5
    """
    psi = as_state_vector(psi, "psi", trusted=trusted)
    rho = as_density_matrix(rho, "rho", psi.shape[-1], trusted=trusted)
    return np.real(np.einsum("...a,...ab,...b->...", np.conj(psi), rho, psi))


def from_qiskit_order(rho: ArrayLike) -> np.ndarray:
    """Reorder a two-qubit density matrix from Qiskit's little-endian labels to ours.

    Qiskit writes qubit 0 as the rightmost label; qkit writes the first qubit leftmost.
    The map is its own inverse. It takes arrays only: Qiskit's ``DensityMatrix`` and
    ``Statevector`` are reordered by every other function of this module already.
    """
    rho = np.asarray(rho)
    if rho.shape[-2:] != (4, 4):
        raise ValueError(f"rho must have shape (..., 4, 4), got {rho.shape}")
    r = rho.reshape(*np.shape(rho)[:-2], 2, 2, 2, 2)
    return np.swapaxes(np.swapaxes(r, -4, -3), -2, -1).reshape(np.shape(rho))
