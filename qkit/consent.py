"""Nothing is sent to a paid backend without the user's yes, and never above their budget.

Every submission passes :meth:`qkit.backends.Backend.submit`; for a backend whose
capabilities say ``cloud`` (IBM Quantum, Amazon Braket devices) it calls :func:`check` first,
which

1. estimates the cost (:func:`estimate`): circuits, tasks, shots and, where the provider
   publishes a price, dollars (Braket's per-task and per-shot prices for the devices in
   :data:`BRAKET_PRICES`; IBM bills the QPU seconds its service measures, which qkit cannot
   predict, so the cost is said to be unknown);
2. refuses a submission of more shots than the budget: ``--max-shots N`` on the command line,
   ``max_shots=`` in :func:`allow`, else ``$QKIT_MAX_SHOTS``, else ``max_shots`` in the
   config file ``$QKIT_CONFIG`` (default ``<user config dir>/qkit/config.toml``);
3. prints where it will run and the estimate on stderr, and goes ahead only with consent:
   ``--yes``, an interactive ``y`` on a terminal, or, from Python, inside ``with
   qkit.consent.allow(): ...``. Otherwise :class:`ConsentRequired` (a ``ValueError``: exit 2)
   and nothing is sent.

Local simulators (Aer, fake devices, the Braket local simulator) never ask.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BRAKET_PER_TASK_USD",
    "BRAKET_PRICES",
    "Consent",
    "ConsentRequired",
    "Estimate",
    "allow",
    "budget",
    "check",
    "config_path",
    "estimate",
    "given",
    "replay_backend",
]

ENV_MAX_SHOTS = "QKIT_MAX_SHOTS"
ENV_CONFIG = "QKIT_CONFIG"

BRAKET_PER_TASK_USD = 0.30
"""Amazon Braket's published price per task on a QPU (aws.amazon.com/braket/pricing)."""
BRAKET_PRICES: dict[str, float] = {
    "ionq/aria-1": 0.03,
    "ionq/aria-2": 0.03,
    "ionq/forte-1": 0.08,
    "ionq/forte-enterprise-1": 0.08,
    "iqm/garnet": 0.00145,
    "iqm/emerald": 0.0016,
    "rigetti/ankaa-3": 0.0009,
    "quera/aquila": 0.01,
}
"""Published per-shot price in USD of Braket QPUs, by the end of the device ARN (2025)."""


class ConsentRequired(ValueError):
    """A paid submission without consent (or above the budget): nothing was sent."""


@dataclass(frozen=True)
class Consent:
    """The user's answer, handed down from the command line or :func:`allow`.

    ``yes``: go ahead without asking. ``max_shots``: refuse submissions of more shots.
    ``ask``: on a terminal, ask when ``yes`` is not given (the command line sets it).
    """

    yes: bool = False
    max_shots: int | None = None
    ask: bool = False
    approved: set = field(default_factory=set, compare=False, repr=False)
    """Estimates already shown and agreed to here (a confirmed submission is not asked twice)."""


_CONSENT: ContextVar[Consent | None] = ContextVar("qkit_consent", default=None)


def current() -> Consent:
    """The consent in force here (none given: no yes, no budget, no question)."""
    return _CONSENT.get() or Consent()


@contextlib.contextmanager
def given(consent: Consent) -> Iterator[Consent]:
    """Submissions inside the ``with`` block use ``consent`` (the command line's answer)."""
    token = _CONSENT.set(consent)
    try:
        yield consent
    finally:
        _CONSENT.reset(token)


def allow(*, max_shots: int | None = None) -> contextlib.AbstractContextManager[Consent]:
    """The Python API's explicit yes: paid submissions inside the block go ahead.

    >>> from qkit import consent
    >>> with consent.allow(max_shots=10_000):
    ...     pass  # experiment.run(..., backend="ibm:ibm_fez") would be sent here
    """
    return given(Consent(yes=True, max_shots=_check_max_shots(max_shots, "max_shots")))


@dataclass(frozen=True)
class Estimate:
    """What a submission will use: where, circuits, tasks, shots, and the price if known."""

    backend: str
    circuits: int
    tasks: int
    shots: int
    usd: float | None
    note: str

    def line(self) -> str:
        cost = "unknown" if self.usd is None else f"about ${self.usd:,.2f}"
        return (
            f"{self.backend}: {self.circuits} circuits, {self.tasks} tasks, {self.shots:,} shots;"
            f" cost {cost} ({self.note})"
        )


def estimate(backend: Any, pubs: Sequence[Any]) -> Estimate:
    """The cost of sampling the coerced ``pubs`` (``SamplerPub``) on ``backend``."""
    circuits = len({id(pub.circuit) for pub in pubs})
    tasks = sum(max(1, math.prod(pub.shape)) for pub in pubs)
    shots = sum(int(pub.shots) * max(1, math.prod(pub.shape)) for pub in pubs)
    name = str(backend.name)
    if name.startswith("braket:"):
        device = name.rsplit("/", 2)
        key = "/".join(device[-2:]).lower() if len(device) >= 2 else ""
        per_shot = BRAKET_PRICES.get(key)
        if per_shot is None:
            return Estimate(name, circuits, tasks, shots, None, "no published price known to qkit")
        usd = tasks * BRAKET_PER_TASK_USD + shots * per_shot
        note = f"Braket: ${BRAKET_PER_TASK_USD} per task + ${per_shot} per shot"
        return Estimate(name, circuits, tasks, shots, usd, note)
    if name.startswith("ibm:"):
        note = "IBM bills the QPU seconds it measures; qkit cannot predict them"
        return Estimate(name, circuits, tasks, shots, None, note)
    return Estimate(name, circuits, tasks, shots, None, "no published price known to qkit")


def budget(consent: Consent | None = None) -> int | None:
    """The shot budget: the consent's ``max_shots``, else ``$QKIT_MAX_SHOTS``, else config."""
    consent = current() if consent is None else consent
    if consent.max_shots is not None:
        return consent.max_shots
    env = os.environ.get(ENV_MAX_SHOTS)
    if env:
        return _check_max_shots(env, f"${ENV_MAX_SHOTS}")
    path = config_path()
    if path.is_file():
        import tomllib

        try:
            with open(path, "rb") as handle:
                config = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConsentRequired(f"cannot read the qkit config {path}: {exc}") from None
        if "max_shots" in config:
            return _check_max_shots(config["max_shots"], f"max_shots in {path}")
    return None


def config_path() -> Path:
    """``$QKIT_CONFIG``, else ``<user config dir>/qkit/config.toml``."""
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("qkit")) / "config.toml"


def _check_max_shots(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= 10**15:
        raise ConsentRequired(f"{name} must be a whole number of shots in [1, 1e15], got {value!r}")
    return number


def check(backend: Any, pubs: Sequence[Any]) -> Estimate | None:
    """Refuse (:class:`ConsentRequired`) a cloud submission without consent or over budget.

    Returns the estimate that was shown, or None for a backend that is not a cloud one.
    """
    if not backend.caps.cloud:
        return None
    consent = current()
    cost = estimate(backend, pubs)
    if cost in consent.approved:
        return cost  # confirmed before anything was recorded (Backend.confirm)
    limit = budget(consent)
    if limit is not None and cost.shots > limit:
        raise ConsentRequired(
            f"refusing to submit {cost.shots:,} shots to {cost.backend}: the budget is {limit:,}"
            f" shots (--max-shots, ${ENV_MAX_SHOTS} or max_shots in {config_path()})"
        )
    print(f"qkit: paid submission to {cost.line()}", file=sys.stderr)
    if consent.yes:
        consent.approved.add(cost)
        return cost
    if consent.ask and _interactive():
        print("qkit: submit? [y/N] ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            consent.approved.add(cost)
            return cost
        raise ConsentRequired(f"not submitted to {cost.backend}: the answer was not yes")
    raise ConsentRequired(
        f"not submitted to {cost.backend} without consent: pass --yes on the command line, or"
        " use 'with qkit.consent.allow(): ...' in Python"
    )


def replay_backend(requested: str | None, stored: str) -> str:
    """The backend a replay runs on: ``requested``, else the stored one unless that is a
    cloud backend (a stored provenance never chooses a paid submission by itself)."""
    if requested is not None:
        return requested
    from qkit.backends._capabilities import capabilities

    if capabilities(stored).cloud:
        raise ConsentRequired(
            f"the run was on the cloud backend {stored}: replay it there only by naming it,"
            f" --backend {stored} (a paid submission; it asks for consent)"
        )
    return stored


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
