"""Measuring a pair of qubits along Bloch directions: the settings every pair experiment uses.

Paper A's CHSH and tomography (:mod:`qkit.mixup`), the distillation round's kept pair
(:mod:`qkit.distill`), the device survey and a user's own experiment (notebook 05) measure a
pair the same way. :func:`measure_directions` rotates each side's Bloch direction
``n = (sin t cos p, sin t sin p, cos t)`` onto ``z`` with ``RZ(-p)`` then ``RY(-t)``; the angles
are the Parameters :data:`SETTING_NAMES`, so one transpiled circuit serves every setting
(:func:`setting_angles`, :func:`setting_bindings`). The classical register ``meas`` holds
``meas[0]`` = side A, ``meas[1]`` = side B; bit 0 means eigenvalue +1. The pair's outcome is
``2 bA + bB`` (:func:`pair_outcomes` maps Qiskit's bit strings to it; :func:`counts_array` does
it for counts dicts), the order :func:`qkit.estimators.chsh` and
:func:`qkit.estimators.state_tomography` read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.circuit import Parameter

from qkit.bits import outcome_table

SETTING_NAMES = ("theta_A", "phi_A", "theta_B", "phi_B")
"""Names of the measurement-angle Parameters added by :func:`measure_directions`."""
PAULI_SETTINGS = ("XX", "XY", "XZ", "YX", "YY", "YZ", "ZX", "ZY", "ZZ")
"""Tomography settings, side A first."""
PAULI_DIRECTIONS = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}
CHSH_SETTINGS = (("a", "b"), ("a", "b_prime"), ("a_prime", "b"), ("a_prime", "b_prime"))
"""The four CHSH settings, keys of :func:`qkit.measures.optimal_chsh_settings`."""
CHSH_SIGNS = np.array([1.0, 1.0, 1.0, -1.0])
"""``CHSH = E(a,b) + E(a,b') + E(a',b) - E(a',b')``."""


def direction_angles(directions: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Polar and azimuthal angles ``(theta, phi)`` of Bloch directions (..., 3) (normalized).

    >>> [round(float(x), 12) for x in direction_angles([1.0, 0.0, 0.0])]
    [1.570796326795, 0.0]
    """
    n = np.asarray(directions, dtype=float)
    norm = np.linalg.norm(n, axis=-1)
    if n.shape[-1:] != (3,) or np.any(norm < 1e-12):
        raise ValueError("directions must be non-zero vectors of shape (..., 3)")
    n = n / norm[..., None]
    return np.arccos(np.clip(n[..., 2], -1.0, 1.0)), np.arctan2(n[..., 1], n[..., 0])


def measure_directions(
    circuit: QuantumCircuit, qubit_a: int = 0, qubit_b: int = 1
) -> QuantumCircuit:
    """Append a measurement of A along ``(theta_A, phi_A)`` and B along ``(theta_B, phi_B)``.

    Outcome bit 0 is eigenvalue +1 of ``n . sigma``. Adds the register ``meas``: ``meas[0]``
    = A, ``meas[1]`` = B, so Qiskit's counts keys read ``"bB bA"``; use :func:`counts_array`.
    """
    qc = circuit.copy()
    meas = ClassicalRegister(2, "meas")
    qc.add_register(meas)
    theta_a, phi_a, theta_b, phi_b = (Parameter(name) for name in SETTING_NAMES)
    for qubit, theta, phi, bit in ((qubit_a, theta_a, phi_a, 0), (qubit_b, theta_b, phi_b, 1)):
        qc.rz(-phi, qubit)
        qc.ry(-theta, qubit)
        qc.measure(qubit, meas[bit])
    return qc


def _setting_parameters(circuit: QuantumCircuit) -> list[Parameter]:
    by_name = {p.name: p for p in circuit.parameters}
    missing = [n for n in SETTING_NAMES if n not in by_name]
    if missing:
        raise ValueError(
            f"circuit lacks the measurement parameters {missing}; use measure_directions"
        )
    return [by_name[n] for n in SETTING_NAMES]


def setting_bindings(
    circuit: QuantumCircuit, directions_a: ArrayLike, directions_b: ArrayLike
) -> dict[Parameter, np.ndarray]:
    """Parameter values for settings ``(directions_a[k], directions_b[k])``, k = 0..K-1.

    Usable as the bindings of a SamplerV2 PUB ``(circuit, bindings)``: one transpiled circuit,
    K settings. Works on the transpiled circuit too (parameters are found by name).
    """
    angles = setting_angles(directions_a, directions_b)
    return dict(zip(_setting_parameters(circuit), angles.values(), strict=True))


def bind_settings(
    circuit: QuantumCircuit, directions_a: ArrayLike, directions_b: ArrayLike
) -> list[QuantumCircuit]:
    """One circuit per setting, the measurement angles bound (other parameters left free)."""
    bindings = setting_bindings(circuit, directions_a, directions_b)
    count = len(next(iter(bindings.values())))
    return [circuit.assign_parameters({p: v[k] for p, v in bindings.items()}) for k in range(count)]


def chsh_directions(settings: Mapping[str, ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """Directions of A and B for the 4 :data:`CHSH_SETTINGS`, each (..., 4, 3).

    ``settings`` has keys ``a, a_prime, b, b_prime``, e.g. from
    ``qkit.mixup.theory.chsh_settings(S, a)`` or ``qkit.measures.optimal_chsh_settings(rho)``.
    """
    a = np.stack([np.asarray(settings[x], dtype=float) for x, _ in CHSH_SETTINGS], axis=-2)
    b = np.stack([np.asarray(settings[y], dtype=float) for _, y in CHSH_SETTINGS], axis=-2)
    return a, b


def chsh_bindings(
    circuit: QuantumCircuit, settings: Mapping[str, ArrayLike]
) -> dict[Parameter, np.ndarray]:
    """Bindings of the 4 CHSH settings (order :data:`CHSH_SETTINGS`, signs :data:`CHSH_SIGNS`)."""
    return setting_bindings(circuit, *chsh_directions(settings))


def chsh_circuits(
    circuit: QuantumCircuit, settings: Mapping[str, ArrayLike]
) -> list[QuantumCircuit]:
    """The 4 CHSH setting circuits (order :data:`CHSH_SETTINGS`)."""
    return bind_settings(circuit, *chsh_directions(settings))


def tomography_directions() -> tuple[np.ndarray, np.ndarray]:
    """Directions of A and B for the 9 :data:`PAULI_SETTINGS`, each (9, 3)."""
    a = np.array([PAULI_DIRECTIONS[s[0]] for s in PAULI_SETTINGS])
    b = np.array([PAULI_DIRECTIONS[s[1]] for s in PAULI_SETTINGS])
    return a, b


def tomography_circuits(circuit: QuantumCircuit) -> list[QuantumCircuit]:
    """The 9 Pauli tomography circuits (order :data:`PAULI_SETTINGS`)."""
    return bind_settings(circuit, *tomography_directions())


def counts_array(counts: Mapping[str, int], num_bits: int = 2) -> np.ndarray:
    """Qiskit counts of one register -> integer counts in qkit order (clbit 0 most significant).

    For ``meas`` of :func:`measure_directions` the index is ``2 bA + bB``.

    >>> counts_array({"01": 7, "10": 3}).tolist()  # key "01": bB = 0, bA = 1
    [0, 3, 7, 0]
    """
    out = np.zeros(2**num_bits, dtype=np.int64)
    for key, value in counts.items():
        bits = key.replace(" ", "")
        if len(bits) != num_bits or set(bits) - {"0", "1"}:
            raise ValueError(f"counts key {key!r} is not a {num_bits}-bit string")
        out[int(bits[::-1], 2)] += int(value)
    return out


_SIGN_A = np.array([1.0, 1.0, -1.0, -1.0])  # outcome 2 bA + bB, bit 0 = eigenvalue +1
_SIGN_B = np.array([1.0, -1.0, 1.0, -1.0])


def direction_probabilities(rho: ArrayLike, dirs_a: ArrayLike, dirs_b: ArrayLike) -> np.ndarray:
    """Outcome probabilities (..., K, 4) of :func:`measure_directions` on states ``rho``.

    ``rho`` (..., 4, 4) in qkit order, unit directions (..., K, 3); outcome ``2 bA + bB``:
    ``p = (1 + sA n_A.r_A + sB n_B.r_B + sA sB n_A^T T n_B) / 4`` (the Born rule).
    """
    from qkit import measures

    rho = np.asarray(rho, dtype=complex)  # states the caller built: no input checks (speed)
    bloch_a = _bloch(measures.partial_trace(rho, 0, trusted=True))
    bloch_b = _bloch(measures.partial_trace(rho, 1, trusted=True))
    t = measures.correlation_matrix(rho, trusted=True)
    n_a, n_b = np.asarray(dirs_a), np.asarray(dirs_b)
    e_a = np.einsum("...ki,...i->...k", n_a, bloch_a)
    e_b = np.einsum("...ki,...i->...k", n_b, bloch_b)
    e_ab = np.einsum("...ki,...ij,...kj->...k", n_a, t, n_b)
    p = (
        1.0
        + e_a[..., None] * _SIGN_A
        + e_b[..., None] * _SIGN_B
        + e_ab[..., None] * (_SIGN_A * _SIGN_B)
    ) / 4.0
    p = np.clip(p, 0.0, None)
    return p / p.sum(axis=-1, keepdims=True)


def _bloch(rho1: np.ndarray) -> np.ndarray:
    from qkit import measures

    return np.real(np.einsum("iab,...ba->...i", measures.PAULI, rho1))


def setting_angles(directions_a: ArrayLike, directions_b: ArrayLike) -> dict[str, np.ndarray]:
    """Values of the :data:`SETTING_NAMES` Parameters for settings ``(directions_a[k],
    directions_b[k])``: the settings of a :class:`qkit.Family` measured by
    :func:`measure_directions`.

    >>> {k: v.round(6).tolist() for k, v in setting_angles([[0, 0, 1]], [[1, 0, 0]]).items()}
    {'theta_A': [0.0], 'phi_A': [0.0], 'theta_B': [1.570796], 'phi_B': [0.0]}
    """
    theta_a, phi_a = direction_angles(np.atleast_2d(directions_a))
    theta_b, phi_b = direction_angles(np.atleast_2d(directions_b))
    if theta_a.shape != theta_b.shape:
        raise ValueError("directions_a and directions_b must list the same number of settings")
    return dict(zip(SETTING_NAMES, (theta_a, phi_a, theta_b, phi_b), strict=True))


@functools.cache
def pair_outcomes(num_clbits: int = 2) -> np.ndarray:
    """Qiskit's bit strings of ``meas`` (clbit 0 = A, clbit 1 = B) -> the outcome ``2 bA + bB``.

    The ``outcomes`` of an experiment measured with :func:`measure_directions`
    (:func:`qkit.bits.outcome_table`); further clbits are ignored.

    >>> pair_outcomes().argmax(axis=1).tolist()  # Qiskit integer bA + 2 bB -> 2 bA + bB
    [0, 2, 1, 3]
    """
    return outcome_table(num_clbits, lambda b_a, b_b, *_: 2 * b_a + b_b, 4)
