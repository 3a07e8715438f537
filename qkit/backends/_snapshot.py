"""A fake device from the device cache, without importing qiskit-ibm-runtime.

Importing qiskit-ibm-runtime costs about a second (its cloud client, its executor's error
mitigation and scipy.optimize), and building a fake Heron's ``Target`` from its snapshot
another 0.2-0.5 s, on every run. Neither changes between runs on one calibration, so the first
run on a fake device keeps, in that calibration's cache folder (:mod:`qkit.backends._cache`),
the device's target as plain data, and where the runtime keeps each fake device's snapshot
files (per runtime version and folder). A later run finds the files without importing the
runtime (``importlib.util.find_spec`` only locates the package), hashes them into the same
fingerprint, and rebuilds the target from data in milliseconds: :class:`CachedDevice`.

The target is kept only if the data rebuild it exactly (every operation, qubit set, error,
duration, qubit property and timing constraint compared on the first run); its operations
come from Qiskit's standard gates and control-flow classes by name (an allow-list: nothing
named by the data is imported). Anything a run asks of the device that the cache does not
hold loads the real fake device (:meth:`CachedDevice.__getattr__`), so a rarely used attribute
costs the import, never a wrong answer.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qkit.backends import _cache, _fake_files

TARGET_KIND, TARGET_KEY = "device", "target-v1"
INDEX_NAME = "fake-devices-{}.json"


def runtime_folder() -> Path | None:
    """Where qiskit-ibm-runtime is installed (located, not imported), or ``None``."""
    try:
        spec = importlib.util.find_spec("qiskit_ibm_runtime")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(locations[0]) if locations else None


def _index_path(folder: Path) -> Path:
    tag = hashlib.sha256(f"{folder}|{_cache._versions()}".encode()).hexdigest()[:16]
    return _cache.cache_dir() / "devices" / INDEX_NAME.format(tag)


def remember_files(classes: dict[str, type]) -> None:
    """Keep where every fake device's snapshot files are (read from the classes' attributes,
    nothing built), for this runtime version and folder."""
    folder = runtime_folder()
    if folder is None:
        return
    path = _index_path(folder)
    if path.exists():
        return
    index = {}
    for key, cls in classes.items():
        names = [getattr(cls, a, None) for a in ("dirname", "conf_filename", "props_filename")]
        if all(isinstance(n, str) and n for n in names):
            index[key] = names
    _cache.write_atomic(path, json.dumps(index).encode())


def _files(key: str) -> list[str] | None:
    """``[folder, conf file, props file]`` of fake device ``key``, from the index (or, before
    the index exists, where a verified runtime keeps them: :mod:`qkit.backends._fake_files`)."""
    folder = runtime_folder()
    if folder is None:
        return None
    try:
        index = json.loads(_index_path(folder).read_bytes())
        names = index[key]
    except (OSError, KeyError):
        return _fake_files.snapshot_files(folder, key) if _fake_files.verified_runtime() else None
    except (ValueError, TypeError):
        return None
    if not (isinstance(names, list) and len(names) == 3 and all(isinstance(n, str) for n in names)):
        return None
    return names


# -- the target as data ----------------------------------------------------------------------
_TARGET_FIELDS = (
    "num_qubits", "dt", "granularity", "min_length", "pulse_alignment", "acquire_alignment",
    "concurrent_measurements", "description",
)  # fmt: skip


@functools.cache
def _control_flow() -> dict[str, type]:
    from qiskit.circuit import ForLoopOp, IfElseOp, SwitchCaseOp, WhileLoopOp

    classes = (IfElseOp, WhileLoopOp, ForLoopOp, SwitchCaseOp)
    return dict(zip(("if_else", "while_loop", "for_loop", "switch_case"), classes, strict=True))


def _operation(name: str):
    """The operation called ``name``: a control-flow class or a standard gate (allow-list)."""
    if name in _control_flow():
        return _control_flow()[name]
    from qiskit.circuit.library import get_standard_gate_name_mapping

    mapping = get_standard_gate_name_mapping()
    if name not in mapping:
        raise KeyError(name)
    return mapping[name]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def target_data(target) -> dict[str, Any]:
    """``target`` as JSON-able data (operations by name, properties per qubit set)."""
    qubit_properties = [
        None if p is None else [_float(p.t1), _float(p.t2), _float(p.frequency)]
        for p in (target.qubit_properties or [])
    ]
    operations = []
    for name in target.operation_names:
        entries = []
        for qargs, props in target[name].items():
            entry = None if props is None else [_float(props.duration), _float(props.error)]
            entries.append([None if qargs is None else list(qargs), entry])
        operations.append([name, entries])
    return {
        "fields": {field: getattr(target, field) for field in _TARGET_FIELDS},
        "qubit_properties": qubit_properties if target.qubit_properties else None,
        "operations": operations,
    }


def build_target(data: dict[str, Any]):
    """The ``Target`` that :func:`target_data` describes."""
    from qiskit.transpiler import InstructionProperties, QubitProperties, Target

    qubits = data["qubit_properties"]
    target = Target(
        **data["fields"],
        qubit_properties=None
        if qubits is None
        else [None if p is None else QubitProperties(*p) for p in qubits],
    )
    for name, entries in data["operations"]:
        props = {
            None if qargs is None else tuple(qargs): None
            if entry is None
            else InstructionProperties(duration=entry[0], error=entry[1])
            for qargs, entry in entries
        }
        operation = _operation(name)
        if isinstance(operation, type):
            target.add_instruction(operation, name=name)
        else:
            target.add_instruction(operation, props, name=name)
    return target


def same_target(a, b) -> bool:
    """Do two targets hold the same operations (type, parameters), qubit sets, errors,
    durations, qubit properties and timing constraints, in the same order?"""
    if target_data(a) != target_data(b) or list(a.operation_names) != list(b.operation_names):
        return False
    if any(getattr(t, "has_angle_bounds", lambda: False)() for t in (a, b)):
        return False  # angle bounds are not kept
    for name in a.operation_names:
        x, y = a.operation_from_name(name), b.operation_from_name(name)
        if isinstance(x, type) or isinstance(y, type):
            if x is not y:
                return False
        elif (type(x), x.name, x.num_qubits, x.num_clbits, [str(p) for p in x.params]) != (
            type(y),
            y.name,
            y.num_qubits,
            y.num_clbits,
            [str(p) for p in y.params],
        ):
            return False
    return True


def _properties_text(device) -> str | None:
    """The device's calibration properties as sorted JSON text (what the provenance hashes)."""
    properties = getattr(device, "properties", None)
    if not callable(properties):
        return None
    try:
        props = properties()
    except Exception:  # noqa: BLE001 - not every device has properties
        return None
    if props is None:
        return None
    text = json.dumps(props.to_dict(), sort_keys=True, default=str)
    # kept only if the data read back give the same text (the provenance's hash)
    return text if json.dumps(json.loads(text), sort_keys=True, default=str) == text else None


def remember_device(key: str, device) -> None:
    """Keep ``device``'s target (and calibration properties) in its calibration's cache
    folder, if the data rebuild it exactly; a no-op when it is there already."""
    files = _files(key)
    if files is None or getattr(device, "_tmp_data_dir", None) is not None:
        return  # a refreshed snapshot lives in a temporary folder: not the index's files
    cache = _cache.DeviceCache(_cache.fingerprint(f"fake:{key}", device))
    if cache.get_json(TARGET_KIND, TARGET_KEY) is not None:
        return
    try:
        data = target_data(device.target)
        if not same_target(build_target(data), device.target):
            return
        value = {"name": device.name, "files": files, "target": data}
        value["properties"] = _properties_text(device)
        cache.put_json(TARGET_KIND, TARGET_KEY, value)
    except Exception:  # noqa: BLE001 - an operation outside the allow-list, a value JSON
        return  # cannot hold: no snapshot, the device is built every time


def device_from_files(key: str, load: Callable[[], Any]) -> CachedDevice | None:
    """Fake device ``key`` built from its snapshot files without importing the runtime
    (:mod:`qkit.backends._fake_files`) and kept in the cache as :func:`remember_device` would;
    ``None`` if that module cannot build it or the data would not rebuild it exactly."""
    folder = runtime_folder()
    data = _fake_files.device_data(folder, key) if folder is not None else None
    if data is None:
        return None
    files, name, target, properties = data
    device = CachedDevice(name, files, target, properties, load)
    try:
        value: dict[str, Any] = {"name": name, "files": files, "target": target_data(target)}
        if not same_target(build_target(value["target"]), target):
            return None
        value["properties"] = properties
        _cache.DeviceCache(_cache.fingerprint(f"fake:{key}", device)).put_json(
            TARGET_KIND, TARGET_KEY, value
        )
    except Exception:  # noqa: BLE001 - as remember_device: then the runtime builds it
        return None
    return device


def cached_device(key: str, load: Callable[[], Any]) -> CachedDevice | None:
    """Fake device ``key`` from the cache (``None`` on a miss); ``load()`` builds the real
    one if a run asks for something the cache does not hold."""
    files = _files(key)
    if files is None:
        return None
    folder, conf, props = files
    try:
        paths = [Path(folder, conf), Path(folder, props)]
        fingerprint = _cache.fingerprint_files(f"fake:{key}", paths)
    except OSError:
        return None
    value = _cache.DeviceCache(fingerprint).get_json(TARGET_KIND, TARGET_KEY)
    if not isinstance(value, dict) or value.get("files") != files:
        return None
    try:
        target = build_target(value["target"])
    except Exception:  # noqa: BLE001 - any entry that does not build a target is a miss
        return None
    return CachedDevice(value["name"], files, target, value.get("properties"), load)


class _Properties:
    """What the provenance reads of ``BackendProperties``: ``to_dict()``."""

    def __init__(self, text: str):
        self._text = text

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self._text)


class CachedDevice:
    """A fake device's name, snapshot files, target and calibration properties from the
    cache; any other attribute is the real device's (built on first use)."""

    version = 2
    _tmp_data_dir = None  # the snapshot files are the installed ones (see remember_device)

    def __init__(self, name: str, files: list[str], target, properties: str | None, load):
        self.name = name
        self.dirname, self.conf_filename, self.props_filename = files
        self.target = target
        self._properties = properties
        self._load = load
        self._real = None

    @property
    def num_qubits(self) -> int:
        return self.target.num_qubits

    @property
    def operation_names(self) -> list[str]:
        return list(self.target.operation_names)

    @property
    def dt(self):
        return self.target.dt

    @functools.cached_property
    def coupling_map(self):
        return self.target.build_coupling_map()

    def properties(self):
        if self._properties is None:
            return self.real().properties()
        return _Properties(self._properties)

    def real(self):
        """The fake device itself (imports qiskit-ibm-runtime)."""
        if self._real is None:
            self._real = self._load()
        return self._real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_real", "_load", "_properties"):
            raise AttributeError(name)
        return getattr(self.real(), name)

    def __str__(self) -> str:
        return str(self.name)
