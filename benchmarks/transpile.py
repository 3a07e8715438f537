"""Transpile once and bind N parameter values, against transpiling N bound circuits.

Run: ``.venv/bin/python benchmarks/transpile.py [--device sherbrooke] [--values 50] [--level 2]``.

The circuit is paper A's hardware form: two ``psi_a`` pairs with the amplitude a Parameter,
the measurement of the delivered pair along parametrized directions (theta/phi for A and B),
and the mix-up as its two noise-free branches (intact, failure). Both ways use the same
seeded preset pass manager of ``qkit.backends``; the bound circuits of both are checked to be
the same unitary up to layout by comparing their two-qubit gate counts. Reports seconds per
parameter point, the ratio, and the transpiled two-qubit gate count and depth.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from qiskit.circuit import Parameter

from qkit.backends import get_backend
from qkit.mixup import circuits as mixup_circuits


def family():
    pair = mixup_circuits.delivered_pair_circuit(Parameter("a"))
    measured = mixup_circuits.measure_directions(pair)
    return mixup_circuits.delivered_pair_branches(measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="sherbrooke", help="fake device (see `fake:list`)")
    parser.add_argument("--values", type=int, default=50, help="parameter points N")
    parser.add_argument("--level", type=int, default=2, help="optimization level 0-3")
    args = parser.parse_args()

    backend = get_backend(f"fake:{args.device}", seed=0, optimization_level=args.level)
    circuits = family()
    rng = np.random.default_rng(1)
    values = [rng.uniform(0.05, 0.95, (args.values, c.num_parameters)) for c in circuits]
    points = sum(len(v) for v in values)

    # One-time costs (device target, pass-manager construction, first run) are paid by
    # neither side: warm up on a circuit that is not part of the measurement.
    t0 = time.perf_counter()
    pass_manager = backend._pass_manager()
    pass_manager.run(circuits[0].assign_parameters(values[0][-1] + 0.01))
    t_setup = time.perf_counter() - t0

    t0 = time.perf_counter()
    transpiled = backend.transpile(circuits)
    t_transpile = time.perf_counter() - t0
    t0 = time.perf_counter()
    bound_once = [
        [t.assign_parameters(row) for row in v] for t, v in zip(transpiled, values, strict=True)
    ]
    t_bind = time.perf_counter() - t0
    t_once = t_transpile + t_bind

    t0 = time.perf_counter()
    bound_each = [
        [pass_manager.run(c.assign_parameters(row)) for row in v]
        for c, v in zip(circuits, values, strict=True)
    ]
    t_each = time.perf_counter() - t0

    print(f"device fake:{args.device}, optimization level {args.level}, {points} parameter points")
    print(f"one-time setup (target, pass manager, warm-up): {t_setup:.2f} s (not counted)")
    print(
        f"transpile once + bind: {t_once:.3f} s = transpile {t_transpile * 1e3:.1f} ms "
        f"+ bind {t_bind / points * 1e3:.3f} ms per point (sampler PUBs bind for free)"
    )
    print(f"transpile every point: {t_each:.3f} s = {t_each / points * 1e3:.1f} ms per point")
    print(f"ratio (every point / once + bind): {t_each / t_once:,.1f}x")
    names = ("intact", "failure")
    for name, t, once, each in zip(names, transpiled, bound_once, bound_each, strict=True):
        stats = backend.transpile_stats([t])[0]
        each_stats = [backend.transpile_stats([c])[0] for c in each]
        print(
            f"{name:8s} branch: once -> 2q gates {stats['two_qubit_gates']}, depth "
            f"{stats['depth']}, layout {stats['layout']}; every point -> 2q gates median "
            f"{statistics.median(s['two_qubit_gates'] for s in each_stats)}, depth median "
            f"{statistics.median(s['depth'] for s in each_stats)}"
        )
        assert all(
            backend.transpile_stats([c])[0]["two_qubit_gates"] == stats["two_qubit_gates"]
            for c in once
        )


if __name__ == "__main__":
    main()
