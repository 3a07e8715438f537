"""Beyond paper A: Bell pairs distilled per delivered mixed-up pair, against the paper's bound.

Exact theory from :mod:`qkit.distill.theory` on a log grid of S; sampled one-round yields can
be overlaid. Sample records are plain dicts; an estimate is ``{"value", "ci_low", "ci_high"}``
or ``{"value", "stderr"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qkit.distill import theory
from qkit.figures._style import OKABE_ITO, intervals, new_figure, styled, yerr

Sample = Mapping[str, Any]

# (key of best_yields, colour, line style, width, label), drawn in this order after the bounds
_MARKER = dict(color=OKABE_ITO["green"], mec="black", mew=0.8, zorder=6)
_PROTOCOL_CURVES = (
    (
        "filter_dejmps",
        OKABE_ITO["vermillion"],
        "-",
        2.6,
        "best: filter + DEJMPS rounds + hashing",
    ),
    ("dejmps", OKABE_ITO["blue"], (0, (5, 2)), 1.8, "DEJMPS rounds + hashing (no filter)"),
    ("one_round", OKABE_ITO["green"], (0, (1.5, 1.2)), 2.0, "one DEJMPS round + hashing"),
    ("hashing", OKABE_ITO["orange"], "-", 2.0, "hashing alone (twirl + hash)"),
)


def _grid(success_min: float, points: int, thresholds: Sequence[float]) -> np.ndarray:
    """S grid: log-spaced, evenly spaced where the curves bend (S >= 0.4), and log-spaced in
    ``S - t`` just above each threshold ``t``, where log-scale curves plunge to zero."""
    parts = [np.geomspace(success_min, 1.0, points), np.linspace(0.4, 1.0, points)]
    for t in thresholds:
        parts.append(t * (1.0 + np.geomspace(1e-7, 0.3, 10)))
    grid = np.unique(np.concatenate(parts))
    return grid[(grid >= success_min) & (grid <= 1.0)]


def threshold(key: str, low: float, high: float, **search: Any) -> float:
    """Smallest S in ``[low, high]`` where ``best_yields(S)[key] > 0``, by bisection (1e-6)."""
    while high - low > 1e-6:
        mid = 0.5 * (low + high)
        if float(theory.best_yields(mid, **search)[key]) > 0:
            high = mid
        else:
            low = mid
    return high


@styled
def distill_yield(
    samples: Sequence[Sample] | None = None,
    *,
    success_min: float = 0.01,
    points: int = 36,
    target_fidelity: float = 1.0,
    max_rounds: int = theory.DEFAULT_MAX_ROUNDS,
    resolution: int = 60,
) -> Figure:
    """Bell pairs per delivered pair against S: protocols, paper A's bound, the hashing bound.

    Top panel, log-log: ``E_F^max(S)`` (paper A, Fig. 3; its reciprocal ``1/E_F^max`` is the
    fewest delivered pairs per Bell pair), the coherent-information lower bound on distillable
    entanglement (``max_a S(rho_B) - S(rho_AB)``, where positive), then the best yield of each
    protocol (optimized over ``a``, filter strength and rounds; :func:`qkit.distill.theory.
    best_yields`). Bottom panel: each yield as a fraction of ``E_F^max``. ``fig.axes[0].lines``
    starts with the two bounds, then the protocol curves in the order of the legend.

    Parameters
    ----------
    samples : sequence of dict, optional
        Sampled one-round points ``{"success", "amplitude", "yield": {value, ci_low,
        ci_high}}`` (one round then hashing of the estimated kept-pair state), optionally with
        ``"prediction": {"yield": number}``, drawn as a hollow marker beside the estimate.
        Estimates ``<= 0`` are drawn at the upper end of their interval as upper limits.
    success_min : float
        Left end of the S axis.
    points : int
        Log-spaced S values (plus a few just above the hashing threshold).
    target_fidelity : float
        Pairs at this Bell fidelity count without hashing. The default 1 counts only hashed
        (asymptotically perfect) pairs, the ones paper A's bound ``E_F`` is about; with 0.99
        the delivered pairs at ``S >= 0.9867`` already count, one Bell pair each, above ``E_F``.
    max_rounds, resolution
        Passed to :func:`qkit.distill.theory.best_yields`.
    """
    samples = list(samples or [])
    search: dict[str, Any] = dict(
        target_fidelity=target_fidelity, max_rounds=max_rounds, resolution=resolution
    )
    s_hash = theory.hashing_threshold()
    s_info = threshold("coherent_information", 0.5, s_hash, **search)  # on the a >= 1e-12 grid
    s_one = threshold("one_round", 0.5, s_hash, **search)
    s = _grid(success_min, points, [s_hash, s_info, s_one])
    best = theory.best_yields(s, **search)
    gain = np.max(best["filter_dejmps"] / np.where(best["dejmps"] > 0, best["dejmps"], np.inf))
    floor = 0.3 * float(np.min(best["filter_dejmps"][best["filter_dejmps"] > 0]))

    fig = new_figure(7.2, 7.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 1.0])
    top.plot(
        s,
        best["eof_max"],
        color=OKABE_ITO["black"],
        lw=1.8,
        label=r"upper bound $E_F^\max(S)$ (paper A, Fig. 3)",
        zorder=3,
    )
    info = best["coherent_information"]
    top.plot(
        s,
        np.where(info > 0, info, np.nan),
        color=OKABE_ITO["sky"],
        lw=2.2,
        ls=(0, (6, 2)),
        label=r"lower bound $\max_a\,[S(\rho_B) - S(\rho_{AB})]$ (one-way hashing)",
        zorder=3,
    )
    for key, color, ls, lw, label in _PROTOCOL_CURVES:
        if key == "dejmps":
            label = f"{label}: within {100 * (gain - 1):.0f}% of best"
        y = best[key]
        top.plot(s, np.where(y > 0, y, np.nan), color=color, ls=ls, lw=lw, label=label)
        ratio = np.where(y > 0, y / best["eof_max"], np.nan)
        bottom.plot(s, ratio, color=color, ls=ls, lw=lw)
    bottom.plot(
        s,
        np.where(info > 0, info / best["eof_max"], np.nan),
        color=OKABE_ITO["sky"],
        lw=2.2,
        ls=(0, (6, 2)),
    )
    for ax in (top, bottom):
        ax.axvline(s_hash, color="0.55", ls=":", lw=1.0)
    bottom.text(
        0.012,
        0.85,
        f"yields nothing below: hashing alone $S = {s_hash:.3f}$ (dotted); "
        f"one round + hashing $S = {s_one:.3f}$;\n"
        r"lower bound $> 0$: $S = (\sqrt{5}-1)/2 = 0.618$ (only as $a \to 0$; "
        f"{s_info:.3f} for $a \\geq 10^{{-12}}$);\n"
        "DEJMPS rounds (+ filter) + hashing: never, every $S > 0$ yields; its corners are\n"
        "where the best number of rounds changes (fewer rounds as $S$ grows)",
        va="top",
        ha="left",
        fontsize=8,
        color="0.2",
    )
    if samples:
        _one_round_samples(top, samples, floor)

    top.set_xscale("log")
    top.set_yscale("log")
    top.set_xlim(success_min, 1.0)
    top.set_ylim(floor, 2.0)
    top.grid(True, which="major", color="0.88", lw=0.6)
    top.set_ylabel("Bell pairs per delivered pair")
    goal = (
        "perfect Bell pairs" if target_fidelity == 1 else f"pairs of fidelity {target_fidelity:g}"
    )
    top.set_title(f"Distilling mixed-up pairs into {goal}, against paper A's bound")
    top.legend(loc="upper left")
    bottom.set_yscale("log")
    bottom.set_ylim(3e-3, 1.5)
    bottom.grid(True, which="major", color="0.88", lw=0.6)
    bottom.set_xlabel(r"delivery success probability $S$")
    bottom.set_ylabel(r"fraction of $E_F^\max$")
    return fig


def _one_round_samples(ax, samples: Sequence[Sample], floor: float) -> None:
    """Estimates with intervals; upper limits as arrows, those at zero in a marked strip."""
    est = intervals(samples, "yield")
    x = np.array([float(sample["success"]) for sample in samples])
    style = dict(color=OKABE_ITO["green"], mec="black", mew=0.8, capsize=3, zorder=5)
    shown = (est[:, 0] > floor) & (est[:, 1] > 0)
    if shown.any():
        rows = est[shown].copy()
        rows[:, 1] = np.maximum(rows[:, 1], floor)
        ax.errorbar(x[shown], rows[:, 0], yerr=yerr(rows), fmt="o", ms=7, **style)
    limits = np.isfinite(est[:, 0]) & ~shown
    above = limits & (est[:, 2] > 10 * floor)  # an upper limit with room below it
    if above.any():
        tops = est[above, 2]
        ax.errorbar(
            x[above], tops, yerr=[0.7 * tops, 0 * tops], uplims=True, fmt="v", ms=7, **style
        )
    near_zero = limits & ~above
    if near_zero.any():
        # too close to 0 for the log axis: an arrow down to the axis, well above its edge
        strip = ax.get_xaxis_transform()  # x in data, y in axes fraction
        for xi, (value, low, high) in zip(x[near_zero], est[near_zero], strict=True):
            ax.annotate(
                "",
                xy=(xi, 0.0),
                xytext=(xi, 0.13),
                xycoords=strip,
                arrowprops=dict(arrowstyle="-|>", color=OKABE_ITO["green"], lw=1.6),
                zorder=5,
            )
            ax.plot([xi], [0.13], "v", ms=7, transform=strip, clip_on=False, **_MARKER)
            ax.annotate(
                f"sampled {value:.2g}, interval [{low:.2g}, {high:.2g}]",
                (xi, 0.13),
                xycoords=strip,
                xytext=(-6, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=8,
                color="0.2",
            )
    predicted = [
        (float(sample["success"]), float(sample["prediction"]["yield"]))
        for sample in samples
        if isinstance(sample.get("prediction"), Mapping) and "yield" in sample["prediction"]
    ]
    if predicted:
        px, py = np.array(predicted).T
        ax.plot(
            px,
            py,
            ls="none",
            marker="D",
            ms=6,
            mfc="none",
            mec="black",
            zorder=6,
            label="exact one-round yield at the sampled $a$",
        )
    ax.plot(
        [],
        [],
        ls="none",
        marker="o",
        ms=7,
        color=OKABE_ITO["green"],
        mec="black",
        label="sampled one round + hashing, with interval",
    )
