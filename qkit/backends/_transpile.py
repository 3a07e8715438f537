"""Transpilation once per circuit family: structural keys, a cache, statistics.

A circuit family is a set of circuits that differ only in the values bound to their
``Parameter``s, so one transpilation serves a whole sweep. The cache key of a circuit is a
hash of its structure (instructions, labels, operand indices, unbound parameter names,
numeric parameters, registers, metadata); binding values is the sampler's job.

On Aer the noise model acts on *labelled* placeholder instructions (e.g. an identity
``UnitaryGate`` labelled ``"mixup"``). Preset pass managers at optimization level >= 1
delete identity unitaries and merge adjacent ones, which would silently remove the noise.
:func:`protect_labelled` swaps each labelled instruction the simulator supports for an opaque
non-gate ``Instruction`` that no optimization pass analyses (so it is neither removed, merged
nor commuted past), and :func:`restore_labelled` puts the original back after transpilation.
(An opaque ``Gate`` is not enough: the two-qubit peephole pass tries to build its matrix.)
qkit's own noise sites (Aer's ``qerror_loc``, :mod:`qkit.noise`) survive either way; the
protection also covers labelled ``UnitaryGate``s.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction, ParameterExpression
from qiskit.transpiler import Target

_KEEP_PREFIX = "qkit_keep_"
_DIRECTIVES = frozenset({"barrier", "measure", "reset", "delay", "store"})


def _param_token(value: object) -> str:
    if isinstance(value, ParameterExpression):
        return f"P({value})"
    if isinstance(value, np.ndarray):
        return "A" + hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
    return repr(value)


def _operation_token(operation) -> str:
    params = ",".join(_param_token(p) for p in getattr(operation, "params", ()))
    label = getattr(operation, "label", None)
    return f"{operation.name}|{label}|{operation.num_qubits}|{operation.num_clbits}|{params}"


def structural_key(circuit: QuantumCircuit) -> str:
    """Hash of everything in ``circuit`` that transpilation depends on (not bound values).

    >>> from qiskit.circuit import Parameter
    >>> a, b = QuantumCircuit(1), QuantumCircuit(1)
    >>> _ = a.rx(Parameter("t"), 0); _ = b.rx(Parameter("t"), 0)
    >>> structural_key(a) == structural_key(b)
    True
    """
    digest = hashlib.sha256()
    registers = [(r.name, r.size) for r in circuit.qregs] + [
        (r.name, r.size) for r in circuit.cregs
    ]
    digest.update(repr((circuit.num_qubits, circuit.num_clbits, registers)).encode())
    digest.update(_param_token(circuit.global_phase).encode())  # not the name: auto-generated
    digest.update(
        repr(sorted((circuit.metadata or {}).items(), key=lambda kv: str(kv[0]))).encode()
    )
    for instruction in circuit.data:
        qubits = tuple(circuit.find_bit(q).index for q in instruction.qubits)
        clbits = tuple(circuit.find_bit(c).index for c in instruction.clbits)
        digest.update(f"{_operation_token(instruction.operation)}{qubits}{clbits};".encode())
    return digest.hexdigest()


def protect_labelled(
    circuits: Sequence[QuantumCircuit], target: Target
) -> tuple[list[QuantumCircuit], dict[str, Instruction], Target]:
    """Replace labelled instructions the target supports by opaque placeholder instructions.

    Returns the rewritten circuits, the map placeholder name -> original operation, and a
    copy of ``target`` that accepts the placeholders on every qubit.
    """
    originals: dict[str, Instruction] = {}
    by_token: dict[str, str] = {}
    supported = set(target.operation_names)
    rewritten = []
    for circuit in circuits:
        out = circuit.copy_empty_like()
        for instruction in circuit.data:
            operation = instruction.operation
            label = getattr(operation, "label", None)
            if label is None or operation.name in _DIRECTIVES or operation.name not in supported:
                out.append(instruction)
                continue
            token = _operation_token(operation)
            if token not in by_token:
                by_token[token] = f"{_KEEP_PREFIX}{len(by_token)}"
                originals[by_token[token]] = operation
            placeholder = Instruction(by_token[token], operation.num_qubits, 0, [])
            out.append(instruction.replace(operation=placeholder))
        rewritten.append(out)
    if not originals:
        return list(circuits), {}, target
    extended = copy.deepcopy(target)
    for name, operation in originals.items():
        extended.add_instruction(
            Instruction(name, operation.num_qubits, 0, []), {None: None}, name=name
        )
    return rewritten, originals, extended


def restore_labelled(circuit: QuantumCircuit, originals: dict[str, Instruction]) -> QuantumCircuit:
    """Put the original labelled operations back in place of their placeholders."""
    if not originals:
        return circuit
    for index, instruction in enumerate(circuit.data):
        original = originals.get(instruction.operation.name)
        if original is not None:
            circuit.data[index] = instruction.replace(operation=original)
    return circuit


class TranspileCache:
    """Transpiled circuits keyed by :func:`structural_key`, plus named families.

    ``run_pass_manager(circuits) -> circuits`` does the actual work for the cache misses.
    ``persist() -> (DeviceCache, context) | None`` (called at the first miss) adds a disk
    layer shared by processes (:mod:`qkit.backends._cache`): ``context`` names everything
    besides the circuit that the transpilation depends on (layout, optimization level, seed).
    """

    def __init__(
        self,
        run_pass_manager: Callable[[list[QuantumCircuit]], list[QuantumCircuit]],
        persist: Callable[[], tuple[Any, str] | None] | None = None,
    ):
        self._run = run_pass_manager
        self._persist = persist
        self._by_structure: dict[str, QuantumCircuit] = {}
        self._families: dict[str, tuple[str, ...]] = {}
        self.transpilations = 0  # circuits actually transpiled (cache misses), for tests/benchmarks

    def __call__(
        self, circuits: Sequence[QuantumCircuit], key: str | None = None
    ) -> list[QuantumCircuit]:
        circuits = list(circuits)
        for circuit in circuits:
            if not isinstance(circuit, QuantumCircuit):
                raise ValueError(
                    f"circuits must be qiskit QuantumCircuits, got {type(circuit).__name__}"
                )
        keys = tuple(structural_key(c) for c in circuits)
        if key is not None:
            known = self._families.setdefault(key, keys)
            if known != keys:
                raise ValueError(
                    f"transpile key {key!r} was already used for different circuits; "
                    "use one key per circuit family"
                )
        missing = {k: c for k, c in zip(keys, circuits, strict=True) if k not in self._by_structure}
        disk = self._persist() if missing and self._persist is not None else None
        if disk is not None:
            store, context = disk
            for k in list(missing):
                found = store.get_circuit("transpiled", f"{context}|{k}")
                if found is not None:
                    self._by_structure[k] = found
                    del missing[k]
        if missing:
            done = self._run(list(missing.values()))
            self.transpilations += len(done)
            self._by_structure.update(zip(missing, done, strict=True))
            if disk is not None:
                for k, circuit in zip(missing, done, strict=True):
                    store.put_circuit("transpiled", f"{context}|{k}", circuit)
        return [self._by_structure[k] for k in keys]

    def is_output(self, circuit: QuantumCircuit) -> bool:
        """True if ``circuit`` is one of the transpiled circuits this cache handed out."""
        return any(circuit is c for c in self._by_structure.values())


def transpile_stats(circuit: QuantumCircuit) -> dict:
    """Two-qubit gate count, depth and layout of a transpiled circuit.

    ``layout[i]`` is the physical qubit that holds virtual qubit ``i`` at the end of the
    circuit (after routing); without a layout (a simulator with all-to-all connectivity) it is
    the identity.
    """
    two_qubit = sum(
        1
        for instruction in circuit.data
        if instruction.operation.num_qubits == 2 and instruction.operation.name not in _DIRECTIVES
    )
    depth = circuit.depth(
        lambda instruction: instruction.operation.name not in ("barrier", "delay")
    )
    if circuit.layout is not None:
        layout = [int(q) for q in circuit.layout.final_index_layout()]
    else:
        layout = list(range(circuit.num_qubits))
    return {"two_qubit_gates": int(two_qubit), "depth": int(depth), "layout": layout}


def without_idle_qubits(circuit: QuantumCircuit, width: int) -> QuantumCircuit:
    """``circuit`` if it fits on ``width`` qubits, else a copy without its idle qubits.

    A branch of a noise mixture touches only some of its circuit's qubits (distillation's
    branches use 4 of 8): on a device narrower than the circuit the branch runs on the qubits
    it uses. The classical bits and their order are kept, so counts read the same.
    """
    if circuit.num_qubits <= width:
        return circuit
    used = sorted({circuit.find_bit(q).index for inst in circuit.data for q in inst.qubits})
    if len(used) == circuit.num_qubits:
        return circuit
    narrow = QuantumCircuit(len(used), name=circuit.name, global_phase=circuit.global_phase)
    narrow.add_bits(circuit.clbits)  # in their order: the counts' bit strings stay the same
    for register in circuit.cregs:
        narrow.add_register(register)
    position = {circuit.qubits[old]: narrow.qubits[new] for new, old in enumerate(used)}
    for inst in circuit.data:
        narrow.append(inst.operation, [position[q] for q in inst.qubits], inst.clbits)
    narrow.metadata = dict(circuit.metadata or {})
    return narrow


def physical_qubits(circuit: QuantumCircuit) -> list[int]:
    """The physical qubits a transpiled ``circuit`` acts on (gates or measurements), sorted."""
    return sorted(
        {
            circuit.find_bit(qubit).index
            for instruction in circuit.data
            if instruction.operation.name != "barrier"
            for qubit in instruction.qubits
        }
    )
