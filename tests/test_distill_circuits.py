"""The DEJMPS circuit on two delivered pairs against the exact theory (Aer density matrices,
exact branch enumeration, and sampling on Aer with the mix-up noise model)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2

from qkit import measures, noise
from qkit.distill import circuits, theory
from qkit.mixup import circuits as mixup_circuits
from qkit.mixup import theory as mixup

POINTS = [(0.9, mixup.BELL_AMPLITUDE), (0.6, 0.45), (0.3, 0.15), (1.0, 0.3)]


def to_qkit_order(rho: np.ndarray, n: int) -> np.ndarray:
    """Qiskit little-endian n-qubit density matrix -> qkit order (first qubit leftmost)."""
    axes = list(range(n - 1, -1, -1))
    t = rho.reshape((2,) * (2 * n)).transpose(axes + [n + k for k in axes])
    return t.reshape(2**n, 2**n)


@pytest.mark.parametrize(("s", "a"), POINTS)
def test_aer_density_matrix_after_postselection_matches_theory(s, a):
    qc = circuits.dejmps_round_circuit(a)
    qc.save_density_matrix([*circuits.KEPT, *circuits.TARGET])
    sim = AerSimulator(
        method="density_matrix", noise_model=noise.noise_model([noise.swap_mixture(s)])
    )
    rho = to_qkit_order(np.asarray(sim.run(qc).result().data()["density_matrix"]), 4)
    t = rho.reshape(4, 4, 4, 4)  # (kept, target, kept', target')
    kept = t[:, 0, :, 0] + t[:, 3, :, 3]  # target outcomes agree: 00 or 11
    p = np.real(np.trace(kept))
    p_theory, out_theory = theory.dejmps_round(mixup.state(s, a))
    assert p == pytest.approx(p_theory, abs=1e-10)
    np.testing.assert_allclose(kept / p, out_theory, atol=1e-10)


def projector(direction: np.ndarray, bit: int) -> np.ndarray:
    """Projector on the outcome ``bit`` (0: eigenvalue +1) of ``n . sigma``."""
    n_sigma = np.einsum("i,iab->ab", direction, measures.PAULI)
    return (np.eye(2) + (-1) ** bit * n_sigma) / 2


@pytest.mark.parametrize(("s", "a"), POINTS[:3])
def test_exact_outcomes_and_postselection_match_theory(s, a):
    """Branch enumeration (the hardware realization) at every tomography and CHSH setting."""
    qc = circuits.dejmps_circuit(a)
    p, out = theory.dejmps_round(mixup.state(s, a))
    dirs_a, dirs_b = mixup_circuits.tomography_directions()
    chsh_a, chsh_b = mixup_circuits.chsh_directions(measures.optimal_chsh_settings(out))
    dirs_a, dirs_b = np.vstack([dirs_a, chsh_a]), np.vstack([dirs_b, chsh_b])
    for bound, na, nb in zip(
        mixup_circuits.bind_settings(qc, dirs_a, dirs_b), dirs_a, dirs_b, strict=True
    ):
        probs = noise.outcome_distribution(bound, [noise.swap_mixture(s)])
        scale = 1e12  # exact probabilities as (integer) counts, 1e-12 resolution
        counts = {format(k, "04b"): round(scale * q) for k, q in enumerate(probs)}
        result = circuits.postselect(counts)
        assert result.successes / result.trials == pytest.approx(p, abs=1e-10)
        expected = [
            np.real(np.trace(out @ np.kron(projector(na, ba), projector(nb, bb))))
            for ba in (0, 1)
            for bb in (0, 1)
        ]
        np.testing.assert_allclose(result.kept / result.successes, expected, atol=1e-10)


def test_branches_are_the_four_swap_combinations():
    qc = circuits.dejmps_circuit(0.4)
    assert len(noise.sites(qc, [noise.MIXUP])) == 2
    weights = noise.branch_weights(qc, [noise.swap_mixture(0.7)])
    np.testing.assert_allclose(weights, [0.49, 0.21, 0.21, 0.09])
    branches = circuits.branches(qc)
    assert len(branches) == 4
    assert all(not noise.sites(b) for b in branches)


def test_amplitude_parameter_binds_like_a_number():
    amp = Parameter("a")
    qc = circuits.dejmps_circuit(amp)
    bound = qc.assign_parameters({amp: 0.45})
    direct = circuits.dejmps_circuit(0.45)
    [b1] = mixup_circuits.tomography_circuits(bound)[:1]
    [b2] = mixup_circuits.tomography_circuits(direct)[:1]
    mixtures = [noise.swap_mixture(0.6)]
    np.testing.assert_allclose(
        noise.outcome_distribution(b1, mixtures),
        noise.outcome_distribution(b2, mixtures),
        atol=1e-12,
    )


def test_sampled_round_on_aer_agrees_within_error_bars():
    s, a, shots = 0.7, 0.5, 40_000
    qc = circuits.dejmps_circuit(a)
    bindings = mixup_circuits.setting_bindings(qc, [[0, 0, 1]], [[0, 0, 1]])  # ZZ
    sampler = SamplerV2(options=noise.aer_sampler_options([noise.swap_mixture(s)], seed=1234))
    sim = AerSimulator()
    tqc = transpile(qc, sim, optimization_level=1, seed_transpiler=1)
    tbind = {p: bindings[q] for q in bindings for p in tqc.parameters if p.name == q.name}
    pub = sampler.run([(tqc, tbind)], shots=shots).result()[0]
    counts = pub.join_data().get_counts()
    result = circuits.postselect(counts)
    p, out = theory.dejmps_round(mixup.state(s, a))
    assert result.trials == shots
    # 5 sd two-sided on 1 + 4 checks: false failure 5.7e-7 each, < 3e-6 per run (seeded; the
    # 1e-3 / sqrt(n) added to se only makes the kept-outcome checks looser)
    stderr = np.sqrt(p * (1 - p) / shots)
    assert abs(result.success_fraction - p) < 5 * stderr
    zz = np.real(np.diag(out))  # kept outcomes in Z, qkit order 2 bA + bB
    n = result.successes
    se = np.sqrt(zz * (1 - zz) / n) + 1e-3 / np.sqrt(n)
    assert np.all(np.abs(result.kept / n - zz) < 5 * se)


def test_postselect_rejects_bad_keys():
    with pytest.raises(ValueError, match="not 4 bits"):
        circuits.postselect({"01": 3})
    with pytest.raises(ValueError, match="exactly 2 qubits"):
        circuits.dejmps_round_circuit(QuantumCircuit(3))
