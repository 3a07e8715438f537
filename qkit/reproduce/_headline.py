"""Headline numbers of a reproduction: prediction, estimate, interval, agreement in sigmas.

The agreement of an estimate with its prediction is ``(estimate - prediction) / sigma``. For a
CHSH value ``sigma`` is its binomial standard error; for a confidence interval it is the
interval's half-width divided by the normal quantile of its level (1.96 at 95%), i.e. the
standard deviation a normal estimate with that interval would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from qkit import experiment as definitions
from qkit.reproduce._figures import predicted_singlet, singlet_frequencies
from qkit.reproduce._plan import CONFIDENCE

Z_95 = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))

_MIXUP_QUANTITIES = (
    ("chsh", "chsh_max", "CHSH value (Horodecki max.)"),
    ("concurrence", "concurrence", "concurrence C (Eq. 3.3)"),
    ("eof", "eof", "E_F (ebit)"),
    ("fidelity", "fidelity", "fidelity f (Eq. 3.2)"),
)


def point_label(record: dict[str, Any]) -> str:
    """Short human label of a point, e.g. ``S=0.5, a=0.7071`` or ``eta=1, entangled, pair``."""
    p = record["params"]
    if record["kind"] == "mixup":
        return f"S={p['success']:.4g}, a={p['amplitude']:.4g}"
    if record["kind"] == "channel":
        return f"eta={p['eta']:g}, {p['inputs']}, {p['alphabet']}"
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())


def agreement(
    estimate: float, prediction: float, *, stderr: float | None = None, interval=None
) -> dict[str, Any]:
    """Sigma (from ``stderr`` or an interval's half-width / 1.96) and the deviation in sigmas.

    An interval's sigma is taken from the side facing the prediction (``(ci_high - estimate) /
    1.96`` above the estimate, ``(estimate - ci_low) / 1.96`` below), so "within 2 sigma" is
    "the interval contains the prediction" also for the asymmetric intervals at the edges.
    A zero-width interval (every shot gave the same outcome) agrees exactly when the estimate
    equals the prediction (deviation 0) and is otherwise not comparable (deviation ``None``).

    >>> round(agreement(2.05, 2.0, stderr=0.025)["deviation"], 9)
    2.0
    >>> round(agreement(0.5, 0.48, interval=(0.4804, 0.5196))["deviation"], 3)
    2.0
    """
    if stderr is not None:
        sigma, source = float(stderr), "stderr"
    else:
        low, high = (float(x) for x in interval)
        if abs(float(estimate) - float(prediction)) <= _ROUNDING:
            side = (high - low) / 2.0
        elif prediction > estimate:
            side = high - float(estimate)
        elif prediction < estimate:
            side = float(estimate) - low
        else:
            side = (high - low) / 2.0
        sigma, source = max(side, 0.0) / Z_95, "ci/1.96"
    diff = float(estimate) - float(prediction)
    if abs(diff) <= _ROUNDING:  # rounding, not a deviation (e.g. a fidelity 1 - 1e-16)
        diff = 0.0
    deviation: float | None
    if sigma > 0:
        deviation = diff / sigma
    else:
        deviation = 0.0 if abs(diff) < 1e-9 else None
    return {"sigma": sigma, "sigma_from": source, "deviation": deviation}


_ROUNDING = 1e-12  # an estimate this close to its prediction equals it


def _at_unit_limit(value: float) -> bool:
    """A true value at 0 or 1 of a [0, 1] quantity: estimates can only err inward there.

    A pure delivered pair (``S = 1``) has ``C = E_F = f = 1``; the physical state estimate
    cannot exceed them, so its interval lies below the truth however many shots are taken.
    """
    return value <= 1e-12 or value >= 1.0 - 1e-12


def _on_physical_boundary(quantity: str, prediction: float) -> bool:
    """Whether the true value sits on the edge of the physical range (not the estimator's flag).

    Concurrence, E_F, fidelity, probabilities and yields live in [0, 1]; CHSH in ``[-2 sqrt2,
    2 sqrt2]`` (a repeater chain's CHSH of 2.4 is not on an edge).
    """
    if quantity == "chsh":
        return bool(abs(prediction) >= 2.0 * np.sqrt(2.0) - 1e-9)
    return bool(_at_unit_limit(prediction))


def _row(
    base: dict[str, Any],
    quantity: str,
    prediction: float,
    est: dict[str, Any],
    at_boundary: bool,
    *,
    stderr: bool = False,
) -> dict[str, Any]:
    """One headline row: the estimate ``est`` (``{value, ci_low, ci_high}``, or ``{value,
    stderr}`` with ``stderr``) beside its ``prediction``, with the :func:`agreement`."""
    value = est["value"]
    if stderr:
        low = high = None
        agree = agreement(value, prediction, stderr=est["stderr"])
    else:
        low, high = est["ci_low"], est["ci_high"]
        agree = agreement(value, prediction, interval=(low, high))
    return {
        **base,
        "quantity": quantity,
        "prediction": prediction,
        "estimate": value,
        "ci_low": low,
        "ci_high": high,
        **agree,
        "at_boundary": bool(at_boundary),
    }


def headline_rows(records: list[dict[str, Any]], fig4_etas=()) -> list[dict[str, Any]]:
    """One row per headline number of every record (and Fig. 4 frequencies at ``fig4_etas``)."""
    rows = []
    for r in records:
        base = {"id": r["id"], "paper": r["paper"], "point": point_label(r)}
        if r["kind"] not in ("mixup", "channel"):
            rows += _target_rows(r, base)
            continue
        if r["kind"] == "mixup":
            for est_key, pred_key, name in _MIXUP_QUANTITIES:
                est, pred = r["estimate"][est_key], r["prediction"][pred_key]
                boundary = _on_physical_boundary(est_key, pred)
                # CHSH (and an estimate without an interval): its standard error
                by_stderr = est_key == "chsh" or "ci_low" not in est
                rows.append(_row(base, name, pred, est, boundary, stderr=by_stderr))
            continue
        p = r["params"]
        name = (
            "I = chi_2 (bit/pair, Eqs. 31-32)"
            if p["alphabet"] == "pair"
            else "I = C (bit/two slots, Eq. 8)"
        )
        holevo = r["prediction"]["holevo"]
        mi = r["estimate"]["mutual_information"]
        rows.append(_row(base, name, holevo, mi, _information_at_edge(r)))
        if p["alphabet"] == "pair" and np.isclose(p["eta"], fig4_etas).any():
            predicted = predicted_singlet(p["eta"], p["inputs"])
            for freq in singlet_frequencies(r):
                pred = predicted[freq["letter"]]
                quantity = f"P(singlet | {freq['letter']}) (Eq. 35, Fig. 4)"
                rows.append(_row(base, quantity, pred, freq, _at_unit_limit(pred)))
    return rows


def _information_at_edge(record: dict[str, Any]) -> bool:
    """No information (``eta = 0`` with the pair alphabet) or a noiseless channel (the Holevo
    quantity at ``min(H(prior), log2 #outcomes)``, the most the letters can carry): the two
    ends of the physical range. The two-slot alphabet's 2 bits at ``eta = 0`` are not an edge."""
    from qkit.channel.experiment import ensemble
    from qkit.measures import shannon_entropy

    p = record["params"]
    ens = ensemble(float(p["eta"]), str(p["inputs"]), str(p["alphabet"]))
    top = min(float(shannon_entropy(ens["prior"])), float(np.log2(len(ens["outcomes"]))))
    holevo = float(record["prediction"]["holevo"])
    return holevo <= _ROUNDING or holevo >= top - 1e-9


def covers(row: dict[str, Any]) -> bool | None:
    """Whether a row's interval contains its prediction (None for a standard-error row)."""
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return None
    tol = 1e-9
    return bool(row["ci_low"] - tol <= row["prediction"] <= row["ci_high"] + tol)


def significant(row: dict[str, Any], sigmas: float = 3.0) -> bool:
    """A row the report sets in bold: a regular (not boundary) deviation beyond ``sigmas``."""
    dev = row["deviation"]
    return dev is not None and not row["at_boundary"] and abs(dev) > sigmas


def _target_rows(record: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of any other experiment: each estimated quantity beside the prediction it targets
    (:attr:`qkit.experiment.Experiment.targets`)."""
    rows = []
    for est_key, pred_key in definitions.get(record["kind"]).targets.items():
        est, pred = record["estimate"].get(est_key), record["prediction"].get(pred_key)
        if not isinstance(est, dict) or pred is None or est.get("value") is None:
            continue
        by_stderr = "stderr" in est
        if not by_stderr and (
            est["ci_low"] is None or not np.isfinite([est["ci_low"], est["ci_high"]]).all()
        ):
            continue
        rows.append(
            _row(base, est_key, pred, est, _on_physical_boundary(est_key, pred), stderr=by_stderr)
        )
    return rows


# Probability that a normal estimate lies within k sigma (the 2-sigma figure is the coverage
# of the 95% intervals, whose sigma is half-width / 1.96).
EXPECTED_WITHIN = {1: 0.6827, 2: CONFIDENCE, 3: 0.9973}


def within_comment(within: int, compared: int, k: int) -> str | None:
    """One line when ``within`` of ``compared`` is improbably far from the expected fraction.

    Improbable: outside the central 99% of ``Binomial(compared, EXPECTED_WITHIN[k])`` (a
    correct set of intervals draws this comment for a given k in about 1% of reports).
    """
    expected = EXPECTED_WITHIN[k]
    if compared == 0:
        return None
    low, high = stats.binom.ppf([0.005, 0.995], compared, expected)
    if low <= within <= high:
        return None
    side = "fewer" if within < low else "more"
    return (
        f"{within} of {compared} within {k} sigma is {side} than the {expected:.1%} expected "
        f"({int(low)}-{int(high)} in 99% of honest reports): the intervals are "
        + ("too narrow or the estimates biased." if side == "fewer" else "too wide.")
    )


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How many deviations lie within 1, 2, 3 sigma (boundary estimates counted apart).

    ``beyond_3_sigma`` lists exactly the rows :func:`significant` marks (the report's bold
    rows). Boundary rows have one-sided intervals, for which a deviation in sigmas is not a
    meaningful figure; ``boundary_outside`` lists those whose interval excludes the prediction.
    """
    regular = [r for r in rows if r["deviation"] is not None and not r["at_boundary"]]
    dev = np.abs([r["deviation"] for r in regular])
    boundary = [r for r in rows if r["at_boundary"]]
    within = {k: int(np.sum(dev <= k)) for k in (1, 2, 3)}
    return {
        "numbers": len(rows),
        "compared": len(regular),
        "expected_within": {f"{k}_sigma": EXPECTED_WITHIN[k] for k in (1, 2, 3)},
        "within_comments": [
            c for k in (1, 2, 3) if (c := within_comment(within[k], len(regular), k)) is not None
        ],
        "at_boundary": int(sum(bool(r["at_boundary"]) for r in rows)),
        "not_comparable": sum(r["deviation"] is None for r in rows),
        "within_1_sigma": within[1],
        "within_2_sigma": within[2],
        "within_3_sigma": within[3],
        "beyond_3_sigma": [r["id"] + " " + r["quantity"] for r in rows if significant(r)],
        "boundary_outside": [r["id"] + " " + r["quantity"] for r in boundary if covers(r) is False],
    }


def test_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entanglement and CHSH violation as tests, one row per mix-up record.

    The concurrence's one-sided lower bound and the p-value (and sigma) of ``C > 0``; CHSH's
    finite-sample lower bound and the p-value (and sigma) of ``CHSH > 2``
    (:func:`qkit.estimators.state_tomography`, :func:`qkit.estimators.chsh`). Keys missing
    from older records read as None.
    """
    out = []
    for r in records:
        if r["kind"] != "mixup":
            continue
        c, s = r["estimate"].get("concurrence", {}), r["estimate"].get("chsh", {})
        out.append(
            {
                "id": r["id"],
                "point": point_label(r),
                "concurrence_lower_bound": c.get("lower_bound"),
                "entangled_p_value": c.get("entangled_p_value"),
                "entangled_sigma": c.get("entangled_sigma"),
                "chsh_lower_bound": s.get("lower_bound"),
                "violation_p_value": s.get("violation_p_value"),
                "violation_sigma": s.get("violation_sigma"),
                "concurrence_upper_bound": c.get("upper_bound"),
                "chsh_upper_bound": s.get("upper_bound"),
                "no_violation_p_value": s.get("no_violation_p_value"),
                "no_violation_sigma": s.get("no_violation_sigma"),
                "predicted_concurrence": r["prediction"].get("concurrence"),
                "predicted_chsh": r["prediction"].get("chsh_max"),
            }
        )
    return out
