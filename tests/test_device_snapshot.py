"""A fake device from the device cache (:mod:`qkit.backends._snapshot`).

A second run on a fake device rebuilds the device's target from the cache instead of importing
qiskit-ibm-runtime; it must be the same target (every operation, error, duration, qubit
property), record the same calibration in the provenance, and give the same result as a run
that built the device, while the runtime stays unimported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qkit.backends import _cache, _snapshot

pytest.importorskip("qiskit_ibm_runtime")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(_cache.ENV, str(tmp_path))
    return tmp_path


@pytest.fixture
def runtime_builds(monkeypatch):
    """The first run builds the device with the runtime (not from its snapshot files,
    :mod:`qkit.backends._fake_files`, tested in test_fake_files.py)."""
    monkeypatch.setattr(_snapshot, "device_from_files", lambda key, load: None)


@pytest.mark.parametrize("device", ["lima", "fez", "sherbrooke"])
def test_target_data_rebuild_the_same_target_and_a_changed_one_differs(device):
    from qkit.backends._runtime import fake_device_classes

    target = fake_device_classes()[device]().target
    data = json.loads(json.dumps(_snapshot.target_data(target)))  # as stored
    rebuilt = _snapshot.build_target(data)
    assert _snapshot.same_target(rebuilt, target)
    assert rebuilt.build_coupling_map().get_edges() == target.build_coupling_map().get_edges()
    # the comparison sees a changed error, duration, qubit property or operation
    names = [name for name, _ in data["operations"]]
    measure, sx = names.index("measure"), names.index("sx")
    for path, value in [
        (("operations", measure, 1, 0, 1, 1), 0.5),  # an error
        (("operations", sx, 1, 1, 1, 0), 1e-6),  # a duration
        (("qubit_properties", 0, 0), 1.0),  # a T1
        (("fields", "dt"), 1e-9),
    ]:
        changed = json.loads(json.dumps(data))
        node = changed
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert not _snapshot.same_target(_snapshot.build_target(changed), target), path
    renamed = json.loads(json.dumps(data))
    renamed["operations"][0][0] = "my_gate"
    with pytest.raises(KeyError):  # not a standard gate: never built from data
        _snapshot.build_target(renamed)


def test_only_standard_gates_and_control_flow_are_built_from_data():
    with pytest.raises(KeyError):
        _snapshot._operation("os.system")


def test_the_cached_device_is_the_device_for_everything_a_run_reads(cache_dir, runtime_builds):
    from qiskit import QuantumCircuit

    from qkit import provenance
    from qkit.backends import get_backend

    built = get_backend("fake:lima", seed=1)  # builds the device and keeps its target
    assert not isinstance(built.device, _snapshot.CachedDevice)
    cached = get_backend("fake:lima", seed=1)
    assert isinstance(cached.device, _snapshot.CachedDevice)
    assert cached.device_cache().folder == built.device_cache().folder  # the same fingerprint
    assert cached.device.name == built.device.name
    assert cached.num_qubits == built.num_qubits
    assert _snapshot.same_target(cached.device.target, built.device.target)
    assert sorted(cached.device.coupling_map.get_edges()) == sorted(
        built.device.coupling_map.get_edges()
    )
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    (on_built,) = built.transpile([circuit], layout=[1, 2])
    assert provenance.calibration(cached, [on_built]) == provenance.calibration(built, [on_built])
    assert "properties_sha256" in provenance.calibration(cached, [on_built])
    from qiskit_aer.noise import NoiseModel

    assert NoiseModel.from_backend(cached.device) == NoiseModel.from_backend(built.device)
    assert cached.device._real is None  # all of that without the real device
    # anything else comes from the real device, built on demand
    assert cached.device.backend_name == built.device.backend_name
    assert cached.device._real is not None


def test_a_changed_snapshot_or_a_corrupt_entry_is_a_miss(cache_dir, runtime_builds, monkeypatch):
    from qkit.backends import _fake_files, get_backend

    get_backend("fake:lima")
    assert isinstance(get_backend("fake:lima").device, _snapshot.CachedDevice)
    (entry,) = cache_dir.rglob("device-*.json")
    entry.write_text("{not json")
    assert not isinstance(get_backend("fake:lima").device, _snapshot.CachedDevice)
    assert isinstance(get_backend("fake:lima").device, _snapshot.CachedDevice)  # rewritten
    (index,) = cache_dir.rglob("fake-devices-*.json")
    files = json.loads(index.read_text())
    files["lima"][2] = "props_manila.json"  # another calibration than the one kept
    index.write_text(json.dumps(files))
    assert _snapshot.cached_device("lima", lambda: None) is None
    index.unlink()
    # without the index, a verified runtime's files are where its classes say (test_fake_files)
    found = _snapshot.cached_device("lima", lambda: None)
    assert (found is not None) == _fake_files.verified_runtime()
    monkeypatch.setattr(_fake_files, "VERIFIED_RUNTIME", ())
    assert _snapshot.cached_device("lima", lambda: None) is None
    assert _snapshot.cached_device("no-such-device", lambda: None) is None


@pytest.mark.slow  # three fresh processes with Qiskit and Aer: ~10 s
def test_a_second_run_imports_no_runtime_nor_survey_and_gives_the_same_result(tmp_path):
    argv = [
        "run", "mixup", "-S", "0.9", "-a", "0.6", "--backend", "fake:lima", "--layout",
        "best", "--shots", "300", "--seed", "3", "--no-store", "--json",
    ]  # fmt: skip
    script = (
        "import sys\n"
        "from qkit.cli import main\n"
        f"code = main({argv!r})\n"
        "print('RUNTIME' if 'qiskit_ibm_runtime' in sys.modules else 'NO RUNTIME', "
        "*sorted(m for m in ('scipy.optimize', 'qkit.survey.survey') if m in sys.modules), "
        "file=sys.stderr)\n"
        "sys.exit(code)\n"
    )

    def run(cache):
        env = {**os.environ, _cache.ENV: str(cache)}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        record = json.loads(done.stdout)
        record["metadata"].pop("wall_time_s")
        return record, done.stderr.strip().splitlines()[-1]

    cold, cold_modules = run(tmp_path / "a")
    warm, warm_modules = run(tmp_path / "a")
    fresh, _ = run(tmp_path / "b")
    # qkit needs no scipy.optimize (the runtime's transpiler plugins may import it on a first
    # run); a warm --layout best reads its ranking without the survey's sampler
    assert cold_modules.split()[0] == "RUNTIME"
    assert warm_modules == "NO RUNTIME"
    assert cold == warm == fresh
