"""A fake device's target read from the runtime's snapshot files (qkit.backends._fake_files).

The first run on a fake device builds its target from the two JSON files qiskit-ibm-runtime
ships, without importing the runtime; it must be the runtime's own target (operations in the
same order, qubit sets, errors, durations, qubit properties, timing constraints), the same
calibration text for the provenance and the same device name, for every fake device it builds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qkit.backends import _cache, _fake_files, _snapshot

pytest.importorskip("qiskit_ibm_runtime")
pytestmark = pytest.mark.skipif(
    not _fake_files.verified_runtime(), reason="a qiskit-ibm-runtime this module was not checked on"
)


def assert_the_runtimes_device(key: str) -> bool:
    """Is ``key`` built from its files exactly as the runtime builds it? False if refused."""
    from qkit.backends._runtime import fake_device_classes

    cls = fake_device_classes()[key]
    folder = _snapshot.runtime_folder()
    files = _fake_files.snapshot_files(folder, key)
    if files is not None:  # where the class says its files are
        assert files == [cls.dirname, cls.conf_filename, cls.props_filename], key
    data = _fake_files.device_data(folder, key)
    if data is None:
        return False
    _, name, target, properties = data
    real = cls()
    assert name == real.name, key
    assert list(target.operation_names) == list(real.target.operation_names), key
    assert _snapshot.target_data(target) == _snapshot.target_data(real.target), key
    assert _snapshot.same_target(target, real.target), key
    assert properties is not None and properties == _snapshot._properties_text(real), key
    return True


@pytest.mark.parametrize("key", ["lima", "manila", "fez"])
def test_a_device_from_its_files_is_the_runtimes_device(key):
    assert assert_the_runtimes_device(key)


@pytest.mark.slow  # builds every fake device twice: ~15 s
def test_every_fake_device_from_its_files_is_the_runtimes_or_left_to_the_runtime():
    from qkit.backends._runtime import fake_device_classes

    built = [key for key in fake_device_classes() if assert_the_runtimes_device(key)]
    assert len(built) >= 40, built  # most are built without the runtime
    assert "nighthawk" not in built  # its class warns: the runtime builds it


def test_devices_it_cannot_build_the_runtimes_way_are_left_to_the_runtime(monkeypatch):
    folder = _snapshot.runtime_folder()
    assert _fake_files.snapshot_files(folder, "nighthawk") is None  # a class with methods
    for key in ("../fez", "Fez", "no_such_device", ""):
        assert _fake_files.snapshot_files(folder, key) is None
    # an old device of u1/u2/u3 (fractional gates for the runtime): refused
    assert _fake_files.device_data(folder, "almaden") is None
    # a custom instruction, a unit nobody knows, a qubit without properties: refused
    conf = json.loads((folder / "fake_provider/backends/lima/conf_lima.json").read_text())
    props = json.loads((folder / "fake_provider/backends/lima/props_lima.json").read_text())
    parsed = _fake_files._parsed_properties(json.loads(json.dumps(props)))
    assert _fake_files.build_target(conf, parsed) is not None
    assert _fake_files.build_target({**conf, "instruction_signatures": [{}]}, parsed) is None
    assert _fake_files.build_target({**conf, "basis_gates": ["cx", "u3"]}, parsed) is None
    assert _fake_files.build_target(conf, {**parsed, "qubits": parsed["qubits"][:-1]}) is None
    with pytest.raises(ValueError, match="unit"):
        broken = json.loads(json.dumps(props))
        broken["qubits"][0][0]["unit"] = "xs"
        _fake_files.build_target(conf, _fake_files._parsed_properties(broken))
    # a runtime version nobody compared: the runtime builds every device
    monkeypatch.setattr(_fake_files, "VERIFIED_RUNTIME", ())
    assert _fake_files.device_data(folder, "lima") is None


def test_a_first_run_builds_the_device_without_the_runtime_and_keeps_it(tmp_path):
    script = (
        "import sys\n"
        "from qkit.backends import get_backend, _snapshot\n"
        "first = get_backend('fake:lima', seed=1).device\n"
        "second = get_backend('fake:lima', seed=1).device\n"
        "print(type(first).__name__, type(second).__name__, first.num_qubits,\n"
        "      'qiskit_ibm_runtime' in sys.modules)\n"
    )
    env = {**os.environ, _cache.ENV: str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["CachedDevice", "CachedDevice", "5", "False"]
    assert len(list(tmp_path.rglob("device-*.json"))) == 1  # kept for the next run


def test_the_provenance_of_a_device_from_files_is_the_runtimes(tmp_path, monkeypatch):
    from qiskit import QuantumCircuit

    from qkit import provenance
    from qkit.backends import get_backend

    monkeypatch.setenv(_cache.ENV, str(tmp_path / "files"))
    from_files = get_backend("fake:manila", seed=1)
    assert isinstance(from_files.device, _snapshot.CachedDevice)
    monkeypatch.setenv(_cache.ENV, str(tmp_path / "runtime"))
    monkeypatch.setattr(_snapshot, "device_from_files", lambda key, load: None)
    built = get_backend("fake:manila", seed=1)
    assert not isinstance(built.device, _snapshot.CachedDevice)
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    (on_files,) = from_files.transpile([circuit], layout=[1, 2])
    (on_built,) = built.transpile([circuit], layout=[1, 2])
    assert on_files == on_built
    assert provenance.calibration(from_files, [on_files]) == provenance.calibration(
        built, [on_built]
    )
    assert from_files.device_cache().folder.name == built.device_cache().folder.name
    assert from_files.device._real is None
