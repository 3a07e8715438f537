"""The primitive checks every layer shares: shots, seeds, choices (the lowest layer of qkit).

Backends check shots and seeds here; :mod:`qkit.options` builds the run options on top of them
(it sits above the backends, whose capabilities it consults).
"""

from __future__ import annotations

import numbers
from typing import Any, SupportsInt, cast

DEFAULT_SHOTS = 4000
"""Shots per measurement setting (mix-up) or per letter (channel)."""
DEFAULT_BOOTSTRAP = 1000
"""Bootstrap resamples behind every interval."""
MIN_BOOTSTRAP = 10
"""The fewest resamples that make an interval; 0 turns intervals off."""
DEFAULT_CONFIDENCE = 0.95
MAX_SEED = 2**63 - 1
"""Seeds are integers in ``[0, MAX_SEED]`` on every command and every backend."""
MAX_SHOTS = 10**9
"""Shots per setting beyond which counts would not fit the simulators' 32-bit counters."""
MAX_BOOTSTRAP = 100_000
SHOWN_CHARS = 60
"""Offending values are shown up to this many characters in an error message."""


def shown(value: object) -> str:
    """``repr(value)`` cut to :data:`SHOWN_CHARS` characters (with "...") for an error line.

    >>> shown("x" * 100)[-24:]
    'xxxx... (102 characters)'
    >>> len(shown("x" * 100_000)) < 80
    True
    """
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[: SHOWN_CHARS - 4]}... ({len(text)} characters)"


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    number = int(cast(SupportsInt, value))  # typeshed's numbers.Real lacks __int__
    if not low <= number <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {number}")
    return number


def check_shots(shots: Any) -> int:
    """Shots per setting: an integer in ``[1, MAX_SHOTS]``.

    >>> check_shots(1000)
    1000
    >>> check_shots(0)
    Traceback (most recent call last):
    ...
    ValueError: shots must be an integer in [1, 1000000000], got 0
    """
    return _integer("shots", shots, 1, MAX_SHOTS)


def check_seed(seed: Any) -> int:
    """A seed: an integer in ``[0, MAX_SEED]``."""
    return _integer("seed", seed, 0, MAX_SEED)


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)
