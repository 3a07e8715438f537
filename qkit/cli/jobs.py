"""``qkit jobs``: submitted runs and their jobs; fetch finishes a run without resubmitting.

``list`` and ``status`` only read the store (opened read-only: they never create or change
it); ``fetch`` records what it finds, and removes a local job's folder once its run is stored.
"""

from __future__ import annotations

import argparse
import json
import sys

from qkit.cli._common import fail, print_json


def _seconds(text: str) -> float:
    """argparse ``type`` for a timeout: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:40]!r}") from None
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1e9 seconds, got {text[:40]}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="cloud and detached jobs: list, status, fetch")
    sub = parser.add_subparsers(dest="jobs_command", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("list", help="recorded jobs, newest first")
    p.add_argument("--status", default=None, help="QUEUED, RUNNING, DONE, ERROR or CANCELLED")
    p.set_defaults(func=_list)
    p = sub.add_parser("status", help="ask the backend for a job's status")
    p.add_argument("id", metavar="ID", help="run id (or unique prefix) or job id")
    p.set_defaults(func=_status)
    p = sub.add_parser("fetch", help="re-attach to a run's jobs, wait, analyse and store")
    p.add_argument("id", metavar="ID", help="run id (or unique prefix) or job id")
    p.add_argument("--no-wait", action="store_true", help="only fetch if the job is done")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="wait at most this long for the jobs (default: until they finish)",
    )
    p.set_defaults(func=_fetch)
    for action in sub.choices.values():
        action.add_argument("--store", default=None, help="results database")
        action.add_argument("--json", action="store_true", help="print JSON")


def _store(args, *, readonly: bool):
    """The results store; the jobs commands never create one (a missing one is an error)."""
    from qkit.store import ResultsStore

    return ResultsStore(args.store, create=False, readonly=readonly)


def _run_id(store, ident: str) -> str:
    try:
        return store.get_job(ident).run_id
    except ValueError:
        return store.get_run(ident).run_id


def _list(args: argparse.Namespace) -> int:
    from qkit.store import StoreNotFound

    unreadable: list[str] = []
    missing: str | None
    try:
        jobs = _store(args, readonly=True).list_jobs(status=args.status, unreadable=unreadable)
    except StoreNotFound as exc:
        jobs, missing = [], str(exc)
    else:
        missing = None
    rows = [
        {k: j.to_dict()[k] for k in ("job_id", "run_id", "backend", "status", "updated_at")}
        for j in jobs
    ]
    if args.json:
        print(json.dumps(rows, allow_nan=False))
    elif not rows:
        print(f"no jobs recorded: {missing}" if missing else "no jobs recorded")
    else:
        widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
        print("  ".join(k.upper().ljust(widths[k]) for k in widths))
        for r in rows:
            print("  ".join(str(r[k]).ljust(widths[k]) for k in widths))
    sys.stdout.flush()
    for line in unreadable:
        code = fail(line)
    return code if unreadable else 0


def _status(args: argparse.Namespace) -> int:
    from qkit.backends import get_backend

    store = _store(args, readonly=True)
    run_id = _run_id(store, args.id)
    out = []
    for job in store.jobs_for_run(run_id):
        status = job.status
        if status not in ("DONE", "ERROR", "CANCELLED"):
            status = get_backend(job.backend).retrieve(job.job_id).status()
        out.append(
            {"run_id": run_id, "job_id": job.job_id, "backend": job.backend, "status": status}
        )
    if not out:
        raise ValueError(f"run {run_id} has no recorded jobs")
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        for row in out:
            print(f"{row['job_id']}  {row['backend']}  {row['status']}  (run {row['run_id']})")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from qkit import runner
    from qkit.cli.run import finish

    store = _store(args, readonly=False)
    run_id = _run_id(store, args.id)
    try:
        result = runner.fetch(run_id, store, wait=not args.no_wait, timeout=args.timeout)
    except TimeoutError:
        result = None
    if result is None or "prediction" not in result.to_dict():
        if not args.json:
            print(f"run {run_id} is still running; try again later")
        else:
            print_json({"run_id": run_id, "status": "running"} if result is None else result)
        return 0
    if args.json:
        print_json(result)
        return 0
    args.no_wait = False
    return finish(args, result)
