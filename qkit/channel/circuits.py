"""Paper B as circuits: two-photon encodings, the correlated noise, and the receiver.

Polarization qubits use ``|H> = |0>``, ``|V> = |1>``. The fibre's noise is two labelled sites
(:mod:`qkit.noise`): :data:`~qkit.noise.ROTATION` on (pol1, pol2), the same random rotation on
both photons, realized exactly by ``C ⊗ C`` over the 24 Cliffords (a unitary 2-design, equal to
the Haar ``U ⊗ U`` twirl); then :data:`~qkit.noise.DEPOLARIZATION` on pol2, Bloch shrink
``eta``. Any two-photon input of singlet fidelity ``F`` leaves as the Werner state of parameter
``eta p``, ``p = (4F - 1)/3`` (Eqs. 18-21). The photons' random global phase is omitted: every
letter here has a definite photon number, on which it acts trivially (Lemma 1).

The Braunstein–Mann singlet/triplet measurement (Sec. V, Fig. 4) is ``CX(pol1, pol2)``,
``H(pol1)``, measure: outcome ``11`` is the singlet ``psi-``, anything else a triplet.

The full two-slot alphabet lives on four qubits ``occ1, pol1, occ2, pol2`` (occupancy and
polarization of each slot; an empty slot's polarization qubit stays ``|0>`` and is never read).
The receiver measures both occupancies (photon count per slot) and always applies the
singlet/triplet measurement to the polarizations; the outcome is read classically
(:func:`receiver_counts`): no photon -> ``none``; one -> its slot; two -> singlet/triplet.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.library import UnitaryGate

from qkit import noise

_S2 = 1.0 / np.sqrt(2.0)
TWO_PHOTON_STATES: dict[str, np.ndarray] = {
    "singlet": np.array([0.0, _S2, -_S2, 0.0]),
    "psi+": np.array([0.0, _S2, _S2, 0.0]),
    "phi+": np.array([_S2, 0.0, 0.0, _S2]),
    "phi-": np.array([_S2, 0.0, 0.0, -_S2]),
    "HH": np.array([1.0, 0.0, 0.0, 0.0]),
    "HV": np.array([0.0, 1.0, 0.0, 0.0]),
    "VH": np.array([0.0, 0.0, 1.0, 0.0]),
    "VV": np.array([0.0, 0.0, 0.0, 1.0]),
}
"""Named two-photon polarization states, qkit order ``|HH>, |HV>, |VH>, |VV>`` (slot 1 left).

Werner parameters ``p``: singlet 1; the triplets (``psi+``, ``phi±``, ``HH``, ``VV``) -1/3;
``HV``/``VH`` 1/3. Entangled inputs span ``p in [-1/3, 1]`` (singlet, triplet); separable ones
``[-1/3, 1/3]``, whose ends are ``HH`` and ``HV`` (paper B, Lemma 2).
"""
TWO_PHOTON_STATES["triplet_HH"] = TWO_PHOTON_STATES["HH"]  # the name used by qkit.channel.theory

LETTERS = ("empty", "slot1", "slot2", "singlet", "triplet_HH", "HV", "HH")
"""Letters of the two-slot alphabet (:func:`alphabet_circuit`), named as in the channel theory."""
OUTCOMES = ("none", "slot1", "slot2", "singlet", "triplet")
"""Receiver outcomes, in the order of :func:`receiver_counts`."""
PAIR_OUTCOMES = ("singlet", "triplet")


def _qiskit_vector(state: np.ndarray) -> np.ndarray:
    """qkit order (pol1 most significant) -> Qiskit little-endian order on (pol1, pol2)."""
    return state.reshape(2, 2).T.ravel()


def _check_state(state: str | ArrayLike) -> np.ndarray:
    if isinstance(state, str):
        if state not in TWO_PHOTON_STATES:
            raise ValueError(f"state must be one of {sorted(TWO_PHOTON_STATES)}, got {state!r}")
        return TWO_PHOTON_STATES[state].astype(complex)
    vec = np.asarray(state, dtype=complex)
    if vec.shape != (4,) or not np.isclose(np.linalg.norm(vec), 1.0, atol=1e-10):
        raise ValueError("state must be a normalized 4-vector (qkit order |HH>, |HV>, |VH>, |VV>)")
    return vec


def prepare_polarizations(circuit: QuantumCircuit, state: str | ArrayLike, pol1, pol2) -> None:
    """Append the preparation of a two-photon polarization ``state`` on qubits (pol1, pol2).

    Named states use a few hardware gates (at most one CX); other 4-vectors (qkit order) a
    ``UnitaryGate`` whose first column is the state (runs on Aer as is; transpilers synthesize
    it). Assumes both qubits start in ``|0>``.
    """
    from scipy.linalg import null_space  # imported when used: scipy is slow to load

    if isinstance(state, str) and state in ("singlet", "psi+", "phi+", "phi-"):
        circuit.h(pol1)
        circuit.cx(pol1, pol2)  # (|00> + |11>)/sqrt2
        if state in ("singlet", "psi+"):
            circuit.x(pol2)  # (|01> + |10>)/sqrt2
        if state in ("singlet", "phi-"):
            circuit.z(pol1)  # minus sign on the pol1 = 1 term
        return
    vec = _check_state(state)
    if np.isclose(np.max(np.abs(vec)), 1.0, atol=1e-12):  # a product of basis states
        index = int(np.argmax(np.abs(vec)))
        if index & 2:
            circuit.x(pol1)
        if index & 1:
            circuit.x(pol2)
        return
    first = _qiskit_vector(vec)[:, None]
    circuit.append(UnitaryGate(np.hstack([first, null_space(first.conj().T)])), [pol1, pol2])


def encoding_circuit(state: str | ArrayLike) -> QuantumCircuit:
    """Prepare a two-photon polarization state on registers ``pol1``, ``pol2`` (paper B, Sec. III).

    >>> from qiskit.quantum_info import Statevector
    >>> state = Statevector(encoding_circuit("singlet")).reverse_qargs()  # qkit order
    >>> np.allclose(state.data, TWO_PHOTON_STATES["singlet"])
    True
    """
    qc = QuantumCircuit(QuantumRegister(1, "pol1"), QuantumRegister(1, "pol2"), name="encoding")
    prepare_polarizations(qc, state, 0, 1)
    return qc


def add_channel_noise(circuit: QuantumCircuit, pol1, pol2) -> None:
    """Append the fibre: correlated-rotation site on (pol1, pol2), then depolarization of pol2."""
    circuit.append(noise.noise_site(noise.ROTATION, 2), [pol1, pol2])
    circuit.append(noise.noise_site(noise.DEPOLARIZATION, 1), [pol2])


def channel_mixtures(eta: float) -> list[noise.MixedUnitary]:
    """The fibre's mixtures: ``C ⊗ C`` (uniform, 24 Cliffords), Paulis with Bloch shrink ``eta``."""
    return [noise.correlated_rotation_mixture(), noise.depolarizing_mixture(eta)]


def singlet_triplet_measurement(circuit: QuantumCircuit, pol1, pol2, clbits) -> None:
    """Append the Braunstein–Mann measurement (Sec. V): ``CX(pol1, pol2)``, ``H(pol1)``, measure.

    ``clbits = (c1, c2)`` receive pol1 and pol2; both 1 <=> singlet.
    """
    circuit.cx(pol1, pol2)
    circuit.h(pol1)
    circuit.measure([pol1, pol2], list(clbits))


def two_photon_circuit(
    state: str | ArrayLike, *, noisy: bool = True, measure: bool = True
) -> QuantumCircuit:
    """The two-photon sector: encoding, fibre noise sites, singlet/triplet measurement.

    Registers ``pol1``, ``pol2`` and (if ``measure``) ``bsm`` with ``bsm[0]`` = pol1,
    ``bsm[1]`` = pol2; the singlet is counts key ``"11"`` (:func:`singlet_triplet_counts`).
    """
    qc = encoding_circuit(state)
    qc.name = "two_photon"
    if noisy:
        add_channel_noise(qc, 0, 1)
    if measure:
        bsm = ClassicalRegister(2, "bsm")
        qc.add_register(bsm)
        singlet_triplet_measurement(qc, 0, 1, bsm)
    return qc


def singlet_triplet_counts(counts: Mapping[str, int]) -> np.ndarray:
    """Counts of ``bsm`` -> ``[n_singlet, n_triplet]`` (:data:`PAIR_OUTCOMES`).

    >>> singlet_triplet_counts({"11": 9, "01": 1}).tolist()
    [9, 1]
    """
    out = np.zeros(2, dtype=np.int64)
    for key, value in counts.items():
        out[0 if key.replace(" ", "") == "11" else 1] += int(value)
    return out


def alphabet_circuit(letter: str, *, noisy: bool = True, measure: bool = True) -> QuantumCircuit:
    """One letter of the two-slot alphabet with the fibre and the receiver (paper B, Sec. V).

    Qubits ``occ1, pol1, occ2, pol2`` (indices 0-3, one register each). Letters
    (:data:`LETTERS`): ``empty``; ``slot1``/``slot2`` one V photon in that slot; two photons in
    ``singlet``, ``triplet_HH`` (= ``HH``) or ``HV``. With ``measure`` the register ``out``
    holds ``out[0]`` = occ1, ``out[1]`` = occ2, ``out[2:4]`` the singlet/triplet bits of
    (pol1, pol2); read it with :func:`receiver_counts`.
    """
    if letter not in LETTERS:
        raise ValueError(f"letter must be one of {LETTERS}, got {letter!r}")
    names = ("occ1", "pol1", "occ2", "pol2")
    qc = QuantumCircuit(*(QuantumRegister(1, n) for n in names), name=f"letter_{letter}")
    occ1, pol1, occ2, pol2 = range(4)
    if letter == "slot1":
        qc.x([occ1, pol1])
    elif letter == "slot2":
        qc.x([occ2, pol2])
    elif letter != "empty":
        qc.x([occ1, occ2])
        prepare_polarizations(qc, letter, pol1, pol2)
    if noisy:
        add_channel_noise(qc, pol1, pol2)
    if measure:
        receiver(qc)
    return qc


def receiver(circuit: QuantumCircuit) -> None:
    """Append the receiver to a four-qubit alphabet circuit (register ``out``, see
    :func:`alphabet_circuit`)."""
    out = ClassicalRegister(4, "out")
    circuit.add_register(out)
    circuit.measure([0, 2], [out[0], out[1]])  # photon count per slot (occupancy)
    singlet_triplet_measurement(circuit, 1, 3, [out[2], out[3]])


def receiver_outcome(bits: str) -> str:
    """The receiver outcome of one ``out`` key (Qiskit order: ``out[3] out[2] out[1] out[0]``).

    >>> receiver_outcome("1111"), receiver_outcome("0001"), receiver_outcome("0111")
    ('singlet', 'slot1', 'triplet')
    """
    b = bits.replace(" ", "")
    if len(b) != 4 or set(b) - {"0", "1"}:
        raise ValueError(f"receiver key {bits!r} is not a 4-bit string")
    occ1, occ2, pol1, pol2 = (b[3] == "1", b[2] == "1", b[1] == "1", b[0] == "1")
    if occ1 and occ2:
        return "singlet" if pol1 and pol2 else "triplet"
    if occ1:
        return "slot1"
    return "slot2" if occ2 else "none"


def receiver_counts(counts: Mapping[str, int]) -> np.ndarray:
    """Counts of ``out`` -> counts per receiver outcome, order :data:`OUTCOMES`.

    >>> receiver_counts({"1111": 3, "0011": 1, "0000": 2}).tolist()
    [2, 0, 0, 3, 1]
    """
    out = np.zeros(len(OUTCOMES), dtype=np.int64)
    for key, value in counts.items():
        out[OUTCOMES.index(receiver_outcome(key))] += int(value)
    return out
