"""``qkit sweep``: a whole parameter grid sampled into a table (CSV or Parquet), resumable."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from qkit.cli._common import add_consent_flags, positive_int, print_json
from qkit.cli._experiments import add_command
from qkit.cli.run import RUN_FLAGS


def _add_common(parser: argparse.ArgumentParser) -> None:
    from qkit import options

    options.add_flags(parser, RUN_FLAGS)  # the flags of `qkit run`
    parser.add_argument(
        "--out",
        default=None,
        help="output table, .parquet or .csv (default: sweep-KIND-<hash of the arguments>.parquet)"
        "; rerunning with the same arguments and --out resumes an interrupted sweep",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="independent replicates of every point (a replicate column; each row its own seed)",
    )
    parser.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="points per chunk: the unit of work, of resume and of a Dask task (default 8192)",
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run chunks on a Dask cluster: scheduler address (tcp://host:8786), "
        "'local' or 'local:N' (N local worker processes)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a finished --out")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar with ETA on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def register(subparsers: argparse._SubParsersAction) -> None:
    help_ = "sample a parameter grid into a table (CSV/Parquet), resumable, Dask-ready"
    add_command(subparsers, "sweep", help_, _add_experiment)  # one subcommand per experiment


def _add_experiment(sub: argparse._SubParsersAction, exp) -> None:
    from qkit.cli.run import add_parameters

    p = sub.add_parser(exp.name, help=f"{exp.title}, over a grid")
    add_parameters(p, exp, ranges=True)
    _add_common(p)
    add_consent_flags(p)  # lazily added experiments get them too
    p.set_defaults(func=_sweep, experiment_name=exp.name)


def _sweep(args: argparse.Namespace) -> int:
    from qkit import experiment as definitions
    from qkit.sweep import make_spec

    exp = definitions.get(args.experiment_name)
    axes = {p.name: getattr(args, p.name) for p in exp.params}
    from qkit import options

    opts = options.from_args(args, RUN_FLAGS, seed=_resume_seed(args, exp.name, axes))
    if opts.layout == "best":
        from qkit.engines import choose_best, resolve_backend

        chosen = choose_best(exp, resolve_backend(opts.backend), opts.store)
        print(
            f"qkit: layout best: qubits {chosen['physical']} ({chosen['source']})", file=sys.stderr
        )
        opts = opts.replace(layout=tuple(chosen["physical"]))
    from qkit.sweep.grid import DEFAULT_CHUNK

    chunk_size = DEFAULT_CHUNK if args.chunk_size is None else args.chunk_size
    spec = make_spec(exp.name, axes, opts, chunk_size=chunk_size, repeat=args.repeat)
    if args.seed is None and args.out is None:
        print(f"qkit: seed {spec.seed} (pass --seed {spec.seed} to reproduce)", file=sys.stderr)
    return _run(args, spec, opts.store)


def _resume_seed(args: argparse.Namespace, kind: str, axes: dict) -> int | None:
    """The given seed; without one, the seed of the unfinished sweep at ``--out`` (resume)."""
    if args.seed is not None or args.out is None or not args.out.strip():
        return args.seed  # (an empty --out is refused by run_sweep)
    from pathlib import Path

    from qkit.sweep.table import parts_dir

    manifest = parts_dir(Path(args.out)) / "manifest.json"
    try:
        previous = json.loads(manifest.read_text())["spec"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if previous.get("kind") == kind and isinstance(previous.get("seed"), int):
        print(f"qkit: resuming the sweep in {args.out} (seed {previous['seed']})", file=sys.stderr)
        return previous["seed"]
    return None


def default_out(spec) -> str:
    """``sweep-KIND-<10 hex>.parquet``: the same arguments name the same file (and resume it)."""
    digest = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()
    return f"sweep-{spec.kind}-{digest[:10]}.parquet"


def _run(args: argparse.Namespace, spec, store) -> int:
    from qkit.sweep import run_sweep

    out = default_out(spec) if args.out is None else args.out
    try:
        summary = run_sweep(
            spec, out, store=store, dask=args.dask, progress=args.progress, overwrite=args.overwrite
        )
    except KeyboardInterrupt:
        print(f"qkit: interrupted; rerun the same command to resume into {out}", file=sys.stderr)
        return 130
    if args.json:
        print_json(summary)
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
