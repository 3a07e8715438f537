"""What a run needs to be redone exactly, recorded when it runs.

A sampled run keeps the circuits exactly as submitted (the transpiled circuits, each distinct
one once, PUBs referring to them by index), the parameter values and shots of every PUB, the
run's seed and the simulator seed passed to the backend, the Aer noise model as the mixtures'
unitaries and weights, the backend's name and transpiler settings, a calibration snapshot of
the qubits used (device backends), package versions and the raw counts of every PUB (before
readout mitigation). An ``exact``-engine run keeps its engine, experiment, point, shots and
seed: replaying it reruns the experiment's exact distributions.

Circuits are kept in two forms:

- **QPY** (``qiskit.qpy``, zlib-compressed, base64): Qiskit's exact serialization, and the
  form :mod:`qkit.replay` runs. OpenQASM 3 cannot express what Aer runs here: the noise
  sites (Aer's ``qerror_loc``, where the noise model acts) are non-unitary instructions the
  exporter refuses, and a text round trip of parameters and gate definitions is not
  guaranteed to give the very same circuit, so the same seed might not give the same counts.
- **OpenQASM 3** (``qiskit.qasm3.dumps``), for people and other SDKs, and the fallback when
  the QPY cannot be read (a QPY from a newer Qiskit): noise sites are written as empty
  custom gates ``qkit_noise_<label>`` (their action is in ``noise``), and the measurement
  settings are ``input float[64]`` parameters bound per PUB.

The document is plain JSON; the store keeps it zlib-compressed (:mod:`qkit.store`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

FORMAT = 1
NOISE_GATE_PREFIX = "qkit_noise_"
_EXTRA_PACKAGES = (
    "qiskit-ibm-runtime",
    "qiskit-braket-provider",
    "amazon-braket-default-simulator",
)


def deterministic(backend: str) -> bool:
    """Does the same seed give the same counts on ``backend``? (Aer and fake devices)."""
    return backend == "aer" or backend.startswith("fake:")


# -- recording ------------------------------------------------------------------------------
def sampled(run: Any, device: Any, prepared: Any, results: Sequence[Any]) -> dict[str, Any]:
    """The provenance of a sampled run (``results``: raw counts per PUB, before mitigation)."""
    from qkit import experiment as definitions
    from qkit.result import package_versions

    circuits: list[Any] = []
    index: dict[Any, int] = {}
    pubs = []
    for pub in prepared.pubs:
        circuit = pub[0]
        if id(circuit) not in index:  # by identity: PUBs of one circuit object stay together
            index[id(circuit)] = len(circuits)
            circuits.append(circuit)
        values = pub[1] if len(pub) > 1 else None
        pubs.append(
            {
                "circuit": index[id(circuit)],
                "values": None if values is None else _values(values),
                "shots": int(pub[2]) if len(pub) > 2 and pub[2] is not None else None,
            }
        )
    noise = None
    if prepared.noise_model is not None:
        noise = [_mixture(m) for m in run.experiment.circuits(run.point)[1]]
    return {
        "format": FORMAT,
        "engine": "sampler",
        "experiment": run.experiment.name,
        "point": dict(run.point),
        "backend": device.name,
        "optimization_level": int(device.optimization_level),
        "realization": prepared.realization,
        "mitigate": run.mitigate,
        "shots": int(run.shots),
        "seed": int(run.seed),
        "simulator_seed": definitions.simulator_seed(run.seed),
        "deterministic": deterministic(device.name),
        "circuits": {
            "qpy": qpy_blob(circuits),
            "qasm3": [qasm3_text(c) for c in circuits],
        },
        "pubs": pubs,
        "noise": noise,
        "owners": [[int(i), None if k is None else int(k)] for i, k in prepared.owners],
        "counts": [counts_json(r) for r in results],
        "calibration": calibration(device, circuits),
        "versions": package_versions(_EXTRA_PACKAGES),
    }


def exact(run: Any, device: Any) -> dict[str, Any]:
    """The provenance of an ``exact``-engine run: replay recomputes it through the experiment."""
    from qkit.result import package_versions

    return {
        "format": FORMAT,
        "engine": "exact",
        "experiment": run.experiment.name,
        "point": dict(run.point),
        "backend": device.name,
        "shots": int(run.shots),
        "seed": int(run.seed),
        "deterministic": True,
        "calibration": calibration(device, []),
        "versions": package_versions(_EXTRA_PACKAGES),
    }


def _values(values: Any) -> dict[str, Any]:
    """Parameter values of a PUB by parameter name (scalars or arrays, as submitted)."""
    return {
        getattr(p, "name", str(p)): np.asarray(v, dtype=float).tolist() for p, v in values.items()
    }


def _mixture(mixture: Any) -> dict[str, Any]:
    u = np.asarray(mixture.unitaries, dtype=complex)
    return {
        "label": mixture.label,
        "unitaries_real": u.real.tolist(),
        "unitaries_imag": u.imag.tolist(),
        "weights": np.asarray(mixture.weights, dtype=float).tolist(),
    }


def counts_json(counts: Any) -> Any:
    """Counts of one PUB as JSON: a dict, or nested lists of dicts over its bindings."""
    if isinstance(counts, dict):
        return {str(k): int(v) for k, v in counts.items()}
    if isinstance(counts, np.ndarray):
        return [counts_json(c) for c in counts]
    if isinstance(counts, list | tuple):
        return [counts_json(c) for c in counts]
    raise ValueError(f"cannot record counts of type {type(counts).__name__}")


def qpy_blob(circuits: Sequence[Any]) -> str:
    from qiskit import qpy

    buffer = io.BytesIO()
    qpy.dump(list(circuits), buffer)
    return base64.b64encode(zlib.compress(buffer.getvalue(), 9)).decode()


def qasm3_text(circuit: Any) -> str | None:
    """OpenQASM 3 of ``circuit``, noise sites as empty custom gates (None: not expressible)."""
    from qiskit import qasm3
    from qiskit.circuit import Gate, QuantumCircuit

    out = circuit.copy_empty_like()
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == "qerror_loc":
            gate = Gate(f"{NOISE_GATE_PREFIX}{operation.label}", operation.num_qubits, [])
            gate.definition = QuantumCircuit(operation.num_qubits)
            instruction = instruction.replace(operation=gate)
        out.append(instruction)
    try:
        return qasm3.dumps(out)
    except Exception:  # noqa: BLE001 - the exporter raises several types; QPY is the exact form
        return None


def calibration(device: Any, circuits: Sequence[Any]) -> dict[str, Any]:
    """The device's calibration at submission time, for the physical qubits the circuits use.

    Simulators are recorded as ideal (Aer's only noise is the run's own noise model).
    """
    if device.name == "aer":
        return {"ideal": True, "note": "Aer statevector sampler; the only noise is 'noise'"}
    if device.name == "braket:local":
        return {"ideal": True, "note": "Braket local simulator (unseeded)"}
    from qkit.backends._restrict import active_qubits

    target = device.device.target
    used = sorted(active_qubits(circuits))
    qubits = {}
    for q in used:
        props = target.qubit_properties[q] if target.qubit_properties else None
        qubits[str(q)] = {key: getattr(props, key, None) for key in ("t1", "t2", "frequency")}
    instructions: dict[str, dict[str, Any]] = {}
    for name in target.operation_names:
        for qargs, props in (target[name] or {}).items():
            if qargs is None or props is None or not set(qargs) <= set(used):
                continue
            instructions.setdefault(name, {})[",".join(map(str, qargs))] = {
                "error": props.error,
                "duration": props.duration,
            }
    snapshot: dict[str, Any] = {
        "ideal": False,
        "num_qubits": int(target.num_qubits),
        "qubits": qubits,
        "instructions": instructions,
    }
    properties = getattr(device.device, "properties", None)
    if callable(properties):
        try:
            props = properties()
        except Exception:  # noqa: BLE001 - not every device has properties
            props = None
        if props is not None:
            full = props.to_dict()
            snapshot["last_update_date"] = str(full.get("last_update_date"))
            snapshot["backend_version"] = str(full.get("backend_version"))
            text = json.dumps(full, sort_keys=True, default=str).encode()
            snapshot["properties_sha256"] = hashlib.sha256(text).hexdigest()
    return snapshot
