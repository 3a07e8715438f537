"""``qkit plot``: a figure from a sweep table (a written CSV/Parquet file or a stored sweep run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from qkit._files import check_new, save_figure
from qkit.cli._common import positive_int

FORMATS = (".png", ".pdf", ".svg")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="draw a sweep table: heat map over (S, a), else curves over one axis",
        description="Draw a sweep table (CSV or Parquet, or the run id or unique id prefix of a "
        "stored sweep): over the (S, a) plane a heat map of the estimate with the C = 0 and "
        "CHSH = 2 lines; over one axis (S, a or eta) the estimates with error bars over the "
        "exact prediction. Rows whose interval excludes the prediction are ringed.",
    )
    parser.add_argument(
        "table", metavar="TABLE", help="a .csv/.parquet sweep table, or a stored sweep's run id"
    )
    parser.add_argument(
        "--quantity",
        metavar="NAME",
        default=None,
        help="the estimated column to draw (default: eof for mix-up, yield for distill, "
        "mutual_information for channel)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="the figure, .png, .pdf or .svg (default: TABLE-QUANTITY.png in this folder)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--dpi", type=positive_int, default=150, help="resolution of a PNG (150)")
    parser.add_argument(
        "--store",
        metavar="PATH",
        default=None,
        help="results database for a run id (default: $QKIT_STORE or the user data dir)",
    )
    parser.set_defaults(func=_plot)


def _plot(args: argparse.Namespace) -> int:
    if not 10 <= args.dpi <= 1200:
        raise ValueError(f"--dpi must be in [10, 1200], got {args.dpi}")
    table = _resolve_table(args.table, args.store)
    out = _out_path(args, table)
    from qkit.figures.sweep import plot_sweep

    fig = plot_sweep(table, args.quantity)
    import matplotlib

    from qkit.figures._style import RC

    with matplotlib.rc_context(RC):  # atomic, never half a figure; a new file's usual mode
        save_figure(fig, out, overwrite=args.overwrite, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


def _resolve_table(text: str, store_path: str | None) -> Path:
    """The table file: ``text`` itself, or the output recorded by the stored sweep ``text``."""
    if not text.strip():
        raise ValueError("TABLE must name a .csv/.parquet file or a stored sweep's run id")
    path = Path(text).expanduser()
    if path.suffix.lower() in TABLE_SUFFIXES or path.exists():
        if not path.is_file():
            raise ValueError(f"table {text!r} not found")
        return path
    from qkit.store import ResultsStore, StoreNotFound

    try:
        store = ResultsStore(store_path, readonly=True)
    except StoreNotFound as exc:
        raise StoreNotFound(
            f"{text!r} is neither a table file nor a run id of a store: {exc}"
        ) from None
    try:
        run = store.get_run(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is neither a table file nor a stored run: {exc}") from None
    if run.kind != "sweep":
        raise ValueError(f"run {run.run_id} is a {run.kind} run, not a sweep; plot a sweep's table")
    recorded = (run.metadata or {}).get("out") or (run.estimate or {}).get("out")
    if not recorded:
        raise ValueError(f"sweep {run.run_id} records no output table")
    table = Path(recorded)
    if not table.is_file():
        state = "" if run.status == "done" else f" (the sweep is {run.status})"
        raise ValueError(f"the table {recorded} of sweep {run.run_id} is not found{state}")
    return table


def _out_path(args: argparse.Namespace, table: Path) -> Path:
    if args.out is None:
        name = f"{table.stem}-{args.quantity}.png" if args.quantity else f"{table.stem}.png"
        out = Path(name)
    else:
        if not args.out.strip():
            raise ValueError("--out must name a .png, .pdf or .svg file, got an empty path")
        out = Path(args.out).expanduser()
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"--out must end in {', '.join(FORMATS)}, got {str(out)!r}")
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; name a .png, .pdf or .svg file")
    check_new(out, overwrite=args.overwrite)  # a file or link there: refused before drawing
    if not out.parent.is_dir():
        raise ValueError(f"--out folder {out.parent} does not exist")
    return out
