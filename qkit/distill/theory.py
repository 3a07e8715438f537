"""Exact theory of distilling Bell pairs from mixed-up pairs ``M[psi_a]`` (beyond paper A).

One DEJMPS round (Deutsch et al., PRL 77, 2818 (1996)) on two copies of a two-qubit state:
Alice applies ``Rx(pi/2)`` to both her qubits, Bob ``Rx(-pi/2)`` to both of his, each applies a
CNOT from pair 1 to pair 2, both measure pair 2 in Z and pair 1 is kept when they agree. With
``R = (Rx(pi/2) ⊗ Rx(-pi/2)) rho (...)^dag`` the Kraus map of the round is, exactly,

    p rho' = R ∘ R + R ∘ (X⊗X R X⊗X)          (∘: entrywise product; one term per outcome 00, 11)

for ANY two-qubit ``rho`` (qkit order, first qubit = Alice). On Bell-diagonal input with weights
``(A, B, C, D)`` on ``(Phi+, Psi-, Psi+, Phi-)`` it reduces to the textbook recurrence
(:func:`dejmps_recurrence`). Everything broadcasts over leading axes, so a whole ``(S, a)`` grid
is one call.

Yield convention (Bell pairs per delivered pair at target fidelity ``F_t``): an optional local
filter passes a pair with probability ``p_f`` (one pair in, at most one out); round ``k`` turns
two pairs into one with probability ``p_k`` (survivors are paired again); after ``K`` rounds the
pairs either already have Bell fidelity ``>= F_t`` and count as they are, or are Pauli-twirled
to their Bell-diagonal part ``lambda`` and hashed at rate ``max(0, 1 - H(lambda))`` (Bennett et
al., PRA 54, 3824 (1996); hashing output fidelity tends to 1). So

    yield = p_f * prod_k (p_k / 2) * (1 if F_K >= F_t else max(0, 1 - H(lambda_K))).

Bounds: the coherent information ``S(rho_B) - S(rho_AB)`` (hashing inequality, Devetak-Winter:
one-way hashing without twirling achieves it) is a lower bound on the distillable entanglement,
``E_F`` an upper bound (paper A, Sec. IV: ``1/E_F^max`` delivered pairs per Bell pair at least).

This module imports neither qiskit nor qutip (``qkit theory`` must start fast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from qkit import measures
from qkit._validate import check_density_matrix, check_range, check_success, shown
from qkit.mixup import theory as mixup

BELL_NAMES = ("Phi+", "Psi-", "Psi+", "Phi-")
"""Order of the Bell-diagonal weights ``(A, B, C, D)`` of the DEJMPS paper."""
_S2 = 2**-0.5
BELL_BASIS = np.array(
    [[_S2, 0, 0, _S2], [0, _S2, -_S2, 0], [0, _S2, _S2, 0], [_S2, 0, 0, -_S2]], dtype=complex
)
"""Rows: ``|Phi+>, |Psi->, |Psi+>, |Phi->`` in the basis ``|00>, |01>, |10>, |11>``."""

_RX_PLUS = np.array([[1, -1j], [-1j, 1]]) * _S2  # Rx(pi/2) = (I - iX)/sqrt2
_RX_MINUS = np.array([[1, 1j], [1j, 1]]) * _S2  # Rx(-pi/2)
DEJMPS_ROTATION = np.kron(_RX_PLUS, _RX_MINUS)
"""``Rx(pi/2) ⊗ Rx(-pi/2)``: Alice's and Bob's rotation on one pair (qkit order)."""
# vec(U r U^dag) = (U ⊗ U*) vec(r) for row-major vec: one matrix product for a whole stack
_ROTATION_SUPEROPERATOR = np.kron(DEJMPS_ROTATION, DEJMPS_ROTATION.conj()).T
# <B_i|r|B_i> = sum_ab conj(B_ia) r_ab B_ib, as a (16, 4) matrix on vec(r)
_BELL_PROJECTIONS = np.einsum("ia,ib->abi", BELL_BASIS.conj(), BELL_BASIS).reshape(16, 4)

DEFAULT_TARGET_FIDELITY = 0.99
DEFAULT_MAX_ROUNDS = 64
"""Rounds searched when none are given; each round at least halves the yield, so 2^-64 ~ 0."""


# --- states and their Bell-diagonal part -------------------------------------------------


def bell_weights(rho: ArrayLike) -> np.ndarray:
    """Weights ``<B|rho|B>`` on ``(Phi+, Psi-, Psi+, Phi-)``, shape (..., 4).

    They are the state's Bell-diagonal part: what a random bilateral Pauli twirl leaves.
    """
    rho = np.asarray(rho, dtype=complex)
    return np.real(rho.reshape(*rho.shape[:-2], 16) @ _BELL_PROJECTIONS)


def bell_fidelity(rho: ArrayLike) -> np.ndarray:
    """Bell fidelity ``F = <Phi+|rho|Phi+>``, shape (...)."""
    return bell_weights(rho)[..., 0]


def bell_diagonal_state(weights: ArrayLike) -> np.ndarray:
    """``sum_i w_i |B_i><B_i|`` for weights (..., 4) on ``(Phi+, Psi-, Psi+, Phi-)``."""
    w = _check_weights(weights)
    return np.einsum("...i,ia,ib->...ab", w, BELL_BASIS, BELL_BASIS.conj())


def werner_weights(fidelity: ArrayLike) -> np.ndarray:
    """Weights ``(F, (1-F)/3, (1-F)/3, (1-F)/3)`` of the Werner state of Bell fidelity F."""
    f = check_range("fidelity", fidelity, 0.0, 1.0)
    rest = (1.0 - f) / 3.0
    return np.stack([f, rest, rest, rest], axis=-1)


def _check_weights(weights: ArrayLike) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape[-1:] != (4,):
        raise ValueError(f"weights must have shape (..., 4), got {w.shape}")
    if np.any(w < -1e-12) or not np.allclose(w.sum(axis=-1), 1.0, atol=1e-9):
        raise ValueError("weights must be non-negative and sum to 1")
    return w


# --- one DEJMPS round ----------------------------------------------------------------------


def dejmps_round(rho: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """One DEJMPS round on two copies of ``rho`` (..., 4, 4): ``(p, rho_out)``.

    ``p`` is the probability that Alice's and Bob's outcomes on pair 2 agree and ``rho_out``
    the kept pair 1 (in the frame of the rotations, as in the paper), from the exact Kraus map
    ``p rho' = R ∘ R + R ∘ (XX R XX)``, ``R = U rho U^dag``, ``U = Rx(pi/2) ⊗ Rx(-pi/2)``.
    ``rho_out`` is NaN where ``p = 0``.
    """
    r = check_density_matrix(rho)
    return _dejmps_round(r)


def _dejmps_round(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shape = r.shape
    rot = (r.reshape(*shape[:-2], 16) @ _ROTATION_SUPEROPERATOR).reshape(shape)
    flipped = rot[..., ::-1, ::-1]  # XX R XX
    unnormalized = rot * rot + rot * flipped
    p = np.real(np.trace(unnormalized, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = unnormalized / p[..., None, None]
    return p, out


def dejmps_recurrence(weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """DEJMPS on Bell-diagonal input (Deutsch et al. 1996, Eq. for A', B', C', D').

    ``N = (A+B)^2 + (C+D)^2``, ``A' = (A^2+B^2)/N``, ``B' = 2CD/N``, ``C' = (C^2+D^2)/N``,
    ``D' = 2AB/N``, weights on ``(Phi+, Psi-, Psi+, Phi-)``. Returns ``(N, weights')``.

    >>> n, w = dejmps_recurrence(werner_weights(0.7))
    >>> round(float(n), 12), round(float(w[0]), 12)  # Werner F = 0.7: F' = 25/34
    (0.68, 0.735294117647)
    """
    w = _check_weights(weights)
    a, b, c, d = np.moveaxis(w, -1, 0)
    n = (a + b) ** 2 + (c + d) ** 2
    out = np.stack([a * a + b * b, 2 * c * d, c * c + d * d, 2 * a * b], axis=-1)
    return n, out / n[..., None]


def dejmps_rounds(rho: ArrayLike, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """``rounds`` DEJMPS rounds in sequence, each on two survivors of the previous one.

    Returns ``(p, states)``: success probabilities (..., rounds) and the states before the
    first and after every round (..., rounds + 1, 4, 4).
    """
    k = _check_rounds(rounds)
    state = check_density_matrix(rho)
    probabilities, states = [], [state]
    for _ in range(k):
        p, state = _dejmps_round(state)
        probabilities.append(p)
        states.append(state)
    p_all = np.stack(probabilities, axis=-1) if k else np.zeros((*state.shape[:-2], 0))
    return p_all, np.stack(states, axis=-3)


MAX_ROUNDS = 1024
"""Most rounds computed: the yield is below 2^-1024 (zero in floating point) long before."""


def _check_rounds(rounds: int) -> int:
    ok = isinstance(rounds, int | np.integer | float) and not isinstance(rounds, bool)
    if not ok or not 0 <= rounds <= MAX_ROUNDS or int(rounds) != rounds:
        raise ValueError(f"rounds must be an integer in [0, {MAX_ROUNDS}], got {shown(rounds)}")
    return int(rounds)


# --- hashing and the bounds --------------------------------------------------------------


def hashing_yield(rho: ArrayLike) -> np.ndarray:
    """Hashing yield ``max(0, 1 - H(lambda))`` of the twirled state, lambda = Bell weights.

    Values below ``1e-12`` are rounding (e.g. ``1 - H(1/2, 0, 0, 1/2)`` of a product state) and
    are returned as 0.
    """
    w = np.clip(bell_weights(rho), 0.0, None)
    y = 1.0 - measures.shannon_entropy(w, trusted=True)
    return np.where(y > _HASHING_FLOOR, y, 0.0)


_HASHING_FLOOR = 1e-12


def coherent_information(rho: ArrayLike) -> np.ndarray:
    """``S(rho_B) - S(rho_AB)`` (bits; may be negative), B the second qubit.

    The hashing inequality: a one-way protocol distils this many Bell pairs per pair
    (Devetak & Winter, Proc. R. Soc. A 461, 207 (2005)), a lower bound on distillable
    entanglement.
    """
    r = np.asarray(rho, dtype=complex)
    return measures.von_neumann_entropy(
        measures.partial_trace(r, 1), trusted=True
    ) - measures.von_neumann_entropy(r, trusted=True)


def pair_coherent_information(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    """Closed-form ``S(rho_B) - S(rho_AB)`` of the delivered pair ``M[psi_a]``.

    With ``b^2 = 1 - a^2``: ``rho_B = diag(a^2, b^2)``; the eigenvalues of ``M[psi_a]`` are
    ``p01 = p10 = (1-S) a^2 b^2`` and those of the block ``[[p00, S a b], [S a b, p11]]``, whose
    determinant is ``a^2 b^2 (1-S) (S + (1-S) a^2 b^2)``; the small eigenvalue and the large
    one's deficit ``1 - lambda`` are computed without cancellation, so ``a -> 0`` keeps its
    digits. For ``a -> 0``,
    ``I_c ~ a^2 log2(1/a^2) (S^2 + S - 1)``: positive for small enough ``a`` exactly when
    ``S > (sqrt5 - 1)/2``.
    """
    s, a = np.broadcast_arrays(check_success(success), check_range("amplitude", amplitude, 0, 1))
    a2 = a * a
    b2 = 1.0 - a2
    p00 = a2 * (s + (1.0 - s) * a2)
    p11 = b2 * (s + (1.0 - s) * b2)
    p01 = (1.0 - s) * a2 * b2
    det = a2 * b2 * (1.0 - s) * (s + (1.0 - s) * a2 * b2)
    large = 0.5 * (p00 + p11 + np.sqrt((p00 - p11) ** 2 + 4.0 * s * s * a2 * b2))
    small = det / large  # large >= 1/2 - p01 >= 1/4
    deficit = small + 2.0 * p01  # 1 - large, without cancellation
    # -(1-d) log2(1-d) = h(d) + d log2 d
    s_ab = (
        # partial sums of -p log2 p over some eigenvalues: not distributions, hence trusted
        measures.shannon_entropy(np.stack([p01, p01, small], axis=-1), trusted=True)
        + measures.binary_entropy(deficit)
        - measures.shannon_entropy(deficit[..., None], trusted=True)
    )
    return measures.binary_entropy(a2) - s_ab


# --- local filtering ---------------------------------------------------------------------


def apply_filter(rho: ArrayLike, alice: ArrayLike, bob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Local filter ``A ⊗ B`` (norms <= 1): ``(p, rho')``, ``p = Tr[(A⊗B) rho (A⊗B)^dag]``.

    The filter succeeds with probability ``p`` (the Kraus operator of the pass outcome of a
    local two-outcome measurement on each side); ``rho'`` is NaN where ``p = 0``.
    """
    r = check_density_matrix(rho)
    a, b = np.asarray(alice, dtype=complex), np.asarray(bob, dtype=complex)
    for name, op in (("alice", a), ("bob", b)):
        if op.shape[-2:] != (2, 2):
            raise ValueError(f"{name} must have shape (..., 2, 2), got {op.shape}")
        if np.any(np.linalg.norm(op, ord=2, axis=(-2, -1)) > 1 + 1e-12):
            raise ValueError(f"{name} must have operator norm <= 1 (a filter is a contraction)")
    ab = np.einsum("...ac,...bd->...abcd", a, b).reshape(
        *np.broadcast_shapes(a.shape, b.shape)[:-2], 4, 4
    )
    out = ab @ r @ np.conj(np.swapaxes(ab, -1, -2))
    p = np.real(np.trace(out, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return p, out / p[..., None, None]


def normal_form_filter(rho: ArrayLike, strength: ArrayLike = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal filters ``(A, B)``, each (..., 2, 2), for X-states (all ``M[psi_a]``).

    With populations ``p_ij = <ij|rho|ij>``, ``A = diag(1, sqrt(x))``, ``B = diag(1, sqrt(y))``
    with ``x = sqrt(p00 p01 / (p11 p10))``, ``y = sqrt(p00 p10 / (p11 p01))``, each raised to
    ``strength`` in [0, 1] and rescaled to norm 1. At strength 1 the filtered X-state has
    maximally mixed marginals (the Verstraete-Dehaene-De Moor normal form, PRA 64, 010101
    (2001)) and Bell fidelity ``(sqrt(p00 p11) + |c|) / (2 sqrt(p00 p11) + 2 sqrt(p01 p10))``,
    above 1/2 exactly when the state is entangled (``|c| > sqrt(p01 p10)``, Wootters). Strength 0
    is no filter. Where ``p01 p10 = 0`` both sides balance ``p00`` and ``p11`` symmetrically.
    Other states get the same diagonal filter (no longer their normal form).
    """
    r = check_density_matrix(rho)
    g = check_range("filter_strength", strength, 0.0, 1.0)
    p = np.clip(np.real(np.diagonal(r, axis1=-2, axis2=-1)), 0.0, None)
    p00, p01, p10, p11 = np.moveaxis(p, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where((p01 > 0) & (p10 > 0), p01 / np.where(p10 > 0, p10, 1.0), 1.0)
        balance = np.where(
            (p00 > 0) & (p11 > 0), p00 / np.where(p11 > 0, p11, 1.0), 1.0
        )  # no filter for a product of |00> or |11>
    x = np.sqrt(balance * ratio) ** g
    y = np.sqrt(balance / ratio) ** g
    return _diagonal_filter(x), _diagonal_filter(y)


def _diagonal_filter(x: np.ndarray) -> np.ndarray:
    """``diag(1, sqrt(x))`` scaled to operator norm 1."""
    root = np.sqrt(x)
    top = np.maximum(1.0, root)
    op = np.zeros((*np.shape(x), 2, 2))
    op[..., 0, 0] = 1.0 / top
    op[..., 1, 1] = root / top
    return op


def filtered_state(
    success: ArrayLike, amplitude: ArrayLike, strength: ArrayLike = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``M[psi_a]`` after :func:`normal_form_filter` of the given strength: ``(p_f, rho)``."""
    rho = mixup.state(success, amplitude)
    return apply_filter(rho, *normal_form_filter(rho, strength))


# --- yields ------------------------------------------------------------------------------


def yields_per_round(
    rho: ArrayLike,
    max_rounds: int,
    target_fidelity: float = DEFAULT_TARGET_FIDELITY,
    *,
    prior_probability: ArrayLike = 1.0,
) -> np.ndarray:
    """Yield after ``K = 0..max_rounds`` DEJMPS rounds then hashing (module docstring), (..., K+1).

    ``prior_probability`` multiplies every entry (a filter's success probability).
    """
    f_t = check_target_fidelity(target_fidelity)
    p, states = dejmps_rounds(rho, max_rounds)
    return _yields(p, states, f_t) * np.asarray(prior_probability, dtype=float)[..., None]


def _yields(p: np.ndarray, states: np.ndarray, target: float) -> np.ndarray:
    cost = np.concatenate([np.ones((*p.shape[:-1], 1)), np.cumprod(p / 2.0, axis=-1)], axis=-1)
    safe = np.where(np.isfinite(states), states, 0.0)
    final = np.where(bell_fidelity(safe) >= target, 1.0, hashing_yield(safe))
    return np.where(cost > 0, cost * final, 0.0)


def check_target_fidelity(target_fidelity: float) -> float:
    """Target Bell fidelity in (0.5, 1]."""
    return float(check_range("target_fidelity", target_fidelity, 0.5, 1.0, low_open=True))


@dataclass(frozen=True)
class Distillation:
    """One distillation protocol applied to ``M[psi_a]`` (see :func:`distill`)."""

    success: float
    amplitude: float
    filter_strength: float
    filter_probability: float
    rounds: int
    target_fidelity: float
    fidelity_in: float
    fidelity_filtered: float
    success_probabilities: list[float]
    fidelities: list[float]
    fidelity_out: float
    hashing_yield: float
    yield_: float
    coherent_information: float
    eof: float
    eof_out: float

    def record(self) -> dict:
        """The ``qkit theory distill`` JSON record."""
        return {
            "success": self.success,
            "amplitude": self.amplitude,
            "rounds": self.rounds,
            "target_fidelity": self.target_fidelity,
            "filter_strength": self.filter_strength,
            "filter_probability": self.filter_probability,
            "fidelity_in": self.fidelity_in,
            "fidelity_filtered": self.fidelity_filtered,
            "success_probabilities": self.success_probabilities,
            "fidelities": self.fidelities,
            "fidelity_out": self.fidelity_out,
            "hashing_yield": self.hashing_yield,
            "yield": self.yield_,
            "coherent_information": self.coherent_information,
            "eof": self.eof,
            "eof_out": self.eof_out,
            "eof_max": float(mixup.eof_max(self.success)),
        }


def distill(
    success: float,
    amplitude: float,
    rounds: int | None = None,
    target_fidelity: float = DEFAULT_TARGET_FIDELITY,
    filter_strength: float = 0.0,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> Distillation:
    """Filter (optional), ``rounds`` DEJMPS rounds and hashing on ``M[psi_a]``, one point.

    With ``rounds=None`` the number of rounds (``0..max_rounds``) with the largest yield is
    used (the fewest among ties). ``coherent_information`` and ``eof`` are those of the
    delivered pair ``M[psi_a]``: the lower and upper bounds on the yield.
    """
    s = float(check_success(success))
    rho = mixup.state(s, amplitude)
    a = float(np.asarray(amplitude, dtype=float))
    f_t = check_target_fidelity(target_fidelity)
    g = float(check_range("filter_strength", filter_strength, 0.0, 1.0))
    k_max = _check_rounds(max_rounds) if rounds is None else _check_rounds(rounds)
    p_pass, filtered = apply_filter(rho, *normal_form_filter(rho, g))
    p_f = float(p_pass)
    if not p_f > 0:
        filtered = rho  # a product state |00> or |11>: nothing to filter, nothing to distil
    p, states = dejmps_rounds(filtered, k_max)
    y = _yields(p, states, f_t) * p_f
    k = int(np.argmax(y)) if rounds is None else k_max
    final = states[k]
    return Distillation(
        success=s,
        amplitude=a,
        filter_strength=g,
        filter_probability=p_f,
        rounds=k,
        target_fidelity=f_t,
        fidelity_in=float(bell_fidelity(rho)),
        fidelity_filtered=float(bell_fidelity(filtered)),
        success_probabilities=[float(x) for x in p[:k]],
        fidelities=[float(x) for x in bell_fidelity(states[: k + 1])],
        fidelity_out=float(bell_fidelity(final)),
        hashing_yield=float(hashing_yield(final)),
        yield_=float(y[k]),
        coherent_information=float(coherent_information(rho)),
        eof=float(measures.entanglement_of_formation(rho)),
        eof_out=float(measures.entanglement_of_formation(final)),
    )


def hashing_threshold() -> float:
    """Smallest S at which hashing alone yields Bell pairs: ``S = (4 F_h - 1)/3``.

    ``F_h ~ 0.8107`` solves ``1 - H(F, (1-F)/3, (1-F)/3, (1-F)/3) = 0`` (Werner states; the Bell
    amplitude is the best for hashing alone, checked numerically in the tests). By bisection.

    >>> round(hashing_threshold(), 6)
    0.747614
    """
    low, high = 0.5, 1.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if 1.0 - measures.shannon_entropy(werner_weights(mid), trusted=True) > 0:
            high = mid
        else:
            low = mid
    return (4.0 * high - 1.0) / 3.0


# --- best yields over a, filter and rounds -----------------------------------------------

PROTOCOLS = ("hashing", "dejmps", "filter_dejmps")
"""Hashing alone (twirl + hash); DEJMPS rounds then hashing; normal-form filter, DEJMPS, hashing."""

_FILTER_STRENGTHS = np.linspace(0.0, 1.0, 11)


def _amplitude_grid(s: np.ndarray, n: int) -> np.ndarray:
    """Amplitudes in (0, 1/sqrt2] (the state at a and sqrt(1-a^2) differ by X⊗X), (..., n)."""
    a_star = mixup.optimal_amplitude(s)[..., None]
    rel = np.clip(a_star * np.geomspace(0.1, 10.0, n), 1e-6, mixup.BELL_AMPLITUDE)
    wide = np.broadcast_to(np.geomspace(1e-3, mixup.BELL_AMPLITUDE, n), rel.shape)
    return np.concatenate([rel, wide], axis=-1)


def best_yields(
    success: ArrayLike,
    target_fidelity: float = DEFAULT_TARGET_FIDELITY,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    resolution: int = 60,
) -> dict[str, np.ndarray]:
    """Best yield over ``a``, filter strength and rounds per protocol, for each S.

    Returns arrays shaped like ``success``: ``hashing``, ``dejmps``, ``filter_dejmps`` (see
    :data:`PROTOCOLS`), ``best`` (their maximum), ``one_round`` (exactly one DEJMPS round then
    hashing or the target, no filter: what a one-round experiment measures), the optimum's
    ``amplitude``, ``filter_strength`` and ``rounds``, and the bounds ``coherent_information``
    (``max_a`` of ``S(rho_B) - S(rho_AB)`` over ``a >= 1e-12``, clipped at 0; it is positive
    for some ``a`` iff ``S > (sqrt5 - 1)/2``, see :func:`pair_coherent_information`) and
    ``eof_max`` (paper A). The search is
    a grid: ``2 * resolution`` amplitudes around ``a*(S)`` and over (0, 1/sqrt2], 11 filter
    strengths in [0, 1] and 0..``max_rounds`` rounds, then a finer amplitude grid around the best.
    """
    s = check_success(success)
    f_t = check_target_fidelity(target_fidelity)
    k_max = _check_rounds(max_rounds)
    flat = s.reshape(-1)
    names = (*PROTOCOLS, "one_round")
    columns = {name: np.zeros((flat.size, 4)) for name in names}  # yield, a, strength, rounds
    info = np.zeros(flat.size)
    for start in range(0, flat.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        si = flat[sl]
        coarse = _search(si, _amplitude_grid(si, resolution), f_t, k_max)
        a_best = coarse["filter_dejmps"][:, 1:2]
        fine = np.clip(a_best * np.linspace(0.8, 1.25, 2 * resolution), 1e-7, _S2)
        refined = _search(si, fine, f_t, k_max)
        for name in names:
            better = refined[name][:, :1] > coarse[name][:, :1]
            columns[name][sl] = np.where(better, refined[name], coarse[name])
        wide = np.broadcast_to(np.geomspace(1e-12, _S2, 600), (si.size, 600))
        grid = np.concatenate([_amplitude_grid(si, resolution), fine, wide], axis=-1)
        info[sl] = np.max(pair_coherent_information(si[:, None], grid), axis=-1)
    out = {name: columns[name][:, 0].reshape(s.shape) for name in names}
    out["amplitude"] = columns["filter_dejmps"][:, 1].reshape(s.shape)
    out["filter_strength"] = columns["filter_dejmps"][:, 2].reshape(s.shape)
    out["rounds"] = columns["filter_dejmps"][:, 3].astype(int).reshape(s.shape)
    out["best"] = np.maximum.reduce([out[name] for name in PROTOCOLS])
    out["coherent_information"] = np.maximum(info, 0.0).reshape(s.shape)
    out["eof_max"] = mixup.eof_max(s)
    return out


_CHUNK = 8  # S values per vectorized search (bounds the memory of the state stacks)


def _search(
    s: np.ndarray, amplitudes: np.ndarray, target: float, k_max: int
) -> dict[str, np.ndarray]:
    """Best ``(yield, a, strength, rounds)`` per protocol and S, each (nS, 4).

    ``amplitudes`` is (nS, na); the scan covers (nS, na, filter strengths, rounds).
    """
    rho = mixup.state(s[:, None], amplitudes)[:, :, None]  # (nS, na, 1, 4, 4)
    p_f, filtered = apply_filter(rho, *normal_form_filter(rho, _FILTER_STRENGTHS))
    good = p_f > 0
    filtered = np.where(good[..., None, None], filtered, rho)
    y = _scan(filtered, k_max, target, np.where(good, p_f, 0.0))  # (nS, na, ng, K+1)
    result = {}
    for name, view in (
        ("one_round", y[:, :, :1, 1:2] if k_max else y[:, :, :1, :1]),
        ("hashing", y[:, :, :1, :1]),
        ("dejmps", y[:, :, :1, :]),
        ("filter_dejmps", y),
    ):
        flat = view.reshape(len(s), -1)
        best = np.argmax(flat, axis=-1)
        i, j, k = np.unravel_index(best, view.shape[1:])
        k = k + 1 if name == "one_round" and k_max else k
        result[name] = np.stack(
            [
                flat[np.arange(len(s)), best],
                amplitudes[np.arange(len(s)), i],
                _FILTER_STRENGTHS[j],
                k,
            ],
            axis=-1,
        )
    return result


def _scan(rho: np.ndarray, k_max: int, target: float, prior: np.ndarray) -> np.ndarray:
    """Yields ``prior * ...`` after 0..k_max rounds (nS, na, ng, k_max + 1), states not kept.

    Stops early (the rest left 0) once, for every S, no grid point's remaining budget
    ``prior * prod p_k/2`` (an upper bound on any later yield) reaches the best yield so far,
    over all filter strengths and over strength 0 alone; always runs at least one round.
    """
    y = np.zeros((*rho.shape[:-2], k_max + 1))
    cost = prior
    state = rho
    y[..., 0] = cost * _final_yield(state, target)
    for k in range(1, k_max + 1):
        p, state = _dejmps_round(state)
        cost = cost * p / 2.0
        state = np.where(np.isfinite(state), state, 0.0)
        y[..., k] = np.where(cost > 0, cost * _final_yield(state, target), 0.0)
        if all(
            np.all(_per_s_max(cost[..., cut]) <= _per_s_max(y[..., cut, : k + 1]))
            for cut in (slice(None), slice(0, 1))  # all filter strengths; no filter alone
        ):
            break
    return y


def _per_s_max(x: np.ndarray) -> np.ndarray:
    return np.max(x.reshape(len(x), -1), axis=-1)


def _final_yield(state: np.ndarray, target: float) -> np.ndarray:
    return np.where(bell_fidelity(state) >= target, 1.0, hashing_yield(state))


@dataclass(frozen=True)
class Optimum:
    """Best distillation of mixed-up pairs at one S (see :func:`distill_optimum`)."""

    success: float
    target_fidelity: float
    yields: dict[str, float]
    amplitude: float
    filter_strength: float
    rounds: int
    coherent_information: float
    eof_max: float

    def record(self) -> dict:
        """The ``qkit theory distill-optimum`` JSON record."""
        best = max(self.yields.values())
        return {
            "success": self.success,
            "target_fidelity": self.target_fidelity,
            "yield": best,
            "amplitude": self.amplitude,
            "filter_strength": self.filter_strength,
            "rounds": self.rounds,
            **{f"yield_{name}": value for name, value in self.yields.items()},
            "coherent_information": self.coherent_information,
            "eof_max": self.eof_max,
            "yield_over_eof_max": best / self.eof_max if self.eof_max > 0 else None,
            "pairs_per_bell_pair_achieved": 1.0 / best if best > 0 else None,
            "pairs_per_bell_pair_bound": float(mixup.pairs_per_bell_pair(self.success)),
            "pairs_per_bell_pair": 1.0 / best if best > 0 else None,  # deprecated: achieved
        }


def distill_optimum(
    success: float,
    target_fidelity: float = DEFAULT_TARGET_FIDELITY,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> Optimum:
    """The best yield over ``a``, filter strength and rounds at one S, per protocol.

    With a target fidelity below 1 the delivered pairs themselves count once they meet it
    (``S >= (4 F_t - 1)/3``), so there the yield can exceed ``E_F^max``, a bound on perfect
    pairs; use ``target_fidelity=1`` to compare with paper A's bound everywhere.
    """
    s = float(check_success(success))
    out = best_yields(s, target_fidelity, max_rounds=max_rounds)
    return Optimum(
        success=s,
        target_fidelity=check_target_fidelity(target_fidelity),
        yields={name: float(out[name]) for name in PROTOCOLS},
        amplitude=float(out["amplitude"]),
        filter_strength=float(out["filter_strength"]),
        rounds=int(out["rounds"]),
        coherent_information=float(out["coherent_information"]),
        eof_max=float(out["eof_max"]),
    )


def yield_table(successes: ArrayLike = (0.9, 0.6, 0.4, 0.2, 0.1), **search) -> list[dict]:
    """Best yield against paper A's bound at each S (rows for reports and ``qkit reproduce``).

    ``search`` goes to :func:`best_yields`.
    """
    s = np.atleast_1d(check_success(successes))
    out = best_yields(s, **search)
    rows = []
    for i, si in enumerate(s):
        best, bound = float(out["best"][i]), float(out["eof_max"][i])
        rows.append(
            {
                "success": float(si),
                "yield": best,
                **{f"yield_{name}": float(out[name][i]) for name in PROTOCOLS},
                "amplitude": float(out["amplitude"][i]),
                "filter_strength": float(out["filter_strength"][i]),
                "rounds": int(out["rounds"][i]),
                "coherent_information": float(out["coherent_information"][i]),
                "eof_max": bound,
                "yield_over_eof_max": best / bound if bound > 0 else float("nan"),
                "pairs_per_bell_pair_achieved": 1.0 / best if best > 0 else float("inf"),
                "pairs_per_bell_pair_bound": 1.0 / bound if bound > 0 else float("inf"),
                "pairs_per_bell_pair": 1.0 / best if best > 0 else float("inf"),  # deprecated
            }
        )
    return rows
