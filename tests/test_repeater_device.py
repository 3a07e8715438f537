"""The repeater chain on fake IBM devices: dynamic circuits, the best line, idle memories, and
the device-noise prediction of dynamic circuits (:func:`qkit.survey.predict.circuit_probabilities`).

Agreement checks are ``|estimate - device prediction| <= 4.5 sd`` (sd from the 95% interval):
a false failure below 1e-5 per check (seeded runs).
"""

from __future__ import annotations

import numpy as np
import pytest

from qkit.backends import get_backend
from qkit.repeater.experiment import CHAIN

BELL = 2**-0.5


def _within(estimate, prediction, sigmas=4.5):
    sigma = (estimate["ci_high"] - estimate["ci_low"]) / 2 / 1.96
    return abs(estimate["value"] - prediction) <= sigmas * sigma + 1e-9


@pytest.mark.slow
def test_dynamic_circuit_prediction_matches_the_fake_device_samples():
    """Teleport |1> with feed-forward on fake:lagos: the deferred-measurement prediction (with
    mid-circuit readout errors) and 40000 sampled shots agree within 5 sd on every outcome."""
    from qiskit import QuantumCircuit

    from qkit.survey import predict

    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.h(1)
    qc.cx(1, 2)
    qc.cx(0, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.measure(1, 1)
    with qc.if_test((qc.clbits[1], 1)):
        qc.x(2)
    with qc.if_test((qc.clbits[0], 1)):
        qc.z(2)
    qc.measure(2, 2)
    backend = get_backend("fake:lagos", seed=1)
    (transpiled,) = backend.transpile([qc])
    (p,) = predict.circuit_probabilities(backend.device, [transpiled])
    shots = 40_000
    (counts,) = backend.run([(transpiled,)], shots=shots, seed=5)
    sampled = np.zeros(8)
    for key, n in counts.items():
        sampled[int(key.replace(" ", ""), 2)] += n
    sampled /= shots
    sd = np.sqrt(p * (1 - p) / shots) + 1e-4
    assert np.all(np.abs(sampled - p) <= 5 * sd), (sampled, p)
    assert p[4:].sum() > 0.65  # the teleported |1> mostly arrives (lagos: 0.72)


@pytest.mark.slow
def test_chain_on_a_fake_device_sits_on_its_device_prediction():
    result = CHAIN.run(
        links=2,
        success=0.9,
        amplitude=BELL,
        shots=1500,
        seed=4,
        backend="fake:hanoi",
        layout="best",
        n_boot=100,
    )
    layout = result.metadata["layout"]
    assert layout["source"] == "calibration-line" and len(layout["physical"]) == 6
    device = get_backend("fake:hanoi")
    edges = {tuple(sorted(e)) for e in device.device.coupling_map.get_edges()}
    line = layout["physical"]
    assert all(tuple(sorted(pair)) in edges for pair in zip(line, line[1:], strict=False))
    predicted = result.metadata["prediction_device"]
    for key in ("fidelity", "concurrence", "chsh"):
        assert _within(result.estimate[key], predicted[key]), key
        assert predicted[key] < result.prediction[key]  # the device's noise costs


@pytest.mark.slow
def test_idle_memories_decohere_on_the_device_as_predicted():
    runs = {
        idle: CHAIN.run(
            links=2,
            success=1.0,
            amplitude=BELL,
            idle=idle,
            shots=1500,
            seed=6,
            backend="fake:lagos",
            n_boot=100,
        )
        for idle in (0.0, 30_000.0)
    }
    before = runs[0.0].metadata["prediction_device"]["fidelity"]
    after = runs[30_000.0].metadata["prediction_device"]["fidelity"]
    assert after < before - 0.03  # T1/T2 act during the delays
    for result in runs.values():
        assert result.prediction["fidelity"] == pytest.approx(1.0)  # ideal ignores the idle
        assert _within(
            result.estimate["fidelity"], result.metadata["prediction_device"]["fidelity"]
        )
