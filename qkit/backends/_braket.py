"""Amazon Braket through qiskit-braket-provider: the local simulator and devices by ARN.

PUBs go through the provider's own ``BraketSampler`` (a ``BaseSamplerV2`` that sends all
PUBs as one Braket program set), falling back to ``qiskit.primitives.BackendSamplerV2`` for
devices without program-set support. Aer noise models do not translate to Braket: the
experiments use the circuit-mixture realization of the noise there.

The Braket local simulator draws from an unseeded generator, so ``braket:local`` counts are
not reproducible by seed (the seed still fixes the transpiled layout).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from qiskit.primitives.containers.sampler_pub import SamplerPub

from qkit import _checks as options
from qkit.backends import _capabilities
from qkit.backends._base import Backend, BackendUnavailableError

BRAKET_EXTRA = "install qkit-comm[braket] (qiskit-braket-provider) to use Amazon Braket backends"
# The local simulator drops the global phase of some controlled gates (``ctrl @ rz(-pi)`` on
# qubits (1, 3) acts as a controlled phase, on (0, 1) correctly: amazon-braket-default-simulator
# as of 2026-11), which the channel's two-slot circuits hit after transpiling to its full gate
# set. Its circuits are transpiled to CX and single-qubit gates, which it runs correctly.
_LOCAL_BASIS = ["cx", "rz", "sx", "x"]
_TASK_ID_DIVIDER = ";"  # how qiskit-braket-provider joins the task ids of one primitive job


def _require_braket():
    try:
        import qiskit_braket_provider
    except ImportError:
        raise BackendUnavailableError(BRAKET_EXTRA) from None
    return qiskit_braket_provider


class BraketBackend(Backend):
    """``braket:local`` or ``braket:<device ARN>``."""

    kind = "braket"

    def __init__(self, device_name: str, *, seed: int | None = None, optimization_level: int = 2):
        provider = _require_braket()
        if device_name == "local":
            device = provider.BraketLocalBackend()
            # The local simulator warns on stderr, once per circuit, that the OpenQASM the
            # provider generates "may not be supported on QPUs": noise for a simulator run.
            logging.getLogger("braket.default_simulator.openqasm.interpreter").setLevel(
                logging.ERROR
            )
        else:
            try:
                device = provider.BraketAwsBackend(arn=device_name)
            except Exception as exc:  # noqa: BLE001 - boto/AWS raise many types; keep one line
                raise BackendUnavailableError(
                    f"cannot reach Braket device {device_name!r} ({type(exc).__name__}); "
                    "configure AWS credentials (aws configure / AWS_* variables) and region"
                ) from None
        super().__init__(
            f"braket:{device_name}", device, seed=seed, optimization_level=optimization_level
        )
        self._program_sets = getattr(device, "_max_program_set_executables", None) is not None
        if device_name == "local":
            self.caps = _capabilities.BRAKET_LOCAL
        else:  # a device without program sets cannot re-attach to its jobs by id
            self.caps = replace(_capabilities.CLOUD, retrievable=self._program_sets)
        if device_name == "local":
            self.split_waste = float("inf")  # simulated shots are cheap: one call

    def _build_pass_manager(self, target, initial_layout=None):
        if self.name != "braket:local":
            return super()._build_pass_manager(target, initial_layout)
        from qiskit.transpiler import generate_preset_pass_manager

        from qkit.backends._base import DEFAULT_TRANSPILER_SEED

        return generate_preset_pass_manager(
            optimization_level=self.optimization_level,
            basis_gates=_LOCAL_BASIS,
            seed_transpiler=DEFAULT_TRANSPILER_SEED if self.seed is None else self.seed,
        )

    def _sampler(self):
        if self._program_sets:
            from qiskit_braket_provider import BraketSampler

            return BraketSampler(self.device)
        from qiskit.primitives import BackendSamplerV2

        return BackendSamplerV2(backend=self.device)

    def _submit_raw(self, pubs, shots, noise_model, seed):
        return self._sampler().run(pubs, shots=shots)

    def _retrieve_raw(self, job_id, pubs, shots):
        """Braket tasks by id; Braket does not keep the PUBs, so they are needed to turn
        the task results back into counts per PUB."""
        if not self.caps.retrievable:
            return super()._retrieve_raw(job_id, pubs, shots)
        if pubs is None:
            raise ValueError(
                "retrieving a Braket job needs the pubs and shots it was submitted with"
            )
        from braket.aws import AwsQuantumTask

        tasks = [AwsQuantumTask(arn=task_id) for task_id in job_id.split(_TASK_ID_DIVIDER)]
        return attach_tasks(self, tasks, pubs, shots, split=True)


def attach_tasks(backend: BraketBackend, tasks, pubs, shots: int, *, split: bool):
    """The primitive job over existing Braket tasks, rebuilding the sampler's result translation.

    ``pubs`` and ``shots`` as given to one sampler call.
    """
    from braket.program_sets import ProgramSet
    from qiskit_braket_provider import BraketSampler
    from qiskit_braket_provider.providers.braket_primitive_task import BraketPrimitiveTask
    from qiskit_braket_provider.providers.braket_sampler import _JobMetadata

    shots = options.check_shots(shots)
    sampler = BraketSampler(backend.device)
    coerced = [
        SamplerPub.coerce(pub if isinstance(pub, SamplerPub) else tuple(pub), shots) for pub in pubs
    ]
    translated = [sampler._translate_pub(pub) for pub in coerced]
    program_set = ProgramSet([t[0] for t in translated], shots_per_executable=shots)
    index_map = program_set.split(backend.device._max_program_set_executables)[1] if split else None
    metadata = _JobMetadata(pubs=coerced, parameter_indices=[t[1] for t in translated], shots=shots)
    return BraketPrimitiveTask(
        list(tasks),
        lambda result: BraketSampler._translate_result(result, metadata),
        program_set,
        index_map,
    )
