"""Sweeps: range syntax, exact statistics, agreement with theory, reproducibility, resume,
Dask, output formats and the results store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_dist

from qkit import estimators, experiment, measures, noise
from qkit.backends import get_backend
from qkit.channel import circuits as channel_circuits
from qkit.channel import experiment as channel_experiment
from qkit.cli import main
from qkit.mixup import circuits as mixup_circuits
from qkit.mixup import experiment as mixup_experiment
from qkit.mixup import theory as mixup_theory
from qkit.store import ResultsStore
from qkit.sweep import (
    channel_spec,
    compute,
    mixup_spec,
    parse_range,
    read_table,
    run_sweep,
    runner,
)
from qkit.sweep.table import parts_dir

from .conftest import random_density_matrix

# The chi-square tests reject exact statistics with probability 1e-3 each.
P_MIN = 1e-3  # the chi-square tests' level: a false-failure rate of 1e-3 per test (seeded)


def tables_equal(a: dict, b: dict) -> bool:
    if list(a) != list(b):
        return False
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True


# --- range syntax and bad input ------------------------------------------------------------


def test_ranges_are_inclusive_linspaces_or_comma_lists():
    assert np.array_equal(parse_range("0.05:1:20"), np.linspace(0.05, 1, 20))
    assert parse_range("0.3, 0.1,0.9").tolist() == [0.3, 0.1, 0.9]
    assert parse_range("0.5").tolist() == [0.5]
    assert parse_range("0.5:0.5:1").tolist() == [0.5]


@pytest.mark.parametrize(
    "text, message",
    [
        ("0.1:1", "start:stop:count"),
        ("0.1:1:2:3", "start:stop:count"),
        ("0.1:1:0", "positive integer"),
        ("0.1:1:2.5", "positive integer"),
        ("0.1:1:1", "start == stop"),
        ("a,b", "comma list"),
        ("0.1,,0.2", "comma list"),
        ("", "start:stop:count"),
        ("nan", "finite"),
    ],
)
def test_malformed_ranges_are_one_line_errors(text, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_range(text, "success")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mixup", "--success", "0:1:3", "--amplitude", "0.5"], "success must be in (0, 1]"),
        (["mixup", "--success", "0.5", "--amplitude", "0.5,1.2"], "amplitude must be in [0, 1]"),
        (["channel", "--eta=-0.1:1:3"], "eta must be in [0, 1]"),
        (["channel", "--eta", "0.5", "--inputs", "entangled,mixed"], "inputs must be one of"),
        (["channel", "--eta", "0.5", "--alphabet", "three-slot"], "alphabet must be one of"),
        (
            ["mixup", "--success", "0.5", "--amplitude", "0.5", "--chunk-size", "2000000"],
            "chunk size",
        ),
        (
            "mixup --success 0.5 --amplitude 0.5 --engine exact --backend fake:manila".split(),
            "needs exact outcome probabilities",
        ),
        (["mixup", "--success", "0.5", "--amplitude", "0.5", "--out", "t.txt"], ".csv, .parquet"),
        (
            "mixup -S 0.5 -a 0.5 --backend fake:manila --realization noise-model".split(),
            "cannot take a noise model",
        ),
    ],
)
def test_cli_rejects_bad_input_with_one_line_and_exit_2(argv, message, capsys, tmp_path):
    store = str(tmp_path / "s.sqlite")
    code = main(["sweep", *argv, "--seed", "1", "--store", store])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


# --- the statistics are those of the noise -------------------------------------------------


def _chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of counts (rows, k) against probabilities (rows, k), cells with p > 0."""
    expected = counts.sum(-1, keepdims=True) * probabilities
    used = expected > 0
    assert np.all(counts[~used] == 0), "outcomes of zero probability were drawn"
    stat = np.sum((counts[used] - expected[used]) ** 2 / expected[used])
    dof = int(used.sum()) - counts.shape[0]
    return float(chi2_dist.sf(stat, dof))


def _mixup_exact_distributions(spec, indices) -> np.ndarray:
    """Outcome probabilities (n, 13, 4) of the measured circuits, by branch enumeration."""
    values = spec.values(indices)
    dirs_a, dirs_b = mixup_experiment.setting_directions(values["success"], values["amplitude"])
    out = []
    for k, (s, a) in enumerate(zip(values["success"], values["amplitude"], strict=True)):
        measured = mixup_circuits.measure_directions(mixup_circuits.delivered_pair_circuit(a))
        rows = []
        for circuit in mixup_circuits.bind_settings(measured, dirs_a[k], dirs_b[k]):
            qiskit_order = noise.outcome_distribution(circuit, [noise.swap_mixture(s)])
            rows.append(qiskit_order[[0, 2, 1, 3]])  # index bA + 2 bB -> 2 bA + bB
        out.append(rows)
    return np.array(out)


@pytest.mark.parametrize(
    "engine, realization, shots",
    [
        ("exact", None, 100_000),
        ("sampler", "noise-model", 3000),
        pytest.param("sampler", "branch-mixture", 3000, marks=pytest.mark.slow),
    ],
)
def test_mixup_counts_follow_the_outcome_distribution_of_the_circuits(engine, realization, shots):
    spec = mixup_spec(
        [0.3, 0.85], [0.25, 0.7071], shots=shots, seed=5, engine=engine, realization=realization
    )
    indices = range(spec.num_points)
    counts = np.array(_counts(spec, indices))
    assert counts.shape == (4, 13, 4) and np.all(counts.sum(-1) == shots)
    expected = _mixup_exact_distributions(spec, indices)
    assert _chi_square_p(counts.reshape(-1, 4), expected.reshape(-1, 4)) > P_MIN


@pytest.mark.parametrize("alphabet, eta", [("pair", [0.35, 0.9]), ("two-slot", [0.6])])
def test_channel_counts_follow_the_outcome_distribution_of_the_circuits(alphabet, eta):
    spec = channel_spec(eta, "entangled,separable", alphabet, shots=50_000, seed=2)
    indices = range(spec.num_points)
    counts = _counts(spec, indices)
    values = spec.values(indices)
    to_array = (
        channel_circuits.singlet_triplet_counts
        if alphabet == "pair"
        else channel_circuits.receiver_counts
    )
    rows_counts, rows_expected = [], []
    for k, (inputs, eta) in enumerate(zip(values["inputs"], values["eta"], strict=True)):
        family = channel_experiment.letter_family(alphabet, str(inputs))
        for letter, circuit in enumerate(family.circuits):
            dist = noise.outcome_distribution(circuit, channel_circuits.channel_mixtures(eta))
            bits = circuit.num_clbits
            expected = sum(p * to_array({format(i, f"0{bits}b"): 1}) for i, p in enumerate(dist))
            rows_expected.append(expected)
            rows_counts.append(counts[k][letter])
    assert _chi_square_p(np.array(rows_counts), np.array(rows_expected)) > P_MIN


def test_born_rule_on_pauli_directions_equals_the_tomography_forward_model(rng):
    rho = np.array([random_density_matrix(rng) for _ in range(5)])
    dirs_a, dirs_b = mixup_circuits.tomography_directions()
    shape = (5, 9, 3)
    p = mixup_circuits.direction_probabilities(
        rho, np.broadcast_to(dirs_a, shape), np.broadcast_to(dirs_b, shape)
    )
    assert np.allclose(p, estimators.pauli_probabilities(rho), atol=1e-12)


def test_batched_chsh_directions_equal_the_single_state_construction(rng):
    states = [random_density_matrix(rng) for _ in range(6)]
    states += list(mixup_theory.state([1.0, 0.4, 0.9, 0.05], [2**-0.5, 2**-0.5, 0.3, 0.0]))
    batched = measures.optimal_chsh_settings(np.array(states))
    for k, rho in enumerate(states):
        single = measures.optimal_chsh_settings(rho)
        for key in ("a", "a_prime", "b", "b_prime", "value"):
            assert np.allclose(batched[key][k], single[key], atol=1e-12)
        assert np.isclose(single["value"], measures.chsh_max(rho), atol=1e-12)


def test_mixture_weights_follow_the_parametrized_branch_rows():
    circuit = channel_circuits.two_photon_circuit("singlet")
    mixtures = channel_circuits.channel_mixtures(0.37)
    *_, weights = noise.parametrized_branches(circuit, mixtures)
    assert np.allclose(noise.mixture_weights(circuit, mixtures), weights, rtol=0, atol=1e-15)


# --- estimates against theory --------------------------------------------------------------


def test_small_mixup_grid_on_aer_matches_theory_within_intervals(tmp_path):
    # 9 points, 95% intervals: 3 or more misses of 9 has probability 0.008 per quantity, 0.025
    # over the three (worse than 1e-3); CHSH at 4 sd on 9 points: 5.7e-4 (seeded).
    spec = mixup_spec([0.6, 0.8, 1.0], [0.4, 0.6, 0.8], shots=2000, seed=21, n_boot=300)
    run_sweep(spec, tmp_path / "grid.csv")
    table = read_table(tmp_path / "grid.csv")
    assert table["point"].tolist() == list(range(9))
    s, a = np.meshgrid([0.6, 0.8, 1.0], [0.4, 0.6, 0.8], indexing="ij")
    assert np.array_equal(table["success"], s.ravel())
    assert np.allclose(table["predicted_concurrence"], mixup_theory.concurrence(s, a).ravel())
    for q in ("concurrence", "fidelity", "eof"):
        covered = (table[f"{q}_ci_low"] <= table[f"predicted_{q}"]) & (
            table[f"predicted_{q}"] <= table[f"{q}_ci_high"]
        )
        assert covered.sum() >= 7, (q, covered)
    z = (table["chsh"] - table["predicted_chsh_max"]) / table["chsh_stderr"]
    assert np.all(np.abs(z) < 4)


def test_small_channel_sweep_matches_holevo_within_intervals(tmp_path):
    spec = channel_spec([0.3, 0.7], "entangled,separable", "pair,two-slot", shots=4000, seed=8)
    run_sweep(spec, tmp_path / "channel.csv")
    table = read_table(tmp_path / "channel.csv")
    assert table["alphabet"].tolist()[:4] == ["pair"] * 4
    covered = (table["mutual_information_ci_low"] <= table["predicted_holevo"]) & (
        table["predicted_holevo"] <= table["mutual_information_ci_high"]
    )
    # 8 points, 95% intervals: 3 or more misses has probability 5.8e-3 (worse than 1e-3; seeded)
    assert covered.sum() >= 6, covered


def test_fake_device_sweep_runs_on_branch_mixtures(tmp_path):
    spec = mixup_spec([0.9], [2**-0.5], shots=300, seed=4, backend="fake:manila", intervals="none")
    assert spec.engine == "sampler"
    run_sweep(spec, tmp_path / "fake.csv")
    table = read_table(tmp_path / "fake.csv")
    # device noise lowers the values a little; the mixture still shows strong entanglement.
    # 300 shots a setting: sd 0.021 (C) and 0.086 (CHSH) over 40 noiseless redraws, so the
    # upper margins are 7 sd and 3.5 sd above the noiseless prediction (one-sided 2.3e-4, less
    # with the device's noise lowering the values); the lower ends are 16 sd and 8 sd below it,
    # room for the device's bias (seeded).
    assert 0.5 < table["concurrence"][0] <= table["predicted_concurrence"][0] + 0.15
    assert 1.8 < table["chsh"][0] < table["predicted_chsh_max"][0] + 0.3


# --- reproducibility, resume, Dask ---------------------------------------------------------


def _spec(**kw):
    options = {"shots": 1000, "seed": 17, "chunk_size": 64, "n_boot": 50}
    options.update(kw)
    return mixup_spec(parse_range("0.1:1:5"), parse_range("0.02:0.98:60"), **options)


def test_same_seed_gives_the_identical_table_and_another_seed_does_not(tmp_path):
    spec = _spec()
    for name in ("a.csv", "b.csv"):
        run_sweep(spec, tmp_path / name)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    run_sweep(_spec(seed=18), tmp_path / "c.csv")
    assert (
        read_table(tmp_path / "c.csv")["concurrence"].tolist()
        != read_table(tmp_path / "a.csv")["concurrence"].tolist()
    )


def test_table_does_not_depend_on_the_chunk_size(tmp_path):
    # fresh simulations each time: the branch states must not depend on their batch either
    experiment.clear_caches()
    run_sweep(_spec(chunk_size=7), tmp_path / "small.csv")
    experiment.clear_caches()
    run_sweep(_spec(chunk_size=1024), tmp_path / "large.csv")
    assert (tmp_path / "small.csv").read_bytes() == (tmp_path / "large.csv").read_bytes()


def test_parquet_bytes_do_not_depend_on_the_chunk_size(tmp_path, monkeypatch):
    from qkit.sweep import table

    monkeypatch.setattr(table, "ROW_GROUP", 50)  # several row groups, cut inside chunks
    run_sweep(_spec(chunk_size=7), tmp_path / "small.parquet")
    run_sweep(_spec(chunk_size=300), tmp_path / "large.parquet")
    assert (tmp_path / "small.parquet").read_bytes() == (tmp_path / "large.parquet").read_bytes()
    import pyarrow.parquet as pq

    groups = pq.ParquetFile(tmp_path / "small.parquet").metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [50] * 6


def test_point_seeds_and_count_streams_are_those_of_one_point_at_a_time():
    # the sweep's batched seeding equals point_key/point_seed/stream of each point alone
    spec = channel_spec([0.0, 0.5, 1.0], "entangled,separable", "pair,two-slot", seed=9, repeat=3)
    points, seeds = compute.row_points(spec, range(spec.num_points))
    for i, (point, seed) in enumerate(zip(points, seeds, strict=True)):
        key = experiment.point_key("channel", point, i % 3)
        assert seed == experiment.point_seed(9, key)
    odd = [0, 1, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1, 2**64, 10**30]  # word-count edges
    seeds = [*seeds, *odd, *np.random.default_rng(5).integers(0, 2**63, 500).tolist()]
    for which in (experiment.STREAM_COUNTS, experiment.STREAM_ANALYSIS, 7):
        for seed, rng in zip(seeds, experiment.each_stream(seeds, which), strict=True):
            reference = experiment.stream(seed, which)
            assert rng.bit_generator.state == reference.bit_generator.state
            assert rng.integers(2**62) == reference.integers(2**62)


def test_interrupted_sweep_resumes_to_the_identical_table(tmp_path, monkeypatch):
    spec = _spec()
    assert spec.num_chunks == 5
    run_sweep(spec, tmp_path / "whole.csv")
    store = ResultsStore(tmp_path / "store.sqlite")
    compute = runner.compute_chunk

    def failing(spec_, chunk):
        if chunk == 3:
            raise KeyboardInterrupt  # as if Ctrl-C arrived during chunk 3
        return compute(spec_, chunk)

    monkeypatch.setattr(runner, "compute_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path / "resumed.csv", store=store)
    monkeypatch.setattr(runner, "compute_chunk", compute)
    assert not (tmp_path / "resumed.csv").exists()
    assert len(list(parts_dir(tmp_path / "resumed.csv").glob("chunk-*"))) == 3
    (failed,) = store.list_runs("sweep")
    assert failed.status == "failed" and "rerun" in failed.metadata["error"]

    summary = run_sweep(spec, tmp_path / "resumed.csv", store=store)
    assert summary["computed_chunks"] == 2 and summary["run_id"] == failed.run_id
    assert (tmp_path / "resumed.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert not parts_dir(tmp_path / "resumed.csv").exists()
    assert store.get_run(failed.run_id).status == "done"


def test_resume_refuses_other_arguments_and_finished_tables(tmp_path, monkeypatch):
    out = tmp_path / "t.csv"

    def failing(spec_, chunk):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "compute_chunk", failing)
    with pytest.raises(RuntimeError):
        run_sweep(_spec(), out)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="other arguments"):
        run_sweep(_spec(seed=99), out)
    run_sweep(_spec(), out)
    with pytest.raises(ValueError, match="exists"):
        run_sweep(_spec(), out)
    run_sweep(_spec(), out, overwrite=True)


@pytest.mark.slow
def test_killed_sweep_process_resumes_to_the_identical_table(tmp_path):
    args = (
        "sweep mixup --success 0.1:1:5 --amplitude 0.02:0.98:60 --shots 1000 --seed 3 "
        "--chunk-size 64 --bootstrap 400 --no-store"
    ).split()
    whole, killed = tmp_path / "whole.csv", tmp_path / "killed.csv"
    assert main([*args, "--out", str(whole)]) == 0
    command = [sys.executable, "-m", "qkit.cli", *args, "--out", str(killed)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(parts_dir(killed).glob("chunk-*.csv")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    written = len(list(parts_dir(killed).glob("chunk-*.csv")))
    assert 1 <= written < 5 and not killed.exists()
    assert main([*args, "--out", str(killed)]) == 0
    assert killed.read_bytes() == whole.read_bytes()


def test_dask_local_cluster_gives_the_identical_table(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = _spec(intervals="none")
    run_sweep(spec, tmp_path / "local.parquet")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        # by address, as `qkit sweep --dask ADDRESS` does (run_sweep connects and disconnects)
        summary = run_sweep(spec, tmp_path / "dask.parquet", dask=cluster.scheduler_address)
    assert summary["computed_chunks"] == spec.num_chunks
    dask_table = read_table(tmp_path / "dask.parquet")
    assert tables_equal(dask_table, read_table(tmp_path / "local.parquet"))


@pytest.mark.slow
def test_dask_worker_processes_give_the_identical_table(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = _spec(seed=23, n_boot=20)
    run_sweep(spec, tmp_path / "local.csv")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run_sweep(spec, tmp_path / "dask.csv", dask=client)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


# --- formats, store, command line -----------------------------------------------------------


def test_csv_and_parquet_hold_the_same_table(tmp_path):
    pytest.importorskip("pyarrow")
    spec = _spec(intervals="none")
    run_sweep(spec, tmp_path / "t.csv")
    run_sweep(spec, tmp_path / "t.parquet")
    csv_table, parquet_table = read_table(tmp_path / "t.csv"), read_table(tmp_path / "t.parquet")
    interval = ("", "_ci_low", "_ci_high", "_at_boundary")
    assert list(csv_table) == [
        "point",
        "success",
        "amplitude",
        "seed",
        *(f"predicted_{k}" for k in ("fidelity", "concurrence", "eof", "chsh_max")),
        *(f"chsh{f}" for f in ("", "_stderr", "_significance", "_ci_low", "_ci_high")),
        *(f"chsh{f}" for f in ("_lower_bound", "_violation_p_value", "_violation_sigma")),
        *(f"chsh{f}" for f in ("_upper_bound", "_no_violation_p_value", "_no_violation_sigma")),
        "chsh_at_boundary",
        *(f"concurrence{f}" for f in interval),
        *(f"concurrence{f}" for f in ("_stderr", "_lower_bound", "_entangled_p_value")),
        "concurrence_entangled_sigma",
        *(f"concurrence{f}" for f in ("_upper_bound", "_threshold", "_below_p_value")),
        "concurrence_below_sigma",
        *(f"{q}{f}" for q in ("eof", "fidelity") for f in interval),
    ]
    assert tables_equal(csv_table, parquet_table)
    assert csv_table["concurrence_at_boundary"].dtype == bool
    assert len(csv_table["point"]) == spec.num_points


def test_store_records_the_sweep_with_its_output_path(tmp_path):
    store = ResultsStore(tmp_path / "store.sqlite")
    spec = channel_spec([0.2, 0.8], "entangled", shots=500, seed=4, intervals="none")
    summary = run_sweep(spec, tmp_path / "c.csv", store=store)
    record = store.get_run(summary["run_id"])
    assert record.kind == "sweep" and record.status == "done"
    assert record.metadata["out"] == str((tmp_path / "c.csv").resolve())
    assert record.estimate == {"points": 2, "out": str((tmp_path / "c.csv").resolve())}
    assert record.params["experiment"] == "channel" and record.params["eta"] == [0.2, 0.8]
    assert record.seeds == {"seed": 4} and record.metadata["spec"]["shots"] == 500


def test_cli_sweep_writes_parquet_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = "sweep mixup --success 0.5,1 --amplitude 0.4 --shots 300 --seed 2 --no-store --json"
    assert main(argv.split()) == 0
    out = Path(json.loads(capsys.readouterr().out)["out"])
    assert out.parent == Path(".") and out.name.startswith("sweep-mixup-")
    assert out.suffix == ".parquet" and read_table(tmp_path / out)["success"].tolist() == [0.5, 1]


def test_cli_sweep_writes_the_table_and_prints_a_summary(tmp_path, capsys):
    out, store = tmp_path / "cli.csv", tmp_path / "s.sqlite"
    argv = (
        "sweep mixup --success 0.5,1 --amplitude 0.3:0.7:3 --shots 400 --seed 9 --intervals none "
        "--json"
    ).split() + ["--out", str(out), "--store", str(store)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["points"] == 6 and Path(summary["out"]) == out
    assert read_table(out)["amplitude"].tolist() == [0.3, 0.5, 0.7] * 2
    assert ResultsStore(store).get_run(summary["run_id"]).status == "done"
    assert main(argv) == 2 and "exists" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


def _counts(spec, indices):
    """Counts of rows ``indices`` by the execution layer, as the sweep makes them."""
    from qkit import engines
    from qkit import experiment as definitions

    points, seeds = compute.row_points(spec, indices)
    experiment = definitions.get(spec.kind)
    backend = get_backend("aer")
    return engines.batch(experiment, points, seeds, spec.options, backend, engine=spec.engine)[0]
