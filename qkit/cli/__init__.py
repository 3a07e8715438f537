"""The ``qkit`` command line.

Each top-level command lives in its own module here and exposes
``register(subparsers) -> None``; the parser sets ``func(args) -> int`` on its namespace.
Bad input anywhere is a one-line ``qkit: error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from qkit.cli._common import QkitArgumentParser, UsageError, fail

# Modules under qkit.cli that provide a top-level command, in help order.
COMMAND_MODULES = [
    "theory",
    "run",
    "results",
    "jobs",
    "replay",
    "sweep",
    "reproduce",
    "export_circuits",
]


def build_parser() -> argparse.ArgumentParser:
    parser = QkitArgumentParser(
        prog="qkit",
        description="Experiment kit for quantum communication (mix-up, correlated noise).",
    )
    from qkit import __version__

    parser.add_argument("--version", action="version", version=f"qkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"qkit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"qkit.cli.{name}":
                continue  # command not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, UsageError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("qkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
