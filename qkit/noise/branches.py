"""Realization 2: one noise-free circuit per combination of mixture terms, and their weights.

For hardware, where no noise model can be attached. The branch circuits are fixed whatever the
weights; :func:`branch_weights` gives their product weights and :func:`allocate_shots` splits
the shots multinomially, so the pooled counts are distributed exactly as under the mixture.
:func:`outcome_distribution` is the exact prediction by the same enumeration.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from qiskit import QuantumCircuit
from qiskit.circuit import Gate

from qkit.bits import measurements
from qkit.noise.mixtures import MixedUnitary
from qkit.noise.sites import Branch, Site, sites, substitute


def _branch_table(
    circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary] | Mapping[str, Sequence[Branch]]
) -> tuple[list[Site], list[Sequence[Branch]]]:
    if isinstance(mixtures, Mapping):
        table = {label: list(branches) for label, branches in mixtures.items()}
    else:
        table = {m.label: list(m.unitaries) for m in mixtures}
    found = sites(circuit, table)
    return found, [table[s.label] for s in found]


def branch_weights(circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary]) -> np.ndarray:
    """Weights of the branches of :func:`expand_branches`, same order (products over sites).

    Computed from the mixture weights only: a new ``S`` or ``eta`` is a new weight vector for
    the same circuits.

    >>> from qkit.noise import MIXUP, noise_site, swap_mixture
    >>> qc = QuantumCircuit(2); _ = qc.append(noise_site(MIXUP, 2), [0, 1])
    >>> branch_weights(qc, [swap_mixture(0.75)]).tolist()
    [0.75, 0.25]
    """
    by_label = {m.label: m.weights for m in mixtures}
    per_site = [by_label[s.label] for s in sites(circuit, by_label)]
    if not per_site:
        return np.ones(1)
    return np.array([np.prod(ws) for ws in itertools.product(*per_site)])


def expand_branches(
    circuit: QuantumCircuit,
    mixtures: Sequence[MixedUnitary] | Mapping[str, Sequence[Branch]],
    *,
    relabel_permutations: bool = True,
    prune: bool = False,
) -> list[QuantumCircuit]:
    """One noise-free circuit per combination of terms at the sites covered by ``mixtures``.

    Parameters
    ----------
    circuit : QuantumCircuit
        A circuit with :func:`~qkit.noise.noise_site` placeholders; sites whose label is not
        covered stay.
    mixtures : sequence of MixedUnitary, or mapping label -> branches
        Branches are unitaries (Qiskit order on the site's qubits) or sub-circuits. With
        :class:`~qkit.noise.MixedUnitary` every term is a branch, zero weights included, so the
        list of circuits does not depend on the weights.
    relabel_permutations : bool
        Realize a branch that only permutes qubits (SWAP) by relabelling the later operations
        instead of adding gates: the mix-up failure branch then simply measures A1 with B2.
        Outcomes and saved states are unchanged; only the wires are permuted.
    prune : bool
        Drop gates outside the backward light cone of the measurements (see
        :func:`prune_circuit`).

    Returns
    -------
    list of QuantumCircuit
        Branches in ``itertools.product`` order over the sites in circuit order (the order of
        :func:`branch_weights`). Identity terms add nothing; product unitaries become
        single-qubit gates; other unitaries a ``UnitaryGate``.
    """
    found, choices = _branch_table(circuit, mixtures)
    branches = [
        substitute(
            circuit,
            dict(zip((s.index for s in found), combo, strict=True)),
            relabel=relabel_permutations,
        )
        for combo in itertools.product(*choices)
    ]
    return [prune_circuit(b) for b in branches] if prune else branches


def prune_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """Drop gates that cannot influence any measurement, save or other non-gate instruction.

    Walking backwards, a gate is kept only if it touches a qubit in the backward light cone of
    a kept non-gate instruction (measure, reset, save, noise site, control flow). Qubits and
    clbits are kept, so layouts and outcome bits are unchanged. In the intact mix-up branch
    this removes the unmeasured second pair.
    """
    needed: set = set()
    kept = []
    for inst in reversed(circuit.data):
        op = inst.operation
        touched = set(inst.qubits)
        if op.name in ("barrier", "delay"):
            if touched & needed:
                kept.append(inst)
        elif not isinstance(op, Gate) or inst.clbits or touched & needed:
            kept.append(inst)
            needed |= touched
    out = circuit.copy_empty_like()
    for inst in reversed(kept):
        out.append(inst, copy=False)
    return out


def allocate_shots(weights: ArrayLike, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial allocation of ``shots`` over branches with probabilities ``weights``.

    Pooling the counts of the branches then gives counts distributed exactly as sampling the
    mixture shot by shot.

    >>> allocate_shots([0.5, 0.5, 0.0], 100, np.random.default_rng(1)).sum()
    np.int64(100)
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or np.any(w < 0) or not np.isclose(w.sum(), 1.0, atol=1e-9):
        raise ValueError("weights must be a 1-d array of non-negative numbers summing to 1")
    if int(shots) != shots or shots < 0:
        raise ValueError(f"shots must be a non-negative integer, got {shots!r}")
    return rng.multinomial(int(shots), w / w.sum())


def outcome_distribution(
    circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary] = ()
) -> np.ndarray:
    """Exact outcome probabilities of ``circuit`` under ``mixtures``, by branch enumeration.

    ``sum_b w_b P_b`` with each branch's ``P_b`` from its ``Statevector``. Every clbit must be
    measured once, after the last gate on its qubit, and all parameters bound. Index ``k`` is
    the Qiskit integer of the clbits (clbit 0 least significant), as in ``int(key, 2)``.

    >>> from qkit.noise import MIXUP, noise_site, swap_mixture
    >>> qc = QuantumCircuit(2, 2); _ = qc.x(0); _ = qc.append(noise_site(MIXUP, 2), [0, 1])
    >>> _ = qc.measure([0, 1], [0, 1])
    >>> outcome_distribution(qc, [swap_mixture(0.75)]).tolist()  # '01' intact, '10' swapped
    [0.0, 0.75, 0.25, 0.0]
    """
    from qiskit.quantum_info import Statevector

    total = np.zeros(2**circuit.num_clbits)
    branches = expand_branches(circuit, mixtures)
    for weight, branch in zip(branch_weights(circuit, mixtures), branches, strict=True):
        if weight == 0:
            continue
        unitary_part, measured = measurements(branch)
        leftover = {site.label for site in sites(unitary_part)}
        if leftover:
            raise ValueError(f"no mixture given for the noise sites {sorted(leftover)}")
        state = Statevector(unitary_part)
        total += weight * state.probabilities(measured)
    return total
