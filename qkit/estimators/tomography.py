"""Two-qubit state tomography from the nine Pauli settings, vectorized over sweeps.

State: linear inversion (the least-squares estimate from the per-setting outcome
frequencies, as ``qiskit_experiments``' ``linear_inversion`` fitter) followed by the
Smolin-Gambetta-Smith projection to the nearest physical state in 2-norm (PRL 108, 070502
(2012); ``postprocess_fitter(make_positive=True)`` in qiskit-experiments). Both steps are
batched numpy (one matrix product, one batched ``eigh``), so thousands of fits take
milliseconds; ``benchmarks/tomography.py`` checks agreement with qiskit-experiments.

Error bars are analytic, so they cost about as much as the fit (``benchmarks/intervals.py``):
every interval is built on a linear form in the 36 outcome frequencies (the fidelity, and the
witness whose positive part is the concurrence of the mix-up states), whose variance is the sum
of the nine settings' exact multinomial variances. See :func:`state_tomography` for the
constructions and their edges.

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
from qkit.estimators import boundary
from qkit.estimators._normal import norm
from qkit.estimators._results import (
    ConcurrenceInterval,
    Interval,
    RngLike,
    as_counts,
    as_rngs,
    check_confidence,
    check_n_boot,
    row_shots,
)
from qkit.estimators.correlators import sigma_of

DEFAULT_THRESHOLD = 0.5
"""Default ``c`` of the claim ``C < c`` tested by :func:`state_tomography`."""

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
_INVERSION_T_RE = np.ascontiguousarray(_INVERSION.T.real)
_INVERSION_T_IM = np.ascontiguousarray(_INVERSION.T.imag)


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
    # Tr[P rho] = sum_ab P_ab rho_ba as products summed along a contiguous last axis, so that
    # every point's sums run in the same order whatever the batch.
    flat = np.swapaxes(rho, -1, -2).reshape(*rho.shape[:-2], 1, 1, 16)
    return np.sum(_PROJ_RE * flat.real, axis=-1) - np.sum(_PROJ_IM * flat.imag, axis=-1)


def _pauli_projectors() -> np.ndarray:
    single = np.array(
        [[(_IDENTITY + sign * p) / 2.0 for sign in (1.0, -1.0)] for p in measures.PAULI]
    )  # (3 bases, 2 outcomes, 2, 2)
    out = np.einsum("iuab,jvcd->ijuvacbd", single, single)
    return out.reshape(9, 4, 4, 4)


_PROJ_FLAT = _pauli_projectors().reshape(9, 4, 16)
_PROJ_RE = np.ascontiguousarray(_PROJ_FLAT.real)
_PROJ_IM = np.ascontiguousarray(_PROJ_FLAT.imag)


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
    freqs = n / row_shots(n)[..., None]
    return _invert(freqs)


def _invert(freqs: np.ndarray) -> np.ndarray:
    # An elementwise product summed along a contiguous last axis: every point's sums run in the
    # same order whatever the batch (a BLAS matrix product does not promise that).
    flat = np.ascontiguousarray(freqs.reshape(*freqs.shape[:-2], 1, 36))
    return np.sum(flat * _INVERSION, axis=-1).reshape(*freqs.shape[:-2], 4, 4)


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
    # Products summed along a contiguous last axis: the same order for every point of a batch.
    terms = eigvecs[..., :, None, :] * new[..., None, None, :] * np.conj(eigvecs)[..., None, :, :]
    return np.sum(terms, axis=-1)


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
    concurrence : ConcurrenceInterval
        Wootters concurrence from the linear witness, with its Feldman-Cousins interval,
        one-sided bounds and the significance of entanglement ``C > 0``.
    eof : Interval
        Entanglement of formation, the concurrence interval mapped through the increasing
        ``E_F(C)``.
    fidelity : Interval or None
        ``<target|rho|target>`` when a target was given (direct linear estimate).
    """

    state: np.ndarray
    concurrence: ConcurrenceInterval
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
    intervals: bool = True,
    rng: RngLike = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> TomographyEstimate:
    """Physical state estimate with intervals for concurrence, ``E_F`` and fidelity.

    The state is the projected linear inversion (:func:`fit_state`). The intervals are
    analytic; none resamples, so ``rng`` and ``n_boot`` only select the mode (``n_boot=0`` or
    ``intervals=False``: point estimates with NaN intervals) and the result for one point
    depends on that point's counts alone, bit for bit, whatever the batch.

    - **Fidelity** ``f = <target|rho|target>`` is estimated directly: the linear inversion is
      linear in the frequencies, so ``f_hat = <target|rho_LI|target>`` is unbiased and its
      variance is exactly ``sum_s Var_s / N_s`` (add-half smoothed frequencies keep settings
      whose shots all agree from getting zero variance). The interval is Feldman and
      Cousins' for a normal mean in ``[0, 1]`` at the nearer bound
      (:func:`qkit.estimators.boundary.bounded_interval`, PRD 57, 3873 (1998)): ``f_hat -/+ z
      sd`` far from the bounds, turning into an upper end at 1 near it without over-covering
      (95% also at ``f = 1``, where the plain interval clipped at 1 covered 97.8%) and into a
      small upper limit near 0 (a target the state is orthogonal to; never ``[0, 0]``); the
      value is clipped into ``[0, 1]``. Fidelity of the *projected*
      state is biased inward at pure states (Bell pair, 1000 shots: 0.988 against 1, interval
      excluding the truth); the linear estimate is not (Flammia and Liu, PRL 106, 230501
      (2011), direct fidelity estimation). ``at_boundary`` flags an interval reaching 0.
    - **The witness** ``K``. In the Schmidt basis ``|k>|k>`` of the target (of the fitted
      state's leading eigenvector without a target), ``K(rho) = 2 Re rho_{00,11} -
      rho_{01,01} - rho_{10,10}`` satisfies ``C(rho) >= K(rho)`` for every state: the
      concurrence (Wootters, PRL 80, 2245 (1998)) of a state is at least that of its X part
      (Hashemi Rafsanjani, Huber, Broadbent and Eberly, PRA 86, 062303 (2012)), ``2
      (|rho_03| - sqrt(rho_11 rho_22)) >= K`` (arithmetic-geometric mean). For the mix-up
      states ``M[psi_a]`` (``rho_11 = rho_22``, real coherence) ``C = max(0, K)`` exactly
      (Eq. 3.3: ``K = 2 S a b - 2 (1 - S) a^2 b^2`` is the signed quantity whose positive part
      is ``C``), and for a Bell target ``K = 2 F - 1`` (``C`` of Bell-diagonal states around
      it). ``K_hat = K(rho_LI)`` is linear in the frequencies with a data-independent
      operator: unbiased, not clipped at 0, and untouched by the projection onto physical
      states (which biased ``C(rho_hat)`` low by about 2 standard deviations at pure states,
      and up near ``C = 0``, the concurrence being convex). ``sd`` is its exact multinomial
      standard deviation at the add-half smoothed frequencies.
    - **Concurrence**: the interval is Feldman and Cousins' for a normal mean in ``[0, 1]``
      (:func:`qkit.estimators.boundary.bounded_interval`, PRD 57, 3873 (1998)) from ``K_hat``
      and ``sd``: ``K_hat -/+ z sd`` away from the bounds, turning into an upper limit at ``C =
      0`` and a lower limit at ``C = 1`` without over-covering; the estimate is ``K_hat``
      clipped at 0 (``K_hat <= 1`` always). Measured coverage 0.94-0.96 with mean half-widths
      0.87-1.09 x 1.96 sd of the estimates at pure, near-pure, small-``C`` and threshold
      points, C and E_F (``benchmarks/intervals.py --coverage``). Inside the separable
      region (``K < 0``) ``C = 0`` is covered whenever the interval reaches 0, i.e. more
      often than 95%: no interval that covers 95% at the threshold can do less there.
    - **A phase the target lacks** (e.g. ``0.6|00> + 0.8i|11>`` against ``psi_0.6``, where
      ``K = 0``): where the fitted state's concurrence exceeds ``max(0, K(rho_hat))`` by more
      than ``z sd``, or the fitted ``|rho_03| - Re rho_03`` (the coherence ``K`` misses) is
      more than ``z`` of its own sd, ``K`` is replaced by ``K' = 2 Re(e^{-i theta} rho_03) -
      rho_11 - rho_22`` with ``theta`` the phase of the fitted ``rho_03``: the witness of the
      target with that phase on ``|11>`` (``C >= K'`` for every state; ``2 |rho_03| - ...``
      at the fit), linear in the frequencies given ``theta``, with its own exact sd and the
      same Feldman-Cousins interval. Only the fit's concurrence beyond ``max(0, K'(rho_hat))``
      by more than ``z sd`` is added to the estimate and the upper end (the lower end stays
      the witness's). Adding the excess of the projected fit to the target's ``K`` (before)
      covered 0.91 (pure) and 0.63 (``p = 0.8`` mix with white noise) at ``theta = pi/2``,
      as the projected fit is biased low; ``K'`` covers 0.94-0.96 at ``theta = pi/4, pi/2``,
      pure, mixed and at ``C = 0``, 1000 and 4000 shots, each end 0.96-0.99 and width
      0.93-1.03 x 1.96 sd away from ``C = 0``, where Feldman-Cousins' 95% is all one end
      (``benchmarks/concurrence_phase.py``). At states with real coherence the
      switch fires by noise alone in at most about 2% of data sets (0-0.3% at the paper's
      points except ``(0.4, 0.1)``, 1-2%, where ``rho_03 = 0.04``), coverage unchanged. The
      entanglement test and ``lower_bound`` keep the target's ``K`` (a fixed operator, as
      Hoeffding's inequality needs). ``at_boundary`` flags an interval reaching 0 or 1: the
      physical bounds, read it as one-sided there.
    - **Entanglement test and lower bound**: ``K_hat`` is a sum of independent shots, each
      moving it within a known range (``range_s / N_s`` for setting ``s``), so Hoeffding's
      inequality ``P(K_hat - K >= t) <= exp(-2 t^2 / sum_s range_s^2 / N_s)`` holds at any
      number of shots (no normal approximation): ``entangled_p_value = exp(-2 K_hat^2 /
      sum_s range_s^2 / N_s)`` for ``K_hat > 0`` (else 1; valid because ``K <= 0`` on every
      separable state), ``entangled_sigma = Phi^-1(1 - p)`` (0: no evidence) and
      ``lower_bound = K_hat - sqrt(sum_s range_s^2 / N_s ln(1/alpha) / 2)``, at least 0 and
      at most the interval's lower end.
    - **The opposite claim** ``C < threshold``: ``below_p_value = Phi((K_hat + excess -
      threshold) / sd)`` (``K'`` and its sd where the phase switch fired), the normal
      p-value of ``C >= threshold``, with ``below_sigma``; ``upper_bound`` is the interval's
      upper end (a one-sided bound is never inside its two-sided interval).
    - **E_F** ``= h((1 + sqrt(1 - C^2))/2)`` is increasing in ``C``, so its interval is the
      concurrence interval mapped through it, with the same coverage and flags (bootstrapping
      ``E_F`` directly under-covered near ``C = 0``: 0.80-0.89).

    Parameters
    ----------
    counts : array_like, shape (..., 9, 4)
        Counts per Pauli setting (``PAULI_SETTINGS`` order) and outcome (qkit order).
    target : array_like, shape (..., 4), optional
        Pure target state vector (qkit order) for the fidelity ``<target|rho|target>``.
    confidence : float
        Nominal coverage of the two-sided intervals and of the one-sided ``lower_bound``.
    n_boot : int
        Kept for compatibility: ``0`` switches the intervals off; any other allowed value
        (``>= 10``) gives the analytic intervals.
    intervals : bool
        False: point estimates only (NaN intervals, p-values and bounds), the cheap mode.
    rng : numpy.random.Generator, int, sequence of Generators, or None
        Accepted for compatibility (one Generator per point allowed); not used.
    threshold : float
        The ``c`` in [0, 1] of the opposite claim ``C < c`` (default 0.5).

    Returns
    -------
    TomographyEstimate

    Examples
    --------
    >>> import numpy as np
    >>> from qkit.mixup import theory
    >>> counts = np.round(1000 * pauli_probabilities(theory.state(0.9, 0.6)))
    >>> est = state_tomography(counts, target=theory.psi(0.6))
    >>> bool(est.concurrence.covers(theory.concurrence(0.9, 0.6)))
    True
    """
    n = as_counts(counts, (9, 4))
    shots = row_shots(n)
    confidence = check_confidence(confidence)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a concurrence in [0, 1], got {threshold:g}")
    want = bool(check_n_boot(n_boot)) and bool(intervals)
    batch = shots.shape[:-1]
    as_rngs(rng, int(np.prod(batch)) if batch else 1)
    psi = None
    if target is not None:
        psi = np.asarray(target, dtype=complex)
        if psi.shape[-1:] != (4,):
            raise ValueError(f"target must be a state vector of shape (..., 4), got {psi.shape}")
        norms = np.linalg.norm(psi, axis=-1)
        if not np.allclose(norms, 1.0, rtol=0.0, atol=1e-8):
            raise ValueError("target must be a normalized state vector")
        psi = np.broadcast_to(psi, (*batch, 4))

    freqs = n / shots[..., None]
    raw = _invert(freqs)
    state = project_to_physical(raw)
    z = norm.ppf(0.5 + confidence / 2.0)

    c_fit = measures.concurrence(state, trusted=True)  # built here: skip the input checks
    operator = _witness_operator(state if psi is None else None, psi)
    coeff = _linear_coefficients(operator)
    k_hat = _dot36(coeff, freqs)
    # Add-half smoothed frequencies: a setting whose shots all agree keeps a non-zero variance.
    smooth = (n + 0.5) / (shots[..., None] + 2.0)
    sd = np.sqrt(_linear_variance(coeff, smooth, shots))
    # Concurrence of the fit that the witness does not see, where more than the noise explains.
    k_fit = np.einsum("...ab,...ba->...", operator, state).real
    unseen = c_fit - np.maximum(k_fit, 0.0)
    aligned = _witness_operator(state if psi is None else None, psi, phase_of=state)
    coeff_a = _linear_coefficients(aligned)
    k_fit_a = np.einsum("...ab,...ba->...", aligned, state).real
    sd_gap = np.sqrt(_linear_variance(coeff_a - coeff, smooth, shots))
    resolved = (unseen > z * sd) | (k_fit_a - k_fit > z * sd_gap)
    # There the state has a coherence phase the target lacks: take the witness in the basis
    # with the fitted rho_03's phase (K' = 2 |rho_03| - rho_11 - rho_22 at the fit), and keep
    # as excess only what that one does not see. Elsewhere every number is as before.
    k_fixed = k_hat  # the fixed-basis witness: Hoeffding's test and lower bound stay on it
    sd_a = np.sqrt(_linear_variance(coeff_a, smooth, shots))
    unseen_a = c_fit - np.maximum(k_fit_a, 0.0)
    k_hat = np.where(resolved, _dot36(coeff_a, freqs), k_hat)
    sd = np.where(resolved, sd_a, sd)
    unseen = np.where(resolved & (unseen_a > z * sd_a), unseen_a, 0.0)
    c = np.minimum(np.maximum(k_hat, 0.0) + unseen, 1.0)  # K_hat <= 1 (the witness's range)
    exactly_bounded = (c <= 0.0) | (c >= 1.0 - 1e-12)  # a Bell pair's K_hat: 1 up to rounding

    if not want:
        nan = np.full(batch, np.nan)
        conc = ConcurrenceInterval(
            value=c,
            ci_low=nan,
            ci_high=nan,
            confidence=confidence,
            at_boundary=exactly_bounded,
            method="none",
            stderr=nan,
            lower_bound=nan,
            entangled_p_value=nan,
            entangled_sigma=nan,
            upper_bound=nan,
            threshold=np.full(batch, threshold),
            below_p_value=nan,
            below_sigma=nan,
        )
        eof = Interval(
            value=measures.eof_from_concurrence(c),
            ci_low=nan,
            ci_high=nan,
            confidence=confidence,
            at_boundary=exactly_bounded,
            method="none",
        )
        fid = None
        if psi is not None:
            f = np.clip(_fidelity_linear(psi, freqs), 0.0, 1.0)
            fid = Interval(f, nan, nan, confidence, f >= 1.0, "none")
        return TomographyEstimate(state=state, concurrence=conc, eof=eof, fidelity=fid)

    low, high = boundary.bounded_interval(k_hat, sd, confidence)
    high = np.minimum(high + unseen, 1.0)
    edge = (low <= 0.0) | (high >= 1.0)
    k_spread = _hoeffding_spread(coeff, shots)
    # Hoeffding: P(K_hat - K >= t) <= exp(-2 t^2 / spread) for every state, so the test of
    # K <= 0 and the lower bound hold at any number of shots.
    log_p = -2.0 * np.maximum(k_fixed, 0.0) ** 2 / k_spread
    margin = np.sqrt(k_spread * np.log(1.0 / (1.0 - confidence)) / 2.0)
    # The opposite claim C < threshold: one-sided normal bound on the witness (plus `unseen`).
    # (sd > 0: the smoothed frequencies of every setting are strictly inside (0, 1).)
    below_z = (k_hat + unseen - threshold) / sd
    conc = ConcurrenceInterval(
        value=c,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        at_boundary=edge,
        method="witness-feldman-cousins",
        stderr=sd,
        lower_bound=np.clip(k_fixed - margin, 0.0, low),
        entangled_p_value=np.exp(log_p),
        entangled_sigma=sigma_of(np.exp(log_p), log_p),
        upper_bound=high,  # a one-sided bound is never inside the two-sided interval
        threshold=np.full(batch, threshold),
        below_p_value=norm.cdf(below_z),
        below_sigma=sigma_of(norm.cdf(below_z), norm.logcdf(below_z)),
    )
    eof = Interval(
        value=measures.eof_from_concurrence(c),
        ci_low=measures.eof_from_concurrence(low),
        ci_high=measures.eof_from_concurrence(high),
        confidence=confidence,
        at_boundary=edge,
        method="witness-feldman-cousins-mapped",
    )
    fid = None
    if psi is not None:
        fid = _fidelity_interval(psi, freqs, n, shots, confidence)
    return TomographyEstimate(state=state, concurrence=conc, eof=eof, fidelity=fid)


def _witness_operator(state, psi, phase_of=None) -> np.ndarray:
    """``W X W^dag``: the witness ``K(rho) = Tr[W X W^dag rho]`` (:func:`state_tomography`).

    ``X = |00><11| + |11><00| - |01><01| - |10><10|`` and ``W = U ⊗ V`` the local unitary taking
    ``|kk>`` to the Schmidt vectors of ``psi`` (``psi_ij = sum_k U_ik s_k V_jk``); without
    ``psi``, the leading eigenvector of ``state``. With ``phase_of`` (states), ``|00><11|``
    carries the phase ``e^{i theta}`` of their ``rho_{00,11}`` in that basis, so that ``K =
    2 |rho_{00,11}| - rho_{01,01} - rho_{10,10}`` at them (the witness of the target with
    that relative phase on ``|11>``: still ``C >= K`` for every state).
    """
    if psi is None:
        psi = np.linalg.eigh(state)[1][..., -1]
    u, _, vt = np.linalg.svd(psi.reshape(*psi.shape[:-1], 2, 2))
    # Schmidt product vectors phi_{2i+j} = u_i ⊗ v_j (columns of U ⊗ V, V = vt^T).
    phi = np.einsum("...ai,...jb->...abij", u, vt).reshape(*psi.shape[:-1], 4, 4)

    def outer(a: int, b: int) -> np.ndarray:
        return phi[..., :, a, None] * np.conj(phi[..., None, :, b])

    if phase_of is None:
        return outer(0, 3) + outer(3, 0) - outer(1, 1) - outer(2, 2)
    # rho_03 = <phi_0|rho|phi_3>; Tr[|phi_0><phi_3| rho] = conj(rho_03).
    rho_03 = np.einsum("...a,...ab,...b->...", np.conj(phi[..., :, 0]), phase_of, phi[..., :, 3])
    phase = np.exp(1j * np.angle(rho_03))[..., None, None]
    return phase * outer(0, 3) + np.conj(phase) * outer(3, 0) - outer(1, 1) - outer(2, 2)


def _hoeffding_spread(coeff: np.ndarray, shots: np.ndarray) -> np.ndarray:
    """Hoeffding's ``sum_s range_s^2 / N_s`` for ``sum_s (1/N_s) sum_shots g_s(o)``.

    Every shot of setting ``s`` moves the statistic within ``max_o g_s - min_o g_s``.
    """
    width = np.max(coeff, axis=-1) - np.min(coeff, axis=-1)
    return np.sum(width * width / shots, axis=-1)


def _x_part_witness(state, psi, freqs, shots) -> tuple[np.ndarray, np.ndarray]:
    """``K_hat = K(rho_LI)`` and Hoeffding's ``sum_s range_s^2 / N_s``."""
    coeff = _linear_coefficients(_witness_operator(state, psi))
    return _dot36(coeff, freqs), _hoeffding_spread(coeff, shots)


def _linear_coefficients(operator: np.ndarray) -> np.ndarray:
    """Coefficients ``g (..., 9, 4)`` with ``Tr[operator rho_LI] = sum g * frequencies``."""
    flat = np.swapaxes(operator, -1, -2).reshape(*operator.shape[:-2], 1, 16)
    re, im = np.ascontiguousarray(flat.real), np.ascontiguousarray(flat.imag)
    out = np.sum(re * _INVERSION_T_RE, axis=-1) - np.sum(im * _INVERSION_T_IM, axis=-1)
    return out.reshape(*operator.shape[:-2], 9, 4)


def _linear_variance(coeff: np.ndarray, probs: np.ndarray, shots: np.ndarray) -> np.ndarray:
    """Exact variance of ``sum g * frequencies`` for independent multinomial settings."""
    mean = np.sum(coeff * probs, axis=-1)
    second = np.sum(coeff * coeff * probs, axis=-1)
    return np.sum(np.clip(second - mean * mean, 0.0, None) / shots, axis=-1)


def _dot36(coeff: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """``sum_so coeff * freqs`` for arrays (..., 9, 4), in a batch-independent order."""
    coeff, freqs = np.broadcast_arrays(coeff, freqs)
    flat = (coeff * freqs).reshape(*coeff.shape[:-2], 36)
    return np.sum(np.ascontiguousarray(flat), axis=-1)


def _fidelity_linear(psi: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    projector = np.einsum("...a,...b->...ab", psi, np.conj(psi))
    return _dot36(_linear_coefficients(projector), freqs)


def _fidelity_interval(psi, freqs, n, shots, confidence) -> Interval:
    projector = np.einsum("...a,...b->...ab", psi, np.conj(psi))
    coeff = _linear_coefficients(projector)
    raw = _dot36(coeff, freqs)
    smooth = (n + 0.5) / (shots[..., None] + 2.0)
    sd = np.sqrt(_linear_variance(coeff, smooth, shots))
    value = np.clip(raw, 0.0, 1.0)
    # Feldman-Cousins in [0, 1] at the nearer bound: f <= 1 for the states qkit aims at, and
    # f >= 0 for a target the state is (nearly) orthogonal to, where the bound f <= 1 alone
    # gave [0, 0] to 2% of data sets (a raw estimate below -z sd)
    low, high = boundary.bounded_interval(raw, sd, confidence)
    low, high = np.minimum(low, value), np.maximum(high, value)
    return Interval(value, low, high, confidence, low <= 0.0, "linear-feldman-cousins")
