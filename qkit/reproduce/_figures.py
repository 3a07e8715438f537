"""The papers' figures from the records of a reproduction, with sampled points overlaid."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qkit import figures
from qkit.channel import theory as channel_theory
from qkit.estimators import clopper_pearson
from qkit.reproduce._plan import CONFIDENCE, Settings

FIDELITY_SUCCESSES = (0.05, 0.25, 0.5, 0.75, 1.0)
_FIG3_GROUPS = ("optimal a*(S)", "Bell pairs", "weak pairs")


@dataclass
class FigureSpec:
    """A figure to draw: file stem, title and caption for the report, and its builder."""

    name: str
    title: str
    caption: str
    build: Callable[[], Figure]


def singlet_frequencies(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Per letter of a pair-alphabet record: ``P(singlet | letter)`` with its exact interval."""
    counts = np.asarray(record["counts"]["counts"], dtype=int)
    rows = []
    for letter, row in zip(record["counts"]["letters"], counts, strict=True):
        low, high = (float(x) for x in clopper_pearson(int(row[0]), int(row.sum()), CONFIDENCE))
        rows.append(
            {
                "letter": letter,
                "value": float(row[0] / row.sum()),
                "ci_low": low,
                "ci_high": high,
                "trials": int(row.sum()),
            }
        )
    return rows


def predicted_singlet(eta: float, inputs: str) -> dict[str, float]:
    """``P(singlet | letter) = (1 + 3 eta p)/4`` of the optimal ensemble (Eq. 35)."""
    ens = channel_theory.optimal_ensemble(eta, inputs)
    cond = channel_theory.conditional_probabilities(ens["werner_parameters"], eta)
    return {label: float(cond[i, 0]) for i, label in enumerate(ens["labels"])}


def _mixup_samples(records, groups: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    out = []
    for r in records:
        if r["kind"] != "mixup":
            continue
        if groups is not None and not any(g.startswith(groups) for g in r["groups"]):
            continue
        estimates = {k: r["estimate"][k] for k in ("eof", "chsh", "fidelity")}
        out.append({**r["params"], **estimates, "shots": r.get("shots")})
    return out


def _fig3_samples(records) -> list[dict[str, Any]]:
    """Samples on the curves of Fig. 3 whose predicted E_F is positive (a log axis has no 0)."""
    kept = [r for r in records if r["kind"] == "mixup" and r["prediction"]["eof"] > 0]
    return _mixup_samples(kept, _FIG3_GROUPS)


def _show_all_samples(fig: Figure, records) -> Figure:
    """Widen Fig. 5's capacity axis down to the lowest sampled interval.

    The panel's default range (from 2 bits up) suits the simulator; a noisy device can deliver
    less than the 2 bits of ignoring polarization, and its points must not vanish off the axis.
    """
    ax = fig.axes[1]
    lows = [
        r["estimate"]["mutual_information"]["ci_low"]
        for r in records
        if r["kind"] == "channel" and r["params"]["alphabet"] == "two-slot"
    ]
    bottom, top = ax.get_ylim()
    if lows and min(lows) < bottom:
        ax.set_ylim(min(lows) - 0.03 * (top - min(lows)), top)
    return fig


def _pair_samples(records, eta: float) -> list[dict[str, Any]]:
    out = []
    for r in records:
        p = r["params"]
        if r["kind"] != "channel" or p["alphabet"] != "pair" or not np.isclose(p["eta"], eta):
            continue
        for row in singlet_frequencies(r):
            out.append(
                {"inputs": p["inputs"], "input_label": row["letter"], "eta": eta, "p_singlet": row}
            )
    return out


def _capacity_samples(records) -> list[dict[str, Any]]:
    return [
        {**r["params"], "mutual_information": r["estimate"]["mutual_information"]}
        for r in records
        if r["kind"] == "channel"
    ]


def _distill_samples(records) -> list[dict[str, Any]]:
    """Sampled one-round yields (one DEJMPS round, then hashing) beside their prediction."""
    return [
        {
            **r["params"],
            "yield": r["estimate"]["yield"],
            "prediction": {"yield": r["prediction"]["yield"]},
        }
        for r in records
        if r["kind"] == "distill"
    ]


def _chain_samples(records) -> list[dict[str, Any]]:
    """Sampled repeater chains (records of kind ``chain``, if the plan has any) for the figure."""
    out = []
    for r in records:
        if r["kind"] != "chain":
            continue
        estimate, prediction = r.get("estimate", {}), r.get("prediction", {})
        out.append(
            {
                **r["params"],
                **{k: estimate[k] for k in ("fidelity", "eof") if k in estimate},
                "prediction": {k: prediction[k] for k in ("fidelity", "eof") if k in prediction},
            }
        )
    return out


def _intervals(records: list[dict[str, Any]], kind: str, quantity: str) -> str:
    """``"95% delta-method intervals"``: the level and method the points of ``kind`` used for
    ``quantity`` (from their recorded ``metadata["intervals"]``)."""
    from qkit.result import describe_intervals

    used = [r for r in records if r.get("kind") == kind]
    methods = [
        {quantity: (r.get("metadata") or {}).get("intervals", {}).get(quantity)} for r in used
    ]
    options = (used[0].get("metadata") or {}).get("options", {}) if used else {}
    level = f"{float(options.get('confidence', 0.95)):.0%}"
    return f"{level} {describe_intervals(methods)} intervals"


def figure_specs(records: list[dict[str, Any]], config: Settings) -> list[FigureSpec]:
    """Every figure of both papers, built lazily from ``records``."""
    specs = [
        FigureSpec(
            "paperA_fig2_phase_diagram",
            "Paper A, Fig. 2: entanglement of the mixed-up pair over the (S, a) plane",
            "Colour: exact E_F (square-root scale); hatched: no entanglement (C = 0, Eq. 3.4); "
            "grey: entangled but with a local model (Sec. V); dashed red: CHSH threshold. "
            "Markers: sampled points, filled by how far their tomographic E_F estimate lies from "
            "the exact E_F in standard deviations (white: agrees; orange: above; purple: below; "
            "beyond 1.96 the 95% interval excludes it, and a red ring says so; dark grey: the "
            "estimate or its interval touches E_F = 0 or 1, no sigma); a star marks a "
            "CHSH violation of at least 3 standard errors. Right: each estimate minus the exact "
            f"value with its {_intervals(records, 'mixup', 'eof')[:-1]}.",
            lambda: figures.mixup_phase_diagram(_mixup_samples(records)),
        ),
        FigureSpec(
            "paperA_fig3_eof_max",
            "Paper A, Fig. 3: E_F^max(S), Eq. 4.2, and fixed a = 1/sqrt2 and a = 0.1, over the "
            "range the shots resolve",
            "Log-log axes, limited to the sampled S and to E_F down to a quarter of what the "
            "shots can tell from zero (grey band). Sampled E_F with "
            f"{_intervals(records, 'mixup', 'eof')}, coloured by the curve they belong to; "
            "estimates whose interval reaches zero are "
            "drawn as upper limits. Near E_F = 0 the estimate is biased upward (sampling noise "
            "never lowers a quantity bounded below by zero) and its interval is one-sided: the "
            "table marks these as boundary. Points where the theory gives no entanglement "
            "(E_F = 0 has no place on a log axis) are in Fig. 2 and the table; the paper's "
            "full 12-decade view is the next figure.",
            lambda: figures.mixup_eof_max(_fig3_samples(records)),
        ),
        FigureSpec(
            "paperA_fig3_eof_max_full",
            "Paper A, Fig. 3 in full: S from 0.001, twelve decades of E_F",
            "The same curves and samples as the previous figure over the paper's whole range, "
            "where E_F^max falls as S^4 log(1/S): the samples sit in the upper right corner.",
            lambda: figures.mixup_eof_max(_fig3_samples(records), success_min=1e-3),
        ),
        FigureSpec(
            "paperA_eq3_2_fidelity",
            "Paper A, Eq. 3.2: fidelity of the delivered pair",
            "Exact f(a) for several S; sampled fidelities (tomography, "
            f"{_intervals(records, 'mixup', 'fidelity')}) "
            "in the colour of their S. Sampled points at an S without a curve are not drawn; "
            "the figure lists them (they are in Fig. 2 and the table).",
            lambda: figures.mixup_fidelity(
                _mixup_samples(records), successes=FIDELITY_SUCCESSES, sampled_curves=False
            ),
        ),
    ]
    for eta in config.construction_etas:
        which = "as in Fig. 3" if eta == 1.0 else "the general case of Fig. 2"
        specs.append(
            FigureSpec(
                f"paperB_fig2-3_construction_eta{eta:g}",
                f"Paper B, Figs. 2-3: Lemma 2 construction on the Werner entropy, eta = {eta:g} "
                f"({which})",
                "The optimal two-photon ensemble uses the ends of the allowed Werner range; "
                "chi_2 is the gap between chord and curve at the optimal mean (exact theory).",
                functools.partial(figures.channel_entropy_construction, eta),
            )
        )
    for eta in config.fig4_etas:
        specs.append(
            FigureSpec(
                f"paperB_fig4_conditional_eta{eta:g}",
                f"Paper B, Fig. 4: singlet/triplet probabilities of the optimal inputs, "
                f"eta = {eta:g}",
                "Bars: predicted P(outcome | input) of the Braunstein-Mann measurement (Eq. 35); "
                "points: sampled frequencies with exact (Clopper-Pearson) 95% intervals.",
                functools.partial(
                    lambda e: figures.channel_conditional_probabilities(
                        e, _pair_samples(records, e)
                    ),
                    eta,
                ),
            )
        )
    specs.append(
        FigureSpec(
            "paperB_fig5_capacity",
            "Paper B, Fig. 5: capacity against the noise correlation eta",
            "(a) chi_2 of the two-photon sector and (b) the two-slot capacity, entangled and "
            "separable inputs, theory curves; points: sampled mutual information of the optimal "
            f"ensemble with {_intervals(records, 'channel', 'mutual_information')} (hidden "
            "inside the markers when smaller).",
            lambda: _show_all_samples(
                figures.channel_capacity(_capacity_samples(records)), records
            ),
        )
    )
    if config.distill_pairs:
        from qkit.figures.distill import distill_yield

        coarse = {} if config.mode == "full" else {"points": 16, "resolution": 30}
        specs.append(
            FigureSpec(
                "beyond_distill_yield",
                "Beyond the papers: Bell pairs distilled per delivered mixed-up pair, "
                "against paper A's bound",
                "Log-log axes. Black: E_F^max(S), the upper bound of paper A's Fig. 3; sky "
                "dashed: the coherent-information (hashing) lower bound; coloured: the best "
                "yield of each protocol (optimized over a, a local filter and DEJMPS rounds, "
                "then hashing). Green points: one DEJMPS round sampled on two mixed-up Bell "
                "pairs, its success probability times the hashing yield 1 - H of the kept "
                "pair's Bell weights (from its XX, YY, ZZ correlators), halved "
                f"({_intervals(records, 'distill', 'yield')}; a zero estimate is drawn "
                "as an upper limit); hollow diamonds: the "
                "exact one-round yield at the same (S, a).",
                lambda: distill_yield(_distill_samples(records), **coarse),
            )
        )
    specs.append(_repeater_spec(records))
    return specs


def _repeater_spec(records) -> FigureSpec:
    from qkit.figures.repeater import DEFAULT_DEPHASING, DEFAULT_ROUNDS, repeater_chain

    rounds = ", ".join(str(k) for k in DEFAULT_ROUNDS)
    return FigureSpec(
        "beyond_repeater_chain",
        "Beyond the papers: a repeater chain of mixed-up pairs, quality and cost against distance",
        "Exact theory (qkit.repeater) for 1 to 1024 links, each delivering mixed-up Bell pairs "
        f"at the S of its colour; K = {rounds} DEJMPS rounds at every nesting level (line "
        f"style), memory dephasing P = {DEFAULT_DEPHASING:g} per level on every qubit, "
        "entanglement swapping between levels. Top: end-to-end Bell fidelity, stars on the "
        "longest chain that still violates CHSH; middle: entanglement of formation, crosses on "
        "the longest chain still entangled; bottom: end-to-end pairs per delivered pair (drawn "
        "while the pair is entangled). Without distillation the chain dies after a few links; "
        "enough rounds per level hold the fidelity near 1 at any length, at a yield falling "
        "polynomially in L.",
        lambda: repeater_chain(_chain_samples(records)),
    )
