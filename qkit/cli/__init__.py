"""The ``qkit`` command line.

Each top-level command lives in its own module here and exposes
``register(subparsers) -> None``; the parser sets ``func(args) -> int`` on its namespace.
Bad input anywhere is a one-line ``qkit: error: ...`` on stderr and exit code 2.

Building the parser imports every command module, so those modules import only the standard
library and :mod:`qkit.cli._common` at top level; numpy, qiskit, Aer, matplotlib and the
experiment code are imported inside the handlers. ``qkit --help``, ``--version``, every
``--help`` and ``qkit theory`` therefore never load the simulator stack
(``tests/test_cli_startup.py`` checks this; ``benchmarks/startup.py`` times it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from qkit.cli._common import QkitArgumentParser, fail

# Modules under qkit.cli that provide a top-level command, in help order.
COMMAND_MODULES = ["theory", "run", "results", "jobs", "sweep", "reproduce", "export_circuits"]


class _VersionAction(argparse.Action):
    """``--version``, reading the package metadata only when asked (it costs ~30 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from qkit import __version__

        print(f"qkit {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = QkitArgumentParser(
        prog="qkit",
        description="Experiment kit for quantum communication (mix-up, correlated noise).",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"qkit.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("qkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
