"""Paper B sweeps: the optimal ensemble through the correlated-noise channel over an ``eta`` grid.

Each point is the experiment of :mod:`qkit.channel.experiment` at ``(alphabet, inputs, eta)``:
every letter of the optimal ensemble sent in ``shots`` shots, the mutual information between
letter and receiver outcome estimated with the known prior (Miller-Madow corrected, bootstrap
interval), beside the exact Holevo quantity (``chi_2`` for the pair alphabet, Eqs. 25-32; the
capacity ``log2(3 + 2^chi_2)`` for the two-slot alphabet, Eq. 8). One circuit family per
alphabet and inputs; ``eta`` only changes the depolarization weights.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit import estimators
from qkit._validate import check_eta, check_inputs
from qkit.backends import Backend
from qkit.channel import circuits, experiment
from qkit.sampling import Family
from qkit.sweep import _exact, _sampler
from qkit.sweep.grid import (
    DEFAULT_CHUNK,
    STREAM_BOOTSTRAP,
    STREAM_COUNTS,
    STREAM_SAMPLER,
    SweepSpec,
    blocks,
    check_common,
    parse_choices,
)

KIND = "channel"
COLUMNS = (
    "point",
    "alphabet",
    "inputs",
    "eta",
    "predicted_holevo",
    "mutual_information",
    "mutual_information_ci_low",
    "mutual_information_ci_high",
    "mutual_information_at_boundary",
)
"""Columns of a channel sweep table, in order."""


def channel_spec(
    eta: ArrayLike,
    inputs: str | tuple[str, ...] = ("entangled", "separable"),
    alphabet: str | tuple[str, ...] = "pair",
    *,
    shots: int = 4000,
    seed: int = 0,
    backend: str = "aer",
    engine: str = "auto",
    realization: str | None = None,
    intervals: str = "bootstrap",
    n_boot: int = 200,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
) -> SweepSpec:
    """The validated specification of a channel sweep over ``alphabet x inputs x eta``.

    ``shots`` is per letter. ``inputs`` and ``alphabet`` are names or comma lists.

    >>> spec = channel_spec([0.0, 1.0], "entangled,separable", seed=1)
    >>> spec.shape
    (1, 2, 2)
    """
    eta = tuple(float(e) for e in np.atleast_1d(check_eta(eta)))
    inputs = parse_choices(inputs, "inputs", ("entangled", "separable"))
    alphabet = parse_choices(alphabet, "alphabet", experiment.ALPHABETS)
    engine = check_common(
        shots=shots,
        seed=seed,
        engine=engine,
        backend=backend,
        intervals=intervals,
        n_boot=n_boot,
        confidence=confidence,
        chunk_size=chunk_size,
        realization=realization,
    )
    return SweepSpec(
        kind=KIND,
        axes=(("alphabet", alphabet), ("inputs", inputs), ("eta", eta)),
        shots=int(shots),
        seed=int(seed),
        backend=backend,
        engine=engine,
        realization=realization,
        intervals=intervals,
        n_boot=int(n_boot),
        confidence=float(confidence),
        chunk_size=int(chunk_size),
    )


def point_rng(seed: int, stream: int, point: int) -> np.random.Generator:
    """The generator of one point's ``stream`` (channel sweeps have few, costly points)."""
    return np.random.default_rng([int(seed), int(stream), int(point), 1])


_FAMILIES: dict[tuple[str, str], Family] = {}


def _family(alphabet: str, inputs: str) -> Family:
    key = (alphabet, check_inputs(inputs))
    if key not in _FAMILIES:
        labels = experiment.ensemble(1.0, inputs, alphabet)["labels"]
        letters = experiment.letter_circuits(labels, alphabet)
        _FAMILIES[key] = Family(f"sweep-channel-{alphabet}-{inputs}", letters.circuits)
    return _FAMILIES[key]


def _to_array(alphabet: str):
    return circuits.singlet_triplet_counts if alphabet == "pair" else circuits.receiver_counts


def _outcome_map(alphabet: str, num_clbits: int) -> np.ndarray:
    """Matrix (2**clbits, outcomes): Qiskit outcome integer -> the experiment's outcome."""
    to_array = _to_array(alphabet)
    return np.array([to_array({format(k, f"0{num_clbits}b"): 1}) for k in range(2**num_clbits)])


def outcome_probabilities(backend: Backend, alphabet: str, inputs: str, eta: float) -> np.ndarray:
    """Exact ``P(outcome | letter)`` at ``eta``, shape (letters, outcomes), from the circuits.

    Every branch of the fibre's mixtures (24 Clifford pairs x 4 Paulis) is simulated once per
    letter; ``eta`` enters only through the branch weights.
    """
    family = _family(alphabet, inputs)
    mixtures = circuits.channel_mixtures(eta)
    rows = []
    for index, circuit in enumerate(family.circuits):
        per_branch = _exact.branch_probabilities(
            backend, circuit, mixtures, key=f"{family.name}:{index}"
        )
        p = _exact.mixture_weights(circuit, mixtures) @ per_branch
        rows.append(p @ _outcome_map(alphabet, circuit.num_clbits))
    q = np.clip(np.array(rows), 0.0, None)
    return q / q.sum(axis=-1, keepdims=True)


def counts(spec: SweepSpec, backend: Backend, indices: range) -> list[np.ndarray]:
    """Counts (letters, outcomes) of each point in ``indices``."""
    values = spec.values(indices)
    points = list(zip(values["alphabet"], values["inputs"], values["eta"], strict=True))
    if spec.engine == "exact":
        return [
            point_rng(spec.seed, STREAM_COUNTS, i).multinomial(
                spec.shots, outcome_probabilities(backend, str(alph), str(inp), float(eta))
            )
            for i, (alph, inp, eta) in zip(indices, points, strict=True)
        ]
    out: list[np.ndarray] = []
    for _, part in blocks(indices):
        chosen = list(zip(indices[part], points[part], strict=True))
        groups = [
            (_family(str(alph), str(inp)), circuits.channel_mixtures(float(eta)))
            for _, (alph, inp, eta) in chosen
        ]
        seeds = [int(point_rng(spec.seed, STREAM_SAMPLER, i).integers(2**31)) for i, _ in chosen]
        sampled = _sampler.sample_groups(
            backend, groups, shots=spec.shots, seeds=seeds, realization=spec.realization
        )
        for (_, (alph, _, _)), result in zip(chosen, sampled, strict=True):
            to_array = _to_array(str(alph))
            out.append(np.array([to_array(c[0]) for c in result.counts]))
    return out


def compute(spec: SweepSpec, backend: Backend, indices: range) -> dict[str, np.ndarray]:
    """Table columns of the points ``indices`` (a chunk)."""
    values = spec.values(indices)
    counts_ = counts(spec, backend, indices)
    n = len(indices)
    predicted, value, low, high, edge = (np.empty(n) for _ in range(5))
    edge = np.zeros(n, dtype=bool)
    for k, (i, alph, inp, eta) in enumerate(
        zip(indices, values["alphabet"], values["inputs"], values["eta"], strict=True)
    ):
        ens = experiment.ensemble(float(eta), str(inp), str(alph))
        predicted[k] = ens["holevo"]
        mi = estimators.mutual_information(
            counts_[k],
            ens["prior"],
            confidence=spec.confidence,
            n_boot=spec.n_boot if spec.intervals == "bootstrap" else 10,
            rng=point_rng(spec.seed, STREAM_BOOTSTRAP, i),
        )
        value[k] = mi.value
        if spec.intervals == "bootstrap":
            low[k], high[k], edge[k] = mi.ci_low, mi.ci_high, bool(mi.at_boundary)
        else:  # the point estimate does not depend on the resampling (Miller-Madow)
            low[k] = high[k] = np.nan
            edge[k] = value[k] <= 1e-12
    return {
        "point": np.asarray(indices, dtype=np.int64),
        "alphabet": np.asarray(values["alphabet"], dtype=str),
        "inputs": np.asarray(values["inputs"], dtype=str),
        "eta": np.asarray(values["eta"], dtype=float),
        "predicted_holevo": predicted,
        "mutual_information": value,
        "mutual_information_ci_low": low,
        "mutual_information_ci_high": high,
        "mutual_information_at_boundary": edge,
    }
