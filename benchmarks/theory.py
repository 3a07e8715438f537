"""Vectorized paper-A theory on an (S, a) grid against a per-point loop with qutip.concurrence.

Run: ``.venv/bin/python benchmarks/theory.py [--grid 1000] [--loop-points 2000]``.
Both compute the concurrence of M[psi_a]; the loop builds each density matrix explicitly
(the way one would without qkit) and calls QuTiP. Reports points per second and the ratio,
measured in one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import qutip

from qkit import measures
from qkit.mixup import theory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=1000, help="grid side (points = grid^2)")
    parser.add_argument(
        "--loop-points", type=int, default=2000, help="points for the per-point loop"
    )
    args = parser.parse_args()

    s, a = np.meshgrid(np.linspace(1e-3, 1, args.grid), np.linspace(0, 1, args.grid), indexing="ij")
    t0 = time.perf_counter()
    c_vec = theory.concurrence(s, a)
    e_vec = theory.eof(s, a)
    t_closed = time.perf_counter() - t0

    t0 = time.perf_counter()
    c_numeric = measures.concurrence(theory.state(s[::10, ::10], a[::10, ::10]))
    t_numeric = time.perf_counter() - t0
    n_numeric = c_numeric.size

    rng = np.random.default_rng(0)
    idx = rng.integers(0, s.size, args.loop_points)
    t0 = time.perf_counter()
    c_loop = np.empty(args.loop_points)
    for k, i in enumerate(idx):
        psi = theory.psi(a.flat[i])
        rho = theory.mixup(np.outer(psi, psi.conj()), s.flat[i])
        c_loop[k] = qutip.concurrence(qutip.Qobj(rho, dims=[[2, 2], [2, 2]]))
    t_loop = time.perf_counter() - t0

    assert np.allclose(c_loop, c_vec.flat[idx], atol=1e-6), "loop and closed form disagree"
    assert np.allclose(c_numeric, c_vec[::10, ::10], atol=1e-12)
    assert e_vec.shape == s.shape

    rate_closed = s.size / t_closed
    rate_numeric = n_numeric / t_numeric
    rate_loop = args.loop_points / t_loop
    print(f"closed form (C and E_F), {s.size} points: {rate_closed:,.0f} points/s")
    print(f"batched Wootters on density matrices, {n_numeric} points: {rate_numeric:,.0f} points/s")
    print(
        f"per-point loop with qutip.concurrence, {args.loop_points} points: "
        f"{rate_loop:,.0f} points/s"
    )
    print(f"ratio closed form / loop: {rate_closed / rate_loop:,.0f}x")
    print(f"ratio batched numerics / loop: {rate_numeric / rate_loop:,.0f}x")


if __name__ == "__main__":
    main()
