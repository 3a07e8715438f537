"""Per-coupler predictions: ideal (the papers' theory) and under the device's noise model.

The noise-model prediction is exact numerics, no sampling: each class circuit is transpiled
exactly as in the survey (layout fixed), each pair's own gates are cut out (pairs never
interact), its measurements are removed, and Aer's density-matrix method with
``NoiseModel.from_backend(device)`` saves the probabilities of the two measured qubits; the
device's readout errors (the ``ReadoutError`` matrices the noise model attaches to ``measure``)
then turn them into the probabilities of the recorded bits. The noise model has no error
between pairs, so a pair's marginal in the class circuit equals this two-qubit prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from qiskit import QuantumCircuit

from qkit import measures
from qkit.channel import theory as channel_theory
from qkit.device_model import (  # noqa: F401 - the survey's predictions use them
    _readout,
    _restricted,
    cached_noise_model,
    circuit_probabilities,
    noise_model,
)
from qkit.estimators.correlators import CHSH_SIGNS
from qkit.mixup import theory as mixup_theory
from qkit.survey import circuits as survey_circuits
from qkit.survey.packing import Coupler

_PARITY = np.array([1.0, -1.0, -1.0, 1.0])


def ideal(experiment: str) -> float:
    """Noise-free value: CHSH of the Bell pair ``2 sqrt2`` (paper A, Sec. V); mutual
    information of the singlet/triplet pair alphabet at ``eta = 1``, 1 bit (paper B, Sec. V)."""
    if survey_circuits.check_experiment(experiment) == "chsh":
        return float(mixup_theory.chsh_max(1.0, mixup_theory.BELL_AMPLITUDE))
    ensemble = channel_theory.optimal_ensemble(1.0, "entangled")
    return float(
        channel_theory.measurement_mutual_information(
            ensemble["probabilities"], ensemble["werner_parameters"], 1.0
        )
    )


def prior(experiment: str) -> np.ndarray | None:
    """Input probabilities of the channel letters (the optimal ensemble at ``eta = 1``)."""
    if survey_circuits.check_experiment(experiment) == "chsh":
        return None
    ensemble = channel_theory.optimal_ensemble(1.0, "entangled")
    assert tuple(ensemble["labels"]) == survey_circuits.CHANNEL_LETTERS
    return np.asarray(ensemble["probabilities"], dtype=float)


def value_from_probabilities(experiment: str, probabilities: np.ndarray) -> np.ndarray:
    """CHSH value (from (..., 4 settings, 4) outcome probabilities, qkit order) or mutual
    information in bits (from (..., 2 letters, 4) probabilities; outcome 3 = singlet)."""
    p = np.asarray(probabilities, dtype=float)
    p = p / p.sum(axis=-1, keepdims=True)  # Aer's float rounding (1e-9) beyond the checks
    if survey_circuits.check_experiment(experiment) == "chsh":
        return np.einsum("...so,o,s->...", p, _PARITY, CHSH_SIGNS)
    channel = np.stack([p[..., 3], p[..., :3].sum(axis=-1)], axis=-1)  # singlet, triplet
    pi = prior(experiment)
    assert pi is not None  # every experiment but CHSH has a prior
    output = np.einsum("x,...xy->...y", pi, channel)
    # simulated distributions (built here) sum to 1 only to ~1e-9: no input checks
    conditional = np.einsum("x,...x->...", pi, measures.shannon_entropy(channel, trusted=True))
    return measures.shannon_entropy(output, trusted=True) - conditional


def noise_probabilities(
    device,
    couplers: Sequence[Coupler],
    experiment: str,
    *,
    optimization_level: int = 2,
    seed: int = 0,
    model=None,
) -> np.ndarray:
    """Exact outcome probabilities of every coupler under the device noise model.

    Returns shape (n_couplers, n_settings, 4): CHSH (4 settings) or channel (2 letters),
    outcomes in qkit order ``2 bit_A + bit_B``, readout errors included.
    """
    from qkit.survey.packing import pack_couplers

    model = noise_model(device) if model is None else model
    pairs = survey_circuits.pair_circuits(experiment)
    wanted = [(min(a, b), max(a, b)) for a, b in couplers]
    circuits, owner = [], []
    # transpile whole classes as the survey does, then cut out each pair's own gates: pairs do
    # not interact, so each sub-circuit is exactly what that pair runs in the survey
    for group in pack_couplers(device, wanted):
        for pair in pairs.values():
            logical = survey_circuits.class_circuit(pair, group)
            t = survey_circuits.transpile_on(
                device,
                logical,
                survey_circuits.layout(group),
                optimization_level=optimization_level,
                seed=seed,
            )
            values = survey_circuits.bindings(t, experiment)
            registers = survey_circuits.measured_qubits(t)
            for coupler in group:
                qubits = registers[survey_circuits.register_name(coupler)]
                body = QuantumCircuit(t.num_qubits, 2)
                for inst in t.data:
                    on = {t.find_bit(q).index for q in inst.qubits}
                    if inst.operation.name != "measure" and on <= set(coupler):
                        body.append(
                            inst.operation, [body.qubits[t.find_bit(q).index] for q in inst.qubits]
                        )
                body.measure([qubits[1], qubits[0]], [0, 1])  # outcome 2 bit_A + bit_B (qkit)
                for row in [None] if values is None else values:
                    circuits.append(
                        body
                        if row is None
                        else body.assign_parameters(
                            dict(zip(t.parameters, row, strict=True)), strict=False
                        )
                    )
                    owner.append(coupler)
    out: dict[tuple[int, int], list[np.ndarray]] = {}
    for p, coupler in zip(circuit_probabilities(device, circuits, model), owner, strict=True):
        out.setdefault(coupler, []).append(p)
    return np.asarray([out[c] for c in wanted])


def coupler_values(
    device,
    experiment: str,
    couplers: Sequence[Coupler] | None = None,
    *,
    optimization_level: int = 2,
    seed: int = 0,
    model=None,
) -> dict[Coupler, float]:
    """Noise-model prediction of every coupler (or of ``couplers``), no sampling: CHSH value or
    mutual information in bits (:func:`noise_probabilities`)."""
    from qkit.survey.packing import couplers as device_couplers

    chosen = (
        device_couplers(device) if couplers is None else [cast(Coupler, tuple(c)) for c in couplers]
    )
    probabilities = noise_probabilities(
        device, chosen, experiment, optimization_level=optimization_level, seed=seed, model=model
    )
    values = value_from_probabilities(experiment, probabilities)
    return {c: float(v) for c, v in zip(chosen, values, strict=True)}
