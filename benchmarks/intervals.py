"""Cost of the error bars: paper A's estimates on a 30 x 30 grid with and without intervals.

Run: ``.venv/bin/python benchmarks/intervals.py [--grid 30] [--shots 4000] [--repeats 7]``.

One batched call per variant over the whole grid (as a sweep chunk): the CHSH value from the 4
CHSH settings and the tomography of the 9 Pauli settings (state, concurrence, E_F, fidelity).
"without": ``state_tomography(..., intervals=False)`` (point estimates, NaN intervals) and the
CHSH value; "with": the defaults (analytic intervals, one-sided bounds, p-values). Counts are
drawn once from the exact outcome probabilities of ``M[psi_a]``; the multinomial draw of a
sweep's counts is timed separately, and added to both for the "sweep step" ratio. Timings are
the best of ``--repeats`` runs, the two variants alternating.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qkit import measures
from qkit.estimators import chsh, state_tomography
from qkit.mixup import theory

_SIGN_A = np.array([1.0, 1.0, -1.0, -1.0])
_SIGN_B = np.array([1.0, -1.0, 1.0, -1.0])


def probabilities(success: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """Exact (n, 13, 4) outcome probabilities: 4 optimal CHSH settings, then 9 Pauli settings."""
    out = []
    axes = np.eye(3)
    for s, a in zip(success, amplitude, strict=True):
        rho = theory.state(s, a)
        d = measures.optimal_chsh_settings(rho)
        dirs_a = np.concatenate(
            [[d["a"], d["a"], d["a_prime"], d["a_prime"]], np.repeat(axes, 3, 0)]
        )
        dirs_b = np.concatenate(
            [[d["b"], d["b_prime"], d["b"], d["b_prime"]], np.tile(axes, (3, 1))]
        )
        r_a = np.real(np.einsum("iab,ba->i", measures.PAULI, measures.partial_trace(rho, 0)))
        r_b = np.real(np.einsum("iab,ba->i", measures.PAULI, measures.partial_trace(rho, 1)))
        t = measures.correlation_matrix(rho)
        e_ab = np.einsum("ki,ij,kj->k", dirs_a, t, dirs_b)
        p = 1 + np.outer(dirs_a @ r_a, _SIGN_A) + np.outer(dirs_b @ r_b, _SIGN_B)
        p = np.clip((p + np.outer(e_ab, _SIGN_A * _SIGN_B)) / 4, 0, None)
        out.append(p / p.sum(-1, keepdims=True))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=30)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    s_grid, a_grid = np.meshgrid(np.linspace(0.05, 1, args.grid), np.linspace(0.02, 1, args.grid))
    success, amplitude = s_grid.ravel(), a_grid.ravel()
    probs = probabilities(success, amplitude)
    target = theory.psi(amplitude)
    rng = np.random.default_rng(1)
    counts = rng.multinomial(args.shots, probs)

    def without() -> None:
        chsh(counts[:, :4])
        state_tomography(counts[:, 4:], target, intervals=False)

    def with_intervals() -> None:
        est = chsh(counts[:, :4])
        tomo = state_tomography(counts[:, 4:], target)
        assert np.all(np.isfinite(tomo.concurrence.ci_high)) and np.all(np.isfinite(est.ci_low))

    def draw() -> None:
        rng.multinomial(args.shots, probs)

    best = {"without": np.inf, "with": np.inf, "draw": np.inf}
    with_intervals()  # warm-up
    for _ in range(args.repeats):
        for name, fn in (("without", without), ("with", with_intervals), ("draw", draw)):
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)

    n = len(success)
    per = {k: 1e6 * v / n for k, v in best.items()}
    print(
        f"grid {args.grid} x {args.grid} = {n} points, {args.shots} shots per setting, 13 settings"
    )
    ms = {k: 1e3 * v for k, v in best.items()}
    print(f"estimates without intervals : {ms['without']:7.2f} ms ({per['without']:.1f} us/point)")
    print(
        f"estimates with intervals    : {1e3 * best['with']:7.2f} ms ({per['with']:.1f} us/point)"
    )
    print(f"multinomial counts (a sweep's exact engine): {1e3 * best['draw']:.2f} ms")
    print(f"ratio with / without (estimates)  : {best['with'] / best['without']:.2f}x")
    ratio = (best["with"] + best["draw"]) / (best["without"] + best["draw"])
    print(f"ratio with / without (counts + estimates): {ratio:.2f}x")


if __name__ == "__main__":
    main()
