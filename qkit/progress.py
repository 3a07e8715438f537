"""Progress on stderr for every wait over about two seconds.

Two calls, both cheap when nothing is shown::

    with progress.phase("building the device model"):
        ...
    with progress.phase("simulating", total=len(circuits), unit="circuits") as step:
        for circuit in circuits:
            ...
            step.advance()

On a terminal, a phase that lasts longer than :data:`DELAY` shows a live line on stderr naming
it (``simulating 3 of 52 circuits``, with the time spent), nested phases one line each, erased
when they end. When stderr is not a terminal (a pipe, a log file, a notebook) phases show
nothing; the command line instead writes one line when a command that will take longer than
:data:`THRESHOLD` starts, with its estimated time, and one when it ends (:func:`command`),
both starting with :data:`LINE_PREFIX`. ``--quiet`` silences both (:func:`configure`);
progress never goes to stdout, so ``--json`` output stays one JSON object.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "DELAY",
    "LINE_PREFIX",
    "THRESHOLD",
    "bar",
    "command",
    "configure",
    "each",
    "estimate",
    "phase",
    "starting",
]

DELAY = 0.5  # seconds before a phase appears on a terminal (short phases never flicker)
DELAY_VAR = "QKIT_PROGRESS_DELAY"  # overrides DELAY (the tests show every phase at once)
THRESHOLD = 2.0  # seconds: a command estimated to take longer gets a start and an end line
LINE_PREFIX = "qkit: ~ "  # the start and end lines (tests that compare output leave them out)

_state: dict[str, Any] = {"quiet": False, "lines": True, "pending": None, "announced": False}
_lock = threading.Lock()
_bars: list[tuple[float, Any]] = []  # (start time, tqdm bar) of the phases on display
_ticker: threading.Thread | None = None


def configure(*, quiet: bool = False, lines: bool = True) -> None:
    """``quiet=True`` (``--quiet``): no progress at all; ``lines=False`` (``--json``): no start
    and end lines (the terminal display stays)."""
    _state["quiet"] = bool(quiet)
    _state["lines"] = bool(lines)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed
        return False


def _terminal() -> bool:
    return not _state["quiet"] and _is_terminal(sys.stderr)


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get(DELAY_VAR, DELAY)))
    except ValueError:
        return DELAY


def _size() -> tuple[int, int]:
    try:
        return tuple(os.get_terminal_size(sys.stderr.fileno()))  # type: ignore[return-value]
    except (AttributeError, ValueError, OSError):
        return 0, 0


class Phase:
    """The handle of a running phase: :meth:`advance` its counter, :meth:`describe` it."""

    def __init__(self, bar: Any = None):
        self._bar = bar

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(text, refresh=False)


@contextlib.contextmanager
def phase(
    name: str, total: int | None = None, unit: str = "", *, announce: bool = True
) -> Iterator[Phase]:
    """A named wait; on a terminal shown after :data:`DELAY` s until it ends. It also starts
    the command's start line, unless ``announce=False`` (a wait before the input is checked,
    whose error must stay one line)."""
    if announce:
        _announce()
    if not _terminal():
        yield Phase()
        return
    from tqdm.std import tqdm

    columns, rows = _size()
    counted = "{desc} {n_fmt} of {total_fmt} " + unit + " [{elapsed}<{remaining}]"
    bar = tqdm(
        total=total,
        desc=name,
        file=sys.stderr,
        leave=False,
        delay=_delay(),
        dynamic_ncols=columns > 0,
        ncols=columns or 80,  # a terminal that reports no size (a bare pty) gets 80 x 24
        nrows=rows or 24,
        bar_format=("qkit: " + counted) if total else "qkit: {desc} [{elapsed}]",
    )
    entry = (time.monotonic(), bar)
    with _lock:
        _bars.append(entry)
        _start_ticker()
    try:
        yield Phase(bar)
    finally:
        with _lock:
            _bars.remove(entry)
        bar.close()


def each(items: Iterable[T], name: str, total: int | None = None, unit: str = "") -> Iterator[T]:
    """``items`` as they come, counted in a phase (``for c in each(cs, "simulating", unit=
    "circuits")`` shows ``simulating 3 of 52 circuits``)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with phase(name, total=total, unit=unit) as step:
        for item in items:
            yield item
            step.advance()


def _start_ticker() -> None:
    """One daemon thread refreshes the phases on display twice a second (elapsed time, and
    phases without a counter, which would otherwise never appear)."""
    global _ticker
    if _ticker is not None and _ticker.is_alive():
        return

    def tick() -> None:
        while True:
            time.sleep(0.5)
            with _lock:
                now = time.monotonic()
                for started, bar in _bars:
                    if now - started >= _delay():
                        bar.refresh()

    _ticker = threading.Thread(target=tick, name="qkit-progress", daemon=True)
    _ticker.start()


def bar(total: int, *, show: bool | None, unit: str, desc: str | None = None, initial: int = 0):
    """A command's own progress bar on stderr (``qkit sweep``, ``qkit reproduce``), shown when
    ``show`` (``None``: when stderr is a terminal); writes the command's start line first."""
    starting()
    enabled = _is_terminal(sys.stderr) if show is None else bool(show)
    if enabled:
        from tqdm.auto import tqdm
    else:  # tqdm.auto costs about 0.3 s to import
        from tqdm.std import tqdm
    return tqdm(
        total=total,
        initial=initial,
        unit=unit,
        desc=desc,
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _line(text: str) -> None:
    print(LINE_PREFIX + text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def command(description: str, seconds: float | None) -> Iterator[None]:
    """A whole command: when stderr is not a terminal and it is estimated to take longer than
    :data:`THRESHOLD`, a start line with the estimate and an end line with the time it took.

    The start line waits for the first phase, so input that fails its checks stays a one-line
    error; a command that fails after it started ends with its error line instead. On a
    terminal its phases speak for it (a line of its own would still be on display when the
    command prints its result to stdout, on the same screen)."""
    announce = not _state["quiet"] and _state["lines"] and not _is_terminal(sys.stderr)
    if not (announce and seconds is not None and seconds >= THRESHOLD):
        yield
        return
    _state.update(pending=(description, seconds, time.monotonic()), announced=False)
    try:
        yield
        if _state["announced"]:
            elapsed = time.monotonic() - _state["pending"][2]
            _line(f"{description}: done after {_duration(elapsed)}")
    finally:
        _state.update(pending=None, announced=False)


def starting() -> None:
    """The command's checks passed and its work begins: write its start line now (a phase
    does this by itself; loops with a progress bar of their own call this)."""
    _announce()


def _announce() -> None:
    """The start line of the pending command, once, when its first phase begins."""
    if _state["pending"] is None or _state["announced"]:
        return
    with _lock:
        if not _state["announced"]:
            _state["announced"] = True
            description, seconds, _ = _state["pending"]
            _line(f"{description}: estimated {_duration(seconds)}")


# ---- estimates (a 2-core machine, measured 2026-12-07 at load ~1; rough by design: they set
# expectations, and a run on a device whose cache is warm takes about half of the cold
# estimate: `qkit run mixup --backend fake:fez --layout best --mitigate readout` 2.4-2.7 s
# cold, 0.8-1.0 s warm; channel 4.7 / 2.0 s; distill with --layout best 4.3 / 1.7 s) ----
_START = 1.0  # qkit, Qiskit and Aer imports once the command line is parsed
_FAKE_START = 1.2  # a fake device from its snapshot files, the first transpilation's plugins
_BEST = 0.8  # layout best: the shortlist's noise model and exact predictions (cold)
_MITIGATE = 0.4  # the readout calibration (cold)
_FAKE_POINT = 0.3  # a point's transpilation, noise model and sampling on a fake device
_EXACT_POINT = 4e-5  # a point of an exact-engine sweep (1e6 points in 40 s, 9e4 in 4 s)
_SAMPLED_POINT = 0.005  # a point of a sampled sweep, besides its shots (64 points in 3.9 s)
_SWEEP_SHOT = 0.8e-6  # seconds per shot of a sampled sweep (batched PUBs)
_SHOT = {"mixup": 3e-6, "channel": 7e-6, "distill": 5e-6}  # seconds per shot, Aer sampler
_SETTINGS = {"mixup": 13, "channel": 2, "distill": 9}  # measurement settings of one point


def _axis_length(value: Any) -> int:
    """Points of a sweep axis as typed: ``start:stop:count``, ``a,b,c`` or one value."""
    if value is None:
        return 1
    text = str(value)
    if text.count(":") == 2:
        try:
            return max(1, int(text.rsplit(":", 1)[1]))
        except ValueError:
            return 1
    return len([v for v in text.split(",") if v.strip()]) or 1


def estimate(args: Any) -> tuple[str, float | None]:
    """What a parsed command line will do and about how long it takes (seconds, or None
    where qkit cannot tell: cloud queues, unknown commands)."""
    name = getattr(args, "command", None) or "qkit"
    backend = str(getattr(args, "backend", "aer") or "aer")
    if backend.startswith(("ibm:", "braket:")) or backend == "fake:list":
        return f"{name} on {backend}", None
    if name == "run":
        experiment = getattr(args, "experiment_name", "mixup")
        shots = int(getattr(args, "shots", None) or 4000)
        settings = _SETTINGS.get(experiment, 13)
        if experiment == "channel" and getattr(args, "alphabet", "pair") != "pair":
            settings = 5
        seconds = _START + shots * settings * _SHOT.get(experiment, 5e-6)
        if backend.startswith("fake:"):  # noise costs about as much again as the shots
            seconds += _FAKE_START + shots * settings * _SHOT.get(experiment, 5e-6)
            if getattr(args, "layout", "auto") == "best":
                seconds += _BEST
            if getattr(args, "mitigate", None):
                seconds += _MITIGATE
        return f"run {experiment} on {backend}", seconds
    if name == "sweep":
        experiment = getattr(args, "experiment_name", "mixup")
        points = getattr(args, "repeat", 1) or 1
        for param in ("success", "amplitude", "eta", "inputs", "alphabet"):
            points *= _axis_length(getattr(args, param, None))
        shots = int(getattr(args, "shots", None) or 4000)
        exact = backend == "aer" and getattr(args, "engine", "auto") in ("auto", "exact")
        sampled = _SAMPLED_POINT + shots * _SETTINGS.get(experiment, 13) * _SWEEP_SHOT
        per_point = _EXACT_POINT if exact else sampled
        return f"sweep {experiment} ({points} points) on {backend}", _START + points * per_point
    if name == "reproduce":
        quick = bool(getattr(args, "quick", False))
        planned = {"mixup": 15, "channel": 20, "distill": 3} if quick else {}
        planned = planned or {"mixup": 34, "channel": 36, "distill": 6}  # reproduce._plan
        shots = getattr(args, "shots", None) or (2000 if quick else 20000)
        cost = {k: 0.25 + shots * _SETTINGS[k] * _SHOT[k] for k in planned}
        seconds = _START + 4.0 + sum(n * cost[k] for k, n in planned.items())
        if backend.startswith("fake:"):
            seconds += _FAKE_START + sum(planned.values()) * _FAKE_POINT
        return f"reproduce{' --quick' if quick else ''} on {backend}", seconds
    return name, None
