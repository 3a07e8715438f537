"""Exact theory of paper A: entanglement distribution by an inept delivery service.

A source makes ``|psi_a> = a|00> + sqrt(1-a^2)|11>``; with probability ``1 - S`` the
customers receive qubits from different pairs (Eq. 2.1). Everything here broadcasts over
numpy arrays of ``success`` (S) and ``amplitude`` (a), so a whole ``(S, a)`` grid is one call.
Closed forms are checked against :mod:`qkit.measures` on explicit density matrices in the tests.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit import measures
from qkit._validate import check_amplitude, check_density_matrix, check_success

BELL_AMPLITUDE = 2**-0.5

# Barrett's state rho_B = (5/12)|Phi+><Phi+| + (7/12) I/4 (Sec. V): its |00><11| coherence
# and its diagonal.
_BARRETT_COHERENCE = 5.0 / 24.0
_BARRETT_DIAGONAL = np.array([17.0, 7.0, 7.0, 17.0]) / 48.0


def psi(amplitude: ArrayLike) -> np.ndarray:
    """State vector ``a|00> + sqrt(1-a^2)|11>``, shape (..., 4).

    >>> psi(1.0).real.tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    a = check_amplitude(amplitude)
    vec = np.zeros((*a.shape, 4), dtype=complex)
    vec[..., 0] = a
    vec[..., 3] = np.sqrt(1.0 - a * a)
    return vec


def mixup(rho: ArrayLike, success: ArrayLike) -> np.ndarray:
    """The mix-up map ``M[rho] = S rho + (1 - S) Tr_B[rho] ⊗ Tr_A[rho]`` (Eq. 2.1).

    Works on any two-qubit state(s) ``(..., 4, 4)`` (arrays, Qiskit or QuTiP states, checked as
    in :mod:`qkit.measures`); ``success`` broadcasts against the leading axes.

    >>> bell = np.outer(psi(BELL_AMPLITUDE), psi(BELL_AMPLITUDE).conj())
    >>> np.allclose(mixup(bell, 0.25), 0.25 * bell + 0.75 * np.eye(4) / 4)
    True
    """
    s = check_success(success)[..., None, None]
    r = check_density_matrix(rho)
    reduced_a = measures.partial_trace(r, 0, trusted=True)
    reduced_b = measures.partial_trace(r, 1, trusted=True)
    product = np.einsum("...ac,...bd->...abcd", reduced_a, reduced_b).reshape(
        *np.shape(r)[:-2], 4, 4
    )
    return s * r + (1.0 - s) * product


def state(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """The delivered pair ``M[psi_a]``, an X-state, shape (..., 4, 4) (Sec. II).

    Diagonal ``(S b + (1-S) b^2, (1-S) b(1-b), (1-S) b(1-b), S(1-b) + (1-S)(1-b)^2)`` with
    ``b = a^2``, coherence ``rho_{00,11} = S a sqrt(1-b)``.
    """
    s, a = np.broadcast_arrays(check_success(success), check_amplitude(amplitude))
    b = a * a
    rho = np.zeros((*s.shape, 4, 4))
    rho[..., 0, 0] = s * b + (1 - s) * b * b
    rho[..., 1, 1] = rho[..., 2, 2] = (1 - s) * b * (1 - b)
    rho[..., 3, 3] = s * (1 - b) + (1 - s) * (1 - b) ** 2
    rho[..., 0, 3] = rho[..., 3, 0] = s * a * np.sqrt(1 - b)
    return rho


def _sa(success: ArrayLike, amplitude: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.broadcast_arrays(check_success(success), check_amplitude(amplitude)))


def fidelity(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Fidelity ``<psi_a|M[psi_a]|psi_a> = 1 - 3 a^2 (1-S)(1-a^2)`` (Eq. 3.2).

    >>> float(fidelity(0.5, 2 ** -0.5))
    0.625
    """
    s, a = _sa(success, amplitude)
    return 1.0 - 3.0 * a * a * (1.0 - s) * (1.0 - a * a)


def concurrence(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Concurrence ``C = max(0, 2 S a sqrt(1-a^2) - 2 (1-S) a^2 (1-a^2))`` (Eq. 3.3).

    >>> float(concurrence(1 / 3, 2 ** -0.5))  # Bell pairs lose all entanglement at S = 1/3
    0.0
    """
    s, a = _sa(success, amplitude)
    u = a * np.sqrt(1.0 - a * a)
    return np.maximum(0.0, 2.0 * s * u - 2.0 * (1.0 - s) * u * u)


def eof(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Entanglement of formation ``h((1 + sqrt(1 - C^2)) / 2)`` of ``M[psi_a]``."""
    return measures.eof_from_concurrence(concurrence(success, amplitude))


def correlation_diagonal(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Diagonal of the correlation matrix ``T = diag(S c0, -S c0, 1 - (1-S) c0^2)``, shape (..., 3).

    ``c0 = 2 a sqrt(1 - a^2)`` is the concurrence of ``psi_a``; ``T`` is diagonal for X-states.
    """
    s, a = _sa(success, amplitude)
    c0 = 2.0 * a * np.sqrt(1.0 - a * a)
    return np.stack([s * c0, -s * c0, 1.0 - (1.0 - s) * c0 * c0], axis=-1)


def chsh_max(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Largest CHSH value ``2 sqrt(m1 + m2)`` of ``M[psi_a]`` (Horodecki criterion, Sec. V).

    >>> round(float(chsh_max(1.0, 2 ** -0.5)), 12) == round(2 * 2 ** 0.5, 12)
    True
    """
    t2 = np.sort(correlation_diagonal(success, amplitude) ** 2, axis=-1)
    return 2.0 * np.sqrt(t2[..., 1] + t2[..., 2])


def chsh_settings(success: ArrayLike, amplitude: ArrayLike) -> dict[str, np.ndarray]:
    """Optimal CHSH directions for ``M[psi_a]`` (:func:`qkit.measures.optimal_chsh_settings`).

    Broadcast over ``success`` and ``amplitude``: each direction has shape (..., 3).
    """
    return measures.optimal_chsh_settings(state(success, amplitude), trusted=True)


def entanglement_threshold(amplitude: ArrayLike) -> np.ndarray:
    """Smallest S above which ``M[psi_a]`` is entangled (Eq. 3.4, derived from Eq. 3.3).

    ``S(a) = a(1-a^2) / (sqrt(1-a^2) + a - a^3)``, i.e. ``u / (1 + u)`` with
    ``u = a sqrt(1-a^2)``. The extracted paper prints the last term of the denominator as
    ``a2``; this follows the definition (``C > 0``). NaN at ``a = 0, 1``, where the pair is a
    product state for every S.

    >>> float(entanglement_threshold(2 ** -0.5))  # Bell pairs need S > 1/3
    0.3333333333333333
    """
    a = check_amplitude(amplitude)
    u = a * np.sqrt(1.0 - a * a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(u > 0, u / (1.0 + u), np.nan)


def chsh_threshold(amplitude: ArrayLike) -> np.ndarray:
    """Smallest S above which ``M[psi_a]`` violates CHSH; NaN where no ``S <= 1`` does.

    Derived from the Horodecki criterion (the extracted Eq. 5.1 is garbled). With
    ``k = c0^2 = 4 a^2 (1-a^2)``, ``m1 + m2 = max(2 S^2 k, S^2 k + (1 - (1-S) k)^2)``; the
    second branch exceeds 1 for ``S > (sqrt(3 - k) - (1 - k)) / (1 + k)``, the first for
    ``S > 1/sqrt(2k)``, and the threshold is the smaller. Bell pairs need ``S > 1/sqrt2``;
    weakly entangled pairs need ``S -> sqrt3 - 1`` as ``a -> 0``.

    >>> round(float(chsh_threshold(2 ** -0.5)), 12) == round(2 ** -0.5, 12)
    True
    """
    a = check_amplitude(amplitude)
    k = 4.0 * a * a * (1.0 - a * a)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_branch = (np.sqrt(3.0 - k) - (1.0 - k)) / (1.0 + k)
        s_xy = np.where(k > 0, 1.0 / np.sqrt(2.0 * np.where(k > 0, k, 1.0)), np.inf)
    threshold = np.minimum(s_branch, s_xy)
    return np.where((k > 0) & (threshold < 1.0), threshold, np.nan)


def optimal_amplitude(success: ArrayLike) -> np.ndarray:
    """The amplitude ``a*(S)`` in ``[0, 1/sqrt2]`` maximizing ``C`` and so ``E_F`` (Sec. IV).

    With ``u = a sqrt(1-a^2)`` in ``[0, 1/2]``, ``C = 2 S u - 2 (1-S) u^2`` is maximal at
    ``u* = min(S / (2 (1-S)), 1/2)``, so ``a*^2 = (1 - sqrt(1 - 4 u*^2)) / 2``: exact, and equal
    to the numerical optimum of Fig. 3 (checked in the tests). Bell pairs are optimal for
    ``S >= 1/2``; for ``S << 1``, ``a* ~ S/2``. By the symmetry ``a <-> sqrt(1-a^2)`` the other
    optimum is ``sqrt(1 - a*^2)``.

    >>> float(optimal_amplitude(0.5)) == 2 ** -0.5
    True
    """
    s = check_success(success)
    with np.errstate(divide="ignore"):
        u = np.minimum(np.where(s < 1, s / (2.0 * (1.0 - np.where(s < 1, s, 0.0))), 0.5), 0.5)
    a2 = 2.0 * u * u / (1.0 + np.sqrt(1.0 - 4.0 * u * u))  # (1 - sqrt(1-4u^2))/2, stable
    return np.where(u >= 0.5, BELL_AMPLITUDE, np.sqrt(a2))


def concurrence_max(success: ArrayLike) -> np.ndarray:
    """``max_a C = S^2 / (2 (1-S))`` for ``S <= 1/2`` and ``(3S - 1)/2`` above."""
    s = check_success(success)
    with np.errstate(divide="ignore"):
        low = s * s / (2.0 * (1.0 - np.where(s < 1, s, 0.0)))
    return np.where(s <= 0.5, low, (3.0 * s - 1.0) / 2.0)


def eof_max(success: ArrayLike) -> np.ndarray:
    """``E_F^max(S) = max_a E_F(M[psi_a])`` (Fig. 3, curve a), exact."""
    return measures.eof_from_concurrence(concurrence_max(success))


def eof_max_approx(success: ArrayLike) -> np.ndarray:
    """Small-S approximation ``E_F^max ~ (S^4/4) [log2(1/S) + 1 + 1/(4 ln 2)]`` (Eq. 4.2)."""
    s = check_success(success)
    return s**4 / 4.0 * (np.log2(1.0 / s) + 1.0 + 1.0 / (4.0 * np.log(2.0)))


def pairs_per_bell_pair(success: ArrayLike) -> np.ndarray:
    """Lower bound ``1 / E_F^max(S)`` on delivered pairs per distilled Bell pair (Sec. IV)."""
    return 1.0 / eof_max(success)


def barrett_weight(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Weight ``c = 24 S a sqrt(1-a^2) / 5`` of Barrett's state in ``M[psi_a]`` (Sec. V)."""
    s, a = _sa(success, amplitude)
    return s * a * np.sqrt(1.0 - a * a) / _BARRETT_COHERENCE


def lhv_region(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Whether ``M[psi_a]`` is entangled yet provably local (grey triangle of Fig. 2, Sec. V).

    True where ``M[psi_a] = c rho_B + (1-c) rho_SEP`` with ``0 < c < 1``, Barrett's local state
    ``rho_B`` and a diagonal (hence separable) state ``rho_SEP``, and ``C > 0``.
    """
    rho = state(success, amplitude)
    c = barrett_weight(success, amplitude)
    diag = np.diagonal(rho, axis1=-2, axis2=-1) - c[..., None] * _BARRETT_DIAGONAL
    separable_rest = np.all(diag >= -1e-15, axis=-1)
    return (c > 0) & (c < 1) & separable_rest & (concurrence(success, amplitude) > 0)
