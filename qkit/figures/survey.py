"""The coupling map of a device, each coupler coloured by its surveyed value.

Qubit positions: IBM's heavy-hex rows (consecutive qubit numbers along a row, bridge qubits
between rows, as on Eagle and Heron devices), placed row by row; else a seeded spring layout
(Qiskit's own gate-map coordinates are private to ``plot_gate_map`` and stop at 127 qubits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from qkit.figures._style import SEQUENTIAL_CMAP, new_figure, styled
from qkit.survey.packing import couplers as device_couplers

_LABELS = {"chsh": "CHSH value S", "channel": "mutual information (bits per pair)"}


def _heavy_hex_coordinates(num_qubits: int, edges: list[tuple[int, int]]) -> np.ndarray | None:
    """Rows of consecutive qubits (length >= 3), aligned through the bridge qubits."""
    edge_set = set(edges)
    rows, current = [], [0]
    for q in range(1, num_qubits):
        if (q - 1, q) in edge_set:
            current.append(q)
        else:
            rows.append(current)
            current = [q]
    rows.append(current)
    rows = [r for r in rows if len(r) >= 3]
    row_of = {q: k for k, r in enumerate(rows) for q in r}
    xy = np.full((num_qubits, 2), np.nan)
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    if not rows:
        return None
    for x, q in enumerate(rows[0]):
        xy[q] = (x, 0.0)
    for k in range(1, len(rows)):
        offset = None
        for bridge in (q for q in range(num_qubits) if q not in row_of):
            ends = neighbours.get(bridge, set())
            up = [q for q in ends if row_of.get(q) == k - 1]
            down = [q for q in ends if row_of.get(q) == k]
            if up and down:
                offset = xy[up[0], 0] - rows[k].index(down[0])
                xy[bridge] = (xy[up[0], 0], -2.0 * k + 1.0)
        if offset is None:
            return None
        for x, q in enumerate(rows[k]):
            xy[q] = (offset + x, -2.0 * k)
    if np.isnan(xy).any():
        return None
    return xy


def qubit_coordinates(device) -> np.ndarray:
    """(num_qubits, 2) positions for drawing the coupling map of ``device``."""
    edges = device_couplers(device)
    num_qubits = int(getattr(device, "num_qubits", 0) or max(max(e) for e in edges) + 1)
    xy = _heavy_hex_coordinates(num_qubits, edges)
    if xy is not None:
        return xy
    import rustworkx as rx

    graph = rx.PyGraph()
    graph.add_nodes_from(range(num_qubits))
    graph.add_edges_from_no_data(edges)
    pos = rx.spring_layout(graph, seed=1)
    return np.array([pos[q] for q in range(num_qubits)], dtype=float)


@styled
def survey_map(survey: Mapping[str, Any], device, *, title: str | None = None) -> Figure:
    """The coupling map of ``device`` with each surveyed coupler coloured by its estimate.

    ``survey`` is :meth:`qkit.survey.Survey.to_dict` (``experiment`` and ``couplers`` with
    ``coupler`` and ``value``); couplers not surveyed are drawn thin and grey. The colour scale
    starts at the 5th percentile (values below share its colour, marked on the colour bar).
    """
    xy = qubit_coordinates(device)
    edges = device_couplers(device)
    measured = {tuple(r["coupler"]): float(r["value"]) for r in survey["couplers"]}
    values = np.array(list(measured.values()))
    span = np.ptp(xy, axis=0) + 1.0
    scale = min(14.0 / span[0], 9.0 / span[1], 1.2)
    fig = new_figure(max(4.0, span[0] * scale) + 1.2, max(2.2, span[1] * scale) + 0.8)
    ax = fig.add_subplot()
    grey = [(xy[a], xy[b]) for a, b in edges if (a, b) not in measured]
    ax.add_collection(LineCollection(grey, colors="#BBBBBB", linewidths=1.0, zorder=1))
    segments = [(xy[a], xy[b]) for a, b in measured]
    # a few broken couplers (gate error 1 in the calibration) must not flatten the scale
    low = float(min(np.percentile(values, 5), np.median(values) - 1e-9))
    norm = Normalize(vmin=low, vmax=float(values.max()))
    lines = LineCollection(segments, cmap=SEQUENTIAL_CMAP, norm=norm, linewidths=5.0, zorder=2)
    lines.set_array(values)
    ax.add_collection(lines)
    ax.scatter(*xy.T, s=14, color="#444444", zorder=3)
    if len(xy) <= 30:
        for q, (x, y) in enumerate(xy):
            ax.annotate(str(q), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_aspect("equal")
    pad = 0.6
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.axis("off")
    bar = fig.colorbar(lines, ax=ax, shrink=0.8, extend="min" if low > values.min() else "neither")
    bar.set_label(_LABELS.get(survey.get("experiment"), "value"))
    if title is None:
        title = f"{survey.get('backend', '')}: {survey.get('experiment', '')} per coupler"
    ax.set_title(title)
    return fig
