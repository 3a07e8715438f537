"""``qkit sweep`` against the naive way and the numpy floor, on one mix-up grid.

Run: ``.venv/bin/python benchmarks/sweep.py [--grid 20] [--shots 4000] [--naive-points 6]``.

All three compute the tomographic concurrence point estimate of every point of an
``S x a`` grid (``S`` in 0.05..1, ``a`` in 0.02..0.98) from ``shots`` shots per setting:

1. naive: per point, a new Aer noise model for ``S`` and one qiskit-experiments
   ``StateTomography`` of the delivered pair (9 settings, linear inversion + PSD
   projection); timed on ``--naive-points`` points spread over the grid, reported per point
   (it does only the 9 tomography settings, so its cost is understated against qkit's 13);
2. floor: numpy only, no circuits: the exact state ``M[psi_a]``, the same 13 settings
   (4 optimal CHSH + 9 Pauli) by the Born rule, multinomial draws, batched fit, concurrence;
3. qkit: ``qkit.sweep.run_sweep`` on the default backend (Aer, engine ``exact``), the whole
   table (predictions, CHSH, concurrence, E_F, fidelity) written to Parquet; first without
   intervals (the comparison), then with bootstrap intervals (their cost on its own line).

Then the scaling of qkit's time per point with the grid size and with the shots, and the
agreement of the three estimates (each against the exact concurrence, and qkit against the
floor point by point in units of their sampling spread).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from qkit import estimators, measures, noise
from qkit.mixup import circuits, theory
from qkit.sweep import mixup_spec, read_table, run_sweep
from qkit.sweep._exact import born_probabilities
from qkit.sweep.mixup import setting_directions


def grid(n: int, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(0.05, 1.0, n), np.linspace(0.02, 0.98, m or n)


def naive(points: list[tuple[float, float]], shots: int, seed: int) -> tuple[float, np.ndarray]:
    """Seconds per point and concurrence estimates of one StateTomography per point."""
    from qiskit_aer import AerSimulator
    from qiskit_experiments.library import StateTomography

    def one(s: float, a: float, k: int) -> float:
        model = noise.noise_model([noise.swap_mixture(s)])  # a new noise model per point
        backend = AerSimulator(noise_model=model, seed_simulator=seed + k)
        experiment = StateTomography(circuits.delivered_pair_circuit(a), measurement_indices=[0, 1])
        data = experiment.run(backend, shots=shots).block_for_results()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rho = data.analysis_results("state", dataframe=False).value.data
        return float(measures.concurrence(measures.from_qiskit_order(rho)))

    one(0.9, 0.6, -1)  # warm-up: imports, transpiler caches
    started = time.perf_counter()
    values = np.array([one(s, a, k) for k, (s, a) in enumerate(points)])
    return (time.perf_counter() - started) / len(points), values


def floor(success: np.ndarray, amplitude: np.ndarray, shots: int, seed: int):
    """Seconds per point and estimates of the batched numpy floor (no circuits)."""
    s, a = (x.ravel() for x in np.meshgrid(success, amplitude, indexing="ij"))
    times = []
    for _ in range(3):  # median of 3, like the qkit timings
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        rho = theory.state(s, a)
        dirs_a, dirs_b = setting_directions(s, a)
        counts = rng.multinomial(shots, born_probabilities(rho, dirs_a, dirs_b))
        fitted = estimators.fit_state(counts[:, 4:])
        concurrence = measures.concurrence(fitted)
        _ = measures.eof_from_concurrence(concurrence), estimators.chsh(counts[:, :4])
        _ = measures.fidelity_pure(theory.psi(a), fitted)
        times.append((time.perf_counter() - started) / len(s))
    return float(np.median(times)), concurrence


def floor_per_point(success: np.ndarray, amplitude: np.ndarray, shots: int, seed: int) -> float:
    """Seconds per point of the same floor written one point at a time (a Python loop)."""
    rng = np.random.default_rng(seed)
    pairs = [(s, a) for s in success for a in amplitude]
    started = time.perf_counter()
    for s, a in pairs:
        rho = theory.state(s, a)
        dirs_a, dirs_b = setting_directions(np.array([s]), np.array([a]))
        counts = rng.multinomial(shots, born_probabilities(rho[None], dirs_a, dirs_b)[0])
        measures.concurrence(estimators.fit_state(counts[4:]))
    return (time.perf_counter() - started) / len(pairs)


def qkit_sweep(
    success, amplitude, shots, seed, workdir: Path, repeat: int = 3, **options
) -> tuple[float, dict]:
    """Seconds per point of ``run_sweep`` (median of ``repeat`` runs), and the first table.

    Every run writes a fresh output and has amplitudes shifted by ``k * 1e-12``, so it
    simulates its branch states afresh (the per-process cache would otherwise serve them).
    """
    times, first = [], None
    for k in range(repeat):
        spec = mixup_spec(
            success, amplitude - k * 1e-12 * (amplitude > 0.5), shots=shots, seed=seed, **options
        )
        out = workdir / f"sweep-{time.monotonic_ns()}.parquet"
        started = time.perf_counter()
        run_sweep(spec, out)
        times.append((time.perf_counter() - started) / spec.num_points)
        first = read_table(out) if first is None else first
    return float(np.median(times)), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=20, help="points per axis")
    parser.add_argument("--shots", type=int, default=4000, help="shots per setting")
    parser.add_argument("--naive-points", type=int, default=6, help="points timed the naive way")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    success, amplitude = grid(args.grid)
    n_points = len(success) * len(amplitude)
    workdir = Path(tempfile.mkdtemp(prefix="qkit-sweep-bench-"))

    # warm-up on another grid: imports, Aer start-up, the transpilation of the family
    qkit_sweep(np.array([0.5]), np.array([0.5]), 100, 0, workdir, intervals="none")

    picks = np.linspace(0, n_points - 1, args.naive_points).round().astype(int)
    naive_points = [(success[i // len(amplitude)], amplitude[i % len(amplitude)]) for i in picks]
    t_naive, c_naive = naive(naive_points, args.shots, args.seed)
    t_floor, c_floor = floor(success, amplitude, args.shots, args.seed)
    t_loop = floor_per_point(success, amplitude, args.shots, args.seed)
    t_qkit, table = qkit_sweep(success, amplitude, args.shots, args.seed, workdir, intervals="none")
    t_boot, _ = qkit_sweep(success, amplitude, args.shots, args.seed, workdir, repeat=1)
    sub = max(4, args.naive_points)
    t_sampler, _ = qkit_sweep(
        success[:1],
        amplitude[:sub],
        args.shots,
        args.seed,
        workdir,
        intervals="none",
        engine="sampler",
        repeat=1,
    )

    print(
        f"grid {len(success)} x {len(amplitude)} = {n_points} points, {args.shots} shots per "
        "setting (qkit, floor: 13 settings; naive: 9)"
    )
    print(
        f"naive (StateTomography + new noise model per point, {args.naive_points} points)"
        f" : {t_naive * 1e3:9.2f} ms/point"
    )
    print(f"floor (numpy, batched, no circuits)       : {t_floor * 1e3:9.3f} ms/point")
    print(f"floor written point by point (Python loop) : {t_loop * 1e3:9.3f} ms/point")
    print(f"qkit sweep (aer, exact engine, no intervals): {t_qkit * 1e3:9.3f} ms/point")
    print(f"  qkit vs naive: {t_naive / t_qkit:7.0f}x faster   (target >= 100x)")
    print(f"  qkit vs floor: {t_qkit / t_floor:7.2f}x the floor (target <= 3x)")
    print(
        f"intervals (bootstrap, 200 resamples) add  : {(t_boot - t_qkit) * 1e3:9.3f} ms/point"
        f" ({t_boot * 1e3:.3f} ms/point with them)"
    )
    print(
        f"qkit sweep, engine 'sampler' (every shot by Aer's SamplerV2, noise model, {sub} pts)"
        f": {t_sampler * 1e3:.1f} ms/point"
    )

    print("\nscaling of qkit (exact engine, no intervals):")
    for n in (10, 20, 40, 80, 160):
        s, a = grid(n, n + 1)  # new amplitudes: their branch states are simulated afresh
        t, _ = qkit_sweep(s, a, args.shots, args.seed, workdir, intervals="none")
        print(f"  {len(s) * len(a):6d} points, {args.shots:6d} shots : {t * 1e3:7.3f} ms/point")
    for shots in (1000, 4000, 16000, 64000, 256000):
        s, a = grid(20, 21)
        t, _ = qkit_sweep(s, a, shots, args.seed, workdir, intervals="none")
        print(f"  {len(s) * len(a):6d} points, {shots:6d} shots : {t * 1e3:7.3f} ms/point")

    exact = theory.concurrence(*np.meshgrid(success, amplitude, indexing="ij")).ravel()
    c_qkit = table["concurrence"]
    print("\nagreement of the concurrence estimates (exact C known at every point):")
    for name, values, truth in (
        ("naive", c_naive, exact[picks]),
        ("floor", c_floor, exact),
        ("qkit ", c_qkit, exact),
    ):
        d = values - truth
        print(
            f"  {name}: mean(C_est - C) = {d.mean():+.5f}, rms = {np.sqrt(np.mean(d * d)):.5f}"
            f" over {len(d)} points"
        )
    diff = c_qkit - c_floor
    inner = exact > 0.1  # away from the C = 0 edge, where estimates pile up
    z = diff[inner].mean() / (diff[inner].std(ddof=1) / np.sqrt(inner.sum()))
    rms_diff = np.sqrt(np.mean(diff[inner] ** 2))
    rms_floor = np.sqrt(np.mean((c_floor - exact)[inner] ** 2))
    print(
        f"  qkit - floor, {inner.sum()} points with C > 0.1: mean {diff[inner].mean():+.5f}"
        f" (z = {z:+.2f}), rms {rms_diff:.5f} = {rms_diff / (np.sqrt(2) * rms_floor):.2f}"
        " x sqrt(2) x the floor's rms error (1 when both sample the same distribution)"
    )
    d_naive = c_naive - c_qkit[picks]
    print(f"  naive - qkit on the {len(picks)} naive points: {np.round(d_naive, 4).tolist()}")


if __name__ == "__main__":
    main()
