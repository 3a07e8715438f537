"""Paper B figures: classical capacity of a channel with correlated polarization noise.

Theory from :mod:`qkit.channel.theory` on fine grids, sampled estimates overlaid with their
intervals. An estimate is ``{"value", "ci_low", "ci_high"}`` or ``{"value", "stderr"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qkit._validate import check_eta, check_inputs
from qkit.channel import theory
from qkit.figures._style import OKABE_ITO, interval, marker_entry, new_figure, styled

Sample = Mapping[str, Any]

INPUTS = ("entangled", "separable")
INPUT_COLORS = {"entangled": OKABE_ITO["blue"], "separable": OKABE_ITO["vermillion"]}
OUTCOME_COLORS = {"singlet": OKABE_ITO["sky"], "triplet": OKABE_ITO["orange"]}
PAIR_ALPHABETS = ("pair", "two-photon")
"""Sample ``alphabet`` values on the chi_2 scale (the two-photon sector alone)."""
TWO_SLOT_ALPHABETS = ("two-slot", "full")
"""Sample ``alphabet`` values on the capacity scale (the whole two-slot alphabet)."""

LETTER_LABELS = {
    "singlet": r"singlet $|\Psi^-\rangle$",
    "triplet_HH": r"triplet $|HH\rangle$",
    "HV": r"$|HV\rangle$",
    "HH": r"$|HH\rangle$",
}
"""The optimal ensembles' letters (:func:`qkit.channel.theory.optimal_ensemble` labels) as
states: the entangled ensemble sends the singlet and a triplet state (``|HH>``, singlet
fidelity 0), the separable one ``|HV>`` (singlet fidelity 1/2) and ``|HH>``."""
LETTER_SETS = {
    "entangled": r"$|\Psi^-\rangle$, $|HH\rangle$",
    "separable": r"$|HV\rangle$, $|HH\rangle$",
}


def letter_label(label: str) -> str:
    """A letter's state in Dirac notation (the code name if it is not one of the ensembles')."""
    return LETTER_LABELS.get(label, label)


_HALO = [patheffects.withStroke(linewidth=3.0, foreground="white")]
_Q_MIN, _Q_MAX = -1.0 / 3.0, 1.0
_SHADE_ALPHA = 0.13


@styled
def channel_entropy_construction(eta: float = 1.0) -> Figure:
    """The Lemma 2 construction on the output entropy ``f(q)`` (paper B, Figs. 2-3, Eqs. 26-34).

    One panel per input set (entangled, separable). Each shows ``f(q) = S(rho_W(q))`` on the Werner
    domain ``q in [-1/3, 1]``, the allowed output range ``q = eta p`` with ``p``
    in the range of Eq. 22 or Eq. 23 (shaded), the chord ``g(q)`` through its ends (Eq. 34),
    the optimal mean ``q* = sum_i P_i eta p_i`` where the tangent is parallel to the chord,
    and the vertical segment from chord to curve at ``q*``, whose length is ``chi_2``
    (Eq. 27). ``ax.lines`` of each panel: ``f``, chord, tangent, the ``chi_2`` segment.
    Each panel is zoomed on its construction.

    Parameters
    ----------
    eta : float
        Correlation of the noise on the second slot, in [0, 1].

    Returns
    -------
    matplotlib.figure.Figure
    """
    eta = float(check_eta(eta))
    fig = new_figure(10.0, 5.0)
    axes = fig.subplots(1, 2)
    q = np.linspace(_Q_MIN, _Q_MAX, 1201)
    f = theory.output_entropy(q)
    for ax, inputs, tag in zip(axes, INPUTS, "ab", strict=True):
        _draw_construction(ax, q, f, eta, inputs)
        p_lo, p_hi = theory.werner_range(inputs)
        eq = 22 if inputs == "entangled" else 23
        ax.set_title(
            f"({tag}) {inputs}, $p \\in [{_frac(p_lo)}, {_frac(p_hi)}]$ (Eq. {eq}): "
            f"$\\chi_2 = {float(theory.chi2(eta, inputs)):.3f}$ bit",
            fontsize=10,
        )
        ax.grid(True, color="0.9", lw=0.6)
        ax.set_xlabel(r"output Werner parameter $q = \eta\,p$")
        ax.set_ylabel(r"output entropy $f(q)$ (bit)")

    # Same artists in both panels, each in its panel's colour: one shared legend whose
    # swatches show both colours, as drawn (entangled, separable).
    def both(make) -> tuple:
        return tuple(make(INPUT_COLORS[inputs]) for inputs in INPUTS)

    handles: list[Any] = [
        Line2D([], [], color="black", lw=2.0),
        both(lambda c: Patch(color=c, alpha=_SHADE_ALPHA, lw=0)),
        both(lambda c: Line2D([], [], color=c, lw=2.0, marker="o", ms=6)),
        both(lambda c: Line2D([], [], color=c, lw=1.2, ls=(0, (4, 2)))),
        Line2D([], [], color=OKABE_ITO["green"], lw=3.0, marker="D", ms=6, mec="black"),
    ]
    labels = [
        r"$f(q) = S(\rho_W(q))$, Eq. 26",
        r"allowed outputs $q = \eta p$ (blue: entangled, red-orange: separable inputs)",
        "chord $g(q)$ through the optimal letters, Eq. 34",
        "tangent parallel to the chord",
        r"$\chi_2 = f(q^*) - g(q^*)$ at the mean $q^*$, Eq. 27",
    ]
    fig.legend(
        handles=handles,
        labels=labels,
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.3)},
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=8.5,
    )
    fig.suptitle(
        f"Paper B, Figs. 2-3: Lemma 2 on the Werner output entropy, $\\eta = {eta:g}$",
        fontsize=11,
    )
    return fig


def _draw_construction(ax, q: np.ndarray, f: np.ndarray, eta: float, inputs: str) -> None:
    color = INPUT_COLORS[inputs]
    ax.plot(q, f, color=OKABE_ITO["black"], lw=2.0)
    ens = theory.optimal_ensemble(eta, inputs)
    q_ends = eta * np.asarray(ens["werner_parameters"], dtype=float)  # (q_hi, q_lo)
    weights = np.asarray(ens["probabilities"], dtype=float)
    f_ends = theory.output_entropy(q_ends)
    q_lo, q_hi = float(q_ends.min()), float(q_ends.max())
    q_star = float(np.dot(weights, q_ends))
    chord_at_star = float(np.dot(weights, f_ends))
    f_star = float(theory.output_entropy(q_star))
    # eta = 0: one output state, the chord degenerates to a point
    slope = (f_ends[0] - f_ends[1]) / (q_ends[0] - q_ends[1]) if q_hi > q_lo else 0.0

    ax.axvspan(q_lo, q_hi, color=color, alpha=_SHADE_ALPHA, lw=0)
    ends = np.array([q_lo, q_hi])
    ax.plot(
        ends,
        f_ends[1] + slope * (ends - q_ends[1]),
        color=color,
        lw=2.0,
        marker="o",
        ms=6,
    )
    # Zoom on the construction: the allowed range with margins, and from a little below the
    # lower chord end to just above f's maximum 2.
    margin = 0.3 * max(q_hi - q_lo, 0.6)
    x_lo = max(q_lo - margin, _Q_MIN - 0.02)
    x_hi = min(q_hi + margin, _Q_MAX + 0.02)
    ax.set_xlim(x_lo, x_hi)
    low_end = float(f_ends.min())
    bottom = low_end - 0.3 * (2.0 - low_end) - 0.05
    ax.set_ylim(bottom, 2.0 + 0.1 * (2.0 - bottom))

    half = 0.2 * (x_hi - x_lo)  # long enough to leave the curve visibly
    tangent = np.array([q_star - half, q_star + half])
    ax.plot(tangent, f_star + slope * (tangent - q_star), color=color, lw=1.2, ls=(0, (4, 2)))
    ax.plot(
        [q_star, q_star],
        [chord_at_star, f_star],
        color=OKABE_ITO["green"],
        lw=3.0,
        solid_capstyle="butt",
    )
    ax.plot([q_star], [f_star], "D", color=OKABE_ITO["green"], mec="black", ms=7, zorder=5)

    if q_hi - q_lo < 1e-12:  # eta = 0: both letters give the same output
        ax.annotate(
            " and ".join(letter_label(x) for x in ens["labels"]) + "\ngive the same output",
            (q_star, f_star),
            xytext=(0, -12),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8.5,
            color=color,
            path_effects=_HALO,
        )
        return
    for qe, fe, label, w in zip(q_ends, f_ends, ens["labels"], weights, strict=True):
        is_left = qe == q_lo
        if is_left:
            # below-right, further down when the chord leaves this end downwards
            offset, ha, va = (3, -34 if slope < 0 else -10), "left", "top"
        elif slope > 0:
            # the chord rises into the right end and f falls beyond it: above-right is free
            offset, ha, va = (6, 4), "left", "bottom"
        else:
            offset, ha, va = (-3, -10), "right", "top"
        ax.annotate(
            f"{letter_label(label)}\nsent w.p. {w:.2f}",
            (qe, fe),
            xytext=offset,
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=8.5,
            color=color,
            path_effects=_HALO,
        )


def _frac(x: float) -> str:
    """The Werner range ends as fractions, for titles."""
    for value, text in ((-1 / 3, "-1/3"), (1 / 3, "1/3"), (1.0, "1"), (0.0, "0")):
        if np.isclose(x, value):
            return text
    return f"{x:g}"


@styled
def channel_conditional_probabilities(
    eta: float, samples: Sequence[Sample] | None = None
) -> Figure:
    """Singlet/triplet probabilities of the optimal ensembles' two inputs (paper B, Fig. 4).

    One panel per input set; for each input letter, the predicted ``P(singlet | input) =
    (1 + 3 eta p)/4`` and ``P(triplet | input)`` of the measurement of Eq. 35, as bars
    (``ax.patches``: the singlet bars of both letters, then the triplet bars).

    Parameters
    ----------
    eta : float
        Noise correlation in [0, 1].
    samples : sequence of dict, optional
        ``{"inputs": "entangled" | "separable", "input_label": <a label of
        theory.optimal_ensemble(eta, inputs)["labels"]>, "p_singlet": {value, ci_low,
        ci_high}}``, optionally with ``"eta"`` (must equal ``eta``). Drawn as points with
        error bars on the singlet bar and, mirrored (``1 - P``), on the triplet bar.

    Returns
    -------
    matplotlib.figure.Figure
    """
    eta = float(check_eta(eta))
    by_key = _index_pair_samples(list(samples or []), eta)
    fig = new_figure(9.0, 5.0)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.38
    for ax, inputs, tag in zip(axes, INPUTS, "ab", strict=True):
        ens = theory.optimal_ensemble(eta, inputs)
        cond = theory.conditional_probabilities(ens["werner_parameters"], eta)
        x = np.arange(len(ens["labels"]), dtype=float)
        tops = cond.copy()  # where each bar's value label goes: above bar and error bar
        for k, outcome in enumerate(("singlet", "triplet")):
            ax.bar(
                x + (k - 0.5) * width,
                cond[:, k],
                width,
                color=OUTCOME_COLORS[outcome],
                edgecolor="black",
                lw=0.8,
                hatch=None if outcome == "singlet" else "//",
            )
        for i, label in enumerate(ens["labels"]):
            record = by_key.get((inputs, label))
            if record is None:
                continue
            value, low, high = interval(record)
            for k, (v, lo, hi) in enumerate(((value, low, high), (1 - value, 1 - high, 1 - low))):
                ax.errorbar(
                    x[i] + (k - 0.5) * width,
                    v,
                    yerr=[[max(v - lo, 0)], [max(hi - v, 0)]],
                    fmt="o",
                    ms=6,
                    color="black",
                    mfc="white",
                    capsize=4,
                    elinewidth=1.4,
                    zorder=5,
                )
                tops[i, k] = max(tops[i, k], hi, v)
        for i in range(len(x)):
            for k in range(2):
                ax.annotate(
                    f"{cond[i, k]:.3f}",
                    (x[i] + (k - 0.5) * width, tops[i, k]),
                    xytext=(0, 4),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                )
        ax.set_xticks(
            x,
            [
                f"{letter_label(label)} ($p = {_frac(p)}$)\nsent w.p. {w:.2f}"
                for label, p, w in zip(
                    ens["labels"], ens["werner_parameters"], ens["probabilities"], strict=True
                )
            ],
        )
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.set_ylim(0.0, 1.12)
        ax.set_xlabel("input letter")
        chi2 = float(theory.chi2(eta, inputs))
        ax.set_title(
            f"({tag}) optimal {inputs} ensemble: $I = \\chi_2 = {chi2:.3f}$ bit", fontsize=10
        )
    axes[0].set_ylabel(r"conditional probability $P(\mathrm{outcome}\,|\,\mathrm{input})$")
    handles: list[Artist] = [
        Patch(facecolor=OUTCOME_COLORS["singlet"], edgecolor="black", label="predicted singlet"),
        Patch(
            facecolor=OUTCOME_COLORS["triplet"],
            edgecolor="black",
            hatch="//",
            label="predicted triplet",
        ),
    ]
    if by_key:
        handles.append(marker_entry("sampled frequency, with interval", mfc="white", color="black"))
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(
        "Paper B, Fig. 4: singlet/triplet measurement (Eq. 35) on the optimal inputs, "
        f"$\\eta = {eta:g}$",
        fontsize=10.5,
    )
    return fig


def _index_pair_samples(samples: Sequence[Sample], eta: float) -> dict[tuple[str, str], Sample]:
    out: dict[tuple[str, str], Sample] = {}
    for sample in samples:
        inputs = check_inputs(sample["inputs"])
        labels = theory.optimal_ensemble(eta, inputs)["labels"]
        label = sample["input_label"]
        if label not in labels:
            raise ValueError(
                f"input_label must be one of {labels} for {inputs} inputs, got {label!r}"
            )
        if "eta" in sample and not np.isclose(float(sample["eta"]), eta):
            raise ValueError(
                f"sample eta {float(sample['eta']):g} differs from the figure's eta {eta:g}"
            )
        out[(inputs, label)] = sample["p_singlet"]
    return out


@styled
def channel_capacity(samples: Sequence[Sample] | None = None, *, train: bool = True) -> Figure:
    """Capacity against ``eta`` for entangled and separable inputs (paper B, Fig. 5).

    Two panels: (a) the two-photon sector's ``chi_2(eta)`` (Eqs. 31-32); (b) the two-slot
    capacity ``C(eta) = log2(3 + 2^chi_2)`` (Eq. 8) with the 2-bit baseline of ignoring
    polarization and, if ``train``, the closing remark's slot-train rate ``2 + chi_2/2``
    (entangled). ``ax.lines`` of each panel start with the entangled then separable curve.

    Parameters
    ----------
    samples : sequence of dict, optional
        ``{"eta", "inputs", "alphabet", "mutual_information": {value, ci_low, ci_high}}``.
        ``alphabet`` in :data:`PAIR_ALPHABETS` (the two-photon letters alone: chi_2 scale,
        panel a) or :data:`TWO_SLOT_ALPHABETS` (the whole two-slot alphabet: capacity scale,
        panel b). Markers are nudged by -+0.006 in ``eta`` (entangled left, separable right)
        so that both input sets stay visible at a shared ``eta``.
    train : bool
        Draw the slot-train rate as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples or [])
    fig = new_figure(10.0, 4.6)
    ax_pair, ax_full = fig.subplots(1, 2)
    eta = np.linspace(0.0, 1.0, 501)
    for inputs in INPUTS:
        color = INPUT_COLORS[inputs]
        ls = "-" if inputs == "entangled" else (0, (5, 2))
        ax_pair.plot(
            eta, theory.chi2(eta, inputs), color=color, lw=2.2, ls=ls, label=f"{inputs} inputs"
        )
        ax_full.plot(
            eta, theory.capacity(eta, inputs), color=color, lw=2.2, ls=ls, label=f"{inputs} inputs"
        )
    ax_full.axhline(
        theory.capacity_unpolarized(),
        color="0.4",
        lw=1.4,
        ls=(0, (1, 1.5)),
        label="ignoring polarization: 2 bits",
    )
    if train:
        ax_full.plot(
            eta,
            theory.train_capacity(eta, "entangled"),
            color=OKABE_ITO["green"],
            lw=1.8,
            ls=(0, (1, 1)),
            label=r"slot train, $2 + \chi_2/2$ (Sec. VI remark)",
        )
    for value, text, ax in (
        (1.0, r"$1$", ax_pair),
        (np.log2(5 / 4), r"$\log_2\frac{5}{4} = 0.322$", ax_pair),
        (np.log2(5), r"$\log_2 5 = 2.322$", ax_full),
        (np.log2(17 / 4), r"$\log_2\frac{17}{4} = 2.087$", ax_full),
    ):
        # eta = 1 values, written just outside the right spine
        ax.annotate(
            text,
            (1.0, value),
            xycoords=ax.get_yaxis_transform(),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            annotation_clip=False,
        )

    placed = _place_capacity_samples(samples, ax_pair, ax_full)
    for ax, ylabel, title in (
        (
            ax_pair,
            r"two-photon Holevo quantity $\chi_2$ (bit per photon pair)",
            r"(a) two-photon sector, Eqs. 31-32",
        ),
        (ax_full, r"capacity $C$ (bit per two slots)", r"(b) two-slot channel, Eq. 8"),
    ):
        ax.set_xlim(-0.02, 1.02)  # room for the markers of samples at eta = 0 and 1
        ax.set_xlabel(r"noise correlation $\eta$")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, color="0.9", lw=0.6)
        handles, _ = ax.get_legend_handles_labels()
        if placed[id(ax)]:
            handles.append(marker_entry("sampled mutual information", mfc="white", color="black"))
        ax.legend(handles=handles, loc="upper left", fontsize=8.5)
    ax_pair.set_ylim(-0.03, 1.12)
    ax_full.set_ylim(1.97, 2.56 if train else 2.4)
    fig.suptitle("Paper B, Fig. 5: capacity with correlated polarization noise", fontsize=11)
    return fig


def _place_capacity_samples(samples: Sequence[Sample], ax_pair, ax_full) -> dict[int, bool]:
    placed = {id(ax_pair): False, id(ax_full): False}
    for sample in samples:
        inputs = check_inputs(sample["inputs"])
        alphabet = str(sample["alphabet"]).lower().replace("_", "-")
        if alphabet in PAIR_ALPHABETS:
            ax = ax_pair
        elif alphabet in TWO_SLOT_ALPHABETS:
            ax = ax_full
        else:
            raise ValueError(
                f"alphabet must be one of {PAIR_ALPHABETS + TWO_SLOT_ALPHABETS}, "
                f"got {sample['alphabet']!r}"
            )
        # entangled and separable samples at the same eta would hide each other: nudge apart
        x = float(check_eta(sample["eta"])) + (-0.006 if inputs == "entangled" else 0.006)
        value, low, high = interval(sample["mutual_information"])
        ax.errorbar(
            x,
            value,
            yerr=[[max(value - low, 0)], [max(high - value, 0)]],
            fmt="o",
            ms=7,
            color=INPUT_COLORS[inputs],
            mfc="white",
            mew=1.6,
            capsize=4,
            elinewidth=1.5,
            zorder=5,
        )
        placed[id(ax)] = True
    return placed
