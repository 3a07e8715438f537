"""Beyond paper A: a repeater chain of mixed-up pairs, end-to-end quality and cost vs distance.

Exact theory from :mod:`qkit.repeater.theory` for ``L = 1, 2, 4, ..., 1024`` links, with and
without DEJMPS rounds at every nesting level, at several S; sampled points (from ``qkit run
chain``) can be overlaid. Sample records are plain dicts; an estimate is ``{"value", "ci_low",
"ci_high"}`` or ``{"value", "stderr"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from qkit.figures._style import OKABE_ITO, interval, marker_entry, new_figure, styled
from qkit.mixup.theory import BELL_AMPLITUDE
from qkit.repeater import theory

Sample = Mapping[str, Any]

DEFAULT_SUCCESSES = (0.95, 0.8, 0.6)
DEFAULT_ROUNDS = (0, 1, 2)
DEFAULT_DEPHASING = 0.01
_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["green"],
    OKABE_ITO["purple"],
    OKABE_ITO["orange"],
)
_STYLES = ("-", (0, (5, 2)), (0, (1.2, 1.2)), (0, (6, 1.5, 1.2, 1.5)))
_MARKERS = ("o", "s", "D", "^")


def _links_axis(ax: Axes, max_links: int) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xlim(0.8, max_links * 1.25)
    ticks = [2**k for k in range(0, int(np.log2(max_links)) + 1, 1 if max_links <= 64 else 2)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.grid(True, which="major", color="0.9", lw=0.6)


@styled
def repeater_chain(
    samples: Sequence[Sample] | None = None,
    *,
    successes: Sequence[float] = DEFAULT_SUCCESSES,
    rounds: Sequence[int] = DEFAULT_ROUNDS,
    dephasing: float = DEFAULT_DEPHASING,
    amplitude: float = BELL_AMPLITUDE,
    max_links: int = 1024,
) -> Figure:
    """End-to-end fidelity, ``E_F`` and yield of a nested repeater chain against its length.

    One colour per delivery success ``S``, one line style per number ``K`` of DEJMPS rounds at
    every level (``K = 0``: swapping only), memory dephasing ``dephasing`` per level, links
    delivering ``M[psi_a]`` at ``amplitude``. On each curve a cross marks the longest chain
    (``L = 2^n``) whose end-to-end pair is still entangled and a star the longest that still
    violates CHSH (:func:`qkit.repeater.theory.reach`); a curve that works up to ``max_links``
    has neither. The yield is drawn only while the end-to-end pair is entangled.
    ``fig.axes`` are (fidelity, ``E_F``, yield); each axis's first
    ``len(successes) * len(rounds)`` lines are the theory curves, ``S`` major, ``K`` minor.

    Parameters
    ----------
    samples : sequence of dict, optional
        Sampled chains ``{"links", "success", "rounds", "fidelity": estimate}``, optionally
        with ``"eof"`` (drawn on the ``E_F`` panel), ``"yield"`` (on the yield panel) and
        ``"prediction": {"fidelity": number, ...}`` (a hollow marker). The colour is that of
        the matching ``S`` (grey if none), the marker that of ``K``.
    """
    n = theory.check_links(max_links)
    p = float(theory.check_dephasing(dephasing))
    s_values = [float(s) for s in successes]
    k_values = [theory.check_rounds(k) for k in rounds]
    links = 2.0 ** np.arange(n + 1)

    fig = new_figure(7.4, 9.6)
    ax_f, ax_e, ax_y = fig.subplots(3, 1, sharex=True, height_ratios=[1.25, 1.0, 1.0])
    for i, s in enumerate(s_values):
        colour = _COLOURS[i % len(_COLOURS)]
        for j, k in enumerate(k_values):
            curves = theory.chain_curves(s, amplitude, n, k, p)
            style = dict(color=colour, ls=_STYLES[j % len(_STYLES)], lw=2.0)
            ax_f.plot(links, curves["fidelity"], **style)
            ax_e.plot(links, curves["eof"], **style)
            entangled = curves["concurrence"] > 1e-12
            y = np.where(
                _working_prefix(entangled) & (curves["yield"] > 0), curves["yield"], np.nan
            )
            ax_y.plot(links, y, **style)
            _mark_stop(ax_e, links, curves["eof"], entangled, colour, "X")
            _mark_stop(ax_y, links, curves["yield"], entangled, colour, "X")
            _mark_stop(ax_f, links, curves["fidelity"], curves["chsh_max"] > 2 + 1e-12, colour, "*")

    ax_f.axhline(0.5, color="0.5", ls=":", lw=1.0)
    ax_f.set_ylim(0.22, 1.02)
    ax_f.set_ylabel(r"end-to-end fidelity $\langle\Phi^+|\rho|\Phi^+\rangle$")
    ax_e.set_ylim(-0.03, 1.03)
    ax_e.set_ylabel(r"end-to-end entanglement $E_F$ (ebits)")
    ax_y.set_yscale("log")
    ax_y.set_ylabel("yield: end-to-end pairs\nper delivered pair")
    ax_y.set_xlabel("number of links $L$ (nesting levels $\\log_2 L$)")
    for ax in (ax_f, ax_e, ax_y):
        _links_axis(ax, max_links)
    a_text = "Bell pairs" if np.isclose(amplitude, BELL_AMPLITUDE) else f"$a = {amplitude:g}$"
    ax_f.set_title(
        f"Repeater chain, links delivering mixed-up {a_text}: entanglement swapping,\n"
        f"DEJMPS rounds at every nesting level, memory dephasing $P = {p:g}$ per level"
    )
    if samples:
        _samples((ax_f, ax_e, ax_y), list(samples), s_values, k_values)
    _legend(ax_y, s_values, k_values, bool(samples))
    return fig


def _working_prefix(works: np.ndarray) -> np.ndarray:
    """True up to (not including) the first point that does not work."""
    return np.cumprod(works).astype(bool)


def _mark_stop(ax: Axes, x: np.ndarray, y: np.ndarray, works: np.ndarray, colour, marker) -> None:
    """Marker on the last working point of a curve that stops working within the axis."""
    failing = np.flatnonzero(~works)
    if failing.size == 0 or failing[0] == 0:
        return
    last = int(failing[0]) - 1
    ax.plot(
        x[last],
        y[last],
        ls="none",
        marker=marker,
        ms=11 if marker == "*" else 8,
        color=colour,
        mec="black",
        mew=0.7,
        zorder=6,
    )


def _samples(axes, samples: list[Sample], s_values: list[float], k_values: list[int]) -> None:
    for sample in samples:
        s = float(sample["success"])
        match = [i for i, v in enumerate(s_values) if np.isclose(v, s)]
        colour = _COLOURS[match[0] % len(_COLOURS)] if match else "0.45"
        k = int(sample.get("rounds", 0))
        j = k_values.index(k) if k in k_values else len(_MARKERS) - 1
        x = float(sample["links"])
        for ax, key in zip(axes, ("fidelity", "eof", "yield"), strict=True):
            if key not in sample:
                continue
            v, lo, hi = interval(sample[key])
            ax.errorbar(
                [x],
                [v],
                yerr=[[max(v - lo, 0.0)], [max(hi - v, 0.0)]],
                fmt=_MARKERS[j % len(_MARKERS)],
                ms=6,
                color=colour,
                mec="black",
                mew=0.7,
                capsize=3,
                zorder=7,
            )
            prediction = sample.get("prediction")
            if isinstance(prediction, Mapping) and key in prediction:
                ax.plot(
                    [x * 1.12],
                    [float(prediction[key])],
                    ls="none",
                    marker=_MARKERS[j % len(_MARKERS)],
                    ms=6,
                    mfc="none",
                    mec="black",
                    zorder=7,
                )


def _legend(ax: Axes, s_values, k_values, with_samples: bool) -> None:
    """One legend for the three panels, under them."""
    handles = [
        Line2D([], [], color=_COLOURS[i % len(_COLOURS)], lw=2.4, label=f"$S = {s:g}$")
        for i, s in enumerate(s_values)
    ]
    handles += [
        Line2D(
            [],
            [],
            color="0.2",
            ls=_STYLES[j % len(_STYLES)],
            lw=1.8,
            label="swapping only" if k == 0 else f"{k} DEJMPS round{'s' if k > 1 else ''}/level",
        )
        for j, k in enumerate(k_values)
    ]
    marks: dict[str, Any] = dict(color="0.6", mec="black")
    handles += [
        marker_entry("longest chain still entangled", marker="X", ms=8, **marks),
        marker_entry("longest chain violating CHSH", marker="*", ms=11, **marks),
    ]
    if with_samples:
        handles += [
            marker_entry("sampled, with 95% interval", ms=6, **marks),
            marker_entry("exact prediction at the sampled point", ms=6, mfc="none", mec="black"),
        ]
    handles.append(
        Line2D(
            [], [], color="0.5", ls=":", lw=1.0, label="F = 1/2 (Bell-diagonal: entangled above)"
        )
    )
    ax.figure.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
