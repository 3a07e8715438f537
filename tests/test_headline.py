"""The report's summary sentence agrees with its tables; the test table shows the new keys."""

from __future__ import annotations

import re

import numpy as np

from qkit.estimators import chsh, pauli_probabilities, state_tomography
from qkit.mixup import experiment, theory
from qkit.reproduce import _headline, _report


def _record(rid: str, success: float, amplitude: float, estimate: dict) -> dict:
    return {
        "id": rid,
        "paper": "A",
        "kind": "mixup",
        "params": {"success": success, "amplitude": amplitude},
        "prediction": experiment.MIXUP.prediction({"success": success, "amplitude": amplitude}),
        "estimate": estimate,
    }


def _estimate(success: float, amplitude: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    probs = pauli_probabilities(theory.state(success, amplitude))
    counts = rng.multinomial(1000, probs)
    out = state_tomography(counts, theory.psi(amplitude)).to_dict()
    p = (1 + 2**-0.5) / 4
    chsh_counts = rng.multinomial(1000, [[p, 0.5 - p, 0.5 - p, p]] * 3 + [[0.5 - p, p, p, 0.5 - p]])
    out["chsh"] = chsh(chsh_counts).to_dict()
    return out


def _records() -> list[dict]:
    records = [
        _record("A1", 1.0, theory.BELL_AMPLITUDE, _estimate(1.0, theory.BELL_AMPLITUDE, 1)),
        _record("A2", 0.8, 0.6, _estimate(0.8, 0.6, 2)),
        _record("A3", 0.3, theory.BELL_AMPLITUDE, _estimate(0.3, theory.BELL_AMPLITUDE, 3)),
    ]
    # A regular number far off (as a broken device would give) and a boundary one far off.
    bad = _estimate(0.8, 0.6, 4)
    bad["fidelity"] = {"value": 0.5, "ci_low": 0.49, "ci_high": 0.51}
    bad["concurrence"] = {
        **bad["concurrence"],
        "value": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.01,
        "at_boundary": True,
    }
    records.append(_record("A4", 0.8, 0.6, bad))
    return records


def test_summary_names_exactly_the_rows_set_in_bold():
    rows = _headline.headline_rows(_records())
    summ = _headline.summary(rows)
    bold = [f"{r['id']} {r['quantity']}" for r in rows if _report._deviation(r).startswith("**")]
    assert bold == summ["beyond_3_sigma"]
    assert "A4 fidelity f (Eq. 3.2)" in bold
    assert all(not r["at_boundary"] for r in rows if f"{r['id']} {r['quantity']}" in bold)
    assert "A4 concurrence C (Eq. 3.3)" in summ["boundary_outside"]
    sentence = _report._beyond_sentence(summ)
    for name in bold + summ["boundary_outside"]:
        assert name in sentence
    # The pure Bell pair's boundary rows (C = f = 1) contain their predictions.
    pure = [r for r in rows if r["id"] == "A1" and r["at_boundary"] and r["ci_low"] is not None]
    assert pure and all(_headline.covers(r) for r in pure)


def test_sentence_says_none_only_when_no_row_is_bold():
    rows = _headline.headline_rows(_records()[:3])
    summ = _headline.summary(rows)
    assert not any(_report._deviation(r).startswith("**") for r in rows)
    assert "No regular number lies beyond 3 sigma." in _report._beyond_sentence(summ)


def test_test_table_shows_lower_bounds_and_significance():
    rows = _headline.test_rows(_records())
    table = _report._tests_table(rows)
    text = _report.to_markdown([table])
    assert "C lower bound" in text and "p(CHSH <= 2)" in text
    entangled = rows[1]  # S = 0.8, a = 0.6: C = 0.68, clearly entangled
    assert entangled["entangled_p_value"] < 1e-6 and entangled["concurrence_lower_bound"] > 0.5
    separable = rows[2]  # S = 0.3, Bell pairs: separable
    assert separable["entangled_p_value"] > 0.05 and separable["concurrence_lower_bound"] == 0.0
    assert re.search(r"\(\d+\.\d sigma\)", text)
