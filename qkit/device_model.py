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

from qkit import progress
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

    with progress.phase("building the device model"):
        model = (
            NoiseModel.from_backend(device)
            if qubits is None
            else device_noise_model(device, qubits)
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
    recorded = []
    for circuit in circuits:
        done: set[int] = set()
        if _dynamic(circuit):  # mid-circuit measurements, resets, feed-forward
            body, qubits, done = _deferred(circuit, readout_errors)
        else:  # terminal measurements only
            body, qubits = measurements(circuit)
        body.save_probabilities(qubits)
        prepared.append(body)
        measured.append(qubits)
        recorded.append(done)
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
            matrix = np.eye(2) if position in recorded[k] else readout_errors.get(qubit, np.eye(2))
            tensor = np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)
        out.append(tensor.reshape(-1) / tensor.sum())
    return np.asarray(out)


_DYNAMIC = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "reset"})


def _dynamic(circuit: QuantumCircuit) -> bool:
    """Does ``circuit`` need :func:`_deferred`: control flow, a reset, or an operation on a
    qubit after its measurement?"""
    measured: set[int] = set()
    for inst in circuit.data:
        name = inst.operation.name
        if name in _DYNAMIC:
            return True
        on = {circuit.find_bit(q).index for q in inst.qubits}
        if name == "measure":
            measured |= on
        elif name != "barrier" and on & measured:
            return True
    return False


class NotPredictable(ValueError):
    """A circuit whose exact noisy distribution is out of reach (no device prediction)."""


MAX_DEFERRED_QUBITS = 12
"""Most active qubits (with one copy per mid-circuit bit) of a dynamic circuit's prediction."""


def _deferred(circuit: QuantumCircuit, readout_errors: dict[int, np.ndarray]):
    """``circuit`` without measurements, for density-matrix numerics: ``(body, qubits, done)``.

    Terminal measurements are dropped (clbit ``c`` is then read from ``qubits[c]``). A
    mid-circuit measurement (its qubit used again, or its bit feeding forward) becomes a copy
    of its qubit onto a fresh qubit (``CX``), followed by the readout error of the measured
    qubit as a classical channel on the copy, so the copy holds the recorded bit; ``if_test``
    bodies on one recorded bit become gates controlled by that copy (principle of deferred
    measurement). ``done`` lists the clbits whose readout error is already in the body.
    """
    from qiskit.circuit import Clbit, IfElseOp
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import Operator
    from qiskit_aer.noise import kraus_error

    data = list(circuit.data)
    conditioned: set[int] = set()
    for inst in data:
        op = inst.operation
        if isinstance(op, IfElseOp):
            condition = op.condition
            if not (isinstance(condition, tuple) and isinstance(condition[0], Clbit)):
                raise NotPredictable("only if_test on one classical bit is predicted exactly")
            if len(op.blocks) > 1 and len(op.blocks[1].data):
                raise NotPredictable("if_test with an else branch is not predicted exactly")
            conditioned.add(circuit.find_bit(condition[0]).index)
    copies: dict[int, int] = {}
    width = circuit.num_qubits
    extra = 0
    pending: list[tuple] = []
    by_clbit: dict[int, int] = {}
    done: set[int] = set()
    for index, inst in enumerate(data):
        op = inst.operation
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        if op.name == "barrier":
            continue
        if op.name == "measure":
            clbit = circuit.find_bit(inst.clbits[0]).index
            q = qubits[0]
            mid = clbit in conditioned or any(
                q in [circuit.find_bit(b).index for b in later.qubits]
                for later in data[index + 1 :]
                if later.operation.name not in ("barrier", "measure")
            )
            if not mid:
                by_clbit[clbit] = q
                continue
            copy = width + extra
            extra += 1
            copies[clbit] = copy
            pending.append(("cx", q, copy))
            matrix = readout_errors.get(q)
            if matrix is not None:  # recorded bit: P(y | x) = matrix[x, y]
                kraus = []
                for x in range(2):
                    for y in range(2):
                        k = np.zeros((2, 2))
                        k[y, x] = np.sqrt(matrix[x, y])
                        kraus.append(k)
                pending.append(("kraus", kraus_error(kraus).to_instruction(), copy))
            by_clbit[clbit] = copy
            done.add(clbit)
            continue
        if isinstance(op, IfElseOp):
            bit, value = op.condition
            control = copies[circuit.find_bit(bit).index]
            block = op.blocks[0]
            for inner in block.data:
                inner_qubits = [qubits[block.find_bit(q).index] for q in inner.qubits]
                # as a unitary: Aer's density-matrix method lacks controlled rotations
                gate = UnitaryGate(Operator(inner.operation.control(1, ctrl_state=int(value))))
                pending.append(("gate", gate, [control, *inner_qubits]))
            continue
        pending.append(("gate", op, qubits))
    if len({q for item in pending for q in _qubits_of(item)} | set(by_clbit.values())) > (
        MAX_DEFERRED_QUBITS
    ):
        raise NotPredictable("the dynamic circuit is too wide for an exact prediction")
    body = QuantumCircuit(width + extra)
    for item in pending:
        if item[0] == "cx":
            body.cx(item[1], item[2])
        elif item[0] == "kraus":
            body.append(item[1], [item[2]])
        else:
            body.append(item[1], item[2])
    qubits_out = [by_clbit[c] for c in range(circuit.num_clbits)]
    return body, qubits_out, {c for c in range(circuit.num_clbits) if c in done}


def _qubits_of(item: tuple) -> list[int]:
    if item[0] == "cx":
        return [item[1], item[2]]
    if item[0] == "kraus":
        return [item[2]]
    return list(item[2])


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
    widths = {c.num_clbits for c in jobs}
    order = [i for w in sorted(widths) for i, c in enumerate(jobs) if c.num_clbits == w]
    cache, key = _probabilities_cache(device, [jobs[i] for i in order], readout)
    stored = cache.get_json(PROBABILITIES_KIND, key) if cache is not None else None
    if stored is not None and len(stored) == len(jobs):
        probabilities = [np.asarray(row, dtype=float) for row in stored]
    else:
        from qkit.backends._restrict import active_qubits

        try:
            model = cached_noise_model(device.device, active_qubits(jobs))
        except Exception:  # noqa: BLE001 - a device without calibration has no noise model
            return None
        try:
            probabilities = [
                row
                for w in sorted(widths)
                for row in circuit_probabilities(
                    device.device,
                    [c for c in jobs if c.num_clbits == w],
                    model,
                    readout=readout,
                )
            ]
        except NotPredictable:
            return None
        if cache is not None:
            cache.put_json(PROBABILITIES_KIND, key, [row.tolist() for row in probabilities])
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


PROBABILITIES_KIND = "probabilities"
"""Device-cache entries (:mod:`qkit.backends._cache`) of :func:`run_probabilities`."""


def _probabilities_cache(device, circuits: Sequence[QuantumCircuit], readout: bool):
    """``(DeviceCache | None, key)`` of the exact distributions of bound, transpiled
    ``circuits`` under the device noise model: a function of the device's calibration (the
    cache folder) and of the circuits alone (:func:`~qkit.backends._transpile.structural_key`
    hashes every operation, bound value, qubit and bit), so a second run of a point reads them
    instead of simulating them again (JSON doubles read back exactly)."""
    device_cache = getattr(device, "device_cache", None)
    cache = device_cache() if callable(device_cache) else None
    if cache is None:
        return None, ""
    from qkit.backends._transpile import structural_key

    keys = ",".join(structural_key(c) for c in circuits)
    return cache, f"{PROBABILITIES_KIND}|readout={readout}|{keys}"


# -- choosing a coupler from calibration alone ------------------------------------------------
def _error(props) -> float | None:
    error = getattr(props, "error", None) if props is not None else None
    return None if error is None else float(error)


def _readout_errors(device) -> dict[int, float]:
    """Each qubit's readout error from the device's target (missing calibration: 0)."""
    target = device.target
    out: dict[int, float] = {}
    if "measure" in target.operation_names:
        for qargs, props in target["measure"].items():
            if qargs is not None:
                out[int(qargs[0])] = _error(props) or 0.0
    return out


def _gate_errors(device) -> dict[tuple[int, int], float]:
    """Each coupled pair's two-qubit gate error ``(i, j)``, ``i < j``: the lower of the two
    directions and of the device's two-qubit gates (pairs without calibration are absent)."""
    target = device.target
    gate: dict[tuple[int, int], float] = {}
    for name in target.operation_names:
        for qargs, props in target[name].items():
            if qargs is None or len(qargs) != 2:
                continue
            key = (min(qargs), max(qargs))
            error = _error(props)
            if error is not None:
                gate[key] = min(gate.get(key, error), error)
    return gate


def calibration_scores(device) -> dict[tuple[int, int], float]:
    """Cheap score of each coupler ``(i, j)``, ``i < j``: two-qubit gate error (the lower of
    the two directions and of the device's two-qubit gates) + readout errors of ``i`` and ``j``.
    Missing calibration counts as 0."""
    from qkit.survey.packing import couplers

    readout, gate = _readout_errors(device), _gate_errors(device)
    return {
        (a, b): gate.get((a, b), 0.0) + readout.get(a, 0.0) + readout.get(b, 0.0)
        for a, b in couplers(device)
    }


def choose_by_calibration(backend, store: Any = None, width: int = 2) -> dict[str, Any]:
    """``layout="best"`` for an experiment without a pair survey: the coupler with the lowest
    :func:`calibration_scores` (two-qubit gate error + both readout errors)."""
    scores = calibration_scores(backend.device)
    best = min(scores, key=lambda c: (scores[c], c))
    return {"physical": list(best), "source": "calibration", "score": scores[best]}


MAX_LINE = 16
"""Longest line of coupled qubits :func:`best_line` searches (depth-first simple paths)."""


def choose_line(backend, store: Any = None, width: int = 2) -> dict[str, Any]:
    """``layout="best"`` for an experiment whose qubits talk to their neighbours in order (a
    repeater chain): the best line of ``width`` coupled qubits (:func:`best_line`), or the
    longest the device has, the other qubits placed next to it
    (:func:`qkit.backends._layout.complete_layout`)."""
    for length in range(min(max(width, 2), MAX_LINE), 1, -1):
        try:
            line, score = best_line(backend.device, length)
        except ValueError:
            continue
        return {"physical": line, "source": "calibration-line", "score": score}
    return choose_by_calibration(backend, store)


def best_line(device, length: int) -> tuple[list[int], float]:
    """The line of ``length`` coupled qubits with the lowest calibration score: the sum of
    the two-qubit gate errors along it and the readout errors of its qubits (missing
    calibration counts as 0; lowest indices on ties)."""
    from qkit.backends._layout import _neighbours
    from qkit.survey.packing import couplers

    if not 1 <= length <= MAX_LINE:
        raise ValueError(f"a line must have 1 to {MAX_LINE} qubits, got {length}")
    readout, gate = _readout_errors(device), _gate_errors(device)
    edge = {c: gate.get(c, 0.0) for c in couplers(device)}
    neighbours = _neighbours(device)
    best: tuple[float, list[int]] | None = None

    def extend(path: list[int], score: float) -> None:
        nonlocal best
        if best is not None and score >= best[0]:
            return
        if len(path) == length:
            best = (score, list(path))
            return
        for q in sorted(neighbours.get(path[-1], ())):
            if q not in path:
                pair = (min(path[-1], q), max(path[-1], q))
                path.append(q)
                extend(path, score + edge.get(pair, 0.0) + readout.get(q, 0.0))
                path.pop()

    for start in range(int(device.num_qubits)):
        extend([start], readout.get(start, 0.0))
    if best is None:
        raise ValueError(f"this device has no line of {length} coupled qubits")
    return best[1], float(best[0])
