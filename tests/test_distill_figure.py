"""The distillation figure: it draws the exact theory, the bounds and sampled one-round points."""

from __future__ import annotations

import numpy as np

from qkit.distill import theory
from qkit.figures import save
from qkit.figures.distill import distill_yield, threshold
from qkit.mixup import theory as mixup


def test_figure_draws_bounds_protocols_and_samples(tmp_path):
    sample = {
        "success": 0.85,
        "amplitude": mixup.BELL_AMPLITUDE,
        "yield": {"value": 0.2, "ci_low": 0.15, "ci_high": 0.25},
        "prediction": {"yield": 0.21},
    }
    fig = distill_yield([sample], points=8, max_rounds=16, resolution=12)
    top, bottom = fig.axes
    assert top.get_xscale() == top.get_yscale() == "log"
    labels = [line.get_label() for line in top.lines]
    assert labels[0].startswith("upper bound") and labels[1].startswith("lower bound")
    s, eof_max = top.lines[0].get_data()
    np.testing.assert_allclose(eof_max, mixup.eof_max(s))
    best = top.lines[2].get_ydata()
    assert np.all(np.nan_to_num(best) <= eof_max + 1e-15)
    assert any("sampled" in label for label in top.get_legend_handles_labels()[1])
    assert len(bottom.lines) >= 5
    png, pdf = save(fig, tmp_path, "distill_yield")
    assert png.stat().st_size > 10_000 and pdf.exists()


def test_threshold_brackets_where_one_round_starts_to_yield():
    s1 = threshold("one_round", 0.5, theory.hashing_threshold(), max_rounds=2, resolution=12)
    assert 0.5 < s1 < theory.hashing_threshold()
    search = dict(max_rounds=2, resolution=12)
    assert float(theory.best_yields(s1, **search)["one_round"]) > 0
    assert float(theory.best_yields(s1 - 2e-6, **search)["one_round"]) == 0


def test_zero_yield_is_an_upper_limit_above_the_axis_edge():
    """A sampled yield of 0 with interval [0, 0] has no place on a log axis: an arrow down
    to the axis from well above its edge, labelled with the estimate and its interval."""
    zero = {
        "success": 0.6,
        "amplitude": mixup.BELL_AMPLITUDE,
        "yield": {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0},
    }
    limit = {
        "success": 0.7,
        "amplitude": mixup.BELL_AMPLITUDE,
        "yield": {"value": 0.0, "ci_low": 0.0, "ci_high": 0.05},
    }
    fig = distill_yield([zero, limit], points=8, max_rounds=8, resolution=12)
    top = fig.axes[0]
    (label,) = [t for t in top.texts if t.get_text().startswith("sampled 0")]
    assert "interval [0, 0]" in label.get_text()
    x, y_axes = label.xy
    assert x == 0.6 and y_axes >= 0.1  # a tenth of the axes above the bottom edge
    (arrow,) = [c for c in top.containers if c.lines[0].get_marker() == "v"]
    assert arrow.lines[0].get_ydata()[0] == 0.05  # the other one: an upper limit at ci_high


def test_grid_is_fine_where_the_curves_bend_and_above_each_threshold():
    fig = distill_yield(points=8, max_rounds=8, resolution=12)
    s = np.asarray(fig.axes[0].lines[2].get_xdata())
    assert np.max(np.diff(s[s >= 0.4])) <= 0.6 / 7 + 1e-12
    s_hash = theory.hashing_threshold()
    above = s[(s > s_hash) & (s < 1.3 * s_hash)]
    assert len(above) >= 8 and above.min() < s_hash * (1 + 1e-6)
