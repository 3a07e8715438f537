"""Realization 1: an Aer noise model applying each mixture at the sites with its label.

For simulators. Circuits keep their sites, at every transpiler optimization level; changing a
weight (``S``, ``eta``) changes only the noise model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qiskit_aer.noise import NoiseModel

from qkit.noise.mixtures import MixedUnitary


def noise_model(
    mixtures: Iterable[MixedUnitary], basis_gates: Sequence[str] | None = None
) -> NoiseModel:
    """Aer ``NoiseModel`` applying each mixture's error at every site with its label.

    Use with ``AerSimulator(noise_model=...)`` or ``qiskit_aer.primitives.SamplerV2`` (see
    :func:`aer_sampler_options`). Circuits may be run as built or transpiled at any level:
    the sites survive.
    """
    model = NoiseModel(basis_gates=None if basis_gates is None else list(basis_gates))
    seen = set()
    for mixture in mixtures:
        if mixture.label in seen:
            raise ValueError(f"duplicate mixture label {mixture.label!r}")
        seen.add(mixture.label)
        model.add_all_qubit_quantum_error(mixture.quantum_error(), mixture.label)
    return model


def aer_sampler_options(
    mixtures: Iterable[MixedUnitary], *, method: str = "automatic", seed: int | None = None
) -> dict:
    """``options`` for ``qiskit_aer.primitives.SamplerV2`` with the noise model of ``mixtures``.

    The seed goes in ``backend_options`` (Aer's SamplerV2 rejects it as a run option).
    """
    backend_options = {"noise_model": noise_model(mixtures), "method": method}
    if seed is not None:
        backend_options["seed_simulator"] = int(seed)
    return {"backend_options": backend_options}
