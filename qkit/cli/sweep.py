"""``qkit sweep``: a whole parameter grid sampled into a table (CSV or Parquet), resumable."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from qkit.cli._common import non_negative_int, number, positive_int

_RANGE_HELP = "start:stop:count (ends included) or a comma list"


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shots", type=positive_int, default=4000, help="shots per setting (per letter)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=None, help="seed (default: drawn and printed)"
    )
    parser.add_argument(
        "--backend", default="aer", help="aer (default), fake:<device>, ibm:<device>, braket:..."
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output table, .csv or .parquet (default: sweep-KIND-<hash of the arguments>.csv); "
        "rerunning with the same arguments and --out resumes an interrupted sweep",
    )
    parser.add_argument(
        "--engine",
        choices=["auto", "exact", "sampler"],
        default="auto",
        help="exact: the simulator's exact outcome probabilities, counts drawn multinomially "
        "(aer); sampler: every shot sampled by the backend (default: exact on aer)",
    )
    parser.add_argument(
        "--realization",
        choices=["noise-model", "branch-mixture"],
        default=None,
        help="noise realization of the sampler engine (default: noise model on aer)",
    )
    parser.add_argument(
        "--intervals",
        choices=["bootstrap", "none"],
        default="bootstrap",
        help="bootstrap confidence intervals (default) or point estimates only",
    )
    parser.add_argument(
        "--bootstrap", type=positive_int, default=200, help="bootstrap resamples per point (200)"
    )
    parser.add_argument("--confidence", type=number, default=0.95, help="interval coverage")
    parser.add_argument(
        "--chunk-size", type=positive_int, default=1024, help="points per chunk (multiple of 64)"
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run chunks on a Dask cluster: scheduler address (tcp://host:8786), "
        "'local' or 'local:N' (N local worker processes)",
    )
    parser.add_argument(
        "--store", default=None, help="results database (default: $QKIT_STORE or the user data dir)"
    )
    parser.add_argument("--no-store", action="store_true", help="do not record the sweep")
    parser.add_argument("--overwrite", action="store_true", help="replace a finished --out")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar with ETA on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep", help="sample a parameter grid into a table (CSV/Parquet), resumable, Dask-ready"
    )
    sub = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    sub.required = True

    p = sub.add_parser("mixup", help="paper A over an (S, a) grid: CHSH and tomography")
    p.add_argument("--success", "-S", required=True, help=f"S values in (0, 1]: {_RANGE_HELP}")
    p.add_argument("--amplitude", "-a", required=True, help=f"a values in [0, 1]: {_RANGE_HELP}")
    _add_common(p)
    p.set_defaults(func=_sweep_mixup)

    p = sub.add_parser("channel", help="paper B over an eta grid: mutual information")
    p.add_argument("--eta", required=True, help=f"eta values in [0, 1]: {_RANGE_HELP}")
    p.add_argument(
        "--inputs", default="entangled,separable", help="entangled, separable or both (comma)"
    )
    p.add_argument("--alphabet", default="pair", help="pair (default), two-slot or both (comma)")
    _add_common(p)
    p.set_defaults(func=_sweep_channel)


def _options(args: argparse.Namespace, seed: int) -> dict:
    return {
        "shots": args.shots,
        "seed": seed,
        "backend": args.backend,
        "engine": args.engine,
        "realization": args.realization,
        "intervals": args.intervals,
        "n_boot": args.bootstrap,
        "confidence": args.confidence,
        "chunk_size": args.chunk_size,
    }


def _with_seed(args: argparse.Namespace, spec):
    """``spec`` (validated with a placeholder seed) with the given or a freshly drawn seed."""
    if args.seed is not None:
        return spec
    import dataclasses

    import numpy as np

    seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    print(f"qkit: seed {seed} (pass --seed {seed} to reproduce or resume)", file=sys.stderr)
    return dataclasses.replace(spec, seed=seed)


def _sweep_mixup(args: argparse.Namespace) -> int:
    from qkit.sweep import mixup_spec, parse_range

    success = parse_range(args.success, "success")
    amplitude = parse_range(args.amplitude, "amplitude")
    spec = mixup_spec(success, amplitude, **_options(args, args.seed or 0))
    return _run(args, _with_seed(args, spec))


def _sweep_channel(args: argparse.Namespace) -> int:
    from qkit.sweep import channel_spec, parse_range

    eta = parse_range(args.eta, "eta")
    spec = channel_spec(eta, args.inputs, args.alphabet, **_options(args, args.seed or 0))
    return _run(args, _with_seed(args, spec))


def default_out(spec) -> str:
    """``sweep-KIND-<10 hex>.csv``: the same arguments name the same file (and resume it)."""
    digest = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()
    return f"sweep-{spec.kind}-{digest[:10]}.csv"


def _run(args: argparse.Namespace, spec) -> int:
    from qkit.sweep import run_sweep

    store = None
    if not args.no_store:
        from qkit.store import ResultsStore

        store = ResultsStore(args.store)
    out = args.out or default_out(spec)
    try:
        summary = run_sweep(
            spec, out, store=store, dask=args.dask, progress=args.progress, overwrite=args.overwrite
        )
    except KeyboardInterrupt:
        print(f"qkit: interrupted; rerun the same command to resume into {out}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary))
        return 0
    per_point = summary["seconds_per_point"]
    timing = f", {per_point * 1e3:.3g} ms/point" if per_point else ""
    run = f" (run {summary['run_id']})" if summary["run_id"] else ""
    print(
        f"wrote {summary['points']} points to {summary['out']}{run} "
        f"in {summary['seconds']:.3g} s{timing}; {summary['computed_chunks']} of "
        f"{summary['chunks']} chunks computed now"
    )
    return 0
