"""The device model built from the qubits used, and the on-disk device cache.

What a run on a device does not need to recompute (the layout ranking, transpiled circuits,
readout calibrations) is kept under ``$QKIT_CACHE_DIR``; a second run must give exactly the
same result as the first and as a run with an empty cache, and the cache must survive
concurrent writers, foreign or corrupt entries, and a new calibration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qkit.backends import _cache
from qkit.backends._restrict import device_noise_model, restrict_noise_model


@pytest.fixture(scope="module")
def lima():
    from qiskit_ibm_runtime.fake_provider import FakeLimaV2

    return FakeLimaV2()


@pytest.mark.parametrize("qubits", [{0, 1}, {1, 3, 4}, {2}])
def test_device_model_of_the_used_qubits_equals_the_restricted_whole_model(lima, qubits):
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel

    whole = restrict_noise_model(NoiseModel.from_backend(lima), qubits)
    built = device_noise_model(lima, qubits)
    assert built == whole
    assert built.basis_gates == whole.basis_gates
    # and the same exact distribution of a circuit on those qubits (delays relax too)
    order = sorted(qubits)
    qc = QuantumCircuit(5)
    qc.sx(order[0])
    for a, b in zip(order, order[1:], strict=False):
        if (a, b) in {(0, 1), (1, 0), (1, 3), (3, 1), (3, 4), (4, 3), (1, 2), (2, 1)}:
            qc.cx(a, b)
    qc.delay(2000, order[-1], unit="ns")
    qc.save_density_matrix(order)
    sim = AerSimulator(method="density_matrix")
    rho_whole = sim.run(qc, noise_model=whole).result().data()["density_matrix"]
    rho_built = sim.run(qc, noise_model=built).result().data()["density_matrix"]
    assert np.allclose(np.asarray(rho_whole), np.asarray(rho_built), atol=1e-14)
    assert not np.allclose(np.asarray(rho_built)[0, 0], 0.5)  # the noise really acts


def test_fingerprint_follows_the_calibration(lima, tmp_path):
    from qiskit_ibm_runtime.fake_provider import FakeLimaV2, FakeManilaV2

    assert _cache.fingerprint("fake:lima", lima) == _cache.fingerprint("fake:lima", FakeLimaV2())
    assert _cache.fingerprint("fake:lima", lima) != _cache.fingerprint(
        "fake:manila", FakeManilaV2()
    )
    # a changed calibration snapshot is a new fingerprint
    changed = FakeLimaV2()
    source = os.path.join(changed.dirname, changed.props_filename)
    data = json.loads(open(source).read())
    data["qubits"][0][0]["value"] *= 1.5  # T1 of qubit 0
    (tmp_path / changed.props_filename).write_text(json.dumps(data))
    (tmp_path / changed.conf_filename).write_bytes(
        open(os.path.join(changed.dirname, changed.conf_filename), "rb").read()
    )

    class Snapshot:
        name = tmp_path.as_posix()

    changed._tmp_data_dir = Snapshot()
    assert _cache.fingerprint("fake:lima", changed) != _cache.fingerprint("fake:lima", lima)
    # without snapshot files, the target itself is hashed, and its calibration counts
    target_only = type("Device", (), {"target": lima.target})()
    first = _cache.fingerprint("fake:lima", target_only)
    assert first == _cache.fingerprint("fake:lima", target_only)
    props_sx = lima.target["sx"][(0,)]
    old = props_sx.error
    try:
        props_sx.error = old * 2
        assert _cache.fingerprint("fake:lima", target_only) != first
    finally:
        props_sx.error = old


def test_entries_are_data_checked_on_read(tmp_path):
    from qiskit import QuantumCircuit

    store = _cache.DeviceCache("abc", root=tmp_path)
    assert store.get_json("layout", "k") is None
    store.put_json("layout", "k", {"physical": [1, 2]})
    assert store.get_json("layout", "k") == {"physical": [1, 2]}
    assert store.get_json("layout", "other") is None
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    store.put_circuit("transpiled", "c", qc)
    assert store.get_circuit("transpiled", "c") == qc
    # corrupt or foreign entries are misses, never errors
    for path in (tmp_path / "devices" / "abc").iterdir():
        path.write_bytes(b"\x80garbage")
    assert store.get_json("layout", "k") is None
    assert store.get_circuit("transpiled", "c") is None
    assert not list((tmp_path / "devices" / "abc").glob(".tmp-*"))


def test_cache_command_info_and_clear(tmp_path):
    env = {**os.environ, "QKIT_CACHE_DIR": str(tmp_path)}
    _cache.DeviceCache("abc", root=tmp_path).put_json("layout", "k", [1])
    (tmp_path / "mine.txt").write_text("not qkit's")
    run = [sys.executable, "-m", "qkit.cli", "cache"]
    info = json.loads(subprocess.run([*run, "info", "--json"], env=env, capture_output=True,
                                     text=True, check=True).stdout)  # fmt: skip
    assert (info["devices"], info["files"]) == (1, 1)
    out = subprocess.run([*run, "clear"], env=env, capture_output=True, text=True, check=True)
    assert "cleared 1 device(s)" in out.stdout
    assert _cache.info(tmp_path)["files"] == 0
    assert (tmp_path / "mine.txt").read_text() == "not qkit's"  # only qkit's folder goes


def test_info_and_clear_while_another_process_writes(tmp_path):
    # A run writing entries while `qkit cache info` / `clear` runs elsewhere (the test suite's
    # two workers share one cache): neither may fail on a file that moves or vanishes under
    # it (`info` stat-ed a temporary file just renamed; `rmtree` met a file created after it
    # listed the folder: exit 3). Clears and infos race a writer in another process until it
    # has written 2000 entries.
    script = (
        "import sys; from pathlib import Path; from qkit.backends import _cache\n"
        "root = Path(sys.argv[1])\n"
        "for i in range(2000):\n"
        "    _cache.DeviceCache(f'dev{i % 3}', root=root).put_json('layout', str(i), [i] * 500)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    try:
        while writer.poll() is None:
            _cache.info(tmp_path)
            _cache.clear(tmp_path)
    finally:
        assert writer.wait(timeout=120) == 0
    _cache.clear(tmp_path)
    assert _cache.info(tmp_path)["files"] == 0
    assert not list(tmp_path.glob(".devices-cleared-*"))  # nothing set aside is left behind


@pytest.mark.slow
def test_second_run_and_concurrent_runs_equal_a_run_without_cache(tmp_path):
    """fake:lima with --layout best and readout mitigation: a cold run, two concurrent warm
    runs and a run with another empty cache all print the same JSON estimate."""
    command = [
        sys.executable, "-m", "qkit.cli", "run", "mixup", "-S", "0.9", "-a", "0.6",
        "--backend", "fake:lima", "--layout", "best", "--mitigate", "readout",
        "--shots", "500", "--seed", "3", "--no-store", "--json",
    ]  # fmt: skip

    def run(cache, wait=True):
        env = {**os.environ, "QKIT_CACHE_DIR": str(cache)}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        return process.communicate()[0] if wait else process

    def estimate(text):
        record = json.loads(text)
        metadata = record["metadata"]
        return record["estimate"], metadata["layout"], metadata["prediction_device"]

    cold = run(tmp_path / "a")
    files = sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert any(n.startswith("layout-") for n in files)
    assert any(n.startswith("transpiled-") for n in files)
    assert any(n.startswith("readout-") for n in files)
    assert any(n.startswith("probabilities-") for n in files)
    racing = [run(tmp_path / "a", wait=False) for _ in range(2)]
    warm = [p.communicate()[0] for p in racing]
    assert sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file()) == files
    fresh = run(tmp_path / "b")
    assert estimate(cold) == estimate(warm[0]) == estimate(warm[1]) == estimate(fresh)


def test_models_asked_in_any_order_build_each_error_once_and_stay_exact(lima):
    """A survey asks for many overlapping qubit sets: each request is exactly the restricted
    whole-device model, although every instruction's error is built only once."""
    from qiskit_aer.noise import NoiseModel

    from qkit.backends import _restrict

    whole = NoiseModel.from_backend(lima)
    _restrict._MODELS.pop(id(lima), None)
    for qubits in ({1}, {2}, {1, 2}, {0, 1, 3}, {3, 4}, {0, 1, 2, 3, 4}, {2}):
        assert device_noise_model(lima, qubits) == restrict_noise_model(whole, qubits)
    built = _restrict._MODELS[id(lima)]
    every = {
        (name, tuple(q))
        for name in lima.target.operation_names
        for q in lima.target[name]
        if q is not None
    }
    assert built.done == every


def test_a_point_reads_its_device_prediction_back_exactly(tmp_path, monkeypatch):
    """The device-noise prediction of a point is kept by calibration and circuits: a second
    run reads the same doubles without simulating, and readout=False is another entry."""
    from qkit import device_model, runner
    from qkit import experiment as definitions
    from qkit.backends import get_backend

    monkeypatch.setenv(_cache.ENV, str(tmp_path))
    mixup = definitions.get("mixup")
    point = mixup.point(success=0.9, amplitude=0.7)

    def run(mitigate=None):
        backend = get_backend("fake:manila", seed=0)
        options = {"shots": 200, "seed": 5, "layout": "3,4", "mitigate": mitigate}
        return runner.run_point(mixup, point, backend=backend, **options)

    first, first_mitigated = run(), run("readout")
    entries = list(tmp_path.rglob(f"{device_model.PROBABILITIES_KIND}-*.json"))
    assert len(entries) == 2  # with and without readout errors

    def simulate(*args, **kwargs):
        raise AssertionError("the prediction was simulated again")

    monkeypatch.setattr(device_model, "circuit_probabilities", simulate)
    again, again_mitigated = run(), run("readout")
    assert again.metadata["prediction_device"] == first.metadata["prediction_device"]
    assert (
        again_mitigated.metadata["prediction_device"]
        == (first_mitigated.metadata["prediction_device"])
    )
    assert first.metadata["prediction_device"] != first_mitigated.metadata["prediction_device"]
    for entry in entries:  # a foreign or corrupt entry is a miss: simulated again
        entry.write_text('{"key": "other", "value": [[1.0]]}')
    with pytest.raises(AssertionError, match="simulated again"):
        run()
