"""Commands with one subcommand per registered experiment (``qkit run``, ``qkit sweep``).

The subcommands are every name of :func:`qkit.registry.names`: the built-in experiments and
those installed packages declare in the entry-point group ``qkit.experiments``. Listing them
imports the experiments (numpy, the user's package), so the list is made only when the command
itself is parsed or its help printed: ``qkit --help``, ``qkit theory`` and the other commands
never read the entry points (``tests/test_cli_startup.py``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from qkit.cli._common import QkitArgumentParser, fail

AddExperiment = Callable[[argparse._SubParsersAction, Any], None]
"""``add(subparsers, experiment)``: add the subcommand of one experiment."""


class ExperimentsParser(QkitArgumentParser):
    """A command parser that adds its experiment subcommands when first used."""

    def __init__(self, *args: Any, add_experiment: AddExperiment | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._add_experiment = add_experiment

    def fill(self) -> None:
        """Add one subcommand per registered experiment (once)."""
        add, self._add_experiment = self._add_experiment, None
        if add is None:
            return
        from qkit import registry

        sub = self.add_subparsers(dest="experiment", metavar="EXPERIMENT")
        sub.required = True
        for name in registry.names():
            try:
                experiment = registry.get(name)
            except ValueError as exc:  # a broken package must not break the other experiments
                _add_broken(sub, name, str(exc))
                continue
            add(sub, experiment)

    def parse_known_args(self, args=None, namespace=None):
        self.fill()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.fill()
        return super().format_help()


def add_command(
    subparsers: argparse._SubParsersAction, name: str, help: str, add: AddExperiment
) -> ExperimentsParser:
    """Add command ``name`` whose subcommands ``add`` makes, one per registered experiment."""
    return _add_parser(subparsers, ExperimentsParser, name, help=help, add_experiment=add)


def fill_all(subparsers: argparse._SubParsersAction) -> None:
    """Add the experiment subcommands of every command now (the docs, the CLI tests)."""
    for parser in subparsers.choices.values():
        if isinstance(parser, ExperimentsParser):
            parser.fill()


class _BrokenParser(QkitArgumentParser):
    """The subcommand of an experiment that cannot be loaded: any arguments, one error."""

    def __init__(self, *args: Any, reason: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.set_defaults(func=lambda args: fail(reason))

    def parse_known_args(self, args=None, namespace=None):
        if args and args[0] in ("-h", "--help"):
            return super().parse_known_args(args, namespace)
        return super().parse_known_args([], namespace)


def _add_broken(sub: argparse._SubParsersAction, name: str, reason: str) -> None:
    _add_parser(sub, _BrokenParser, name, help=f"(cannot be loaded: {reason})", reason=reason)


def _add_parser(subparsers: argparse._SubParsersAction, cls: type, name: str, **kwargs: Any):
    """``subparsers.add_parser`` with a parser class of our choice (it has no such argument)."""
    parser_class = subparsers._parser_class
    subparsers._parser_class = cls
    try:
        return subparsers.add_parser(name, **kwargs)
    finally:
        subparsers._parser_class = parser_class
