"""Paper A figures: entanglement distribution by an inept delivery service.

Every function draws the exact theory of :mod:`qkit.mixup.theory` on a fine grid and
overlays sampled estimates when given. Sample records are plain dicts (what
``Result.to_dict()``-style code and JSON give back); an estimate is
``{"value", "ci_low", "ci_high"}`` or ``{"value", "stderr"}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from qkit.figures._style import (
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    intervals,
    marker_entry,
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
    samples: Sequence[Sample] | Any = None, *, sigmas: float = 3.0, resolution: int = 400
) -> Figure:
    """The ``(S, a)`` plane of paper A, Fig. 2, with sampled points and their agreement.

    Colour is ``E_F`` of ``M[psi_a]`` (square-root colour scale, so weak entanglement stays
    visible); hatched white where ``C = 0`` (Eq. 3.3); grey where Barrett's local model
    applies (Sec. V), also shown magnified in a side panel. Lines, in this order in
    ``fig.axes[0].lines``: the entanglement threshold ``S(a)`` (Eq. 3.4, as ``x = S(a)``), the
    CHSH threshold ``S_CHSH(a)`` (Horodecki criterion), the optimal amplitude ``a*(S)`` and
    its mirror ``sqrt(1 - a*^2)``.

    Sampled points are filled by the deviation of their estimated ``E_F`` from the exact one,
    in standard deviations (``(estimate - exact) / sigma``, ``sigma`` the half of the 95%
    interval on the exact value's side over 1.96, so that beyond +-1.96 the interval excludes
    the exact value), on a diverging colour map: white agrees, orange lies above, purple below; a
    red ring (gid ``"excludes-prediction"``) marks a sample whose interval excludes the exact
    ``E_F``. An estimate flagged ``"at_boundary"`` (it or its interval touches ``E_F = 0`` or
    1, where the interval has no nominal coverage) has no deviation in sigmas and is filled
    grey. The panel "agreement" draws every sample's estimate minus the exact value (the
    collection with gid ``"agreement"``) with its interval (error bars).

    Parameters
    ----------
    samples : sequence of dict, or a sweep table, optional
        ``{"success", "amplitude", "eof": {value, ci_low, ci_high},
        "chsh": {value, stderr[, violation_sigma]}}``; ``eof`` and ``chsh`` may be missing
        (then a hollow marker). A mix-up sweep table (a ``.csv``/``.parquet`` path or the
        columns of :func:`qkit.sweep.read_table`) works too. A star marks a CHSH violation
        shown at ``sigmas`` or more (finite-sample ``violation_sigma`` when present, else
        standard errors).
    sigmas : float
        Significance required to call a CHSH violation.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
        Axes: the plane, the zoom on the local region, the agreement panel, the colour bars.
    """
    samples = _as_samples(samples)
    fig = new_figure(10.6, 7.0)
    axes = fig.subplot_mosaic(
        [["plane", "zoom"], ["plane", "agree"]],
        width_ratios=[3.0, 1.15],
        height_ratios=[1.0, 1.25],
    )
    ax, zoom, agree = axes["plane"], axes["zoom"], axes["agree"]
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
    cbar = fig.colorbar(mesh, ax=ax, location="left", fraction=0.025, pad=0.02, aspect=30)
    cbar.set_label("exact $E_F$ (ebit), square-root colour scale")
    cbar.set_ticks([0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0])
    cbar.ax.yaxis.set_ticks_position("left")
    cbar.ax.yaxis.set_label_position("left")
    if samples:
        handles += _phase_samples(ax, samples, sigmas)
        _phase_samples(zoom, samples, sigmas, main=False)
        _agreement_panel(agree, samples)
        dev = fig.colorbar(
            ScalarMappable(DEVIATION_NORM, DEVIATION_CMAP), ax=agree, location="bottom", pad=0.02
        )
        dev.set_label(r"marker fill: (estimated $-$ exact $E_F$) / $\sigma$")
        dev.set_ticks([-3, -2, -1, 0, 1, 2, 3])
    else:
        agree.axis("off")
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


DEVIATION_CMAP = "PuOr_r"  # diverging, colour-blind safe: purple below, white agrees, orange above
DEVIATION_NORM = Normalize(-3.0, 3.0)
EXCLUDES_GID = "excludes-prediction"
_Z_95 = 1.959963984540054


def _as_samples(samples: Any) -> list[Sample]:
    """Sample dicts from a list of them, or from a mix-up sweep table (path or columns)."""
    if samples is None:
        return []
    if isinstance(samples, str | os.PathLike | Mapping) or hasattr(samples, "columns"):
        from qkit.figures.sweep import samples_from_table

        found: list[Sample] = list(samples_from_table(samples))
        return found
    return list(samples)


def _sample_agreement(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact E_F, deviation in sigma (NaN without an estimate) and exclusion, per sample.

    ``sigma`` is the half of the 95% interval on the exact value's side over 1.96: an interval
    is often one-sided near the physical limits 0 and 1, and this way ``|deviation| > 1.96``
    exactly when the interval excludes the exact value (what the ring says).
    """
    success = np.array([float(s["success"]) for s in samples])
    amplitude = np.array([float(s["amplitude"]) for s in samples])
    exact = np.asarray(theory.eof(success, amplitude), dtype=float)
    value, low, high = intervals(samples, "eof").T
    sigma = np.where(exact > value, high - value, value - low) / _Z_95
    diff = value - exact
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.where(sigma > 0, diff / sigma, np.where(np.abs(diff) < 1e-9, 0.0, np.inf))
        deviation = np.where(np.isfinite(value), np.copysign(np.abs(deviation), diff), np.nan)
        tol = 1e-12
        excludes = (exact < low - tol) | (exact > high + tol)
    # an estimate at the physical boundary has a one-sided interval: no deviation in sigma
    # (as in the report's table), unless its interval excludes the exact value
    boundary = np.array([bool((_eof_record(s) or {}).get("at_boundary")) for s in samples])
    deviation = np.where(boundary & ~excludes, np.nan, deviation)
    return exact, deviation, excludes


def _eof_record(sample: Sample) -> Mapping[str, Any] | None:
    record = sample.get("eof")
    return record if isinstance(record, Mapping) else None


BOUNDARY_FILL = "0.4"  # darker than the local region's grey, no hue: not a deviation


def _fills(deviation: np.ndarray, estimated: np.ndarray) -> np.ndarray:
    """Marker fills (RGBA rows): the deviation on the diverging map; grey for an estimate at
    the boundary (no deviation in sigma); transparent without an estimate."""
    from matplotlib.colors import to_rgba

    cmap = matplotlib.colormaps[DEVIATION_CMAP]
    out = np.array(cmap(DEVIATION_NORM(np.clip(np.nan_to_num(deviation), -3.0, 3.0))))
    out[estimated & ~np.isfinite(deviation)] = to_rgba(BOUNDARY_FILL)
    out[~estimated] = (0.0, 0.0, 0.0, 0.0)
    return out.reshape(-1, 4)


def _marker_scale(n: int) -> float:
    """Marker size factor: 1 up to 40 samples, then shrinking so a dense grid stays a grid."""
    return float(max(min(1.0, np.sqrt(40.0 / max(n, 1))), 0.28))


def _phase_samples(ax, samples: Sequence[Sample], sigmas: float, *, main: bool = True) -> list:
    success = np.array([float(s["success"]) for s in samples])
    amplitude = np.array([float(s["amplitude"]) for s in samples])
    exact, deviation, excludes = _sample_agreement(samples)
    eof = intervals(samples, "eof")[:, 0]
    fills = _fills(deviation, np.isfinite(eof))
    violated = np.array([_chsh_significant(s.get("chsh"), sigmas) for s in samples])
    scale = _marker_scale(len(samples))
    few = len(samples) <= 40
    handles = []
    for mask, marker, size, label, gid in (
        (
            violated,
            "*",
            260.0,
            f"sample: CHSH violated by \u2265 {sigmas:g}\u03c3",
            "chsh-violated",
        ),
        (~violated, "o", 90.0, "sample: no significant CHSH violation", "chsh-not-violated"),
    ):
        if not mask.any():
            continue
        size *= scale**2
        ax.scatter(
            success[mask],
            amplitude[mask],
            marker=marker,
            s=size,
            facecolors=fills[mask],
            edgecolors="black",
            linewidths=1.2 * scale,
            zorder=5,
            gid=gid,
            clip_on=not (main and few),  # a few samples at S = 1 sit on the spine
        )
        handles.append(
            marker_entry(
                label,
                marker=marker,
                markersize=np.sqrt(size / scale**2),
                markerfacecolor="white",
                markeredgecolor="black",
            )
        )
    boundary = np.isfinite(eof) & ~np.isfinite(deviation)
    if boundary.any():
        handles.append(
            marker_entry(
                "grey: interval touches $E_F = 0$ or 1 (no nominal coverage, no $\\sigma$)",
                markersize=np.sqrt(90),
                markerfacecolor=BOUNDARY_FILL,
                markeredgecolor="black",
            )
        )
    if excludes.any():
        ring = (2.0 if few else 1.5) * np.sqrt(90) * scale
        ax.scatter(
            success[excludes],
            amplitude[excludes],
            s=ring**2,
            facecolors="none",
            edgecolors=OKABE_ITO["vermillion"],
            linewidths=2.0 * scale,
            zorder=6,
            gid=EXCLUDES_GID,
            clip_on=not (main and few),
        )
        handles.append(
            marker_entry(
                "interval excludes the exact $E_F$",
                markersize=2.0 * np.sqrt(90),
                mfc="none",
                mec=OKABE_ITO["vermillion"],
                mew=2.0,
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
                    zorder=7,
                )
        handles.append(
            marker_entry(
                "number beside a marker: estimated $E_F$ (ebit)",
                marker="$0.1$",
                markersize=14,
                color="black",
            )
        )
    return handles


def _agreement_panel(ax, samples: Sequence[Sample]) -> None:
    """Estimated minus exact E_F with its interval, against the exact E_F."""
    exact, deviation, excludes = _sample_agreement(samples)
    rows = intervals(samples, "eof")
    value = rows[:, 0]
    scale = _marker_scale(len(samples))
    shown = np.isfinite(value)
    for group, color in ((shown & ~excludes, "0.3"), (shown & excludes, OKABE_ITO["vermillion"])):
        if group.any():
            ax.errorbar(
                exact[group],
                value[group] - exact[group],
                yerr=yerr(rows[group]),
                fmt="none",
                ecolor=color,
                elinewidth=1.1 * scale,
                capsize=2.5 * scale,
                zorder=4,
            )
    ax.scatter(
        exact[shown],
        (value - exact)[shown],
        facecolors=_fills(deviation, shown)[shown],
        s=(6 * scale) ** 2,
        edgecolors=np.where(excludes[shown], OKABE_ITO["vermillion"], "black"),
        linewidths=np.where(excludes[shown], 1.8, 0.8) * scale,
        zorder=5,
        gid="agreement",
    )
    ax.axhline(0.0, color="black", lw=1.0, zorder=2)
    ax.set_xlim(-0.03, 1.03)
    ax.grid(True, color="0.9", lw=0.6)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("exact $E_F$ (ebit)", labelpad=1, fontsize=9)
    ax.set_ylabel("estimated $-$ exact $E_F$", labelpad=1, fontsize=9)
    n_out = int(excludes.sum())
    ax.set_title(
        f"agreement of the 95% intervals:\n{n_out} of {int(np.isfinite(value).sum())} "
        "exclude the exact $E_F$",
        fontsize=9,
    )


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
    success_min: float | None = None,
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
    success_min : float, optional
        Left end of the S axis. Default, with samples or ``shots``: the resolvable view, from
        where ``E_F^max`` enters the band the shots cannot resolve (or a little left of the
        smallest sampled ``S``) to 1, with the ``E_F`` axis from a quarter of that band's
        top. Without either, or with ``success_min=1e-3``: the paper's full view, twelve
        decades of ``E_F``.
    shots : float, optional
        Shots per setting of the tomography; defaults to the smallest ``"shots"`` of the
        samples. When known, the band of ``E_F`` below :func:`concurrence_resolution`
        (what such a tomography cannot tell from 0) is shaded.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples or [])
    if shots is None:
        known = [float(x["shots"]) for x in samples if x.get("shots")]
        shots = min(known) if known else None
    if success_min is None and not samples and shots is None:
        success_min = 1e-3  # theory alone: the paper's view
    resolvable = success_min is None
    success_min, floor = _eof_view(samples, success_min, shots)
    fig = new_figure(7.0, 6.6)
    ax = fig.add_subplot()
    bell_t = float(theory.entanglement_threshold(theory.BELL_AMPLITUDE))
    weak_t = float(theory.entanglement_threshold(0.1))
    s = _log_grid(success_min, 1.0, 800, [bell_t, weak_t])

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
    title = r"Paper A, Fig. 3: most entanglement per delivered pair, $E_F^\max(S)$"
    if resolvable:
        title += "\nover the range the shots resolve"
    ax.set_title(title, fontsize=10.5)
    if success_min >= 0.01:  # about a decade of S: label 0.2, 0.3 rather than 2 x 10^-1
        shown = (0.02, 0.03, 0.05, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(
            FuncFormatter(lambda x, _: f"{x:g}" if np.isclose(x, shown).any() else "")
        )
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    return fig


def _eof_view(
    samples: Sequence[Sample], success_min: float | None, shots: float | None
) -> tuple[float, float]:
    """``(success_min, E_F floor)`` of Fig. 3: the given S range, else the resolvable one."""
    if success_min is not None:
        return float(success_min), 0.2 * float(theory.eof_max_approx(success_min))
    sampled = [float(x["success"]) for x in samples if np.isfinite(intervals([x], "eof")[0, 0])]
    left = 0.8 * min(sampled) if sampled else 1.0
    if shots is None:
        left = min(left, 0.5)
        return left, 0.2 * float(theory.eof_max_approx(left))
    floor = 0.25 * float(eof_from_concurrence(concurrence_resolution(shots)))
    grid = np.geomspace(1e-3, 1.0, 3001)
    enters = grid[np.argmax(theory.eof_max(grid) >= floor)]  # E_F^max rises with S
    return float(min(left, 0.9 * enters)), floor


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
    sampled_curves: bool = True,
) -> Figure:
    """Fidelity ``f = 1 - 3 a^2 (1-S)(1-a^2)`` against ``a`` for several ``S`` (Eq. 3.2).

    One curve per ``S`` in ``successes`` plus, with ``sampled_curves``, one per distinct
    sampled ``S``; curves come first in ``ax.lines``, in increasing ``S``, each labelled at its
    minimum.

    Parameters
    ----------
    samples : sequence of dict, optional
        ``{"success", "amplitude", "fidelity": {value, ci_low, ci_high}}``, drawn with error
        bars in the colour of the curve of their ``S``.
    successes : sequence of float
        Values of ``S`` to draw.
    sampled_curves : bool
        Draw a curve for every sampled ``S``. False: samples at an ``S`` without a curve are
        left out, and the figure says which (a note under the legend, gid ``"omitted"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples or [])
    theory.fidelity(np.array([float(x["success"]) for x in samples] or [1.0]), 0.5)  # validate
    curves = {round(float(x), 6) for x in successes}
    omitted = []
    if not sampled_curves:
        omitted = [x for x in samples if round(float(x["success"]), 6) not in curves]
        samples = [x for x in samples if round(float(x["success"]), 6) in curves]
    s_values = sorted(curves | {round(float(x["success"]), 6) for x in samples})
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
            marker_entry("sampled, with interval (colour: its $S$)", ms=7, color="0.6", mec="black")
        )
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.2, 1.03)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_xlabel(r"amplitude $a$ of $|00\rangle$ in $|\psi_a\rangle$")
    ax.set_ylabel(r"fidelity $f = \langle\psi_a|M[\psi_a]|\psi_a\rangle$")
    ax.set_title(r"Paper A, Eq. 3.2: fidelity $f = 1 - 3a^2(1-S)(1-a^2)$")
    ax.legend(handles=handles, loc="lower left")
    if omitted:
        at = sorted({round(float(x["success"]), 3) for x in omitted})
        note = fig.supxlabel(
            f"not shown: {len(omitted)} sampled point{'s' * (len(omitted) > 1)} at "
            f"$S$ = {', '.join(f'{v:g}' for v in at)} (no curve drawn there; see Fig. 2 and "
            "the table)",
            fontsize=8.5,
            color="0.25",
        )
        note.set_gid("omitted")
    return fig


def _curve_colors(s_values: Sequence[float]) -> dict[float, Any]:
    """Distinct Okabe-Ito colours while they last, else viridis by S (without its pale end)."""
    if len(s_values) <= len(_CURVE_COLORS):
        return {s: OKABE_ITO[c] for s, c in zip(s_values, _CURVE_COLORS, strict=False)}
    cmap = matplotlib.colormaps[SEQUENTIAL_CMAP]
    return {s: cmap(0.88 * s) for s in s_values}
