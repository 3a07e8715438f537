"""Per-coupler predictions: ideal (the papers' theory) and under the device's noise model.

The noise-model prediction is exact numerics, no sampling: each class circuit is transpiled
exactly as in the survey (layout fixed), each pair's own gates are cut out (pairs never
interact), its measurements are removed, and Aer's density-matrix method with
``NoiseModel.from_backend(device)`` saves the probabilities of the two measured qubits; the
device's readout errors (the ``ReadoutError`` matrices the noise model attaches to ``measure``)
then turn them into the probabilities of the recorded bits. The noise model has no error
between pairs, so a pair's marginal in the class circuit equals this two-qubit prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from qiskit import QuantumCircuit

from qkit import measures, progress
from qkit.channel import theory as channel_theory
from qkit.estimators.correlators import CHSH_SIGNS
from qkit.mixup import theory as mixup_theory
from qkit.survey import circuits as survey_circuits
from qkit.survey.packing import Coupler

_PARITY = np.array([1.0, -1.0, -1.0, 1.0])


def ideal(experiment: str) -> float:
    """Noise-free value: CHSH of the Bell pair ``2 sqrt2`` (paper A, Sec. V); mutual
    information of the singlet/triplet pair alphabet at ``eta = 1``, 1 bit (paper B, Sec. V)."""
    if survey_circuits.check_experiment(experiment) == "chsh":
        return float(mixup_theory.chsh_max(1.0, mixup_theory.BELL_AMPLITUDE))
    ensemble = channel_theory.optimal_ensemble(1.0, "entangled")
    return float(
        channel_theory.measurement_mutual_information(
            ensemble["probabilities"], ensemble["werner_parameters"], 1.0
        )
    )


def prior(experiment: str) -> np.ndarray | None:
    """Input probabilities of the channel letters (the optimal ensemble at ``eta = 1``)."""
    if survey_circuits.check_experiment(experiment) == "chsh":
        return None
    ensemble = channel_theory.optimal_ensemble(1.0, "entangled")
    assert tuple(ensemble["labels"]) == survey_circuits.CHANNEL_LETTERS
    return np.asarray(ensemble["probabilities"], dtype=float)


def value_from_probabilities(experiment: str, probabilities: np.ndarray) -> np.ndarray:
    """CHSH value (from (..., 4 settings, 4) outcome probabilities, qkit order) or mutual
    information in bits (from (..., 2 letters, 4) probabilities; outcome 3 = singlet)."""
    p = np.asarray(probabilities, dtype=float)
    p = p / p.sum(axis=-1, keepdims=True)  # Aer's float rounding (1e-9) beyond the checks
    if survey_circuits.check_experiment(experiment) == "chsh":
        return np.einsum("...so,o,s->...", p, _PARITY, CHSH_SIGNS)
    channel = np.stack([p[..., 3], p[..., :3].sum(axis=-1)], axis=-1)  # singlet, triplet
    pi = prior(experiment)
    assert pi is not None  # every experiment but CHSH has a prior
    output = np.einsum("x,...xy->...y", pi, channel)
    # simulated distributions (built here) sum to 1 only to ~1e-9: no input checks
    conditional = np.einsum("x,...x->...", pi, measures.shannon_entropy(channel, trusted=True))
    return measures.shannon_entropy(output, trusted=True) - conditional


def _readout(device) -> dict[int, np.ndarray]:
    from qiskit_aer.noise.device.models import basic_device_readout_errors

    return {
        int(qubits[0]): np.asarray(error.probabilities, dtype=float)
        for qubits, error in basic_device_readout_errors(target=device.target)
    }


_MODELS: dict[str, Any] = {}


def cached_noise_model(device):
    """:func:`noise_model` of ``device``, built once per process and device name (building it
    for a 156-qubit device takes tens of seconds)."""
    key = f"{type(device).__name__}:{getattr(device, 'name', '')}"
    if key not in _MODELS:
        _MODELS[key] = noise_model(device)
    return _MODELS[key]


def _restricted(model, circuits):
    """``model`` on the qubits ``circuits`` use only (the same predictions; Aer converts the
    whole model on every run, tens of seconds for a 156-qubit device)."""
    from qkit.backends._restrict import active_qubits, restrict_noise_model

    return restrict_noise_model(model, active_qubits(circuits))


def noise_model(device):
    """``NoiseModel.from_backend(device)``, checked to have no quantum error on ``measure``
    (its readout errors are applied exactly by :func:`noise_probabilities`)."""
    from qiskit_aer.noise import NoiseModel

    with progress.phase("building the device model"):
        model = NoiseModel.from_backend(device)
    if "measure" in model._local_quantum_errors or "measure" in model._default_quantum_errors:
        raise ValueError("the device noise model has a quantum error on measure: not supported")
    return model


def noise_probabilities(
    device,
    couplers: Sequence[Coupler],
    experiment: str,
    *,
    optimization_level: int = 2,
    seed: int = 0,
    model=None,
) -> np.ndarray:
    """Exact outcome probabilities of every coupler under the device noise model.

    Returns shape (n_couplers, n_settings, 4): CHSH (4 settings) or channel (2 letters),
    outcomes in qkit order ``2 bit_A + bit_B``, readout errors included.
    """
    from qiskit_aer import AerSimulator

    from qkit.survey.packing import pack_couplers

    model = noise_model(device) if model is None else model
    readout = _readout(device)
    pairs = survey_circuits.pair_circuits(experiment)
    wanted = [(min(a, b), max(a, b)) for a, b in couplers]
    circuits, measured, owner = [], [], []
    # transpile whole classes as the survey does, then cut out each pair's own gates: pairs do
    # not interact, so each sub-circuit is exactly what that pair runs in the survey
    for group in pack_couplers(device, wanted):
        for pair in pairs.values():
            logical = survey_circuits.class_circuit(pair, group)
            t = survey_circuits.transpile_on(
                device,
                logical,
                survey_circuits.layout(group),
                optimization_level=optimization_level,
                seed=seed,
            )
            values = survey_circuits.bindings(t, experiment)
            registers = survey_circuits.measured_qubits(t)
            for coupler in group:
                qubits = registers[survey_circuits.register_name(coupler)]
                body = QuantumCircuit(t.num_qubits)
                for inst in t.data:
                    on = {t.find_bit(q).index for q in inst.qubits}
                    if inst.operation.name != "measure" and on <= set(coupler):
                        body.append(
                            inst.operation, [body.qubits[t.find_bit(q).index] for q in inst.qubits]
                        )
                for row in [None] if values is None else values:
                    bound = (
                        body
                        if row is None
                        else body.assign_parameters(
                            dict(zip(t.parameters, row, strict=True)), strict=False
                        )
                    )
                    circuit = bound.copy()
                    circuit.save_probabilities(list(qubits))
                    circuits.append(circuit)
                    measured.append(qubits)
                    owner.append(coupler)
    simulator = AerSimulator(method="density_matrix", noise_model=_restricted(model, circuits))
    result = simulator.run(circuits, shots=1).result()
    out: dict[tuple[int, int], list[np.ndarray]] = {}
    for k, (qubits, coupler) in enumerate(zip(measured, owner, strict=True)):
        p = np.asarray(result.data(k)["probabilities"], dtype=float)  # index bit_A + 2 bit_B
        true = p.reshape(2, 2).T  # [bit_A, bit_B]
        recorded = np.einsum("ab,ax,by->xy", true, readout[qubits[0]], readout[qubits[1]])
        out.setdefault(coupler, []).append(recorded.ravel())  # qkit order 2 bit_A + bit_B
    return np.asarray([out[c] for c in wanted])


def coupler_values(
    device,
    experiment: str,
    couplers: Sequence[Coupler] | None = None,
    *,
    optimization_level: int = 2,
    seed: int = 0,
    model=None,
) -> dict[Coupler, float]:
    """Noise-model prediction of every coupler (or of ``couplers``), no sampling: CHSH value or
    mutual information in bits (:func:`noise_probabilities`)."""
    from qkit.survey.packing import couplers as device_couplers

    chosen = (
        device_couplers(device) if couplers is None else [cast(Coupler, tuple(c)) for c in couplers]
    )
    probabilities = noise_probabilities(
        device, chosen, experiment, optimization_level=optimization_level, seed=seed, model=model
    )
    values = value_from_probabilities(experiment, probabilities)
    return {c: float(v) for c, v in zip(chosen, values, strict=True)}


def circuit_probabilities(
    device, circuits: Sequence[QuantumCircuit], model=None, *, readout: bool = True
) -> np.ndarray:
    """Exact probabilities of the classical bits of measured, bound, transpiled ``circuits``
    under the device noise model: density-matrix numerics of each circuit without its final
    measurements, then the readout error of each measured qubit. Shape
    ``(len(circuits), 2**num_clbits)``; outcome ``k`` is the Qiskit integer (clbit 0 least
    significant). All circuits must have the same number of clbits. ``readout=False`` leaves
    the readout errors out (what a readout-mitigated run estimates)."""
    from qiskit_aer import AerSimulator

    model = cached_noise_model(device) if model is None else model
    readout_errors = _readout(device) if readout else {}
    prepared, measured = [], []
    for circuit in circuits:
        body = QuantumCircuit(circuit.num_qubits)
        by_clbit: dict[int, int] = {}
        for inst in circuit.data:
            name = inst.operation.name
            if name == "measure":
                by_clbit[circuit.find_bit(inst.clbits[0]).index] = circuit.find_bit(
                    inst.qubits[0]
                ).index
            elif name != "barrier":
                if by_clbit and any(
                    circuit.find_bit(q).index in by_clbit.values() for q in inst.qubits
                ):
                    raise ValueError("circuit_probabilities needs measurements at the end")
                body.append(
                    inst.operation, [body.qubits[circuit.find_bit(q).index] for q in inst.qubits]
                )
        qubits = [by_clbit[c] for c in range(circuit.num_clbits)]
        body.save_probabilities(qubits)
        prepared.append(body)
        measured.append(qubits)
    result = (
        AerSimulator(method="density_matrix", noise_model=_restricted(model, prepared))
        .run(prepared, shots=1)
        .result()
    )
    out = []
    for k, qubits in enumerate(measured):
        p = np.asarray(result.data(k)["probabilities"], dtype=float)
        n = len(qubits)
        tensor = p.reshape((2,) * n)  # axes: clbit n-1, ..., clbit 0
        for position, qubit in enumerate(qubits):
            axis = n - 1 - position
            matrix = readout_errors.get(qubit, np.eye(2))
            tensor = np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)
        out.append(tensor.reshape(-1) / tensor.sum())
    return np.asarray(out)


EXACT_TOTAL = 10**9
"""Pseudo-shots of the exact distributions fed to the analysis (rounding error 1e-9)."""


def run_probabilities(device, prepared, *, readout: bool = True):
    """The exact noisy outcome distributions of a prepared run (:mod:`qkit.sampling`) on
    ``device``, as counts of :data:`EXACT_TOTAL` per setting in the form of
    :class:`qkit.sampling.Sampled`: every branch of a mixture weighted by its exact weight
    (not the sampled shot allocation), readout errors included unless ``readout=False``.
    ``None`` when the device has no noise model."""
    from qkit import noise
    from qkit.sampling import Sampled, _bindings

    try:
        model = cached_noise_model(device.device)
    except Exception:  # noqa: BLE001 - a device without calibration has no noise model
        return None
    family = prepared.family
    layout = prepared.layout
    jobs, owners = [], []
    for index, circuit in enumerate(family.circuits):
        if noise.sites(circuit):
            mixtures = prepared.mixtures
            branches = noise.expand_branches(circuit, mixtures, prune=True)
            weights = noise.branch_weights(circuit, mixtures)
        else:
            branches, weights = [circuit], np.ones(1)
        transpiled = device.transpile(branches, layout=layout)
        for k in range(family.num_settings(index)):
            for branch, weight in zip(transpiled, weights, strict=True):
                if weight <= 0:
                    continue
                bound = (
                    branch.assign_parameters(_bindings(branch, family.settings[index], k))
                    if branch.parameters
                    else branch
                )
                jobs.append(bound)
                owners.append((index, k, float(weight)))
    widths = {c.num_clbits for c in jobs}
    probabilities = np.concatenate(
        [
            circuit_probabilities(
                device.device,
                [c for c in jobs if c.num_clbits == w],
                model,
                readout=readout,
            )
            for w in sorted(widths)
        ]
    )
    order = [i for w in sorted(widths) for i, c in enumerate(jobs) if c.num_clbits == w]
    counts: list[list[dict[str, Any]]] = [  # float pseudo-counts (the analysis rounds)
        [{} for _ in range(family.num_settings(i))] for i in range(len(family.circuits))
    ]
    for row, job_index in zip(probabilities, order, strict=True):
        index, k, weight = owners[job_index]
        width = jobs[job_index].num_clbits
        target = counts[index][k]
        for outcome, p in enumerate(row):
            key = format(outcome, f"0{width}b")
            target[key] = target.get(key, 0.0) + weight * p * EXACT_TOTAL
    return Sampled(counts, prepared.realization, prepared.stats)
