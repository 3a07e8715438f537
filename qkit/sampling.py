"""Sample circuit families with their classical noise on any backend.

The one place where the two realizations of the noise (:mod:`qkit.noise`) meet a backend
(:mod:`qkit.backends`):

- on Aer, each circuit runs as built, its labelled noise sites filled by an Aer noise model;
- elsewhere (fake devices, IBM Quantum, Braket), each circuit is expanded into its fixed,
  noise-free branch circuits and every setting's shots are split over the branches by a
  multinomial draw with the mixture weights, so the pooled counts are distributed exactly as
  under the noise. A new ``S`` or ``eta`` is a new weight vector, never a new circuit.

Either way a circuit family is transpiled once (cached by the backend), measurement settings
are bound as ``Parameter`` values, and everything goes to the backend in one call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit

from qkit import noise
from qkit.backends import Backend

MAX_PUB_SHOTS = 1_000_000
"""Shots (times the PUB's settings) in one PUB. A larger PUB is split into sub-PUBs of at most
this many shots, each its own PUB (its own random stream), whose counts :func:`collect` adds
back together; with the backend's call limit (:data:`qkit.backends._base.MAX_CALL_SHOTS`) the
memory of a run does not grow with its shots."""


def split_shots(shots: int, settings: int = 1, limit: int | None = None) -> list[int]:
    """``shots`` in parts of at most ``limit // settings`` shots (``[shots]`` if it fits);
    ``limit`` defaults to :data:`MAX_PUB_SHOTS`.

    >>> split_shots(2_500_000)
    [1000000, 1000000, 500000]
    >>> split_shots(100, settings=4)
    [100]
    """
    per = max(1, (MAX_PUB_SHOTS if limit is None else limit) // max(1, settings))
    if shots <= per:
        return [shots]
    full, rest = divmod(shots, per)
    return [per] * full + ([rest] if rest else [])


@dataclass
class Family:
    """Circuits sampled together: one entry per circuit, each with ``K`` measurement settings.

    ``settings[i]`` maps parameter *names* to arrays of shape ``(K_i,)`` (empty for an
    unparametrized circuit, ``K_i = 1``).
    """

    name: str
    circuits: list[QuantumCircuit]
    settings: list[Mapping[str, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.settings:
            self.settings = [{} for _ in self.circuits]
        if len(self.settings) != len(self.circuits):
            raise ValueError("one settings mapping per circuit")

    def num_settings(self, index: int) -> int:
        values = list(self.settings[index].values())
        return len(values[0]) if values else 1


@dataclass
class Sampled:
    """Counts per circuit and setting (Qiskit counts dicts), and how they were obtained."""

    counts: list[list[dict[str, int]]]
    realization: str  # "noise-model" or "branch-mixture"
    transpiled: dict[str, list[dict]]  # family name -> transpile stats per executed circuit
    job_ids: list[str] = field(default_factory=list)


def _bindings(circuit: QuantumCircuit, settings: Mapping[str, np.ndarray], k: slice | int):
    by_name = {p.name: p for p in circuit.parameters}
    missing = set(by_name) - set(settings)
    if missing:
        raise ValueError(f"no values for the circuit parameters {sorted(missing)}")
    return {by_name[name]: np.asarray(settings[name])[k] for name in by_name}


def _merge(counts: Sequence[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for key, value in c.items():
            total[key] = total.get(key, 0) + int(value)
    return total


def _as_list(pub_counts, size: int) -> list[dict[str, int]]:
    if isinstance(pub_counts, dict):
        return [pub_counts]
    flat = list(np.asarray(pub_counts, dtype=object).reshape(-1))
    if len(flat) != size:
        raise RuntimeError(f"expected {size} settings from the backend, got {len(flat)}")
    return flat


@dataclass
class Prepared:
    """Everything needed to submit a family and to read its results back, deterministically.

    Rebuilding it from the same family, mixtures, shots and seed gives the same PUBs, which is
    how an interrupted run is analysed later without resubmitting.
    """

    family: Family
    pubs: list[tuple]
    owners: list[tuple[int, int | None]]  # (circuit index, setting index or None = all settings)
    realization: str
    noise_model: object | None
    circuits: list[QuantumCircuit]  # the transpiled circuit of each PUB
    stats: dict[str, list[dict]]
    mixtures: Sequence[noise.MixedUnitary] = ()
    layout: tuple[int, ...] | None = None  # physical qubits of the first virtual qubits


def prepare(
    backend: Backend,
    family: Family,
    mixtures: Sequence[noise.MixedUnitary],
    *,
    shots: int,
    rng: np.random.Generator,
    realization: str | None = None,
    layout: Sequence[int] | None = None,
) -> Prepared:
    """Transpile (once per family) and lay out the PUBs of ``family`` under ``mixtures``.

    ``realization`` is ``"noise-model"`` (Aer only) or ``"branch-mixture"``; by default the
    noise model where the backend takes one. The branch allocation draws from ``rng``.
    ``layout`` puts virtual qubit ``k`` of every circuit on physical qubit ``layout[k]``
    (default: the transpiler's choice).
    """
    if realization not in (None, "noise-model", "branch-mixture"):
        raise ValueError(
            f"realization must be 'noise-model' or 'branch-mixture', got {realization!r}"
        )
    if realization == "noise-model" and not backend.supports_noise_model:
        raise ValueError(
            f"backend {backend.name!r} cannot take a noise model; use 'branch-mixture'"
        )
    if realization is None and backend.supports_noise_model or realization == "noise-model":
        prepared = _prepare_noise_model(backend, family, mixtures, shots, layout)
    else:
        prepared = _prepare_branch_mixture(
            backend, family, mixtures, shots=shots, rng=rng, layout=layout
        )
    prepared.mixtures = mixtures
    prepared.layout = None if layout is None else tuple(layout)
    return prepared


def collect(prepared: Prepared, results: Sequence) -> Sampled:
    """Counts per circuit and setting from the per-PUB results of a submitted :class:`Prepared`."""
    family = prepared.family
    counts: list[list[dict[str, int]]] = [
        [{} for _ in range(family.num_settings(i))] for i in range(len(family.circuits))
    ]
    if len(results) != len(prepared.pubs):
        raise RuntimeError(f"expected {len(prepared.pubs)} PUB results, got {len(results)}")
    for (index, k), result in zip(prepared.owners, results, strict=True):
        if k is None:  # every setting of the circuit (sub-PUBs of one circuit add up)
            settings = _as_list(result, family.num_settings(index))
            counts[index] = [_merge([a, b]) for a, b in zip(counts[index], settings, strict=True)]
        else:
            counts[index][k] = _merge([counts[index][k], *_as_list(result, 1)])
    return Sampled(counts, prepared.realization, prepared.stats)


def _prepare_noise_model(backend, family, mixtures, shots, layout=None) -> Prepared:
    # no family key: a family name (e.g. "mixup") covers different circuits at other (S, a)
    transpiled = backend.transpile(family.circuits, layout=layout)
    pubs: list[tuple] = []
    owners: list[tuple[int, int | None]] = []
    executed: list[QuantumCircuit] = []
    for index, circuit in enumerate(transpiled):
        values = None
        if circuit.parameters:
            values = _bindings(circuit, family.settings[index], slice(None))
        parts = split_shots(shots, family.num_settings(index))
        for part in parts:
            if len(parts) > 1:
                pubs.append((circuit, values, part))
            else:  # as before: the run's shots apply
                pubs.append((circuit, values) if values is not None else (circuit,))
            owners.append((index, None))
            executed.append(circuit)
    model = noise.noise_model(mixtures) if mixtures else None
    stats = {family.name: backend.transpile_stats(transpiled)}
    return Prepared(family, pubs, owners, "noise-model", model, executed, stats)


MAX_BRANCHES = 4096
"""Most branch circuits one circuit may expand into (each is transpiled on its own)."""


def check_branches(circuit: QuantumCircuit, mixtures: Sequence[noise.MixedUnitary]) -> int:
    """The number of branch circuits of ``circuit`` under ``mixtures``, or a one-line
    ``ValueError`` above :data:`MAX_BRANCHES` (before anything is expanded)."""
    terms = {m.label: len(m.weights) for m in mixtures}
    count = 1
    for site in noise.sites(circuit, terms):
        count *= terms[site.label]
        if count > MAX_BRANCHES:
            raise ValueError(
                f"the noise of this circuit has more than {MAX_BRANCHES} branch circuits "
                f"({len(noise.sites(circuit, terms))} noise sites); realize it with a noise "
                "model (aer) or use fewer noise sites"
            )
    return count


def _prepare_branch_mixture(backend, family, mixtures, *, shots, rng, layout=None) -> Prepared:
    pubs: list[tuple] = []
    owners: list[tuple[int, int | None]] = []
    executed: list[QuantumCircuit] = []
    stats: list[dict] = []
    for index, circuit in enumerate(family.circuits):
        if noise.sites(circuit):
            check_branches(circuit, mixtures)
            branches = noise.expand_branches(circuit, mixtures, prune=True)
            weights = noise.branch_weights(circuit, mixtures)
        else:
            branches, weights = [circuit], np.ones(1)
        transpiled = backend.transpile(branches, layout=layout)
        stats.extend(backend.transpile_stats(transpiled))
        for k in range(family.num_settings(index)):
            allocation = noise.allocate_shots(weights, shots, rng)
            for branch, branch_shots in zip(transpiled, allocation, strict=True):
                if branch_shots == 0:
                    continue
                values = _bindings(branch, family.settings[index], k) if branch.parameters else None
                for part in split_shots(int(branch_shots)):
                    pubs.append((branch, values, part))
                    owners.append((index, k))
                    executed.append(branch)
    return Prepared(family, pubs, owners, "branch-mixture", None, executed, {family.name: stats})
