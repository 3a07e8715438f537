"""Exact coverage of the mutual-information interval just short of a noiseless channel.

Run: ``.venv/bin/python benchmarks/mi_noiseless.py [--step 0.0005]`` (about ten seconds; exact
sums, no sampling).

Paper B's channel with entangled inputs near ``eta = 1``: the letters outside the pair block are
read perfectly, and the pair block's two letters leak to each other's outcome with
probabilities ``e0, e1`` (``e0 + e1 = 1 - eta``). A data set is then fixed by the two rare
counts ``r0 ~ Bin(N, e0)``, ``r1 ~ Bin(N, e1)``, so the coverage of qkit's interval is the sum
of ``Bin(r0) Bin(r1)`` over the ``(r0, r1)`` whose interval holds the true information: exact
(``coverage``), no simulation. Printed per ``eta``: the coverage, how often the interval lies
above the truth (``lo-miss``) and below it (``hi-miss``).

Discreteness: along the path ``R = r0 + r1`` is sufficient for ``eta`` (the likelihood is
``e0^r0 e1^r1 (1 - ...)^... ~ (1 - eta)^R exp(-N (1 - eta))`` with ``e0 / e1`` fixed) and about
Poisson with mean ``m = N (1 - eta)``, and the information is monotone in ``eta``. So an interval
for the information along the path is an interval for ``m`` from ``R ~ Poisson(m)``, and a
non-randomized one that covers at least 95% at every ``eta`` covers at least ``floor`` at
``eta``: the least ``P_m(a <= R <= b) >= 0.95`` over runs of counts. ``garwood`` is the coverage
of the exact central Poisson interval at the same ``m`` (the construction behind the lower
end, Fay and Feuer's gamma bound). Coverage between 0.95 and ``floor`` is the price of
discreteness, not of the construction (``floor`` is 0.98 at ``m = 1, 2``: no interval that
covers 95% everywhere does better there); only an interval allowed to dip below 0.95 at some
``eta`` (as the mid-P upper end here does, to 0.946) can average nearer 0.95.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import binom, poisson

from qkit import measures
from qkit.channel import experiment as channel_experiment
from qkit.channel import theory as channel_theory
from qkit.estimators import mutual_information

CONFIDENCE = 0.95


def channel(eta: float, alphabet: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact ``P(outcome | letter)`` (entangled inputs), the prior and the information."""
    ens = channel_experiment.ensemble(eta, "entangled", alphabet)
    if alphabet == "pair":
        werner = channel_theory.optimal_ensemble(eta, "entangled")["werner_parameters"]
        probs = channel_theory.conditional_probabilities(werner, eta)
    else:
        probs = channel_theory.receiver_conditional_probabilities(eta, "entangled")
    return probs, ens["prior"], float(measures.mutual_information(ens["prior"][:, None] * probs))


def exact_coverage(
    eta: float, alphabet: str, shots: int, r_max: int = 120
) -> tuple[float, float, float, float]:
    """``(coverage, lo-miss, hi-miss, m)``: exact sums over the pair block's rare counts."""
    probs, prior, truth = channel(eta, alphabet)
    block = probs[-2:, -2:]  # the two pair letters on their two outcomes
    others = probs[:-2]
    assert np.allclose(others[:, -2:], 0.0) and np.allclose(np.max(others, axis=1), 1.0)
    r = np.arange(r_max + 1)
    r0, r1 = np.meshgrid(r, r, indexing="ij")
    weight = binom.pmf(r0, shots, block[0, 1]) * binom.pmf(r1, shots, block[1, 0])
    pair = np.stack([np.stack([shots - r0, r0], -1), np.stack([r1, shots - r1], -1)], -2).astype(
        float
    )
    counts = np.zeros((*weight.shape, *probs.shape))
    counts[..., :-2, :] = shots * others
    counts[..., -2:, -2:] = pair
    est = mutual_information(counts.reshape(-1, *probs.shape), prior)
    low, high = est.ci_low.reshape(weight.shape), est.ci_high.reshape(weight.shape)
    above, below = low > truth + 1e-12, high < truth - 1e-12
    missing = 1.0 - float(np.sum(weight))  # rare counts beyond r_max
    lo_miss, hi_miss = float(np.sum(weight * above)), float(np.sum(weight * below)) + missing
    return 1.0 - lo_miss - hi_miss, lo_miss, hi_miss, shots * (block[0, 1] + block[1, 0])


def poisson_floor(m: float, confidence: float = CONFIDENCE) -> float:
    """Least ``P_m(a <= R <= b) >= confidence`` over runs of counts ``[a, b]``: the coverage at
    ``m`` of any non-randomized interval that covers ``confidence`` everywhere is at least this
    (its acceptance region at ``m`` is such a run)."""
    k = np.arange(int(m + 12 * np.sqrt(m + 1) + 15))
    below = np.concatenate([[0.0], poisson.cdf(k, m)])  # P(R <= a - 1) at index a
    mass = below[None, 1:] - below[:-1, None]  # P(a <= R <= b), [a, b]
    ok = mass >= confidence - 1e-12
    return float(np.min(mass[ok]))


def garwood_coverage(m: float, confidence: float = CONFIDENCE) -> float:
    """Coverage at ``m`` of the exact central (Garwood) Poisson interval."""
    tail = (1.0 - confidence) / 2.0
    k = np.arange(int(m + 12 * np.sqrt(m + 1) + 15))
    # m is in the interval of k iff P(R >= k) > tail and P(R <= k) > tail at m
    inside = (poisson.sf(k - 1, m) > tail) & (poisson.cdf(k, m) > tail)
    return float(np.sum(poisson.pmf(k, m) * inside))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=0.0005)
    args = parser.parse_args(argv)
    etas = np.arange(0.985, 0.9995 + 1e-9, args.step)
    for alphabet in ("pair", "two-slot"):
        for shots in (1000, 4000):
            print(f"{alphabet}, {shots} shots a letter")
            print(
                f"{'eta':>7} {'m':>6} {'coverage':>8} {'lo-miss':>7} {'hi-miss':>7}  floor garwood"
            )
            cover = []
            for eta in etas:
                cov, lo, hi, m = exact_coverage(float(eta), alphabet, shots)
                cover.append(cov)
                floor, garwood = poisson_floor(m), garwood_coverage(m)
                line = (
                    f"{eta:7.4f} {m:6.2f} {cov:8.4f} {lo:7.4f} {hi:7.4f}  {floor:.4f} {garwood:.4f}"
                )
                print(line)
            print(f"  coverage {min(cover):.4f}-{max(cover):.4f}, mean {np.mean(cover):.4f}\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
