"""Paper B's channel and the Braunstein–Mann measurement built from linear optics in Fock space.

The channel is defined on field operators (Sec. III): each slot has modes ``a_H, a_V``; a
polarization transformation ``g = exp(iH)`` in U(2) acts on a slot by the passive linear-optics
unitary ``exp(i sum_jk H_jk a_j^dag a_k)``. The fibre applies the same Haar-random ``g`` to both
slots (Eq. 10), then an extra Haar-random element to slot 2 with weight ``1 - eta`` (Eq. 11:
isotropic depolarization with Bloch shrink ``eta``). States live in the 9-dim space with at most
one photon per slot, basis ``|s1> ⊗ |s2>``, slot basis ``|vac>, |H>, |V>`` (index ``3 i1 + i2``,
QuTiP dims ``[[3, 3], [3, 3]]``), the same as :mod:`qkit.channel.theory`.

This module is the independent, from-the-definition model that the closed forms of
:mod:`qkit.channel.theory` are tested against.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np
import qutip
import scipy.linalg
from numpy.typing import ArrayLike

from qkit._validate import check_density_matrix, check_eta
from qkit.noise import clifford_group, haar_unitaries  # shared with the circuits

_SLOT_LABELS = ("vac", "H", "V")
_DIMS = [[3, 3], [3, 3]]


def two_slot_basis() -> dict[str, qutip.Qobj]:
    """The 9 basis kets ``|s1, s2>`` in index order ``3 i1 + i2`` (slot basis ``vac, H, V``).

    >>> list(two_slot_basis())[:4]
    ['vac,vac', 'vac,H', 'vac,V', 'H,vac']
    """
    return {
        f"{_SLOT_LABELS[i1]},{_SLOT_LABELS[i2]}": qutip.tensor(
            qutip.basis(3, i1), qutip.basis(3, i2)
        )
        for i1, i2 in product(range(3), repeat=2)
    }


def sector_projectors() -> tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj]:
    """Projectors onto the sectors of total photon number ``n = 0, 1, 2`` (9x9 Qobjs).

    >>> [int(round(p.tr())) for p in sector_projectors()]
    [1, 4, 4]
    """
    number = qutip.Qobj(np.diag([0.0, 1.0, 1.0]))
    total = qutip.tensor(number, qutip.qeye(3)) + qutip.tensor(qutip.qeye(3), number)
    diag = np.rint(np.real(total.diag()))
    return tuple(qutip.Qobj(np.diag((diag == n).astype(float)), dims=_DIMS) for n in range(3))


def _hermitian_log(g: np.ndarray) -> np.ndarray:
    """Hermitian ``H`` with ``exp(iH) = g`` for a unitary ``g`` (via its complex Schur form)."""
    t, z = scipy.linalg.schur(g, output="complex")  # g normal => t diagonal
    return z @ np.diag(np.angle(np.diag(t))) @ z.conj().T


def _check_unitary(g: ArrayLike) -> np.ndarray:
    g = np.asarray(g.full() if isinstance(g, qutip.Qobj) else g, dtype=complex)
    if g.shape != (2, 2) or not np.allclose(g.conj().T @ g, np.eye(2), atol=1e-10):
        raise ValueError("g must be a 2x2 unitary matrix")
    return g


def slot_unitary(g: ArrayLike) -> qutip.Qobj:
    """Action of ``g`` in U(2) on one slot: ``exp(i sum_jk H_jk a_j^dag a_k)`` with ``g = exp(iH)``,
    restricted to ``|vac>, |H>, |V>`` (3x3 Qobj; equals ``1 ⊕ g``).

    Built on two modes truncated at one photon each: the generator conserves photon number
    and never pushes a state with at most one photon out of the truncation, so the
    ``n <= 1`` block is exact.
    """
    h = _hermitian_log(_check_unitary(g))
    modes = [
        qutip.tensor(qutip.destroy(2), qutip.qeye(2)),
        qutip.tensor(qutip.qeye(2), qutip.destroy(2)),
    ]
    generator = sum(h[j, k] * modes[j].dag() * modes[k] for j in range(2) for k in range(2))
    fock = (1j * generator).expm()
    kets = [qutip.basis([2, 2], occ) for occ in ([0, 0], [1, 0], [0, 1])]
    return qutip.Qobj([[(kets[r].dag() * fock * kets[c]) for c in range(3)] for r in range(3)])


def field_unitary(g: ArrayLike) -> qutip.Qobj:
    """The same ``g`` on both slots: ``slot_unitary(g) ⊗ slot_unitary(g)``, 9x9 (Eqs. 12, 14).

    >>> u = field_unitary(np.exp(0.3j) * np.eye(2))  # a pure phase: e^{0.3 i n} on n photons
    >>> np.allclose(u.diag(), np.exp(0.3j * np.array([0, 1, 1, 1, 2, 2, 1, 2, 2])))
    True
    """
    u = slot_unitary(g)
    return qutip.tensor(u, u)


@lru_cache(maxsize=1)
def _design_elements() -> np.ndarray:
    """The 72 elements ``w^k C``, ``C`` Clifford, ``w = exp(2 pi i / 3)``, shape (72, 2, 2)."""
    phases = np.exp(2j * np.pi * np.arange(3) / 3)
    return np.array([w * c for w in phases for c in clifford_group()])


@lru_cache(maxsize=1)
def _exact_unitaries() -> tuple[np.ndarray, np.ndarray]:
    """(common, slot2) stacks of 9x9 unitaries over the 72 design elements."""
    elements = _design_elements()
    common = np.array([field_unitary(g).full() for g in elements])
    slot2 = np.array([np.kron(np.eye(3), slot_unitary(g).full()) for g in elements])
    return common, slot2


def _direct_sum(g: np.ndarray) -> np.ndarray:
    """``1 ⊕ g`` for a stack of U(2) elements, shape (..., 3, 3)."""
    out = np.zeros((*g.shape[:-2], 3, 3), dtype=complex)
    out[..., 0, 0] = 1.0
    out[..., 1:, 1:] = g
    return out


def _average(unitaries: np.ndarray, rho: np.ndarray) -> np.ndarray:
    return np.einsum("kab,bc,kdc->ad", unitaries, rho, unitaries.conj()) / len(unitaries)


def channel(
    rho: qutip.Qobj | ArrayLike,
    eta: float,
    method: str = "exact",
    *,
    n_samples: int = 2000,
    seed: int | np.random.Generator | None = None,
) -> qutip.Qobj:
    """The two-slot channel ``rho -> Lambda_2(Lambda_1(rho))`` on the 9-dim space (Eqs. 9-11).

    ``Lambda_1(rho) = E_g[(U_g ⊗ U_g) rho (U_g ⊗ U_g)^dag]`` over Haar ``g`` in U(2), then
    ``Lambda_2 = eta id + (1 - eta) E_h[(1 ⊗ U_h) . (1 ⊗ U_h)^dag]`` on slot 2.

    ``method="exact"`` replaces each Haar average by the average over the 72 elements
    ``w^k C`` (``C`` one of the 24 Cliffords, ``w = exp(2 pi i / 3)``, ``k = 0, 1, 2``), which is
    exact: write ``g = e^{i phi} u``. On the block ``|n><n'|`` of photon numbers (total, or of
    slot 2 for ``Lambda_2``) the conjugation is ``e^{i phi (n - n')}`` times a polynomial of
    degree ``n`` in the entries of ``u`` and ``n'`` in their conjugates, ``n, n' <= 2``. For
    ``n != n'`` the Haar phase average gives 0, and so does ``sum_k w^{k (n - n')}`` because
    ``n - n'`` is ±1 or ±2, not a multiple of 3 (Lemma 1: no coherence between sectors). For
    ``n = n'`` the polynomial is balanced of degree at most (2, 2), insensitive to the phase
    of ``u``, and its average over a unitary 2-design (the Clifford group) equals the Haar
    average. ``method="haar"`` is the Monte Carlo average over ``n_samples`` Haar draws
    (seeded), for checking the exact one.

    Returns
    -------
    qutip.Qobj
        The output state, dims ``[[3, 3], [3, 3]]``.

    >>> vac = qutip.ket2dm(two_slot_basis()["vac,vac"])
    >>> bool((channel(vac, 0.5) - vac).norm() < 1e-12)
    True
    """
    r = check_density_matrix(rho.full() if isinstance(rho, qutip.Qobj) else rho, dim=9)
    eta = check_eta(eta)
    if eta.ndim:
        raise ValueError("eta must be a scalar")
    eta = float(eta)
    if method == "exact":
        common, slot2 = _exact_unitaries()
        twirled = _average(common, r)
        out = eta * twirled + (1.0 - eta) * _average(slot2, twirled)
    elif method == "haar":
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        rng = np.random.default_rng(seed)
        draws = haar_unitaries(2 * int(n_samples), rng)
        slot = _direct_sum(draws)  # = slot_unitary(g) (tested), vectorized for speed
        common = np.einsum("kab,kcd->kacbd", slot[0::2], slot[0::2]).reshape(-1, 9, 9)
        slot2 = np.einsum("ab,kcd->kacbd", np.eye(3), slot[1::2]).reshape(-1, 9, 9)
        # Pair each common draw with its own slot-2 draw, so the estimate is one i.i.d. mean.
        twirled = np.einsum("kab,bc,kdc->kad", common, r, common.conj())
        depolarized = np.einsum("kab,kbc,kdc->kad", slot2, twirled, slot2.conj())
        out = np.mean(eta * twirled + (1.0 - eta) * depolarized, axis=0)
    else:
        raise ValueError(f"method must be 'exact' or 'haar', got {method!r}")
    return qutip.Qobj((out + out.conj().T) / 2.0, dims=_DIMS)


def _check_polarization_state(state: ArrayLike) -> np.ndarray:
    arr = np.asarray(state.full() if isinstance(state, qutip.Qobj) else state, dtype=complex)
    if arr.shape in ((4,), (4, 1)):
        ket = arr.ravel()
        if not np.isclose(np.linalg.norm(ket), 1.0, atol=1e-8):
            raise ValueError("polarization_state must be a normalized 4-vector")
        return np.outer(ket, ket.conj())
    if arr.shape != (4, 4):
        raise ValueError(
            f"polarization_state must be a 4-vector or a 4x4 density matrix, got shape {arr.shape}"
        )
    return check_density_matrix(arr, dim=4)


@lru_cache(maxsize=1)
def _beam_splitter_setup() -> tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj, qutip.Qobj]:
    """Input isometry (81x4), 50:50 beam-splitter unitary, projectors (different, same port)."""
    cutoff = 3  # 0, 1, 2 photons per mode: exact for two photons
    ops = [
        qutip.tensor([qutip.destroy(cutoff) if m == k else qutip.qeye(cutoff) for m in range(4)])
        for k in range(4)
    ]
    a_h, a_v, b_h, b_v = ops  # port a: the delayed first photon; port b: the second photon
    vacuum = qutip.tensor([qutip.basis(cutoff, 0)] * 4)
    columns = [(a.dag() * b.dag() * vacuum).full().ravel() for a in (a_h, a_v) for b in (b_h, b_v)]
    isometry = qutip.Qobj(np.array(columns).T, dims=[vacuum.dims[0], [4]])
    theta = np.pi / 4  # 50:50, polarization-independent
    generator = sum(a.dag() * b - b.dag() * a for a, b in ((a_h, b_h), (a_v, b_v)))
    splitter = (theta * generator).expm()
    n_c = np.rint(np.real((a_h.dag() * a_h + a_v.dag() * a_v).diag()))  # sqrt2 * sqrt2 != 2
    n_d = np.rint(np.real((b_h.dag() * b_h + b_v.dag() * b_v).diag()))
    dims = splitter.dims
    different = qutip.Qobj(np.diag(((n_c == 1) & (n_d == 1)).astype(float)), dims=dims)
    bunched = ((n_c == 2) & (n_d == 0)) | ((n_c == 0) & (n_d == 2))
    same = qutip.Qobj(np.diag(bunched.astype(float)), dims=dims)
    return isometry, splitter, different, same


def beam_splitter_probabilities(polarization_state: ArrayLike) -> dict[str, float]:
    """Braunstein–Mann singlet/triplet test: two photons on a 50:50 non-polarizing beam splitter.

    The photon of slot 1 (delayed) enters port ``a``, the photon of slot 2 port ``b``, with
    joint polarization ``polarization_state`` (4-vector or 4x4 density matrix, qkit order
    ``|HH>, |HV>, |VH>, |VV>``, slot-1 photon left). The field is the 4-mode Fock space
    (ports × H/V, cutoff 3 per mode, exact for two photons); the splitter is
    ``exp(pi/4 sum_pol (a^dag b - b^dag a))``. The singlet is antisymmetric in the ports, so
    it leaves by different ports; the triplets bunch (Sec. V, Ref. 16).

    Returns
    -------
    dict
        ``different_ports`` (the singlet outcome) and ``same_port`` (triplet) probabilities.

    >>> singlet = np.array([0, 1, -1, 0]) / np.sqrt(2)
    >>> round(beam_splitter_probabilities(singlet)["different_ports"], 12)
    1.0
    """
    rho = _check_polarization_state(polarization_state)
    isometry, splitter, different, same = _beam_splitter_setup()
    field = splitter * isometry * qutip.Qobj(rho) * isometry.dag() * splitter.dag()
    return {
        "different_ports": float(np.real(qutip.expect(different, field))),
        "same_port": float(np.real(qutip.expect(same, field))),
    }
