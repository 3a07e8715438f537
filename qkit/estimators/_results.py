"""Result containers and input checks shared by the estimators.

Estimates broadcast: every field is a numpy array over the caller's leading batch axes (a
0-d array for a single point). ``to_dict`` gives the JSON form used by ``qkit run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, cast

import numpy as np
from numpy.typing import ArrayLike


def _plain(value: Any) -> Any:
    """0-d arrays -> Python scalars, arrays -> nested lists (JSON-ready)."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return arr.item()
    return arr.tolist()


class _Batched:
    """Indexing and shape for dataclasses whose array fields share leading batch axes."""

    _batched_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(getattr(self, self._batched_fields[0]))

    def __getitem__(self, index: Any):
        shape = self.shape
        changes = {
            name: np.broadcast_to(np.asarray(getattr(self, name)), shape)[index]
            for name in self._batched_fields
        }
        return replace(cast(Any, self), **changes)  # a mixin of dataclasses only


@dataclass(frozen=True, eq=False)
class Estimate(_Batched):
    """A value with its standard error (1 sigma), e.g. a correlator or a CHSH value.

    Attributes
    ----------
    value, stderr : numpy.ndarray
        Point estimate and standard error, broadcast over the batch axes.
    """

    value: np.ndarray
    stderr: np.ndarray

    _batched_fields: ClassVar[tuple[str, ...]] = ("value", "stderr")

    def to_dict(self) -> dict[str, Any]:
        """``{"value": ..., "stderr": ...}`` with plain Python numbers (lists for batches)."""
        return {"value": _plain(self.value), "stderr": _plain(self.stderr)}

    def normal_interval(self, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """The normal-approximation interval ``value -/+ z stderr``."""
        from qkit.estimators._normal import norm

        z = norm.ppf(0.5 + confidence / 2.0)
        return self.value - z * self.stderr, self.value + z * self.stderr


@dataclass(frozen=True, eq=False)
class ChshEstimate(Estimate):
    """A CHSH value with its standard error, interval, and the test of the local bound 2.

    Attributes
    ----------
    significance : numpy.ndarray
        ``(value - 2) / stderr``, the distance to the local bound in standard errors (a
        normal-approximation figure kept for continuity; use ``violation_p_value``).
    ci_low, ci_high : numpy.ndarray
        Two-sided interval at ``confidence`` (normal, exact binomial variance per setting),
        within Tsirelson's range ``[-2 sqrt2, 2 sqrt2]``.
    lower_bound : numpy.ndarray
        One-sided lower confidence bound at ``confidence``, valid at finite shots.
    violation_p_value, violation_sigma : numpy.ndarray
        Finite-sample p-value of the local-realist hypothesis ``CHSH <= 2`` and the same as a
        one-sided normal quantile ``Phi^-1(1 - p)`` ("sigma"; 0 when ``p >= 1/2``).
    at_boundary : numpy.ndarray of bool
        The interval reaches Tsirelson's bound: read it as the lower bound only.
    upper_bound : numpy.ndarray
        One-sided upper confidence bound at ``confidence``, valid at finite shots.
    no_violation_p_value, no_violation_sigma : numpy.ndarray
        Finite-sample p-value of ``CHSH >= 2`` (small: the pair does not violate) and its sigma.
    """

    significance: np.ndarray = None  # type: ignore[assignment]
    ci_low: np.ndarray = None  # type: ignore[assignment]
    ci_high: np.ndarray = None  # type: ignore[assignment]
    lower_bound: np.ndarray = None  # type: ignore[assignment]
    violation_p_value: np.ndarray = None  # type: ignore[assignment]
    violation_sigma: np.ndarray = None  # type: ignore[assignment]
    at_boundary: np.ndarray = False  # type: ignore[assignment]
    confidence: float = 0.95
    upper_bound: np.ndarray = None  # type: ignore[assignment]
    no_violation_p_value: np.ndarray = None  # type: ignore[assignment]
    no_violation_sigma: np.ndarray = None  # type: ignore[assignment]

    _batched_fields = (
        "value",
        "stderr",
        "significance",
        "ci_low",
        "ci_high",
        "lower_bound",
        "violation_p_value",
        "violation_sigma",
        "upper_bound",
        "no_violation_p_value",
        "no_violation_sigma",
        "at_boundary",
    )

    def to_dict(self) -> dict[str, Any]:
        """``value, stderr, significance, ci_low, ci_high, lower_bound, violation_p_value,
        violation_sigma, upper_bound, no_violation_p_value, no_violation_sigma`` (plus
        ``at_boundary`` where flagged)."""
        out = super().to_dict()
        for name in self._batched_fields[2:-1]:
            out[name] = _plain(getattr(self, name))
        if np.any(self.at_boundary):
            out["at_boundary"] = _plain(np.asarray(self.at_boundary, dtype=bool))
        return out

    def covers(self, truth: ArrayLike) -> np.ndarray:
        """Whether ``ci_low <= truth <= ci_high`` (broadcast)."""
        truth = np.asarray(truth, dtype=float)
        return (self.ci_low <= truth) & (truth <= self.ci_high)


@dataclass(frozen=True, eq=False)
class Interval(_Batched):
    """A value with a confidence interval ``[ci_low, ci_high]``.

    Attributes
    ----------
    value : numpy.ndarray
        Point estimate.
    ci_low, ci_high : numpy.ndarray
        Interval ends at the stated ``confidence``.
    confidence : float
        Nominal coverage, e.g. 0.95.
    at_boundary : numpy.ndarray of bool
        True where the estimate or its interval touches the edge of the quantity's range
        (e.g. concurrence 0). There the interval cannot be trusted to have nominal coverage:
        the sampling distribution piles up on the edge.
    method : str
        How the interval was made (e.g. ``"bootstrap-percentile"``).
    """

    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float = 0.95
    at_boundary: np.ndarray = False  # type: ignore[assignment]
    method: str = ""

    _batched_fields: ClassVar[tuple[str, ...]] = ("value", "ci_low", "ci_high", "at_boundary")

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci_low", "ci_high"}``, plus ``"at_boundary"`` only where flagged.

        The flag is added (for a batch, as a list) only when some entry is at a boundary, so
        an interior result has exactly the three keys.
        """
        out = {
            "value": _plain(self.value),
            "ci_low": _plain(self.ci_low),
            "ci_high": _plain(self.ci_high),
        }
        if np.any(self.at_boundary):
            out["at_boundary"] = _plain(np.asarray(self.at_boundary, dtype=bool))
        return out

    def covers(self, truth: ArrayLike) -> np.ndarray:
        """Whether ``ci_low <= truth <= ci_high`` (broadcast)."""
        truth = np.asarray(truth, dtype=float)
        return (self.ci_low <= truth) & (truth <= self.ci_high)


@dataclass(frozen=True, eq=False)
class ConcurrenceInterval(Interval):
    """A concurrence interval with the test of entanglement ``C > 0``.

    Attributes
    ----------
    stderr : numpy.ndarray
        Standard error of the statistic the interval is built on (for tomography the linear
        witness whose positive part is the concurrence of the mix-up states).
    lower_bound : numpy.ndarray
        One-sided lower confidence bound at ``confidence`` (0 when entanglement is not shown).
    entangled_p_value, entangled_sigma : numpy.ndarray
        p-value of the separable hypothesis ``C = 0`` and ``Phi^-1(1 - p)`` (0 when
        ``p >= 1/2``).
    upper_bound : numpy.ndarray
        One-sided upper confidence bound at ``confidence``.
    threshold : numpy.ndarray
        The ``c`` of the opposite claim ``C < c``.
    below_p_value, below_sigma : numpy.ndarray
        p-value of ``C >= threshold`` (small: the concurrence is below it) and its sigma.
    """

    stderr: np.ndarray = None  # type: ignore[assignment]
    lower_bound: np.ndarray = None  # type: ignore[assignment]
    entangled_p_value: np.ndarray = None  # type: ignore[assignment]
    entangled_sigma: np.ndarray = None  # type: ignore[assignment]
    upper_bound: np.ndarray = None  # type: ignore[assignment]
    threshold: np.ndarray = None  # type: ignore[assignment]
    below_p_value: np.ndarray = None  # type: ignore[assignment]
    below_sigma: np.ndarray = None  # type: ignore[assignment]

    _batched_fields = (
        "value",
        "ci_low",
        "ci_high",
        "at_boundary",
        "stderr",
        "lower_bound",
        "entangled_p_value",
        "entangled_sigma",
        "upper_bound",
        "threshold",
        "below_p_value",
        "below_sigma",
    )

    def to_dict(self) -> dict[str, Any]:
        """The interval's keys plus ``lower_bound, entangled_p_value, entangled_sigma,
        upper_bound, threshold, below_p_value, below_sigma``.

        (``stderr`` stays an attribute: JSON readers take a dict with ``stderr`` for a
        ``value +- stderr`` estimate.)
        """
        out = super().to_dict()
        for name in self._batched_fields[5:]:
            out[name] = _plain(getattr(self, name))
        return out


def as_counts(
    counts: ArrayLike, trailing: tuple[int | None, ...], name: str = "counts"
) -> np.ndarray:
    """Return ``counts`` as a float array after checking shape, sign and finiteness.

    ``trailing`` gives the required sizes of the last axes (``None``: any size >= 1).
    """
    try:
        arr = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of non-negative counts") from None
    want = len(trailing)
    shape_ok = arr.ndim >= want and all(
        (size is None and got >= 1) or got == size
        for size, got in zip(trailing, arr.shape[arr.ndim - want :], strict=True)
    )
    if not shape_ok:
        spec = ", ".join("n" if s is None else str(s) for s in trailing)
        raise ValueError(f"{name} must have shape (..., {spec}), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return arr


def row_shots(counts: np.ndarray, name: str = "counts") -> np.ndarray:
    """Shots per row (sum over the last axis); every row needs at least one shot."""
    shots = np.sum(counts, axis=-1)
    if np.any(shots <= 0):
        raise ValueError(f"{name}: every measurement setting needs at least one shot")
    return shots


def check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence:g}")
    return confidence


def check_n_boot(n_boot: int) -> int:
    """``0`` (no intervals) or an integer ``>= 10``."""
    try:
        ok = int(n_boot) == n_boot and (n_boot == 0 or n_boot >= 10)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"n_boot must be 0 (no intervals) or an integer >= 10, got {n_boot!r}")
    return int(n_boot)


RngLike = np.random.Generator | int | None | Sequence[np.random.Generator]


def as_rng(rng: RngLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator, an integer seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy.random.Generator or an integer seed, got {type(rng)}")


def as_rngs(rng: RngLike, n_points: int) -> list[np.random.Generator] | np.random.Generator:
    """A Generator, or a list of ``n_points`` Generators (one per batch point) checked for length.

    With a list, point ``i``'s randomness comes from ``rng[i]`` alone, so its result does not
    depend on the rest of the batch.
    """
    if isinstance(rng, list | tuple) or (isinstance(rng, np.ndarray) and rng.dtype == object):
        rngs = list(rng)
        if len(rngs) != n_points or not all(isinstance(g, np.random.Generator) for g in rngs):
            raise ValueError(
                f"rng must be one numpy Generator or a sequence of {n_points} Generators "
                f"(one per point), got {len(rngs)} items"
            )
        return rngs
    return as_rng(rng)
