"""Progress on every long wait (qkit.progress): phases on a terminal, two lines elsewhere.

Real processes: under a pseudo-terminal (``pty``) the live display names the phases of a
fake-device run; with stderr a pipe, a long run writes exactly a start line with its estimate
and an end line, and a short one writes none.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from qkit import progress

REPO = Path(__file__).resolve().parents[1]


def _under_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run ``argv`` with stderr on a 100x30 pseudo-terminal; its stderr and seconds to the
    first byte of it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env
    )
    os.close(slave)
    chunks, first = [], None
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        first = time.monotonic() - started if first is None else first
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=600) == 0
    return b"".join(chunks).decode(errors="replace"), first if first is not None else -1.0


def _qkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "qkit.cli", *args]


@pytest.mark.slow
def test_a_terminal_sees_every_phase_of_a_fake_device_run_by_name():
    env = {**os.environ, "PYTHONPATH": str(REPO), progress.DELAY_VAR: "0"}
    command = _qkit(
        *"run channel --eta 1 --backend fake:manila --mitigate readout --layout best".split(),
        *"--shots 500 --seed 3 --no-store".split(),
    )
    text, _ = _under_a_terminal(command, env)
    shown = set(re.findall(r"qkit: ([a-z][a-z ]*?)(?= \d+ of| \[)", text))
    for name in (
        "building the device model",
        "choosing the best coupler",
        "transpiling",
        "calibrating readout",
        "simulating",
        "analysing",
    ):
        assert name in shown, (name, shown)
    assert re.search(r"simulating \d+ of \d+ circuits", text)
    assert LINE not in text  # the start and end lines are for logs, not terminals


LINE = progress.LINE_PREFIX


def test_a_long_run_writes_a_start_line_with_its_estimate_and_an_end_line_to_a_pipe():
    n = "60000"  # estimated above THRESHOLD on any machine: 780,000 shots
    done = subprocess.run(
        _qkit(*"run mixup --success 0.9 --amplitude 0.7 --seed 1 --no-store --shots".split(), n),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines
    assert re.fullmatch(re.escape(LINE) + r"run mixup on aer: estimated [\d.]+ s", lines[0])
    assert re.fullmatch(re.escape(LINE) + r"run mixup on aer: done after [\d.]+ s", lines[1])
    assert LINE not in done.stdout and done.stdout.startswith("success=0.9")


def test_a_short_command_writes_nothing_to_a_pipe():
    done = subprocess.run(
        _qkit("theory", "mixup", "--success", "0.5", "--amplitude", "0.3", "--json"),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0 and done.stderr == ""


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    "seconds, quiet, fails, expected",
    [
        (30.0, False, False, ["job: estimated 30 s", "job: done after 0.0 s"]),
        (90.0, False, True, ["job: estimated 1 min 30 s"]),  # its error line ends it
        (1.0, False, False, []),  # under THRESHOLD
        (None, False, False, []),  # no estimate (a cloud queue)
        (30.0, True, False, []),  # --quiet
    ],
)
def test_command_lines(monkeypatch, seconds, quiet, fails, expected):
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    progress.configure(quiet=quiet)
    try:
        with contextlib.suppress(RuntimeError), progress.command("job", seconds):
            with progress.phase("working"):  # the start line waits for the first phase
                pass
            if fails:
                raise RuntimeError
    finally:
        progress.configure(quiet=False)
    assert err.getvalue().splitlines() == [LINE + line for line in expected]


def test_input_that_fails_its_checks_before_any_phase_stays_a_one_line_error(monkeypatch):
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    with contextlib.suppress(ValueError), progress.command("job", 60.0):
        raise ValueError("bad input")
    assert err.getvalue() == ""


def test_a_phase_before_the_input_is_checked_writes_no_start_line(monkeypatch):
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    with contextlib.suppress(ValueError), progress.command("job", 60.0):
        with progress.phase("loading the fake devices", announce=False):
            pass
        raise ValueError("unknown fake device")
    assert err.getvalue() == ""


def test_json_keeps_stderr_free_of_lines(monkeypatch):
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    progress.configure(lines=False)
    try:
        with progress.command("job", 60.0), progress.phase("working"):
            pass
    finally:
        progress.configure()
    assert err.getvalue() == ""


def test_phases_off_a_terminal_show_nothing_and_count_nothing(monkeypatch):
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress.each(range(3), "simulating", unit="circuits")) == [0, 1, 2]
    with progress.phase("building the device model") as step:
        step.advance()
        step.describe("still building")
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    "argv, at_least, at_most",
    [
        ("run mixup --success 0.9 --amplitude 0.7", 1.0, 5.0),
        ("run mixup --success 0.9 --amplitude 0.7 --shots 1000000000", 3600.0, None),
        # measured 4.7 s with a cold device cache, 2.0 s warm (2026-12-07, load ~1)
        ("run channel --eta 1 --backend fake:fez --layout best --mitigate readout", 2.0, 10.0),
        ("run mixup -S 0.6 -a 0.5 --backend fake:fez", 1.5, 6.0),  # 2.4 s cold, 0.9 s warm
        # a million points in 40 s (benchmarks/sweep.py --cli 1000): the estimate said 22 min
        ("sweep mixup -S 0.001:1:1000 -a 0:1:1000", 20.0, 120.0),
        ("reproduce --quick", 8.0, 60.0),
        ("sweep mixup --success 0.05:1:20 --amplitude 0.02:0.98:20 --out x.csv", 1.0, 5.0),
        ("sweep mixup -S 0.1:1:300 -a 0.02:0.98:300 --engine sampler --out x.csv", 600.0, None),
    ],
)
def test_estimates_are_of_the_right_order(argv, at_least, at_most):
    from qkit.cli import build_parser

    what, seconds = progress.estimate(build_parser().parse_args(argv.split()))
    assert seconds is not None and seconds >= at_least and (at_most is None or seconds <= at_most)
    assert what.startswith(argv.split()[0])


def test_quiet_silences_the_lines_of_a_long_run():
    n = "60000"  # the run of the test above, which writes two lines without --quiet
    done = subprocess.run(
        _qkit(*"run mixup --success 0.9 --amplitude 0.7 --seed 1 --no-store -q --shots".split(), n),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.startswith("success=0.9")


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "mixup"],
        ["run", "channel"],
        ["sweep", "mixup"],
        ["survey"],
        ["replay", "RUN"],
        ["reproduce"],
    ],
)
def test_every_command_that_may_take_long_takes_quiet(argv):
    """The same flag on every door that shows progress (reproduce had it alone)."""
    from qkit.cli import build_parser

    parser = build_parser()
    for name in argv:
        if name == "RUN":
            break
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = actions[0].choices[name]
    for flag in ("--quiet", "-q"):
        assert flag in parser._option_string_actions, (argv, flag)
