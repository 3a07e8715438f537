"""A fake IBM device's target read from its snapshot files, without qiskit-ibm-runtime.

The first run on a fake device used to import qiskit-ibm-runtime (about a second: its cloud
client, accounts and decoders) only to read two JSON files it ships,
``fake_provider/backends/<device>/conf_<device>.json`` and ``props_<device>.json``, and turn
them into a ``Target``. This module does the same from the same files, located with
``importlib.util.find_spec`` (nothing imported): the steps of the runtime's
``FakeBackendV2.target`` -- ``properties_from_server_data`` (fractional gates' properties
dropped, dates parsed), ``BackendConfiguration``/``BackendProperties`` (SI units with Qiskit's
``apply_prefix``, ``dt`` from ns) and ``convert_to_target`` (faulty qubits and gates left out,
measure from the qubits' readout properties, reset and delay on every working qubit) -- in the
same order, so the target is the runtime's own: the tests compare every fake device of the
installed runtime (operations and their order, qubit sets, errors, durations, T1/T2, timing
constraints, and the calibration text the provenance hashes).

Only what :mod:`qkit.backends._snapshot` can keep is built here: standard gates and control
flow. A device with custom instruction signatures, fractional gates or anything unexpected,
and any runtime version the tests have not compared (:data:`VERIFIED_RUNTIME`), returns
``None``, and the caller builds the device with the runtime as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VERIFIED_RUNTIME = ("0.51",)
"""qiskit-ibm-runtime versions (major.minor) whose every fake device the tests compare."""

_NON_UNITARY = ("measure", "delay", "reset")  # the runtime's NON_UNITARY_ISA_INSTRUCTIONS


def verified_runtime() -> bool:
    """Is the installed qiskit-ibm-runtime a version this module was checked against?"""
    from importlib import metadata

    try:
        version = metadata.version("qiskit-ibm-runtime")
    except metadata.PackageNotFoundError:
        return False
    return ".".join(version.split(".")[:2]) in VERIFIED_RUNTIME


def snapshot_files(folder: Path, key: str) -> list[str] | None:
    """``[folder, conf file, props file]`` of fake device ``key`` in the runtime installed in
    ``folder``: ``fake_provider/backends/<key>/conf_<key>.json`` and ``props_<key>.json`` (the
    names every fake device class of a verified runtime uses; the tests check them).

    Only for a device whose class (``fake_<key>.py``, read as text) does nothing but name its
    files: a class with methods of its own (one warns that its errors are not typical) is left
    to the runtime."""
    if not key.isidentifier() or not key.islower():
        return None
    directory = folder / "fake_provider" / "backends" / key
    conf, props = f"conf_{key}.json", f"props_{key}.json"
    try:
        source = (directory / f"fake_{key}.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "def " in source or not ((directory / conf).is_file() and (directory / props).is_file()):
        return None
    return [str(directory), conf, props]


def _parsed_properties(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The runtime's ``properties_from_server_data(raw)`` as a fake device applies it: the
    properties of fractional gates dropped, every date parsed (kept in UTC)."""
    try:
        from dateutil.parser import isoparse  # type: ignore[import-untyped]
    except ImportError:
        return None
    from qiskit.circuit.library import get_standard_gate_name_mapping

    mapping = get_standard_gate_name_mapping()
    if isinstance(raw.get("gates"), list):
        raw["gates"] = [
            g
            for g in raw["gates"]
            if g.get("name") not in mapping or not _fractional(mapping[g.get("name")])
        ]
    if isinstance(raw["last_update_date"], str):
        raw["last_update_date"] = isoparse(raw["last_update_date"])
        for qubit in raw["qubits"]:
            for nduv in qubit:
                nduv["date"] = isoparse(nduv["date"])
        for gate in raw["gates"]:
            for param in gate["parameters"]:
                param["date"] = isoparse(param["date"])
        for general in raw["general"]:
            general["date"] = isoparse(general["date"])
    return raw


def _fractional(gate) -> bool:
    """The runtime's ``is_fractional_gate``: a parametrized gate other than a virtual Z or
    delay."""
    from qiskit.circuit import Delay
    from qiskit.circuit.library import PhaseGate, RZGate, U1Gate

    return len(gate.params) > 0 and not isinstance(gate, (RZGate, PhaseGate, U1Gate, Delay))


def properties_text(properties: dict[str, Any]) -> str | None:
    """What :func:`qkit.backends._snapshot._properties_text` makes of the device's
    ``properties().to_dict()`` (the same dictionary: every entry is a plain field)."""
    text = json.dumps(properties, sort_keys=True, default=str)
    return text if json.dumps(json.loads(text), sort_keys=True, default=str) == text else None


def _qubit_and_gate_properties(properties: dict[str, Any]):
    """``BackendProperties``' ``_qubits`` and ``_gates``: values in SI units, by name."""
    from qiskit.utils.units import apply_prefix

    qubits: dict[int, dict[str, tuple]] = {}
    for qubit, nduvs in enumerate(properties["qubits"]):
        for nduv in nduvs:
            formatted = qubits.setdefault(qubit, {})
            formatted[nduv["name"]] = (apply_prefix(nduv["value"], nduv["unit"]), nduv["date"])
    gates: dict[str, dict[tuple, dict[str, tuple]]] = {}
    for gate in properties["gates"]:
        params = {
            p["name"]: (apply_prefix(p["value"], p["unit"]), p["date"]) for p in gate["parameters"]
        }
        gates.setdefault(gate["gate"], {})[tuple(gate["qubits"])] = params
    return qubits, gates


def _operational(props: dict[str, tuple]) -> bool:
    return bool(props["operational"][0]) if "operational" in props else True


def _value(props: dict[str, tuple], name: str):
    entry = props.get(name)
    return entry[0] if entry else None


def build_target(conf: dict[str, Any], properties: dict[str, Any]):
    """The runtime's ``convert_to_target(conf, props, include_control_flow=True,
    include_fractional_gates=True)`` for a device of standard gates; ``None`` for any other."""
    from qiskit.circuit.controlflow import (
        CONTROL_FLOW_OP_NAMES,
        ForLoopOp,
        IfElseOp,
        SwitchCaseOp,
        WhileLoopOp,
    )
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.transpiler import InstructionProperties, QubitProperties, Target

    control_flow = {
        "if_else": IfElseOp,
        "while_loop": WhileLoopOp,
        "for_loop": ForLoopOp,
        "switch_case": SwitchCaseOp,
    }
    mapping = get_standard_gate_name_mapping()
    if conf.get("instruction_signatures"):
        return None  # instructions the snapshot cannot keep
    num_qubits = conf["n_qubits"]
    in_data: dict[str, Any] = {"num_qubits": num_qubits}
    if conf.get("dt") is not None:
        in_data["dt"] = conf["dt"] * 1e-9
    if "timing_constraints" in conf:
        in_data.update(conf["timing_constraints"])
    # the same sets built the same way: the same iteration order as the runtime's target
    non_unitary = frozenset(_NON_UNITARY)
    basis_gates = set(conf.get("basis_gates", []))
    supported = set(conf.get("supported_instructions") or ["measure", "reset", "delay"])
    gate_configs = {gate["name"]: gate for gate in conf["gates"]}
    names = set.union(
        basis_gates,
        supported.intersection(non_unitary),
        supported.intersection(CONTROL_FLOW_OP_NAMES),
    )
    for name in names:
        if name in control_flow:
            continue
        if name not in mapping or _fractional(mapping[name]):
            return None  # a custom gate, or angle bounds and dropped properties
    entries: dict[str, Any] = dict.fromkeys(names)
    for name in names:
        if name in gate_configs and (coupling := gate_configs[name].get("coupling_map")):
            entries[name] = dict.fromkeys(map(tuple, coupling))

    qubit_props, gate_props = _qubit_and_gate_properties(properties)
    if any(q not in qubit_props for q in range(num_qubits)):
        return None  # the runtime fails on a qubit without properties
    faulty = {q for q in range(num_qubits) if not _operational(qubit_props[q])}
    in_data["qubit_properties"] = [
        QubitProperties(
            t1=qubit_props[q].get("T1", (None, None))[0],
            t2=qubit_props[q].get("T2", (None, None))[0],
            frequency=qubit_props[q].get("frequency", (None, None))[0],
        )
        for q in range(num_qubits)
    ]
    for name in names:
        for qubits, params in gate_props.get(name, {}).items():
            if set.intersection(faulty, qubits) or not _operational(params):
                if entries[name] is None:
                    return None  # the runtime fails here too
                entries[name].pop(qubits, None)
                continue
            if entries[name] is None:
                entries[name] = {}
            entries[name][qubits] = InstructionProperties(
                error=_value(params, "gate_error"), duration=_value(params, "gate_length")
            )
    entries["measure"] = {
        (q,): InstructionProperties(
            error=_value(qubit_props[q], "readout_error"),
            duration=_value(qubit_props[q], "readout_length"),
        )
        for q in range(num_qubits)
        if q not in faulty
    }
    for name in supported.intersection(non_unitary):
        if entries[name] is None:
            entries[name] = {(q,): None for q in range(num_qubits) if q not in faulty}

    target = Target(**in_data)
    for name in names:
        if name in control_flow:
            target.add_instruction(instruction=control_flow[name], name=name)
        else:
            target.add_instruction(
                instruction=mapping[name], properties=entries.get(name), name=name
            )
    return target


def device_data(folder: Path, key: str) -> tuple[list[str], str, Any, str | None] | None:
    """``(files, name, target, properties text)`` of fake device ``key``, or ``None`` when
    this module cannot build it the runtime's way (the caller then uses the runtime)."""
    if not verified_runtime():
        return None
    files = snapshot_files(folder, key)
    if files is None:
        return None
    try:
        conf = json.loads(Path(files[0], files[1]).read_bytes())
        raw = json.loads(Path(files[0], files[2]).read_bytes())
        properties = _parsed_properties(raw)
        if properties is None:
            return None
        target = build_target(conf, properties)
        if target is None:
            return None
        text = properties_text(properties)
    except Exception:  # noqa: BLE001 - any file the runtime reads differently: use the runtime
        return None
    return files, f"fake_{key}", target, text
