"""The repeater chain as Qiskit dynamic circuits: swaps and DEJMPS rounds with feed-forward.

The chain of :mod:`qkit.repeater.theory` (``L = 2^n`` links, levels ``l = 0..n``: dephase every
memory qubit, ``K`` DEJMPS rounds, swap neighbours) as one circuit per chain, built pair by pair
(depth first), so that only the pairs alive at one time hold qubits:

- **delivered pair** (paper A, Eq. 2.1): two source pairs ``RY(pair_angle)``, ``CX`` and a
  :data:`qkit.noise.MIXUP` site on (B1, B2) -- the same ``qkit.noise.swap_mixture(S)`` as every
  other experiment, realized as an Aer noise model, branch circuits or exact weights; the second
  pair's qubits go back to the pool (reset before reuse);
- **memory dephasing**: a :data:`DEPHASING` site on each qubit of a level's pairs, filled by
  :func:`dephasing_mixture` (``I`` with ``1 - P``, ``Z`` with ``P``); with ``--idle NS`` a
  ``delay`` of ``NS`` nanoseconds on the four stored qubits before each swap, for a device's own
  T1/T2;
- **swap**: Bell measurement of the middle node, ``CX``, ``H``, two mid-circuit measurements,
  then the Pauli correction of the right end by classical feed-forward (``if_test``): ``X`` if
  the second bit is 1, ``Z`` if the first is 1, so ``|Phi+>`` inputs give ``|Phi+>``;
- **DEJMPS round** (Deutsch et al., PRL 77, 2818 (1996)), as :mod:`qkit.distill.circuits`:
  ``Rx(pi/2)`` on the left qubits, ``Rx(-pi/2)`` on the right ones, ``CX`` pair 1 -> pair 2 on
  each side, pair 2 measured mid-circuit into its ``round`` register; the shot is kept when
  every round's two bits agree (post-selection, counted for the success probability);
- the kept pair measured along the Parameter directions of
  :func:`qkit.mixup.circuits.measure_directions` (register ``meas``: CHSH and tomography).

Measured qubits return to the pool too (reset before reuse), so a chain needs few qubits:
6 for ``L = 2``, 8 for ``L = 4``, 10 for ``L = 2`` with one round.

:func:`chain_circuit` with ``form="deferred"`` builds the same chain with every measurement that
feeds forward replaced by its coherent equivalent (principle of deferred measurement): the
corrections become ``CX``/``CZ`` from the Bell-measured qubits, which are then reset (traced
out); each round's parity goes into one failure flag (``OR`` of the rounds' parities through a
Toffoli), measured at the end. Its outcome distribution equals the dynamic circuit's, and it has
no mid-circuit measurement, so Aer's density-matrix method gives it exactly (the exact engine).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter

from qkit import noise
from qkit.noise import MixedUnitary
from qkit.repeater import theory

DEPHASING = "memory_dephasing"
"""Label of the memory-dephasing site on one stored qubit."""
PAIR_ANGLE = "pair_angle"
"""The Parameter of the source pairs' ``RY`` angle ``2 arccos(a)``."""
FORMS = ("dynamic", "deferred")
MAX_QUBITS = 16
"""Widest chain circuit built (Aer's density matrix of 2 x 16 qubits is 64 GB: refuse before)."""
MAX_PAIRS = 1024
"""Most delivered pairs in one chain circuit (``L 2^(K (n + 1))``)."""
_Z = np.diag([1.0, -1.0]).astype(complex)


def dephasing_mixture(dephasing: float, label: str = DEPHASING) -> MixedUnitary:
    """Memory dephasing ``rho -> (1 - P) rho + P Z rho Z`` on one qubit, as a Pauli mixture.

    >>> dephasing_mixture(0.1).weights.tolist()
    [0.9, 0.1]
    """
    p = float(theory.check_dephasing(dephasing))
    paulis = np.stack([np.eye(2, dtype=complex), _Z])
    return MixedUnitary(label, paulis, np.array([1.0 - p, p]), paulis[:, None])


@dataclass
class Chain:
    """A chain circuit and where its bits are.

    Attributes
    ----------
    circuit : QuantumCircuit
        The measured circuit (Parameters :data:`PAIR_ANGLE` and the measurement angles).
    kept : tuple of int
        Qubits of the end-to-end pair (left end, right end).
    meas : tuple of int
        Clbits of its measurement (left, right).
    rounds : list of (int, int)
        Clbits of each DEJMPS round's two target outcomes (dynamic form).
    flag : int or None
        Clbit of the failure flag (deferred form with at least one round).
    round_levels : list of (int, int)
        ``(level, round)`` of each DEJMPS round in circuit order (round from 0).
    """

    circuit: QuantumCircuit
    kept: tuple[int, int]
    meas: tuple[int, int]
    rounds: list[tuple[int, int]] = field(default_factory=list)
    flag: int | None = None
    round_levels: list[tuple[int, int]] = field(default_factory=list)


class _Builder:
    """Records the chain as operations on integer qubits, then writes the circuit."""

    def __init__(self, rounds: int, dephasing: bool, idle: float, form: str, corrections: bool):
        self.k = rounds
        self.dephasing = dephasing
        self.idle = idle
        self.deferred = form == "deferred"
        self.corrections = corrections
        self.ops: list[tuple] = []
        self.size = 0
        self.free: list[int] = []
        self.used: set[int] = set()
        self.n_rounds = 0
        self.n_swaps = 0
        self.flag: int | None = None
        self.round_levels: list[tuple[int, int]] = []

    # -- qubits: a pool, reset before reuse ------------------------------------------------
    def alloc(self) -> int:
        if self.free:
            self.free.sort()
            q = self.free.pop(0)
            self.ops.append(("reset", q))
            return q
        self.size += 1
        return self.size - 1

    def release(self, *qubits: int) -> None:
        self.free.extend(qubits)

    # -- the chain --------------------------------------------------------------------------
    def delivered(self) -> tuple[int, int]:
        """Paper A's delivered pair: two source pairs and the mix-up site on (B1, B2)."""
        a1, b1, a2, b2 = (self.alloc() for _ in range(4))
        for a, b in ((a1, b1), (a2, b2)):
            self.ops.append(("ry", a))
            self.ops.append(("cx", a, b))
        self.ops.append(("site", noise.MIXUP, b1, b2))
        self.release(a2, b2)
        return a1, b1

    def distilled(self, level: int, k: int) -> tuple[int, int]:
        """A level-``level`` pair after ``k`` rounds (dephased once, at the start of the level)."""
        if k == 0:
            pair = self.undistilled(level)
            if self.dephasing:
                for q in pair:
                    self.ops.append(("site", DEPHASING, q))
            return pair
        kept = self.distilled(level, k - 1)
        target = self.distilled(level, k - 1)
        self.dejmps(kept, target, level, k - 1)
        return kept

    def undistilled(self, level: int) -> tuple[int, int]:
        if level == 0:
            return self.delivered()
        left = self.distilled(level - 1, self.k)
        right = self.distilled(level - 1, self.k)
        return self.swap(left, right)

    def swap(self, left: tuple[int, int], right: tuple[int, int]) -> tuple[int, int]:
        (x0, y1), (x1, y2) = left, right
        if self.idle > 0:
            self.ops.append(("delay", x0, y1, x1, y2))
        self.ops.append(("cx", y1, x1))
        self.ops.append(("h", y1))
        if self.deferred:
            if self.corrections:
                self.ops.append(("cx", x1, y2))
                self.ops.append(("cz", y1, y2))
        else:
            w = self.n_swaps
            self.ops.append(("measure", y1, ("bell", 2 * w)))
            self.ops.append(("measure", x1, ("bell", 2 * w + 1)))
            if self.corrections:
                self.ops.append(("if_x", ("bell", 2 * w + 1), y2))
                self.ops.append(("if_z", ("bell", 2 * w), y2))
        self.n_swaps += 1
        self.release(y1, x1)
        return x0, y2

    def dejmps(self, kept: tuple[int, int], target: tuple[int, int], level: int, k: int) -> None:
        (a1, b1), (a2, b2) = kept, target
        self.ops.append(("rx", 1.0, a1))
        self.ops.append(("rx", 1.0, a2))
        self.ops.append(("rx", -1.0, b1))
        self.ops.append(("rx", -1.0, b2))
        self.ops.append(("cx", a1, a2))
        self.ops.append(("cx", b1, b2))
        r = self.n_rounds
        self.round_levels.append((level, k))
        self.n_rounds += 1
        if not self.deferred:
            self.ops.append(("measure", a2, ("round", 2 * r)))
            self.ops.append(("measure", b2, ("round", 2 * r + 1)))
            self.release(a2, b2)
            return
        self.ops.append(("cx", a2, b2))  # b2: the parity, 1 = the round failed
        self.release(a2)
        if self.flag is None:
            self.flag = b2
            return
        flag = self.alloc()  # new flag = old flag OR parity (both classical: traced after)
        self.ops.append(("x", self.flag))
        self.ops.append(("x", b2))
        self.ops.append(("ccx", self.flag, b2, flag))
        self.ops.append(("x", flag))
        self.release(self.flag, b2)
        self.flag = flag

    # -- the circuit ------------------------------------------------------------------------
    def write(self, pair: tuple[int, int]) -> Chain:
        from qkit.mixup import circuits as mixup_circuits

        qreg = QuantumRegister(self.size, "q")
        regs = []
        if not self.deferred and self.n_rounds:
            regs.append(ClassicalRegister(2 * self.n_rounds, "round"))
        if self.deferred and self.flag is not None:
            regs.append(ClassicalRegister(1, "flag"))
        if not self.deferred and self.n_swaps:
            regs.append(ClassicalRegister(2 * self.n_swaps, "bell"))
        qc = QuantumCircuit(qreg, *regs, name="repeater_chain")
        cregs = {r.name: r for r in regs}
        angle = Parameter(PAIR_ANGLE)
        for op in self.ops:
            kind, args = op[0], op[1:]
            if kind == "ry":
                qc.ry(angle, args[0])
            elif kind == "rx":
                qc.rx(args[0] * np.pi / 2, args[1])
            elif kind == "site":
                qc.append(noise.noise_site(args[0], len(args) - 1), list(args[1:]))
            elif kind == "measure":
                name, index = args[1]
                qc.measure(args[0], cregs[name][index])
            elif kind in ("if_x", "if_z"):
                name, index = args[0]
                with qc.if_test((cregs[name][index], 1)):
                    (qc.x if kind == "if_x" else qc.z)(args[1])
            elif kind == "delay":
                qc.delay(self.idle, list(args), unit="ns")
            else:  # reset, x, h, cx, cz, ccx
                getattr(qc, kind)(*args)
        if self.flag is not None:
            qc.measure(self.flag, cregs["flag"][0])
        measured = mixup_circuits.measure_directions(qc, *pair)
        meas = tuple(measured.find_bit(b).index for b in measured.cregs[-1])
        rounds = []
        if "round" in cregs:
            bits = [measured.find_bit(b).index for b in cregs["round"]]
            rounds = [(bits[2 * r], bits[2 * r + 1]) for r in range(self.n_rounds)]
        flag = measured.find_bit(cregs["flag"][0]).index if "flag" in cregs else None
        return Chain(measured, pair, meas, rounds, flag, list(self.round_levels))


@functools.cache
def chain_circuit(
    links: int,
    rounds: int = 0,
    *,
    dephasing: bool = False,
    idle: float = 0.0,
    form: str = "dynamic",
    corrections: bool = True,
) -> Chain:
    """The chain of ``links`` links with ``rounds`` DEJMPS rounds per level, measured.

    Parameters
    ----------
    links : int
        ``L``, a power of two.
    rounds : int
        ``K`` rounds per level.
    dephasing : bool
        Put a :data:`DEPHASING` site on every stored qubit at every level (fill it with
        :func:`dephasing_mixture`); without, the circuit has none (``P = 0``).
    idle : float
        Nanoseconds every stored qubit waits before each swap (``delay``; 0: none).
    form : {"dynamic", "deferred"}
        Mid-circuit measurements with feed-forward, or their coherent equivalent (module
        docstring).
    corrections : bool
        Apply the swaps' Pauli corrections (``False`` only to show that they matter).

    Returns
    -------
    Chain
        The circuit (cached: do not modify it) and where its bits are.
    """
    n = theory.check_links(links)
    k = theory.check_rounds(rounds)
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    if not np.isfinite(idle) or idle < 0:
        raise ValueError(f"idle must be a non-negative number of nanoseconds, got {idle!r}")
    width = chain_width(2**n, k, deferred=form == "deferred")
    if width > MAX_QUBITS:
        raise ValueError(
            f"a chain of {2**n} links with {k} rounds per level needs {width} qubits; "
            f"circuits are built up to {MAX_QUBITS}"
        )
    builder = _Builder(k, bool(dephasing), float(idle), form, bool(corrections))
    pair = builder.distilled(n, k)
    return builder.write(pair)


@functools.cache
def chain_width(links: int, rounds: int, *, deferred: bool = False) -> int:
    """Qubits of the chain circuit (the pool's peak), without building it.

    >>> chain_width(2, 0), chain_width(4, 0), chain_width(2, 1)
    (6, 8, 10)
    """
    n = theory.check_links(links)
    k = theory.check_rounds(rounds)
    pairs = 2 ** (n + k * (n + 1))
    if pairs > MAX_PAIRS:
        raise ValueError(
            f"a chain of {2**n} links with {k} rounds per level consumes {pairs} delivered "
            f"pairs per shot; circuits are built up to {MAX_PAIRS} pairs and {MAX_QUBITS} qubits"
        )
    builder = _Builder(k, False, 0.0, "deferred" if deferred else "", True)
    builder.distilled(n, builder.k)
    return builder.size


def round_counts(links: int, rounds: int) -> np.ndarray:
    """How many DEJMPS rounds of each (level, round) the chain performs, shape (n + 1, K).

    A shot is kept when all of them succeed: probability ``prod p_{l,k} ** counts[l, k]``.

    >>> round_counts(2, 1).tolist()  # two links: 4 rounds at level 0, 1 at level 1
    [[4], [1]]
    """
    n = theory.check_links(links)
    k = theory.check_rounds(rounds)
    counts = np.zeros((n + 1, k), dtype=np.int64)
    # pairs entering level l (after its swaps): 2^(n-l) links x 2^K copies per output pair,
    # for each of the 2^K copies the level above needs: 2^(n-l) * 2^(K (n-l+1)) pairs;
    # round j (from 0) at level l runs once per 2^(j+1) of them
    for level in range(n + 1):
        entering = 2 ** (n - level) * 2 ** (k * (n - level + 1))
        for j in range(k):
            counts[level, j] = entering // 2 ** (j + 1)
    return counts
