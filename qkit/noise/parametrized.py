"""Realization 3: one parametrized circuit, its angles bound per branch or per Haar draw.

For sweeps and hardware: :func:`parametrize_sites` turns the sites of a product mixture into
``U(theta, phi, lam)`` gates, so one transpiled template serves every branch
(:func:`parametrized_branches`) and every Haar draw (:func:`haar_parameter_values`); each binding
row is submitted with its multinomial share of the shots. A new ``S`` or ``eta`` changes only
the weights (:func:`mixture_weights`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.circuit.library import UGate

from qkit.noise.mixtures import MixedUnitary
from qkit.noise.sites import sites, substitute
from qkit.noise.unitaries import euler_angles, haar_unitaries


def parametrize_sites(
    circuit: QuantumCircuit, label: str
) -> tuple[QuantumCircuit, ParameterVector]:
    """Replace each ``label`` site by a ``U(theta, phi, lam)`` gate on every one of its qubits.

    One transpiled circuit then realizes every product-unitary branch, and every Haar draw, by
    parameter binding. Parameters are ``label[3 (site n + j) + (0, 1, 2)]`` for qubit ``j`` of the
    ``site``-th site (``n`` qubits per site), angles theta, phi, lam.
    """
    found = sites(circuit, [label])
    if not found:
        raise ValueError(f"circuit has no site labelled {label!r}")
    sizes = {len(s.qubits) for s in found}
    if len(sizes) != 1:
        raise ValueError(f"sites labelled {label!r} act on different numbers of qubits")
    n = sizes.pop()
    params = ParameterVector(label, 3 * n * len(found))
    gates = {}
    for k, s in enumerate(found):
        sub = QuantumCircuit(n)
        for j in range(n):
            base = 3 * (k * n + j)
            sub.append(UGate(params[base], params[base + 1], params[base + 2]), [j])
        gates[s.index] = sub
    return substitute(circuit, gates, relabel=False), params


def mixture_parameter_values(mixture: MixedUnitary) -> np.ndarray:
    """Angles of each term of a product mixture for one :func:`parametrize_sites` site, (k, 3n)."""
    if mixture.factors is None:
        raise ValueError(f"mixture {mixture.label!r} has no single-qubit factors")
    return euler_angles(mixture.factors).reshape(len(mixture.weights), -1)


def branch_parameter_values(
    circuit: QuantumCircuit, mixture: MixedUnitary
) -> tuple[np.ndarray, np.ndarray]:
    """Bindings and weights of every branch of ``mixture`` for :func:`parametrize_sites`.

    Returns ``(values, weights)``: ``values`` has shape (branches, len(params)) in the order of
    the ``ParameterVector``; ``weights`` (branches,) as :func:`~qkit.noise.branch_weights`.
    """
    per_site = mixture_parameter_values(mixture)
    count = len(sites(circuit, [mixture.label]))
    if count == 0:
        raise ValueError(f"circuit has no site labelled {mixture.label!r}")
    combos = list(itertools.product(range(len(per_site)), repeat=count))
    values = np.array([np.concatenate([per_site[k] for k in combo]) for combo in combos])
    weights = np.array([np.prod(mixture.weights[list(combo)]) for combo in combos])
    return values, weights


def haar_parameter_values(
    count: int, params: ParameterVector, rng: np.random.Generator
) -> np.ndarray:
    """``count`` bindings for :func:`parametrize_sites`, each one Haar U(2) shared by all qubits.

    The Haar-sampling realization of the correlated rotation: one fresh ``U ⊗ U`` per shot
    group (a row), converging to the exact Clifford twirl. Shape (count, len(params)).
    """
    angles = euler_angles(haar_unitaries(int(count), rng))
    return np.tile(angles, (1, len(params) // 3))


def parametrized_branches(
    circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary]
) -> tuple[QuantumCircuit, list, np.ndarray, np.ndarray]:
    """All sites of product mixtures as ``U`` gates, and the branch bindings with their weights.

    Returns ``(template, parameters, values, weights)``: ``values`` has shape
    (branches, len(parameters)), rows in ``itertools.product`` order over ``mixtures``,
    ``weights`` (branches,) their product weights (:func:`mixture_weights`). One transpilation
    of ``template`` serves every branch and every ``S``/``eta`` (only ``weights`` change).

    >>> from qkit.noise import (
    ...     DEPOLARIZATION, ROTATION, correlated_rotation_mixture, depolarizing_mixture, noise_site
    ... )
    >>> qc = QuantumCircuit(2); _ = qc.append(noise_site(ROTATION, 2), [0, 1])
    >>> _ = qc.append(noise_site(DEPOLARIZATION, 1), [1])
    >>> mixtures = [correlated_rotation_mixture(), depolarizing_mixture(0.5)]
    >>> template, params, values, weights = parametrized_branches(qc, mixtures)
    >>> values.shape, round(float(weights.sum()), 12)
    ((96, 9), 1.0)
    """
    template, parameters, tables = circuit, [], []
    for mixture in mixtures:
        values, weights = branch_parameter_values(template, mixture)
        template, params = parametrize_sites(template, mixture.label)
        parameters.extend(params)
        tables.append((values, weights))
    rows = list(itertools.product(*(range(len(w)) for _, w in tables)))
    values = np.array(
        [np.concatenate([t[0][k] for t, k in zip(tables, row, strict=True)]) for row in rows]
    )
    weights = np.array(
        [np.prod([t[1][k] for t, k in zip(tables, row, strict=True)]) for row in rows]
    )
    return template, parameters, values, weights


def mixture_weights(circuit: QuantumCircuit, mixtures: Sequence[MixedUnitary]) -> np.ndarray:
    """Branch weights in the row order of :func:`parametrized_branches`, without its table.

    Products of the mixtures' weights over their sites (``itertools.product`` order: the first
    mixture outermost, then its sites in circuit order): a Kronecker product, cheap enough to
    recompute for every ``S``/``eta`` of a sweep while the bindings stay fixed.

    >>> from qkit.noise import MIXUP, noise_site, swap_mixture
    >>> qc = QuantumCircuit(4); _ = qc.append(noise_site(MIXUP, 2), [0, 1])
    >>> _ = qc.append(noise_site(MIXUP, 2), [2, 3])
    >>> mixture_weights(qc, [swap_mixture(0.75)]).tolist()
    [0.5625, 0.1875, 0.1875, 0.0625]
    """
    weights = np.ones(1)
    for mixture in mixtures:
        for _ in sites(circuit, [mixture.label]):
            weights = np.kron(weights, mixture.weights)
    return weights
