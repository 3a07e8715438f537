"""Random strings and numbers at every flag of every command: one line, never a traceback.

The parser is walked for every command and its options; each option of a cheap, working
baseline command gets values drawn by Hypothesis (huge, negative, NaN, inf, empty, unicode,
100,000 characters, ``--``, paths). Whatever it is given, ``qkit`` exits 0, 2 (bad input) or
3 (the environment), with at most one line on stderr when it fails, and never a traceback.
An example that is still working after a few seconds was accepted (a huge but valid request)
and is stopped there.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import itertools
import os
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qkit.cli import build_parser, main

pytestmark = pytest.mark.slow

SECONDS = 8  # per example: longer means a valid request that is being worked on

# Everything the commands import lazily, imported now: an example stopped by the alarm must
# not leave a half-imported module behind for the next one.
for _module in ("qkit.runner", "qkit.sweep", "qkit.sweep.runner", "qkit.reproduce",
                "qkit.survey", "qkit.export", "qkit.store", "qkit.figures", "qiskit_aer",
                "qkit.backends", "qkit.mixup.experiment", "qkit.channel.experiment",
                "qkit.distill"):  # fmt: skip
    importlib.import_module(_module)
_counter = itertools.count()


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*path, name))


def _baseline(path: tuple[str, ...]) -> list[str] | None:
    """A cheap command that works (in a fresh folder with its own store), per leaf.

    Seeded, so that a failure is the same failure on the next run (an unseeded ``reproduce``
    with ten shots once met a rare resample that the seed it drew exposed).
    """
    n = next(_counter)
    points = {
        "mixup": ["--success", "0.9", "--amplitude", "0.7"],
        "distill": ["--success", "0.9", "--amplitude", "0.7"],
        "channel": ["--eta", "0.5"],
        "chain": ["--links", "2", "--success", "0.9", "--amplitude", "0.7"],
    }
    match path:
        case ("theory", "mixup" | "distill"):
            return [*path, "--success", "0.9", "--amplitude", "0.7"]
        case ("theory", "mixup-optimum" | "distill-optimum"):
            return [*path, "--success", "0.9"]
        case ("theory", "mixup-threshold"):
            return [*path, "--amplitude", "0.7"]
        case ("theory", "channel"):
            return [*path, "--eta", "0.5"]
        case ("theory", "chain"):
            return [*path, *points["chain"]]
        case ("run", kind):
            return [
                *path,
                *points[kind],
                "--engine",
                "exact",
                "--shots",
                "10",
                "--intervals",
                "none",
                "--seed",
                "7",
            ]
        case ("sweep", kind):
            return [
                *path, *points[kind], "--engine", "exact", "--shots", "10", "--intervals", "none",
                "--seed", "7", "--out", f"sweep{n}.csv",
            ]  # fmt: skip
        case ("results", "list") | ("jobs", "list") | ("cache", "info") | ("cache", "clear"):
            return list(path)
        case ("results", "show") | ("jobs", "status") | ("jobs", "fetch") | ("replay",):
            return [*path, "nope"]
        case ("results", "export"):
            return [*path, "nope", "--out", f"export{n}.json"]
        case ("results", "import"):
            return [*path, os.devnull]  # not a qkit export: bad input
        case ("reproduce",):
            return [
                "reproduce", "--quick", "--shots", "10", "--bootstrap", "10", "--seed", "7",
                "--out", f"r{n}",
            ]  # fmt: skip
        case ("survey",):
            return ["survey", "--backend", "fake:lima", "--shots", "100", "--seed", "7"]
        case ("export-circuits",):
            return ["export-circuits", "--out", f"circuits{n}"]
        case ("plot",):
            return ["plot", "--out", f"plot{n}.png", _plot_table(n)]
    return None


def _plot_table(n: int) -> str:
    """A two-row mix-up sweep table in the current folder, for ``qkit plot``."""
    name = f"table{n}.csv"
    with open(name, "w") as handle:
        handle.write(
            "success,amplitude,predicted_eof,eof,eof_ci_low,eof_ci_high\n"
            "0.5,0.7,0.1,0.12,0.05,0.2\n1.0,0.7,1.0,0.97,0.9,1.0\n"
        )
    return name


def _cases():
    flags, switches = [], []
    for path, parser in _leaves(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = "/".join(path)
            if not action.option_strings:
                flags.append(pytest.param(path, action.dest, id=f"{name}:{action.dest}"))
            elif action.nargs == 0:
                flag = action.option_strings[0]
                switches.append(pytest.param(path, flag, id=f"{name}:{flag}"))
            else:
                flag = action.option_strings[0]
                flags.append(pytest.param(path, flag, id=f"{name}:{flag}"))
    return flags, switches


FLAGS, SWITCHES = _cases()

NASTY = [
    "", " ", "-", "--", "0", "-0", "1", "-1", "-0.1", "-0.1:1:3", "0:1:3", "0.5,0.6", "0:1:0",
    "1e308", "-1e308", "1e-320", "1e400", "nan", "NaN", "inf", "-inf", "2**63",
    "9223372036854775808", "18446744073709551616", "1" + "0" * 70, "9" * 400, "x" * 100_000,
    "0x10", "1_000", "１２",
    "café", "☃", "名前", "\u202e", "a\nb", "'; DROP TABLE runs; --", ".", "sub/dir/", "x.csv/",
    "/nonexistent/x.csv", "/proc/nope/x", "a" * 300, "~/nope", "aer", "fake:list", "fake:nope",
    "ibm:nope", "braket:nope", "local:0", "tcp://127.0.0.1:1",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40),
)


class _Slow(BaseException):
    """Raised by the alarm: the example was accepted and is still running."""


def _on_alarm(signum, frame):
    raise _Slow


def _qkit(argv: list[str]) -> tuple[int | None, str]:
    err, out = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    except _Slow:
        code = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def _check(argv: list[str]) -> None:
    code, err = _qkit(argv)
    shown = [a if len(a) < 80 else a[:40] + "..." for a in argv]
    assert "Traceback" not in err, (shown, err[-3000:])
    if code is None:  # accepted, still working
        return
    assert code in (0, 2, 3), (shown, code, err[-2000:])
    if code:
        assert err.count("\n") <= 1, (shown, err[-2000:])


@pytest.fixture(autouse=True)
def _sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QKIT_STORE", str(tmp_path / "results.sqlite"))
    monkeypatch.setenv("QKIT_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)


def _with(base: list[str], flag: str, value: str) -> list[str]:
    argv = list(base)
    if flag.startswith("-"):
        if flag in argv:
            i = argv.index(flag)
            del argv[i : i + 2]
        return [*argv, flag, value]
    argv[-1] = value  # the one positional argument of the baselines that have one
    return argv


@pytest.mark.parametrize("path, flag", FLAGS)
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=VALUES)
def test_any_value_of_any_flag_is_one_line_or_works(path, flag, value):
    base = _baseline(path)
    assert base is not None, f"no baseline command for {' '.join(path)}"
    _check(_with(base, flag, value))


@pytest.mark.parametrize("path, flag", SWITCHES)
def test_every_switch_is_one_line_or_works(path, flag):
    base = _baseline(path)
    assert base is not None, f"no baseline command for {' '.join(path)}"
    _check([*base, flag])


def test_every_baseline_works():
    for path, _ in _leaves(build_parser()):
        base = _baseline(path)
        code, err = _qkit(base)
        assert code in (0, 2, None), (path, err)  # show/status/fetch of "nope" are bad input
