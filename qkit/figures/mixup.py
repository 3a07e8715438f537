"""Paper A figures: entanglement distribution by an inept delivery service.

Every function draws the exact theory of :mod:`qkit.mixup.theory` on a fine grid and
overlays sampled estimates when given. Sample records are plain dicts (what
``Result.to_dict()``-style code and JSON give back); an estimate is
``{"value", "ci_low", "ci_high"}`` or ``{"value", "stderr"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from qkit.figures._style import (
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    intervals,
    new_figure,
    styled,
    yerr,
)
from qkit.measures import eof_from_concurrence
from qkit.mixup import theory

Sample = Mapping[str, Any]

_HALO = [patheffects.withStroke(linewidth=3.6, foreground="white")]
_SAMPLE_LABEL_LIMIT = 12  # annotate E_F values only while they stay legible


def _chsh_significant(record: Mapping[str, Any] | None, sigmas: float) -> bool:
    """True if a CHSH estimate shows a violation of the local bound 2 at ``sigmas`` or more.

    Uses the finite-sample ``violation_sigma`` when the record has it (one-sided, from the
    binomial bound of :func:`qkit.estimators.chsh`), else ``(value - 2) / stderr``.
    """
    if not record:
        return False
    if record.get("violation_sigma") is not None:
        return float(record["violation_sigma"]) >= sigmas
    value = float(record["value"])
    stderr = float(record.get("stderr", 0.0) or 0.0)
    if stderr <= 0:
        return value > 2.0
    return (value - 2.0) / stderr >= sigmas


_LHV_ZOOM = ((0.30, 0.44), (0.63, 0.78))  # (S range, a range) around Barrett's region


@styled
def mixup_phase_diagram(
    samples: Sequence[Sample] | None = None, *, sigmas: float = 3.0, resolution: int = 400
) -> Figure:
    """The ``(S, a)`` plane of paper A, Fig. 2, with sampled points overlaid.

    Colour is ``E_F`` of ``M[psi_a]`` (square-root colour scale, so weak entanglement stays
    visible); hatched white where ``C = 0`` (Eq. 3.3); grey where Barrett's local model
    applies (Sec. V), also shown magnified in a side panel. Lines, in this order in
    ``fig.axes[0].lines``: the entanglement threshold ``S(a)`` (Eq. 3.4, as ``x = S(a)``), the
    CHSH threshold ``S_CHSH(a)`` (Horodecki criterion), the optimal amplitude ``a*(S)`` and
    its mirror ``sqrt(1 - a*^2)``.

    Parameters
    ----------
    samples : sequence of dict, optional
        ``{"success", "amplitude", "eof": {value, ci_low, ci_high},
        "chsh": {value, stderr[, violation_sigma]}}``; ``eof`` and ``chsh`` may be missing.
        Markers are filled with the estimated ``E_F`` on the same colour scale (hollow without
        one); a star marks a CHSH violation shown at ``sigmas`` or more (finite-sample
        ``violation_sigma`` when present, else standard errors).
    sigmas : float
        Significance required to call a CHSH violation.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
        Axes: the plane, the zoom on the local region, the colour bar.
    """
    samples = list(samples or [])
    fig = new_figure(9.0, 6.6)
    axes = fig.subplot_mosaic(
        [["plane", "zoom"], ["plane", "cbar"]],
        width_ratios=[3.3, 1.0],
        height_ratios=[1.0, 1.25],
    )
    ax, zoom = axes["plane"], axes["zoom"]
    norm = PowerNorm(0.5, 0.0, 1.0)
    mesh = _draw_plane(ax, (1e-3, 1.0), (0.0, 1.0), resolution, norm)
    _draw_plane(zoom, *_LHV_ZOOM, resolution // 2, norm)
    ax.set_xlim(0.0, 1.0)  # the grid starts at S = 1e-3 (S = 0 is excluded); show the origin
    (s0, s1), (a0, a1) = _LHV_ZOOM
    ax.add_patch(Rectangle((s0, a0), s1 - s0, a1 - a0, fill=False, ec="0.1", lw=1.0, ls="--"))

    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Patch(facecolor="white", edgecolor="0.35", hatch="////", label="no entanglement ($C = 0$)"),
        Patch(facecolor="0.62", edgecolor="0.25", label="entangled but local (Barrett model)"),
    ]
    if samples:
        handles += _phase_samples(ax, samples, norm, sigmas)
        _phase_samples(zoom, samples, norm, sigmas, main=False)

    # a thin bar in the lower-right cell (a full-width cell would make a square slab)
    axes["cbar"].axis("off")
    cbar = fig.colorbar(mesh, cax=axes["cbar"].inset_axes((0.0, 0.0, 0.13, 1.0)))
    cbar.set_label("entanglement of formation $E_F$ (ebit)\nsquare-root colour scale")
    cbar.set_ticks([0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel(r"delivery success probability $S$")
    ax.set_ylabel(r"amplitude $a$ of $|00\rangle$ in $|\psi_a\rangle$")
    ax.set_title(r"Paper A, Fig. 2: entanglement of the mixed-up pair $M[\psi_a]$")
    zoom.set_title("zoom: local region (Sec. V)", fontsize=9)
    zoom.tick_params(labelsize=8)
    zoom.set_xlabel("$S$", labelpad=1)
    zoom.set_ylabel("$a$", labelpad=1)
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    return fig


def _draw_plane(
    ax, s_range: tuple[float, float], a_range: tuple[float, float], resolution: int, norm: Normalize
):
    """E_F map, C = 0 hatching, local region and the threshold lines, on ``ax``."""
    success = np.linspace(*s_range, resolution)
    amplitude = np.linspace(*a_range, resolution + 1)
    s_grid, a_grid = np.meshgrid(success, amplitude)
    conc = theory.concurrence(s_grid, a_grid)
    eof = np.ma.masked_where(conc <= 0, theory.eof(s_grid, a_grid))
    mesh = ax.pcolormesh(
        success, amplitude, eof, cmap=SEQUENTIAL_CMAP, norm=norm, shading="auto", rasterized=True
    )
    ax.contourf(
        s_grid,
        a_grid,
        (conc <= 0).astype(float),
        levels=[0.5, 1.5],
        colors="none",
        hatches=["////"],
    )
    lhv = theory.lhv_region(s_grid, a_grid).astype(float)
    if lhv.any():
        ax.contourf(s_grid, a_grid, lhv, levels=[0.5, 1.5], colors=["0.62"], alpha=0.95)
        ax.contour(s_grid, a_grid, lhv, levels=[0.5], colors=["0.2"], linewidths=0.9)

    # Thresholds are functions of a: draw them as x = S(a), with a dense in a.
    a_line = np.linspace(0.0, 1.0, 4001)
    ax.plot(
        theory.entanglement_threshold(a_line),
        a_line,
        color=OKABE_ITO["black"],
        lw=2.0,
        label="entanglement threshold $S(a)$, Eq. 3.4",
    )
    ax.plot(
        theory.chsh_threshold(a_line),
        a_line,
        color=OKABE_ITO["vermillion"],
        lw=2.2,
        ls=(0, (6, 2)),
        path_effects=_HALO,
        label=r"CHSH threshold $S_\mathrm{CHSH}(a)$",
    )
    s_line = np.linspace(1e-3, 1.0, 2000)
    a_star = theory.optimal_amplitude(s_line)
    for branch, label in (
        (a_star, r"optimal amplitude $a^*(S)$ and $\sqrt{1-a^{*2}}$"),
        (np.sqrt(1.0 - a_star**2), None),
    ):
        ax.plot(
            s_line,
            branch,
            color=OKABE_ITO["orange"],
            lw=2.0,
            ls=(0, (1.5, 1.5)),
            path_effects=_HALO,
            label=label,
        )
    ax.set_xlim(*s_range)
    ax.set_ylim(*a_range)
    return mesh


def _phase_samples(
    ax, samples: Sequence[Sample], norm: Normalize, sigmas: float, *, main: bool = True
) -> list:
    success = np.array([float(s["success"]) for s in samples])
    amplitude = np.array([float(s["amplitude"]) for s in samples])
    eof = intervals(samples, "eof")[:, 0]
    violated = np.array([_chsh_significant(s.get("chsh"), sigmas) for s in samples])
    handles = []
    for mask, marker, size, label, gid in (
        (violated, "*", 260, f"sample: CHSH violated by \u2265 {sigmas:g}\u03c3", "chsh-violated"),
        (~violated, "o", 90, "sample: no significant CHSH violation", "chsh-not-violated"),
    ):
        if not mask.any():
            continue
        has_eof = mask & np.isfinite(eof)
        if has_eof.any():
            ax.scatter(
                success[has_eof],
                amplitude[has_eof],
                c=np.clip(eof[has_eof], 0, 1),
                cmap=SEQUENTIAL_CMAP,
                norm=norm,
                marker=marker,
                s=size,
                edgecolors="black",
                linewidths=1.2,
                zorder=5,
                gid=gid,
                clip_on=not main,  # the full plane holds every sample; the zoom must clip
            )
        if (mask & ~has_eof).any():
            ax.scatter(
                success[mask & ~has_eof],
                amplitude[mask & ~has_eof],
                marker=marker,
                s=size,
                facecolors="none",
                edgecolors="black",
                linewidths=1.2,
                zorder=5,
                gid=gid,
                clip_on=not main,  # the full plane holds every sample; the zoom must clip
            )
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=marker,
                markersize=np.sqrt(size),
                markerfacecolor="0.8",
                markeredgecolor="black",
                label=label,
            )
        )
    if main and len(samples) <= _SAMPLE_LABEL_LIMIT:
        for x, y, v in zip(success, amplitude, eof, strict=True):
            if np.isfinite(v):
                ax.annotate(
                    f"{v:.2f}",
                    (x, y),
                    xytext=(7, 5),
                    textcoords="offset points",
                    fontsize=8,
                    path_effects=_HALO,
                    zorder=6,
                )
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="$0.1$",
                markersize=14,
                color="black",
                label="number beside a marker: estimated $E_F$ (ebit)",
            )
        )
    return handles


def _log_grid(low: float, high: float, n: int, thresholds: Sequence[float]) -> np.ndarray:
    """Log-spaced S grid, refined just above each threshold where log-scale curves plunge."""
    parts = [np.geomspace(low, high, n)]
    for t in thresholds:
        parts.append(t * (1.0 + np.geomspace(1e-10, 1.0, 200)))
    grid = np.unique(np.concatenate(parts))
    return grid[(grid >= low) & (grid <= high)]


def concurrence_resolution(shots: float, confidence: float = 0.95) -> float:
    """Smallest concurrence an ``N``-shot-per-setting Pauli tomography tells apart from 0.

    The two-sided ``confidence`` half-width of the concurrence at ``C = 0``: there the
    estimator's spread is that of the linear bound ``K = (<XX> - <YY> + <ZZ> - 1)/2`` of
    :func:`qkit.estimators.state_tomography` for Bell-like states, three correlators of
    magnitude about 1/3, ``sd = sqrt(3 (1 - 1/9) / (4 N)) = sqrt(2 / (3 N))`` (measured
    0.0256 and 0.0128 at 1000 and 4000 shots).
    """
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2) * np.sqrt(2.0 / (3.0 * float(shots))))


@styled
def mixup_eof_max(
    samples: Sequence[Sample] | None = None,
    *,
    success_min: float = 1e-3,
    shots: float | None = None,
) -> Figure:
    """``E_F^max(S)`` exact and its Eq. 4.2 approximation, with fixed-``a`` curves (Fig. 3).

    Log-log axes. Curves, in this order in ``ax.lines``: ``E_F^max`` (exact, optimized over
    ``a``), Eq. 4.2, ``E_F`` at ``a = 1/sqrt2``, ``E_F`` at ``a = 0.1``.

    Parameters
    ----------
    samples : sequence of dict, optional
        ``{"success", "amplitude", "eof": {value, ci_low, ci_high}[, "shots"]}``. A sample
        takes the colour of the curve its amplitude belongs to (``a*(S)``, ``1/sqrt2``,
        ``0.1``; grey otherwise). An estimate whose interval reaches ``E_F = 0`` (or whose
        value is 0) is an upper limit and drawn as one: a downward arrow from ``ci_high``;
        the others as a point with its interval (clipped to the physical range ``[0, 1]``).
    success_min : float
        Left end of the S axis.
    shots : float, optional
        Shots per setting of the tomography; defaults to the smallest ``"shots"`` of the
        samples. When known, the band of ``E_F`` below :func:`concurrence_resolution`
        (what such a tomography cannot tell from 0) is shaded.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples or [])
    fig = new_figure(7.0, 5.4)
    ax = fig.add_subplot()
    bell_t = float(theory.entanglement_threshold(theory.BELL_AMPLITUDE))
    weak_t = float(theory.entanglement_threshold(0.1))
    s = _log_grid(success_min, 1.0, 800, [bell_t, weak_t])

    floor = 0.2 * float(theory.eof_max_approx(success_min))
    curves = [
        (
            theory.eof_max(s),
            OKABE_ITO["black"],
            "-",
            1.8,
            r"$E_F^\max(S)$, exact (optimal $a^*(S)$)",
        ),
        (
            theory.eof_max_approx(s),
            OKABE_ITO["sky"],
            (0, (5, 2)),
            2.0,
            r"Eq. 4.2: $\frac{S^4}{4}[\log_2\frac{1}{S} + 1 + \frac{1}{4\ln 2}]$",
        ),
        (
            theory.eof(s, theory.BELL_AMPLITUDE),
            OKABE_ITO["vermillion"],
            "-",
            3.4,
            r"$E_F$ at $a = 1/\sqrt{2}$ (Bell pairs)",
        ),
        (theory.eof(s, 0.1), OKABE_ITO["green"], (0, (1.5, 1.2)), 2.2, r"$E_F$ at $a = 0.1$"),
    ]
    for (y, color, ls, lw, label), z in zip(curves, (3.0, 3.1, 2.0, 2.1), strict=True):
        # zeros cannot be drawn on a log axis: mask them rather than let them clip
        ax.plot(s, np.where(y > 0, y, np.nan), color=color, ls=ls, lw=lw, label=label, zorder=z)

    if shots is None:
        known = [float(x["shots"]) for x in samples if x.get("shots")]
        shots = min(known) if known else None
    if shots is not None:
        c_res = concurrence_resolution(shots)
        e_res = float(eof_from_concurrence(c_res))
        ax.axhspan(
            floor,
            e_res,
            color="0.88",
            zorder=0.5,
            lw=0,
            label=f"unresolved by {shots:g} shots/setting ($C < {c_res:.3f}$, 95%)",
        )
    if samples:
        _eof_samples(ax, samples, floor)

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(success_min, 1.0)
    ax.set_ylim(floor, 2.0)
    ax.grid(True, which="major", color="0.88", lw=0.6)
    ax.set_xlabel(r"delivery success probability $S$")
    ax.set_ylabel(r"entanglement of formation $E_F$ (ebit)")
    ax.set_title(r"Paper A, Fig. 3: most entanglement per delivered pair, $E_F^\max(S)$")
    ax.legend(loc="lower right")
    return fig


def _sample_group(success: float, amplitude: float) -> tuple[str, str]:
    a_star = float(theory.optimal_amplitude(success))
    if np.isclose(amplitude, a_star, rtol=1e-3) or np.isclose(
        amplitude, np.sqrt(1 - a_star**2), rtol=1e-3
    ):
        return OKABE_ITO["black"], r"sampled, $a = a^*(S)$"
    if np.isclose(amplitude, theory.BELL_AMPLITUDE, rtol=1e-3):
        return OKABE_ITO["vermillion"], r"sampled, $a = 1/\sqrt{2}$"
    if np.isclose(amplitude, 0.1, rtol=1e-3):
        return OKABE_ITO["green"], r"sampled, $a = 0.1$"
    return "0.5", r"sampled, other $a$"


def _eof_samples(ax, samples: Sequence[Sample], floor: float) -> None:
    est = intervals(samples, "eof")
    groups: dict[str, str] = {}
    upper_limits = False
    for sample, (value, low, high) in zip(samples, est, strict=True):
        if not np.isfinite(value):
            continue
        x = float(sample["success"])
        color, label = _sample_group(x, float(sample["amplitude"]))
        groups[label] = color
        # unclipped: samples at S = 1 sit on the right spine
        style = dict(
            color=color, mec="black", mew=0.8, capsize=3, elinewidth=1.3, zorder=5, clip_on=False
        )
        low, high = max(low, 0.0), min(high, 1.0)  # the physical range of E_F
        if low > 0.0 and value > floor:
            ax.errorbar(
                x,
                value,
                yerr=[[max(value - max(low, floor), 0.0)], [max(high - value, 0.0)]],
                fmt="o",
                ms=7,
                **style,
            )
        else:  # the interval includes E_F = 0: an upper limit
            upper_limits = True
            top = max(high, floor)
            ax.errorbar(
                x, top, yerr=[[0.7 * top], [0]], uplims=True, fmt="v", ms=7, mfc="white", **style
            )
    for label, color in groups.items():
        ax.plot([], [], ls="none", marker="o", ms=7, color=color, mec="black", label=label)
    if upper_limits:
        ax.plot(
            [],
            [],
            ls="none",
            marker="v",
            ms=7,
            mfc="white",
            mec="black",
            label=r"interval includes $E_F = 0$: upper limit",
        )


_CURVE_COLORS = ("black", "blue", "sky", "green", "orange", "vermillion", "purple")


@styled
def mixup_fidelity(
    samples: Sequence[Sample] | None = None,
    *,
    successes: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 1.0),
) -> Figure:
    """Fidelity ``f = 1 - 3 a^2 (1-S)(1-a^2)`` against ``a`` for several ``S`` (Eq. 3.2).

    One curve per ``S`` in ``successes`` plus one per distinct sampled ``S``; curves come
    first in ``ax.lines``, in increasing ``S``, each labelled at its minimum.

    Parameters
    ----------
    samples : sequence of dict, optional
        ``{"success", "amplitude", "fidelity": {value, ci_low, ci_high}}``, drawn with error
        bars in the colour of the curve of their ``S``.
    successes : sequence of float
        Values of ``S`` to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples or [])
    s_values = sorted(
        {round(float(x), 6) for x in successes} | {round(float(x["success"]), 6) for x in samples}
    )
    theory.fidelity(np.array(s_values), 0.5)  # validate every S up front
    fig = new_figure(6.8, 5.0)
    ax = fig.add_subplot()
    color_of = _curve_colors(s_values)
    amplitude = np.linspace(0.0, 1.0, 1001)
    for s in s_values:
        ax.plot(
            amplitude,
            theory.fidelity(s, amplitude),
            color=color_of[s],
            lw=2.0,
            label=f"$S = {s:g}$",
        )
    # Direct labels just below each minimum, right of the Bell line: there the curve only
    # rises away from the text, so label and line never cross.
    for s in s_values:
        ax.annotate(
            f"$S = {s:g}$",
            (theory.BELL_AMPLITUDE, float(theory.fidelity(s, theory.BELL_AMPLITUDE))),
            xytext=(9, -3),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=8.5,
            color=color_of[s],
            path_effects=_HALO,
        )
    ax.axvline(theory.BELL_AMPLITUDE, color="0.45", ls=":", lw=1.2)
    handles = [
        Line2D(
            [],
            [],
            color="0.45",
            ls=":",
            lw=1.2,
            label=r"Bell state $a = 1/\sqrt{2}$ (most fragile)",
        )
    ]
    if samples:
        est = intervals(samples, "fidelity")
        est[:, 1:] = np.clip(est[:, 1:], 0.0, 1.0)  # the physical range of a fidelity
        for sample, row in zip(samples, est, strict=True):
            if not np.isfinite(row[0]):
                continue
            ax.errorbar(
                float(sample["amplitude"]),
                row[0],
                yerr=yerr(row[None, :]),
                fmt="o",
                ms=7,
                color=color_of[round(float(sample["success"]), 6)],
                mec="black",
                mew=0.8,
                capsize=3,
                elinewidth=1.3,
                zorder=5,
                clip_on=False,  # samples at a = 0 or 1 sit on the spine
            )
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=7,
                color="0.6",
                mec="black",
                label="sampled, with interval (colour: its $S$)",
            )
        )
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.2, 1.03)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_xlabel(r"amplitude $a$ of $|00\rangle$ in $|\psi_a\rangle$")
    ax.set_ylabel(r"fidelity $f = \langle\psi_a|M[\psi_a]|\psi_a\rangle$")
    ax.set_title(r"Paper A, Eq. 3.2: fidelity $f = 1 - 3a^2(1-S)(1-a^2)$")
    ax.legend(handles=handles, loc="lower left")
    return fig


def _curve_colors(s_values: Sequence[float]) -> dict[float, Any]:
    """Distinct Okabe-Ito colours while they last, else viridis by S (without its pale end)."""
    if len(s_values) <= len(_CURVE_COLORS):
        return {s: OKABE_ITO[c] for s, c in zip(s_values, _CURVE_COLORS, strict=False)}
    cmap = matplotlib.colormaps[SEQUENTIAL_CMAP]
    return {s: cmap(0.88 * s) for s in s_values}
