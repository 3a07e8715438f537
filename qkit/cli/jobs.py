"""``qkit jobs``: submitted runs and their jobs; fetch finishes a run without resubmitting."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


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
    p.set_defaults(func=_fetch)
    for action in sub.choices.values():
        action.add_argument("--store", default=None, help="results database")
        action.add_argument("--json", action="store_true", help="print JSON")


def _store(args):
    """The results store; reading jobs never creates one (a missing store is a one-line error)."""
    from qkit.store import ResultsStore

    return ResultsStore(args.store, create=False)


def _run_id(store, ident: str) -> str:
    try:
        return store.get_job(ident).run_id
    except ValueError:
        return store.get_run(ident).run_id


def _list(args: argparse.Namespace) -> int:
    from qkit.store import ResultsStore, default_store_path

    path = args.store or default_store_path()
    jobs = ResultsStore(path).list_jobs(status=args.status) if Path(path).exists() else []
    rows = [
        {k: j.to_dict()[k] for k in ("job_id", "run_id", "backend", "status", "updated_at")}
        for j in jobs
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no jobs recorded")
        return 0
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    print("  ".join(k.upper().ljust(widths[k]) for k in widths))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in widths))
    return 0


def _status(args: argparse.Namespace) -> int:
    from qkit.backends import get_backend

    store = _store(args)
    run_id = _run_id(store, args.id)
    out = []
    for job in store.jobs_for_run(run_id):
        status = job.status
        if status not in ("DONE", "ERROR", "CANCELLED"):
            status = get_backend(job.backend).retrieve(job.job_id).status()
            store.update_job(job.job_id, status)
        out.append(
            {"run_id": run_id, "job_id": job.job_id, "backend": job.backend, "status": status}
        )
    if not out:
        raise ValueError(f"run {run_id} has no recorded jobs")
    if args.json:
        print(json.dumps(out))
    else:
        for row in out:
            print(f"{row['job_id']}  {row['backend']}  {row['status']}  (run {row['run_id']})")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from qkit import runner
    from qkit.cli.run import finish
    from qkit.result import jsonable

    store = _store(args)
    result = runner.fetch(_run_id(store, args.id), store, wait=not args.no_wait)
    if not args.json and "prediction" not in result.to_dict():
        print(f"run {result.run_id} is still running; try again later")
        return 0
    args.no_wait = False
    return (
        finish(args, result)
        if not args.json
        else print(json.dumps(jsonable(result.to_dict()))) or 0
    )
