"""Run every point of a reproduction and keep one plain record per experiment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qkit.channel import experiment as channel_experiment
from qkit.mixup import experiment as mixup_experiment
from qkit.reproduce._plan import CONFIDENCE, Settings, derive_seed, point_key
from qkit.result import Result, jsonable


def record(point_id: str, result: Result, groups: list[str] | None = None) -> dict[str, Any]:
    """The JSON record of one experiment in ``results.json`` (counts included)."""
    paper = "A" if result.kind == "mixup" else "B"
    return jsonable(
        {
            "id": point_id,
            "paper": paper,
            "kind": result.kind,
            "key": point_key(result.kind, result.params),
            "params": result.params,
            "groups": groups or [],
            "seed": result.seed,
            "shots": result.shots,
            "backend": result.backend,
            "run_id": result.run_id,
            "prediction": result.prediction,
            "estimate": result.estimate,
            "counts": result.counts,
            "metadata": result.metadata,
        }
    )


def run_points(
    mixup: list[dict[str, Any]],
    channel: list[dict[str, Any]],
    config: Settings,
    *,
    backend: str,
    seed: int,
    shots: int | None,
    n_boot: int | None,
    store=None,
    starting: Callable[[str], None] = lambda label: None,
    done: Callable[[], None] = lambda: None,
) -> list[dict[str, Any]]:
    """Sample every point on the backend named ``backend``.

    ``starting(label)`` and ``done()`` are called around each experiment (progress).

    ``shots`` and ``n_boot`` override the mode's defaults for both papers.
    """
    records = []
    for i, point in enumerate(mixup, start=1):
        params = {"success": point["success"], "amplitude": point["amplitude"]}
        starting(f"paper A: S={params['success']:g}, a={params['amplitude']:.4g}")
        result = mixup_experiment.run(
            **params,
            shots=shots or config.mixup_shots,
            seed=derive_seed(seed, point_key("mixup", params)),
            backend=backend,
            n_boot=n_boot or config.mixup_boot,
            confidence=CONFIDENCE,
            store=store,
        )
        records.append(record(f"A{i:02d}", result, point["groups"]))
        done()
    for i, params in enumerate(channel, start=1):
        starting(f"paper B: eta={params['eta']:g} {params['inputs']} {params['alphabet']}")
        result = channel_experiment.run(
            **params,
            shots=shots or config.channel_shots,
            seed=derive_seed(seed, point_key("channel", params)),
            backend=backend,
            n_boot=n_boot or config.channel_boot,
            confidence=CONFIDENCE,
            store=store,
        )
        records.append(record(f"B{i:02d}", result))
        done()
    return records
