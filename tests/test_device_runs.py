"""``qkit run`` end to end on device backends (issue #5): fake IBM devices, Braket local, IBM path.

Everything runs for real: the fake devices through qiskit-ibm-runtime's local testing mode
(Aer with the device's calibrated noise), the Braket local simulator, and the IBM cloud code
path with the runtime's local service. Missing packages and credentials are simulated the way
users meet them: a package that cannot be imported, an empty HOME and no ``QISKIT_IBM_*``
variables. Statistical assertions are sized so that a false failure needs a > 5 sigma draw.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qkit import noise
from qkit.cli import main
from qkit.mixup import experiment as mixup
from qkit.store import ResultsStore

HAS_BRAKET = importlib.util.find_spec("qiskit_braket_provider") is not None
HAS_RUNTIME = importlib.util.find_spec("qiskit_ibm_runtime") is not None
needs_runtime = pytest.mark.skipif(
    not HAS_RUNTIME, reason="qiskit-ibm-runtime is not installed (pip install qkit-comm[ibm])"
)
needs_braket = pytest.mark.skipif(
    not HAS_BRAKET, reason="qiskit-braket-provider is not installed (pip install qkit-comm[braket])"
)
RUN_KEYS = {"prediction", "estimate", "shots", "seed", "backend", "run_id"}
BELL = 2**-0.5


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``qkit`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> dict:
    code, out, err = run_cli(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


# -- a fake IBM device: mix-up with and without readout mitigation ------------------------
@pytest.fixture(scope="module")
def lima_bell(tmp_path_factory):
    """Bell pairs at S = 0.9 on fake:lima, 4000 shots per setting, readout mitigated.

    One run gives both estimates from the same counts: the mitigated one as ``estimate``, the
    raw one as ``metadata.raw_estimate``.
    """
    store = tmp_path_factory.mktemp("lima") / "results.sqlite"
    record = run_json(
        "run", "mixup", "-S", "0.9", "-a", str(BELL), "--shots", "4000", "--seed", "11",
        "--backend", "fake:lima", "--mitigate", "readout", "--bootstrap", "200",
        "--store", str(store),
    )  # fmt: skip
    return record, ResultsStore(store)


@needs_runtime
def test_qkit_run_mixup_on_a_fake_device_prints_the_issue_keys_and_stores_the_run(lima_bell):
    record, store = lima_bell
    assert RUN_KEYS | {"success", "amplitude"} <= set(record)
    assert (record["backend"], record["shots"], record["seed"]) == ("fake:lima", 4000, 11)
    # Bell pairs delivered intact with probability S: CHSH max 2 sqrt(2) S, C = (3S - 1)/2
    assert record["prediction"]["chsh_max"] == pytest.approx(2 * np.sqrt(2) * 0.9, abs=1e-9)
    assert record["prediction"]["concurrence"] == pytest.approx((3 * 0.9 - 1) / 2, abs=1e-9)
    stored = store.get_run(record["run_id"])
    assert stored.status == "done" and stored.backend == "fake:lima"
    assert stored.estimate == record["estimate"]
    assert stored.metadata["options"]["realization"] == "branch-mixture"
    assert stored.metadata["options"]["mitigate"] == "readout"


@needs_runtime
def test_transpiled_two_qubit_gate_counts_and_depth_match_qiskits_own_transpilation(lima_bell):
    from qiskit_ibm_runtime.fake_provider import FakeLimaV2

    record, _ = lima_bell
    reported = record["metadata"]["transpiled"]["mixup"]
    # the two branches of the mix-up: pair delivered intact, or A1 measured with B2
    family, mixtures = mixup.circuits({"success": 0.9, "amplitude": BELL})
    branches = noise.expand_branches(family.circuits[0], mixtures, prune=True)
    device = FakeLimaV2()
    manager = generate_preset_pass_manager(optimization_level=2, target=device.target,
                                           seed_transpiler=11)  # fmt: skip
    assert len(reported) == len(branches) == 2
    for stats, branch in zip(reported, branches, strict=True):
        expected = manager.run(branch)
        two_qubit = sum(1 for i in expected.data if i.operation.num_qubits == 2)
        assert stats["two_qubit_gates"] == two_qubit == expected.count_ops().get("cx", 0)
        assert stats["depth"] == expected.depth()
        assert len(set(stats["layout"])) == 4 and set(stats["layout"]) <= set(range(5))
    intact, swapped = reported
    assert 1 <= intact["two_qubit_gates"] <= 4  # one Bell pair: one CX, maybe routing
    assert 2 <= swapped["two_qubit_gates"] <= 8  # two pairs, one qubit of each measured
    assert 4 <= intact["depth"] <= 40 and 4 <= swapped["depth"] <= 40


@needs_runtime
def test_readout_mitigation_brings_chsh_and_concurrence_closer_to_the_prediction(lima_bell):
    record, _ = lima_bell
    prediction, mitigated = record["prediction"], record["estimate"]
    raw = record["metadata"]["raw_estimate"]
    chsh_gain = abs(raw["chsh"]["value"] - prediction["chsh_max"]) - abs(
        mitigated["chsh"]["value"] - prediction["chsh_max"]
    )
    # improvement measured in error bars: readout errors of a few % cost ~0.2 in CHSH
    assert chsh_gain > 4 * raw["chsh"]["stderr"], (raw["chsh"], mitigated["chsh"])
    c_raw, c_mit = raw["concurrence"], mitigated["concurrence"]
    half_width = (c_raw["ci_high"] - c_raw["ci_low"]) / 2
    c_gain = abs(c_raw["value"] - prediction["concurrence"]) - abs(
        c_mit["value"] - prediction["concurrence"]
    )
    assert c_gain > 4 * half_width, (c_raw, c_mit)
    # the calibration measured the device's own readout errors (its reported ones, roughly)
    from qiskit_ibm_runtime.fake_provider import FakeLimaV2

    target = FakeLimaV2().target
    measured = {int(q): e for q, e in record["metadata"]["readout_errors"].items()}
    assert len(measured) >= 2
    for qubit, error in measured.items():
        assert abs(error - target["measure"][(qubit,)].error) < 0.02 + 0.3 * error


@needs_runtime
def test_pubs_of_one_call_on_a_fake_device_are_independent_samples():
    from qkit.backends import get_backend

    backend = get_backend("fake:manila", seed=7)
    circuit = QuantumCircuit(2, 2)
    circuit.x([0, 1])
    circuit.measure([0, 1], [0, 1])
    (transpiled,) = backend.transpile([circuit])
    counts = backend.run([(transpiled,)] * 8, shots=300)
    # identical circuits, independent shots: with ~5% readout error per shot, identical count
    # dicts would need the same number of errors on each qubit every time (they came out 8
    # times identical when the runtime's local mode gave all PUBs of a call one seed). With
    # independent draws, 4 or fewer distinct dicts of 8 has probability 3e-6 at manila's qubit
    # 0-1 readout errors (3.5%, 2.2%), 1.2e-4 at its best pair (1.4%, 1.9%) (simulated, 1e6
    # redraws of 8 multinomials of 300 shots)
    assert len({json.dumps(c, sort_keys=True) for c in counts}) >= 5


def test_the_first_shots_of_a_stacked_pub_are_those_slice_shots_gives():
    from qiskit.primitives.containers import BitArray

    from qkit.backends._runtime import _first_shots

    rng = np.random.default_rng(1)
    for shape, shots, bits in [((13,), 4000, 2), ((3, 2), 100, 9), ((), 50, 17)]:
        array = rng.integers(0, 256, (*shape, shots, (bits + 7) // 8), dtype=np.uint8)
        every = BitArray(array, bits)
        for first in (1, 37, shots - 1, shots):
            ours, theirs = _first_shots(every, first), every.slice_shots(range(first))
            assert ours == theirs and ours.array.shape == theirs.array.shape


@needs_runtime
def test_fake_devices_sample_the_same_bits_as_the_runtimes_local_testing_mode():
    """qkit samples fake devices with Aer's sampler directly (no runtime import); the bits a
    seed gives must stay those of the runtime's own local-mode sampler, so runs stored before
    replay and reproduce unchanged: parametrized PUBs (angles the runtime rounds, with
    non-Clifford values), a stacked PUB of many bindings, a circuit without parameters and a
    dynamic circuit (mid-circuit measurement, feed-forward)."""
    from qiskit.circuit import Parameter
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.sampler_pub import SamplerPub
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qkit.backends import get_backend
    from qkit.backends._runtime import local_sample

    backend = get_backend("fake:fez", seed=3)
    theta, phi = Parameter("theta"), Parameter("phi")
    rotated = QuantumCircuit(2, 2)
    rotated.ry(theta, 0)
    rotated.cx(0, 1)
    rotated.rz(phi, 1)
    rotated.sx(1)
    rotated.measure([0, 1], [0, 1])
    fixed = QuantumCircuit(2, 2)
    fixed.h(0)
    fixed.cx(0, 1)
    fixed.measure([0, 1], [0, 1])
    dynamic = QuantumCircuit(2, 2)
    dynamic.h(0)
    dynamic.measure(0, 0)
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(1)
    dynamic.measure(1, 1)
    values = np.array([[0.3, 1.1], [np.pi / 2 + 1e-7, -0.7], [2.0, np.pi], [0.123456789, 5.0]])
    compiled = backend.transpile([rotated, fixed, dynamic], layout=[3, 4])
    pubs = [
        SamplerPub(compiled[0], BindingsArray({tuple(compiled[0].parameters): values}), 500),
        SamplerPub(compiled[0], BindingsArray({tuple(compiled[0].parameters): values[1]}), 300),
        SamplerPub(compiled[1], shots=400),
        SamplerPub(compiled[2], shots=400),
    ]
    for k, pub in enumerate(pubs):
        simulator = backend._restricted_mode([pub])
        ours = local_sample(simulator, pub, 1000 + k).result()[0]
        runtime = Sampler(mode=simulator)
        runtime.options.simulator.seed_simulator = 1000 + k
        theirs = runtime.run([pub], shots=pub.shots).result()[0]
        assert list(ours.data) == list(theirs.data)
        for name in ours.data:
            assert ours.data[name].shape == theirs.data[name].shape
            assert np.array_equal(ours.data[name].array, theirs.data[name].array), (k, name)
    # the angle rounding changes a shot only rarely (~1e-5 rad): checked on its own
    from qiskit_ibm_runtime.fake_provider.executor import run_quantum_program as local_mode
    from qiskit_ibm_runtime.options_models import SimulatorOptions

    from qkit.backends import _runtime

    assert SimulatorOptions().angle_decimals == _runtime.ANGLE_DECIMALS
    angles = np.random.default_rng(5).normal(0.0, 4.0, 1000)
    assert np.array_equal(
        _runtime._round_to_clifford(angles),
        local_mode._round_to_clifford(angles, SimulatorOptions().angle_decimals),
    )


@needs_runtime
@pytest.mark.parametrize(
    "alphabet, inputs",
    [
        ("pair", "entangled"),
        ("two-slot", "separable"),
    ],
)
@pytest.mark.slow  # 48 and 120 branch circuits, one local-mode call each: 10-40 s
def test_qkit_run_channel_on_a_fake_device(alphabet, inputs):
    from qkit.channel import theory

    record = run_json(
        "run", "channel", "--eta", "1", "--inputs", inputs, "--alphabet", alphabet,
        "--shots", "400", "--seed", "5", "--backend", "fake:lima", "--bootstrap", "100",
        "--no-store",
    )  # fmt: skip
    assert RUN_KEYS | {"eta", "inputs", "alphabet"} <= set(record)
    assert record["run_id"] is None and record["backend"] == "fake:lima"
    exact = theory.chi2(1.0, inputs) if alphabet == "pair" else theory.capacity(1.0, inputs)
    assert record["prediction"]["holevo"] == pytest.approx(float(exact))
    mi = record["estimate"]["mutual_information"]
    # device noise can only lose information (up to the bias-corrected estimator's spread)
    assert 0.5 * exact < mi["value"] < exact + 0.1
    stats = record["metadata"]["transpiled"][f"channel-{alphabet}"]
    # one entry per branch circuit; the transpiler may undo a product letter's receiver CX
    assert max(s["two_qubit_gates"] for s in stats) >= 1  # a singlet needs one
    assert all(s["depth"] >= 1 for s in stats)  # at least the measurements


# -- Amazon Braket local simulator: ideal, so the branch mixture is exact -----------------
@needs_braket
def test_qkit_run_mixup_on_braket_local_matches_the_prediction():
    record = run_json(
        "run", "mixup", "-S", "0.9", "-a", "0.8", "--shots", "1000", "--seed", "3",
        "--backend", "braket:local", "--bootstrap", "100", "--no-store",
    )  # fmt: skip
    assert RUN_KEYS <= set(record) and record["backend"] == "braket:local"
    chsh = record["estimate"]["chsh"]
    assert abs(chsh["value"] - record["prediction"]["chsh_max"]) < 5 * chsh["stderr"]
    c = record["estimate"]["concurrence"]
    assert c["ci_low"] - 1.5 * (c["ci_high"] - c["ci_low"]) < record["prediction"]["concurrence"]
    assert record["prediction"]["concurrence"] < c["ci_high"] + 1.5 * (c["ci_high"] - c["ci_low"])
    stats = record["metadata"]["transpiled"]["mixup"]
    assert [s["two_qubit_gates"] >= 1 for s in stats] == [True, True]


@pytest.mark.slow
@needs_braket
def test_braket_local_decodes_the_noiseless_two_slot_alphabet_perfectly():
    # At eta = 1 every letter of the entangled alphabet has its own receiver outcome, for every
    # one of the 24 Clifford branches. (This caught the Braket local simulator mis-applying
    # ``ctrl @ rz`` on some qubit pairs; qkit now transpiles for it to CX + 1-qubit gates.)
    record = run_json(
        "run", "channel", "--eta", "1", "--alphabet", "two-slot", "--shots", "500",
        "--seed", "3", "--backend", "braket:local", "--bootstrap", "50", "--no-store",
    )  # fmt: skip
    assert RUN_KEYS <= set(record) and record["backend"] == "braket:local"
    assert record["estimate"]["conditional_probabilities"] == np.eye(5).tolist()
    mi = record["estimate"]["mutual_information"]["value"]
    assert mi == pytest.approx(record["prediction"]["holevo"]) == pytest.approx(np.log2(5))


@needs_braket
@pytest.mark.slow
def test_qkit_run_channel_pair_on_braket_local_matches_the_holevo_prediction():
    record = run_json(
        "run", "channel", "--eta", "0.5", "--inputs", "separable", "--shots", "2000",
        "--seed", "3", "--backend", "braket:local", "--bootstrap", "300", "--no-store",
    )  # fmt: skip
    mi = record["estimate"]["mutual_information"]
    width = mi["ci_high"] - mi["ci_low"]
    assert abs(mi["value"] - record["prediction"]["holevo"]) < 1.5 * width, mi


# -- the IBM Quantum path, offline -------------------------------------------------------
@pytest.mark.slow
@needs_runtime
@pytest.mark.filterwarnings("ignore:Properties of fake_nighthawk")
def test_ibm_path_runs_an_experiment_in_a_batch_through_the_runtime_local_service(tmp_path):
    from qiskit_ibm_runtime import Batch
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    from qkit.backends._runtime import ibm_backend

    backend = ibm_backend(
        "fake_manila", seed=6, optimization_level=2, service=QiskitRuntimeLocalService()
    )
    store = ResultsStore(tmp_path / "results.sqlite")
    result = mixup.run(0.9, BELL, shots=1000, seed=6, n_boot=100, backend=backend, store=store)
    assert isinstance(backend._mode, Batch)  # jobs grouped in one batch, as on IBM Quantum
    assert result.backend == "ibm:fake_manila"
    assert store.get_run(result.run_id).status == "done"
    chsh = result.estimate["chsh"]
    assert 2.0 < chsh["value"] < result.prediction["chsh_max"] + 5 * chsh["stderr"]
    assert all(s["two_qubit_gates"] >= 1 for s in result.metadata["transpiled"]["mixup"])
    backend.close()


def _clean_env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QISKIT_IBM", "AWS_", "QKIT_"))}
    env.update(HOME=str(home), HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    return env


@pytest.mark.slow
@needs_runtime
def test_ibm_without_credentials_is_a_one_line_error_with_exit_code_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "qkit.cli", "run", "mixup", "-S", "0.9", "-a", "0.7",
         "--shots", "100", "--backend", "ibm:ibm_torino", "--no-store"],
        capture_output=True, text=True, env=_clean_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stdout == ""
    lines = [line for line in out.stderr.splitlines() if line.startswith("qkit:")]
    assert len(lines) == 1 and out.stderr.endswith("\n"), out.stderr
    assert "QISKIT_IBM_TOKEN" in lines[0] and "save_account" in lines[0]
    assert "Traceback" not in out.stderr


MISSING_EXTRAS = """
import contextlib, io, json, sys
for name in ("qiskit_ibm_runtime", "qiskit_braket_provider"):
    sys.modules[name] = None  # import fails as if the package were not installed
from qkit.cli import main
report = []
for backend in ("fake:lima", "fake:list", "ibm:ibm_torino", "braket:local"):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "10",
                     "--no-store", "--backend", backend])
    report.append([code, err.getvalue()])
print(json.dumps(report))
"""


@pytest.mark.slow
def test_missing_optional_extras_are_one_line_errors_naming_what_to_install(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", MISSING_EXTRAS],
        capture_output=True, text=True, env=_clean_env(tmp_path), timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    extras = ["qkit-comm[ibm]", "qkit-comm[ibm]", "qkit-comm[ibm]", "qkit-comm[braket]"]
    for (code, err), extra in zip(report, extras, strict=True):
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("qkit: error: "), err
        assert f"install {extra}" in err


def test_readout_mitigation_on_aer_is_a_one_line_error():
    code, out, err = run_cli(
        "run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "10", "--no-store",
        "--mitigate", "readout",
    )  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "needs a device backend" in err


def test_mitigating_many_small_branch_pubs_of_a_setting_is_as_good_as_one_big_pub():
    # 100 branch PUBs of 40 shots each, all of one setting, reading qubits 0-3 whose
    # assignment matrices are known exactly; the true outcome is always 0100. Mitigated one
    # PUB at a time, M3's projection onto probabilities keeps ~4% of the readout errors;
    # pooled (as the runner does), about 0.5%, as for a single 4000-shot PUB.
    from types import SimpleNamespace

    from qkit.mitigation import ReadoutCalibration, mitigate_counts, mitigate_pooled

    errors = [(0.02, 0.05), (0.01, 0.03), (0.03, 0.06), (0.02, 0.04)]  # P(1|0), P(0|1)
    matrices = {q: np.array([[1 - e0, e1], [e0, 1 - e1]]) for q, (e0, e1) in enumerate(errors)}
    calibration = ReadoutCalibration("synthetic", matrices, 10_000)
    rng = np.random.default_rng(5)
    truth = np.array([0, 0, 1, 0])  # clbit 0..3 -> bitstring "0100"
    flip = np.array([[e0 for e0, _ in errors], [e1 for _, e1 in errors]])
    results = []
    for _ in range(100):
        shots = truth ^ (rng.random((40, 4)) < flip[truth, np.arange(4)])
        keys = ["".join(str(b) for b in row[::-1]) for row in shots]
        results.append({k: keys.count(k) for k in set(keys)})
    circuit = QuantumCircuit(4, 4)
    circuit.measure(range(4), range(4))
    prepared = SimpleNamespace(owners=[(0, 0)] * 100, circuits=[circuit] * 100)

    def p_true(counts_list) -> float:
        total = {}
        for counts in counts_list:
            for key, n in counts.items():
                total[key] = total.get(key, 0) + n
        return total.get("0100", 0) / sum(total.values())

    raw = p_true(results)
    one_by_one = p_true(mitigate_counts(calibration, results, prepared.circuits))
    pooled = p_true(mitigate_pooled(calibration, prepared, results))
    assert raw < 0.9 and one_by_one < 0.975 < 0.99 < pooled
