"""Initial layouts with some virtual qubits fixed: the rest on the nearest free physical qubits.

An experiment's qubits 0 and 1 (the delivered, measured pair) go on a chosen coupler; its other
qubits (the mix-up's second pair, two-slot occupancy qubits) are placed around them, in
breadth-first order on the coupling graph from the fixed qubits, so routing has short paths
and the fixed qubits keep their place (the router may still swap the helpers).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence


def _neighbours(device) -> dict[int, set[int]]:
    cmap = getattr(device, "coupling_map", None)
    if cmap is None and hasattr(device, "target"):
        cmap = device.target.build_coupling_map()
    out: dict[int, set[int]] = {}
    for a, b in [] if cmap is None else cmap.get_edges():
        out.setdefault(int(a), set()).add(int(b))
        out.setdefault(int(b), set()).add(int(a))
    return out


def complete_layout(device, fixed: Sequence[int], num_qubits: int) -> list[int]:
    """Physical qubit of each of ``num_qubits`` virtual qubits: ``fixed`` first, then the
    nearest free qubits by breadth-first search from them (lowest index first on ties)."""
    fixed = [int(q) for q in fixed]
    if num_qubits <= len(fixed):
        return fixed[:num_qubits]
    neighbours = _neighbours(device)
    used, order = set(fixed), list[int]()
    queue = deque(fixed)
    while queue and len(fixed) + len(order) < num_qubits:
        for q in sorted(neighbours.get(queue.popleft(), ())):
            if q not in used:
                used.add(q)
                order.append(q)
                queue.append(q)
    total = int(device.num_qubits)
    order += [q for q in range(total) if q not in used]  # disconnected devices: any free qubit
    layout = fixed + order[: num_qubits - len(fixed)]
    if len(layout) < num_qubits:
        raise ValueError(f"a {num_qubits}-qubit circuit does not fit this {total}-qubit device")
    return layout
