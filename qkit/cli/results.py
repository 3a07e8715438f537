"""``qkit results``: read back the runs kept in the results store; export and import them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qkit.cli._common import fail, positive_int, print_json

_LIST_LIMIT = 20
_MAX_LIMIT = 1_000_000_000


def _limit(text: str) -> int:
    """argparse ``type`` of ``--limit``: a whole number in [1, 1e9] (SQLite takes 64 bits)."""
    value = positive_int(text)
    if value > _MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at most {_MAX_LIMIT}, got {text[:40]}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("results", help="list and show stored runs")
    sub = parser.add_subparsers(dest="results_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("list", help="stored runs, newest first")
    p.add_argument("--kind", help="only runs of this kind (mixup, channel, sweep, ...)")
    p.add_argument(
        "--status", choices=("submitted", "running", "done", "failed"), help="only this status"
    )
    p.add_argument(
        "--limit",
        type=_limit,
        default=_LIST_LIMIT,
        help=f"at most N runs, 1 to {_MAX_LIMIT} ({_LIST_LIMIT})",
    )
    p.set_defaults(func=_list)

    p = sub.add_parser("show", help="one run in full (id or unique id prefix)")
    p.add_argument("run_id", metavar="RUN_ID")
    from qkit.cli.run import add_concurrence_below

    add_concurrence_below(p)
    p.set_defaults(func=_show)

    p = sub.add_parser("export", help="one run as a self-contained JSON document")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--out", metavar="FILE", required=True, help="the JSON file to write")
    p.add_argument(
        "--overwrite", action="store_true", help="replace FILE if it exists (or is a link)"
    )
    p.set_defaults(func=_export)

    p = sub.add_parser("import", help="add an exported run to a store")
    p.add_argument("file", metavar="FILE", help="a file written by 'qkit results export'")
    p.set_defaults(func=_import)

    for action in sub.choices.values():
        action.add_argument(
            "--store",
            metavar="PATH",
            help="results database (default: $QKIT_STORE or user data dir)",
        )
        action.add_argument("--json", action="store_true", help="print JSON")


def _open(path: str | None):
    """The store, read-only: reading never creates, migrates or changes it."""
    from qkit.store import ResultsStore

    return ResultsStore(path, readonly=True)


def _list(args: argparse.Namespace) -> int:
    from qkit.store import StoreNotFound

    try:
        store = _open(args.store)
    except StoreNotFound as exc:
        # Nothing has been run yet: not an error for listing. A broken store is one.
        print("[]" if args.json else exc)
        return 0
    unreadable: list[str] = []
    runs = store.list_runs(args.kind, status=args.status, limit=args.limit, unreadable=unreadable)
    if args.json:
        print_json([{k: v for k, v in run.to_dict().items() if k != "counts"} for run in runs])
    elif not runs and not unreadable:
        print(f"no runs in {store.path}")
    elif runs:
        _table(runs)
    sys.stdout.flush()
    for line in unreadable:  # the other runs are listed; each bad one is named
        code = fail(line)
    return code if unreadable else 0


def _export(args: argparse.Namespace) -> int:
    from qkit._files import check_new, write_atomic
    from qkit.result import jsonable
    from qkit.store import StoreNotFound

    check_new(args.out, overwrite=args.overwrite)  # refused before the store is read
    try:
        store = _open(args.store)
    except StoreNotFound as exc:
        raise StoreNotFound(f"no run {args.run_id!r}: {exc}") from None
    document = store.export_run(args.run_id)
    text = json.dumps(jsonable(document), allow_nan=False, separators=(",", ":"))
    write_atomic(args.out, text + "\n", overwrite=args.overwrite)  # OSError: exit 3
    run_id = document["run"]["run_id"]
    if args.json:
        print(json.dumps({"run_id": run_id, "out": args.out, "bytes": len(text) + 1}))
    else:
        print(f"run {run_id} written to {args.out} ({len(text) + 1} bytes)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from qkit.store import ResultsStore
    from qkit.store._document import check, read

    document = read(args.file)  # within the size and nesting limits; OSError: exit 3
    check(document)  # the whole document, before a store is opened or created
    store = ResultsStore(args.store)
    run_id, added = store.import_run(document)
    if args.json:
        print(json.dumps({"run_id": run_id, "added": added, "store": str(store.path)}))
    elif added:
        print(f"run {run_id} imported into {store.path}")
    else:
        print(f"run {run_id} is already in {store.path} with the same content")
    return 0


def _table(runs: list) -> None:
    rows = [
        (
            run.run_id,
            run.kind,
            run.status,
            run.created_at[:19].replace("T", " "),
            _short(run.backend),
            _params_summary(run.params),
        )
        for run in runs
    ]
    header = ("RUN_ID", "KIND", "STATUS", "CREATED (UTC)", "BACKEND", "PARAMS")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def _show(args: argparse.Namespace) -> int:
    from qkit.store import StoreNotFound

    try:
        store = _open(args.store)
    except StoreNotFound as exc:
        raise StoreNotFound(f"no run {args.run_id!r}: {exc}") from None
    run = store.get_run(args.run_id)
    jobs = store.jobs_for_run(run.run_id)
    if args.json:
        record = run.to_dict()
        record["jobs"] = [job.to_dict() for job in jobs]
        print_json(record)
        return 0
    print(f"run {run.run_id}  ({run.kind}, {run.status})")
    _field("created", run.created_at)
    _field("finished", run.finished_at or "-")
    _field("backend", _short(run.backend))
    _field("seeds", _short(run.seeds))
    _section("params", run.params)
    _section("prediction", run.prediction)
    if args.concurrence_below is not None and run.kind == "mixup":
        from dataclasses import replace

        from qkit.cli.run import retest_concurrence

        record = {"params": run.params, "estimate": dict(run.estimate)}
        retest_concurrence(record, run.counts, args.concurrence_below)
        run = replace(run, estimate=record["estimate"])
    _section("estimate", run.estimate)
    _tests(run.estimate)
    _field("counts", _counts_summary(run.counts))
    size = store.provenance_size(run.run_id)
    _field("replay", f"provenance kept ({size} bytes): qkit replay {run.run_id}" if size else "-")
    if jobs:
        print("jobs")
        for job in jobs:
            print(f"  {job.job_id}  {job.status}  {job.backend}  updated {job.updated_at[:19]}")
    _section("metadata", run.metadata)
    if run.versions:
        _field("versions", ", ".join(f"{k} {v}" for k, v in run.versions.items()))
    return 0


def _field(name: str, text: str) -> None:
    print(f"{name:<10} {text}")


def _section(name: str, value: Any) -> None:
    if value in (None, {}, []):
        _field(name, "-")
        return
    if not isinstance(value, dict):
        _field(name, _short(value))
        return
    print(name)
    width = max(len(str(k)) for k in value)
    for key, item in value.items():
        print(f"  {str(key):<{width}}  {_format_value(item)}")


def _tests(estimate: Any) -> None:
    """The one-sided tests of the estimates (entanglement, CHSH violation), if any."""
    from qkit.cli.run import _test_lines

    if not isinstance(estimate, dict):
        return
    lines = [
        line
        for key, value in estimate.items()
        if isinstance(value, dict)
        for line in _test_lines(key, value)
    ]
    if lines:
        print(f"tests      {'claim':<18} {'95% bound':>12} {'p-value':>12}  significance")
        for line in lines:
            print(f"         {line}")


def _format_value(value: Any) -> str:
    """``v [lo, hi]`` for intervals, ``v +- s`` for {value, stderr}, else compact JSON."""
    if isinstance(value, dict) and "value" in value:
        if value.get("ci_low") is not None and "ci_high" in value:
            text = f"{_num(value['value'])} [{_num(value['ci_low'])}, {_num(value['ci_high'])}]"
            if value.get("at_boundary"):
                text += "  (at a physical bound: read it as one-sided)"
            return text
        if "stderr" in value:
            return f"{_num(value['value'])} +- {_num(value['stderr'])}"
    if isinstance(value, float):
        return _num(value)
    return _short(value)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def _short(value: Any, width: int = 60) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 3] + "..."


def _params_summary(params: dict[str, Any]) -> str:
    return _short(" ".join(f"{k}={_format_value(v)}" for k, v in (params or {}).items()), 50)


def _counts_summary(counts: Any) -> str:
    """Shape and total shots of nested count lists/dicts, without printing them all."""
    if counts is None:
        return "-"
    total: float = 0
    leaves = 0

    def walk(node: Any) -> None:
        nonlocal total, leaves
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, int | float):
            total += node
            leaves += 1

    walk(counts)
    keys = (
        f" ({', '.join(map(str, counts))})" if isinstance(counts, dict) and len(counts) <= 6 else ""
    )
    return f"{leaves} cells, {total:g} shots{keys}; full data with --json"
