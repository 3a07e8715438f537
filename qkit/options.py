"""The run options: one frozen :class:`RunOptions` with every option more than one command
takes, each with its default, its check and its command-line flag (:data:`FLAGS`) written once.

``qkit run``, ``sweep``, ``reproduce``, ``survey`` and ``replay`` build their shared flags from
it (:func:`add_flags`, :func:`from_args`); the Python API takes the object itself. A bad value
is a one-line ``ValueError`` naming the option and its allowed range (the CLI exits 2). Nothing
here imports Qiskit, or NumPy until a seed is drawn: the command line builds its parsers here.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

from qkit._checks import (  # noqa: F401 - re-exported: the options' one home
    DEFAULT_BOOTSTRAP,
    DEFAULT_CONFIDENCE,
    DEFAULT_SHOTS,
    MAX_BOOTSTRAP,
    MAX_SEED,
    MAX_SHOTS,
    MIN_BOOTSTRAP,
    _integer,
    check_choice,
    check_seed,
    check_shots,
    shown,
)

ENGINES = ("auto", "exact", "sampler")
AGREEMENTS = ("ideal", "device")
REALIZATIONS = ("noise-model", "branch-mixture")


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


# -- how counts become estimates -----------------------------------------------------------------
INTERVALS = ("auto", "none")
"""``auto``: every estimator's own interval (analytic where one exists, resampled where the
estimator resamples, :data:`DEFAULT_BOOTSTRAP` times); ``none``: point estimates only."""


@dataclass(frozen=True)
class Analysis:
    """How counts become estimates: interval confidence and bootstrap resamples (0: none)."""

    n_boot: int = DEFAULT_BOOTSTRAP
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_boot", check_n_boot(self.n_boot))
        object.__setattr__(self, "confidence", check_confidence(self.confidence))

    @property
    def intervals(self) -> bool:
        return self.n_boot > 0


def deprecated(old: str, new: str) -> None:
    """The one-line notice of a spelling kept for one release."""
    import sys

    print(f"qkit: {old} is deprecated and will be removed; use {new}", file=sys.stderr)


def check_intervals(intervals: Any) -> str:
    """``auto`` or ``none`` (``bootstrap``, the old spelling of ``auto``, still works)."""
    if intervals == "bootstrap":
        deprecated("--intervals bootstrap", "--intervals auto")
        return "auto"
    return check_choice("intervals", intervals, INTERVALS)


@dataclass(frozen=True)
class RunOptions:
    """Every option that more than one door takes, checked once (``ValueError`` names it).

    ``qkit run``, ``sweep``, ``reproduce``, ``survey`` and ``replay`` build their shared flags
    from :data:`FLAGS`; :meth:`Experiment.run <qkit.experiment.Experiment.run>`, the runner
    and sweeps take this object. ``backend`` is a name or a :class:`qkit.backends.Backend`;
    ``store`` a :class:`qkit.store.ResultsStore` or ``None``. ``seed`` ``None`` is drawn when
    a run starts (:func:`resolve_seed`), so one object can describe many runs.
    """

    shots: int = DEFAULT_SHOTS
    seed: int | None = None
    backend: Any = "aer"
    engine: str = "auto"
    realization: str | None = None
    mitigate: str | None = None
    layout: Any = "auto"
    confidence: float = DEFAULT_CONFIDENCE
    intervals: str = "auto"
    n_boot: int = DEFAULT_BOOTSTRAP
    store: Any = None

    def __post_init__(self) -> None:
        name = self.backend_name
        if not name:
            raise ValueError(f"backend must be a backend name such as 'aer', got {name!r}")
        checked = {
            "shots": check_shots(self.shots),
            "seed": None if self.seed is None else check_seed(self.seed),
            "engine": check_choice("engine", self.engine, ENGINES),
            "realization": check_realization(self.realization),
            "mitigate": check_mitigate(self.mitigate, name),
            "layout": check_layout(self.layout, name),
            "confidence": check_confidence(self.confidence),
            "intervals": check_intervals(self.intervals),
            "n_boot": check_n_boot(self.n_boot),
        }
        if checked["n_boot"] == 0:  # resamples 0 is the old spelling of intervals "none"
            checked["intervals"], checked["n_boot"] = "none", DEFAULT_BOOTSTRAP
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    @classmethod
    def of(cls, opts: RunOptions | None, keywords: dict[str, Any]) -> RunOptions:
        """``opts``, or the options given as keywords (the thin keyword form of every API)."""
        if opts is not None and keywords:
            raise ValueError(f"pass RunOptions or keyword options, not both: {sorted(keywords)}")
        return opts or cls(**keywords)

    @property
    def backend_name(self) -> str:
        return self.backend if isinstance(self.backend, str) else self.backend.name

    @property
    def analysis(self) -> Analysis:
        """What the analysis needs: resamples (0 for no intervals) and confidence."""
        return Analysis(0 if self.intervals == "none" else self.n_boot, self.confidence)

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with ``changes``, checked again."""
        import dataclasses

        return dataclasses.replace(self, **changes)

    def resolved_engine(self, default: str) -> str:
        """``"exact"`` or ``"sampler"`` (:func:`resolve_engine` with the door's ``default``)."""
        return resolve_engine(self.engine, self.backend_name, self.realization, default=default)


# -- command-line flags, written once ------------------------------------------------------------
@dataclass(frozen=True)
class Flag:
    """One option's command-line spelling and help (defaults come from :class:`RunOptions`)."""

    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def number(text: str) -> float:
    """argparse ``type`` for a finite float; the range check is the option's own."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {shown(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {shown(text)}")
    return value


def positive_int(text: str) -> int:
    """argparse ``type`` for an integer >= 1."""
    return _cli_int(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse ``type`` for an integer >= 0 (seeds)."""
    return _cli_int(text, 0, "a non-negative integer")


def _cli_int(text: str, minimum: int, what: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {shown(text)}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


FLAGS: dict[str, Flag] = {
    "shots": Flag(
        ("--shots",),
        f"shots per measurement setting (per letter) ({DEFAULT_SHOTS})",
        {"type": positive_int},
    ),
    "seed": Flag(
        ("--seed",),
        "seed; every random draw of a point derives from it (default: drawn and recorded)",
        {"type": non_negative_int},
    ),
    "backend": Flag(
        ("--backend",),
        "aer (default), fake:<device> ('qkit run ... --backend fake:list' lists them), "
        "ibm:<device>, braket:local, braket:<ARN>",
    ),
    "engine": Flag(
        ("--engine",),
        "sampler: every shot sampled by the backend; exact: counts drawn from the circuits' "
        "exact outcome probabilities (aer; a fake device's noise model in a survey); auto "
        "(default): exact for a sweep on aer and a survey on a fake device, otherwise the "
        "experiment's default (sampler for the built-in ones)",
        {"choices": ENGINES},
    ),
    "realization": Flag(
        ("--realization",),
        "how the sampler realizes the classical noise (default: noise model on aer, "
        "branch mixture elsewhere)",
        {"choices": REALIZATIONS},
    ),
    "mitigate": Flag(
        ("--mitigate",),
        "readout-error mitigation with a calibration measured on the same device (device backends)",
        {"choices": ("readout",)},
    ),
    "layout": Flag(
        ("--layout",),
        "physical qubits of the measured pair on a device: auto (the transpiler's choice), "
        "best (the surveyed coupler with the highest lower confidence bound, else the best "
        "predicted from calibration), or a comma list such as 3,4",
    ),
    "confidence": Flag(
        ("--confidence",),
        f"nominal coverage of the intervals ({DEFAULT_CONFIDENCE})",
        {"type": number},
    ),
    "intervals": Flag(
        ("--intervals",),
        "auto (default): each estimator's own interval (analytic, resampled only where the "
        "estimator resamples); none: point estimates only",
    ),
    "n_boot": Flag(
        ("--bootstrap",),
        f"resamples of the estimators that resample ({DEFAULT_BOOTSTRAP}); no intervals is "
        "--intervals none",
        {"type": non_negative_int, "dest": "n_boot", "metavar": "N"},
    ),
    "store": Flag(("--store",), "results database (default: $QKIT_STORE or the user data dir)"),
}
"""Command-line form of each :class:`RunOptions` field (``--store`` brings ``--no-store``)."""


def add_flags(
    parser: Any, names: tuple[str, ...], *, no_store: bool = True, **defaults: Any
) -> None:
    """Add the flags of the options ``names`` to an ``argparse`` parser, defaults from
    :class:`RunOptions` unless a door overrides one in ``defaults`` (``reproduce``'s shots by
    mode). ``store`` adds ``--no-store`` too."""
    base = RunOptions.__dataclass_fields__
    for name in names:
        flag = FLAGS[name]
        default = defaults.get(name, base[name].default)
        kwargs = {"default": default, "help": flag.help, **flag.kwargs}
        if name == "intervals":
            kwargs["choices"] = (*INTERVALS, "bootstrap")  # "bootstrap": deprecated
            kwargs["metavar"] = "{" + ",".join(INTERVALS) + "}"
        parser.add_argument(*flag.flags, **kwargs)
        if name == "store" and no_store:
            parser.add_argument("--no-store", action="store_true", help="do not save to the store")


def from_args(args: Any, names: tuple[str, ...], **extra: Any) -> RunOptions:
    """The :class:`RunOptions` of parsed flags ``names`` (plus ``extra`` fields)."""
    values: dict[str, Any] = {}
    for name in names:
        if name == "store":
            values["store"] = None if getattr(args, "no_store", False) else _store(args.store)
        else:
            values[name] = getattr(args, name)
    if values.get("n_boot") == 0 and "n_boot" in names:
        deprecated("--bootstrap 0", "--intervals none")
        values["intervals"], values["n_boot"] = "none", DEFAULT_BOOTSTRAP
    values.update(extra)
    return RunOptions(**values)


def _store(path: str | None) -> Any:
    from qkit.store import ResultsStore

    return ResultsStore(path)
