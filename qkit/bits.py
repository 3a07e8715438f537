"""Classical bits of a measured circuit: which qubit each bit reads, which outcome each string is.

Qiskit's counts keys and probability vectors index bit strings by the integer whose bit ``j``
is classical bit ``j`` (clbit 0 least significant, written rightmost). Two helpers, used by
every experiment and backend instead of hand-written tables and circuit scans:

- :func:`outcome_table`: the 0/1 matrix from Qiskit's integers to an experiment's outcomes;
- :func:`measurements`: a circuit split into its gates and the qubit read into each bit
  (:func:`read_qubits`: only the qubits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qiskit import QuantumCircuit


def outcome_table(num_clbits: int, outcome: Callable[..., int], num_outcomes: int) -> np.ndarray:
    """Which outcome each bit string is: a 0/1 matrix (2**num_clbits, num_outcomes).

    Row ``k`` is Qiskit's integer ``k`` of the bits; its 1 is in column
    ``outcome(b0, b1, ..., b_{n-1})``, ``b_j`` the value of classical bit ``j``. Counts ``c``
    over Qiskit's integers become outcome counts ``c @ table``.

    >>> outcome_table(2, lambda b_a, b_b: 2 * b_a + b_b, 4).argmax(axis=1).tolist()
    [0, 2, 1, 3]
    """
    if num_clbits < 0 or num_outcomes < 1:
        raise ValueError(f"need num_clbits >= 0, num_outcomes >= 1: {num_clbits}, {num_outcomes}")
    table = np.zeros((2**num_clbits, num_outcomes))
    for k in range(2**num_clbits):
        column = outcome(*((k >> j) & 1 for j in range(num_clbits)))
        if not 0 <= column < num_outcomes:
            raise ValueError(f"outcome {column!r} of bit string {k} is not in [0, {num_outcomes})")
        table[k, column] = 1.0
    return table


def read_qubits(circuit: QuantumCircuit) -> list[int]:
    """The qubit read into each classical bit (``qubits[k]`` for clbit ``k``; the last
    measurement into a bit wins), without copying the circuit (a transpiled circuit has every
    qubit of its device).

    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(5, 2); _ = qc.measure(3, 0); _ = qc.measure(1, 1)
    >>> read_qubits(qc)
    [3, 1]
    """
    measured: dict[int, int] = {}
    for inst in circuit.data:
        if inst.operation.name == "measure":
            measured[circuit.find_bit(inst.clbits[0]).index] = circuit.find_bit(
                inst.qubits[0]
            ).index
    missing = [c for c in range(circuit.num_clbits) if c not in measured]
    if missing:
        raise ValueError(f"classical bits {missing} are never measured")
    return [measured[c] for c in range(circuit.num_clbits)]


def measurements(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list[int]]:
    """``(body, qubits)``: the circuit without measurements and barriers, and the qubit read
    into each classical bit (``qubits[k]`` for clbit ``k``).

    Every classical bit must be measured exactly once and no operation may act on a qubit
    after its measurement, so ``body`` followed by measuring ``qubits`` is the circuit
    (:func:`read_qubits` only reads which qubit each bit holds, from any circuit).

    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(5, 2); _ = qc.h(3); _ = qc.measure(3, 0); _ = qc.measure(1, 1)
    >>> body, qubits = measurements(qc)
    >>> qubits, len(body.data)
    ([3, 1], 1)
    """
    measured: dict[int, int] = {}
    body = circuit.copy_empty_like()
    for inst in circuit.data:
        name = inst.operation.name
        if name == "measure":
            clbit = circuit.find_bit(inst.clbits[0]).index
            if clbit in measured:
                raise ValueError(f"classical bit {clbit} is measured twice")
            measured[clbit] = circuit.find_bit(inst.qubits[0]).index
        elif name != "barrier":
            if measured:
                on = {circuit.find_bit(q).index for q in inst.qubits}
                if on & set(measured.values()):
                    raise ValueError(f"{name} acts on a qubit after its measurement")
            body.append(inst)
    missing = [c for c in range(circuit.num_clbits) if c not in measured]
    if missing:
        raise ValueError(f"classical bits {missing} are never measured")
    return body, [measured[c] for c in range(circuit.num_clbits)]
