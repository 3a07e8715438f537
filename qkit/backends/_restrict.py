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


class _SubDevice:
    """What ``NoiseModel.from_backend`` reads of a BackendV2, with the target cut down to the
    instructions on ``qubits`` that are not in ``done`` (qubit indices, qubit properties and
    basis gates unchanged)."""

    version = 2

    def __init__(self, device, qubits: frozenset[int], done: set[tuple[str, tuple]]):
        from qiskit.transpiler import Target

        full = device.target
        self.operation_names = list(full.operation_names)
        self.dt = full.dt
        self.name = getattr(device, "name", "device")
        self.target = Target(
            num_qubits=full.num_qubits, dt=full.dt, qubit_properties=full.qubit_properties
        )
        self.instructions: set[tuple[str, tuple]] = set()
        for name in full.operation_names:
            kept = {
                q: p
                for q, p in full[name].items()
                if q is not None and set(q) <= qubits and (name, tuple(q)) not in done
            }
            if kept:
                self.target.add_instruction(full.operation_from_name(name), kept, name=name)
                self.instructions.update((name, tuple(q)) for q in kept)

    def __str__(self) -> str:  # Aer's warnings name the backend
        return str(self.name)


class _Built:
    """The errors of one device built so far in this process, and which instructions they
    cover: every instruction's error is built once, whatever qubit sets are asked for."""

    def __init__(self, device):
        self.device = device
        self.model = None
        self.done: set[tuple[str, tuple]] = set()
        self.restricted: dict[frozenset[int], object] = {}

    def on(self, used: frozenset[int]):
        from qiskit_aer.noise import NoiseModel

        if used in self.restricted:
            return self.restricted[used]
        part = _SubDevice(self.device, used, self.done)
        if part.instructions or self.model is None:
            new = NoiseModel.from_backend(part)
            if self.model is None:
                self.model = new
            else:
                for name, by_qubits in new._local_quantum_errors.items():
                    for on, error in by_qubits.items():
                        self.model.add_quantum_error(error, name, list(on), warnings=False)
                for on, error in new._local_readout_errors.items():
                    self.model.add_readout_error(error, list(on), warnings=False)
            self.done |= part.instructions
        self.restricted[used] = restrict_noise_model(self.model, used)
        return self.restricted[used]


def device_noise_model(device, qubits: Iterable[int]):
    """``NoiseModel.from_backend(device)`` restricted to ``qubits``, built from the errors of
    those qubits only: the same model as :func:`restrict_noise_model` of the whole device's
    (a test checks), at the cost of the qubits used instead of the whole device (a 2-qubit
    model of a 156-qubit Heron in ~0.1 s instead of ~7 s). Each instruction's error is built
    once per process and device, whatever qubit sets are asked for (a survey's 32 circuits
    cost one whole-device model at most); do not modify the returned model."""
    built = _MODELS.get(id(device))
    if built is None or built.device is not device:
        built = _MODELS[id(device)] = _Built(device)
    return built.on(frozenset(int(q) for q in qubits))


_MODELS: dict[int, _Built] = {}
"""Errors built in this process, by device object (the device is kept, so its id is not
reused while its entry lives)."""
