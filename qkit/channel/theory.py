"""Exact theory of paper B: classical capacity of a channel with correlated polarization noise.

Two time slots, each empty or holding one photon polarized H or V. The fibre applies the same
Haar-random U(2) element to both slots, then depolarizes slot 2 with Bloch shrink ``eta``
(``docs/physics.md``, paper B). The random phase removes coherence between photon-number sectors
(Lemma 1), so the capacity of one two-slot use is ``log2(sum_n 2^chi_n)`` (Eq. 8) with
``chi_0 = 0``, ``chi_1 = 1`` and ``chi_2`` from the two-photon sector, where every input becomes
a Werner state of parameter ``q = eta p`` (Eqs. 18-21).

Conventions: two-photon states are ``(..., 4, 4)`` arrays in the qkit basis
``|HH>, |HV>, |VH>, |VV>`` (``|H> = |0>``, ``|V> = |1>``, photon of slot 1 = left factor).
Two-slot states are ``(..., 9, 9)`` arrays in the basis ``|s1> ⊗ |s2>`` with slot basis
``|vac>, |H>, |V>`` (index ``3 * i1 + i2``). Everything broadcasts over arrays of ``eta``.

The Werner outputs commute and their triplet part is degenerate, so the two-photon Holevo
quantity is the mutual information of a binary channel ``input -> {singlet, triplet}`` with
``P(singlet) = s = (1 + 3 eta p) / 4``. Its optimum over the two ends of the allowed ``p`` range
(Lemma 2) is the capacity of that binary channel, in closed form (see :func:`chi2`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit import measures
from qkit._states import as_density_matrix
from qkit._validate import check_eta, check_inputs, check_range

CHI0 = 0.0
"""Holevo quantity of the zero-photon sector (one state), bits."""
CHI1 = 1.0
"""Holevo quantity of the one-photon sector (which slot; polarization adds nothing), bits."""

TWO_SLOT_LABELS = ("empty", "slot1", "slot2")
"""Labels of the n = 0 and n = 1 letters of the optimal two-slot alphabet."""
RECEIVER_OUTCOMES = ("none", "slot1", "slot2", "singlet", "triplet")
"""Outcome labels of the full receiver (:func:`receiver_conditional_probabilities`)."""

TWO_PHOTON_INDICES = (4, 5, 7, 8)
"""Rows of ``|HH>, |HV>, |VH>, |VV>`` in the 9-dim two-slot basis (index ``3 i1 + i2``)."""

_SINGLET = np.array([0.0, 1.0, -1.0, 0.0]) / np.sqrt(2.0)
_SINGLET_PROJECTOR = np.array([[0, 0, 0, 0], [0, 1, -1, 0], [0, -1, 1, 0], [0, 0, 0, 0]]) / 2.0
_HH = np.array([1.0, 0.0, 0.0, 0.0])
_HV = np.array([0.0, 1.0, 0.0, 0.0])
_PAIR_STATES = {"singlet": _SINGLET, "triplet_HH": _HH, "HV": _HV, "HH": _HH}
_ENSEMBLE_LABELS = {"entangled": ("singlet", "triplet_HH"), "separable": ("HV", "HH")}
_WERNER_RANGE = {"entangled": (-1.0 / 3.0, 1.0), "separable": (-1.0 / 3.0, 1.0 / 3.0)}
_TOL = 1e-12
# Below this gap between the two singlet probabilities the optimum is evaluated from a
# cancellation-free expansion (relative entropies via log1p(x) - x series).
_SMALL_GAP = 1e-2


def _check_q(name: str, value: ArrayLike) -> np.ndarray:
    """Werner parameter in [-1/3, 1] (rounding of 1e-12 tolerated, then clipped)."""
    q = check_range(name, value, -1.0 / 3.0 - _TOL, 1.0 + _TOL)
    return np.clip(q, -1.0 / 3.0, 1.0)


def _check_probabilities(probabilities: ArrayLike) -> np.ndarray:
    p = check_range("probabilities", probabilities, -_TOL, 1.0 + _TOL)
    if p.ndim == 0 or not np.allclose(np.sum(p, axis=-1), 1.0, atol=1e-9):
        raise ValueError("probabilities must sum to 1 along the last axis")
    return np.clip(p, 0.0, 1.0)


def _projector(ket: np.ndarray) -> np.ndarray:
    return _SINGLET_PROJECTOR if ket is _SINGLET else np.outer(ket, ket.conj())


def werner_state(p: ArrayLike) -> np.ndarray:
    """Werner state ``p |psi-><psi-| + (1 - p) I/4``, shape (..., 4, 4) (Eq. 18).

    ``|psi-> = (|HV> - |VH>) / sqrt2`` in the qkit order ``|HH>, |HV>, |VH>, |VV>``.

    >>> werner_state(1.0)[1:3, 1:3].tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    p = _check_q("p", p)[..., None, None]
    return p * _SINGLET_PROJECTOR + (1.0 - p) * np.eye(4) / 4.0


def werner_parameter(rho: object) -> np.ndarray:
    """Werner parameter ``p = (4F - 1)/3`` with ``F = <psi-|rho|psi->`` (Eq. 20).

    The ``U ⊗ U`` twirl maps ``rho`` to :func:`werner_state` of this parameter. ``rho`` is a
    two-photon state (or a stack), checked as in :mod:`qkit.measures` (arrays, Qiskit and QuTiP
    states), so ``p`` is in ``[-1/3, 1]``.

    >>> round(float(werner_parameter(np.diag([1.0, 0, 0, 0]))), 12)  # |HH>
    -0.333333333333
    """
    r = as_density_matrix(rho, "rho", 4)
    fidelity = measures.fidelity_pure(_SINGLET, r, trusted=True)
    return np.clip((4.0 * fidelity - 1.0) / 3.0, -1.0 / 3.0, 1.0)  # rounding only


def werner_range(inputs: str) -> tuple[float, float]:
    """Allowed Werner parameters of the inputs: entangled ``(-1/3, 1)`` (Eq. 22), separable
    ``(-1/3, 1/3)`` (Eq. 23, Horodecki: separable states have ``F <= 1/2``).

    >>> werner_range("separable")
    (-0.3333333333333333, 0.3333333333333333)
    """
    return _WERNER_RANGE[check_inputs(inputs)]


def singlet_probability(q: ArrayLike) -> np.ndarray:
    """Singlet weight ``(1 + 3q)/4`` of a Werner state of parameter ``q`` (output: ``q = eta p``).

    The other three eigenvalues are ``(1 - q)/4``.

    >>> float(singlet_probability(1 / 3))
    0.5
    """
    return (1.0 + 3.0 * _check_q("q", q)) / 4.0


def output_entropy(q: ArrayLike) -> np.ndarray:
    """Von Neumann entropy ``f(q)`` of the Werner state of parameter ``q`` (Eq. 26).

    ``f(q) = -(1+3q)/4 log2((1+3q)/4) - 3 (1-q)/4 log2((1-q)/4)``, concave on ``[-1/3, 1]``.

    >>> float(output_entropy(0.0))
    2.0
    """
    s = singlet_probability(q)
    t = (1.0 - s) / 3.0
    return measures.shannon_entropy(np.stack([s, t, t, t], axis=-1), trusted=True)


def holevo_two_photon(
    probabilities: ArrayLike, werner_parameters: ArrayLike, eta: ArrayLike
) -> np.ndarray:
    """Holevo quantity of two-photon inputs with Werner parameters ``p_i`` (Eq. 25).

    ``chi = f(eta sum_i P_i p_i) - sum_i P_i f(eta p_i)`` (a mixture of Werner states is the
    Werner state of the mean parameter, Eq. 24). ``probabilities`` and ``werner_parameters``
    are (..., k); ``eta`` broadcasts against the leading axes.

    >>> round(float(holevo_two_photon([0.5, 0.5], [1.0, -1 / 3], 1.0)), 12)
    1.0
    """
    prob = _check_probabilities(probabilities)
    p = _check_q("werner_parameters", werner_parameters)
    eta = check_eta(eta)[..., None]
    mean = np.sum(prob * eta * p, axis=-1)
    return output_entropy(mean) - np.sum(prob * output_entropy(eta * p), axis=-1)


def _g_series(x: np.ndarray) -> np.ndarray:
    """``(log1p(x) - x) / x^2`` for ``|x| <= 0.1`` (series, no cancellation)."""
    k = np.arange(2, 22)
    return np.sum((-1.0) ** (k + 1) * x[..., None] ** (k - 2) / k, axis=-1)


def _kl_over_gap_squared(b: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``D(b + delta || b) / delta^2`` (nats) of Bernoulli laws, small ``|delta|`` (0 included)."""
    gx, gy = _g_series(delta / b), _g_series(-delta / (1.0 - b))
    return (
        gx / b + gy / (1.0 - b) + 1.0 / (b * (1.0 - b)) + delta * (gx / b**2 - gy / (1.0 - b) ** 2)
    )


def _binary_optimum(s_hi: np.ndarray, s_lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and optimal ``P(hi)`` of the channel ``x -> singlet`` with ``P = s_hi, s_lo``.

    With the chord slope ``kappa = (h(s_hi) - h(s_lo)) / (s_hi - s_lo)`` the optimal mean singlet
    probability is ``s* = 1 / (1 + 2^kappa)`` (where ``h'(s*) = kappa``), ``P(hi) = (s* - s_lo) /
    (s_hi - s_lo)`` and ``chi = h(s*) - [h(s_lo) + kappa (s* - s_lo)] = log2(1 + 2^kappa) -
    kappa (1 - s_lo) - h(s_lo)``. Near ``s_hi = s_lo`` (``eta -> 0``) the same quantities come
    from ``kappa = h'(s_lo) - D(s_hi||s_lo)/gap`` and ``chi = sum_x P(x) D(s_x || s*)``, which
    have finite limits (``P(hi) -> 1/2``, ``chi -> 0``).
    """
    gap = s_hi - s_lo
    small = gap < _SMALL_GAP
    # Regular branch.
    g = np.where(small, 1.0, gap)
    kappa = (measures.binary_entropy(s_hi) - measures.binary_entropy(s_lo)) / g
    prob_reg = (1.0 / (1.0 + 2.0**kappa) - s_lo) / g
    chi_reg = np.log2(1.0 + 2.0**kappa) - kappa * (1.0 - s_lo) - measures.binary_entropy(s_lo)
    # Small-gap branch (s_lo is then near 1/4, far from 0 and 1).
    d = np.where(small, gap, 0.0)
    b = np.where(small, s_lo, 0.25)
    lam = np.log2((1.0 - b) / b)
    r = _kl_over_gap_squared(b, d)
    kap = lam - r * d / np.log(2.0)
    z = r * d
    expm1_ratio = np.where(z > 0, -np.expm1(-z) / np.where(z > 0, z, 1.0), 1.0)
    prob_small = 2.0**lam * r * expm1_ratio / ((1.0 + 2.0**kap) * (1.0 + 2.0**lam))
    s_star = b + prob_small * d
    chi_small = (
        d**2
        * (
            prob_small * (1 - prob_small) ** 2 * _kl_over_gap_squared(s_star, (1 - prob_small) * d)
            + (1 - prob_small) * prob_small**2 * _kl_over_gap_squared(s_star, -prob_small * d)
        )
        / np.log(2.0)
    )
    prob = np.clip(np.where(small, prob_small, prob_reg), 0.0, 1.0)
    chi = np.clip(np.where(small, chi_small, chi_reg), 0.0, None)
    return chi, prob


def optimal_ensemble(eta: ArrayLike, inputs: str) -> dict:
    """Optimal two-photon input ensemble (Lemma 2, Eqs. 29-32, Sec. V).

    The two ends of the allowed Werner range, sent with the probabilities that maximize
    Eq. 25. Entangled: singlet (``p = 1``) and ``|HH>`` (``p = -1/3``); separable: ``|HV>``
    (``p = 1/3``) and ``|HH>``. At ``eta = 0`` every ensemble gives ``chi = 0``; the returned
    probabilities are then the continuous limit ``(1/2, 1/2)``.

    Returns
    -------
    dict
        ``labels`` (2 names), ``werner_parameters`` (2,), ``probabilities`` (..., 2) over ``eta``,
        ``states`` (2, 4, 4) input density matrices in the qkit order.

    >>> ens = optimal_ensemble(1.0, "separable")
    >>> ens["labels"], ens["probabilities"].round(12).tolist()
    (('HV', 'HH'), [0.4, 0.6])
    """
    eta = check_eta(eta)
    labels = _ENSEMBLE_LABELS[check_inputs(inputs)]
    p_lo, p_hi = _WERNER_RANGE[inputs]
    _, prob_hi = _binary_optimum((1.0 + 3.0 * eta * p_hi) / 4.0, (1.0 + 3.0 * eta * p_lo) / 4.0)
    states = np.array([_projector(_PAIR_STATES[name]) for name in labels])
    return {
        "labels": labels,
        "werner_parameters": np.array([p_hi, p_lo]),
        "probabilities": np.stack([prob_hi, 1.0 - prob_hi], axis=-1),
        "states": states.astype(complex),
    }


def chi2(eta: ArrayLike, inputs: str) -> np.ndarray:
    """Optimal Holevo quantity of the two-photon sector (Eqs. 31-32), bits.

    With ``s_pm = (1 + 3 eta p_pm)/4`` the singlet probabilities of the two range ends and
    ``kappa = (h(s_+) - h(s_-)) / (s_+ - s_-)``:
    ``chi_2 = log2(1 + 2^kappa) - kappa (1 - s_-) - h(s_-)`` (0 at ``eta = 0``).

    >>> float(chi2(1.0, "entangled")), round(float(chi2(1.0, "separable")), 12)
    (1.0, 0.321928094887)
    """
    eta = check_eta(eta)
    p_lo, p_hi = werner_range(inputs)
    return _binary_optimum((1.0 + 3.0 * eta * p_hi) / 4.0, (1.0 + 3.0 * eta * p_lo) / 4.0)[0]


def capacity(eta: ArrayLike, inputs: str) -> np.ndarray:
    """Holevo capacity of one two-slot use (Eq. 8, Fig. 5), bits per two slots.

    ``C = log2(2^chi_0 + 2^chi_1 + 2^chi_2) = log2(3 + 2^chi_2)``.

    >>> bool(capacity(1.0, "entangled") == np.log2(5))
    True
    """
    return np.log2(2.0**CHI0 + 2.0**CHI1 + 2.0 ** chi2(eta, inputs))


def sector_probabilities(eta: ArrayLike, inputs: str) -> np.ndarray:
    """Optimal sector probabilities ``2^chi_n / sum_m 2^chi_m``, ``n = 0, 1, 2`` (Eq. 6), (..., 3).

    >>> sector_probabilities(1.0, "entangled").tolist()
    [0.2, 0.4, 0.4]
    """
    c2 = chi2(eta, inputs)
    weights = np.stack(np.broadcast_arrays(2.0**CHI0, 2.0**CHI1, 2.0**c2), axis=-1)
    return weights / np.sum(weights, axis=-1, keepdims=True)


def capacity_unpolarized() -> float:
    """Capacity ignoring polarization: occupancy of two slots, ``log2 4 = 2`` bits.

    >>> capacity_unpolarized()
    2.0
    """
    return 2.0


def conditional_probabilities(werner_parameters: ArrayLike, eta: ArrayLike) -> np.ndarray:
    """``P(singlet), P(triplet)`` of the singlet/triplet measurement (Eq. 35, Fig. 4), (..., 2).

    For an input of Werner parameter ``p`` the output is Werner with ``q = eta p``, so
    ``P(singlet) = (1 + 3 eta p)/4``. Any input state works via :func:`werner_parameter`.

    >>> conditional_probabilities([1.0, -1 / 3], 1.0).round(12).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    p = _check_q("werner_parameters", werner_parameters)
    s = singlet_probability(check_eta(eta) * p)
    return np.stack([s, 1.0 - s], axis=-1)


def measurement_mutual_information(
    probabilities: ArrayLike, werner_parameters: ArrayLike, eta: ArrayLike
) -> np.ndarray:
    """Mutual information between the input and the singlet/triplet outcome (Sec. V), bits.

    Arguments as in :func:`holevo_two_photon`; the two are equal (the measurement attains the
    Holevo bound because the Werner outputs commute and their triplet part is degenerate).

    >>> float(measurement_mutual_information([0.5, 0.5], [1.0, -1 / 3], 1.0))
    1.0
    """
    prob = _check_probabilities(probabilities)
    cond = conditional_probabilities(werner_parameters, np.asarray(check_eta(eta))[..., None])
    return measures.mutual_information(prob[..., None] * cond)


def _slot_ket(i1: int, i2: int) -> np.ndarray:
    ket = np.zeros(9)
    ket[3 * i1 + i2] = 1.0
    return ket


def embed_two_photon(rho: object, *, trusted: bool = False) -> np.ndarray:
    """Embed two-photon states (..., 4, 4) (qkit order) into the 9-dim two-slot space.

    ``rho`` is checked as in :mod:`qkit.measures` unless ``trusted``.

    >>> int(np.argmax(np.diag(embed_two_photon(np.diag([1.0, 0, 0, 0])))))  # |H, H>
    4
    """
    r = np.asarray(as_density_matrix(rho, "rho", 4, trusted=trusted))
    out = np.zeros((*r.shape[:-2], 9, 9), dtype=np.result_type(r, float))
    idx = np.array(TWO_PHOTON_INDICES)
    out[..., idx[:, None], idx[None, :]] = r
    return out


def two_slot_ensemble(eta: ArrayLike, inputs: str) -> dict:
    """The optimal two-slot alphabet (Sec. V): ``|vac,vac>``, ``|V,vac>``, ``|vac,V>`` and the
    two photon-pair states of :func:`optimal_ensemble`, with probabilities
    ``(1, 1, 1, 2^chi_2 P_+, 2^chi_2 P_-) / (3 + 2^chi_2)``.

    Returns
    -------
    dict
        ``labels`` (5 names: ``TWO_SLOT_LABELS`` then the pair labels of
        :func:`optimal_ensemble`), ``probabilities`` (..., 5), ``states`` (5, 9, 9) in the basis
        ``|s1> ⊗ |s2>``, slot basis ``|vac>, |H>, |V>``.

    >>> two_slot_ensemble(1.0, "entangled")["probabilities"].round(12).tolist()
    [0.2, 0.2, 0.2, 0.2, 0.2]
    """
    pair = optimal_ensemble(eta, inputs)
    sectors = sector_probabilities(eta, inputs)
    probabilities = np.concatenate(
        [
            sectors[..., :1],
            sectors[..., 1:2] / 2.0,
            sectors[..., 1:2] / 2.0,
            sectors[..., 2:] * pair["probabilities"],
        ],
        axis=-1,
    )
    kets = [_slot_ket(0, 0), _slot_ket(2, 0), _slot_ket(0, 2)]
    low = np.array([np.outer(k, k) for k in kets], dtype=complex)
    states = np.concatenate([low, embed_two_photon(pair["states"], trusted=True)])
    return {
        "labels": TWO_SLOT_LABELS + pair["labels"],
        "probabilities": probabilities,
        "states": states,
    }


def receiver_conditional_probabilities(eta: ArrayLike, inputs: str) -> np.ndarray:
    """``P(outcome | input)`` of the full receiver for the alphabet of :func:`two_slot_ensemble`,
    shape (..., 5, 5) (Sec. V).

    The receiver counts photons per slot; with one photon it reports the slot, with two it
    makes the singlet/triplet measurement. Outcomes are ``RECEIVER_OUTCOMES``. With the
    optimal prior its mutual information equals :func:`capacity`.

    >>> receiver_conditional_probabilities(1.0, "separable")[3].tolist()
    [0.0, 0.0, 0.0, 0.5, 0.5]
    """
    eta = check_eta(eta)
    p_lo, p_hi = werner_range(inputs)
    pair = conditional_probabilities(np.array([p_hi, p_lo]), eta[..., None])
    matrix = np.zeros((*eta.shape, 5, 5))
    matrix[..., 0, 0] = matrix[..., 1, 1] = matrix[..., 2, 2] = 1.0
    matrix[..., 3:, 3:] = pair
    return matrix


def train_capacity(eta: ArrayLike, inputs: str) -> np.ndarray:
    """Rate of the closing remark's slot train, bits per pair of slots (Sec. VI).

    Each slot holds a photon with probability 1/2 (1 bit of occupancy per slot); consecutive
    photons are paired, the second encoding the optimal two-photon letter relative to the
    first, read by the singlet/triplet measurement. Two slots carry one photon on average,
    i.e. half a photon pair, so the rate is ``2 + chi_2(eta) / 2`` (2.5 at ``eta = 1`` with
    entangled inputs). Assumptions: the noise correlation between the two photons of a pair
    is ``eta`` whatever their separation (the paper takes ``eta = 1``: birefringence frozen
    over the pair), and the occupancy stays at 1/2 (the paper's protocol; not re-optimized),
    so this is an achievable rate of that protocol, not an optimized capacity.

    >>> float(train_capacity(1.0, "entangled"))
    2.5
    """
    return 2.0 + chi2(eta, inputs) / 2.0
