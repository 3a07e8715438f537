"""Every branch, PUB and binding samples from its own random stream, on every path.

At 200,000 shots per setting, the pooled counts of a run are compared with the exact outcome
distribution of its circuits under the noise (:func:`qkit.noise.outcome_distribution`, an
explicit sum over branches, independent of the engines). Over seeds, the chi-square p-values
must look uniform: shared random streams between branches (Aer's SamplerV2 seeds every group
of PUBs with equal shots from one seed) inflate the variance of the pooled counts and push the
p-values to 0 (4e-17 for the two-slot letters before the fix).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from qkit import experiment, noise
from qkit.channel import experiment as channel
from qkit.mixup import experiment as mixup

SHOTS = 200_000
SEEDS = range(6)
P_MIN = 1e-3  # each assertion fails by chance with probability about 1e-3


def _chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = counts.sum(-1, keepdims=True) * probabilities
    used = expected > 0
    assert np.all(counts[~used] == 0), "outcomes of zero probability were drawn"
    stat = np.sum((counts[used] - expected[used]) ** 2 / expected[used])
    dof = int(used.sum()) - counts.shape[0]
    return float(stats.chi2.sf(stat, dof))


def _exact(definition: experiment.Experiment, point: dict) -> np.ndarray:
    """Outcome distributions (measurements, outcomes) by explicit branch enumeration."""
    family, mixtures = definition.circuits(point)
    rows = []
    for index, circuit in enumerate(family.circuits):
        matrix = definition.outcomes(point, index, circuit.num_clbits)
        settings = family.settings[index]
        if not settings:
            rows.append(noise.outcome_distribution(circuit, mixtures) @ matrix)
            continue
        n = len(next(iter(settings.values())))
        for k in range(n):
            values = {name: float(v[k]) for name, v in settings.items()}
            measured = circuit.assign_parameters(values)
            rows.append(noise.outcome_distribution(measured, mixtures) @ matrix)
    return np.array(rows)


CASES = [
    (channel.CHANNEL, {"eta": 0.33, "inputs": "entangled", "alphabet": "two-slot"}),
    (channel.CHANNEL, {"eta": 0.33, "inputs": "entangled", "alphabet": "pair"}),
    (mixup.MIXUP, {"success": 0.6, "amplitude": 0.4}),
]
PATHS = [
    ("sampler", "noise-model"),
    ("sampler", "branch-mixture"),
    ("exact", None),
]


@pytest.mark.slow
@pytest.mark.parametrize("engine, realization", PATHS)
@pytest.mark.parametrize("definition, point", CASES, ids=lambda x: getattr(x, "name", None))
def test_pooled_counts_follow_the_exact_distribution_over_seeds(
    definition, point, engine, realization
):
    exact = _exact(definition, point)
    p_values = []
    for seed in SEEDS:
        result = definition.run(
            **point, shots=SHOTS, seed=seed, n_boot=0, engine=engine, realization=realization
        )
        counts = np.array(result.counts["counts"])
        assert np.all(counts.sum(-1) == SHOTS)
        p_values.append(_chi_square_p(counts, exact))
    # 1 - (1 - 1e-3 / 6) ** 6 = 1e-3 for the smallest p-value, 1e-3 for the KS test: < 2e-3
    # per case, < 1.8e-2 over the 9 cases (seeded; worse than 1e-3 per run of all cases)
    assert min(p_values) > P_MIN / len(SEEDS), p_values
    assert stats.kstest(p_values, "uniform").pvalue > P_MIN, p_values


def test_branch_pubs_with_equal_shots_draw_different_samples():
    # Two identical PUBs in one call must not return identical bits (a shared stream).
    from qiskit import QuantumCircuit

    from qkit.backends import get_backend

    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    backend = get_backend("aer")
    (circuit,) = backend.transpile([qc])
    first, second, third = backend.run(
        [(circuit,), (circuit, None, 50), (circuit,)], shots=50, seed=3
    )
    assert first != third
    assert first != second or second != third


def test_every_point_of_a_sweep_has_its_own_seed_and_the_run_with_it_agrees():
    from qkit.sweep import compute, mixup_spec

    spec = mixup_spec([0.5, 0.9], [0.3, 0.7], shots=300, seed=4, n_boot=0, repeat=2)
    points, seeds = compute.row_points(spec, range(spec.num_points))
    assert len(set(seeds)) == spec.num_points
    columns = compute.compute(spec, range(spec.num_points))
    for k in (0, 5):
        run = mixup.run(
            points[k]["success"],
            points[k]["amplitude"],
            shots=300,
            seed=seeds[k],
            engine="exact",
            n_boot=0,
        )
        assert run.estimate["chsh"]["value"] == columns["chsh"][k]
