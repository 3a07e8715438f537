"""Cost of the error bars: paper A's estimates on a 30 x 30 grid with and without intervals.

Run: ``.venv/bin/python benchmarks/intervals.py [--grid 30] [--shots 4000] [--repeats 7]``;
``--coverage [--replicates 2000]`` prints instead the coverage table of the concurrence, E_F,
fidelity and CHSH intervals at the edges of the plane (see :func:`coverage_table`), then the
mutual information's across paper B's channel (:func:`mi_coverage_table`; ``--mi``: that one
only).

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
from qkit.channel import experiment as channel_experiment
from qkit.channel import theory as channel_theory
from qkit.estimators import chsh, mutual_information, state_tomography
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


COVERAGE_POINTS = (
    (1.0, 0.5),
    (0.998, 0.6),
    (0.4, 0.1),
    (0.3, 0.6),
    (float(theory.entanglement_threshold(theory.BELL_AMPLITUDE)), theory.BELL_AMPLITUDE),
    (float(theory.entanglement_threshold(0.3)), 0.3),
    (0.8, 0.6),
    (0.5, theory.BELL_AMPLITUDE),
    (1.0, theory.BELL_AMPLITUDE),
    (0.95, theory.BELL_AMPLITUDE),
)


def coverage_table(replicates: int, seed: int = 1) -> None:
    """Coverage and width of the 95% intervals at :data:`COVERAGE_POINTS`, 1000 and 4000 shots.

    ``replicates`` data sets per point are drawn from the exact outcome probabilities and
    estimated in one batched call. ``ratio`` is the mean half-width over ``1.96 x`` the standard
    deviation of the estimates across data sets (1 for an ideal interval; ``inf`` where every
    data set gives the same estimate).
    """
    rng = np.random.default_rng(seed)
    print(f"{replicates} data sets per point; coverage / ratio (mean half-width / 1.96 sd)")
    print(
        f"{'S':>6} {'a':>6} {'shots':>5} {'C':>7}  concurrence     E_F          fidelity     chsh"
    )
    for success, amplitude in COVERAGE_POINTS:
        probs = probabilities(np.array([success]), np.array([amplitude]))[0]
        truth = {
            "concurrence": float(theory.concurrence(success, amplitude)),
            "eof": float(theory.eof(success, amplitude)),
            "fidelity": float(theory.fidelity(success, amplitude)),
            "chsh": float(theory.chsh_max(success, amplitude)),
        }
        for shots in (1000, 4000):
            counts = rng.multinomial(shots, probs, size=(replicates, 13))
            tomo = state_tomography(counts[:, 4:], theory.psi(amplitude))
            found = {"concurrence": tomo.concurrence, "eof": tomo.eof}
            found |= {"fidelity": tomo.fidelity, "chsh": chsh(counts[:, :4])}
            cells = []
            for name, interval in found.items():
                t = truth[name]
                cover = np.mean((interval.ci_low <= t + 1e-9) & (t - 1e-9 <= interval.ci_high))
                spread = float(np.std(interval.value))
                half = float(np.mean(interval.ci_high - interval.ci_low)) / 2.0
                ratio = half / (1.96 * spread) if spread > 1e-12 else np.inf
                cells.append(f"{cover:.3f} / {ratio:4.2f}")
            line = f"{success:6.3f} {amplitude:6.3f} {shots:5d} {truth['concurrence']:7.4f}  "
            print(line + "  ".join(cells), flush=True)


MI_ETAS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.9, 0.99, 0.997)


def mi_coverage_table(replicates: int, seed: int = 1) -> None:
    """Coverage and width of the 95% mutual-information interval on paper B's channel.

    Every alphabet and inputs ``qkit run channel`` offers, at :data:`MI_ETAS` and 1000 / 4000
    shots a letter: ``replicates`` data sets drawn from the exact ``P(outcome | letter)`` and
    estimated in one batched call (the default ``"delta"`` interval). Each cell: coverage /
    ratio (mean half-width over ``1.96 x`` the spread of the estimates) / how often the
    interval lies entirely above the truth. At ``eta = 0`` the ratio's sampling error is about
    3% at 4000 data sets (heavy-tailed estimates); ``benchmarks/mi_floor.py`` has the exact
    figure there and ``benchmarks/mi_noiseless.py`` the exact coverage near ``eta = 1``.
    """
    rng = np.random.default_rng(seed)
    print(f"{replicates} data sets per point; coverage / ratio / lower end above the truth")
    for alphabet in ("pair", "two-slot"):
        for inputs in ("entangled", "separable"):
            for eta in MI_ETAS:
                ens = channel_experiment.ensemble(eta, inputs, alphabet)
                if alphabet == "pair":
                    werner = channel_theory.optimal_ensemble(eta, inputs)["werner_parameters"]
                    probs = channel_theory.conditional_probabilities(werner, eta)
                else:
                    probs = channel_theory.receiver_conditional_probabilities(eta, inputs)
                prior = ens["prior"]
                truth = float(measures.mutual_information(prior[:, None] * probs))
                cells = []
                for shots in (1000, 4000):
                    counts = rng.multinomial(shots, probs, size=(replicates, len(prior)))
                    est = mutual_information(counts, prior)
                    cover = np.mean((est.ci_low <= truth + 1e-9) & (truth - 1e-9 <= est.ci_high))
                    spread = float(np.std(est.value))
                    half = float(np.mean(est.ci_high - est.ci_low)) / 2.0
                    ratio = half / (1.96 * spread) if spread > 1e-15 else np.inf
                    above = float(np.mean(est.ci_low > truth + 1e-9))
                    cells.append(f"{cover:.3f} / {ratio:4.2f} / {above:.3f}")
                line = f"{alphabet:>8} {inputs:>10} eta={eta:<6} "
                print(line + "   ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=30)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--coverage", action="store_true", help="print the coverage tables")
    parser.add_argument("--mi", action="store_true", help="the mutual information's table only")
    parser.add_argument("--replicates", type=int, default=2000)
    args = parser.parse_args()
    if args.coverage or args.mi:
        if not args.mi:
            coverage_table(args.replicates)
        mi_coverage_table(args.replicates)
        return

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
