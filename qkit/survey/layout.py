"""Noise-aware layout: the coupler where an experiment's pair is predicted to do best.

Two sources, in order:

1. the stored survey with the most shots (the newest among equals,
   :func:`qkit.survey.store.largest`) of the same device and the same pair experiment
   (``chsh`` for paper A's mix-up, ``channel`` for paper B's channel), if it has at least
   :data:`MIN_RANK_SHOTS` shots per setting: the coupler with the **highest lower confidence
   bound** (:data:`RULE`). Ranking by the estimate itself would reward luck (the winner's
   curse: of many couplers with equal quality, the one whose sample fluctuated highest wins);
   the lower bound penalizes an estimate by its uncertainty. A smaller survey never overrides
   a larger one;
2. the calibration data of the device's target: every coupler gets a cheap score, the sum of
   its two-qubit gate error and the readout errors of its two qubits (:func:`calibration_scores`);
   the :data:`SHORTLIST` lowest go through the exact noise-model prediction of
   :mod:`qkit.survey.predict` (density-matrix numerics of the transpiled pair circuits with
   ``NoiseModel.from_backend``), and the best predicted value wins. An experiment without a
   pair survey (a user experiment) takes the lowest cheap score.

Why our own scoring, not mapomatic: the prediction we rank by is the exact quantity the run
estimates (CHSH value, mutual information), computed with the same noise model as the
``prediction_device`` beside every result, so the choice and the reported expectation agree;
mapomatic scores a generic fidelity proxy and would be one more dependency.
"""

from __future__ import annotations

from typing import Any

from qkit.device_model import calibration_scores, choose_by_calibration

SHORTLIST = 8
"""Couplers with the lowest calibration score that get the exact noise-model prediction."""

MIN_RANK_SHOTS = 100
"""Shots per setting below which a survey cannot rank couplers: ``qkit survey`` refuses fewer
(the analytic CHSH interval of a few shots is meaningless, and a 1-shot survey gives every
coupler the same extreme value)."""

RULE = "highest lower confidence bound"
"""How ``--layout best`` picks a surveyed coupler (the survey's ``--json`` names it ``best``)."""

PAIR_EXPERIMENT = {"mixup": "chsh", "channel": "channel"}
"""The survey experiment that predicts each built-in experiment's pair."""


def choose(backend, experiment: str, store: Any = None) -> dict[str, Any]:
    """The best coupler for ``experiment`` (an experiment name) on ``backend``.

    Returns ``{"physical": [a, b], "source": ..., ...}``: ``source`` is ``"survey"`` (with its
    ``survey_run``, the coupler's ``estimate`` and ``predicted`` value) or ``"calibration"``
    (with the coupler's ``score`` and, for a built-in pair experiment, its ``predicted``).
    """
    from qkit.survey import predict
    from qkit.survey import store as survey_store

    pair = PAIR_EXPERIMENT.get(experiment)
    if pair is not None and store is not None:
        found = survey_store.largest(store, backend.name, pair, MIN_RANK_SHOTS)
        if found is not None:
            run_id, rows = found
            top = best_row(rows)
            return {
                "physical": list(top["coupler"]),
                "source": "survey",
                "survey_run": run_id,
                "experiment": pair,
                "estimate": top["value"],
                "ci_low": top["ci_low"],
                "rule": RULE,
                "predicted": top.get("predicted"),
            }
    if pair is None:
        return choose_by_calibration(backend)
    scores = calibration_scores(backend.device)
    shortlist = sorted(scores, key=lambda c: (scores[c], c))[:SHORTLIST]
    values = predict.coupler_values(
        backend.device, pair, shortlist, model=predict.cached_noise_model(backend.device)
    )
    best = max(shortlist, key=lambda c: (values[c], -scores[c]))
    return {
        "physical": list(best),
        "source": "calibration",
        "experiment": pair,
        "score": scores[best],
        "predicted": values[best],
        "shortlist": len(shortlist),
    }


def best_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The coupler row with the highest lower confidence bound (then the higher estimate,
    then the lower coupler: deterministic)."""
    return max(rows, key=lambda r: (r["ci_low"], r["value"], [-q for q in r["coupler"]]))
