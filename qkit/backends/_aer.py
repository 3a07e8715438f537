"""The default backend: Qiskit Aer's simulator through Aer's ``SamplerV2``."""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2 as AerSampler

from qkit.backends._base import Backend
from qkit.backends._transpile import protect_labelled, restore_labelled


class AerBackend(Backend):
    """``aer``: the exact Aer simulator; noise models are passed per run.

    Transpilation keeps labelled instructions (the noise placeholders of
    :mod:`qkit.noise`) exactly where they are, at any optimization level.
    The sampling seed goes to the sampler's ``seed`` (Aer's ``SamplerV2`` forwards it as
    ``seed_simulator``; putting ``seed_simulator`` in ``run_options`` is the known trap).
    """

    kind = "aer"
    supports_noise_model = True
    native_pub_shots = True

    def __init__(self, *, seed: int | None = None, optimization_level: int = 2):
        super().__init__("aer", AerSimulator(), seed=seed, optimization_level=optimization_level)

    def _transpile_uncached(self, circuits: list[QuantumCircuit]) -> list[QuantumCircuit]:
        protected, originals, target = protect_labelled(circuits, self.device.target)
        transpiled = self._pass_manager(target).run(protected)
        return [restore_labelled(c, originals) for c in transpiled]

    def _submit_raw(self, pubs, shots, noise_model, seed):
        backend_options = {} if noise_model is None else {"noise_model": noise_model}
        sampler = AerSampler(
            default_shots=shots, seed=seed, options={"backend_options": backend_options}
        )
        return sampler.run(pubs, shots=shots)
