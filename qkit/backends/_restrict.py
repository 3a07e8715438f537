"""A device noise model restricted to the qubits a circuit uses.

``NoiseModel.from_backend`` of a 156-qubit Heron holds thousands of errors; Aer copies and
converts all of them on every run, about 30 s per call, although a circuit on a few qubits
meets only the errors of those qubits (Aer drops idle qubits). The restricted model keeps the
errors whose qubits are all among the used ones, so a circuit's outcome distribution is the
same as under the full model.
"""

from __future__ import annotations

from collections.abc import Iterable

from qiskit import QuantumCircuit

_IDLE = frozenset({"barrier", "delay"})


def active_qubits(circuits: Iterable[QuantumCircuit]) -> frozenset[int]:
    """Indices of the qubits any instruction other than a barrier or delay acts on."""
    used: set[int] = set()
    for circuit in circuits:
        for instruction in circuit.data:
            if instruction.operation.name not in _IDLE:
                used.update(circuit.find_bit(q).index for q in instruction.qubits)
    return frozenset(used)


def restrict_noise_model(model, qubits: Iterable[int]):
    """The errors of ``model`` (an Aer ``NoiseModel``) on subsets of ``qubits`` only."""
    from qiskit_aer.noise import NoiseModel

    keep = set(qubits)
    out = NoiseModel(basis_gates=model.basis_gates)
    for name, error in model._default_quantum_errors.items():
        out.add_all_qubit_quantum_error(error, name, warnings=False)
    for name, by_qubits in model._local_quantum_errors.items():
        for on, error in by_qubits.items():
            if set(on) <= keep:
                out.add_quantum_error(error, name, list(on), warnings=False)
    if model._default_readout_error is not None:
        out.add_all_qubit_readout_error(model._default_readout_error, warnings=False)
    for on, error in model._local_readout_errors.items():
        if set(on) <= keep:
            out.add_readout_error(error, list(on), warnings=False)
    out._custom_noise_passes = list(model._custom_noise_passes)
    return out
