"""One DEJMPS round sampled on two mixed-up pairs, beside the exact theory (beyond paper A).

:data:`DISTILL` is the one definition of the experiment (:class:`qkit.experiment.Experiment`),
written with the public experiment API only. Two pairs are delivered as in paper A (each a
:data:`qkit.noise.MIXUP` site, both realized by the same ``qkit.noise.swap_mixture(S)``), one
DEJMPS round is applied (:func:`qkit.distill.circuits.dejmps_circuit`), the target pair is
measured in Z mid-circuit and the kept pair in the 9 Pauli settings of two-qubit tomography,
``shots`` shots per setting. Each shot is one of five outcomes: the kept pair's four outcomes
when the target outcomes agree (the round succeeded) and "discarded" when they disagree.

Estimates, each with an interval:

- ``success_probability``: agreeing shots over all shots, pooled over the settings (every shot
  is an independent trial of the round), with the exact Clopper-Pearson interval;
- ``fidelity_out`` and ``concurrence_out``: tomography of the kept pair from the agreeing counts
  (:func:`qkit.estimators.state_tomography`), fidelity with ``|Phi+>``, the Bell state DEJMPS
  distils towards (:func:`qkit.distill.theory.bell_fidelity`);
- ``yield``: one round then hashing, ``p/2 * max(0, 1 - H(Bell weights))`` Bell pairs per
  delivered pair (:mod:`qkit.distill.theory`), the Bell weights linear in the kept pair's
  ``XX``, ``YY``, ``ZZ`` correlators, with a bootstrap interval.

>>> result = DISTILL.run(success=0.9, amplitude=2**-0.5, shots=2000, seed=1, engine="exact")
>>> p = result.estimate["success_probability"]
>>> bool(p["ci_low"] <= result.prediction["success_probability"] <= p["ci_high"])
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit import experiment as definitions
from qkit.distill import theory
from qkit.experiment import Analysis, Experiment, Point, Points, stack
from qkit.mixup import theory as mixup
from qkit.mixup.experiment import MIXUP

if TYPE_CHECKING:
    from qkit.backends import Backend

NUM_SETTINGS = 9
"""The 9 Pauli settings of the kept pair (``qkit.pairs.PAULI_SETTINGS`` order)."""
DISCARDED = 4
"""Outcome index of a shot whose target outcomes disagree (the round failed)."""
PAIR_ANGLE = "pair_angle"
"""The Parameter of the source pair's ``RY`` angle ``2 arccos(a)``."""
PHI_PLUS = theory.BELL_BASIS[0]
"""``|Phi+>``, the Bell state DEJMPS distils towards (qkit order)."""


def predict(points: Points) -> dict[str, np.ndarray]:
    """Exact one-round values at ``(S, a)`` (:func:`qkit.distill.theory.dejmps_round`).

    ``yield`` is one round then hashing, in Bell pairs per delivered pair.
    """
    rho = mixup.state(points["success"], points["amplitude"])
    p, out = theory.dejmps_round(rho)
    from qkit import measures

    return {
        "success_probability": p,
        "fidelity_out": theory.bell_fidelity(out),
        "concurrence_out": measures.concurrence(out),
        "fidelity_in": theory.bell_fidelity(rho),
        "concurrence_in": measures.concurrence(rho),
        "yield": 0.5 * p * theory.hashing_yield(out),
    }


@functools.cache
def _round_circuit():
    """The round with the source angle and the measurement angles as Parameters.

    The source pair is ``RY(pair_angle)``, ``CX`` with ``pair_angle = 2 arccos(a)`` bound as a
    number (cloud converters do not all take ``acos`` of a Parameter), so one transpiled circuit
    serves every point.
    """
    from qiskit.circuit import Parameter

    from qkit.distill import circuits
    from qkit.mixup import circuits as mixup_circuits

    return circuits.dejmps_circuit(mixup_circuits.psi_circuit(angle=Parameter(PAIR_ANGLE)))


def _pair_angle(amplitude: float) -> float:
    from qkit.mixup import circuits

    return circuits.amplitude_angle(float(amplitude))


@functools.cache
def _tomography_settings() -> dict[str, np.ndarray]:
    from qkit import pairs

    return pairs.setting_angles(*pairs.tomography_directions())


def circuits(point: Point):
    """One parametrized circuit for every point; the swap mixture of ``S`` on both mix-ups."""
    from qkit import noise
    from qkit.sampling import Family

    settings = dict(_tomography_settings())
    settings[PAIR_ANGLE] = np.full(NUM_SETTINGS, _pair_angle(point["amplitude"]))
    return Family("distill", [_round_circuit()], [settings]), [noise.swap_mixture(point["success"])]


@functools.cache
def _outcome_map(num_clbits: int) -> np.ndarray:
    """clbits 0, 1: the target pair (Alice, Bob); 2, 3: the kept pair (Alice, Bob)."""
    from qkit.bits import outcome_table

    def kept_or_discarded(t_a: int, t_b: int, b_a: int, b_b: int, *_: int) -> int:
        return 2 * b_a + b_b if t_a == t_b else DISCARDED

    return outcome_table(num_clbits, kept_or_discarded, DISCARDED + 1)


def outcomes(point: Point, index: int, num_clbits: int) -> np.ndarray:
    """Bit string -> kept-pair outcome ``2 bA + bB`` when the targets agree, else discarded."""
    return _outcome_map(num_clbits)


def analyse(
    counts: Sequence[np.ndarray],
    points: Points,
    rngs: Sequence[np.random.Generator],
    analysis: Analysis,
) -> dict[str, Any]:
    """Estimates from counts of shape (9, 5) per point: success, kept-pair tomography, yield."""
    from qkit.estimators import proportion

    stacked = np.asarray(counts, dtype=float)
    trials = stacked.sum(axis=(1, 2))
    agreeing = stacked[:, :, :DISCARDED].sum(axis=(1, 2))
    success = proportion(agreeing, trials, analysis.confidence)
    fits = [_kept_pair(stacked[i], rngs[i], analysis) for i in range(len(stacked))]
    return {
        "success_probability": success,
        "fidelity_out": stack([f[0] for f in fits]),
        "concurrence_out": stack([f[1] for f in fits]),
        "yield": stack([f[2] for f in fits]),
        "state_out": np.array([f[3] for f in fits]),
    }


def _kept_pair(counts: np.ndarray, rng: np.random.Generator, analysis: Analysis):
    """Tomography of the kept pair and the one-round yield of one point (counts (9, 5))."""
    from qkit import estimators
    from qkit.estimators import Interval

    kept = counts[:, :DISCARDED]
    n_boot = max(analysis.n_boot, 10)
    if np.any(kept.sum(axis=-1) <= 0):  # no agreeing shot in some setting: no state estimate
        missing = np.asarray(np.nan)
        nan = Interval(missing, missing, missing, analysis.confidence, np.asarray(True), "none")
        return nan, nan, nan, np.full((4, 4), np.nan, dtype=complex)
    fit = estimators.state_tomography(
        kept[None], PHI_PLUS, confidence=analysis.confidence, n_boot=n_boot, rng=rng
    )[0]
    yield_ = _yield_interval(counts, rng, n_boot, analysis.confidence)
    out = (fit.fidelity, fit.concurrence, yield_)
    if not analysis.intervals:
        out = tuple(_point_only(x) for x in out)
    return (*out, fit.state)


_BELL_SETTINGS = (0, 4, 8)
"""XX, YY, ZZ among the Pauli settings: the Bell weights depend on these correlators only."""
# Bell weights (Phi+, Psi-, Psi+, Phi-) = _BELL_FROM_CORRELATORS @ (1, <XX>, <YY>, <ZZ>) / 4
_BELL_FROM_CORRELATORS = np.array(
    [[1, 1, -1, 1], [1, -1, -1, -1], [1, 1, 1, -1], [1, -1, 1, 1]], dtype=float
)


def bell_weights_from_counts(kept: np.ndarray) -> np.ndarray:
    """Bell weights from kept-pair counts (..., 9, 4) by linear inversion (clipped, normalized).

    ``<B|rho|B>`` depends only on the correlators ``<XX>``, ``<YY>``, ``<ZZ>``, so the estimate
    is unbiased before clipping and needs no fit to a physical state.
    """
    n = kept[..., _BELL_SETTINGS, :]
    corr = (n[..., 0] - n[..., 1] - n[..., 2] + n[..., 3]) / n.sum(axis=-1)
    ones = np.ones(corr.shape[:-1] + (1,))
    w = np.clip(np.concatenate([ones, corr], axis=-1) @ _BELL_FROM_CORRELATORS.T / 4, 0.0, None)
    return w / w.sum(axis=-1, keepdims=True)


def _hashing(weights: np.ndarray) -> np.ndarray:
    """``max(0, 1 - H(w))``; weights left undefined by a setting with no kept shot give 0.

    A bootstrap replicate of a few shots can keep no pair in some setting: its correlator, and
    so the Bell weights, are unknown there, and the replicate claims no distillable yield.
    """
    from qkit import measures

    known = np.all(np.isfinite(weights), axis=-1)
    uniform = np.full_like(weights, 0.25)
    weights = np.where(known[..., None], weights, uniform)
    return np.where(known, np.maximum(0.0, 1.0 - measures.shannon_entropy(weights)), 0.0)


def _yield_interval(counts, rng, n_boot: int, confidence: float):
    """``p/2 * (1 - H(Bell weights))`` with a bootstrap interval (holding the estimate).

    Each replicate redraws every setting's shots from its observed outcome frequencies (five
    outcomes: the success probability and the kept pair's correlators together). The plug-in
    entropy of small Bell weights is biased, which the percentile interval ignores and the
    basic interval over-corrects, so the interval is the union of the two: measured coverage of
    the nominal 95% at ``a = 1/sqrt2``, 1000 shots per setting, 400 data sets: 0.93 (S = 0.95),
    0.93 (0.9), 0.98 (0.75), 0.96 (0.7); either interval alone went down to 0.86 and 0.88.
    Where the estimate is 0 the replicates mostly are too and the union was [0, 0] (or ends at
    ~1e-6); the upper end is then at least :func:`_yield_upper_bound`'s (measured: it covers
    that bound's true value in 97-98% of 400 data sets at S = 0.5 and 0.6, a = 1/sqrt2).
    """
    from qkit.estimators import Interval, bootstrap

    shots = counts.sum(axis=-1)
    p_hat = counts[:, :DISCARDED].sum() / shots.sum()
    value = 0.5 * p_hat * _hashing(bell_weights_from_counts(counts[:, :DISCARDED]))
    freqs = counts / shots[:, None]
    draws = rng.multinomial(shots.astype(np.int64), freqs, size=(n_boot, NUM_SETTINGS))
    kept = draws[..., :DISCARDED]
    with np.errstate(invalid="ignore", divide="ignore"):
        hashing = _hashing(bell_weights_from_counts(kept))
    reps = 0.5 * kept.sum(axis=(-1, -2)) / shots.sum() * hashing
    low, high, edge = value, value, np.asarray(False)
    for method in ("percentile", "basic"):
        lo, hi, at = bootstrap.interval_from_replicates(
            value, reps, confidence, method, lower=0.0, upper=0.5
        )
        low, high, edge = np.minimum(low, lo), np.maximum(high, hi), edge | at
    if value <= 0.0:  # the data hash nothing: the replicates' upper end may be 0 or ~1e-6
        high = max(float(high), _yield_upper_bound(counts, draws, confidence))
        edge = np.asarray(True)
    return Interval(value, low, high, confidence, edge, "bootstrap-percentile-basic-union")


def _yield_upper_bound(counts: np.ndarray, draws: np.ndarray, confidence: float) -> float:
    """Upper end of the yield where the hashing estimate is 0 (most replicates are too).

    ``H(w) >= h(w_max)`` for any distribution (grouping all but the largest weight), so the
    yield ``p/2 max(0, 1 - H(w))`` is at most ``p/2 (1 - h(max(w_max, 1/2)))``: a bound that
    moves with the largest Bell weight (the fidelity to the nearest Bell state) instead of
    sticking at 0. Its ``1 - alpha/2`` percentile over the replicates is the upper end: positive
    unless the fidelity is below 1/2 in nearly every replicate (the yield is then 0 for sure at
    that confidence, and the interval says so by touching its bound).
    """
    from qkit import measures

    kept, shots = draws[..., :DISCARDED], counts.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        largest = np.nan_to_num(np.max(bell_weights_from_counts(kept), axis=-1), nan=1.0)
    fid = np.clip(largest, 0.5, 1.0)
    bound = 1.0 - measures.shannon_entropy(np.stack([fid, 1.0 - fid], axis=-1))
    reps = 0.5 * kept.sum(axis=(-1, -2)) / shots * bound
    return float(np.quantile(reps, 0.5 + confidence / 2.0))


def _point_only(interval):
    from dataclasses import replace

    return replace(interval, ci_low=np.nan, ci_high=np.nan)


# -- the exact engine: the four mix-up branches simulated once per amplitude, mixed by S ----------
_BRANCH_PROBABILITIES: dict[tuple[str, float], np.ndarray] = definitions.cache({})


@functools.cache
def _branches():
    """The round's four noise-free branches (intact/swapped on each pair), light cones only."""
    from qkit import noise

    return tuple(noise.expand_branches(_round_circuit(), [noise.swap_mixture(1.0)], prune=True))


def branch_probabilities(backend: Backend, amplitudes: np.ndarray) -> np.ndarray:
    """Bit-string probabilities of every branch and setting, shape (n, 4, 9, 16).

    Each branch circuit runs on ``backend`` (``Backend.probabilities``) for every distinct
    amplitude not yet known to this process, all settings and amplitudes in one call.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    missing = sorted(
        {float(a) for a in amplitudes} - {a for n, a in _BRANCH_PROBABILITIES if n == backend.name}
    )
    if missing:
        settings = _tomography_settings()
        per_branch = []
        for branch in _branches():
            by_name = {p.name: p for p in branch.parameters}
            binds = {
                by_name[k]: np.tile(v, len(missing)) for k, v in settings.items() if k in by_name
            }
            if PAIR_ANGLE in by_name:
                angles = [_pair_angle(a) for a in missing]
                binds[by_name[PAIR_ANGLE]] = np.repeat(angles, NUM_SETTINGS)
            p = np.asarray(backend.probabilities(branch, binds))
            per_branch.append(p.reshape(len(missing), NUM_SETTINGS, -1))
        for i, a in enumerate(missing):
            _BRANCH_PROBABILITIES[(backend.name, a)] = np.stack([p[i] for p in per_branch])
    return np.array([_BRANCH_PROBABILITIES[(backend.name, float(a))] for a in amplitudes])


def probabilities(backend: Backend, points: Points) -> list[np.ndarray]:
    """Exact outcome distributions (9, 5) of each point: branch probabilities mixed by ``S``."""
    from qkit import noise

    per_branch = branch_probabilities(backend, points["amplitude"])
    out = []
    for s, p in zip(np.asarray(points["success"], dtype=float), per_branch, strict=True):
        weights = noise.branch_weights(_round_circuit(), [noise.swap_mixture(s)])
        bits = np.einsum("b,bko->ko", weights, p)
        out.append(bits @ _outcome_map(int(np.log2(bits.shape[-1]))))
    return out


def _labels(point: Point) -> dict[str, Any]:
    from qkit.mixup import circuits

    return {
        "settings": [f"pauli:{s}" for s in circuits.PAULI_SETTINGS],
        "outcomes": ["kept:00", "kept:01", "kept:10", "kept:11", "discarded"],
    }


DISTILL = Experiment(
    name="distill",
    title="beyond paper A: one DEJMPS round on two mixed-up pairs",
    params=MIXUP.params,  # the delivered pairs of paper A
    predict=predict,
    circuits=circuits,
    outcomes=outcomes,
    analyse=analyse,
    targets={
        "success_probability": "success_probability",
        "fidelity_out": "fidelity_out",
        "concurrence_out": "concurrence_out",
        "yield": "yield",
    },
    probabilities=probabilities,
    labels=_labels,
)
"""One DEJMPS round on two of paper A's mixed-up pairs."""
