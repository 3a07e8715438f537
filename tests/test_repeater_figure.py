"""The repeater-chain figure: theory curves from qkit.repeater, stop markers, sampled points."""

from __future__ import annotations

import numpy as np

from qkit.figures import save
from qkit.figures.repeater import repeater_chain
from qkit.mixup.theory import BELL_AMPLITUDE
from qkit.repeater import theory


def test_figure_draws_the_exact_curves_and_marks_where_chains_stop(tmp_path):
    successes, rounds, dephasing = (0.9, 0.7), (0, 2), 0.01
    fig = repeater_chain(successes=successes, rounds=rounds, dephasing=dephasing, max_links=256)
    ax_f, ax_e, ax_y = fig.axes
    assert ax_f.get_xscale() == "log" and ax_y.get_yscale() == "log"
    curves = [line for line in ax_f.lines if line.get_linestyle() != "None"]
    for i, s in enumerate(successes):
        for j, k in enumerate(rounds):
            links, fidelity = curves[i * len(rounds) + j].get_data()
            np.testing.assert_allclose(links, 2.0 ** np.arange(9))
            for level in (0, 4, 8):
                expected = theory.chain(2**level, s, BELL_AMPLITUDE, k, dephasing)["fidelity"]
                assert abs(fidelity[level] - expected) < 1e-14
    # a cross on the E_F panel at the reach of every scheme that stops within 256 links
    crosses = {
        (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
        for line in ax_e.lines
        if line.get_marker() == "X"
    }
    expected = set()
    for s in successes:
        for k in rounds:
            reach = theory.reach(s, BELL_AMPLITUDE, k, dephasing, max_links=256)
            if 1 <= reach < 256:
                eof = theory.chain(reach, s, BELL_AMPLITUDE, k, dephasing)["eof"]
                expected.add((float(reach), eof))
    assert len(expected) >= 2 and {x for x, _ in crosses} == {x for x, _ in expected}
    png, pdf = save(fig, tmp_path, "repeater")
    assert png.stat().st_size > 10_000 and pdf.exists()


def test_sampled_points_are_drawn_with_their_intervals():
    sample = {
        "links": 2,
        "success": 0.9,
        "rounds": 1,
        "fidelity": {"value": 0.86, "ci_low": 0.84, "ci_high": 0.88},
        "eof": {"value": 0.6, "stderr": 0.05},
        "prediction": {"fidelity": 0.87},
    }
    fig = repeater_chain([sample], successes=(0.9,), rounds=(0, 1), max_links=16)
    ax_f, ax_e, _ = fig.axes
    assert len(ax_f.containers) == 1 and len(ax_e.containers) == 1  # one error bar each
    (bar,) = ax_f.containers
    segment = bar.lines[2][0].get_segments()[0]
    np.testing.assert_allclose(segment[:, 1], [0.84, 0.88])
    labels = fig.legends[0].get_texts()
    assert any("sampled" in t.get_text() for t in labels)


def test_reproduce_draws_sampled_chain_records_when_the_plan_has_them():
    from qkit.reproduce import _figures, _plan

    record = {
        "kind": "chain",
        "params": {"links": 2, "success": 0.95, "amplitude": BELL_AMPLITUDE, "rounds": 1},
        "estimate": {"fidelity": {"value": 0.97, "ci_low": 0.95, "ci_high": 0.99}},
        "prediction": {"fidelity": 0.98, "concurrence": 0.96},
    }
    specs = _figures.figure_specs([record], _plan.settings(True))
    spec = next(s for s in specs if s.name == "beyond_repeater_chain")
    assert "1024 links" in spec.caption
    fig = spec.build()
    assert len(fig.axes[0].containers) == 1  # the sampled fidelity with its interval
    assert not fig.axes[1].containers  # no E_F estimate in the record
