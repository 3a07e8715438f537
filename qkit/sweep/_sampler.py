"""The ``sampler`` engine: every shot sampled by the backend, many points per call.

Works on every backend through :func:`qkit.sampling.prepare`: circuit families with
``Parameter``s are transpiled once (the backend caches them by family), all bindings of a
group of points go in one PUB (Aer noise model) or one PUB per branch row with its
multinomial share of the shots (branch mixtures), and all groups that need no noise model
share one backend call. A noise model is one per mixture weight, so on Aer each distinct
``S`` or ``eta`` of a block is its own call.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from qkit import noise
from qkit.backends import Backend
from qkit.sampling import Family, Sampled, collect, prepare

# Transpilation caches of a backend are not meant for concurrent writers (Dask threads).
_PREPARE_LOCK = threading.Lock()


def sample_groups(
    backend: Backend,
    groups: Sequence[tuple[Family, list[noise.MixedUnitary]]],
    *,
    shots: int,
    seeds: Sequence[int],
    realization: str | None,
) -> list[Sampled]:
    """Sample each ``(family, mixtures)`` group with ``shots`` per setting; one seed per group.

    The seed of a group fixes its branch allocation; the simulator seed of a call is the
    seed of its first group.
    """
    with _PREPARE_LOCK:
        prepared = [
            prepare(backend, family, mixtures, shots=shots, seed=int(seed), realization=realization)
            for (family, mixtures), seed in zip(groups, seeds, strict=True)
        ]
    if any(p.noise_model is not None for p in prepared):
        return [
            collect(p, backend.run(p.pubs, shots=shots, noise_model=p.noise_model, seed=int(s)))
            for p, s in zip(prepared, seeds, strict=True)
        ]
    pubs = [pub for p in prepared for pub in p.pubs]
    results = backend.run(pubs, shots=shots, seed=int(seeds[0]))
    bounds = np.cumsum([0] + [len(p.pubs) for p in prepared])
    return [collect(p, results[bounds[k] : bounds[k + 1]]) for k, p in enumerate(prepared)]
