"""Sampled experiments on the Aer simulator: estimates agree with the exact prediction,
both noise realizations agree, seeds reproduce byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qkit.channel import experiment as channel_experiment
from qkit.channel import theory as channel_theory
from qkit.mixup import experiment as mixup_experiment
from qkit.mixup import theory as mixup_theory


def within(estimate: dict, truth: float, sigmas: float = 4.0) -> bool:
    """Within 4 stderr (false failure 6.3e-5), or within the interval widened by twice its
    half-width on each side, 3 x 1.96 = 5.9 sd of a normal interval (false failure 4e-9)."""
    if "stderr" in estimate:
        return abs(estimate["value"] - truth) <= sigmas * estimate["stderr"]
    half = (estimate["ci_high"] - estimate["ci_low"]) / 2
    return (
        estimate["ci_low"] - sigmas * half / 2 <= truth <= estimate["ci_high"] + sigmas * half / 2
    )


@pytest.mark.parametrize("realization", ["noise-model", "branch-mixture"])
def test_mixup_estimates_cover_the_prediction(realization):
    s, a = 0.8, 0.45
    result = mixup_experiment.run(s, a, shots=3000, seed=11, n_boot=300, realization=realization)
    est, pred = result.estimate, result.prediction
    assert result.metadata["options"]["realization"] == realization
    assert pred["concurrence"] == pytest.approx(float(mixup_theory.concurrence(s, a)))
    # 4 checks: false failure < 7e-5 per realization (seeded)
    assert within(est["chsh"], pred["chsh_max"])
    for key in ("concurrence", "eof", "fidelity"):
        assert within(est[key], pred[key]), (key, est[key], pred[key])
    # The tomographic state is physical.
    rho = np.array(est["state"]["real"]) + 1j * np.array(est["state"]["imag"])
    assert np.linalg.eigvalsh(rho).min() > -1e-12 and np.trace(rho).real == pytest.approx(1)


def test_bell_pairs_violate_chsh_significantly_at_high_success():
    result = mixup_experiment.run(0.95, 2**-0.5, shots=4000, seed=5, n_boot=100)
    # CHSH 2.69 -/+ 0.023: its significance is ~29, so > 10 fails only at a ~19 sd draw
    assert result.estimate["chsh"]["significance"] > 10


def test_same_seed_gives_byte_identical_estimates():
    runs = [mixup_experiment.run(0.5, 0.3, shots=500, seed=42, n_boot=100) for _ in range(2)]
    assert json.dumps(runs[0].to_dict()["estimate"]) == json.dumps(runs[1].to_dict()["estimate"])
    other = mixup_experiment.run(0.5, 0.3, shots=500, seed=43, n_boot=100)
    assert other.to_dict()["estimate"] != runs[0].to_dict()["estimate"]


@pytest.mark.parametrize("inputs", ["entangled", "separable"])
@pytest.mark.parametrize("alphabet", ["pair", "two-slot"])
def test_channel_mutual_information_matches_holevo(inputs, alphabet):
    eta = 0.75
    result = channel_experiment.run(eta, inputs, alphabet, shots=4000, seed=7, n_boot=500)
    expected = (channel_theory.chi2 if alphabet == "pair" else channel_theory.capacity)(eta, inputs)
    assert result.prediction["holevo"] == pytest.approx(float(expected))
    assert within(result.estimate["mutual_information"], float(expected))  # 5.9 sd: 4e-9


def test_channel_conditional_frequencies_match_fig_4():
    eta = 0.6
    result = channel_experiment.run(eta, "separable", "pair", shots=4000, seed=3, n_boot=100)
    ens = channel_theory.optimal_ensemble(eta, "separable")
    exact = channel_theory.conditional_probabilities(ens["werner_parameters"], eta)
    freq = np.array(result.estimate["conditional_probabilities"])
    sigma = np.sqrt(exact * (1 - exact) / 4000)
    # 4 sd (binomial normal approximation) on each entry: 6.3e-5 per entry (seeded)
    assert np.all(np.abs(freq - exact) <= 4 * sigma + 1e-12)


def test_entangled_pair_alphabet_is_noiseless_at_full_correlation():
    result = channel_experiment.run(1.0, "entangled", "pair", shots=300, seed=1, n_boot=100)
    assert result.estimate["mutual_information"]["value"] == pytest.approx(1.0)


@pytest.mark.slow  # 35 s on a loaded 2-core machine
def test_two_realizations_agree_on_the_channel():
    """Noise model and branch mixture sample the same distribution (two-sample chi-square)."""
    from scipy.stats import chi2_contingency

    runs = [
        channel_experiment.run(
            0.5, "entangled", "two-slot", shots=3000, seed=9, n_boot=50, realization=r
        )
        for r in ("noise-model", "branch-mixture")
    ]
    for row_a, row_b in zip(runs[0].counts["counts"], runs[1].counts["counts"], strict=True):
        table = np.array([row_a, row_b])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            assert row_a == row_b
            continue
        # False-failure rate 1e-4 per letter (5 letters).
        assert chi2_contingency(table).pvalue > 1e-4


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mixup_experiment.run(0, 0.5), "success must be in (0, 1]"),
        (lambda: mixup_experiment.run(0.5, 0.5, shots=0), "shots must be an integer in [1, "),
        (lambda: mixup_experiment.run(0.5, 0.5, backend="nowhere"), "backend must be one of"),
        (lambda: channel_experiment.run(1.5), "eta must be in [0, 1]"),
        (lambda: channel_experiment.run(0.5, "tangled"), "inputs must be"),
        (lambda: channel_experiment.run(0.5, alphabet="three-slot"), "alphabet must be"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        call()
