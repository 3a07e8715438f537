"""``qkit plot`` and :func:`qkit.figures.plot_sweep`: a figure from any sweep table.

The tables are real sweeps (small, seeded, exact engine) written into temporary folders.
What a figure claims is read back from its artists and checked against quantities computed
here from the table's own columns and from explicit density matrices, not from the plotting
code.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.collections import QuadMesh

from qkit import figures, measures
from qkit.cli import main
from qkit.figures.sweep import MARK_GID, load_table, plot_sweep
from qkit.mixup import theory as mixup_theory
from qkit.sweep import make_spec, read_table, run_sweep


def _sweep(tmp_path, kind: str, axes: dict, name: str, store=None) -> str:
    spec = make_spec(kind, axes, shots=400, seed=7, n_boot=40)
    out = tmp_path / name
    run_sweep(spec, out, store=store, progress=False)
    return str(out)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("tables")
    return {
        "plane": _sweep(tmp, "mixup", {"success": "0.1:1:6", "amplitude": "0:1:5"}, "plane.csv"),
        "line": _sweep(tmp, "mixup", {"success": "0.2:1:5", "amplitude": "0.3,0.7071"}, "line.csv"),
        "channel": _sweep(
            tmp,
            "channel",
            {"eta": "0:1:3", "inputs": "entangled,separable", "alphabet": "pair,two-slot"},
            "channel.csv",
        ),
        "distill": _sweep(tmp, "distill", {"success": "0.7:1:3", "amplitude": "0.7"}, "dist.csv"),
    }


def _delivered(success: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """M[psi_a] as explicit density matrices, one per (S, a)."""
    return np.array(
        [
            mixup_theory.mixup(np.outer(p, p), x)
            for p, x in zip(mixup_theory.psi(amplitude), success, strict=True)
        ]
    )


def _prediction_lines(ax) -> list:
    return [line for line in ax.lines if line.get_gid() == "prediction"]


def _marked(ax) -> list[tuple[float, float]]:
    rings = [c for c in ax.collections if c.get_gid() == MARK_GID]
    points = [tuple(map(float, p)) for c in rings for p in np.asarray(c.get_offsets())]
    return sorted(points)


def _expected_marks(table, quantity, prediction, x, y) -> list[tuple[float, float]]:
    """Rows whose interval excludes the prediction, from the columns directly."""
    low, high = table[f"{quantity}_ci_low"], table[f"{quantity}_ci_high"]
    pred = table[f"predicted_{prediction}"]
    rows = [i for i in range(len(pred)) if pred[i] < low[i] or pred[i] > high[i]]
    return sorted((float(table[x][i]), float(table[y][i])) for i in rows)


def _shifted(path: str, rows: list[int], quantity: str = "eof") -> dict[str, np.ndarray]:
    """The table with the intervals of ``rows`` moved well above their prediction."""
    table = read_table(path)
    for name in (quantity, f"{quantity}_ci_low", f"{quantity}_ci_high"):
        table[name] = table[name].astype(float).copy()
    for i in rows:
        pred = table[f"predicted_{quantity}"][i]
        table[quantity][i] = pred + 0.5
        table[f"{quantity}_ci_low"][i] = pred + 0.4
        table[f"{quantity}_ci_high"][i] = pred + 0.6
    return table


# --- the (S, a) plane ------------------------------------------------------------------------


def test_plane_is_a_heat_map_of_the_estimate_with_both_threshold_lines(tables):
    fig = plot_sweep(tables["plane"])
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    table = read_table(tables["plane"])
    # the mesh holds the estimate of each grid cell (rows are S-major, a inner)
    cells = np.asarray(mesh.get_array()).reshape(5, 6)  # (a, S)
    assert np.allclose(cells.T.reshape(-1), table["eof"])
    # line 0: C = 0 on explicit density matrices; line 1: the Horodecki CHSH value is 2
    for line, check in ((ax.lines[0], measures.concurrence), (ax.lines[1], measures.chsh_max)):
        s, a = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        pick = np.isfinite(s) & (s > 0.02) & (s <= 1) & (a > 0.02) & (a < 0.98)
        s, a = s[pick][::97], a[pick][::97]
        rho = _delivered(s, a)
        target = 0.0 if check is measures.concurrence else 2.0
        assert len(s) > 5 and np.allclose(check(rho), target, atol=1e-8)
    assert "C = 0" in ax.lines[0].get_label() and "CHSH" in ax.lines[1].get_label()


def test_plane_marks_exactly_the_rows_whose_interval_excludes_the_prediction(tables):
    table = _shifted(tables["plane"], [3, 11, 17])
    ax = plot_sweep(table).axes[0]
    expected = _expected_marks(table, "eof", "eof", "success", "amplitude")
    assert {(float(table["success"][i]), float(table["amplitude"][i])) for i in (3, 11, 17)} <= set(
        expected
    )
    assert _marked(ax) == expected
    assert f"{len(expected)} of 30 rows" in ax.get_title()


def test_dense_plane_is_a_heat_map_whose_marks_stay_inside_the_axes():
    """2,500 points: one mesh cell per point, rings smaller than a cell, nothing over the title."""
    s, a = np.meshgrid(np.linspace(0.02, 1, 50), np.linspace(0, 1, 50), indexing="ij")
    s, a = s.ravel(), a.ravel()
    pred = mixup_theory.eof(s, a)
    noise = np.where(np.arange(s.size) % 97 == 0, 0.3, 0.0)  # every 97th row disagrees
    table = {
        "success": s,
        "amplitude": a,
        "predicted_eof": pred,
        "eof": pred + noise,
        "eof_ci_low": pred + noise - 0.02,
        "eof_ci_high": pred + noise + 0.02,
    }
    fig = plot_sweep(table)
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert np.asarray(mesh.get_array()).size == 2500
    (rings,) = [c for c in ax.collections if c.get_gid() == MARK_GID]
    assert len(rings.get_offsets()) == int(np.sum(noise > 0))
    fig.canvas.draw()
    cell_pt = ax.bbox.width / 50 * 72 / fig.dpi
    assert np.sqrt(rings.get_sizes().max()) <= cell_pt
    assert rings.get_clip_on()
    title = ax.title.get_window_extent()
    assert title.y0 >= ax.bbox.y1  # the title sits above the plane


def test_phase_diagram_accepts_a_sweep_table(tables):
    fig = figures.mixup_phase_diagram(tables["plane"], resolution=40)
    ax = fig.axes[0]
    table = read_table(tables["plane"])
    drawn = sorted(
        tuple(map(float, p))
        for c in ax.collections
        if c.get_gid() in ("chsh-violated", "chsh-not-violated")
        for p in c.get_offsets()
    )
    assert drawn == sorted(zip(table["success"].tolist(), table["amplitude"].tolist(), strict=True))


# --- one axis ---------------------------------------------------------------------------------


def test_one_axis_draws_error_bars_over_the_exact_prediction(tables):
    table = _shifted(tables["line"], [4])
    ax = plot_sweep(table).axes[0]
    assert ax.get_xlabel().startswith("delivery success probability")
    assert len(ax.containers) == 2  # a = 0.3 and a = 0.7071
    for line, amplitude in zip(_prediction_lines(ax), (0.3, 0.7071), strict=True):
        s, e = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        rho = _delivered(s[::30], np.full(len(s[::30]), amplitude))
        assert np.allclose(e[::30], measures.entanglement_of_formation(rho), atol=1e-9)
    for container, amplitude in zip(ax.containers, (0.3, 0.7071), strict=True):
        rows = np.isclose(table["amplitude"], amplitude)
        assert np.allclose(container.lines[0].get_ydata(), table["eof"][rows])
    assert _marked(ax) == _expected_marks(table, "eof", "eof", "success", "eof")


def test_channel_draws_eta_curves_per_input_set_and_alphabet(tables):
    from qkit.channel import theory as channel_theory

    fig = plot_sweep(tables["channel"])
    pair, slots = fig.axes[:2]
    for ax, curve in ((pair, channel_theory.chi2), (slots, channel_theory.capacity)):
        assert ax.get_xlabel() == r"noise correlation $\eta$"
        for line, inputs in zip(_prediction_lines(ax), ("entangled", "separable"), strict=True):
            eta, value = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            assert np.allclose(value, curve(eta, inputs), atol=1e-12)
        labels = ax.get_legend_handles_labels()[1]
        assert any(label.startswith("entangled inputs") for label in labels)
        assert not any("triplet_HH" in label for label in labels)
        assert len(ax.containers) == 2


def test_distill_table_draws_the_yield(tables):
    ax = plot_sweep(tables["distill"]).axes[0]
    assert "Bell pairs per delivered pair" in ax.get_ylabel()
    table = read_table(tables["distill"])
    (container,) = ax.containers
    assert np.allclose(container.lines[0].get_ydata(), table["yield"])
    (line,) = _prediction_lines(ax)
    x, y = (np.asarray(v) for v in line.get_data())
    from qkit import experiment as definitions

    exp = definitions.get("distill")
    batch = {"success": x[::50], "amplitude": np.full(len(x[::50]), 0.7)}
    assert np.allclose(y[::50], exp.predict(batch)["yield"])


def test_quantity_choice_and_unknown_quantity(tables):
    ax = plot_sweep(tables["plane"], quantity="chsh").axes[0]
    assert "CHSH" in ax.get_title()
    with pytest.raises(ValueError, match=r"quantity must be one of chsh, concurrence, eof, fid"):
        plot_sweep(tables["plane"], quantity="nope")


def test_load_table_refuses_missing_empty_and_foreign_tables(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("point,success,amplitude,eof\n")
    with pytest.raises(ValueError, match="no rows"):
        plot_sweep(tmp_path / "empty.csv")
    with pytest.raises(ValueError, match="not a sweep table"):
        plot_sweep({"x": [1.0], "y": [2.0]})


# --- the command --------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_plot_command_writes_the_figure_and_refuses_to_overwrite(tables, tmp_path):
    out = tmp_path / "plane.png"
    code, stdout, _ = _cli("plot", tables["plane"], "--out", str(out))
    assert code == 0 and stdout.strip() == f"wrote {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_mode & 0o044 == 0o044 & ~_umask()  # readable as any new file
    before = out.read_bytes()
    code, stdout, stderr = _cli("plot", tables["line"], "--out", str(out))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "--overwrite" in stderr
    assert out.read_bytes() == before
    code, _, _ = _cli("plot", tables["line"], "--out", str(out), "--overwrite")
    assert code == 0 and out.read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plane.png"]  # no temporary left
    code, _, _ = _cli("plot", tables["channel"], "--out", str(tmp_path / "channel.pdf"))
    assert code == 0 and (tmp_path / "channel.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--quantity", "nope"], "quantity must be one of chsh, concurrence, eof, fidelity"),
        (["--out", "figure.txt"], "--out must end in .png, .pdf, .svg"),
    ],
)
def test_plot_command_bad_options_are_one_line(tables, tmp_path, argv, needle):
    code, stdout, stderr = _cli("plot", tables["plane"], *argv)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and needle in stderr


def test_plot_command_missing_empty_and_unknown_tables(tmp_path):
    (tmp_path / "empty.csv").write_text("point,success,amplitude,eof\n")
    store = tmp_path / "store.db"
    for table, needle in (
        (tmp_path / "missing.csv", "not found"),
        (tmp_path / "empty.csv", "no rows"),
        ("20990101T000000", "neither a table file nor"),
    ):
        code, _, stderr = _cli("plot", str(table), "--store", str(store))
        assert code == 2, stderr
        assert stderr.count("\n") == 1 and needle in stderr


def test_plot_command_finds_a_stored_sweep_by_run_id_prefix(tmp_path):
    from qkit.store import ResultsStore

    store = ResultsStore(tmp_path / "store.db")
    _sweep(tmp_path, "distill", {"success": "0.8,1", "amplitude": "0.7"}, "d.csv", store=store)
    (run,) = store.list_runs("sweep")
    out = tmp_path / "d.svg"
    code, stdout, stderr = _cli(
        "plot", run.run_id[:18], "--store", str(tmp_path / "store.db"), "--out", str(out)
    )
    assert code == 0, stderr
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_help_loads_no_plotting_stack():
    probe = (
        "import contextlib, io, json, sys\n"
        "from qkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['plot', '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('matplotlib', 'qiskit', 'qiskit_aer', 'scipy', 'qutip')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_plot_sweep_draws_into_a_given_axes_and_reads_parquet(tables, tmp_path):
    pytest.importorskip("pyarrow")
    from matplotlib.figure import Figure

    path = _sweep(tmp_path, "mixup", {"success": "0.5,1", "amplitude": "0.7"}, "t.parquet")
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_sweep(path, ax=ax) is fig
    (container,) = ax.containers
    assert np.allclose(container.lines[0].get_ydata(), read_table(path)["eof"])
    both = Figure().add_subplot()
    plot_sweep(tables["channel"], ax=both)  # both alphabets' curves in the one axes
    assert len(both.containers) == 4
