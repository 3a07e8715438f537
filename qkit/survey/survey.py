"""Run a survey: every coupler of a device, measured class by class, beside its predictions."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qkit.estimators import chsh, mutual_information
from qkit.experiment import STREAM_ANALYSIS, STREAM_COUNTS, stream
from qkit.options import DEFAULT_BOOTSTRAP, DEFAULT_CONFIDENCE, check_confidence, resolve_seed
from qkit.survey import circuits as survey_circuits
from qkit.survey import predict
from qkit.survey.packing import Coupler, pack_couplers

CONFIDENCE = DEFAULT_CONFIDENCE
SIMULATOR_PAIRS = 6
"""Pairs per circuit on simulated devices (``fake:``, ``aer``, Braket's local simulator): their
samplers hold all active qubits in one state vector, so a whole class (about 35 pairs, 70
qubits on FakeFez) cannot be simulated; 6 pairs (12 qubits) keep each shot cheap. On hardware
a class is one circuit."""


@dataclass
class CouplerResult:
    """One coupler: estimate with its interval, ideal and noise-model predictions."""

    coupler: Coupler
    group: int
    value: float
    ci_low: float
    ci_high: float
    ideal: float
    predicted: float
    counts: np.ndarray = field(repr=False)

    def covers_prediction(self) -> bool:
        return bool(self.ci_low <= self.predicted <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coupler": list(self.coupler),
            "class": self.group,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ideal": self.ideal,
            "predicted": self.predicted,
            "counts": self.counts.tolist(),
        }


@dataclass
class Survey:
    """A survey of one experiment on one device (see :func:`run_survey`)."""

    backend: str
    experiment: str
    shots: int
    seed: int
    classes: list[list[Coupler]]
    num_circuits: int
    couplers: list[CouplerResult]
    confidence: float = CONFIDENCE
    seconds: float = 0.0
    engine: str = "sampler"

    def best(self) -> CouplerResult:
        """The coupler ``--layout best`` uses: the highest lower confidence bound
        (:data:`qkit.survey.layout.RULE`)."""
        from qkit.survey.layout import best_row

        top = best_row([r.to_dict() for r in self.couplers])
        return next(r for r in self.couplers if list(r.coupler) == top["coupler"])

    def median(self) -> CouplerResult:
        """The median coupler by estimate (the lower one for an even count)."""
        ranked = sorted(self.couplers, key=lambda r: r.value)
        return ranked[(len(ranked) - 1) // 2]

    def coverage(self) -> float:
        """Fraction of couplers whose noise-model prediction lies in the estimate's interval."""
        return float(np.mean([r.covers_prediction() for r in self.couplers]))

    def to_dict(self) -> dict[str, Any]:
        from qkit.survey.layout import RULE

        return {
            "backend": self.backend,
            "experiment": self.experiment,
            "shots": self.shots,
            "seed": self.seed,
            "confidence": self.confidence,
            "num_classes": len(self.classes),
            "num_circuits": self.num_circuits,
            "engine": self.engine,
            "coverage": self.coverage(),
            "best": list(self.best().coupler),
            "best_rule": RULE,
            "couplers": [r.to_dict() for r in self.couplers],
        }


def _estimates(experiment: str, counts: np.ndarray, rng: np.random.Generator, confidence: float):
    """(value, ci_low, ci_high) per coupler from counts (n_couplers, n_settings, 4), by the
    estimators ``qkit run`` uses, with their clipping of values *and* intervals to the
    physical range: CHSH within Tsirelson's bound (:func:`qkit.estimators.chsh`), mutual
    information within ``[0, 1]`` bit (:func:`qkit.estimators.mutual_information`)."""
    if experiment == "chsh":
        est = chsh(counts, confidence=confidence)
        return est.value, est.ci_low, est.ci_high
    binary = np.stack([counts[..., 3], counts[..., :3].sum(axis=-1)], axis=-1)
    info = mutual_information(
        binary,
        predict.prior(experiment),
        confidence=confidence,
        n_boot=DEFAULT_BOOTSTRAP,
        rng=rng,
    )
    return info.value, info.ci_low, info.ci_high


def _simulated(backend) -> bool:
    return backend.kind in ("aer", "fake") or backend.name == "braket:local"


def _sampled_counts(backend, experiment, chunks, shots, seed) -> tuple[np.ndarray, int]:
    """Counts (n_couplers in chunk order, n_settings, 4) sampled on ``backend`` through the
    execution layer (:func:`qkit.engines.sample_families`): one family per chunk, its class
    circuits laid out on the chunk's couplers, all in one backend call; and the number of
    circuits."""
    from qkit import engines
    from qkit.sampling import Family

    pairs = survey_circuits.pair_circuits(experiment)
    families = []
    for _, chunk in chunks:
        logical = [survey_circuits.class_circuit(pair, chunk) for pair in pairs.values()]
        settings: list[Mapping[str, np.ndarray]] = [
            survey_circuits.settings(circuit, experiment) for circuit in logical
        ]
        family = Family(f"survey-{experiment}", logical, settings)
        families.append((family, survey_circuits.layout(chunk)))
    sampled = engines.sample_families(backend, families, shots=shots, seed=seed, what="this survey")
    blocks = []
    for (_, chunk), (family, physical), (prepared, counts) in zip(
        chunks, families, sampled, strict=True
    ):
        for executed in prepared.circuits:  # no pair moved off its coupler
            survey_circuits.check_placement(family.circuits[0], executed, physical)
        per_setting = [
            survey_circuits.pair_counts(c, len(chunk)) for row in counts.counts for c in row
        ]
        blocks.append(np.stack(per_setting, axis=1))
    return np.concatenate(blocks), sum(len(family.circuits) for family, _ in families)


def run_survey(
    backend,
    experiment: str = "chsh",
    *,
    shots: int = 1000,
    seed: int | None = None,
    confidence: float = CONFIDENCE,
    pairs_per_circuit: int | None = None,
    couplers: Sequence[Coupler] | None = None,
    noise_model=None,
    engine: str = "auto",
) -> Survey:
    """Measure ``experiment`` on every coupler of ``backend`` (a :class:`qkit.backends.Backend`).

    Couplers are packed into classes (:func:`~qkit.survey.packing.pack_couplers`); each class
    is one circuit (CHSH, 4 settings as bindings) or one per letter (channel), transpiled by
    the backend (its optimization level and transpiler seed) with the layout fixed to its
    couplers and sampled with ``shots`` (at least :data:`qkit.survey.layout.MIN_RANK_SHOTS`)
    per setting or letter in one backend call through the execution layer, as ``qkit run``
    samples a point (:func:`qkit.engines.sample_families`). Every random draw comes from a
    stream of ``seed`` (drawn and recorded when not given).

    Each coupler gets the estimate by the estimator ``qkit run`` uses, clipped to the
    physical range with its interval at ``confidence`` (:func:`_estimates`), beside the
    ideal value and the exact noise-model prediction
    (:mod:`qkit.survey.predict`). ``pairs_per_circuit`` splits a class into circuits of at most
    that many pairs (default: the whole class on hardware, :data:`SIMULATOR_PAIRS` on
    simulators). ``couplers`` restricts the survey to some couplers of the device (default:
    all). ``noise_model`` (default ``NoiseModel.from_backend(backend.device)``) is the model
    of the predictions.

    ``engine``: ``sampler`` samples the circuits on the backend; ``exact`` (a fake device,
    whose noise model qkit evaluates exactly) draws each coupler's counts multinomially from
    the exact noisy distribution of the pair's own transpiled gates, the same distribution
    the simulator samples (the pairs of a circuit do not interact, and the device model has
    no crosstalk), in seconds instead of minutes of noisy trajectories; ``auto`` is ``exact``
    on a fake device and ``sampler`` elsewhere.
    """
    survey_circuits.check_experiment(experiment)
    from qkit.survey.layout import MIN_RANK_SHOTS

    if isinstance(shots, bool) or int(shots) != shots or shots < MIN_RANK_SHOTS:
        raise ValueError(
            f"a survey needs at least {MIN_RANK_SHOTS} shots per setting to rank couplers, "
            f"got {shots!r}"
        )
    if engine == "auto":
        engine = "exact" if backend.kind == "fake" else "sampler"
    if engine not in ("exact", "sampler"):
        raise ValueError(f"engine must be one of auto, exact, sampler, got {engine!r}")
    if engine == "exact" and backend.kind != "fake":
        raise ValueError(
            f"the survey's exact engine needs a fake device's noise model, not {backend.name!r}; "
            "use engine 'sampler'"
        )
    if pairs_per_circuit is None and _simulated(backend):
        pairs_per_circuit = SIMULATOR_PAIRS
    if pairs_per_circuit is not None and (
        isinstance(pairs_per_circuit, bool)
        or int(pairs_per_circuit) != pairs_per_circuit
        or pairs_per_circuit < 1
    ):
        raise ValueError(f"pairs_per_circuit must be a positive integer, got {pairs_per_circuit!r}")
    start = time.perf_counter()
    seed = resolve_seed(seed)
    device = backend.device
    from qkit.backends._base import DEFAULT_TRANSPILER_SEED

    classes = pack_couplers(device, couplers)
    chunks = [
        (index, group[k : k + (pairs_per_circuit or len(group))])
        for index, group in enumerate(classes)
        for k in range(0, len(group), pairs_per_circuit or len(group))
    ]
    coupler_list = [coupler for _, chunk in chunks for coupler in chunk]
    group_of = [index for index, chunk in chunks for _ in chunk]
    probabilities = predict.noise_probabilities(
        device,
        coupler_list,
        experiment,
        optimization_level=backend.optimization_level,
        seed=DEFAULT_TRANSPILER_SEED if backend.seed is None else backend.seed,
        model=noise_model,
    )  # the exact noisy distribution of each pair's own transpiled gates
    if engine == "exact":
        weights = np.clip(probabilities, 0.0, None)
        weights /= weights.sum(axis=-1, keepdims=True)
        counts = stream(seed, STREAM_COUNTS).multinomial(shots, weights)
        num_circuits = 0
    else:
        counts, num_circuits = _sampled_counts(backend, experiment, chunks, shots, seed)
    values, lows, highs = _estimates(
        experiment, counts, stream(seed, STREAM_ANALYSIS), check_confidence(confidence)
    )
    predicted = predict.value_from_probabilities(experiment, probabilities)
    ideal = predict.ideal(experiment)
    rows = [
        CouplerResult(
            coupler=c,
            group=g,
            value=float(v),
            ci_low=float(lo),
            ci_high=float(hi),
            ideal=ideal,
            predicted=float(p),
            counts=n,
        )
        for c, g, v, lo, hi, p, n in zip(
            coupler_list, group_of, values, lows, highs, predicted, counts, strict=True
        )
    ]
    return Survey(
        backend=backend.name,
        experiment=experiment,
        shots=shots,
        seed=seed,
        classes=classes,
        num_circuits=num_circuits,
        engine=engine,
        couplers=rows,
        confidence=check_confidence(confidence),
        seconds=time.perf_counter() - start,
    )
