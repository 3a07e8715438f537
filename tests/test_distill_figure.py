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
