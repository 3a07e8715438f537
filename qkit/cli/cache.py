"""``qkit cache``: the on-disk cache of device calibrations (:mod:`qkit.backends._cache`).

``info`` shows where it is and how much it holds; ``clear`` deletes it (only the ``devices``
folder qkit writes there). Nothing in the cache is ever needed: a cleared cache only makes the
next run on each device slower.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache", help="the device cache (layouts, transpilations, calibrations): info, clear"
    )
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION")
    sub.required = True
    for name, text in (
        ("info", "where the cache is and what it holds"),
        ("clear", "delete every cached device (the next run on a device rebuilds it)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=_action, action=name)


def _action(args: argparse.Namespace) -> int:
    from qkit.backends import _cache

    summary = _cache.clear() if args.action == "clear" else _cache.info()
    if args.json:
        print(json.dumps({"action": args.action, **summary}))
        return 0
    size = f"{summary['devices']} device(s), {summary['files']} file(s), {summary['bytes']} bytes"
    verb = "cleared" if args.action == "clear" else "holds"
    print(f"{summary['path']}: {verb} {size}")
    return 0
