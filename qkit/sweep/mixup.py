"""Paper A sweeps: the delivered pair measured over an ``(S, a)`` grid.

Each point is the experiment of :mod:`qkit.mixup.experiment`: 4 CHSH settings (optimal for
the predicted state ``M[psi_a]``) and the 9 Pauli settings, ``shots`` shots each; the table
row holds the point, the exact predictions (Eqs. 3.2, 3.3, ``E_F``, Horodecki CHSH) and the
estimates (CHSH with its binomial standard error, tomographic concurrence, ``E_F`` and
fidelity with bootstrap intervals).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from qiskit.circuit import Parameter

from qkit import estimators, measures, noise
from qkit._validate import check_amplitude, check_success
from qkit.backends import Backend
from qkit.mixup import circuits, theory
from qkit.sampling import Family
from qkit.sweep import _exact, _sampler
from qkit.sweep.grid import (
    DEFAULT_CHUNK,
    STREAM_BOOTSTRAP,
    STREAM_COUNTS,
    STREAM_SAMPLER,
    SweepSpec,
    block_rng,
    blocks,
    check_common,
)

KIND = "mixup"
NUM_SETTINGS = 13  # 4 CHSH, then the 9 Pauli settings (qkit.mixup.experiment order)
_QUANTITIES = ("concurrence", "eof", "fidelity")
COLUMNS = (
    "point",
    "success",
    "amplitude",
    "predicted_fidelity",
    "predicted_concurrence",
    "predicted_eof",
    "predicted_chsh",
    "chsh",
    "chsh_stderr",
    *(
        f"{q}{suffix}"
        for q in _QUANTITIES
        for suffix in ("", "_ci_low", "_ci_high", "_at_boundary")
    ),
)
"""Columns of a mix-up sweep table, in order (``point`` is the grid index)."""


def mixup_spec(
    success: ArrayLike,
    amplitude: ArrayLike,
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
    """The validated specification of a mix-up sweep over ``success x amplitude``.

    ``engine="auto"`` is ``"exact"`` on Aer (outcome probabilities from the simulator, counts
    drawn multinomially: :mod:`qkit.sweep._exact`) and ``"sampler"`` elsewhere (every shot
    sampled by the backend, noise as branch mixtures on devices).

    >>> spec = mixup_spec([0.5, 1.0], [0.6], shots=100, seed=1)
    >>> spec.num_points, spec.engine
    (2, 'exact')
    """
    success = tuple(float(s) for s in np.atleast_1d(check_success(success)))
    amplitude = tuple(float(a) for a in np.atleast_1d(check_amplitude(amplitude)))
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
        axes=(("success", success), ("amplitude", amplitude)),
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


def optimal_chsh_directions(rho: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Directions of A and B for the 4 CHSH settings of states (n, 4, 4), each (n, 4, 3).

    :func:`qkit.measures.optimal_chsh_settings` vectorized (same construction, same
    fallbacks), in the order of :data:`qkit.mixup.circuits.CHSH_SETTINGS`.
    """
    t = measures.correlation_matrix(rho)
    m, vecs = np.linalg.eigh(np.swapaxes(t, -1, -2) @ t)
    e1, e2 = vecs[..., :, 2], vecs[..., :, 1]
    m1, m2 = np.maximum(m[..., 2], 0.0), np.maximum(m[..., 1], 0.0)
    theta = np.arctan2(np.sqrt(m2), np.sqrt(m1))[..., None]
    b = np.cos(theta) * e1 + np.sin(theta) * e2
    b_prime = np.cos(theta) * e1 - np.sin(theta) * e2
    a = _unit_or(np.einsum("...ij,...j->...i", t, e1), e1)
    cross = np.cross(a, e1)
    fallback = np.where(np.linalg.norm(cross, axis=-1, keepdims=True) > 1e-12, cross, e2)
    a_prime = _unit_or(np.einsum("...ij,...j->...i", t, e2), fallback)
    return np.stack([a, a, a_prime, a_prime], axis=-2), np.stack([b, b_prime, b, b_prime], -2)


def _unit_or(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    safe = np.where(norm > 1e-12, norm, 1.0)
    return np.where(norm > 1e-12, v / safe, fallback / np.linalg.norm(fallback, axis=-1)[..., None])


def setting_directions(success: np.ndarray, amplitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Directions of A and B for the 13 settings of each point, each (n, 13, 3).

    CHSH settings optimal for the predicted state (as :mod:`qkit.mixup.experiment`), then
    the Pauli settings XX, XY, ..., ZZ.
    """
    chsh_a, chsh_b = optimal_chsh_directions(theory.state(success, amplitude))
    tomo_a, tomo_b = circuits.tomography_directions()
    n = len(success)
    return (
        np.concatenate([chsh_a, np.broadcast_to(tomo_a, (n, 9, 3))], axis=1),
        np.concatenate([chsh_b, np.broadcast_to(tomo_b, (n, 9, 3))], axis=1),
    )


def swap_weights(success: np.ndarray) -> np.ndarray:
    """Weights (n, 2) of the branches [intact, failure]: ``noise.swap_mixture(S).weights``.

    Written out (``[S, 1 - S]``) because building a mixture per point costs ~0.3 ms;
    ``tests/test_sweep.py`` holds the two equal.
    """
    return np.stack([success, 1.0 - success], axis=-1)


def counts(spec: SweepSpec, backend: Backend, indices: range) -> np.ndarray:
    """Counts (n, 13, 4) of the points ``indices`` (qkit outcome order ``2 bA + bB``)."""
    values = spec.values(indices)
    success, amplitude = values["success"], values["amplitude"]
    dirs_a, dirs_b = setting_directions(success, amplitude)
    if spec.engine == "exact":
        return _exact_counts(spec, backend, indices, success, amplitude, dirs_a, dirs_b)
    return _sampled_counts(spec, backend, indices, success, amplitude, dirs_a, dirs_b)


def _exact_counts(spec, backend, indices, success, amplitude, dirs_a, dirs_b) -> np.ndarray:
    branch_states = _exact.pair_branch_states(backend, amplitude)  # (n, 2, 4, 4)
    rho = np.einsum("nb,nbij->nij", swap_weights(success), branch_states)
    probabilities = _exact.born_probabilities(rho, dirs_a, dirs_b)
    out = np.empty(probabilities.shape, dtype=np.int64)
    for block, part in blocks(indices):
        out[part] = block_rng(spec.seed, STREAM_COUNTS, block).multinomial(
            spec.shots, probabilities[part]
        )
    return out


_MEASURED = None


def _measured_circuit():
    global _MEASURED
    if _MEASURED is None:
        pair = circuits.delivered_pair_circuit(Parameter("amplitude"))
        _MEASURED = circuits.measure_directions(pair)
    return _MEASURED


def _sampled_counts(spec, backend, indices, success, amplitude, dirs_a, dirs_b) -> np.ndarray:
    theta_a, phi_a = circuits.direction_angles(dirs_a)
    theta_b, phi_b = circuits.direction_angles(dirs_b)
    angles = dict(zip(circuits.SETTING_NAMES, (theta_a, phi_a, theta_b, phi_b), strict=True))
    out = np.empty((len(indices), NUM_SETTINGS, 4), dtype=np.int64)
    for block, part in blocks(indices):
        rows = np.arange(part.start, part.stop)
        distinct = np.unique(success[rows])
        groups, members = [], []
        for s in distinct:
            mine = rows[success[rows] == s]
            settings = {name: value[mine].ravel() for name, value in angles.items()}
            settings["amplitude"] = np.repeat(amplitude[mine], NUM_SETTINGS)
            family = Family("sweep-mixup", [_measured_circuit()], [settings])
            groups.append((family, [noise.swap_mixture(float(s))]))
            members.append(mine)
        seeds = block_rng(spec.seed, STREAM_SAMPLER, block).integers(2**31, size=len(groups))
        sampled = _sampler.sample_groups(
            backend, groups, shots=spec.shots, seeds=seeds, realization=spec.realization
        )
        for mine, result in zip(members, sampled, strict=True):
            arrays = [circuits.counts_array(c) for c in result.counts[0]]
            out[mine] = np.array(arrays).reshape(len(mine), NUM_SETTINGS, 4)
    return out


def analyse(
    spec: SweepSpec, indices: range, counts_: np.ndarray, success: np.ndarray, amplitude: np.ndarray
) -> dict[str, np.ndarray]:
    """Table columns of the points ``indices`` from their counts (n, 13, 4)."""
    chsh = estimators.chsh(counts_[:, :4])
    tomography = counts_[:, 4:]
    target = theory.psi(amplitude)
    columns: dict[str, np.ndarray] = {
        "point": np.asarray(indices, dtype=np.int64),
        "success": success,
        "amplitude": amplitude,
        "predicted_fidelity": theory.fidelity(success, amplitude),
        "predicted_concurrence": theory.concurrence(success, amplitude),
        "predicted_eof": theory.eof(success, amplitude),
        "predicted_chsh": theory.chsh_max(success, amplitude),
        "chsh": chsh.value,
        "chsh_stderr": chsh.stderr,
    }
    if spec.intervals == "bootstrap":
        parts = []
        for block, part in blocks(indices):
            est = estimators.state_tomography(
                tomography[part],
                target[part],
                confidence=spec.confidence,
                n_boot=spec.n_boot,
                rng=block_rng(spec.seed, STREAM_BOOTSTRAP, block),
            )
            parts.append([getattr(est, q) for q in _QUANTITIES])
        for k, q in enumerate(_QUANTITIES):
            for field, suffix in (
                ("value", ""),
                ("ci_low", "_ci_low"),
                ("ci_high", "_ci_high"),
                ("at_boundary", "_at_boundary"),
            ):
                columns[q + suffix] = np.concatenate(
                    [np.atleast_1d(getattr(p[k], field)) for p in parts]
                )
    else:
        rho = estimators.fit_state(tomography)
        c = measures.concurrence(rho)
        point = {
            "concurrence": c,
            "eof": measures.eof_from_concurrence(c),
            "fidelity": np.clip(measures.fidelity_pure(target, rho), 0.0, 1.0),
        }
        for q, value in point.items():
            edge = value >= 1.0 - 1e-12 if q == "fidelity" else value <= 1e-12
            columns[q] = value
            columns[q + "_ci_low"] = np.full(len(value), np.nan)
            columns[q + "_ci_high"] = np.full(len(value), np.nan)
            columns[q + "_at_boundary"] = edge
    return {name: np.asarray(columns[name]) for name in COLUMNS}


def compute(spec: SweepSpec, backend: Backend, indices: range) -> dict[str, np.ndarray]:
    """Table columns of the points ``indices`` (a chunk)."""
    values = spec.values(indices)
    return analyse(
        spec, indices, counts(spec, backend, indices), values["success"], values["amplitude"]
    )
