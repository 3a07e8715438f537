"""Classical mixtures of unitaries on labelled circuit sites, realized two ways.

A :class:`MixedUnitary` describes the noise once: a label and weighted unitaries. Circuits
carry a :func:`noise_site` (an identity placeholder with that label) wherever the noise acts.
Both realizations derive from the same object, so they cannot drift apart:

1. :func:`noise_model` -- an Aer ``NoiseModel`` with a mixed-unitary error on the label
   (simulators). Changing a weight (``S``, ``eta``) changes only the noise model.
2. :func:`expand_branches` / :func:`branch_weights` -- one noise-free circuit per combination of
   terms, fixed whatever the weights, and their product weights (hardware, where no noise model
   can be attached). Shots go to branches with :func:`allocate_shots` (multinomial), so the
   pooled counts are distributed exactly as under the mixture.

For sweeps and hardware a third form keeps a single circuit: :func:`parametrize_sites` turns
sites into ``U(theta, phi, lam)`` gates whose angles are bound per branch
(:func:`parametrized_branches`) or per Haar draw (:func:`haar_parameter_values`): transpile
once, then submit one PUB per branch row with its multinomial share of the shots.

The placeholder is Aer's ``qerror_loc`` directive (the instruction Aer itself uses to locate
errors from a noise model): the transpiler leaves it in place at every optimization level for
an ``AerSimulator`` target, and Aer applies the error registered under its label (or nothing
without a noise model). A hardware target cannot translate it, on purpose (the noise would
otherwise vanish silently): expand or parametrize the sites *before* transpiling for hardware.

Matrix convention: unitaries act on the site's qubits in Qiskit's little-endian order
(``qargs[0]`` is the least significant bit, as for ``UnitaryGate``/``Operator``); ``factors[j]``
acts on ``qargs[j]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from qiskit import QuantumCircuit
from qiskit.circuit import Gate, Instruction, ParameterVector
from qiskit.circuit.library import PermutationGate, UGate, UnitaryGate
from qiskit.synthesis import OneQubitEulerDecomposer
from qiskit_aer.noise import NoiseModel, QuantumError, mixed_unitary_error

from qkit._validate import check_eta, check_range

MIXUP = "mixup"
"""Label of the paper-A mix-up site on (B1, B2)."""
ROTATION = "correlated_rotation"
"""Label of the paper-B correlated polarization rotation on (pol1, pol2)."""
DEPOLARIZATION = "depolarize_slot2"
"""Label of the paper-B partial depolarization of the slot-2 polarization."""

_SITE_NAME = "qerror_loc"
_ATOL = 1e-10

IDENTITY = np.eye(2, dtype=complex)
PAULIS = np.array(
    [np.eye(2), [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex
)
"""I, X, Y, Z stacked on the first axis."""
SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)


class NoiseSite(Instruction):
    """Identity placeholder marking where a labelled mixture acts (Aer's ``qerror_loc``)."""

    _directive = True  # like a barrier: never merged, removed or routed through by the transpiler

    def __init__(self, label: str, num_qubits: int):
        super().__init__(_SITE_NAME, num_qubits, 0, [], label=label)


def noise_site(label: str, num_qubits: int) -> NoiseSite:
    """The labelled identity placeholder to append where the noise ``label`` acts.

    >>> qc = QuantumCircuit(2); _ = qc.append(noise_site(MIXUP, 2), [0, 1])
    >>> [(s.label, s.qubits) for s in sites(qc)]
    [('mixup', (0, 1))]
    """
    if not label:
        raise ValueError("label must be a non-empty string")
    return NoiseSite(label, num_qubits)


def _is_site(operation, labels: Iterable[str] | None = None) -> bool:
    if operation.name != _SITE_NAME:
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
        if _is_site(inst.operation, labels)
    ]


def strip_sites(circuit: QuantumCircuit) -> QuantumCircuit:
    """Copy of ``circuit`` without noise sites (the noise-free circuit)."""
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if not _is_site(inst.operation):
            out.append(inst)
    return out


@dataclass(frozen=True, eq=False)
class MixedUnitary:
    """A classical mixture ``rho -> sum_k w_k U_k rho U_k^dag`` attached to a label.

    Parameters
    ----------
    label : str
        The label of the :func:`noise_site` it acts on.
    unitaries : array_like
        Shape (k, d, d), ``d = 2**n``, Qiskit order on the site's qubits. The list is fixed;
        only the weights depend on physical parameters, so branch circuits never change.
    weights : array_like
        Shape (k,), non-negative, summing to 1.
    factors : array_like, optional
        Shape (k, n, 2, 2): single-qubit factors,
        ``U_k = factors[k, n-1] ⊗ ... ⊗ factors[k, 0]``,
        for mixtures of product unitaries (enables :func:`parametrize_sites`).
    """

    label: str
    unitaries: np.ndarray
    weights: np.ndarray
    factors: np.ndarray | None = None

    def __post_init__(self) -> None:
        u = np.asarray(self.unitaries, dtype=complex)
        w = np.asarray(self.weights, dtype=float)
        if (
            u.ndim != 3
            or u.shape[1] != u.shape[2]
            or u.shape[1] < 2
            or u.shape[1] & (u.shape[1] - 1)
        ):
            raise ValueError(f"unitaries must have shape (k, 2^n, 2^n), got {u.shape}")
        eye = np.eye(u.shape[1])
        if not np.allclose(np.conj(np.swapaxes(u, 1, 2)) @ u, eye, atol=_ATOL):
            raise ValueError("unitaries must be unitary")
        if w.shape != (u.shape[0],):
            raise ValueError(f"weights must have shape ({u.shape[0]},), got {w.shape}")
        if np.any(w < -_ATOL) or not np.isclose(w.sum(), 1.0, atol=1e-9):
            raise ValueError("weights must be non-negative and sum to 1")
        object.__setattr__(self, "unitaries", u)
        object.__setattr__(self, "weights", np.clip(w, 0.0, None))
        if self.factors is not None:
            f = np.asarray(self.factors, dtype=complex)
            if f.shape != (u.shape[0], self.num_qubits, 2, 2):
                raise ValueError(f"factors must have shape {(u.shape[0], self.num_qubits, 2, 2)}")
            if not np.allclose(_kron_factors(f), u, atol=_ATOL):
                raise ValueError("factors do not multiply to the unitaries")
            object.__setattr__(self, "factors", f)

    @property
    def num_qubits(self) -> int:
        return int(self.unitaries.shape[1]).bit_length() - 1

    def site(self) -> NoiseSite:
        """The placeholder instruction this mixture attaches to."""
        return noise_site(self.label, self.num_qubits)

    def quantum_error(self) -> QuantumError:
        """The Aer mixed-unitary error (zero-weight terms dropped)."""
        keep = self.weights > 0
        return mixed_unitary_error(list(zip(self.unitaries[keep], self.weights[keep], strict=True)))

    def apply(self, rho: ArrayLike) -> np.ndarray:
        """The channel on a density matrix of the site's qubits (same order as the unitaries)."""
        rho = np.asarray(rho, dtype=complex)
        return np.einsum(
            "k,kab,bc,kdc->ad", self.weights, self.unitaries, rho, self.unitaries.conj()
        )


def _kron_factors(factors: np.ndarray) -> np.ndarray:
    """``factors[:, n-1] ⊗ ... ⊗ factors[:, 0]`` for each term, shape (k, 2^n, 2^n)."""
    out = factors[:, 0]
    for j in range(1, factors.shape[1]):
        out = np.einsum("kab,kcd->kacbd", factors[:, j], out).reshape(
            factors.shape[0], 2 * out.shape[1], 2 * out.shape[2]
        )
    return out


# --- builders shared by both papers -------------------------------------------------------


def swap_mixture(success: float, label: str = MIXUP) -> MixedUnitary:
    """Mix-up of paper A (Eq. 2.1): identity with probability ``S``, SWAP with ``1 - S``.

    On (B1, B2) of two independent pairs it leaves (A1, B1) in ``M[rho]``.

    >>> swap_mixture(0.75).weights.tolist()
    [0.75, 0.25]
    """
    s = float(check_range("success", success, 0.0, 1.0))
    return MixedUnitary(label, np.stack([np.eye(4), SWAP]), np.array([s, 1.0 - s]))


@lru_cache(maxsize=1)
def _clifford_group() -> np.ndarray:
    gens = (np.array([[1, 1], [1, -1]]) / np.sqrt(2.0), np.diag([1.0, 1j]))

    def key(u: np.ndarray) -> tuple:
        pivot = u.flat[int(np.argmax(np.abs(u.ravel()) > 1e-9))]
        return tuple(np.round((u * abs(pivot) / pivot).ravel(), 8))

    found = {key(IDENTITY): IDENTITY}
    frontier = [IDENTITY]
    while frontier:
        fresh = []
        for u in frontier:
            for g in gens:
                v = g @ u
                if key(v) not in found:
                    found[key(v)] = v
                    fresh.append(v)
        frontier = fresh
    group = np.array(list(found.values()))
    group.setflags(write=False)
    return group


def clifford_group() -> np.ndarray:
    """The 24 single-qubit Clifford unitaries modulo phase, shape (24, 2, 2), identity first.

    A unitary 2-design: averaging ``C ⊗ C`` over them equals the Haar ``U ⊗ U`` twirl.

    >>> clifford_group().shape
    (24, 2, 2)
    """
    return _clifford_group().copy()


def correlated_rotation_mixture(label: str = ROTATION) -> MixedUnitary:
    """Paper B's correlated rotation: ``C ⊗ C`` over the 24 Cliffords, uniform (exact Haar twirl).

    >>> correlated_rotation_mixture().weights.sum().round(12)
    np.float64(1.0)
    """
    c = _clifford_group()
    factors = np.stack([c, c], axis=1)
    return MixedUnitary(label, _kron_factors(factors), np.full(24, 1.0 / 24.0), factors)


def depolarizing_mixture(eta: float, label: str = DEPOLARIZATION) -> MixedUnitary:
    """Partial depolarization, Bloch shrink ``eta``: I w.p. ``(1+3eta)/4``, X, Y, Z ``(1-eta)/4``.

    ``rho -> eta rho + (1 - eta) I/2`` (paper B, slot 2).

    >>> (depolarizing_mixture(0.6).weights * 10).round(12).tolist()
    [7.0, 1.0, 1.0, 1.0]
    """
    e = float(check_eta(eta))
    w = np.array([1 + 3 * e, 1 - e, 1 - e, 1 - e]) / 4.0
    return MixedUnitary(label, PAULIS, w, PAULIS[:, None])


def haar_unitaries(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` Haar-random U(2) matrices, (count, 2, 2): QR of Ginibre matrices, phase-fixed."""
    z = (rng.normal(size=(count, 2, 2)) + 1j * rng.normal(size=(count, 2, 2))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r, axis1=1, axis2=2)
    return q * (d / np.abs(d))[:, None, :]


# --- realization 1: Aer noise model -------------------------------------------------------


def noise_model(
    mixtures: Iterable[MixedUnitary], basis_gates: Sequence[str] | None = None
) -> NoiseModel:
    """Aer ``NoiseModel`` applying each mixture's error at every site with its label.

    Use with ``AerSimulator(noise_model=...)`` or ``qiskit_aer.primitives.SamplerV2`` (see
    :func:`aer_sampler_options`). Circuits may be run as built or transpiled at any level:
    the sites survive.
    """
    model = NoiseModel(basis_gates=None if basis_gates is None else list(basis_gates))
    seen = set()
    for mixture in mixtures:
        if mixture.label in seen:
            raise ValueError(f"duplicate mixture label {mixture.label!r}")
        seen.add(mixture.label)
        model.add_all_qubit_quantum_error(mixture.quantum_error(), mixture.label)
    return model


def aer_sampler_options(
    mixtures: Iterable[MixedUnitary], *, method: str = "automatic", seed: int | None = None
) -> dict:
    """``options`` for ``qiskit_aer.primitives.SamplerV2`` with the noise model of ``mixtures``.

    The seed goes in ``backend_options`` (Aer's SamplerV2 rejects it as a run option).
    """
    backend_options = {"noise_model": noise_model(mixtures), "method": method}
    if seed is not None:
        backend_options["seed_simulator"] = int(seed)
    return {"backend_options": backend_options}


# --- realization 2: explicit branch mixtures ----------------------------------------------

Branch = np.ndarray | QuantumCircuit


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
        A circuit with :func:`noise_site` placeholders; sites whose label is not covered stay.
    mixtures : sequence of MixedUnitary, or mapping label -> branches
        Branches are unitaries (Qiskit order on the site's qubits) or sub-circuits. With
        :class:`MixedUnitary` every term is a branch, zero weights included, so the list of
        circuits does not depend on the weights.
    relabel_permutations : bool
        Realize a branch that only permutes qubits (SWAP) by relabelling the later operations
        instead of adding gates: the mix-up failure branch then simply measures A1 with B2.
        Outcomes and saved states are unchanged; only the wires are permuted.
    prune : bool
        Drop gates outside the backward light cone of the measurements (see :func:`prune`).

    Returns
    -------
    list of QuantumCircuit
        Branches in ``itertools.product`` order over the sites in circuit order (the order of
        :func:`branch_weights`). Identity terms add nothing; product unitaries become
        single-qubit gates; other unitaries a ``UnitaryGate``.
    """
    found, choices = _branch_table(circuit, mixtures)
    branches = [
        _substitute(
            circuit, dict(zip((s.index for s in found), combo, strict=True)), relabel_permutations
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


def _substitute(
    circuit: QuantumCircuit, choice: Mapping[int, Branch], relabel: bool
) -> QuantumCircuit:
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
    return abs(abs(phase) - 1.0) < _ATOL and np.allclose(u, phase * np.eye(len(u)), atol=_ATOL)


def _permutation_pattern(u: np.ndarray) -> tuple[int, ...] | None:
    """Pattern of the ``PermutationGate`` equal to ``u`` (up to phase), if any (n <= 4)."""
    n = len(u).bit_length() - 1
    if n > 4 or np.count_nonzero(np.abs(u) > _ATOL) != len(u):
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
    if sv[1] > _ATOL:
        return None
    f1 = left[:, 0].reshape(2, 2) * np.sqrt(2.0)
    f0 = right[0].reshape(2, 2) * sv[0] / np.sqrt(2.0)
    return [f0, f1]


def outcome_distribution(
    circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary] = ()
) -> np.ndarray:
    """Exact outcome probabilities of ``circuit`` under ``mixtures``, by branch enumeration.

    ``sum_b w_b P_b`` with each branch's ``P_b`` from its ``Statevector``. Every clbit must be
    measured once, after the last gate on its qubit, and all parameters bound. Index ``k`` is
    the Qiskit integer of the clbits (clbit 0 least significant), as in ``int(key, 2)``.

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
        measured = {}
        unitary_part = branch.copy_empty_like()
        for inst in branch.data:
            if inst.operation.name == "measure":
                clbit = branch.find_bit(inst.clbits[0]).index
                if clbit in measured:
                    raise ValueError(f"clbit {clbit} is measured twice")
                measured[clbit] = branch.find_bit(inst.qubits[0]).index
            elif inst.operation.name != "barrier":
                if any(branch.find_bit(q).index in measured.values() for q in inst.qubits):
                    raise ValueError("an operation follows a measurement on the same qubit")
                unitary_part.append(inst)
        if sorted(measured) != list(range(circuit.num_clbits)):
            raise ValueError("every clbit must be measured exactly once")
        leftover = {site.label for site in sites(unitary_part)}
        if leftover:
            raise ValueError(f"no mixture given for the noise sites {sorted(leftover)}")
        state = Statevector(unitary_part)
        total += weight * state.probabilities([measured[k] for k in range(circuit.num_clbits)])
    return total


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


# --- realization 3: one parametrized circuit ----------------------------------------------


def parametrize_sites(
    circuit: QuantumCircuit, label: str
) -> tuple[QuantumCircuit, ParameterVector]:
    """Replace each ``label`` site by a ``U(theta, phi, lam)`` gate on every one of its qubits.

    One transpiled circuit then realizes every product-unitary branch, and every Haar draw, by
    parameter binding. Parameters are ``label[3 (site n + j) + (0, 1, 2)]`` for qubit ``j`` of the
    ``site``-th site (``n`` qubits per site), angles theta, phi, lam.
    """
    found = sites(circuit, [label])
    if not found:
        raise ValueError(f"circuit has no site labelled {label!r}")
    sizes = {len(s.qubits) for s in found}
    if len(sizes) != 1:
        raise ValueError(f"sites labelled {label!r} act on different numbers of qubits")
    n = sizes.pop()
    params = ParameterVector(label, 3 * n * len(found))
    gates = {}
    for k, s in enumerate(found):
        sub = QuantumCircuit(n)
        for j in range(n):
            base = 3 * (k * n + j)
            sub.append(UGate(params[base], params[base + 1], params[base + 2]), [j])
        gates[s.index] = sub
    return _substitute(circuit, gates, relabel=False), params


def euler_angles(unitaries: ArrayLike) -> np.ndarray:
    """``(theta, phi, lam)`` with ``U(theta, phi, lam) = u`` up to phase, shape (..., 3)."""
    u = np.asarray(unitaries, dtype=complex)
    decomposer = OneQubitEulerDecomposer("U")
    angles = np.array([decomposer.angles(m) for m in u.reshape(-1, 2, 2)], dtype=float)
    angles[:, 1:] = np.angle(np.exp(1j * angles[:, 1:]))  # phi, lam into (-pi, pi]
    return angles.reshape(*u.shape[:-2], 3)


def mixture_parameter_values(mixture: MixedUnitary) -> np.ndarray:
    """Angles of each term of a product mixture for one :func:`parametrize_sites` site, (k, 3n)."""
    if mixture.factors is None:
        raise ValueError(f"mixture {mixture.label!r} has no single-qubit factors")
    return euler_angles(mixture.factors).reshape(len(mixture.weights), -1)


def branch_parameter_values(
    circuit: QuantumCircuit, mixture: MixedUnitary
) -> tuple[np.ndarray, np.ndarray]:
    """Bindings and weights of every branch of ``mixture`` for :func:`parametrize_sites`.

    Returns ``(values, weights)``: ``values`` has shape (branches, len(params)) in the order of
    the ``ParameterVector``; ``weights`` (branches,) as :func:`branch_weights`.
    """
    per_site = mixture_parameter_values(mixture)
    count = len(sites(circuit, [mixture.label]))
    if count == 0:
        raise ValueError(f"circuit has no site labelled {mixture.label!r}")
    combos = list(itertools.product(range(len(per_site)), repeat=count))
    values = np.array([np.concatenate([per_site[k] for k in combo]) for combo in combos])
    weights = np.array([np.prod(mixture.weights[list(combo)]) for combo in combos])
    return values, weights


def haar_parameter_values(
    count: int, params: ParameterVector, rng: np.random.Generator
) -> np.ndarray:
    """``count`` bindings for :func:`parametrize_sites`, each one Haar U(2) shared by all qubits.

    The Haar-sampling realization of the correlated rotation: one fresh ``U ⊗ U`` per shot
    group (a row), converging to the exact Clifford twirl. Shape (count, len(params)).
    """
    angles = euler_angles(haar_unitaries(int(count), rng))
    return np.tile(angles, (1, len(params) // 3))


def parametrized_branches(
    circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary]
) -> tuple[QuantumCircuit, list, np.ndarray, np.ndarray]:
    """All sites of product mixtures as ``U`` gates, and the branch bindings with their weights.

    Returns ``(template, parameters, values, weights)``: ``values`` has shape
    (branches, len(parameters)), rows in ``itertools.product`` order over ``mixtures``,
    ``weights`` (branches,) their product weights. One transpilation of ``template`` serves
    every branch and every ``S``/``eta`` (only ``weights`` change).

    >>> qc = QuantumCircuit(2); _ = qc.append(noise_site(ROTATION, 2), [0, 1])
    >>> _ = qc.append(noise_site(DEPOLARIZATION, 1), [1])
    >>> mixtures = [correlated_rotation_mixture(), depolarizing_mixture(0.5)]
    >>> template, params, values, weights = parametrized_branches(qc, mixtures)
    >>> values.shape, round(float(weights.sum()), 12)
    ((96, 9), 1.0)
    """
    template, parameters, tables = circuit, [], []
    for mixture in mixtures:
        values, weights = branch_parameter_values(template, mixture)
        template, params = parametrize_sites(template, mixture.label)
        parameters.extend(params)
        tables.append((values, weights))
    rows = list(itertools.product(*(range(len(w)) for _, w in tables)))
    values = np.array(
        [np.concatenate([t[0][k] for t, k in zip(tables, row, strict=True)]) for row in rows]
    )
    weights = np.array(
        [np.prod([t[1][k] for t, k in zip(tables, row, strict=True)]) for row in rows]
    )
    return template, parameters, values, weights


def mixture_weights(circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary]) -> np.ndarray:
    """Branch weights in the row order of :func:`parametrized_branches`.

    Products of the mixtures' weights over their sites (``itertools.product`` order: the
    first mixture outermost), computed without building the branch table.
    """
    weights = np.ones(1)
    for mixture in mixtures:
        for _ in sites(circuit, [mixture.label]):
            weights = np.kron(weights, mixture.weights)
    return weights
