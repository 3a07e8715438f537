"""The report's summary sentence agrees with its tables; the test table shows the new keys."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qkit import measures
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
    out["chsh"] = chsh(rng.multinomial(1000, _chsh_probabilities(success, amplitude))).to_dict()
    return out


def _chsh_probabilities(success: float, amplitude: float) -> np.ndarray:
    """Outcome probabilities (4, 4) of the four optimal CHSH settings on ``M[psi_a]``."""
    rho = theory.state(success, amplitude)
    d = measures.optimal_chsh_settings(rho)
    signs_a, signs_b = np.array([1, 1, -1, -1]), np.array([1, -1, 1, -1])
    r_a = np.real(np.einsum("iab,ba->i", measures.PAULI, measures.partial_trace(rho, 0)))
    r_b = np.real(np.einsum("iab,ba->i", measures.PAULI, measures.partial_trace(rho, 1)))
    t = measures.correlation_matrix(rho)
    rows = []
    for x, y in ((d["a"], d["b"]), (d["a"], d["b_prime"]), (d["a_prime"], d["b"])):
        rows.append((x, y))
    rows.append((d["a_prime"], d["b_prime"]))
    probs = [
        (1 + signs_a * (x @ r_a) + signs_b * (y @ r_b) + signs_a * signs_b * (x @ t @ y)) / 4
        for x, y in rows
    ]
    return np.clip(probs, 0, 1) / np.sum(np.clip(probs, 0, 1), axis=-1, keepdims=True)


def _records() -> list[dict]:
    records = [
        _record("A1", 1.0, theory.BELL_AMPLITUDE, _estimate(1.0, theory.BELL_AMPLITUDE, 1)),
        _record("A2", 0.8, 0.6, _estimate(0.8, 0.6, 2)),
        _record("A3", 0.3, theory.BELL_AMPLITUDE, _estimate(0.3, theory.BELL_AMPLITUDE, 3)),
    ]
    # A regular number far off (as a broken device would give) and a boundary one far off: the
    # pure Bell pair's C = 1 sits on the physical boundary.
    off = _estimate(0.8, 0.6, 5)
    off["fidelity"] = {"value": 0.5, "ci_low": 0.49, "ci_high": 0.51}
    records.append(_record("A5", 0.8, 0.6, off))
    bad = _estimate(1.0, theory.BELL_AMPLITUDE, 4)
    bad["concurrence"] = {
        **bad["concurrence"],
        "value": 0.9,
        "ci_low": 0.85,
        "ci_high": 0.95,
        "at_boundary": True,
    }
    records.insert(3, _record("A4", 1.0, theory.BELL_AMPLITUDE, bad))
    return records


def test_boundary_flags_only_points_on_a_physical_boundary():
    rows = _headline.headline_rows(_records())
    flagged = {(r["id"], r["quantity"].split()[0]) for r in rows if r["at_boundary"]}
    # S = 1 Bell pairs: C = E_F = f = 1 and CHSH = 2 sqrt2; S = 0.3: separable, C = E_F = 0.
    pure = {"CHSH", "concurrence", "E_F", "fidelity"}
    assert flagged == {(i, q) for i in ("A1", "A4") for q in pure} | {
        ("A3", "concurrence"),
        ("A3", "E_F"),
    }


def test_within_sigma_fractions_are_compared_with_what_is_expected():
    assert _headline.within_comment(95, 100, 2) is None
    assert "fewer than the 95.0% expected" in _headline.within_comment(65, 75, 2)
    assert "too wide" in _headline.within_comment(100, 100, 1)
    assert _headline.within_comment(0, 0, 3) is None
    # Within 2 sigma is inside the interval, also for an asymmetric one.
    inside = _headline.agreement(0.5, 0.59, interval=(0.49, 0.6))
    assert inside["deviation"] == pytest.approx(-0.09 / 0.1 * 1.959964, rel=1e-6, abs=0)
    below = _headline.agreement(0.5, 0.485, interval=(0.49, 0.6))
    assert below["deviation"] == pytest.approx(0.015 / 0.01 * 1.959964, rel=1e-6, abs=0)


def test_summary_names_exactly_the_rows_set_in_bold():
    rows = _headline.headline_rows(_records())
    summ = _headline.summary(rows)
    bold = [f"{r['id']} {r['quantity']}" for r in rows if _report._deviation(r).startswith("**")]
    assert bold == summ["beyond_3_sigma"]
    assert "A5 fidelity f (Eq. 3.2)" in bold
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
    # Seeded data: 6 regular (non-boundary) rows, today all within 0.7 sigma; redrawn, one of
    # them lands beyond 3 sigma with probability <= 6 x 0.0027 = 0.016 (worse than 1e-3).
    assert not any(_report._deviation(r).startswith("**") for r in rows)
    assert "No regular number lies beyond 3 sigma." in _report._beyond_sentence(summ)


def test_test_table_shows_lower_bounds_and_significance():
    rows = _headline.test_rows(_records())
    table = _report._tests_table(rows)
    text = _report.to_markdown([table])
    assert "C lower bound" in text and "p(CHSH <= 2)" in text
    # Seeded data, 1000 shots a setting, sd(K_hat) ~0.02-0.03: the entangled row's p < 1e-6
    # needs K_hat > 0.14 (C = 0.68: a ~25 sd draw to fail) and its bound > 0.5 fails at ~5.6 sd
    # (1e-8); the separable row (K = -0.05) reaches p <= 0.05 only at K_hat > 0.067, 4.5 sd
    # (3e-6).
    entangled = rows[1]  # S = 0.8, a = 0.6: C = 0.68, clearly entangled
    assert entangled["entangled_p_value"] < 1e-6 and entangled["concurrence_lower_bound"] > 0.5
    separable = rows[2]  # S = 0.3, Bell pairs: separable
    assert separable["entangled_p_value"] > 0.05 and separable["concurrence_lower_bound"] == 0.0
    assert re.search(r"\(\d+\.\d sigma\)", text)


def _channel_record(rid: str, eta: float, inputs: str, alphabet: str) -> dict:
    from qkit.channel import experiment as channel_experiment

    holevo = channel_experiment.ensemble(eta, inputs, alphabet)["holevo"]
    return {
        "id": rid,
        "paper": "B",
        "kind": "channel",
        "params": {"eta": eta, "inputs": inputs, "alphabet": alphabet},
        "prediction": {"holevo": holevo},
        "estimate": {"mutual_information": {"value": holevo, "ci_low": 0.0, "ci_high": 2.5}},
    }


def test_channel_rows_are_boundary_only_at_no_information_or_a_noiseless_channel():
    records = [
        _channel_record("B1", 0.0, "entangled", "pair"),  # I = 0
        _channel_record("B2", 1.0, "entangled", "pair"),  # I = H(prior) = 1: noiseless
        _channel_record("B3", 1.0, "entangled", "two-slot"),  # I = log2 5: noiseless
        _channel_record("B4", 0.0, "entangled", "two-slot"),  # 2 bits: not an edge
        _channel_record("B5", 1.0, "separable", "pair"),  # 0.32: interior
        _channel_record("B6", 0.5, "entangled", "pair"),
    ]
    rows = _headline.headline_rows(records)
    assert {r["id"] for r in rows if r["at_boundary"]} == {"B1", "B2", "B3"}


def test_a_chain_chsh_of_2_4_is_not_on_a_boundary_but_tsirelsons_bound_is():
    assert not _headline._on_physical_boundary("chsh", 2.41)
    assert not _headline._on_physical_boundary("chsh", 1.0)  # a [0, 1] limit means nothing here
    assert _headline._on_physical_boundary("chsh", 2 * np.sqrt(2))
    assert _headline._on_physical_boundary("success_probability", 1.0)
    assert _headline._on_physical_boundary("yield", 0.0)
    assert not _headline._on_physical_boundary("fidelity", 0.99)


def test_rounding_is_not_a_deviation_and_boundary_rows_show_none():
    # a fidelity of 1 - 1e-16 against 1 with the interval [0.9992, 1]: not -1.96 sigma
    agree = _headline.agreement(1.0 - 1e-16, 1.0, interval=(0.9992, 1.0))
    assert agree["deviation"] == 0.0
    assert agree["sigma"] == pytest.approx(0.0004 / 1.959964, rel=1e-6, abs=0)
    rows = _headline.headline_rows(_records())
    for r in rows:
        shown = _report._deviation(r)
        assert (shown == "-") == bool(r["at_boundary"]), (r["id"], r["quantity"], shown)
