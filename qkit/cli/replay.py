"""``qkit replay``: rerun a stored run from the store alone and compare the counts."""

from __future__ import annotations

import argparse
import json

from qkit.cli._common import non_negative_int, print_json

# Exit code of a replay whose counts differ from the stored ones on a deterministic backend
# (0: they match, or the backend is not seeded; 2: bad input; see qkit.cli).
EXIT_MISMATCH = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="rerun a stored run from its provenance and compare the counts",
        description=(
            "Rerun a stored run from the store alone (its circuits, values, shots, noise model "
            "and seeds). On aer and fake devices with the same seed the counts must match "
            f"exactly (exit {EXIT_MISMATCH} if not); braket:local and cloud devices are "
            "compared as distributions. With --backend another name the replay is stored as "
            "a run of kind 'replay'."
        ),
    )
    parser.add_argument("run_id", metavar="RUN_ID", help="run id or unique id prefix")
    parser.add_argument("--backend", metavar="NAME", help="rerun there (default: the run's own)")
    parser.add_argument(
        "--source",
        choices=("auto", "qpy", "qasm3"),
        default="auto",
        help="circuit form to run: QPY (exact) or OpenQASM 3 (default: QPY if readable)",
    )
    parser.add_argument(
        "--row",
        type=non_negative_int,
        default=None,
        help="replay this row (from 0) of a sampled sweep (RUN_ID is the sweep's run)",
    )
    from qkit import options

    options.add_flags(parser, ("store",), no_store=False)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=_replay)


def _replay(args: argparse.Namespace) -> int:
    from qkit import replay
    from qkit.store import ResultsStore, StoreNotFound

    try:
        # read-only unless the replay is stored (on another backend)
        store = ResultsStore(args.store, readonly=args.backend is None, create=False)
    except StoreNotFound as exc:
        raise StoreNotFound(f"no run {args.run_id!r}: {exc}") from None
    outcome = replay.replay(
        store, args.run_id, backend=args.backend, source=args.source, row=args.row
    )
    if args.json:
        print_json(outcome.to_dict(with_counts=not outcome.deterministic))
    else:
        _print(outcome)
    return EXIT_MISMATCH if outcome.match is False else 0


def _print(outcome) -> None:
    print(
        f"replay of run {outcome.run_id} ({outcome.engine}, stored on "
        f"{outcome.original_backend}) on {outcome.backend} from {outcome.source}"
    )
    if outcome.deterministic:
        if outcome.match:
            what = f"{outcome.pubs} PUBs" if outcome.engine == "sampler" else "all settings"
            print(f"  counts match exactly ({what})")
        else:
            where = f" (PUBs {outcome.mismatched_pubs[:10]})" if outcome.mismatched_pubs else ""
            print(f"  counts DO NOT match{where}")
    else:
        print(
            f"  not deterministic ({outcome.backend} is not seeded): compared as distributions, "
            f"chi2 = {outcome.chi2:.4g} on {outcome.dof} dof, p = {outcome.p_value:.3g}"
        )
        for i, (old, new) in enumerate(zip(outcome.stored_counts, outcome.counts, strict=False)):
            if i >= 5:
                print(f"  ... {len(outcome.counts) - 5} more PUBs (--json for all)")
                break
            print(f"  PUB {i}: stored {_short(old)}  new {_short(new)}")
    if outcome.replay_run_id:
        print(f"  stored as run {outcome.replay_run_id} (kind replay)")


def _short(counts, width: int = 60) -> str:
    text = json.dumps(counts, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."
