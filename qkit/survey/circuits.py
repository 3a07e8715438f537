"""Survey circuits: one pair experiment on every coupler of a class, in one device circuit.

Two experiments, each a two-qubit circuit reused from the papers' builders:

- ``chsh``: the Bell pair ``psi_a`` at ``a = 1/sqrt2`` (paper A, Sec. II) measured along the
  four optimal CHSH settings (Sec. V), which stay ``Parameter``s: one circuit per class, the
  four settings are its bindings;
- ``channel``: paper B's two-photon letters ``singlet`` and ``triplet_HH`` (the optimal
  entangled pair alphabet at ``eta = 1``) read by the Braunstein-Mann singlet/triplet
  measurement (Sec. V): one circuit per letter and class.

Qubit A of a pair (the first qubit: pol1, side A) sits on the lower-numbered qubit of its
coupler. A class circuit has two logical qubits and one two-bit register per coupler
(``c<i>_<j>``); it is transpiled for the device with the layout fixed to the couplers, so no
routing moves a pair and every pair runs exactly on its coupler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.transpiler import generate_preset_pass_manager

from qkit.bits import read_qubits
from qkit.channel import circuits as channel_circuits
from qkit.mixup import circuits as mixup_circuits
from qkit.mixup import theory as mixup_theory
from qkit.survey.packing import Coupler

EXPERIMENTS = ("chsh", "channel")
CHANNEL_LETTERS = ("singlet", "triplet_HH")
"""The pair alphabet of the channel survey (Werner parameters 1 and -1/3)."""


def check_experiment(experiment: str) -> str:
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(EXPERIMENTS)}, got {experiment!r}")
    return experiment


def chsh_settings() -> dict[str, np.ndarray]:
    """Optimal CHSH directions for the Bell pair (value ``2 sqrt2``)."""
    return mixup_theory.chsh_settings(1.0, mixup_theory.BELL_AMPLITUDE)


def pair_circuits(experiment: str) -> dict[str, QuantumCircuit]:
    """The two-qubit circuits of one experiment by name (``chsh``; or the channel letters),
    each measuring its pair into one two-bit register (bit 0 = qubit A)."""
    if check_experiment(experiment) == "chsh":
        bell = mixup_circuits.psi_circuit(mixup_theory.BELL_AMPLITUDE)
        return {"chsh": mixup_circuits.measure_directions(bell)}
    return {
        letter: channel_circuits.two_photon_circuit(letter, noisy=False)
        for letter in CHANNEL_LETTERS
    }


def register_name(coupler: Coupler) -> str:
    return f"c{coupler[0]}_{coupler[1]}"


def class_circuit(pair: QuantumCircuit, couplers: Sequence[Coupler]) -> QuantumCircuit:
    """``pair`` on every coupler of a class: logical qubits ``2k, 2k+1`` hold coupler ``k``,
    register ``c<i>_<j>`` its two bits. Parameters are shared by all pairs."""
    if pair.num_qubits != 2 or pair.num_clbits != 2:
        raise ValueError("pair must be a two-qubit circuit measuring two bits")
    qc = QuantumCircuit(QuantumRegister(2 * len(couplers), "q"), name=pair.name)
    for k, coupler in enumerate(couplers):
        creg = ClassicalRegister(2, register_name(coupler))
        qc.add_register(creg)
        qc.compose(pair, qubits=[2 * k, 2 * k + 1], clbits=list(creg), inplace=True)
    return qc


def layout(couplers: Sequence[Coupler]) -> list[int]:
    """Physical qubit of each logical qubit of :func:`class_circuit`."""
    return [q for coupler in couplers for q in coupler]


def transpile_on(
    device,
    circuit: QuantumCircuit,
    physical: Sequence[int],
    *,
    optimization_level: int = 2,
    seed: int = 0,
) -> QuantumCircuit:
    """Transpile for ``device`` with logical qubit ``k`` fixed on ``physical[k]``; checks that
    every register is measured on the physical qubits of its pair."""
    pm = generate_preset_pass_manager(
        optimization_level=optimization_level,
        target=device.target,
        initial_layout=list(physical),
        seed_transpiler=seed,
    )
    out = pm.run(circuit)
    check_placement(circuit, out, physical)
    return out


def check_placement(
    circuit: QuantumCircuit, transpiled: QuantumCircuit, physical: Sequence[int]
) -> None:
    """Raise unless every register of ``transpiled`` is measured on the physical qubits of its
    pair (logical qubit ``k`` of ``circuit`` on ``physical[k]``)."""
    logical = measured_qubits(circuit)
    for register, qubits in measured_qubits(transpiled).items():
        expected = tuple(physical[q] for q in logical[register])
        if qubits != expected:
            raise RuntimeError(f"register {register} measured on {qubits}, not {expected}")


def measured_qubits(circuit: QuantumCircuit) -> dict[str, tuple[int, ...]]:
    """Physical qubit measured into each bit of each register (registers in circuit order)."""
    qubits = read_qubits(circuit)
    return {r.name: tuple(qubits[circuit.find_bit(b).index] for b in r) for r in circuit.cregs}


def bindings(circuit: QuantumCircuit, experiment: str) -> np.ndarray | None:
    """Parameter values of the PUB of a survey circuit: the 4 CHSH settings, shape (4, 4) in
    ``circuit.parameters`` order, or ``None`` (the channel letters have no parameters)."""
    if check_experiment(experiment) != "chsh":
        return None
    by_param = mixup_circuits.chsh_bindings(circuit, chsh_settings())
    return np.stack([by_param[p] for p in circuit.parameters], axis=-1)


def settings(circuit: QuantumCircuit, experiment: str) -> dict[str, np.ndarray]:
    """The measurement settings of a survey circuit by parameter name (a
    :class:`qkit.sampling.Family` entry): the 4 CHSH settings, or none for a channel letter."""
    values = bindings(circuit, experiment)
    if values is None:
        return {}
    return {p.name: values[:, k] for k, p in enumerate(circuit.parameters)}


def pair_counts(counts: Mapping[str, int], num_registers: int) -> np.ndarray:
    """Counts of a class circuit -> counts per coupler, shape (num_registers, 4), qkit order
    ``2 bit_A + bit_B``. Registers in circuit order; Qiskit keys put the first register's bits
    rightmost."""
    out = np.zeros((num_registers, 4), dtype=np.int64)
    width = 2 * num_registers
    for key, value in counts.items():
        bits = key.replace(" ", "")
        if len(bits) != width:
            raise ValueError(f"counts key {key!r} has {len(bits)} bits, expected {width}")
        for k in range(num_registers):
            a = bits[width - 1 - 2 * k] == "1"
            b = bits[width - 2 - 2 * k] == "1"
            out[k, 2 * a + b] += int(value)
    return out
