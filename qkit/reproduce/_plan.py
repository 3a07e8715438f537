"""Which experiments ``qkit reproduce`` runs: point sets, shots, and per-point seeds.

Paper A points lie on the curves of Fig. 3 (the optimal amplitude ``a*(S)``, Bell pairs
``a = 1/sqrt2``, weak pairs ``a = 0.1``), on a fidelity scan in ``a`` at fixed ``S`` (Eq. 3.2),
in the local-hidden-variable region and in the CHSH-violating region of Fig. 2. Paper B points
are ``eta`` x {entangled, separable} x {pair, two-slot} (Figs. 4-5). Beyond the papers, one
DEJMPS round on two mixed-up Bell pairs (``qkit.distill``) at a few ``S``, on both sides of
where one round followed by hashing stops yielding Bell pairs (``S ~ 0.66``), and repeater
chains of mixed-up Bell pairs (``qkit.repeater``) at the repeater figure's memory dephasing, on
backends that take a noise model (Aer: a device runs them with ``qkit run chain``).

Every point gets its own seed, derived from the run's seed and the point's parameters
(:func:`qkit.experiment.point_seed`, as a sweep derives its rows' seeds), not its position in
the list: adding points never changes the others' samples, and ``qkit run --seed`` with a
point's recorded seed reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qkit import options
from qkit.mixup import theory as mixup_theory

BELL = float(mixup_theory.BELL_AMPLITUDE)
WEAK = 0.1
CONFIDENCE = options.DEFAULT_CONFIDENCE


@dataclass(frozen=True)
class Settings:
    """Sizes of one reproduction: point sets, shots per setting/letter, figure resolution."""

    mode: str
    mixup_shots: int
    channel_shots: int
    dpi: int
    mixup_groups: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    etas: tuple[float, ...] = ()
    fig4_etas: tuple[float, ...] = (1.0, 0.5)
    construction_etas: tuple[float, ...] = (1.0, 0.5)
    distill_shots: int = 2000
    distill_pairs: tuple[tuple[float, float], ...] = ()
    chain_shots: int = 1000
    chain_points: tuple[tuple[int, float, int], ...] = ()  # (links, success, rounds)


def _a_star(successes: list[float]) -> list[tuple[float, float]]:
    return [(s, float(mixup_theory.optimal_amplitude(s))) for s in successes]


def settings(quick: bool) -> Settings:
    """The quick (about a minute) or full (publication) reproduction."""
    if quick:
        groups = {
            "optimal a*(S) (Fig. 3)": _a_star([0.2, 0.3, 0.4]),
            "Bell pairs a = 1/sqrt2 (Figs. 2-3)": [(s, BELL) for s in (0.25, 0.38, 0.6, 0.8, 1.0)],
            "weak pairs a = 0.1 (Fig. 3)": [(s, WEAK) for s in (0.5, 1.0)],
            "fidelity scan at S = 0.5 (Eq. 3.2)": [(0.5, a) for a in (0.3, 0.5, BELL, 0.9)],
            "CHSH region off the Bell line (Sec. V)": [(0.95, 0.3)],
        }
        return Settings(
            mode="quick",
            mixup_shots=2000,
            channel_shots=2000,
            dpi=150,
            mixup_groups=groups,
            etas=(0.0, 0.25, 0.5, 0.75, 1.0),
            distill_shots=2000,
            distill_pairs=tuple((s, BELL) for s in (0.9, 0.75, 0.6)),
            chain_shots=1000,
            chain_points=((2, 0.95, 0), (4, 0.95, 0)),
        )
    groups = {
        "optimal a*(S) (Fig. 3)": _a_star([0.1, 0.15, 0.2, 0.3, 0.4]),
        "Bell pairs a = 1/sqrt2 (Figs. 2-3)": [
            (s, BELL) for s in (0.2, 0.25, 0.3, 0.38, 0.45, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
        ],
        "weak pairs a = 0.1 (Fig. 3)": [(s, WEAK) for s in (0.1, 0.2, 0.25, 0.5, 0.75, 1.0)],
        "fidelity scan at S = 0.25, 0.5, 0.75 (Eq. 3.2)": [
            (s, a) for s in (0.25, 0.5, 0.75) for a in (0.3, 0.5, 0.9)
        ],
        "CHSH region off the Bell line (Sec. V)": [(0.95, 0.3), (0.9, 0.6)],
    }
    return Settings(
        mode="full",
        mixup_shots=20000,
        channel_shots=20000,
        dpi=300,
        mixup_groups=groups,
        etas=tuple(np.round(np.linspace(0.0, 1.0, 9), 6).tolist()),
        distill_shots=20000,
        distill_pairs=tuple((s, BELL) for s in (0.95, 0.9, 0.8, 0.75, 0.7, 0.6)),
        chain_shots=4000,
        chain_points=((2, 0.95, 0), (4, 0.95, 0), (8, 0.95, 0), (2, 0.95, 1), (2, 0.8, 0)),
    )


def mixup_points(config: Settings) -> list[dict[str, Any]]:
    """Distinct ``(S, a)`` points, each with the groups (figure curves) it belongs to."""
    points: dict[tuple[float, float], dict[str, Any]] = {}
    for group, pairs in config.mixup_groups.items():
        for success, amplitude in pairs:
            key = (round(success, 9), round(amplitude, 9))
            entry = points.setdefault(
                key, {"success": float(success), "amplitude": float(amplitude), "groups": []}
            )
            entry["groups"].append(group)
    return sorted(points.values(), key=lambda p: (p["amplitude"], p["success"]))


def channel_points(config: Settings) -> list[dict[str, Any]]:
    """``eta`` x inputs x alphabets."""
    return [
        {"eta": float(eta), "inputs": inputs, "alphabet": alphabet}
        for alphabet in ("pair", "two-slot")
        for inputs in ("entangled", "separable")
        for eta in config.etas
    ]


def distill_points(config: Settings) -> list[dict[str, Any]]:
    """``(S, a)`` of the sampled DEJMPS rounds (beyond the papers)."""
    return [{"success": float(s), "amplitude": float(a)} for s, a in config.distill_pairs]


CHAIN_DEPHASING = 0.01
"""Memory dephasing per level of the sampled chains: the repeater figure's
(``qkit.figures.repeater.DEFAULT_DEPHASING``), so the points sit on its curves."""


def chain_points(config: Settings) -> list[dict[str, Any]]:
    """The sampled repeater chains (beyond the papers): links of mixed-up Bell pairs."""
    return [
        {
            "links": float(links),
            "success": float(success),
            "amplitude": BELL,
            "rounds": float(rounds),
            "dephasing": CHAIN_DEPHASING,
        }
        for links, success, rounds in config.chain_points
    ]


def shots(config: Settings, kind: str) -> int:
    """The mode's shots per setting (or letter) of experiment ``kind``."""
    return int(getattr(config, f"{kind}_shots"))
