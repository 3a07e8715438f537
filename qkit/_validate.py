"""Input validation shared by the public API and the CLI.

Every public function checks its parameters here, so the Python API raises
``ValueError`` and the CLI prints the same one-line message (and exits 2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


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
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number in {_interval(low, high, low_open, high_open)}, got {value!r}"
        ) from None
    above = arr > low if low_open else arr >= low
    below = arr < high if high_open else arr <= high
    ok = above & below  # NaN fails both comparisons
    if not np.all(ok):
        bad = arr[~ok] if arr.ndim else arr
        first = float(np.ravel(bad)[0])
        raise ValueError(
            f"{name} must be in {_interval(low, high, low_open, high_open)}, got {first:g}"
        )
    return arr


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
        raise ValueError(f"inputs must be 'entangled' or 'separable', got {inputs!r}")
    return inputs


def check_density_matrix(rho: ArrayLike, dim: int = 4, *, atol: float = 1e-8) -> np.ndarray:
    """Return ``rho`` as a complex array of shape (..., dim, dim) after checking it is a state."""
    arr = np.asarray(rho, dtype=complex)
    if arr.shape[-2:] != (dim, dim):
        raise ValueError(f"rho must have shape (..., {dim}, {dim}), got {arr.shape}")
    if not np.allclose(arr, np.conj(np.swapaxes(arr, -1, -2)), atol=atol):
        raise ValueError("rho must be Hermitian")
    if not np.allclose(np.trace(arr, axis1=-2, axis2=-1), 1.0, atol=atol):
        raise ValueError("rho must have unit trace")
    if np.min(np.linalg.eigvalsh(arr)) < -atol:
        raise ValueError("rho must be positive semidefinite")
    return arr
