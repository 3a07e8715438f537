"""One DEJMPS round as a Qiskit circuit on two delivered (mixed-up) pairs.

Each delivered pair is built as in paper A (:func:`qkit.mixup.circuits.delivered_pair_circuit`):
two source pairs and a :data:`qkit.noise.MIXUP` site, so the same
``qkit.noise.swap_mixture(S)`` realizes the mix-up as an Aer noise model or, with
:func:`branches`, as four noise-free circuits (weights ``S^2, S(1-S), (1-S)S, (1-S)^2``).

Qubits (one register each): ``a1, b1`` the kept pair, ``c1, d1`` the second source pair of its
mix-up (``d1`` may have been swapped into ``b1``), ``a2, b2`` the target pair and ``c2, d2``.
Alice holds ``a1, a2``, Bob ``b1, b2``. The round (Deutsch et al., PRL 77, 2818 (1996)):
``Rx(pi/2)`` on ``a1, a2``, ``Rx(-pi/2)`` on ``b1, b2``, ``CX(a1, a2)``, ``CX(b1, b2)``, then the
target pair is measured in Z into register ``target`` (``target[0]`` = Alice), mid-circuit; the
kept pair is then measured along the Parameter directions of
:func:`qkit.pairs.measure_directions` into ``meas`` (``meas[0]`` = Alice), so CHSH and
tomography settings bind with :func:`qkit.pairs.setting_bindings` and friends.
:func:`postselect` turns the counts into the success events and the kept-pair counts given
agreement, to compare with :func:`qkit.distill.theory.dejmps_round`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import ParameterExpression

from qkit import noise, pairs
from qkit.mixup import circuits as mixup_circuits

QUBIT_NAMES = ("a1", "b1", "c1", "d1", "a2", "b2", "c2", "d2")
"""Register names in qubit order: kept pair (a1, b1), target pair (a2, b2), their partners."""
KEPT = (0, 1)
"""Qubit indices of the kept pair (Alice, Bob)."""
TARGET = (4, 5)
"""Qubit indices of the target pair (Alice, Bob), measured mid-circuit."""


def dejmps_round_circuit(pair: float | ParameterExpression | QuantumCircuit) -> QuantumCircuit:
    """Two delivered pairs and the DEJMPS rotations and CNOTs, no measurement (8 qubits).

    Parameters
    ----------
    pair : float, Parameter or QuantumCircuit
        The amplitude ``a`` of ``psi_a`` (or a Parameter bound to it), or a two-qubit circuit
        preparing the source pair, as for :func:`qkit.mixup.circuits.delivered_pair_circuit`.
    """
    if isinstance(pair, QuantumCircuit) and pair.num_qubits != 2:
        raise ValueError(f"pair circuit must act on exactly 2 qubits, got {pair.num_qubits}")
    delivered = mixup_circuits.delivered_pair_circuit(pair)
    regs = [QuantumRegister(1, name) for name in QUBIT_NAMES]
    qc = QuantumCircuit(*regs, name="dejmps_round")
    qc.compose(delivered, qubits=range(4), inplace=True)
    qc.compose(delivered, qubits=range(4, 8), inplace=True)
    (alice, bob), (alice2, bob2) = KEPT, TARGET
    qc.rx(np.pi / 2, [alice, alice2])
    qc.rx(-np.pi / 2, [bob, bob2])
    qc.cx(alice, alice2)
    qc.cx(bob, bob2)
    return qc


def dejmps_circuit(pair: float | ParameterExpression | QuantumCircuit) -> QuantumCircuit:
    """:func:`dejmps_round_circuit`, the target pair measured in Z, the kept pair along directions.

    Registers ``target`` (clbits 0, 1) then ``meas`` (clbits 2, 3); Qiskit counts keys read
    ``"meas target"``. The measurement angles are the Parameters
    :data:`qkit.pairs.SETTING_NAMES`.
    """
    qc = dejmps_round_circuit(pair)
    target = ClassicalRegister(2, "target")
    qc.add_register(target)
    qc.measure(list(TARGET), target)
    return pairs.measure_directions(qc, *KEPT)


def branches(circuit: QuantumCircuit) -> list[QuantumCircuit]:
    """The two mix-ups as four noise-free circuits (hardware), weights from
    ``qkit.noise.branch_weights(circuit, [swap_mixture(S)])``: ``S^2, S(1-S), (1-S)S, (1-S)^2``.
    """
    return noise.expand_branches(circuit, [noise.swap_mixture(1.0)], prune=True)


@dataclass(frozen=True)
class RoundCounts:
    """Counts of one DEJMPS round: ``successes`` of ``trials`` kept; ``kept`` given success.

    ``kept`` holds the kept-pair outcomes in qkit order (index ``2 bA + bB``, bit 0 = +1),
    counted only where the target outcomes agreed.
    """

    trials: int
    successes: int
    kept: np.ndarray

    @property
    def success_fraction(self) -> float:
        """``successes / trials`` (NaN without trials)."""
        return self.successes / self.trials if self.trials else float("nan")


def postselect(counts: Mapping[str, int]) -> RoundCounts:
    """Split joint counts of :func:`dejmps_circuit` into success events and kept-pair counts.

    Keys are ``"mm tt"`` (Qiskit's register-separated form, ``meas`` left) or the 4-bit
    ``"mmtt"`` of joined registers (clbit 0 rightmost).

    >>> c = postselect({"01 00": 5, "10 11": 2, "00 01": 3})
    >>> c.trials, c.successes, c.kept.tolist()
    (10, 7, [0, 2, 5, 0])
    """
    trials, successes = 0, 0
    kept = np.zeros(4, dtype=np.int64)
    for key, value in counts.items():
        bits = key.replace(" ", "")
        if len(bits) != 4 or set(bits) - {"0", "1"}:
            raise ValueError(f"counts key {key!r} is not 4 bits ('meas target')")
        n = int(value)
        if n < 0:
            raise ValueError(f"counts must be non-negative, got {value!r} for {key!r}")
        bob_t, alice_t = bits[2], bits[3]
        trials += n
        if alice_t == bob_t:
            successes += n
            bob_k, alice_k = int(bits[0]), int(bits[1])
            kept[2 * alice_k + bob_k] += n
    return RoundCounts(trials=trials, successes=successes, kept=kept)
