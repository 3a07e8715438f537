"""Input validation shared by the public API and the CLI.

Every public function checks its parameters here, so the Python API raises
``ValueError`` and the CLI prints the same one-line message (and exits 2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit._checks import SHOWN_CHARS, shown  # noqa: F401 - the error lines' one helper
from qkit._states import ATOL, as_density_matrix


def exact(x: float) -> str:
    """A float with every digit it needs to round-trip (1.0000001, not 1), ints without ".0"."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"

    def fmt(x: float) -> str:
        return "inf" if np.isinf(x) else f"{x:g}"

    return f"{left}{fmt(low)}, {fmt(high)}{right}"


def check_range(
    name: str,
    value: ArrayLike,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> np.ndarray:
    """Return ``value`` as a float array, or raise ``ValueError`` naming ``name`` and its range.

    >>> check_range("success", 0.5, 0, 1, low_open=True)
    array(0.5)
    >>> check_range("success", 0, 0, 1, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: success must be in (0, 1], got 0
    """
    allowed = _interval(low, high, low_open, high_open)
    kind = _not_real(value)
    if kind:  # numpy would read True as 1 and drop an imaginary part: refused instead
        raise ValueError(f"{name} must be a number in {allowed}, got {kind} {shown(value)}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in {allowed}, got {shown(value)}") from None
    above = arr > low if low_open else arr >= low
    below = arr < high if high_open else arr <= high
    ok = above & below  # NaN fails both comparisons
    if not np.all(ok):
        bad = arr[~ok] if arr.ndim else arr
        first = float(np.ravel(bad)[0])
        raise ValueError(
            f"{name} must be in {_interval(low, high, low_open, high_open)}, got {exact(first)}"
        )
    return arr


def _not_real(value: object) -> str:
    """What ``value`` is if it is not real numbers ("a boolean", "a complex", "a string")."""
    try:
        kind: str = np.asarray(value).dtype.kind
    except (TypeError, ValueError):
        return ""  # ragged or odd: the float conversion names it
    if kind == "O" or isinstance(value, list | tuple):  # [0.5, True] would be all floats
        try:
            items = np.ravel(np.asarray(value, dtype=object))
        except (TypeError, ValueError):
            return ""
        kinds = {
            "b" if isinstance(v, bool | np.bool_) else "c" if np.iscomplexobj(v) else ""
            for v in items
        }
        kind = next((k for k in ("b", "c") if k in kinds), "")
    return {"b": "a boolean", "c": "a complex number", "U": "a string", "S": "a string"}.get(
        kind, ""
    )


def check_success(success: ArrayLike) -> np.ndarray:
    """Mix-up success probability S in (0, 1]."""
    return check_range("success", success, 0.0, 1.0, low_open=True)


def check_amplitude(amplitude: ArrayLike) -> np.ndarray:
    """Amplitude a in [0, 1] of |00> in psi_a."""
    return check_range("amplitude", amplitude, 0.0, 1.0)


def check_eta(eta: ArrayLike) -> np.ndarray:
    """Slot-2 Bloch shrink factor eta in [0, 1]."""
    return check_range("eta", eta, 0.0, 1.0)


def check_inputs(inputs: str) -> str:
    """Input alphabet of the two-photon sector: 'entangled' or 'separable'."""
    if inputs not in ("entangled", "separable"):
        raise ValueError(f"inputs must be 'entangled' or 'separable', got {shown(inputs)}")
    return inputs


def check_density_matrix(
    rho: object, dim: int | None = 4, *, name: str = "rho", atol: float = ATOL
) -> np.ndarray:
    """Return ``rho`` as a complex array of shape (..., dim, dim) after checking it is a state.

    Accepts arrays, nested lists, Qiskit ``DensityMatrix``/``Statevector`` and QuTiP ``Qobj``
    (see :func:`qkit._states.as_density_matrix`); rejects wrong shapes, NaN/inf, non-Hermitian,
    non-unit-trace and non-positive matrices with one line naming ``name``.

    >>> check_density_matrix(2 * np.eye(4) / 4)
    Traceback (most recent call last):
    ...
    ValueError: rho must have unit trace (got trace 2)
    """
    return as_density_matrix(rho, name, dim, atol=atol)


def check_probabilities(
    probabilities: ArrayLike, name: str = "probabilities", axis: int = -1, *, atol: float = 1e-9
) -> np.ndarray:
    """Finite, non-negative probabilities summing to 1 along ``axis``, as floats.

    >>> check_probabilities([1.5, -0.5])
    Traceback (most recent call last):
    ...
    ValueError: probabilities must be non-negative (got -0.5)
    """
    try:
        p = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError):
        kind = type(probabilities).__name__
        raise ValueError(f"{name} must be an array of probabilities, got {kind}") from None
    if p.ndim == 0:
        raise ValueError(f"{name} must be an array of probabilities, got a scalar")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite (it contains NaN or inf)")
    if np.any(p < -atol):
        raise ValueError(f"{name} must be non-negative (got {float(p.min()):.12g})")
    total = np.sum(p, axis=axis)
    off = np.abs(total - 1.0)
    if np.any(off > atol):
        worst = float(np.ravel(total)[int(np.argmax(off))])
        raise ValueError(f"{name} must sum to 1 (got {worst:.12g})")
    return p
