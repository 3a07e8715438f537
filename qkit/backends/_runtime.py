"""IBM fake devices (offline, calibrated noise) and IBM Quantum, through qiskit-ibm-runtime.

A fake device is simulated in this process the way the runtime's *local testing mode* does it
(Aer's sampler with the device's noise model, :func:`local_sample`), on the noise of the
qubits a circuit uses only; the same bits for the same seed as the runtime's own sampler, and
on a warm device cache without importing the runtime at all (:mod:`qkit.backends._snapshot`).
With a ``QiskitRuntimeService`` backend the runtime's sampler submits to IBM Quantum, all jobs
of one :class:`RuntimeBackend` grouped in one ``Batch``.

qiskit-ibm-runtime 0.51 deprecated its ``SamplerV2`` for the executor-based sampler with the
same PUB interface; :func:`_sampler_class` is the one line to change at the next deprecation.
"""

from __future__ import annotations

import functools
import re

import numpy as np
from qiskit.primitives.containers import BitArray, DataBin, SamplerPubResult
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.sampler_pub import SamplerPub

from qkit import progress
from qkit.backends import _capabilities
from qkit.backends._base import Backend, BackendUnavailableError, _group_seed
from qkit.backends._jobs import normalized_status

IBM_EXTRA = "install qkit-comm[ibm] (qiskit-ibm-runtime) to use IBM backends"
_CREDENTIALS_HELP = (
    "no IBM Quantum credentials found: save them once with "
    "QiskitRuntimeService.save_account(...) or set QISKIT_IBM_TOKEN "
    "(and QISKIT_IBM_INSTANCE, QISKIT_IBM_CHANNEL) in the environment"
)


def _require_runtime():
    try:
        import qiskit_ibm_runtime
    except ImportError:
        raise BackendUnavailableError(IBM_EXTRA) from None
    return qiskit_ibm_runtime


def _sampler_class():
    """The runtime's current PUB sampler (executor-based since 0.51)."""
    _require_runtime()
    from qiskit_ibm_runtime.executor_sampler import Sampler

    return Sampler


def _require_aer() -> None:
    # The runtime's local mode falls back to a noiseless simulator without Aer.
    from qiskit.utils.optionals import HAS_AER

    if not HAS_AER:
        raise BackendUnavailableError(
            "fake devices need qiskit-aer for their noisy simulation: pip install qiskit-aer"
        )


def _device_name(cls: type) -> str:
    """``fake_sherbrooke`` -> ``sherbrooke`` (the class's own backend name when it has one)."""
    name = getattr(cls, "backend_name", None)
    if not isinstance(name, str):
        name = re.sub(r"V2$", "", cls.__name__[len("Fake") :]).lower()
    return name.removeprefix("fake_")


@functools.cache
def fake_device_classes() -> dict[str, type]:
    """``{"sherbrooke": FakeSherbrooke, ...}`` built from ``qiskit_ibm_runtime.fake_provider``."""
    _require_runtime()
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    classes = {}
    for class_name in dir(fake_provider):
        cls = getattr(fake_provider, class_name)
        if (
            class_name.startswith("Fake")
            and isinstance(cls, type)
            and issubclass(cls, FakeBackendV2)
            and cls is not FakeBackendV2
        ):
            classes[_device_name(cls)] = cls
    return dict(sorted(classes.items()))


class RuntimeBackend(Backend):
    """A device reached through qiskit-ibm-runtime's sampler.

    Use :func:`qkit.backends.get_backend` (``"fake:<device>"`` or ``"ibm:<device>"``). For
    ``kind="ibm"``, ``service`` is a ``QiskitRuntimeService`` (or, for offline tests of
    this same path, a ``QiskitRuntimeLocalService``, whose backends are fake devices).
    """

    def __init__(
        self,
        name: str,
        kind: str,
        device,
        *,
        service=None,
        seed: int | None = None,
        optimization_level: int = 2,
    ):
        super().__init__(name, device, seed=seed, optimization_level=optimization_level)
        self.kind = kind
        self._service = service
        self._mode = None
        self._simulator_mode = kind == "fake"  # Aer with the device model, in this process
        if self._simulator_mode:
            self._local = True
        else:
            from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

            self._local = isinstance(device, FakeBackendV2)
        if self._simulator_mode:
            self.caps = _capabilities.FAKE
        elif self._local:
            self.caps = _capabilities.IBM_LOCAL_TESTING
        else:
            self.caps = _capabilities.CLOUD
        if self._simulator_mode:
            # one simulator call per circuit (see _PerCircuitJobs): each PUB keeps its shots
            self.native_pub_shots = True
        if self._local:
            _require_aer()

    def _execution_mode(self):
        if self._mode is None:
            from qiskit_ibm_runtime import Batch

            self._mode = Batch(backend=self.device)
        return self._mode

    def _submit_raw(self, pubs, shots, noise_model, seed):
        if self._simulator_mode and len(pubs) > 1:
            # The local mode simulates every PUB of one call with the same simulator seed, so
            # the PUBs of a call would draw the same random numbers (identical circuits give
            # identical counts, different ones correlated noise). One call per circuit, each
            # with its own seed derived from ``seed``, keeps PUBs independent as on hardware;
            # the PUBs of one parametrized circuit go as one PUB over their stacked parameter
            # values (Aer seeds each binding on its own), so settings cost no extra calls.
            groups = _stack_by_circuit(pubs)
            jobs = [
                self._sampler_run([pub], pub.shots, None if seed is None else _group_seed(seed, k))
                for k, (pub, _, _) in enumerate(groups)
            ]
            return _PerCircuitJobs(jobs, groups, len(pubs))
        return self._sampler_run(pubs, shots, seed)

    def _restricted_mode(self, pubs):
        """An AerSimulator with the device noise model of the qubits ``pubs`` use, built from
        those qubits' calibration only (:func:`qkit.backends._restrict.device_noise_model`):
        the same outcome distributions as the whole device's model, but a 2-qubit model of a
        156-qubit Heron costs ~0.1 s to build and a call ~0.1 s instead of the 7 s and 20-30 s
        of the full model."""
        from qiskit_aer import AerSimulator

        from qkit.backends._restrict import active_qubits, device_noise_model

        qubits = active_qubits(pub.circuit for pub in pubs)
        if not hasattr(self, "_restricted"):
            self._restricted: dict[frozenset[int], object] = {}
        if qubits not in self._restricted:
            with progress.phase("building the device model"):
                model = device_noise_model(self.device, qubits)
            if model.is_ideal():
                raise BackendUnavailableError(
                    f"{self.name}: the simulator of this fake device has no noise model"
                )
            self._restricted[qubits] = AerSimulator(noise_model=model)
        return self._restricted[qubits]

    def _sampler_run(self, pubs, shots, seed):
        if self._simulator_mode:
            (pub,) = pubs  # one circuit per call (_submit_raw)
            return local_sample(self._restricted_mode(pubs), pub, seed)
        sampler = _sampler_class()(mode=self._execution_mode())
        if self._local and seed is not None:
            sampler.options.simulator.seed_simulator = seed
        return sampler.run(pubs, shots=shots)

    def _retrieve_raw(self, job_id, pubs, shots):
        if self._local:
            return super()._retrieve_raw(job_id, pubs, shots)
        return self._service.job(job_id)

    def close(self) -> None:
        """Close the batch: submitted jobs still run, no new ones are accepted."""
        if self._mode is not None and hasattr(self._mode, "close"):
            self._mode.close()
        self._mode = None


ANGLE_DECIMALS = 5
"""Decimals of ``angle / (pi/2)`` that qiskit-ibm-runtime's local testing mode keeps of every
parameter value before simulating (``SimulatorOptions.angle_decimals``, default 5)."""


def _round_to_clifford(values: np.ndarray) -> np.ndarray:
    return np.round(values / (np.pi / 2), decimals=ANGLE_DECIMALS) * (np.pi / 2)


def local_sample(simulator, pub: SamplerPub, seed: int | None):
    """Sample one PUB on ``simulator`` (an ``AerSimulator`` with the device model) exactly as
    qiskit-ibm-runtime's local testing mode does (its ``run_quantum_program``: Aer's
    ``SamplerV2.from_backend`` with the seed, the parameter values rounded to
    :data:`ANGLE_DECIMALS` decimals of pi/2), without importing the runtime (~1 s) or
    converting the PUB to its executor's program: the same bits for the same seed, which
    ``tests/test_device_runs.py`` checks against the runtime's sampler. Returns Aer's job."""
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    circuit = pub.circuit
    bindings = None
    if circuit.num_parameters:
        parameters = tuple(circuit.parameters)
        values = _round_to_clifford(pub.parameter_values.as_array(parameters))
        bindings = BindingsArray({parameters: values})
    sampler = AerSampler.from_backend(simulator, seed=seed)
    return sampler.run([SamplerPub(circuit, bindings, shots=pub.shots)])


def _stack_by_circuit(pubs: list[SamplerPub]) -> list[tuple[SamplerPub, list[int], list | None]]:
    """Group PUBs by circuit: ``(pub to run, indices of the PUBs it serves, their shots)``.

    PUBs of one parametrized circuit with one binding each become one PUB with the bindings
    stacked, run at the largest of their shots (each keeps its first shots); others stay as
    they are (shots ``None``).
    """
    members: dict[object, list[int]] = {}
    for index, pub in enumerate(pubs):
        stackable = pub.circuit.num_parameters > 0 and pub.parameter_values.shape == ()
        members.setdefault(id(pub.circuit) if stackable else ("alone", index), []).append(index)
    groups: list[tuple[SamplerPub, list[int], list | None]] = []
    for indices in members.values():
        if len(indices) == 1:
            groups.append((pubs[indices[0]], indices, None))
            continue
        circuit = pubs[indices[0]].circuit
        parameters = tuple(circuit.parameters)
        values = np.stack([pubs[i].parameter_values.as_array(parameters) for i in indices])
        shots = [pubs[i].shots for i in indices]
        stacked = SamplerPub(circuit, BindingsArray({parameters: values}), shots=max(shots))
        groups.append((stacked, indices, shots))
    return groups


class _PerCircuitJobs:
    """The local-mode jobs of one submission, one per circuit (a raw job for ``Job``)."""

    def __init__(self, jobs, groups, num_pubs: int):
        self.jobs = list(jobs)
        self.groups = groups
        self.num_pubs = num_pubs

    def job_id(self) -> str:
        # local jobs cannot be retrieved by id; name the first and count the others
        return f"{self.jobs[0].job_id()}+{len(self.jobs) - 1}"

    def status(self) -> str:
        statuses = {normalized_status(job) for job in self.jobs}
        for word in ("ERROR", "CANCELLED", "RUNNING", "QUEUED"):
            if word in statuses:
                return word
        return "DONE"

    def cancel(self) -> None:
        for job in self.jobs:
            job.cancel()

    def result(self) -> list:
        out: list = [None] * self.num_pubs
        for job, (_, indices, shots) in progress.each(
            zip(self.jobs, self.groups, strict=True), "simulating", len(self.jobs), "circuits"
        ):
            result = job.result()[0]
            if shots is None:
                out[indices[0]] = result
                continue
            for position, (index, pub_shots) in enumerate(zip(indices, shots, strict=True)):
                data = {
                    name: _first_shots(result.data[name][position], pub_shots)
                    for name in result.data
                }
                out[index] = SamplerPubResult(DataBin(**data, shape=()), metadata=result.metadata)
        return out


def _first_shots(bits: BitArray, shots: int) -> BitArray:
    """The first ``shots`` shots of ``bits`` (``bits.slice_shots(range(shots))``, which checks
    every index in Python: 8 ms for 4000 shots, and a stacked PUB has many bindings)."""
    if shots >= bits.num_shots:
        return bits
    return BitArray(bits.array[..., :shots, :], bits.num_bits)


def fake_backend(device: str, *, seed: int | None, optimization_level: int) -> RuntimeBackend:
    """``fake:<device>``: from the device cache when an earlier run kept its target
    (:mod:`qkit.backends._snapshot`), else from the runtime's snapshot files
    (:mod:`qkit.backends._fake_files`), neither importing qiskit-ibm-runtime; else built by
    qiskit-ibm-runtime."""
    from qkit.backends import _snapshot

    key = device.lower().removeprefix("fake_")

    def load():
        return fake_device_classes()[key]()

    # the device cache, else the runtime's snapshot files read directly (the first run)
    cached = _snapshot.cached_device(key, load) or _snapshot.device_from_files(key, load)
    if cached is not None:
        return RuntimeBackend(
            f"fake:{key}", "fake", cached, seed=seed, optimization_level=optimization_level
        )
    with progress.phase("loading the fake devices", announce=False):  # before the name check
        classes = fake_device_classes()
    if key not in classes:
        raise ValueError(
            f"unknown fake device {device!r}; `fake:list` lists them (e.g. sherbrooke, manila)"
        )
    backend = RuntimeBackend(
        f"fake:{key}", "fake", classes[key](), seed=seed, optimization_level=optimization_level
    )
    _snapshot.remember_files(classes)
    _snapshot.remember_device(key, backend.device)
    return backend


def ibm_backend(
    device: str, *, seed: int | None, optimization_level: int, service=None
) -> RuntimeBackend:
    """``ibm:<device>`` from the saved account or ``QISKIT_IBM_*`` environment variables."""
    _require_runtime()
    if service is None:
        from qiskit_ibm_runtime import QiskitRuntimeService
        from qiskit_ibm_runtime.accounts import AccountNotFoundError

        try:
            service = QiskitRuntimeService()
        except AccountNotFoundError:
            raise BackendUnavailableError(_CREDENTIALS_HELP) from None
        except Exception as exc:  # noqa: BLE001 - the runtime raises many types; keep one line
            raise BackendUnavailableError(
                f"cannot connect to IBM Quantum ({type(exc).__name__}); check your saved "
                "account or QISKIT_IBM_* variables and the network"
            ) from None
    try:
        device_backend = service.backend(device)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(
            f"IBM backend {device!r} is not available ({type(exc).__name__})"
        ) from None
    return RuntimeBackend(
        f"ibm:{device}",
        "ibm",
        device_backend,
        service=service,
        seed=seed,
        optimization_level=optimization_level,
    )
