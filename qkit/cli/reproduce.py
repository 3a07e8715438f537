"""``qkit reproduce``: both papers' experiments, figures and a report in one command."""

from __future__ import annotations

import argparse
import shlex

from qkit.cli._common import positive_int


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
    options.add_flags(parser, ("backend", "seed", "n_boot", "confidence", "layout", "store"))
    parser.add_argument(
        "--shots",
        type=_shots,
        default=None,
        help="shots per setting (paper A) and per letter (paper B); default by mode",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from qkit.reproduce import reproduce

    if args.store is not None and args.no_store:
        raise ValueError("--store and --no-store exclude each other")
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
        n_boot=args.n_boot,
        confidence=args.confidence,
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
    words += ["--bootstrap", str(args.n_boot)]
    if args.layout != "auto":
        words += ["--layout", args.layout]
    return " ".join(shlex.quote(w) for w in words)
