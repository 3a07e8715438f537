"""A figure from any sweep table: the estimate against the exact prediction.

:func:`plot_sweep` takes what :mod:`qkit.sweep` writes and reads (a CSV or Parquet file, or
the columns :func:`qkit.sweep.read_table` returns: ``{name: array}``), finds the experiment
from the columns, and draws one of:

- **the (S, a) plane** (paper A's mix-up or the distillation experiment with both axes
  swept): a heat map of the estimate, the theory's entanglement threshold ``C = 0`` (Eq. 3.4)
  and CHSH threshold ``CHSH = 2`` over it, and a ring on every row whose interval excludes the
  exact prediction (the prediction a column ``predicted_<target>`` of the table);
- **curves over one axis** (``S`` or ``a`` with the other held, or ``eta`` of paper B): the
  estimates with their intervals as error bars over the exact prediction on a fine grid, one
  curve per value of the other parameters (paper B: entangled and separable inputs, one panel
  per alphabet), the same rings on rows whose interval excludes the prediction.

A row "excludes the prediction" when ``prediction < q_ci_low`` or ``prediction > q_ci_high``;
a table written with ``--intervals none`` has no intervals, and nothing is marked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from qkit.figures._style import (
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    marker_entry,
    new_figure,
    styled,
    yerr,
)

__all__ = [
    "QUANTITY_LABELS",
    "excludes_prediction",
    "load_table",
    "plot_sweep",
    "quantities",
    "samples_from_table",
    "sweep_kind",
]

Table = dict[str, np.ndarray]

QUANTITY_LABELS = {
    "chsh": "CHSH value",
    "concurrence": "concurrence $C$",
    "eof": "entanglement of formation $E_F$ (ebit)",
    "fidelity": r"fidelity $f = \langle\psi_a|M[\psi_a]|\psi_a\rangle$",
    "mutual_information": "mutual information $I$ (bit)",
    "success_probability": "probability that the DEJMPS round succeeds",
    "fidelity_out": r"fidelity of the kept pair with $|\Phi^+\rangle$",
    "concurrence_out": r"concurrence of the kept pair $C_\mathrm{out}$",
    "yield": "Bell pairs per delivered pair (one round + hashing)",
}
"""Axis labels of the estimated quantities (physics, not column names)."""
AXIS_LABELS = {
    "success": r"delivery success probability $S$",
    "amplitude": r"amplitude $a$ of $|00\rangle$ in $|\psi_a\rangle$",
    "eta": r"noise correlation $\eta$",
}
DEFAULT_QUANTITY = {"mixup": "eof", "distill": "yield", "channel": "mutual_information"}
TITLES = {
    "mixup": "paper A, mix-up",
    "distill": "distillation, one DEJMPS round",
    "channel": "paper B, correlated-noise channel",
}
ALPHABET_TITLES = {
    "pair": r"two-photon letters: $\chi_2$ scale",
    "two-slot": "whole two-slot alphabet: capacity scale",
}
INPUT_COLORS = {"entangled": OKABE_ITO["blue"], "separable": OKABE_ITO["vermillion"]}
MARK_COLOR = OKABE_ITO["vermillion"]
MARK_GID = "excludes-prediction"
PLANE_MIN_VALUES = 4  # both axes with at least this many values: a heat map, else curves
_HALO = [patheffects.withStroke(linewidth=3.2, foreground="white")]
_GROUP_COLORS = ("blue", "vermillion", "green", "orange", "purple", "sky", "black")


# -- the table -------------------------------------------------------------------------------
def load_table(table_or_path: Any) -> Table:
    """Columns ``{name: array}`` of a sweep table given as a path, columns or rows.

    Accepts a ``.csv``/``.parquet`` path, a mapping of columns (what
    :func:`qkit.sweep.read_table` returns), a data frame (anything with ``columns``) or a
    sequence of row dicts. Raises a one-line ``ValueError`` for a missing file, an unreadable
    table or one without rows.
    """
    if isinstance(table_or_path, str | os.PathLike):
        from qkit.sweep.table import read_table, table_format

        path = Path(table_or_path)
        table_format(path)  # the extension, and pyarrow for Parquet
        if not path.is_file():
            raise ValueError(f"table {str(path)!r} not found")
        try:
            columns = read_table(path)
        except (OSError, ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"cannot read the table {str(path)!r}: {exc}") from None
        where = repr(str(path))
    elif isinstance(table_or_path, Mapping):
        columns = {str(k): np.asarray(v) for k, v in table_or_path.items()}
        where = "given"
    elif hasattr(table_or_path, "columns"):  # a data frame, without importing its library
        columns = {str(k): np.asarray(table_or_path[k]) for k in table_or_path.columns}
        where = "given"
    elif isinstance(table_or_path, Sequence) and all(isinstance(r, Mapping) for r in table_or_path):
        names = list(dict.fromkeys(k for row in table_or_path for k in row))
        columns = {k: np.asarray([row.get(k, np.nan) for row in table_or_path]) for k in names}
        where = "given"
    else:
        raise ValueError(
            "table must be a .csv/.parquet path, a mapping of columns or a list of rows, "
            f"got {type(table_or_path).__name__}"
        )
    lengths = {len(np.atleast_1d(v)) for v in columns.values()}
    if not columns or lengths == {0}:
        raise ValueError(f"the table {where} has no rows")
    if len(lengths) != 1:
        raise ValueError(f"the table {where} has columns of different lengths {sorted(lengths)}")
    return {k: np.atleast_1d(v) for k, v in columns.items()}


def sweep_kind(table: Mapping[str, np.ndarray]) -> str:
    """``"mixup"``, ``"distill"`` or ``"channel"`` from a table's columns."""
    if {"eta", "inputs", "alphabet"} <= set(table):
        return "channel"
    if {"success", "amplitude"} <= set(table):
        return "distill" if "predicted_yield" in table or "yield" in table else "mixup"
    raise ValueError(
        "not a sweep table of qkit: it needs the columns success and amplitude (mix-up, "
        f"distill) or eta, inputs and alphabet (channel); it has {', '.join(list(table)[:8])}"
    )


def _targets(kind: str) -> dict[str, str]:
    from qkit import experiment as definitions

    return dict(definitions.get(kind).targets)


def quantities(table: Mapping[str, np.ndarray]) -> list[str]:
    """The estimated quantities a table holds, in the experiment's order."""
    return [q for q in _targets(sweep_kind(table)) if q in table]


def _column(table: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    if name not in table:
        return None
    try:
        return np.asarray(table[name], dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"column {name!r} of the table is not numeric") from None


def excludes_prediction(table: Mapping[str, np.ndarray], quantity: str) -> np.ndarray:
    """Rows whose interval of ``quantity`` excludes its exact prediction (bool per row).

    False everywhere when the table has no intervals (``--intervals none``) or no prediction.
    """
    kind = sweep_kind(table)
    n = len(next(iter(table.values())))
    pred = _column(table, f"predicted_{_targets(kind).get(quantity, quantity)}")
    low, high = _column(table, f"{quantity}_ci_low"), _column(table, f"{quantity}_ci_high")
    if pred is None or low is None or high is None:
        return np.zeros(n, dtype=bool)
    tol = 1e-12 * np.maximum(1.0, np.abs(pred))
    with np.errstate(invalid="ignore"):
        return (pred < low - tol) | (pred > high + tol)


# -- the figure ------------------------------------------------------------------------------
@styled
def plot_sweep(table_or_path: Any, quantity: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw a sweep table: a heat map over the (S, a) plane, else curves over one axis.

    Parameters
    ----------
    table_or_path : str, Path, mapping of columns, data frame or list of rows
        A table written by ``qkit sweep`` / :func:`qkit.sweep.run_sweep` (``.csv`` or
        ``.parquet``), or its columns as :func:`qkit.sweep.read_table` returns them.
    quantity : str, optional
        The estimated column to draw (``qkit.figures.sweep.quantities`` lists them);
        default ``eof`` (mix-up), ``yield`` (distill), ``mutual_information`` (channel).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (every panel's curves together); default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Rows whose interval excludes the prediction are the collections with gid
        ``"excludes-prediction"``.

    Examples
    --------
    >>> table = {"success": [0.5, 1.0], "amplitude": [0.7, 0.7], "predicted_eof": [0.1, 1.0],
    ...          "eof": [0.2, 0.98], "eof_ci_low": [0.15, 0.95], "eof_ci_high": [0.25, 1.0]}
    >>> fig = plot_sweep(table)
    >>> [len(c.get_offsets()) for c in fig.axes[0].collections if c.get_gid() == MARK_GID]
    [1]
    """
    table = load_table(table_or_path)
    kind = sweep_kind(table)
    available = quantities(table)
    if not available:
        raise ValueError(f"the table has no estimated quantity of a {kind} sweep")
    if quantity is None:
        quantity = DEFAULT_QUANTITY[kind] if DEFAULT_QUANTITY[kind] in available else available[0]
    if quantity not in available:
        raise ValueError(f"quantity must be one of {', '.join(available)}; got {quantity!r}")
    if kind == "channel":
        return _channel_curves(table, quantity, ax)
    success, amplitude = _column(table, "success"), _column(table, "amplitude")
    assert success is not None and amplitude is not None
    n_s, n_a = len(np.unique(success)), len(np.unique(amplitude))
    if min(n_s, n_a) >= PLANE_MIN_VALUES:
        return _plane(table, kind, quantity, ax)
    x_name, group_name = ("success", "amplitude") if n_s >= n_a else ("amplitude", "success")
    return _mixup_curves(table, kind, quantity, x_name, group_name, ax)


def _axes(ax: Axes | None, width: float = 7.0, height: float = 5.4) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def _estimates(table: Table, quantity: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    value = _column(table, quantity)
    assert value is not None
    low, high = _column(table, f"{quantity}_ci_low"), _column(table, f"{quantity}_ci_high")
    if low is None or high is None:
        return value, value, value
    return value, low, high


def _mark_note(marked: np.ndarray, has_intervals: bool) -> str:
    if not has_intervals:
        return "no intervals in the table (swept with --intervals none): nothing marked"
    return f"{int(marked.sum())} of {marked.size} rows' intervals exclude the prediction (ringed)"


def _plane(table: Table, kind: str, quantity: str, ax: Axes | None) -> Figure:
    """Heat map of the estimate over (S, a), threshold lines, rings on disagreeing rows."""
    from qkit.mixup import theory

    fig, ax = _axes(ax, 7.2, 6.0)
    success, amplitude = table["success"].astype(float), table["amplitude"].astype(float)
    value, _, _ = _estimates(table, quantity)
    xs, ix = np.unique(success, return_inverse=True)
    ys, iy = np.unique(amplitude, return_inverse=True)
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    finite = np.isfinite(value)
    np.add.at(total, (iy[finite], ix[finite]), value[finite])
    np.add.at(count, (iy[finite], ix[finite]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = np.ma.masked_invalid(total / count)  # replicates averaged; missing cells blank
    mesh = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap=SEQUENTIAL_CMAP, rasterized=True)
    repeats = int(count.max()) if count.size else 1
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.9)
    cbar.set_label(
        f"estimated {QUANTITY_LABELS.get(quantity, quantity)}"
        + (f"\nmean of {repeats} replicates" if repeats > 1 else "")
    )
    s_lo, s_hi = _edges(xs)
    a_lo, a_hi = _edges(ys)
    a_line = np.linspace(max(a_lo, 0.0), min(a_hi, 1.0), 2001)
    ax.plot(
        theory.entanglement_threshold(a_line),
        a_line,
        color="white",
        lw=2.0,
        path_effects=[patheffects.withStroke(linewidth=3.6, foreground="black")],
        label="$C = 0$: entanglement threshold $S(a)$, Eq. 3.4",
    )
    ax.plot(
        theory.chsh_threshold(a_line),
        a_line,
        color=OKABE_ITO["orange"],
        lw=2.2,
        ls=(0, (6, 2)),
        path_effects=[patheffects.withStroke(linewidth=3.8, foreground="black")],
        label=r"CHSH $= 2$: Horodecki threshold $S_\mathrm{CHSH}(a)$",
    )
    marked = excludes_prediction(table, quantity)
    has_intervals = f"{quantity}_ci_low" in table
    # a ring about 70% of a cell wide (in points), never larger than 11 points
    width_pt = ax.get_position().width * fig.get_figwidth() * 72.0
    height_pt = ax.get_position().height * fig.get_figheight() * 72.0
    cell = min(width_pt / len(xs), height_pt / len(ys))
    size = float(np.clip(0.7 * cell, 3.0, 11.0)) ** 2
    ax.scatter(
        success[marked],
        amplitude[marked],
        s=size,
        facecolors="none",
        edgecolors=MARK_COLOR,
        linewidths=1.4 if size > 30 else 1.0,
        gid=MARK_GID,
        zorder=5,
        label="interval excludes the prediction",
    )
    ax.set_xlim(s_lo, s_hi)
    ax.set_ylim(a_lo, a_hi)
    ax.set_xlabel(AXIS_LABELS["success"])
    ax.set_ylabel(AXIS_LABELS["amplitude"])
    ax.set_title(
        f"{TITLES[kind]}: estimated {_short(quantity)} at {value.size} points\n"
        + _mark_note(marked, has_intervals),
        fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncols=2, frameon=False)
    return fig


def _edges(values: np.ndarray) -> tuple[float, float]:
    """The outer cell edges of a ``shading="nearest"`` mesh over sorted ``values``."""
    if len(values) == 1:
        return float(values[0]) - 0.5, float(values[0]) + 0.5
    return (
        float(values[0] - (values[1] - values[0]) / 2),
        float(values[-1] + (values[-1] - values[-2]) / 2),
    )


def _short(quantity: str) -> str:
    """The symbol of a quantity for titles."""
    label = QUANTITY_LABELS.get(quantity, quantity)
    return label.split(" (")[0]


def _errorbars(ax: Axes, x, value, low, high, color, label) -> None:
    ax.errorbar(
        x,
        value,
        yerr=yerr(np.stack([value, low, high], axis=-1)),
        fmt="o",
        ms=5,
        color=color,
        mec="black",
        mew=0.6,
        capsize=2.5,
        elinewidth=1.1,
        zorder=4,
        label=label,
    )


def _rings(ax: Axes, x, y) -> None:
    ax.scatter(
        x, y, s=130, facecolors="none", edgecolors=MARK_COLOR, linewidths=1.6, gid=MARK_GID,
        zorder=6,
    )  # fmt: skip


def _prediction_curve(kind: str, quantity: str, fixed: dict[str, Any], x_name: str, x_range):
    """The exact prediction of ``quantity`` on a fine grid of ``x_name`` (others ``fixed``)."""
    from qkit import experiment as definitions

    exp = definitions.get(kind)
    lo, hi = x_range
    if hi <= lo:
        return None
    x = np.linspace(lo, hi, 301)
    if kind != "channel" and x_name == "success":
        x = x[x > 0]
    batch = {}
    for param in exp.params:
        if param.name == x_name:
            batch[param.name] = x
        else:
            batch[param.name] = np.array([fixed[param.name]] * len(x), dtype=object)
            if not param.choices:
                batch[param.name] = batch[param.name].astype(float)
    key = exp.targets.get(quantity, quantity)
    return x, np.asarray(exp.predict(batch)[key], dtype=float)


def _mixup_curves(
    table: Table, kind: str, quantity: str, x_name: str, group_name: str, ax: Axes | None
) -> Figure:
    fig, ax = _axes(ax)
    x = table[x_name].astype(float)
    groups = table[group_name].astype(float)
    value, low, high = _estimates(table, quantity)
    marked = excludes_prediction(table, quantity)
    symbol = "S" if group_name == "success" else "a"
    levels = np.unique(groups)
    for k, level in enumerate(levels):
        rows = groups == level
        color = _group_color(k, len(levels))
        curve = _prediction_curve(
            kind, quantity, {group_name: level}, x_name, (x[rows].min(), x[rows].max())
        )
        if curve is not None:
            ax.plot(*curve, color=color, lw=1.8, zorder=3, gid="prediction")
        _errorbars(
            ax, x[rows], value[rows], low[rows], high[rows], color, f"${symbol} = {level:.4g}$"
        )
        pred = _column(table, f"predicted_{_targets(kind).get(quantity, quantity)}")
        if curve is None and pred is not None:  # one point: its prediction as a tick
            ax.plot(x[rows], pred[rows], ls="none", marker="_", ms=18, mew=2, color=color)
    _rings(ax, x[marked], value[marked])
    ax.set_xlabel(AXIS_LABELS[x_name])
    ax.set_ylabel(QUANTITY_LABELS.get(quantity, quantity))
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_title(
        f"{TITLES[kind]}: estimated {_short(quantity)} over the exact prediction (lines)\n"
        + _mark_note(marked, f"{quantity}_ci_low" in table),
        fontsize=10,
    )
    _legend(ax)
    return fig


def _group_color(k: int, n: int) -> Any:
    if n <= len(_GROUP_COLORS):
        return OKABE_ITO[_GROUP_COLORS[k]]
    import matplotlib

    return matplotlib.colormaps[SEQUENTIAL_CMAP](0.88 * k / max(n - 1, 1))


def _legend(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", lw=1.8, label="exact prediction"))
    if any(c.get_gid() == MARK_GID and np.asarray(c.get_offsets()).size for c in ax.collections):
        handles.append(
            marker_entry(
                "interval excludes the prediction", ms=11, mfc="none", mec=MARK_COLOR, mew=1.6
            )
        )
    ax.legend(handles=handles, fontsize=8, loc="best")


def _channel_curves(table: Table, quantity: str, ax: Axes | None) -> Figure:
    from qkit.figures.channel import LETTER_SETS

    alphabets = [a for a in ("pair", "two-slot") if np.any(table["alphabet"] == a)]
    if ax is None:
        fig = new_figure(5.2 * len(alphabets) + 0.4, 4.8)
        panels = list(np.atleast_1d(fig.subplots(1, len(alphabets))))
    else:
        fig, panels = ax.get_figure(root=True), [ax] * len(alphabets)  # type: ignore[assignment]
    eta = table["eta"].astype(float)
    value, low, high = _estimates(table, quantity)
    marked = excludes_prediction(table, quantity)
    for panel, alphabet in zip(panels, alphabets, strict=True):
        for inputs in ("entangled", "separable"):
            rows = (table["alphabet"] == alphabet) & (table["inputs"] == inputs)
            if not rows.any():
                continue
            color = INPUT_COLORS[inputs]
            curve = _prediction_curve(
                "channel",
                quantity,
                {"alphabet": alphabet, "inputs": inputs},
                "eta",
                (0.0, 1.0),
            )
            ls = "-" if inputs == "entangled" else (0, (5, 2))
            if curve is not None:
                panel.plot(*curve, color=color, lw=1.8, ls=ls, zorder=3, gid="prediction")
            where = "" if len(alphabets) == 1 or ax is None else f", {alphabet} alphabet"
            _errorbars(
                panel,
                eta[rows],
                value[rows],
                low[rows],
                high[rows],
                color,
                f"{inputs} inputs ({LETTER_SETS[inputs]}){where}",
            )
            hit = rows & marked
            _rings(panel, eta[hit], value[hit])
        panel.set_xlim(-0.03, 1.03)
        panel.set_xlabel(AXIS_LABELS["eta"])
        panel.set_ylabel(QUANTITY_LABELS.get(quantity, quantity))
        panel.grid(True, color="0.9", lw=0.6)
        if ax is None:
            panel.set_title(ALPHABET_TITLES[alphabet], fontsize=10)
        _legend(panel)
    note = _mark_note(marked, f"{quantity}_ci_low" in table)
    title = f"{TITLES['channel']}: estimated {_short(quantity)} over the exact prediction (lines)"
    if ax is None:
        fig.suptitle(f"{title}\n{note}", fontsize=10.5)
    else:
        ax.set_title(f"{title}\n{note}", fontsize=10)
    return fig


def samples_from_table(table_or_path: Any) -> list[dict[str, Any]]:
    """Rows of a mix-up sweep table as the sample dicts of :mod:`qkit.figures.mixup`.

    ``{"success", "amplitude", "eof": {value, ci_low, ci_high}, "chsh": {value, stderr,
    violation_sigma}, "concurrence": ..., "fidelity": ...}`` (a quantity only when its column
    is in the table; intervals only when the sweep computed them).
    """
    table = load_table(table_or_path)
    if sweep_kind(table) != "mixup":
        raise ValueError(f"expected a mix-up sweep table, got a {sweep_kind(table)} table")
    columns = {
        name: _column(table, name)
        for name in table
        if name not in ("inputs", "alphabet") and not name.endswith("_at_boundary")
    }
    n = len(table["success"])
    out: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {
            "success": float(table["success"][i]),
            "amplitude": float(table["amplitude"][i]),
        }
        for quantity in ("chsh", "concurrence", "eof", "fidelity"):
            if quantity not in table:
                continue
            record = {"value": float(columns[quantity][i])}  # type: ignore[index]
            for field in ("ci_low", "ci_high", "stderr", "violation_sigma"):
                column = columns.get(f"{quantity}_{field}")
                if column is not None:
                    record[field] = float(column[i])
            if f"{quantity}_at_boundary" in table:
                record["at_boundary"] = bool(table[f"{quantity}_at_boundary"][i])
            row[quantity] = record
        out.append(row)
    return out
