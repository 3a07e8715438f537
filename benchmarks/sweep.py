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
   intervals (the comparison), then with the default intervals (their cost on its own line).

Timings are the best of several runs, qkit's and the floor's alternating (the machine may be
shared), each qkit run with its own branch states to simulate. Then the scaling of qkit's
time per point with the grid size and with the shots, and the agreement of the three
estimates (each against the exact concurrence, and qkit against the floor point by point in
units of their sampling spread).

``--cli N`` measures the command line at scale instead (issue 23: a million points, N=1000):
``qkit sweep mixup --success 0.001:1:N --amplitude 0:1:N --shots 4000`` as a fresh process
with the default intervals and the default output (Parquet), then with ``--out x.csv`` and
with ``--dask local:W`` for each ``--dask W``, against the numpy floor of the same grid
(Born rule, one multinomial draw per setting, linear inversion, concurrence, E_F, fidelity,
CHSH; no intervals, no file), timed in this process before and after the commands. Each
command's wall time, CPU time and peak memory (``os.wait4`` of the child and
``/usr/bin/time``; Dask: the main process and its workers) and the load average
(``os.getloadavg``) are printed with the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from qkit import estimators, measures, noise
from qkit.mixup import circuits, theory
from qkit.mixup.circuits import direction_probabilities as born_probabilities
from qkit.mixup.experiment import setting_directions
from qkit.sweep import mixup_spec, read_table, run_sweep


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


def floor(success: np.ndarray, amplitude: np.ndarray, shots: int, seed: int, repeat: int = 5):
    """Seconds per point (best of ``repeat``) and concurrence estimates of the numpy floor.

    The same table as qkit's, in memory: predictions, the 13 settings' multinomial counts
    from the exact state by the Born rule, CHSH, fitted state, concurrence, E_F, fidelity.
    """
    s, a = (x.ravel() for x in np.meshgrid(success, amplitude, indexing="ij"))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        rho = theory.state(s, a)
        _ = [f(s, a) for f in (theory.fidelity, theory.concurrence, theory.eof, theory.chsh_max)]
        dirs_a, dirs_b = setting_directions(s, a)
        counts = rng.multinomial(shots, born_probabilities(rho, dirs_a, dirs_b))
        chsh = estimators.chsh(counts[:, :4])
        fitted = estimators.fit_state(counts[:, 4:])
        concurrence = measures.concurrence(fitted)
        _ = measures.eof_from_concurrence(concurrence), chsh.value
        _ = np.clip(measures.fidelity_pure(theory.psi(a), fitted), 0.0, 1.0)
        times.append((time.perf_counter() - started) / len(s))
    return float(np.min(times)), concurrence


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
    success, amplitude, shots, seed, workdir: Path, repeat: int = 5, **options
) -> tuple[float, dict]:
    """Seconds per point of ``run_sweep`` (best of ``repeat`` runs), and the first table.

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
    return float(np.min(times)), first


def interleaved(success, amplitude, shots, seed, workdir: Path, repeat: int):
    """Best-of-``repeat`` seconds per point of qkit and of the floor, runs alternating.

    Alternating keeps both exposed to the same load on a shared machine. Returns
    ``(t_qkit, t_floor, qkit_table, floor_concurrence)`` (the tables of the first runs).
    """
    t_q, t_f, table, c_floor = [], [], None, None
    for k in range(repeat):
        tq, tab = qkit_sweep(
            success, amplitude + k * 1e-12, shots, seed, workdir, repeat=1, intervals="none"
        )
        tf, cf = floor(success, amplitude, shots, seed, repeat=1)
        t_q.append(tq)
        t_f.append(tf)
        table = tab if table is None else table
        c_floor = cf if c_floor is None else c_floor
    return min(t_q), min(t_f), table, c_floor


def floor_blocks(n: int, shots: int, seed: int, block: int = 65536) -> tuple[float, float]:
    """Wall and CPU seconds of the numpy floor on the ``--cli`` grid, in blocks of ``block``
    points (the same batched work as :func:`floor`, with bounded memory)."""
    s, a = (x.ravel() for x in np.meshgrid(*cli_axes(n), indexing="ij"))
    wall, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    for start in range(0, len(s), block):
        ss, aa = s[start : start + block], a[start : start + block]
        _ = [f(ss, aa) for f in (theory.fidelity, theory.concurrence, theory.eof, theory.chsh_max)]
        dirs_a, dirs_b = setting_directions(ss, aa)
        probs = born_probabilities(theory.state(ss, aa), dirs_a, dirs_b)
        counts = rng.multinomial(shots, probs)
        chsh = estimators.chsh(counts[:, :4])
        fitted = estimators.fit_state(counts[:, 4:])
        concurrence = measures.concurrence(fitted)
        _ = measures.eof_from_concurrence(concurrence), chsh.value
        _ = np.clip(measures.fidelity_pure(theory.psi(aa), fitted), 0.0, 1.0)
    return time.perf_counter() - wall, time.process_time() - cpu


def cli_axes(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(0.001, 1.0, n), np.linspace(0.0, 1.0, n)


def command(argv: list[str], cwd: Path) -> dict[str, float]:
    """Run ``argv``; its wall and CPU seconds, peak memory (MB) and the load before it.

    Started through ``/usr/bin/time``: a child forked from this process would inherit this
    process's peak memory (the floor's arrays) as its own.
    """
    load = os.getloadavg()[0]
    report = cwd / "time.txt"
    started = time.perf_counter()
    child = subprocess.Popen(
        ["/usr/bin/time", "-o", str(report), "-f", "%M"] + argv, cwd=cwd, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(argv)} failed: {os.waitstatus_to_exitcode(status)}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "mb": int(report.read_text().split()[-1]) / 1024,
        "load": load,
    }


def cli_scale(n: int, shots: int, seed: int, workers: list[int], csv: bool) -> None:
    """The ``--cli`` measurement (see the module docstring)."""
    workdir = Path(tempfile.mkdtemp(prefix="qkit-sweep-cli-"))
    base = [sys.executable, "-m", "qkit.cli", "sweep", "mixup", "--success", f"0.001:1:{n}"]
    base += ["--amplitude", f"0:1:{n}", "--shots", str(shots), "--seed", str(seed)]
    os.environ["QKIT_STORE"] = str(workdir / "store.sqlite")  # the commands record their runs
    runs: list[tuple[str, dict[str, float]]] = []
    floor_before = floor_blocks(n, shots, seed)
    runs.append(("qkit sweep (default: Parquet)", command(base, workdir)))
    if csv:
        runs.append(("qkit sweep --out x.csv", command([*base, "--out", "x.csv"], workdir)))
    for w in workers:
        argv = [*base, "--out", f"dask{w}.parquet", "--dask", f"local:{w}"]
        runs.append((f"qkit sweep --dask local:{w}", command(argv, workdir)))
    floor_after = floor_blocks(n, shots, seed)
    t_floor = (floor_before[0] + floor_after[0]) / 2
    points = n * n
    print(f"grid {n} x {n} = {points} points, {shots} shots per setting, {os.cpu_count()} cores")
    print(
        f"numpy floor (in blocks of 65536 points), before / after: {floor_before[0]:.1f} / "
        f"{floor_after[0]:.1f} s wall, {floor_before[1]:.1f} / {floor_after[1]:.1f} s CPU; "
        f"load {os.getloadavg()[0]:.1f} at the end"
    )
    print("    command                          wall s   CPU s  peak MB  load  wall/floor")
    for name, r in runs:
        print(
            f"    {name:31s} {r['wall']:7.1f} {r['cpu']:7.1f} {r['mb']:8.0f} {r['load']:5.1f}"
            f" {r['wall'] / t_floor:10.2f}x"
        )
    one = runs[0][1]["wall"]
    for name, r in runs[1:]:
        print(f"    {name}: {one / r['wall']:.2f}x the speed of one process")
    tables = [p for p in workdir.glob("*.*") if p.suffix in (".csv", ".parquet")]
    sizes = {p.name: p.stat().st_size / 1e6 for p in tables}
    print("    files: " + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(sizes.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=20, help="points per axis")
    parser.add_argument("--shots", type=int, default=4000, help="shots per setting")
    parser.add_argument("--naive-points", type=int, default=6, help="points timed the naive way")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--cli", type=int, metavar="N", help="only the command line on an N x N grid (1000: 10^6)"
    )
    parser.add_argument(
        "--dask", type=int, action="append", default=[], metavar="W", help="with --cli: local:W"
    )
    parser.add_argument("--csv", action="store_true", help="with --cli: also --out x.csv")
    args = parser.parse_args()
    if args.cli:
        cli_scale(args.cli, args.shots, args.seed, args.dask, args.csv)
        return
    success, amplitude = grid(args.grid)
    n_points = len(success) * len(amplitude)
    workdir = Path(tempfile.mkdtemp(prefix="qkit-sweep-bench-"))
    shots, seed = args.shots, args.seed

    # warm-up on another grid: imports, Aer start-up, the transpilation of the family
    qkit_sweep(np.array([0.5]), np.array([0.5]), 100, 0, workdir, intervals="none")

    picks = np.linspace(0, n_points - 1, args.naive_points).round().astype(int)
    naive_points = [(success[i // len(amplitude)], amplitude[i % len(amplitude)]) for i in picks]
    t_naive, c_naive = naive(naive_points, shots, seed)
    t_loop = floor_per_point(success, amplitude, shots, seed)
    t_qkit, t_floor, table, c_floor = interleaved(success, amplitude, shots, seed, workdir, 9)
    t_boot, _ = qkit_sweep(success, amplitude, shots, seed, workdir, repeat=1)
    few = (success[:1], amplitude[: max(4, args.naive_points)])
    t_sampler = {
        realization: qkit_sweep(
            *few, shots, seed, workdir, repeat=1, intervals="none", realization=realization
        )[0]
        for realization in ("noise-model", "branch-mixture")
    }

    print(
        f"grid {len(success)} x {len(amplitude)} = {n_points} points (S 0.05..1, a 0.02..0.98), "
        f"{shots} shots per setting; qkit and floor: 13 settings, naive: 9"
    )
    print(
        f"(1) naive, StateTomography + new noise model, {len(picks)} points: "
        f"{t_naive * 1e3:9.2f} ms/point"
    )
    print(f"(2) floor, numpy batched, no circuits:                {t_floor * 1e3:9.3f} ms/point")
    print(f"    the same floor written point by point (a loop):   {t_loop * 1e3:9.3f} ms/point")
    print(f"(3) qkit sweep, aer (exact engine), no intervals:     {t_qkit * 1e3:9.3f} ms/point")
    print(
        f"    qkit is {t_naive / t_qkit:.0f}x faster than naive (target >= 100x) and "
        f"{t_qkit / t_floor:.2f}x the floor (target <= 3x)"
    )
    print(
        f"    the default (analytic) intervals add {(t_boot - t_qkit) * 1e3:.3f} "
        f"ms/point ({t_boot * 1e3:.3f} ms/point with them)"
    )
    for realization, t in t_sampler.items():
        print(
            f"    engine 'sampler' (every shot by Aer's SamplerV2, {realization}, "
            f"{len(few[1])} points): {t * 1e3:.1f} ms/point"
        )

    print("\nscaling (qkit exact engine without intervals, against the floor on the same grid):")
    print("    points    shots   qkit ms/pt  floor ms/pt  qkit/floor")
    cases = [(n, shots) for n in (10, 20, 40, 80, 160, 320)]
    cases += [(20, k) for k in (1000, 16000, 64000, 256000)]
    for n, k in cases:
        s, a = grid(n, n + 1)  # new amplitudes: their branch states are simulated afresh
        repeat = 7 if n <= 80 else 2
        t_q, t_f, _, _ = interleaved(s, a, k, seed, workdir, repeat)
        print(
            f"    {len(s) * len(a):6d} {k:8d} {t_q * 1e3:11.3f} {t_f * 1e3:12.3f} {t_q / t_f:11.2f}"
        )

    exact = theory.concurrence(*np.meshgrid(success, amplitude, indexing="ij")).ravel()
    c_qkit = table["concurrence"]
    print("\nagreement of the concurrence estimates (the exact C is known at every point):")
    for name, values, truth in (
        ("naive", c_naive, exact[picks]),
        ("floor", c_floor, exact),
        ("qkit ", c_qkit, exact),
    ):
        d = values - truth
        print(
            f"    {name}: mean(C_est - C) = {d.mean():+.5f}, rms = {np.sqrt(np.mean(d * d)):.5f}"
            f" over {len(d)} points"
        )
    diff = c_qkit - c_floor
    inner = exact > 0.1  # away from the C = 0 edge, where estimates pile up
    z = diff[inner].mean() / (diff[inner].std(ddof=1) / np.sqrt(inner.sum()))
    rms_diff = np.sqrt(np.mean(diff[inner] ** 2))
    rms_floor = np.sqrt(np.mean((c_floor - exact)[inner] ** 2))
    print(
        f"    qkit - floor at the {inner.sum()} points with C > 0.1: mean {diff[inner].mean():+.5f}"
        f" (z = {z:+.2f}); rms {rms_diff:.5f} = {rms_diff / (np.sqrt(2) * rms_floor):.2f} x "
        "sqrt(2) x the floor's rms error (1 if both sample the same distribution)"
    )
    print(
        f"    naive - qkit at the {len(picks)} naive points: {np.round(c_naive - c_qkit[picks], 4)}"
    )


if __name__ == "__main__":
    main()
