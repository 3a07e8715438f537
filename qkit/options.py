"""The options every experiment shares: their defaults and their checks, in one place.

``qkit run``, ``qkit sweep``, ``qkit reproduce`` and the Python API check shots, seeds,
bootstrap resamples, confidence, engine and realization here, once, at the boundary, each with
one rule; a bad value is a one-line ``ValueError`` naming the option and its allowed range (the
CLI prints it and exits 2). Nothing here imports Qiskit, or NumPy until a seed is drawn: the
command line builds its parsers from these defaults.

Defaults (the README lists them):

==========================  ======================================================
``shots``                   :data:`DEFAULT_SHOTS` per measurement setting (per letter)
``seed``                    drawn from fresh entropy and recorded (:func:`resolve_seed`)
``n_boot``                  :data:`DEFAULT_BOOTSTRAP` resamples; 0 means no intervals
``confidence``              :data:`DEFAULT_CONFIDENCE`
``engine``                  ``"auto"``: see :func:`resolve_engine`
``realization``             ``None``: a noise model where the backend takes one
==========================  ======================================================
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
ENGINES = ("auto", "exact", "sampler")
LAYOUTS = ("auto", "best")
"""``--layout`` keywords; a comma list of physical qubits is the third form."""
AGREEMENTS = ("ideal", "device")
REALIZATIONS = ("noise-model", "branch-mixture")


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


def resolve_seed(seed: Any | None) -> int:
    """``seed`` checked, or a fresh one drawn from the operating system when ``None``."""
    if seed is None:
        import secrets

        return secrets.randbits(63)
    return check_seed(seed)


def check_n_boot(n_boot: Any) -> int:
    """Bootstrap resamples: 0 (no intervals) or an integer in ``[MIN_BOOTSTRAP, MAX_BOOTSTRAP]``."""
    if n_boot == 0 and not isinstance(n_boot, bool):
        return 0
    try:
        return _integer("bootstrap resamples", n_boot, MIN_BOOTSTRAP, MAX_BOOTSTRAP)
    except ValueError:
        raise ValueError(
            f"bootstrap resamples must be 0 (no intervals) or an integer in "
            f"[{MIN_BOOTSTRAP}, {MAX_BOOTSTRAP}], got {n_boot!r}"
        ) from None


def check_confidence(confidence: Any) -> float:
    """Nominal coverage of the intervals, in (0, 1)."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return value


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def check_realization(realization: str | None) -> str | None:
    """``None`` (the backend's default) or one of :data:`REALIZATIONS`."""
    return None if realization is None else check_choice("realization", realization, REALIZATIONS)


def resolve_engine(engine: str, backend: str, realization: str | None, *, default: str) -> str:
    """The engine a run uses: ``"exact"`` or ``"sampler"``.

    ``"exact"`` draws the counts of every setting multinomially from the circuits' exact
    outcome probabilities, which only a backend with exact probabilities (Aer) can give;
    ``"sampler"`` samples every shot on the backend. ``"auto"`` is ``default`` where the
    backend allows it, else ``"sampler"``. Checked from the backend's name alone
    (:func:`qkit.backends.capabilities`), so bad options fail before anything is built.
    """
    from qkit.backends import capabilities

    engine = check_choice("engine", engine, ENGINES)
    realization = check_realization(realization)
    caps = capabilities(backend)
    if realization == "noise-model" and not caps.noise_model:
        raise ValueError(f"backend {backend!r} cannot take a noise model; use 'branch-mixture'")
    if engine == "auto":
        engine = default if caps.exact and realization is None else "sampler"
    if engine == "exact" and not caps.exact:
        raise ValueError(
            f"engine 'exact' needs exact outcome probabilities, which {backend!r} cannot give; "
            "use engine 'sampler'"
        )
    if engine == "exact" and realization is not None:
        raise ValueError("realization applies to engine 'sampler' only")
    return engine


BYTES_PER_SHOT = 128
"""Peak bytes a local simulator holds per shot of one call: Aer keeps each shot's bits as a
string until the call's counts are made (measured: 3.07 GB for 2.6e7 shots in one call before
calls were bounded, 0.56 GB peak for a whole run at the 4e6-shot call bound)."""
BYTES_PER_PUB = 20_000
"""Bytes per PUB of a submission (circuit references, bindings, result containers)."""


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(pubs: int, call_shots: int, what: str = "this run") -> None:
    """Refuse, before anything starts, a submission whose estimated peak memory exceeds what
    the machine has available; the message gives the estimate.

    ``call_shots`` is the largest number of shots one simulator call holds (bounded by
    :data:`qkit.backends._base.MAX_CALL_SHOTS` for local simulators).
    """
    need = pubs * BYTES_PER_PUB + call_shots * BYTES_PER_SHOT
    have = available_memory()
    if have is not None and need > have:
        raise MemoryError(
            f"{what} needs about {need / 2**30:.1f} GiB ({pubs} PUBs), more than the "
            f"{have / 2**30:.1f} GiB available; use fewer shots or settings"
        )


def check_mitigate(mitigate: str | None, backend: str) -> str | None:
    """``None`` or ``"readout"`` (only where the backend has readout errors)."""
    from qkit.backends import capabilities

    if mitigate is None:
        return None
    check_choice("mitigate", mitigate, ("readout",))
    if not capabilities(backend).readout_error:
        raise ValueError(
            f"mitigate='readout' needs a device backend (fake:, ibm:, braket:); "
            f"{backend} has no readout error"
        )
    return mitigate


def check_layout(layout: Any, backend: str) -> str | tuple[int, ...]:
    """``"auto"`` (the transpiler's choice; also ``None``), ``"best"`` (the best predicted
    coupler, :mod:`qkit.survey.layout`) or distinct physical qubits (``"3,4"`` or a sequence)
    for the experiment's first qubits. Anything but ``auto`` needs a device backend."""
    from qkit.backends import capabilities

    if layout is None or layout == "auto":
        return "auto"
    if isinstance(layout, str) and layout != "best":
        parts = [p.strip() for p in layout.split(",")]
        if not all(p.isdigit() for p in parts):
            raise ValueError(
                f"layout must be auto, best or a comma list of physical qubits, got {layout!r}"
            )
        layout = tuple(int(p) for p in parts)
    if not isinstance(layout, str):
        try:
            qubits = tuple(layout)
        except TypeError:
            qubits = ()
        if (
            not qubits
            or any(
                isinstance(q, bool) or not isinstance(q, numbers.Integral) or q < 0 for q in qubits
            )
            or len(set(qubits)) != len(qubits)
        ):
            raise ValueError(
                f"layout must be auto, best or distinct physical qubits, got {layout!r}"
            )
        layout = tuple(int(q) for q in qubits)
    if not capabilities(backend).readout_error:
        raise ValueError(
            f"layout {layout if isinstance(layout, str) else ','.join(map(str, layout))!r} "
            f"needs a device backend (fake:, ibm:, braket:); {backend} has no physical qubits"
        )
    return layout


def resolve_agreement(agreement: str | None, backend: str) -> str:
    """Which prediction the agreement column compares with: ``device`` by default on devices,
    ``ideal`` on simulators without a device (``device`` is refused there)."""
    from qkit.backends import capabilities

    device = capabilities(backend).readout_error
    if agreement is None:
        return "device" if device else "ideal"
    check_choice("agreement", agreement, AGREEMENTS)
    if agreement == "device" and not device:
        raise ValueError(f"agreement 'device' needs a device backend; {backend} has no device")
    return agreement
