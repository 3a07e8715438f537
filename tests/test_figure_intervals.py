"""Figures draw intervals inside the physical range and upper limits as upper limits."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from qkit import figures
from qkit.estimators import pauli_probabilities
from qkit.figures.mixup import concurrence_resolution
from qkit.measures import eof_from_concurrence
from qkit.mixup import theory

matplotlib.use("Agg")
BELL = theory.BELL_AMPLITUDE


def _witness(counts: np.ndarray) -> np.ndarray:
    from qkit.estimators.tomography import _x_part_witness

    shots = counts.sum(-1)
    psi = np.broadcast_to(theory.psi(BELL), (len(counts), 4))
    return _x_part_witness(None, psi, counts / shots[..., None], shots)[0]


def _bar_extent(container) -> tuple[float, float]:
    """Lowest and highest y of an errorbar container (marker and bar)."""
    ys = list(container.lines[0].get_ydata())
    for coll in container.lines[2]:
        for seg in coll.get_segments():
            ys += list(np.asarray(seg)[:, 1])
    return min(ys), max(ys)


def test_eof_figure_draws_an_estimate_outside_its_own_interval_without_crashing():
    # A value below its interval's lower end (as older records can hold): no negative yerr.
    samples = [
        {"success": 0.6, "amplitude": BELL, "eof": {"value": 0.2, "ci_low": 0.25, "ci_high": 0.3}}
    ]
    fig = figures.mixup_eof_max(samples)
    (container,) = fig.axes[0].containers
    low, high = _bar_extent(container)
    assert low == pytest.approx(0.2) and high == pytest.approx(0.3)


def test_eof_figure_draws_upper_limits_and_clips_to_the_physical_range():
    samples = [
        {
            "success": 0.2,
            "amplitude": 0.1,
            "eof": {"value": 0.001, "ci_low": 0.0, "ci_high": 0.004},
        },
        {"success": 1.0, "amplitude": BELL, "eof": {"value": 0.99, "ci_low": 0.97, "ci_high": 1.2}},
    ]
    ax = figures.mixup_eof_max(samples).axes[0]
    limit, bell = ax.containers
    assert limit.lines[0].get_marker() == "v"  # an upper limit at its ci_high
    assert limit.lines[0].get_ydata()[0] == pytest.approx(0.004)
    assert bell.lines[0].get_marker() == "o"
    assert _bar_extent(bell)[1] <= 1.0


def test_eof_figure_shades_what_the_shots_cannot_resolve():
    samples = [
        {
            "success": 0.6,
            "amplitude": BELL,
            "eof": {"value": 0.3, "ci_low": 0.28, "ci_high": 0.32},
            "shots": 1000,
        }
    ]
    ax = figures.mixup_eof_max(samples).axes[0]
    (band,) = [p for p in ax.patches if "unresolved" in str(p.get_label())]
    top = band.get_path().vertices[:, 1].max()
    y_top = band.get_transform().transform((0, top))[1]
    expected = ax.transData.transform(
        (1, float(eof_from_concurrence(concurrence_resolution(1000))))
    )[1]
    assert y_top == pytest.approx(expected, rel=1e-6, abs=0)
    # The resolution is the concurrence's 95% half-width at C = 0 for Bell pairs. Statistical:
    # the spread of 4000 draws is known to 1.1% (1 sd), so 5% is 4.4 sd, a false failure
    # below 1e-5 (and the seed is fixed).
    rng = np.random.default_rng(3)
    probs = pauli_probabilities(theory.state(1 / 3, BELL))
    counts = rng.multinomial(1000, probs, size=(4000, 9)).astype(float)
    k_hat = _witness(counts)
    measured = 1.96 * np.std(k_hat)
    assert concurrence_resolution(1000) == pytest.approx(measured, rel=0.05)
    assert "unresolved" not in " ".join(
        str(p.get_label()) for p in figures.mixup_eof_max().axes[0].patches
    )


def test_fidelity_figure_keeps_intervals_within_zero_and_one():
    samples = [
        {
            "success": 1.0,
            "amplitude": BELL,
            "fidelity": {"value": 1.0, "ci_low": 0.99, "ci_high": 1.02},
        }
    ]
    ax = figures.mixup_fidelity(samples).axes[0]
    (container,) = ax.containers
    assert _bar_extent(container)[1] <= 1.0
