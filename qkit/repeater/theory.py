"""Exact theory of a nested repeater chain of mixed-up pairs (beyond paper A, issue 22).

The model (Briegel, Dür, Cirac and Zoller, PRL 81, 5932 (1998); Dür et al., PRA 59, 169
(1999), with the links and the distillation of qkit):

- ``L = 2^n`` links between nodes ``0..L``, each delivering the same two-qubit state (the
  mixed-up pair ``M[psi_a]`` of paper A in :func:`chain`, any state in :func:`chain_state_from`).
- Levels ``l = 0..n``. At each level every qubit of the level's pairs is dephased,
  ``rho -> (1 - P) rho + P Z rho Z`` (``P`` = memory dephasing per level, in [0, 1/2]: a memory
  of coherence time ``T2`` held for ``t`` has ``P = (1 - exp(-t/T2))/2``), then ``K`` DEJMPS
  rounds as ``qkit theory distill`` defines a round (:func:`qkit.distill.theory.dejmps_round`:
  two pairs in, the kept one out with probability ``p``).
- Between levels neighbouring pairs are joined by entanglement swapping (:func:`swap`): a Bell
  measurement on the middle node's two qubits and the Pauli correction on the right end that
  maps ideal ``|Phi+>`` inputs to ``|Phi+>``, averaged over the four outcomes (deterministic).

All pairs of a level are identical, so a chain of ``2^n`` links costs ``n + 1`` levels of 4x4
algebra, and the chains of ``1, 2, 4, ..., 2^n`` links are its prefixes (:func:`chain_levels`).

``yield`` = end-to-end pairs per delivered pair consumed, ``1 / (L prod_{l,k} 2/p_{l,k})``.

Conventions: a pair's 4x4 density matrix is in qkit order, index ``2 q_left + q_right`` (the
left node's qubit is the first tensor factor). Qiskit labels little-endian: the
``DensityMatrix`` of a circuit whose qubit 0 is the left node is turned into this order by
:func:`qkit.measures.from_qiskit_order` (and every function of :mod:`qkit.measures` accepts a
Qiskit ``DensityMatrix`` directly). After a DEJMPS round the kept pair is in the rotated frame,
as in :mod:`qkit.distill.theory` (``|Phi+>`` is invariant, Bell-diagonal weights follow the
DEJMPS recurrence).

This module imports neither qiskit nor qutip (``qkit theory`` must start fast).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit import measures
from qkit._validate import check_amplitude, check_density_matrix, check_range, check_success
from qkit.distill import theory as distill
from qkit.mixup import theory as mixup

MAX_LEVELS = 20
MAX_LINKS = 2**MAX_LEVELS
"""Largest number of links accepted (21 levels)."""
MAX_ROUNDS = 64
"""Largest number of DEJMPS rounds per level (each round at least halves the yield)."""
MAX_DEPHASING = 0.5
"""``P = 1/2`` erases all phase coherence; ``P > 1/2`` is ``1 - P`` followed by a Z flip."""

BELL_BASIS = distill.BELL_BASIS
"""Rows ``|Phi+>, |Psi->, |Psi+>, |Phi->`` (the order of :data:`qkit.distill.BELL_NAMES`)."""

_I2 = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Z = np.diag([1.0, -1.0]).astype(complex)
SWAP_CORRECTIONS = np.stack([_I2, _X @ _Z, _X, _Z])
"""Correction on the right end per Bell outcome ``(Phi+, Psi-, Psi+, Phi-)`` of the middle node:
``I``, ``XZ`` (= ``-iY``), ``X``, ``Z``. With them ideal ``|Phi+> |Phi+>`` gives ``|Phi+>`` for
every outcome (tested)."""

# Bell projections on the middle qubits as a tensor <B_k|_{b c}: (4 outcomes, 2, 2)
_BELL_BRA = BELL_BASIS.conj().reshape(4, 2, 2)

# Bell-diagonal (twirled) states: Bell states as Paulis on the right qubit of |Phi+>:
# Phi+ = I, Psi- ~ XZ, Psi+ = X, Phi- = Z. Swapping multiplies the Paulis (Klein group).
_PAULI_BITS = np.array([[0, 0], [1, 1], [1, 0], [0, 1]])  # (x, z) bits per Bell weight
_PAULI_PRODUCT = np.array(
    [
        [int(np.flatnonzero((_PAULI_BITS == (bi ^ bj)).all(axis=1))[0]) for bj in _PAULI_BITS]
        for bi in _PAULI_BITS
    ]
)  # index of the product of Paulis i and j


# --- validation ----------------------------------------------------------------------------


def _integer(value: object) -> int | None:
    """``value`` as an int if it is a whole number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        return None
    if not np.isfinite(value) or int(value) != value:
        return None
    return int(value)


def check_links(links: object) -> int:
    """Number of links ``L``: a power of two in ``[1, 2^20]``; returns the number of levels n."""
    n = _integer(links)
    if n is None or not 1 <= n <= MAX_LINKS or n & (n - 1):
        raise ValueError(
            f"links must be a power of two in [1, {MAX_LINKS}] (1, 2, 4, ...), got {links!r}"
        )
    return n.bit_length() - 1


def check_links_count(links: object) -> int:
    """:func:`check_links`, returning ``L`` itself."""
    return 2 ** check_links(links)


def check_rounds(rounds: object) -> int:
    """DEJMPS rounds per level ``K``: an integer in ``[0, 64]``."""
    k = _integer(rounds)
    if k is None or not 0 <= k <= MAX_ROUNDS:
        raise ValueError(f"rounds must be an integer in [0, {MAX_ROUNDS}], got {rounds!r}")
    return k


def check_dephasing(dephasing: ArrayLike) -> np.ndarray:
    """Memory dephasing per level ``P`` in ``[0, 1/2]``."""
    return check_range("dephasing", dephasing, 0.0, MAX_DEPHASING)


# --- the three operations on (stacks of) pairs ---------------------------------------------


def dephase(rho: ArrayLike, dephasing: ArrayLike) -> np.ndarray:
    """``(1-P) rho + P Z rho Z`` on both qubits of ``rho`` (..., 4, 4).

    An entry ``rho_{ij}`` is multiplied by ``(1 - 2P)^d``, ``d`` the number of qubits on which
    the labels ``i`` and ``j`` differ.
    """
    r = check_density_matrix(rho)
    return _dephase(r, check_dephasing(dephasing))


_DIFFERING_QUBITS = np.array([[bin(i ^ j).count("1") for j in range(4)] for i in range(4)])


def _dephase(r: np.ndarray, p: np.ndarray) -> np.ndarray:
    shrink = (1.0 - 2.0 * np.asarray(p, dtype=float))[..., None, None]
    return r * shrink**_DIFFERING_QUBITS


def swap(left: ArrayLike, right: ArrayLike) -> np.ndarray:
    """Entanglement swapping of ``left`` on (A, B1) and ``right`` on (B2, C): the pair (A, C).

    ``sum_k (I ⊗ U_k) <B_k|_{B1 B2} (left ⊗ right) |B_k>_{B1 B2} (I ⊗ U_k)^dag`` with the Bell
    states ``B_k`` and corrections :data:`SWAP_CORRECTIONS`: the outcome-averaged (and so
    deterministic, trace-preserving) LOCC map. Broadcasts over leading axes.
    """
    return _swap(check_density_matrix(left, name="left"), check_density_matrix(right, name="right"))


def _swap(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(left.shape, right.shape)[:-2]
    l6 = left.reshape(*left.shape[:-2], 2, 2, 2, 2)  # a b a' b'
    r6 = right.reshape(*right.shape[:-2], 2, 2, 2, 2)  # c d c' d'
    # per outcome k: sum conj(B_k[b c]) l[a b a' b'] r[c d c' d'] B_k[b' c'] -> [k a d a' d']
    out = np.einsum(
        "kbc,...abxy,...cdzw,kyz->...kadxw", _BELL_BRA, l6, r6, _BELL_BRA.conj(), optimize=True
    )
    out = np.einsum("kde,...kaexw,kvw->...adxv", SWAP_CORRECTIONS, out, SWAP_CORRECTIONS.conj())
    return out.reshape(*shape, 4, 4)


def swap_probabilities(left: ArrayLike, right: ArrayLike) -> np.ndarray:
    """Probabilities of the four Bell outcomes ``(Phi+, Psi-, Psi+, Phi-)`` of a swap, (..., 4)."""
    l6 = check_density_matrix(left, name="left")
    r6 = check_density_matrix(right, name="right")
    l6 = l6.reshape(*l6.shape[:-2], 2, 2, 2, 2)
    r6 = r6.reshape(*r6.shape[:-2], 2, 2, 2, 2)
    return np.real(np.einsum("kbc,...abay,...cdzd,kyz->...k", _BELL_BRA, l6, r6, _BELL_BRA.conj()))


# --- the chain -----------------------------------------------------------------------------


def chain_levels(
    link_rho: ArrayLike, levels: int, rounds: int = 0, dephasing: ArrayLike = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The chains of ``1, 2, 4, ..., 2^levels`` links at once (each a prefix of the next).

    Returns ``(states, p)``: ``states`` (..., levels + 1, 4, 4), entry ``l`` the end-to-end pair
    of the chain of ``2^l`` links after its last level's dephasing and rounds, and ``p``
    (..., levels + 1, rounds) the DEJMPS success probabilities of level ``l``. ``link_rho``
    (..., 4, 4) and ``dephasing`` broadcast over leading axes.
    """
    r = check_density_matrix(link_rho, name="link_rho")
    n = _integer(levels)
    if n is None or not 0 <= n <= MAX_LEVELS:
        raise ValueError(f"levels must be an integer in [0, {MAX_LEVELS}], got {levels!r}")
    k = check_rounds(rounds)
    p_deph = check_dephasing(dephasing)
    shape = np.broadcast_shapes(r.shape[:-2], p_deph.shape)
    state = np.broadcast_to(r, (*shape, 4, 4))
    states, probabilities = [], []
    for level in range(n + 1):
        if level:
            state = _swap(state, state)
        state = _dephase(state, p_deph)
        ps = []
        for _ in range(k):
            p, state = distill._dejmps_round(state)
            ps.append(p)
        state = _tidy(state)
        states.append(state)
        probabilities.append(np.stack(ps, axis=-1) if k else np.zeros((*shape, 0)))
    return np.stack(states, axis=-3), np.stack(probabilities, axis=-2)


def _tidy(state: np.ndarray) -> np.ndarray:
    """Hermitian part with unit trace: rounding must not pile up over 21 levels."""
    herm = 0.5 * (state + np.conj(np.swapaxes(state, -1, -2)))
    return herm / np.real(np.trace(herm, axis1=-2, axis2=-1))[..., None, None]


def chain_state_from(
    link_rho: ArrayLike, links: int, rounds: int = 0, dephasing: float = 0.0
) -> tuple[np.ndarray, list[float]]:
    """End-to-end pair of a chain of ``links`` copies of ``link_rho`` (any two-qubit state).

    Returns ``(rho, success_probabilities)``: the 4x4 state (qkit order, left node first; see
    the module docstring for Qiskit's order) and the DEJMPS success probabilities, one per
    level and round in order (level 0 round 1, ..., level n round K).
    """
    n = check_links(links)
    states, p = chain_levels(link_rho, n, rounds, dephasing)
    if states.ndim != 3:
        raise ValueError("chain_state_from takes one link state (4, 4) and a scalar dephasing")
    return states[-1], [float(x) for x in p.ravel()]


def chain_state(
    links: int, success: float, amplitude: float, rounds: int = 0, dephasing: float = 0.0
) -> tuple[np.ndarray, list[float]]:
    """:func:`chain_state_from` for links delivering the mixed-up pair ``M[psi_a]`` (paper A)."""
    return chain_state_from(_link(success, amplitude), links, rounds, dephasing)


def _link(success: ArrayLike, amplitude: ArrayLike) -> np.ndarray:
    return mixup.state(check_success(success), check_amplitude(amplitude))


def chain_yield(links: int, success_probabilities: ArrayLike) -> np.ndarray:
    """End-to-end pairs per delivered pair: ``1 / (L prod 2/p)`` over every level and round."""
    p = np.asarray(success_probabilities, dtype=float)
    return np.prod(p / 2.0, axis=-1) / check_links_count(links)


def figures_of_merit(rho: ArrayLike) -> dict[str, np.ndarray]:
    """``fidelity`` (with ``|Phi+>``), ``concurrence``, ``eof``, ``chsh_max`` of (...,4,4)."""
    r = np.asarray(rho, dtype=complex)
    return {
        "fidelity": np.clip(distill.bell_fidelity(r), 0.0, 1.0),  # rounding: 1 + 2e-16
        "concurrence": measures.concurrence(r, trusted=True),
        "eof": measures.entanglement_of_formation(r, trusted=True),
        "chsh_max": measures.chsh_max(r, trusted=True),
    }


def chain_record(link_rho: ArrayLike, links: int, rounds: int = 0, dephasing: float = 0.0) -> dict:
    """Outputs of :func:`chain_state_from` without the parameters of the link."""
    k = check_rounds(rounds)
    p_deph = float(check_dephasing(dephasing))
    rho, p = chain_state_from(link_rho, links, k, p_deph)
    merits = {name: float(value) for name, value in figures_of_merit(rho).items()}
    return {
        "links": int(links),
        "rounds": k,
        "dephasing": p_deph,
        **merits,
        "yield": float(chain_yield(int(links), np.array(p, dtype=float))),
        "success_probabilities": p,
    }


def chain(
    links: int, success: float, amplitude: float, rounds: int = 0, dephasing: float = 0.0
) -> dict:
    """The ``qkit theory chain`` record: the end-to-end pair of links delivering ``M[psi_a]``.

    Keys ``links, success, amplitude, rounds, dephasing, fidelity, concurrence, eof, chsh_max,
    yield, success_probabilities``.

    >>> r = chain(4, 1.0, 2 ** -0.5)  # perfect links: a perfect end-to-end pair
    >>> round(r["fidelity"], 12), r["yield"]
    (1.0, 0.25)
    """
    s = float(check_success(success))
    a = float(check_amplitude(amplitude))
    record = chain_record(_link(s, a), links, rounds, dephasing)
    return {
        "links": record["links"],
        "success": s,
        "amplitude": a,
        **{key: record[key] for key in _OUTPUT_KEYS},
    }


_OUTPUT_KEYS = (
    "rounds",
    "dephasing",
    "fidelity",
    "concurrence",
    "eof",
    "chsh_max",
    "yield",
    "success_probabilities",
)
CHAIN_KEYS = ("links", "success", "amplitude", *_OUTPUT_KEYS)
"""Keys of the :func:`chain` record (and of ``qkit theory chain --json``)."""


# --- twirled (Bell-diagonal) closed forms ------------------------------------------------


def bell_diagonal_swap(left: ArrayLike, right: ArrayLike) -> np.ndarray:
    """Swap of Bell-diagonal pairs, weights (..., 4) on ``(Phi+, Psi-, Psi+, Phi-)``.

    Each Bell state is ``(I ⊗ sigma)|Phi+>`` for a Pauli ``sigma``; a swap multiplies the two
    Paulis, so ``w_k = sum_{i j: sigma_i sigma_j ~ sigma_k} l_i r_j`` (a Klein-group convolution).
    For Werner pairs it is ``F = F1 F2 + (1 - F1)(1 - F2)/3`` (:func:`werner_swap`).
    """
    lw = distill._check_weights(left)
    rw = distill._check_weights(right)
    out = np.zeros(np.broadcast_shapes(lw.shape, rw.shape))
    for i in range(4):
        for j in range(4):
            out[..., _PAULI_PRODUCT[i, j]] += lw[..., i] * rw[..., j]
    return out


def werner_swap(f_left: ArrayLike, f_right: ArrayLike) -> np.ndarray:
    """Bell fidelity after swapping Werner pairs: ``F1 F2 + (1 - F1)(1 - F2)/3``."""
    f1 = check_range("fidelity", f_left, 0.0, 1.0)
    f2 = check_range("fidelity", f_right, 0.0, 1.0)
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def bell_diagonal_dephase(weights: ArrayLike, dephasing: ArrayLike) -> np.ndarray:
    """Dephasing ``P`` on both qubits of a Bell-diagonal pair.

    ``Z`` on one qubit exchanges ``Phi+ <-> Phi-`` and ``Psi+ <-> Psi-``; ``Z ⊗ Z`` changes no
    weight, so the pair flips with probability ``q = 2 P (1 - P)``.
    """
    w = distill._check_weights(weights)
    p = check_dephasing(dephasing)[..., None]
    q = 2.0 * p * (1.0 - p)
    return (1.0 - q) * w + q * w[..., [3, 2, 1, 0]]


def bell_diagonal_chain_levels(
    weights: ArrayLike, levels: int, rounds: int = 0, dephasing: ArrayLike = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`chain_levels` for twirled links: weights (..., levels + 1, 4) and ``p``.

    Dephasing by :func:`bell_diagonal_dephase`, DEJMPS by the recurrence
    (:func:`qkit.distill.theory.dejmps_recurrence`), swaps by :func:`bell_diagonal_swap`.
    """
    w = distill._check_weights(weights)
    k = check_rounds(rounds)
    p_deph = check_dephasing(dephasing)
    out, probabilities = [], []
    for level in range(int(levels) + 1):
        if level:
            w = bell_diagonal_swap(w, w)
        w = bell_diagonal_dephase(w, p_deph)
        ps = []
        for _ in range(k):
            n, w = distill.dejmps_recurrence(w)
            ps.append(n)
        out.append(w)
        probabilities.append(np.stack(ps, axis=-1) if k else np.zeros((*w.shape[:-1], 0)))
    return np.stack(out, axis=-2), np.stack(probabilities, axis=-2)


def werner_chain_fidelity(
    fidelity: ArrayLike, links: ArrayLike, dephasing: ArrayLike = 0.0
) -> np.ndarray:
    """Closed form without distillation: Werner links of Bell fidelity ``F``, ``L = 2^n`` links.

    In the Pauli-character basis a swap multiplies, so with ``w = (4F - 1)/3`` and
    ``c = (1 - 2P)^2`` (both qubits of a pair dephased): ``t_z = w^L`` and
    ``t_x = t_y = w^L c^(2L - 1)`` (the level-``l`` pairs of one end-to-end pair, ``L/2^l`` of
    them, are each dephased once), ``F_L = (1 + t_x + t_y + t_z)/4`` (signs such that
    ``|Phi+>`` has all three equal to 1). Without dephasing ``F_L = 1/4 + 3/4 w^L`` for any
    ``L`` (sequential and nested swaps agree).
    """
    f = check_range("fidelity", fidelity, 0.0, 1.0)
    length = check_range("links", links, 1.0, float(MAX_LINKS))
    c = (1.0 - 2.0 * check_dephasing(dephasing)) ** 2
    w = (4.0 * f - 1.0) / 3.0
    wl = w**length
    return (1.0 + 2.0 * wl * c ** (2.0 * length - 1.0) + wl) / 4.0


def werner_entanglement_distance(fidelity: ArrayLike) -> np.ndarray:
    """Links over which swapped Werner pairs stay entangled (no dephasing, no distillation).

    ``F_L > 1/2`` iff ``w^L > 1/3``: ``L < ln 3 / ln(1/w)``, ``w = (4F - 1)/3``; inf at F = 1,
    0 where the links are not entangled (``F <= 1/2``).
    """
    f = check_range("fidelity", fidelity, 0.0, 1.0)
    w = (4.0 * f - 1.0) / 3.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(3.0) / np.log(1.0 / np.where(w > 0, w, 1.0))
    return np.where(f >= 1.0, np.inf, np.where(f > 0.5, out, 0.0))


def werner_chsh_distance(fidelity: ArrayLike) -> np.ndarray:
    """Links over which swapped Werner pairs violate CHSH: ``2 sqrt2 w^L > 2``.

    ``L < ln 2 / (2 ln(1/w))``, ``w = (4F - 1)/3``; inf at F = 1, 0 without a violation.
    """
    f = check_range("fidelity", fidelity, 0.0, 1.0)
    w = (4.0 * f - 1.0) / 3.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * np.log(2.0) / np.log(1.0 / np.where(w > 0, w, 1.0))
    return np.where(f >= 1.0, np.inf, np.where(w > 2**-0.5, out, 0.0))


# --- reach and the rounds needed ---------------------------------------------------------

CRITERIA = ("entangled", "chsh")
"""``entangled``: concurrence > 0; ``chsh``: ``chsh_max > 2`` (a CHSH violation is possible)."""
_TOLERANCE = 1e-12


def reach(
    success: float,
    amplitude: float,
    rounds: int = 0,
    dephasing: float = 0.0,
    criterion: str = "entangled",
    *,
    max_links: int = MAX_LINKS,
) -> int:
    """Largest ``L = 2^n <= max_links`` such that every chain of ``1, 2, ..., L`` links meets
    ``criterion`` (:data:`CRITERIA`); 0 if a single link does not. ``max_links`` means "at
    least": the chain still works there. The chain stops working at ``2 L`` links.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    n = check_links(max_links)
    states, _ = chain_levels(_link(success, amplitude), n, rounds, dephasing)
    ok = _works(states, criterion)
    failing = np.flatnonzero(~ok)
    last = n if failing.size == 0 else int(failing[0]) - 1
    return 0 if last < 0 else 2**last


def _works(states: np.ndarray, criterion: str) -> np.ndarray:
    merits = figures_of_merit(states)
    if criterion == "entangled":
        return merits["concurrence"] > _TOLERANCE
    return merits["chsh_max"] > 2.0 + _TOLERANCE


def best_rounds(
    links: int,
    success: float,
    amplitude: float,
    target_fidelity: float,
    dephasing: float = 0.0,
    *,
    max_rounds: int = 16,
) -> int | None:
    """Fewest DEJMPS rounds per level ``K <= max_rounds`` whose end-to-end fidelity reaches
    ``target_fidelity``; ``None`` if none does.

    Each round multiplies the yield by ``p/2 <= 1/2`` at every level, so the fewest rounds that
    reach the target give the largest yield among those that do.
    """
    f_t = distill.check_target_fidelity(target_fidelity)
    check_links(links)
    k_max = check_rounds(max_rounds)
    link = _link(success, amplitude)
    for k in range(k_max + 1):
        rho, _ = chain_state_from(link, links, k, dephasing)
        if distill.bell_fidelity(rho) >= f_t:
            return k
    return None


def chain_curves(
    success: ArrayLike,
    amplitude: ArrayLike,
    levels: int,
    rounds: int = 0,
    dephasing: ArrayLike = 0.0,
) -> dict[str, np.ndarray]:
    """Figures of merit and yield for ``L = 1, 2, ..., 2^levels``, broadcast over S, a, P.

    Returns ``links`` (levels + 1,) and ``fidelity``, ``concurrence``, ``eof``, ``chsh_max``,
    ``yield``, each (..., levels + 1).
    """
    s, a = np.broadcast_arrays(check_success(success), check_amplitude(amplitude))
    states, p = chain_levels(mixup.state(s, a), levels, rounds, dephasing)
    links = 2 ** np.arange(int(levels) + 1)
    per_level = np.prod(p / 2.0, axis=-1)  # (..., levels + 1)
    out = {name: np.asarray(v) for name, v in figures_of_merit(states).items()}
    out["yield"] = np.cumprod(per_level, axis=-1) / links
    out["links"] = links
    return out
