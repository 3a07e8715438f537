"""Noise-aware layout: the coupler where an experiment's pair is predicted to do best.

Two sources, in order:

1. the latest stored survey (:func:`qkit.survey.store.latest`) of the same device and the
   same pair experiment (``chsh`` for paper A's mix-up, ``channel`` for paper B's channel):
   the coupler with the highest measured estimate;
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

SHORTLIST = 8
"""Couplers with the lowest calibration score that get the exact noise-model prediction."""

PAIR_EXPERIMENT = {"mixup": "chsh", "channel": "channel"}
"""The survey experiment that predicts each built-in experiment's pair."""
LINE_EXPERIMENTS = ("chain",)
"""Experiments whose qubits talk to their neighbours in order (a repeater chain): ``best``
puts virtual qubit ``k`` on the ``k``-th qubit of the best line of coupled qubits."""
MAX_LINE = 16
"""Longest line searched (simple paths on the coupling graph, depth first)."""


def _error(props) -> float | None:
    error = getattr(props, "error", None) if props is not None else None
    return None if error is None else float(error)


def calibration_scores(device) -> dict[tuple[int, int], float]:
    """Cheap score of each coupler ``(i, j)``, ``i < j``: two-qubit gate error (the lower of
    the two directions and of the device's two-qubit gates) + readout errors of ``i`` and ``j``.
    Missing calibration counts as 0."""
    from qkit.survey.packing import couplers

    target = device.target
    readout: dict[int, float] = {}
    if "measure" in target.operation_names:
        for qargs, props in target["measure"].items():
            if qargs is not None:
                readout[int(qargs[0])] = _error(props) or 0.0
    gate: dict[tuple[int, int], float] = {}
    for name in target.operation_names:
        for qargs, props in target[name].items():
            if qargs is None or len(qargs) != 2:
                continue
            key = (min(qargs), max(qargs))
            error = _error(props)
            if error is not None:
                gate[key] = min(gate.get(key, error), error)
    return {
        (a, b): gate.get((a, b), 0.0) + readout.get(a, 0.0) + readout.get(b, 0.0)
        for a, b in couplers(device)
    }


def best_line(device, length: int) -> tuple[list[int], float]:
    """The line of ``length`` coupled qubits with the lowest calibration score: the sum of
    the two-qubit gate errors along it and the readout errors of its qubits (missing
    calibration counts as 0; lowest indices on ties)."""
    from qkit.backends._layout import _neighbours
    from qkit.survey.packing import couplers

    if not 1 <= length <= MAX_LINE:
        raise ValueError(f"a line must have 1 to {MAX_LINE} qubits, got {length}")
    scores = calibration_scores(device)
    readout = _readout_errors(device)
    edge = {
        c: scores[c] - readout.get(c[0], 0.0) - readout.get(c[1], 0.0) for c in couplers(device)
    }
    neighbours = _neighbours(device)
    best: tuple[float, list[int]] | None = None

    def extend(path: list[int], score: float) -> None:
        nonlocal best
        if best is not None and score >= best[0]:
            return
        if len(path) == length:
            best = (score, list(path))
            return
        for q in sorted(neighbours.get(path[-1], ())):
            if q not in path:
                pair = (min(path[-1], q), max(path[-1], q))
                path.append(q)
                extend(path, score + edge.get(pair, 0.0) + readout.get(q, 0.0))
                path.pop()

    for start in range(int(device.num_qubits)):
        extend([start], readout.get(start, 0.0))
    if best is None:
        raise ValueError(f"this device has no line of {length} coupled qubits")
    return best[1], float(best[0])


def _readout_errors(device) -> dict[int, float]:
    target = device.target
    out: dict[int, float] = {}
    if "measure" in target.operation_names:
        for qargs, props in target["measure"].items():
            if qargs is not None:
                out[int(qargs[0])] = _error(props) or 0.0
    return out


def choose(backend, experiment: str, store: Any = None, *, width: int = 2) -> dict[str, Any]:
    """The best coupler for ``experiment`` (an experiment name) on ``backend``.

    Returns ``{"physical": [a, b], "source": ..., ...}``: ``source`` is ``"survey"`` (with its
    ``survey_run``, the coupler's ``estimate`` and ``predicted`` value) or ``"calibration"``
    (with the coupler's ``score`` and, for a built-in pair experiment, its ``predicted``).
    For a :data:`LINE_EXPERIMENTS` experiment of ``width`` qubits: the best line of that many
    (:func:`best_line`), ``source`` ``"calibration-line"``.
    """
    from qkit.survey import predict
    from qkit.survey import store as survey_store

    if experiment in LINE_EXPERIMENTS and width > 2:
        # the longest line up to the width (a small device may have none that long): the
        # rest of the qubits go next to it (qkit.backends._layout.complete_layout)
        for length in range(min(width, MAX_LINE), 1, -1):
            try:
                line, score = best_line(backend.device, length)
            except ValueError:
                continue
            return {"physical": line, "source": "calibration-line", "score": score}

    pair = PAIR_EXPERIMENT.get(experiment)
    if pair is not None and store is not None:
        found = survey_store.latest(store, backend.name, pair)
        if found is not None:
            run_id, rows = found
            top = max(rows, key=lambda r: r["value"])
            return {
                "physical": list(top["coupler"]),
                "source": "survey",
                "survey_run": run_id,
                "experiment": pair,
                "estimate": top["value"],
                "predicted": top.get("predicted"),
            }
    scores = calibration_scores(backend.device)
    ranked = sorted(scores, key=lambda c: (scores[c], c))
    if pair is None:
        best = ranked[0]
        return {"physical": list(best), "source": "calibration", "score": scores[best]}
    shortlist = ranked[:SHORTLIST]
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
