"""The default backend: Qiskit Aer's simulator through Aer's ``SamplerV2``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2 as AerSampler

from qkit import progress
from qkit.backends import _capabilities
from qkit.backends._base import Backend
from qkit.backends._transpile import protect_labelled, restore_labelled
from qkit.bits import measurements


class AerBackend(Backend):
    """``aer``: the exact Aer simulator; noise models are passed per run.

    Transpilation keeps labelled instructions (the noise placeholders of
    :mod:`qkit.noise`) exactly where they are, at any optimization level.
    The sampling seed goes to the sampler's ``seed`` (Aer's ``SamplerV2`` forwards it as
    ``seed_simulator``; putting ``seed_simulator`` in ``run_options`` is the known trap).

    Exact outcome probabilities and states (``caps.exact``) come from ``AerSimulator.run``
    with saved probabilities or density matrices: the ``SamplerV2`` primitive returns
    measured bits only.
    """

    kind = "aer"
    caps = _capabilities.AER
    # Aer's SamplerV2 seeds each group of PUBs with equal shots from the one seed it is given
    # (circuit j of a group: seed + j), so PUBs of different groups would share random
    # streams. One sampler call per distinct shot count, each with its own derived seed
    # (Backend.submit), keeps every PUB and binding on an independent stream.
    native_pub_shots = False
    split_waste = 1.0
    persist_transpilations = False  # transpiling for Aer is cheaper than reading QPY back

    def device_cache(self):
        """Aer has no calibration to cache (:mod:`qkit.backends._cache`)."""
        return None

    def __init__(self, *, seed: int | None = None, optimization_level: int = 2):
        # One simulator thread: on qkit's few-qubit circuits Aer's OpenMP threads cost 0.4-0.9 s
        # a call against 0.05-0.09 s, and the samples are the same (benchmarks/README.md).
        device = AerSimulator(max_parallel_threads=1)
        super().__init__("aer", device, seed=seed, optimization_level=optimization_level)

    def _transpile_uncached(self, circuits: list[QuantumCircuit]) -> list[QuantumCircuit]:
        # Aer runs every instruction of its target as it is (standard gates, unitaries, qkit's
        # qerror_loc noise sites): circuits made only of those need no pass manager, whose
        # construction alone costs seconds (it loads every installed transpiler plugin).
        runnable = set(self.device.target.operation_names) | {"barrier", "measure", "delay"}
        if all(i.operation.name in runnable for c in circuits for i in c.data):
            return [c.copy() for c in circuits]
        protected, originals, target = protect_labelled(circuits, self.device.target)
        with progress.phase("transpiling"):
            transpiled = self._pass_manager(target).run(protected)
        return [restore_labelled(c, originals) for c in transpiled]

    def _submit_raw(self, pubs, shots, noise_model, seed):
        backend_options: dict = {"max_parallel_threads": 1}
        if noise_model is not None:
            backend_options["noise_model"] = noise_model
        sampler = AerSampler(
            default_shots=shots, seed=seed, options={"backend_options": backend_options}
        )
        return sampler.run(pubs, shots=shots)

    # -- exact outcome probabilities and states --------------------------------------------
    def probabilities(self, circuit: QuantumCircuit, binds: dict | None = None) -> np.ndarray:
        saving = _probability_circuit(circuit)
        return self._saved(saving, "p", binds)

    def density_matrices(
        self, circuit: QuantumCircuit, qubits: Sequence[int], binds: dict | None = None
    ) -> np.ndarray:
        saving = circuit.copy()
        saving.save_density_matrix(list(qubits), label="rho")
        return self._saved(saving, "rho", binds)

    def _saved(self, circuit: QuantumCircuit, label: str, binds: dict | None) -> np.ndarray:
        """Run one circuit with a save instruction (transpiled once per structure)."""
        (transpiled,) = self.transpile([circuit])
        parameter_binds = None
        options = {}
        if transpiled.parameters:
            if not binds:
                raise ValueError("values are needed for the circuit's parameters")
            by_name = {p.name: values for p, values in binds.items()}
            missing = {p.name for p in transpiled.parameters} - set(by_name)
            if missing:
                raise ValueError(f"no values for the circuit parameters {sorted(missing)}")
            parameter_binds = [
                {
                    p: np.atleast_1d(np.asarray(by_name[p.name], dtype=float))
                    for p in transpiled.parameters
                }
            ]
            options["runtime_parameter_bind_enable"] = True  # binds in C++: 2x faster
        result = self.device.run(
            [transpiled],
            parameter_binds=parameter_binds,
            shots=1,
            method="statevector",
            seed_simulator=0,
            **options,
        ).result()
        if not result.success:
            raise RuntimeError(f"Aer failed: {result.status}")
        return np.array([np.asarray(result.data(i)[label]) for i in range(len(result.results))])


def _probability_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with its terminal measurements replaced by ``save_probabilities``.

    Outcome ``k`` of the saved vector is the Qiskit integer of the clbits (clbit 0 least
    significant), as :func:`qkit.noise.outcome_distribution`.
    """
    try:
        out, measured = measurements(circuit)
    except ValueError as exc:
        raise ValueError(f"exact probabilities need final measurements: {exc}") from None
    out.save_probabilities(measured, label="p")
    return out
