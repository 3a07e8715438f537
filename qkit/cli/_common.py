"""Helpers shared by the CLI commands: one-line errors, number parsing, output.

Only the standard library at import time: every parser is built from these helpers, and
``qkit --help`` must not wait for numpy.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, NoReturn

from qkit.options import non_negative_int, number, positive_int  # noqa: F401 - the CLI's types


def fail(message: str, code: int = 2) -> int:
    """Print ``qkit: error: message`` on one line (at most 400 characters); return ``code``."""
    text = " ".join(str(message).split())
    if len(text) > 400:
        text = text[:397] + "..."
    print(f"qkit: error: {text}", file=sys.stderr)
    return code


class QkitArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage dump) and exit 2.

    Values that start with a minus and a digit are values, not flags: negative numbers, and
    ranges and lists such as ``--eta -0.1:1:3`` or ``--eta -1e-3,0.5`` (no qkit flag looks
    like a number).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d[\d.eE+\-:,_]*$")

    def error(self, message: str) -> NoReturn:
        sys.exit(fail(f"{self.prog}: {message}"))


def print_json(value: Any) -> None:
    """Print ``value`` as one line of strict JSON (numpy values plain, NaN as null)."""
    from qkit.result import jsonable

    print(json.dumps(jsonable(value), allow_nan=False))


def emit(record: dict[str, Any], as_json: bool, title: str = "") -> None:
    """Print ``record`` as one JSON object, or as a readable two-column table."""
    from qkit.result import jsonable

    if as_json:
        print_json(record)
        return
    record = jsonable(record)
    if title:
        print(title)
    width = max(len(k) for k in record)
    for key, value in record.items():
        if isinstance(value, float):
            text = f"{value:.10g}"
        elif value is None:
            text = "-"
        else:
            text = str(value)
        print(f"  {key:<{width}}  {text}")


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser``, or its subcommands' parsers (e.g. each experiment's under ``qkit run``)."""
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        return [parser]
    children = {id(p): p for a in nested for p in a.choices.values()}.values()
    return [leaf for child in children for leaf in _leaf_parsers(child)]


def add_consent_flags(parser: argparse.ArgumentParser) -> None:
    """``--yes``, ``--max-shots`` and ``--quiet`` on every command that may submit to a cloud
    backend (the commands that may also take long)."""
    for leaf in _leaf_parsers(parser):
        known = leaf._option_string_actions
        if "--yes" not in known:
            leaf.add_argument(
                "--yes",
                action="store_true",
                help="submit to a paid (cloud) backend without asking (the cost is still shown)",
            )
        if "--max-shots" not in known:
            leaf.add_argument(
                "--max-shots",
                type=positive_int,
                metavar="N",
                help="refuse a cloud submission of more than N shots"
                " (default: $QKIT_MAX_SHOTS, or max_shots in the qkit config file)",
            )
        if "--quiet" not in known:
            leaf.add_argument(
                "--quiet",
                "-q",
                action="store_true",
                help="no progress on stderr (no live line, no start and end lines)",
            )
