"""Two-qubit state tomography from the nine Pauli settings, vectorized over sweeps.

Reconstruction: linear inversion (the least-squares estimate from the per-setting outcome
frequencies, as ``qiskit_experiments``' ``linear_inversion`` fitter) followed by the
Smolin-Gambetta-Smith projection to the nearest physical state in 2-norm (PRL 108, 070502
(2012); ``postprocess_fitter(make_positive=True)`` in qiskit-experiments). Both steps are
batched numpy (one matrix product, one batched ``eigh``), so thousands of fits take
milliseconds; ``benchmarks/tomography.py`` checks agreement with qiskit-experiments.

Conventions: density matrices in the basis ``|00>, |01>, |10>, |11>`` with qubit A the left
factor (qkit order). Setting ``s = 3 i + j`` measures ``sigma_i`` on A and ``sigma_j`` on B with
``i, j`` over X, Y, Z (``PAULI_SETTINGS``); the outcome index is ``2 * bit_A + bit_B`` with bit 0
the +1 eigenvalue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from qkit import measures
from qkit.estimators._results import (
    Interval,
    as_counts,
    as_rng,
    check_confidence,
    check_n_boot,
    check_shots,
)
from qkit.estimators.bootstrap import interval_from_replicates, resampled_statistics

PAULI_SETTINGS = tuple(a + b for a in "XYZ" for b in "XYZ")
"""The nine settings, in the order of the counts' setting axis: XX, XY, XZ, YX, ..., ZZ."""

_IDENTITY = np.eye(2, dtype=complex)
# sigma_0 = I, then X, Y, Z.
_SIGMA = np.concatenate([_IDENTITY[None], measures.PAULI])
# Signs of each outcome (00, 01, 10, 11) for sigma_A ⊗ I, I ⊗ sigma_B, sigma_A ⊗ sigma_B.
_SIGN_A = np.array([1.0, 1.0, -1.0, -1.0])
_SIGN_B = np.array([1.0, -1.0, 1.0, -1.0])
_SIGN_AB = _SIGN_A * _SIGN_B


def _inversion_matrix() -> np.ndarray:
    """Matrix ``L`` (16, 36) with ``vec(rho) = L @ vec(frequencies)`` (linear inversion).

    ``rho = (1/4) sum_{mu nu} t_{mu nu} sigma_mu ⊗ sigma_nu`` where ``t_ij`` comes from setting
    (i, j), and the local terms ``t_i0``, ``t_0j`` (and ``t_00 = 1``) are averaged over the three
    settings that measure them: the least-squares solution with equal weight per setting.
    """
    coeff = np.zeros((4, 4, 9, 4))  # t[mu, nu] as a linear form on frequencies[s, o]
    for i in range(3):
        for j in range(3):
            s = 3 * i + j
            coeff[0, 0, s] += 1.0 / 9.0
            coeff[i + 1, 0, s] += _SIGN_A / 3.0
            coeff[0, j + 1, s] += _SIGN_B / 3.0
            coeff[i + 1, j + 1, s] += _SIGN_AB
    basis = np.einsum("mab,ncd->mnacbd", _SIGMA, _SIGMA).reshape(4, 4, 16) / 4.0
    return np.einsum("mnr,mnso->rso", basis, coeff).reshape(16, 36)


_INVERSION = _inversion_matrix()


def pauli_probabilities(rho: ArrayLike) -> np.ndarray:
    """Outcome probabilities ``(..., 9, 4)`` of the nine Pauli settings for states ``(..., 4, 4)``.

    The forward model of :func:`linear_inversion` (qkit order, bit 0 = eigenvalue +1).

    Examples
    --------
    >>> import numpy as np
    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> pauli_probabilities(bell)[8].round(3).tolist()  # ZZ: only 00 and 11
    [0.5, 0.0, 0.0, 0.5]
    """
    rho = np.asarray(rho, dtype=complex)
    projectors = _pauli_projectors()  # (9, 4, 4, 4): setting, outcome, matrix
    return np.real(np.einsum("soab,...ba->...so", projectors, rho))


def _pauli_projectors() -> np.ndarray:
    single = np.array(
        [[(_IDENTITY + sign * p) / 2.0 for sign in (1.0, -1.0)] for p in measures.PAULI]
    )  # (3 bases, 2 outcomes, 2, 2)
    out = np.einsum("iuab,jvcd->ijuvacbd", single, single)
    return out.reshape(9, 4, 4, 4)


def linear_inversion(counts: ArrayLike) -> np.ndarray:
    """Unit-trace Hermitian estimate from Pauli-setting counts (may have negative eigenvalues).

    Parameters
    ----------
    counts : array_like, shape (..., 9, 4)
        Counts per setting (``PAULI_SETTINGS`` order) and outcome (qkit order).

    Returns
    -------
    numpy.ndarray, shape (..., 4, 4)
    """
    n = as_counts(counts, (9, 4))
    freqs = n / check_shots(n)[..., None]
    return _invert(freqs)


def _invert(freqs: np.ndarray) -> np.ndarray:
    flat = freqs.reshape(*freqs.shape[:-2], 36)
    return (flat @ _INVERSION.T).reshape(*freqs.shape[:-2], 4, 4)


def project_to_physical(matrix: ArrayLike) -> np.ndarray:
    """Nearest density matrix in 2-norm to unit-trace Hermitian matrices ``(..., d, d)``.

    Smolin, Gambetta, Smith, PRL 108, 070502 (2012): keep the eigenvectors, and set the
    smallest eigenvalues to zero one at a time, spreading their (negative) sum evenly over
    the rest, until all remaining ones are non-negative. Vectorized: the number ``k`` of
    kept eigenvalues is the largest ``k`` with ``lambda_k + (sum_{j>k} lambda_j) / k >= 0``
    (eigenvalues in decreasing order).

    Examples
    --------
    >>> import numpy as np
    >>> np.diag(project_to_physical(np.diag([0.6, 0.5, -0.1]))).real.round(3).tolist()
    [0.55, 0.45, 0.0]
    """
    h = np.asarray(matrix, dtype=complex)
    h = (h + np.conj(np.swapaxes(h, -1, -2))) / 2.0
    eigvals, eigvecs = np.linalg.eigh(h)
    lam = eigvals[..., ::-1]  # decreasing
    d = lam.shape[-1]
    tail = np.cumsum(lam[..., ::-1], axis=-1)[..., ::-1]  # sum_{j >= k}
    tail_after = np.concatenate([tail[..., 1:], np.zeros_like(tail[..., :1])], axis=-1)
    kept = np.arange(1, d + 1)
    ok = lam + tail_after / kept >= 0.0
    last = d - 1 - np.argmax(ok[..., ::-1], axis=-1)  # index of the largest ok k
    shift = np.take_along_axis(tail_after, last[..., None], axis=-1) / (last[..., None] + 1)
    new = np.where(kept - 1 <= last[..., None], lam + shift, 0.0)[..., ::-1]
    return np.einsum("...ak,...k,...bk->...ab", eigvecs, new, np.conj(eigvecs))


def fit_state(counts: ArrayLike) -> np.ndarray:
    """Physical (PSD, unit-trace) two-qubit state estimate from Pauli-setting counts.

    Linear inversion then :func:`project_to_physical`; batched over leading axes.

    Parameters
    ----------
    counts : array_like, shape (..., 9, 4)
        Counts per setting (``PAULI_SETTINGS`` order) and outcome (qkit order).

    Returns
    -------
    numpy.ndarray, shape (..., 4, 4)
        Density matrices in qkit order.

    Examples
    --------
    >>> import numpy as np
    >>> bell = np.zeros((4, 4)); bell[0, 0] = bell[0, 3] = bell[3, 0] = bell[3, 3] = 0.5
    >>> counts = 1000 * pauli_probabilities(bell)
    >>> bool(np.allclose(fit_state(counts), bell))
    True
    """
    return project_to_physical(linear_inversion(counts))


@dataclass(frozen=True, eq=False)
class TomographyEstimate:
    """Tomography result: the physical state and intervals for functionals of it.

    Attributes
    ----------
    state : numpy.ndarray, shape (..., 4, 4)
        Physical state estimate (qkit order).
    concurrence, eof : Interval
        Wootters concurrence and entanglement of formation. Both have the boundary 0 (the
        ``max(0, .)`` of the concurrence): where ``at_boundary`` is set the interval does not
        have nominal coverage (the bootstrap distribution piles up at 0) and should be read
        as "consistent with no entanglement".
    fidelity : Interval or None
        ``<target|rho|target>`` when a target was given.
    """

    state: np.ndarray
    concurrence: Interval
    eof: Interval
    fidelity: Interval | None = None

    def __getitem__(self, index: Any) -> TomographyEstimate:
        """The estimate at one point (or sub-batch) of a batched fit."""
        return TomographyEstimate(
            state=self.state[index],
            concurrence=self.concurrence[index],
            eof=self.eof[index],
            fidelity=None if self.fidelity is None else self.fidelity[index],
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"concurrence": {...}, "eof": {...}, "fidelity": {...}}`` (fidelity if present)."""
        out = {"concurrence": self.concurrence.to_dict(), "eof": self.eof.to_dict()}
        if self.fidelity is not None:
            out["fidelity"] = self.fidelity.to_dict()
        return out


def state_tomography(
    counts: ArrayLike,
    target: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    interval: str = "basic",
    rng: np.random.Generator | int | None = None,
) -> TomographyEstimate:
    """Physical state estimate with bootstrap intervals for concurrence, ``E_F`` and fidelity.

    The intervals come from a parametric bootstrap: each setting's counts are redrawn
    multinomially (same shots) from the probabilities of the fitted physical state, refitted,
    and the functional evaluated on every refit. ``interval="basic"`` (the default) reflects the
    replicates about the estimate, which cancels the bias the projection onto physical states
    adds near the edge of the state space (near-pure states); there plain percentile intervals
    miss the truth most of the time (measured: fidelity coverage 0.09-0.25 at ``S = 0.95``, Bell
    pairs, 100-300 shots per setting, against 0.92-0.94 for ``"basic"``).
    Concurrence (Wootters, PRL 80, 2245 (1998)) and ``E_F = h((1 + sqrt(1 - C^2))/2)`` are those of
    paper A, Eq. 3.3; near ``C = 0`` the intervals are flagged ``at_boundary``.

    Parameters
    ----------
    counts : array_like, shape (..., 9, 4)
        Counts per Pauli setting (``PAULI_SETTINGS`` order) and outcome (qkit order).
    target : array_like, shape (..., 4), optional
        Pure target state vector (qkit order) for the fidelity ``<target|rho|target>``.
    confidence : float
        Nominal coverage of the intervals.
    n_boot : int
        Bootstrap resamples per point.
    interval : {"basic", "percentile", "bc"}
        Interval construction, see :func:`qkit.estimators.bootstrap.interval_from_replicates`.
    rng : numpy.random.Generator or int, optional
        Randomness for the resampling; the same seed gives identical intervals.

    Returns
    -------
    TomographyEstimate

    Notes
    -----
    Coverage of the nominal 95% intervals is tested in ``tests/test_estimator_coverage.py`` at
    interior points (measured 0.94-0.96). Two edges degrade it:

    - ``C = 0``, flagged ``at_boundary``: the interval then reads "consistent with no
      entanglement". Just inside (Bell pairs, 1000 shots per setting) the measured concurrence
      coverage is 0.77 at ``C = 0.04`` (65% of data sets flagged), 0.92 at ``C = 0.07`` (21%
      flagged) and 0.95 from ``C = 0.1`` on.
    - near-pure states (the edge of the state space, not flagged): measured coverage 0.88-0.94
      for ``S >= 0.95`` with 300-1000 shots per setting.

    Examples
    --------
    >>> import numpy as np
    >>> from qkit.mixup import theory
    >>> counts = np.round(1000 * pauli_probabilities(theory.state(0.9, 0.6)))
    >>> est = state_tomography(counts, target=theory.psi(0.6), rng=1)
    >>> bool(est.concurrence.covers(theory.concurrence(0.9, 0.6)))
    True
    """
    n = as_counts(counts, (9, 4))
    shots = check_shots(n)
    confidence = check_confidence(confidence)
    n_boot = check_n_boot(n_boot)
    generator = as_rng(rng)
    psi = None
    if target is not None:
        psi = np.asarray(target, dtype=complex)
        if psi.shape[-1:] != (4,):
            raise ValueError(f"target must be a state vector of shape (..., 4), got {psi.shape}")
        norms = np.linalg.norm(psi, axis=-1)
        if not np.allclose(norms, 1.0, atol=1e-8):
            raise ValueError("target must be a normalized state vector")

    state = project_to_physical(_invert(n / shots[..., None]))
    if psi is not None:
        psi = np.broadcast_to(psi, (*shots.shape[:-1], 4))
    point = _functionals(state, psi)
    psi_flat = None if psi is None else psi.reshape(-1, 4)

    def statistic(draws: np.ndarray, points: slice) -> tuple[np.ndarray, ...]:
        fitted = project_to_physical(_invert(draws / np.sum(draws, axis=-1, keepdims=True)))
        return _functionals(fitted, None if psi_flat is None else psi_flat[points])

    replicates = resampled_statistics(
        statistic, shots, pauli_probabilities(state), n_boot, generator
    )

    names = ("concurrence", "eof", "fidelity")
    intervals = {}
    for name, value, reps in zip(names, point, replicates, strict=False):
        upper = 1.0 if name == "fidelity" else None
        low, high, edge = interval_from_replicates(
            value, reps, confidence, interval, lower=0.0, upper=upper
        )
        intervals[name] = Interval(
            value=value,
            ci_low=low,
            ci_high=high,
            confidence=confidence,
            at_boundary=edge,
            method=f"parametric-bootstrap-{interval}",
        )
    return TomographyEstimate(state=state, **intervals)


def _functionals(state: np.ndarray, psi: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Concurrence, E_F and (with a target) fidelity of fitted (physical) states ``(..., 4, 4)``."""
    c = measures.concurrence(state, trusted=True)  # built here: skip the input checks
    out = (c, measures.eof_from_concurrence(c))
    if psi is not None:
        out += (np.clip(measures.fidelity_pure(psi, state, trusted=True), 0.0, 1.0),)
    return out
