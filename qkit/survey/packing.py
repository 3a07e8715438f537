"""Coupler packing: couplers that may run in the same circuit without touching each other.

A coupler is an undirected edge of the device's coupling map. Two couplers *conflict* when
they share a qubit or a qubit of one is a neighbour of a qubit of the other (distance < 2 on
the coupling graph): their pairs would sit next to each other and could disturb each other
(crosstalk, collisions). Classes are the colours of a greedy colouring of this conflict
graph (largest degree first), so every class can be surveyed in one circuit and the number of
circuits grows with the number of classes, not couplers (5 on the 156-qubit heavy-hex Heron
FakeFez, 176 couplers; 3 on the 5-qubit line FakeManilaV2).
"""

from __future__ import annotations

from collections.abc import Sequence

import rustworkx as rx
from qiskit.transpiler import CouplingMap

Coupler = tuple[int, int]


def coupling_map(device) -> CouplingMap:
    """The ``CouplingMap`` of a ``CouplingMap``, a ``BackendV2`` or a list of edges."""
    if isinstance(device, CouplingMap):
        return device
    if hasattr(device, "coupling_map") and device.coupling_map is not None:
        return device.coupling_map
    if hasattr(device, "target"):
        return device.target.build_coupling_map()
    try:
        return CouplingMap([tuple(int(q) for q in edge) for edge in device])
    except (TypeError, ValueError):
        raise ValueError(
            f"device must be a CouplingMap, a BackendV2 or a list of edges, got {device!r}"
        ) from None


def couplers(device) -> list[Coupler]:
    """The undirected couplers ``(i, j)``, ``i < j``, sorted."""
    cmap = coupling_map(device)
    edges = sorted({(min(a, b), max(a, b)) for a, b in cmap.get_edges() if a != b})
    if not edges:
        raise ValueError("device has no two-qubit couplers")
    return edges


def _neighbours(device) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a, b in couplers(device):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def conflicts(first: Coupler, second: Coupler, neighbours: dict[int, set[int]]) -> bool:
    """Whether two couplers overlap or are neighbours (some qubits at distance < 2)."""
    near = set(first).union(*(neighbours.get(q, set()) for q in first))
    return bool(near & set(second))


def pack_couplers(device, only: Sequence[Coupler] | None = None) -> list[list[Coupler]]:
    """Couplers grouped into classes without conflicts (:func:`conflicts`), largest first.

    Greedy colouring of the conflict graph (``rustworkx.graph_greedy_color``, largest degree
    first): deterministic, not necessarily the fewest classes. ``only`` packs some couplers
    of the device (neighbours still come from the whole device).
    """
    edges = couplers(device)
    if only is not None:
        chosen = sorted({(min(a, b), max(a, b)) for a, b in only})
        unknown = [c for c in chosen if c not in set(edges)]
        if unknown or not chosen:
            raise ValueError(f"only must list couplers of the device, got {unknown or 'none'}")
        edges = chosen
    neighbours = _neighbours(device)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(len(edges)))
    by_qubit: dict[int, list[int]] = {}
    for index, (a, b) in enumerate(edges):
        by_qubit.setdefault(a, []).append(index)
        by_qubit.setdefault(b, []).append(index)
    for index, edge in enumerate(edges):
        near = set(edge).union(*(neighbours[q] for q in edge))
        for other in {k for q in near for k in by_qubit.get(q, ())}:
            if other > index:
                graph.add_edge(index, other, None)
    colours = rx.graph_greedy_color(graph)
    classes: dict[int, list[Coupler]] = {}
    for index, edge in enumerate(edges):
        classes.setdefault(colours[index], []).append(edge)
    return sorted(classes.values(), key=lambda c: (-len(c), c))


def check_packing(
    classes: Sequence[Sequence[Coupler]], device, only: Sequence[Coupler] | None = None
) -> None:
    """Raise ``ValueError`` unless ``classes`` cover every coupler (or those in ``only``) once,
    without conflicts."""
    neighbours = _neighbours(device)
    listed = [tuple(c) for group in classes for c in group]
    expected = couplers(device) if only is None else sorted({tuple(sorted(c)) for c in only})
    if sorted(listed) != expected:
        raise ValueError("classes must list every coupler exactly once")
    for group in classes:
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                if conflicts(tuple(first), tuple(second), neighbours):
                    raise ValueError(f"couplers {first} and {second} conflict in one class")
