"""Backends by name (qkit.backends): Aer, IBM fake devices, the IBM runtime path, Braket.

Real simulators only. Statistical checks compare sampled counts with exact probabilities
from ``qiskit.quantum_info.Statevector`` with a chi-square test at a false-failure rate of
1e-6 (the tests are seeded, so a pass is reproducible; the rate says how lucky a seed
would have to be). The fake devices' agreement checks (``> 0.9`` of 00 and 11) sit far below
manila's true agreement, 0.966 (measured from 200,000 shots): 11 sd at 1000 shots, 23 sd at 4000
(false failure < 1e-29).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Statevector
from qiskit_aer.noise import NoiseModel, pauli_error
from scipy import stats

from qkit.backends import BackendUnavailableError, Job, get_backend, list_fake_devices

HAS_BRAKET = importlib.util.find_spec("qiskit_braket_provider") is not None
HAS_RUNTIME = importlib.util.find_spec("qiskit_ibm_runtime") is not None
needs_runtime = pytest.mark.skipif(
    not HAS_RUNTIME, reason="qiskit-ibm-runtime (qkit-comm[ibm]) missing"
)
needs_braket = pytest.mark.skipif(
    not HAS_BRAKET, reason="qiskit-braket-provider (qkit-comm[braket]) is not installed"
)
FALSE_FAILURE = 1e-6
THETA = Parameter("theta")


def bell_family() -> QuantumCircuit:
    """Bell pair, then ry(theta) on qubit 0, measured in Z: one circuit per theta value."""
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "c"))
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ry(THETA, 0)
    circuit.measure([0, 1], [0, 1])
    return circuit


def exact_probabilities(theta: float) -> dict[str, float]:
    circuit = bell_family().remove_final_measurements(inplace=False)
    return Statevector(circuit.assign_parameters([theta])).probabilities_dict()


def chi_square_pvalue(counts_list, probabilities_list) -> float:
    """One chi-square test over many independent multinomial samples."""
    statistic, dof = 0.0, 0
    for counts, probabilities in zip(counts_list, probabilities_list, strict=True):
        shots = sum(counts.values())
        support = [k for k, p in probabilities.items() if p > 1e-12]
        assert set(counts) <= set(support), f"impossible outcomes {set(counts) - set(support)}"
        for key in support:
            expected = shots * probabilities[key]
            statistic += (counts.get(key, 0) - expected) ** 2 / expected
        dof += len(support) - 1
    return float(stats.chi2.sf(statistic, dof))


# -- Aer ---------------------------------------------------------------------------------
def test_aer_samples_a_parameter_batch_in_one_call_with_exact_statistics():
    backend = get_backend("aer", seed=11)
    (transpiled,) = backend.transpile([bell_family()])
    assert transpiled.parameters == bell_family().parameters  # still parametrized
    thetas = np.linspace(0, np.pi, 9)
    batch, single = backend.run(
        [(transpiled, thetas.reshape(3, 3, 1)), (transpiled, [0.4])], shots=4000
    )
    assert batch.shape == (3, 3) and isinstance(single, dict)
    counts = list(batch.ravel()) + [single]
    exact = [exact_probabilities(t) for t in thetas] + [exact_probabilities(0.4)]
    assert all(sum(c.values()) == 4000 for c in counts)
    assert chi_square_pvalue(counts, exact) > FALSE_FAILURE


def test_same_seed_gives_identical_counts_and_another_seed_does_not():
    backend = get_backend("aer", seed=3)
    (transpiled,) = backend.transpile([bell_family()])
    pubs = [(transpiled, np.array([[0.3], [1.2]]))]
    first = backend.run(pubs, shots=500)[0]
    again = backend.run(pubs, shots=500)[0]
    other = backend.run(pubs, shots=500, seed=4)[0]
    assert list(first) == list(again)
    assert list(first) != list(other)


@pytest.mark.parametrize("optimization_level", [0, 3])
def test_aer_noise_acts_through_labelled_identity_placeholders(optimization_level):
    # |00>, identity placeholders, measure. The noise model flips qubit 0 with p = 0.3 on
    # "flip1" and applies XX with p = 0.2 on the two-qubit "flip2" (all qubits), so
    # P(q0 = 1) = 0.3 (1 - 0.2) + 0.7 * 0.2 = 0.38 and P(q1 = 1) = 0.2 exactly.
    circuit = QuantumCircuit(2, 2)
    circuit.append(UnitaryGate(np.eye(2), label="flip1"), [0])
    circuit.append(UnitaryGate(np.eye(4), label="flip2"), [0, 1])
    circuit.measure([0, 1], [0, 1])
    noise = NoiseModel()
    noise.add_quantum_error(pauli_error([("X", 0.3), ("I", 0.7)]), "flip1", [0])
    noise.add_all_qubit_quantum_error(pauli_error([("XX", 0.2), ("II", 0.8)]), "flip2")

    backend = get_backend("aer", seed=5, optimization_level=optimization_level)
    (transpiled,) = backend.transpile([circuit])
    labels = [i.operation.label for i in transpiled.data if i.operation.label]
    assert labels == ["flip1", "flip2"]
    noisy = backend.run([(transpiled,)], shots=20000, noise_model=noise)[0]
    ideal = backend.run([(transpiled,)], shots=1000)[0]
    assert ideal == {"00": 1000}
    p_flip1, p_flip2 = 0.3, 0.2
    exact = {
        "00": (1 - p_flip1) * (1 - p_flip2),
        "01": p_flip1 * (1 - p_flip2),  # clbit 0 (qubit 0) is the rightmost character
        "11": (1 - p_flip1) * p_flip2,
        "10": p_flip1 * p_flip2,
    }
    assert chi_square_pvalue([noisy], [exact]) > FALSE_FAILURE


def test_aer_keeps_qkit_noise_sites_at_the_highest_optimization_level():
    from qkit import noise

    success = 0.3  # the pair is intact with probability S, swapped with 1 - S
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.append(noise.noise_site(noise.MIXUP, 2), [0, 1])
    circuit.measure([0, 1], [0, 1])
    backend = get_backend("aer", seed=8, optimization_level=3)
    (transpiled,) = backend.transpile([circuit])
    model = noise.noise_model([noise.swap_mixture(success)])
    counts = backend.run([(transpiled,)], shots=20000, noise_model=model)[0]
    assert chi_square_pvalue([counts], [{"01": success, "10": 1 - success}]) > FALSE_FAILURE


def test_transpilation_happens_once_per_circuit_family():
    backend = get_backend("aer")
    family = [bell_family(), bell_family()]  # structurally identical: one transpilation
    first = backend.transpile(family, key="bell")
    second = backend.transpile([bell_family()], key=None)
    assert first[0] is first[1] is second[0]
    assert backend._cache.transpilations == 1
    other = QuantumCircuit(1, 1)
    other.measure(0, 0)
    with pytest.raises(ValueError, match="key 'bell' was already used"):
        backend.transpile([other], key="bell")


def test_multiple_registers_join_with_the_first_register_rightmost():
    circuit = QuantumCircuit(
        QuantumRegister(3), ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    )
    circuit.x([0, 2])
    circuit.measure([0, 1, 2], [0, 1, 2])
    backend = get_backend("aer", seed=1)
    assert backend.run([tuple(backend.transpile([circuit]))], shots=10) == [{"101": 10}]


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["x", "", "fake:", "ibm:", "braket:", "braket:sv1", "AER", "fake:list", 3]
)
def test_unknown_backend_names_are_one_line_value_errors(name):
    with pytest.raises(ValueError) as info:
        get_backend(name)
    message = str(info.value)
    assert message == (
        "backend must be one of aer, fake:<device>, ibm:<device>, braket:local, "
        f"braket:<ARN>; got {name!r}"
    )


@needs_runtime
def test_unknown_fake_device_names_the_listing_command():
    with pytest.raises(ValueError, match="fake:list"):
        get_backend("fake:nowhere")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shots": 0}, r"shots must be an integer in \[1, "),
        ({"shots": 10, "seed": -1}, r"seed must be an integer in \[0, "),
    ],
)
def test_bad_run_arguments_are_rejected(kwargs, match):
    backend = get_backend("aer")
    pubs = [tuple(backend.transpile([bell_family()])) + ([0.1],)]
    with pytest.raises(ValueError, match=match):
        backend.run(pubs, **kwargs)


def test_bad_levels_and_unmeasured_circuits_are_rejected():
    with pytest.raises(ValueError, match="optimization_level must be 0, 1, 2 or 3"):
        get_backend("aer", optimization_level=4)
    with pytest.raises(ValueError, match="measures nothing"):
        get_backend("aer").run([(QuantumCircuit(1),)], shots=10)


def test_importing_qkit_backends_loads_no_cloud_package():
    code = (
        "import sys, qkit.backends; "
        "print(any(m.startswith(('qiskit_ibm_runtime', 'qiskit_braket_provider', 'braket')) "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- IBM fake devices --------------------------------------------------------------------
@needs_runtime
def test_fake_list_names_the_ibm_fake_devices():
    names = list_fake_devices()
    assert {"sherbrooke", "brisbane", "torino", "manila"} <= set(names)
    assert names == sorted(names)


@needs_runtime
def test_fake_device_runs_a_parameter_batch_with_device_noise_reproducibly():
    backend = get_backend("fake:manila", seed=2)
    assert (backend.kind, backend.supports_noise_model) == ("fake", False)
    (transpiled,) = backend.transpile([bell_family()])
    assert transpiled.parameters == bell_family().parameters
    stats_ = backend.transpile_stats([bell_family()])[0]
    assert stats_ == backend.transpile_stats([transpiled])[0]
    two_qubit_ops = sum(1 for i in transpiled.data if i.operation.num_qubits == 2)
    assert stats_["two_qubit_gates"] == two_qubit_ops >= 1
    assert len(stats_["layout"]) == 2 and all(0 <= q < 5 for q in stats_["layout"])

    pubs = [(transpiled, np.array([[0.0], [np.pi / 2]]))]
    counts = backend.run(pubs, shots=4000)[0]
    again = backend.run(pubs, shots=4000)[0]
    assert list(counts) == list(again)
    bell = counts[0]
    # Calibrated noise, not a silent noiseless fallback: the Bell pair shows 01 and 10 ...
    assert bell.get("01", 0) + bell.get("10", 0) > 0
    # ... but stays close to the ideal one (device errors are a few percent). 4000 shots at a
    # true 0.966: 0.9 is 23 sd below and no 01/10 at all has probability 0.966**4000 ~ 1e-61.
    assert (bell.get("00", 0) + bell.get("11", 0)) / 4000 > 0.9
    with pytest.raises(ValueError, match="circuit-mixture"):
        backend.run(pubs, shots=10, noise_model=NoiseModel())
    with pytest.raises(ValueError, match="detach=True can be retrieved"):
        backend.retrieve("some-id")


@needs_runtime
@pytest.mark.slow
def test_a_127_qubit_fake_device_simulates_only_the_active_qubits():
    # A 127-qubit state vector could not be simulated at all: finishing proves truncation.
    backend = get_backend("fake:sherbrooke", seed=1)
    (transpiled,) = backend.transpile([bell_family()])
    assert transpiled.num_qubits == 127
    counts = backend.run([(transpiled, [0.0])], shots=2000)[0]
    # 2000 shots: at a true agreement >= 0.93 (manila: 0.966), 0.85 is >= 14 sd below
    assert (counts.get("00", 0) + counts.get("11", 0)) / 2000 > 0.85


# -- IBM Quantum path, offline through the runtime's local testing mode -------------------
@needs_runtime
@pytest.mark.filterwarnings("ignore:Properties of fake_nighthawk")
def test_ibm_path_runs_in_a_batch_through_the_runtime_local_mode():
    from qiskit_ibm_runtime import Batch
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    from qkit.backends._runtime import ibm_backend

    backend = ibm_backend(
        "fake_manila", seed=4, optimization_level=2, service=QiskitRuntimeLocalService()
    )
    assert (backend.name, backend.kind) == ("ibm:fake_manila", "ibm")
    (transpiled,) = backend.transpile([bell_family()])
    job = backend.submit([(transpiled, [[0.0], [np.pi]])], shots=2000)
    assert isinstance(job.job_id(), str) and job.job_id()
    counts = job.result()[0]
    assert isinstance(backend._mode, Batch)
    assert job.status() == "DONE"
    assert (counts[0].get("00", 0) + counts[0].get("11", 0)) / 2000 > 0.9
    assert (counts[1].get("01", 0) + counts[1].get("10", 0)) / 2000 > 0.9  # ry(pi) flips q0
    backend.close()


@needs_runtime
def test_missing_ibm_credentials_give_one_line_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QISKIT_IBM")}
    env.update(
        HOME=str(tmp_path),  # no saved account
        QISKIT_IBM_INSTANCE="crn:v1:secret-instance-4711",
        HTTPS_PROXY="http://127.0.0.1:9",  # any network call would fail differently
        HTTP_PROXY="http://127.0.0.1:9",
    )
    code = (
        "from qkit.backends import get_backend, BackendUnavailableError\n"
        "try:\n    get_backend('ibm:ibm_torino')\n"
        "except BackendUnavailableError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    message = out.stdout
    assert message.count("\n") == 1, message
    assert "QISKIT_IBM_TOKEN" in message and "save_account" in message
    assert "secret-instance-4711" not in message + out.stderr


def test_missing_extras_name_the_extra_to_install():
    # Setting a module to None in sys.modules makes Python's import fail, as if uninstalled.
    code = (
        "import sys\n"
        "for m in ('qiskit_ibm_runtime', 'qiskit_braket_provider'):\n"
        "    sys.modules[m] = None\n"
        "from qkit.backends import get_backend, BackendUnavailableError\n"
        "for name in ('fake:manila', 'ibm:ibm_torino', 'braket:local'):\n"
        "    try:\n        get_backend(name)\n"
        "    except BackendUnavailableError as exc:\n        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert len(lines) == 3
    assert "install qkit-comm[ibm]" in lines[0] and "install qkit-comm[ibm]" in lines[1]
    assert "install qkit-comm[braket]" in lines[2]


def test_backend_unavailable_error_is_a_value_error_for_exit_code_2():
    assert issubclass(BackendUnavailableError, ValueError)


# -- Amazon Braket -----------------------------------------------------------------------
@needs_braket
def test_braket_local_samples_a_parameter_batch_with_exact_statistics():
    backend = get_backend("braket:local", seed=0)
    assert (backend.kind, backend.supports_noise_model) == ("braket", False)
    (transpiled,) = backend.transpile([bell_family()])
    thetas = np.array([0.0, 0.7, 2.0])
    job = backend.submit([(transpiled, thetas[:, None]), (transpiled, [1.1])], shots=3000)
    batch, single = job.result()
    counts = list(batch) + [single]
    exact = [exact_probabilities(t) for t in thetas] + [exact_probabilities(1.1)]
    assert chi_square_pvalue(counts, exact) > FALSE_FAILURE
    with pytest.raises(ValueError, match="circuit-mixture"):
        backend.run([(transpiled, [0.1])], shots=10, noise_model=NoiseModel())

    # Re-attaching to the same Braket tasks (what retrieve does with cloud task ids)
    # rebuilds the counts per PUB from the PUBs and shots.
    from qkit.backends._braket import attach_tasks

    pubs = [(transpiled, thetas[:, None]), (transpiled, [1.1])]
    again = Job(
        attach_tasks(backend, job.raw.tasks, pubs, 3000, split=False), backend.name
    ).result()
    assert [list(again[0]), again[1]] == [list(batch), single]


# -- PUBs with their own shots (branch mixtures allocate shots per branch) ----------------
def shot_pubs(backend):
    (transpiled,) = backend.transpile([bell_family()])
    return [
        (transpiled, [[0.0], [1.0]], 1000),
        (transpiled, [0.5], 300),
        (transpiled, None if not transpiled.parameters else [2.0], 900),
        (transpiled, [0.1]),  # the run's default shots
    ]


def assert_shots(counts, expected):
    totals = [
        [sum(c.values()) for c in item] if isinstance(item, np.ndarray) else [sum(item.values())]
        for item in counts
    ]
    assert totals == expected


SHOT_TOTALS = [[1000, 1000], [300], [900], [50]]


def test_aer_takes_different_shots_per_pub_in_one_call():
    backend = get_backend("aer", seed=3)
    assert_shots(backend.run(shot_pubs(backend), shots=50), SHOT_TOTALS)


@pytest.mark.slow
@needs_runtime
@pytest.mark.filterwarnings("ignore:Properties of fake_nighthawk")
def test_ibm_path_splits_pubs_by_shots_into_few_jobs_and_keeps_exact_shot_counts():
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    from qkit.backends._runtime import ibm_backend

    backend = ibm_backend(
        "fake_manila", seed=4, optimization_level=2, service=QiskitRuntimeLocalService()
    )
    pubs = shot_pubs(backend)
    job = backend.submit(pubs, shots=50)
    # groups within 2x of their largest: {1000, 900}, {300}, {50}: three runtime jobs
    assert job.job_id().startswith("qkit-split:") and job.job_id().count(",") == 2
    counts = job.result()
    assert_shots(counts, SHOT_TOTALS)
    assert (counts[0][0].get("00", 0) + counts[0][0].get("11", 0)) / 1000 > 0.9
    again = backend.run(pubs, shots=50)
    assert [list(np.atleast_1d(c)) for c in counts] == [list(np.atleast_1d(c)) for c in again]
    with pytest.raises(ValueError, match="with the pubs and shots"):
        backend.retrieve(job.job_id())


@needs_runtime
def test_fake_devices_run_pubs_with_different_shots_in_one_call():
    backend = get_backend("fake:manila", seed=5)
    job = backend.submit(shot_pubs(backend), shots=50)
    assert "," not in job.job_id()  # one simulator call, each PUB keeps its first shots
    assert_shots(job.result(), SHOT_TOTALS)


@needs_braket
def test_braket_local_runs_pubs_with_different_shots():
    backend = get_backend("braket:local")
    assert_shots(backend.run(shot_pubs(backend), shots=50), SHOT_TOTALS)


# -- durable local jobs ------------------------------------------------------------------
SUBMIT_AND_WAIT = """
import sys
from qiskit import QuantumCircuit
from qkit.backends import get_backend
circuit = QuantumCircuit(2, 2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure([0, 1], [0, 1])
backend = get_backend("aer", seed=9)
job = backend.submit([tuple(backend.transpile([circuit]))], shots=200_000, detach=True)
print(job.job_id(), flush=True)
job.result()  # killed while waiting here
print("not killed", flush=True)
"""


@pytest.mark.slow
def test_a_detached_job_survives_killing_the_submitter_and_is_fetched_once(tmp_path, monkeypatch):
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path))
    submitter = subprocess.Popen(
        [sys.executable, "-c", SUBMIT_AND_WAIT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "QKIT_JOBS_DIR": str(tmp_path)},
    )
    job_id = submitter.stdout.readline().strip()
    backend = get_backend("aer")
    assert backend.retrieve(job_id).status() in ("QUEUED", "RUNNING")  # still mid-wait
    submitter.kill()
    submitter.wait(timeout=30)
    assert submitter.returncode != 0

    counts = backend.retrieve(job_id).result(timeout=120)
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    in_process = backend.run([tuple(backend.transpile([circuit]))], shots=200_000, seed=9)
    assert counts == in_process  # nothing lost, same seeded samples
    assert [p.name for p in tmp_path.iterdir()] == [job_id]  # submitted exactly once
    assert backend.retrieve(job_id).status() == "DONE"


def test_a_detached_job_whose_worker_dies_reports_an_error(tmp_path, monkeypatch):
    import signal

    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path))
    backend = get_backend("aer", seed=1)
    job = backend.submit(
        [tuple(backend.transpile([bell_family()])) + ([0.2],)], shots=10, detach=True
    )
    os.kill(int((tmp_path / job.job_id() / "pid").read_text()), signal.SIGKILL)
    with pytest.raises(RuntimeError, match="worker process died"):
        job.result(timeout=30)
    assert job.status() == "ERROR"
    with pytest.raises(ValueError, match="not a local job id"):
        backend.retrieve("qkit-local-0000")
    with pytest.raises(ValueError, match="no local job"):
        backend.retrieve("qkit-local-" + "0" * 32)
    with pytest.raises(ValueError, match="detach=True"):
        backend.retrieve("some-cloud-id")


@needs_runtime
def test_device_backends_refuse_aer_noise_sites_with_a_pointer_to_mixtures():
    from qkit.noise import noise_site

    circuit = QuantumCircuit(2, 2)
    circuit.append(noise_site("mixup", 2), [0, 1])
    circuit.measure([0, 1], [0, 1])
    with pytest.raises(ValueError, match="circuit-mixture"):
        get_backend("fake:manila").transpile([circuit])


@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_bit_counts_are_qiskits_counts_in_qiskits_order(shape):
    """The vectorized counts of a BitArray: the same bitstrings, counts and dict order as
    ``BitArray.get_counts`` (first occurrence), for 1-69 bits (padding bits ignored; beyond
    64 bits Qiskit's own loop), few and many distinct outcomes, every position and the union."""
    from qiskit.primitives.containers import BitArray

    from qkit.backends._jobs import bit_counts

    rng = np.random.default_rng(len(shape))
    for trial in range(200):
        num_bits, shots = int(rng.integers(1, 70)), int(rng.integers(0, 300))
        array = rng.integers(0, 256, (*shape, shots, (num_bits + 7) // 8), dtype=np.uint8)
        if trial % 2:
            array &= np.uint8(1 + 2 * (trial % 4 == 3))  # few distinct outcomes
        bits = BitArray(array, num_bits)
        for loc in [None, *np.ndindex(shape)] if shape else [None]:
            expected = {str(k): int(v) for k, v in bits.get_counts(loc).items()}
            counts = bit_counts(bits, loc)
            assert counts == expected and list(counts) == list(expected)
