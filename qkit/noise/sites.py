"""Noise sites: labelled identity placeholders in a circuit, and their replacement by gates.

A site is Aer's ``qerror_loc`` directive (the instruction Aer itself uses to locate errors from a
noise model): the transpiler leaves it in place at every optimization level for an
``AerSimulator`` target, and Aer applies the error registered under its label (or nothing
without a noise model). A hardware target cannot translate it, on purpose (the noise would
otherwise vanish silently): expand or parametrize the sites *before* transpiling for hardware.

Matrix convention: unitaries act on the site's qubits in Qiskit's little-endian order
(``qargs[0]`` is the least significant bit, as for ``UnitaryGate``/``Operator``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction
from qiskit.circuit.library import PermutationGate, UnitaryGate

MIXUP = "mixup"
"""Label of the paper-A mix-up site on (B1, B2)."""
ROTATION = "correlated_rotation"
"""Label of the paper-B correlated polarization rotation on (pol1, pol2)."""
DEPOLARIZATION = "depolarize_slot2"
"""Label of the paper-B partial depolarization of the slot-2 polarization."""

SITE_NAME = "qerror_loc"
"""Instruction name of a site (Aer's error-location directive)."""
ATOL = 1e-10
"""Tolerance of the unitarity, identity and product tests on mixture terms."""

Branch = np.ndarray | QuantumCircuit
"""What a site is replaced by: a unitary (Qiskit order on its qubits) or a sub-circuit."""


class NoiseSite(Instruction):
    """Identity placeholder marking where a labelled mixture acts (Aer's ``qerror_loc``)."""

    _directive = True  # like a barrier: never merged, removed or routed through by the transpiler

    def __init__(self, label: str, num_qubits: int):
        super().__init__(SITE_NAME, num_qubits, 0, [], label=label)


def noise_site(label: str, num_qubits: int) -> NoiseSite:
    """The labelled identity placeholder to append where the noise ``label`` acts.

    >>> qc = QuantumCircuit(2); _ = qc.append(noise_site(MIXUP, 2), [0, 1])
    >>> [(s.label, s.qubits) for s in sites(qc)]
    [('mixup', (0, 1))]
    """
    if not label:
        raise ValueError("label must be a non-empty string")
    return NoiseSite(label, num_qubits)


def is_site(operation, labels: Iterable[str] | None = None) -> bool:
    """Whether ``operation`` is a noise site (with one of ``labels``, if given)."""
    if operation.name != SITE_NAME:
        return False
    return labels is None or operation.label in labels


@dataclass(frozen=True)
class Site:
    """A noise site in a circuit: its index in ``circuit.data``, label and qubit indices."""

    index: int
    label: str
    qubits: tuple[int, ...]


def sites(circuit: QuantumCircuit, labels: Iterable[str] | None = None) -> list[Site]:
    """The noise sites of ``circuit`` in circuit order (all labels, or only ``labels``)."""
    labels = None if labels is None else set(labels)
    return [
        Site(i, inst.operation.label, tuple(circuit.find_bit(q).index for q in inst.qubits))
        for i, inst in enumerate(circuit.data)
        if is_site(inst.operation, labels)
    ]


def strip_sites(circuit: QuantumCircuit) -> QuantumCircuit:
    """Copy of ``circuit`` without noise sites (the noise-free circuit)."""
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if not is_site(inst.operation):
            out.append(inst)
    return out


def substitute(
    circuit: QuantumCircuit, choice: Mapping[int, Branch], *, relabel: bool
) -> QuantumCircuit:
    """Copy of ``circuit`` with the instruction at each index of ``choice`` replaced.

    A sub-circuit is composed onto the site's qubits; an identity unitary adds nothing; with
    ``relabel`` a permutation (SWAP) relabels the later operations instead of adding gates;
    a product unitary becomes single-qubit gates, anything else one ``UnitaryGate``.
    """
    out = circuit.copy_empty_like()
    wire = {q: q for q in circuit.qubits}
    for i, inst in enumerate(circuit.data):
        qargs = [wire[q] for q in inst.qubits]
        if i not in choice:
            out.append(inst.operation, qargs, inst.clbits, copy=False)
            continue
        branch = choice[i]
        if isinstance(branch, QuantumCircuit):
            out.compose(branch, qubits=qargs, inplace=True)
            continue
        u = np.asarray(branch, dtype=complex)
        if _is_identity(u):
            continue
        pattern = _permutation_pattern(u) if relabel else None
        if pattern is not None:
            # content of qargs[pattern[k]] moves to qargs[k]: later ops on qargs[k] follow it back
            moved = {qargs[k]: qargs[pattern[k]] for k in range(len(qargs))}
            wire = {q: moved.get(w, w) for q, w in wire.items()}
            continue
        factors = _local_factors(u)
        if factors is None:
            out.append(UnitaryGate(u), qargs)
        else:
            for q, f in zip(qargs, factors, strict=True):
                if not _is_identity(f):
                    out.append(UnitaryGate(f), [q])
    return out


def _is_identity(u: np.ndarray) -> bool:
    """Identity up to a global phase."""
    phase = u[0, 0]
    return abs(abs(phase) - 1.0) < ATOL and np.allclose(u, phase * np.eye(len(u)), atol=ATOL)


def _permutation_pattern(u: np.ndarray) -> tuple[int, ...] | None:
    """Pattern of the ``PermutationGate`` equal to ``u`` (up to phase), if any (n <= 4)."""
    n = len(u).bit_length() - 1
    if n > 4 or np.count_nonzero(np.abs(u) > ATOL) != len(u):
        return None
    for pattern in itertools.permutations(range(n)):
        if _is_identity(PermutationGate(list(pattern)).to_matrix().conj().T @ u):
            return pattern
    return None


def _local_factors(u: np.ndarray) -> list[np.ndarray] | None:
    """Single-qubit unitaries ``[f0, f1]`` with ``u = f1 ⊗ f0`` (1 or 2 qubits), else None."""
    if u.shape == (2, 2):
        return [u]
    if u.shape != (4, 4):
        return None
    # realign u[(i1 i0), (j1 j0)] -> m[(i1 j1), (i0 j0)]: rank one iff u is a product
    m = u.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    left, sv, right = np.linalg.svd(m)
    if sv[1] > ATOL:
        return None
    f1 = left[:, 0].reshape(2, 2) * np.sqrt(2.0)
    f0 = right[0].reshape(2, 2) * sv[0] / np.sqrt(2.0)
    return [f0, f1]
