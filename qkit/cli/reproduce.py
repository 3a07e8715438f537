"""``qkit reproduce``: both papers' experiments, figures and a report in one command."""

from __future__ import annotations

import argparse
import shlex

from qkit.cli._common import non_negative_int, positive_int


def _shots(text: str) -> int:
    # positive_int's message already names the problem; say which option it was
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"shots {exc}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    from qkit import options

    parser = subparsers.add_parser(
        "reproduce",
        help="run both papers' experiments; write figures, report.md/html and results.json",
        description=(
            "Run paper A's mix-up experiments and paper B's channel experiments, and write "
            "every figure (PNG and PDF, sampled points over theory), report.md, report.html "
            "and results.json into DIR."
        ),
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="new or empty output directory, or an interrupted reproduction to resume "
        "(default: resume the newest interrupted one with the same options under "
        "./qkit-results/, else ./qkit-results/<UTC timestamp>)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer points and shots: about a minute"
    )
    parser.add_argument(
        "--backend",
        default="aer",
        help=(
            "aer (default), fake:<device>, ibm:<device>, braket:local, braket:<ARN>; devices "
            "run every noise branch as its own circuit: far slower (a --quick run with "
            "--shots 500 on fake:manila took 30 min)"
        ),
    )
    parser.add_argument(
        "--shots",
        type=_shots,
        default=None,
        help="shots per setting (paper A) and per letter (paper B); default by mode",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        help="master seed; per-experiment seeds derive from it (default: drawn and recorded)",
    )
    parser.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=options.DEFAULT_BOOTSTRAP,
        help=f"bootstrap resamples for intervals ({options.DEFAULT_BOOTSTRAP}; "
        f"at least {options.MIN_BOOTSTRAP})",
    )
    stores = parser.add_mutually_exclusive_group()
    stores.add_argument(
        "--store", default=None, help="results database (default: $QKIT_STORE or the user data dir)"
    )
    stores.add_argument("--no-store", action="store_true", help="do not save the runs")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    from qkit.cli.run import add_layout

    add_layout(parser)
    parser.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from qkit.reproduce import reproduce

    store = None
    if not args.no_store:
        from qkit.store import ResultsStore

        store = ResultsStore(args.store)
    out = reproduce(
        args.out,
        quick=args.quick,
        backend=args.backend,
        shots=args.shots,
        seed=args.seed,
        n_boot=args.bootstrap,
        store=store,
        progress=False if args.quiet else None,
        command=_command(args),
        layout=args.layout,
    )
    print(f"wrote {out}/report.html, report.md, results.json and the figures")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that repeats this run (every option spelled out)."""
    words = ["qkit", "reproduce"]
    if args.out is not None:
        words += ["--out", args.out]
    if args.quick:
        words.append("--quick")
    words += ["--backend", args.backend]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    if args.shots is not None:
        words += ["--shots", str(args.shots)]
    words += ["--bootstrap", str(args.bootstrap)]
    if args.layout != "auto":
        words += ["--layout", args.layout]
    return " ".join(shlex.quote(w) for w in words)
