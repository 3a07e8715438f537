"""The ``qkit`` command line.

Each top-level command lives in its own module here and exposes
``register(subparsers) -> None``; the parser sets ``func(args) -> int`` on its namespace.
Every expected failure is one line ``qkit: error: ...`` on stderr and a documented exit code:

====  ==========================================================================================
0     success
1     a bug in qkit: the traceback is printed, with a request to report it
2     bad input: an option out of range, an unknown name, a store or folder that is not qkit's
      (or broken), a backend whose package or credentials are missing, an output file that
      exists (without ``--overwrite``), a paid submission without ``--yes`` or over the shot
      budget, an import that is not a qkit export
3     the environment failed: the file system (permissions, "the disk is full", names),
      SQLite, out of memory, a closed standard output, a timeout
4     ``qkit replay`` on a deterministic backend did not reproduce the stored counts
130   interrupted (Ctrl-C); a durable run keeps running and says how to fetch it
141   the reader of the output went away (``qkit ... | head``)
====  ==========================================================================================

A ``ValueError`` raised by qkit's own checks is bad input; one raised inside another library
(NumPy, Qiskit) means qkit let bad input through or has a bug, and is shown as a bug.

Building the parser imports every command module, so those modules import only the standard
library and :mod:`qkit.cli._common` at top level; numpy, qiskit, Aer, matplotlib and the
experiment code are imported inside the handlers. ``qkit --help``, ``--version``, every
``--help`` and ``qkit theory`` therefore never load the simulator stack
(``tests/test_cli_startup.py`` checks this; ``benchmarks/startup.py`` times it). The
subcommands of ``qkit run`` and ``qkit sweep``, one per registered experiment (installed
packages' entry points included), are added only when those commands are parsed
(:mod:`qkit.cli._experiments`).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import sys
from collections.abc import Sequence
from typing import NoReturn

from qkit import consent
from qkit.cli._common import QkitArgumentParser, add_consent_flags, fail
from qkit.cli._experiments import fill_all

# Modules under qkit.cli that provide a top-level command, in help order.
COMMAND_MODULES = [
    "theory",
    "run",
    "results",
    "jobs",
    "replay",
    "sweep",
    "plot",
    "reproduce",
    "survey",
    "export_circuits",
    "cache",
]
SUBMITTING_COMMANDS = ("run", "sweep", "reproduce", "survey", "replay")
"""Commands that may submit to a cloud backend: they take ``--yes`` and ``--max-shots``."""
EXIT_BUG, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 3, 130, 141


class _VersionAction(argparse.Action):
    """``--version``, reading the package metadata only when asked (it costs ~30 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from qkit import __version__

        print(f"qkit {__version__}")
        parser.exit()


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The ``qkit`` parser; ``lazy``: experiment subcommands added only when used (:func:`main`)."""
    parser = QkitArgumentParser(
        prog="qkit",
        description="Experiment kit for quantum communication (mix-up, correlated noise).",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"qkit.cli.{name}").register(subparsers)
    if not lazy:
        fill_all(subparsers)
    for name in SUBMITTING_COMMANDS:  # run and sweep: on each experiment's parser
        add_consent_flags(subparsers.choices[name])
    return parser


def console() -> NoReturn:
    """The ``qkit`` command: :func:`main` in a process of its own, then exit.

    A command is one short process, so the cyclic garbage collector is told so: it runs
    rarely while the scientific stack is imported (a first-generation threshold of 50,000
    allocations instead of 700) and not over the whole heap on the way out (``gc.freeze``).
    That is 0.1-0.2 s of a 1.3 s second run on a fake device (``benchmarks/device.py``), with
    the same output. :func:`main` itself leaves the collector alone (tests call it in-process).
    """
    gc.set_threshold(50_000, 10, 10)
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    closed = _closed_stdout()
    if closed:
        return fail(closed, EXIT_ENVIRONMENT)
    parser = build_parser(lazy=True)
    args = parser.parse_args(argv)
    from qkit import progress

    progress.configure(
        quiet=bool(getattr(args, "quiet", False)), lines=not getattr(args, "json", 0)
    )
    answer = consent.Consent(
        yes=bool(getattr(args, "yes", False)), max_shots=getattr(args, "max_shots", None), ask=True
    )
    try:
        # the user's answer is handed down to the one place cloud submissions pass
        with consent.given(answer), progress.command(*progress.estimate(args)):
            code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("qkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - sorted into expected failures and bugs below
        return _report(exc)


def _report(exc: Exception) -> int:
    """One line and an exit code for an expected failure; the traceback for a bug.

    Imports nothing new before it knows the failure (under ``ulimit -v`` loading a module
    can itself run out of memory).
    """
    if isinstance(exc, MemoryError | ImportError) and (
        isinstance(exc, MemoryError) or _out_of_memory(str(exc))
    ):
        detail = str(exc) or type(exc).__name__
        what = "loading a library" if isinstance(exc, ImportError) else "a memory limit or"
        what += "" if isinstance(exc, ImportError) else " a request too large for this machine"
        return fail(f"out of memory ({what}: {detail})", EXIT_ENVIRONMENT)
    sqlite = sys.modules.get("sqlite3")
    database_error = sqlite.Error if sqlite is not None else OSError
    if _disk_full(exc):
        text = _describe(exc)
        text = text if "disk is full" in text else f"the disk is full ({text})"
        return fail(text, EXIT_ENVIRONMENT)
    if isinstance(exc, OSError | database_error | TimeoutError):
        return fail(_describe(exc), EXIT_ENVIRONMENT)
    if isinstance(exc, ValueError) and (_is_qkit_error(exc) or _raised_by_qkit(exc)):
        return fail(str(exc), EXIT_USAGE)
    import traceback

    traceback.print_exception(exc)
    print(
        "qkit: this is a bug in qkit; please report it with the command and the traceback above",
        file=sys.stderr,
    )
    return EXIT_BUG


def _disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT, or SQLite's and the store's words for it (see :mod:`qkit._files`)."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "disk is full" in str(exc)


def _out_of_memory(text: str) -> bool:
    return any(
        words in text
        for words in ("failed to map segment", "Cannot allocate memory", "out of memory")
    )


def _is_qkit_error(exc: Exception) -> bool:
    """qkit's own error types (a broken store, a backend that cannot be reached)."""
    return any(cls.__module__.startswith("qkit.") for cls in type(exc).__mro__)


def _describe(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc or 'the request is too large for this machine'})"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{exc}" if str(exc) else type(exc).__name__


def _raised_by_qkit(exc: BaseException) -> bool:
    """Whether the innermost frame that raised ``exc`` is qkit's own code."""
    tb = exc.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "")
    return module == "qkit" or module.startswith("qkit.") or module in ("argparse", "json")


def _closed_stdout() -> str:
    """Why output cannot be written (stdout closed), or "" — checked before anything runs.

    Also lets output show file names that are not valid UTF-8 (as ``\\xff``) instead of failing.
    """
    import os

    if sys.stdout is None:
        return "standard output is closed; nothing was run (redirect it, e.g. >/dev/null)"
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return ""  # a stream without a descriptor (a test's capture): it can be written
    try:
        os.fstat(fd)
    except OSError:
        return "standard output is closed; nothing was run (redirect it, e.g. >/dev/null)"
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    return ""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
