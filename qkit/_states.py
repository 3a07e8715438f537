"""Density matrices and state vectors from what users hold, checked once at the boundary.

Accepted: numpy arrays and nested lists (density matrices ``(..., d, d)``), Qiskit
``DensityMatrix`` and ``Statevector``, QuTiP ``Qobj`` (ket, bra or density matrix), and lists of
those. Qiskit states are reordered to qkit's convention (Qiskit's qubit 0, written rightmost, is
the first tensor factor here: the same map as :func:`qkit.measures.from_qiskit_order`); QuTiP's
tensor order already is qkit's. Neither library is imported: objects are recognized by
``type(x).__module__`` and duck typing, so modules that only need numpy stay light.

``trusted=True`` skips the conversion and the checks, for stacks the code built itself.
"""

from __future__ import annotations

import numpy as np

ATOL = 1e-8
"""Tolerance of the Hermiticity, trace, positivity and normalization checks."""
_NUMERIC = "biufc"  # numpy dtype kinds taken as numbers


def as_density_matrix(
    state: object,
    name: str = "rho",
    dim: int | None = None,
    *,
    trusted: bool = False,
    atol: float = ATOL,
) -> np.ndarray:
    """``state`` as a complex array ``(..., d, d)`` of density matrices, or a ``ValueError``.

    Checks the shape (square, ``d = dim`` if given), finiteness, Hermiticity, unit trace and
    positivity (eigenvalues ``>= -atol``); the message names ``name`` and the worst offender.

    >>> as_density_matrix([[0.5, 0], [0, 0.5]], dim=2).real.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    >>> as_density_matrix([[1, 0.2], [0, 0]], dim=2)
    Traceback (most recent call last):
    ...
    ValueError: rho must be Hermitian (max |rho - rho^dagger| = 0.2)
    """
    if trusted:
        return np.asarray(state, dtype=complex)
    arr = _as_operator(state, name)
    _check_square(arr, name, dim)
    _check_finite(arr, name)
    herm = np.abs(arr - np.conj(np.swapaxes(arr, -1, -2))).max(axis=(-2, -1))
    _fail_if(herm > atol, herm, name, "must be Hermitian (max |{0} - {0}^dagger| = {1:.3g})")
    trace = np.trace(arr, axis1=-2, axis2=-1).real
    off = np.abs(trace - 1.0)
    _fail_if(off > atol, trace, name, "must have unit trace (got trace {1:.12g})")
    lowest = np.linalg.eigvalsh(arr)[..., 0]
    _fail_if(lowest < -atol, lowest, name, "must be positive semidefinite (min eigenvalue {1:.3g})")
    return arr


def as_state_vector(
    state: object,
    name: str = "psi",
    dim: int | None = None,
    *,
    trusted: bool = False,
    atol: float = ATOL,
) -> np.ndarray:
    """``state`` as a complex array ``(..., d)`` of normalized state vectors, or a ``ValueError``.

    Accepts arrays, nested lists, Qiskit ``Statevector`` (reordered as in the module docstring)
    and QuTiP kets.

    >>> as_state_vector([0.6, 0.8]).real.tolist()
    [0.6, 0.8]
    """
    if trusted:
        return np.asarray(state, dtype=complex)
    arr = _as_vector(state, name)
    if arr.ndim < 1 or arr.shape[-1] < 1 or (dim is not None and arr.shape[-1] != dim):
        want = "d" if dim is None else dim
        raise ValueError(f"{name} must have shape (..., {want}), got {arr.shape}")
    _check_finite(arr, name)
    norm = np.linalg.norm(arr, axis=-1)
    _fail_if(np.abs(norm - 1.0) > atol, norm, name, "must be normalized (got norm {1:.12g})")
    return arr


def _as_operator(state: object, name: str) -> np.ndarray:
    """Convert without checks; a ket or bra of a known library becomes its projector."""
    if isinstance(state, np.ndarray):
        if state.dtype.kind in _NUMERIC:
            return state.astype(complex, copy=False)
        state = state.tolist()  # an object array (of states?) or strings: as a list
    foreign = _foreign(state, name)
    if foreign is not None:
        arr, is_vector = foreign
        return np.einsum("...a,...b->...ab", arr, arr.conj()) if is_vector else arr
    if isinstance(state, list | tuple) and state and _is_object(state[0]):
        return np.stack([_as_operator(s, f"{name}[{k}]") for k, s in enumerate(state)])
    return _numeric(state, name, "a density matrix")


def _as_vector(state: object, name: str) -> np.ndarray:
    if isinstance(state, np.ndarray):
        if state.dtype.kind in _NUMERIC:
            return state.astype(complex, copy=False)
        state = state.tolist()
    foreign = _foreign(state, name)
    if foreign is not None:
        arr, is_vector = foreign
        if not is_vector:
            raise ValueError(f"{name} must be a state vector, got a density matrix")
        return arr
    if isinstance(state, list | tuple) and state and _is_object(state[0]):
        return np.stack([_as_vector(s, f"{name}[{k}]") for k, s in enumerate(state)])
    return _numeric(state, name, "a state vector")


def _numeric(state: object, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(state, dtype=complex)
    except (TypeError, ValueError):
        kind = type(state).__name__
        raise ValueError(f"{name} must be {what} (an array of numbers), got {kind}") from None


def _is_object(x: object) -> bool:
    """A state object of a library (not a number, list or array)."""
    return not isinstance(x, np.ndarray | list | tuple | int | float | complex | np.number)


def _foreign(state: object, name: str) -> tuple[np.ndarray, bool] | None:
    """``(array, is_vector)`` of a Qiskit or QuTiP state in qkit order, None for anything else."""
    module = type(state).__module__ or ""
    kind = type(state).__name__
    if module.startswith("qiskit"):
        if kind not in ("Statevector", "DensityMatrix"):
            raise ValueError(f"{name} must be a state, got qiskit {kind}")
        dims = tuple(state.dims())
        return _from_qiskit_order(
            np.asarray(state.data, dtype=complex), dims
        ), kind == "Statevector"
    if module.startswith("qutip") or (
        callable(getattr(state, "full", None)) and hasattr(state, "isket")
    ):
        if getattr(state, "isket", False) or getattr(state, "isbra", False):
            vec = np.asarray(state.full(), dtype=complex).ravel()
            return (vec.conj() if state.isbra else vec), True
        if getattr(state, "isoper", False):
            return np.asarray(state.full(), dtype=complex), False
        raise ValueError(f"{name} must be a ket or a density matrix, got a QuTiP {state.type}")
    return None


def _from_qiskit_order(data: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    """Reverse the subsystems: Qiskit's index has subsystem 0 least significant."""
    n = len(dims)
    if n < 2:
        return data
    reverse = list(range(n))[::-1]
    if data.ndim == 1:
        return data.reshape(dims[::-1]).transpose(reverse).reshape(-1)
    tensor = data.reshape(dims[::-1] * 2)
    return tensor.transpose(reverse + [n + k for k in reverse]).reshape(data.shape)


def _check_square(arr: np.ndarray, name: str, dim: int | None) -> None:
    square = arr.ndim >= 2 and arr.shape[-1] == arr.shape[-2] and arr.shape[-1] >= 1
    if not square or (dim is not None and arr.shape[-1] != dim):
        want = "d, d" if dim is None else f"{dim}, {dim}"
        raise ValueError(f"{name} must have shape (..., {want}), got {arr.shape}")


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (it contains NaN or inf)")


def _fail_if(bad: np.ndarray, value: np.ndarray, name: str, template: str) -> None:
    """Raise ``name template`` for the first offending element (with its index in a stack)."""
    if not np.any(bad):
        return
    where = np.unravel_index(int(np.argmax(bad)), np.shape(bad)) if np.ndim(bad) else ()
    label = f"{name}[{', '.join(map(str, where))}]" if where else name
    raise ValueError(f"{label} {template.format(label, float(np.asarray(value)[where]))}")
