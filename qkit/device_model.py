"""The device's own noise, exactly: outcome distributions of transpiled circuits under
``NoiseModel.from_backend`` (density-matrix numerics, then each measured qubit's readout error).

Generic: no paper here. The execution layer (:mod:`qkit.engines`) compares every device run
with :func:`run_probabilities`; the survey (:mod:`qkit.survey.predict`) predicts couplers with
:func:`circuit_probabilities`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qiskit import QuantumCircuit

from qkit.bits import measurements


def _readout(device) -> dict[int, np.ndarray]:
    from qiskit_aer.noise.device.models import basic_device_readout_errors

    return {
        int(qubits[0]): np.asarray(error.probabilities, dtype=float)
        for qubits, error in basic_device_readout_errors(target=device.target)
    }


_MODELS: dict[tuple[str, frozenset[int] | None], Any] = {}


def cached_noise_model(device, qubits: Iterable[int] | None = None):
    """:func:`noise_model` of ``device`` (on ``qubits`` only, when given), built once per
    process, device name and qubits (the whole model of a 156-qubit device takes seconds)."""
    used = None if qubits is None else frozenset(int(q) for q in qubits)
    key = (f"{type(device).__name__}:{getattr(device, 'name', '')}", used)
    if key not in _MODELS:
        _MODELS[key] = noise_model(device, used)
    return _MODELS[key]


def _restricted(model, circuits):
    """``model`` on the qubits ``circuits`` use only (the same predictions; Aer converts the
    whole model on every run, tens of seconds for a 156-qubit device)."""
    from qkit.backends._restrict import active_qubits, restrict_noise_model

    return restrict_noise_model(model, active_qubits(circuits))


def noise_model(device, qubits: Iterable[int] | None = None):
    """``NoiseModel.from_backend(device)`` (restricted to ``qubits`` when given, built from
    their calibration only: :func:`qkit.backends._restrict.device_noise_model`), checked to
    have no quantum error on ``measure`` (its readout errors are applied exactly by
    :func:`circuit_probabilities`)."""
    from qiskit_aer.noise import NoiseModel

    from qkit.backends._restrict import device_noise_model

    model = (
        NoiseModel.from_backend(device) if qubits is None else device_noise_model(device, qubits)
    )
    if "measure" in model._local_quantum_errors or "measure" in model._default_quantum_errors:
        raise ValueError("the device noise model has a quantum error on measure: not supported")
    return model


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

    readout_errors = _readout(device) if readout else {}
    prepared, measured = [], []
    for circuit in circuits:
        body, qubits = measurements(circuit)
        body.save_probabilities(qubits)
        prepared.append(body)
        measured.append(qubits)
    if model is None:
        from qkit.backends._restrict import active_qubits

        model = cached_noise_model(device, active_qubits(prepared))
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
    from qkit.backends._restrict import active_qubits

    try:
        model = cached_noise_model(device.device, active_qubits(jobs))
    except Exception:  # noqa: BLE001 - a device without calibration has no noise model
        return None
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


# -- choosing a coupler from calibration alone ------------------------------------------------
def _error(props) -> float | None:
    error = getattr(props, "error", None) if props is not None else None
    return None if error is None else float(error)


def calibration_scores(device) -> dict[tuple[int, int], float]:
    """Cheap score of each coupler ``(i, j)``, ``i < j``: two-qubit gate error (the lower of
    the two directions and of the device's two-qubit gates) + readout errors of ``i`` and ``j``.
    Missing calibration counts as 0."""
    from qkit.survey.packing import couplers

    target = device.target
    readout: dict[int, float] = {}
    if "measure" in target.operation_names:
        for qargs, props in target["measure"].items():
            if qargs is not None:
                readout[int(qargs[0])] = _error(props) or 0.0
    gate: dict[tuple[int, int], float] = {}
    for name in target.operation_names:
        for qargs, props in target[name].items():
            if qargs is None or len(qargs) != 2:
                continue
            key = (min(qargs), max(qargs))
            error = _error(props)
            if error is not None:
                gate[key] = min(gate.get(key, error), error)
    return {
        (a, b): gate.get((a, b), 0.0) + readout.get(a, 0.0) + readout.get(b, 0.0)
        for a, b in couplers(device)
    }


def choose_by_calibration(backend, store: Any = None) -> dict[str, Any]:
    """``layout="best"`` for an experiment without a pair survey: the coupler with the lowest
    :func:`calibration_scores` (two-qubit gate error + both readout errors)."""
    scores = calibration_scores(backend.device)
    best = min(scores, key=lambda c: (scores[c], c))
    return {"physical": list(best), "source": "calibration", "score": scores[best]}
