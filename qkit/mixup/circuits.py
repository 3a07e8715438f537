"""Paper A as circuits: pairs ``psi_a``, the delivered pair under mix-up, and its measurements.

The mix-up ``M[rho] = S rho + (1 - S) Tr_B[rho] ⊗ Tr_A[rho]`` (Eq. 2.1) is linear on two copies:
two independent pairs (A1 B1), (A2 B2) and a :data:`qkit.noise.MIXUP` site on (B1, B2) that
swaps with probability ``1 - S`` leave (A1 B1), the delivered pair, exactly in ``M[rho]``.
Realize the site with ``qkit.noise.noise_model([swap_mixture(S)])`` on Aer, or with
:func:`delivered_pair_branches` (intact: A1 with B1, weight ``S``; failure: A1 with B2, weight
``1 - S``, no SWAP gate) on hardware.

Measurements rotate each side's Bloch direction ``n = (sin t cos p, sin t sin p, cos t)`` onto
``z`` with ``RZ(-p)`` then ``RY(-t)``; the angles are the Parameters ``theta_A, phi_A, theta_B,
phi_B``, so one transpiled circuit serves every setting (:func:`setting_bindings`). The
classical register ``meas`` holds ``meas[0]`` = side A, ``meas[1]`` = side B; bit 0 means
eigenvalue +1. :func:`counts_array` turns Qiskit counts into qkit order (index ``2 bA + bB``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter, ParameterExpression

from qkit import noise
from qkit._validate import check_amplitude

SETTING_NAMES = ("theta_A", "phi_A", "theta_B", "phi_B")
"""Names of the measurement-angle Parameters added by :func:`measure_directions`."""
PAULI_SETTINGS = ("XX", "XY", "XZ", "YX", "YY", "YZ", "ZX", "ZY", "ZZ")
"""Tomography settings, side A first."""
PAULI_DIRECTIONS = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}
CHSH_SETTINGS = (("a", "b"), ("a", "b_prime"), ("a_prime", "b"), ("a_prime", "b_prime"))
"""The four CHSH settings, keys of :func:`qkit.measures.optimal_chsh_settings`."""
CHSH_SIGNS = np.array([1.0, 1.0, 1.0, -1.0])
"""``CHSH = E(a,b) + E(a,b') + E(a',b) - E(a',b')``."""


def amplitude_angle(amplitude: float | ParameterExpression) -> float | ParameterExpression:
    """The ``RY`` angle ``theta = 2 arccos(a)`` preparing ``a|0> + sqrt(1-a^2)|1>``.

    >>> round(amplitude_angle(2 ** -0.5), 12) == round(np.pi / 2, 12)
    True
    """
    if isinstance(amplitude, ParameterExpression):
        return 2 * amplitude.arccos()
    return float(2.0 * np.arccos(float(check_amplitude(amplitude))))


def psi_circuit(
    amplitude: float | ParameterExpression | None = None,
    *,
    angle: float | ParameterExpression | None = None,
) -> QuantumCircuit:
    """Prepare ``|psi_a> = a|00> + sqrt(1-a^2)|11>`` on registers ``a``, ``b`` (paper A, Sec. II).

    ``RY(theta)`` on A, then ``CX(A, B)``, with ``a = cos(theta/2)``. Give either the
    ``amplitude`` (a float or a ``Parameter`` bound to ``a`` itself; the angle is then the
    expression ``2 acos(a)``) or the ``angle`` theta directly (what the OpenQASM 3 files use:
    importers do not all evaluate ``acos``).

    >>> from qiskit.quantum_info import Statevector
    >>> Statevector(psi_circuit(0.6)).probabilities().round(12).tolist()  # |00>, |11>
    [0.36, 0.0, 0.0, 0.64]
    """
    if (amplitude is None) == (angle is None):
        raise ValueError("give exactly one of amplitude and angle")
    qc = QuantumCircuit(QuantumRegister(1, "a"), QuantumRegister(1, "b"), name="psi")
    qc.ry(amplitude_angle(amplitude) if angle is None else angle, 0)
    qc.cx(0, 1)
    return qc


def delivered_pair_circuit(pair: float | ParameterExpression | QuantumCircuit) -> QuantumCircuit:
    """Two independent pairs and the mix-up site on (B1, B2) (paper A, Eq. 2.1).

    Parameters
    ----------
    pair : float, Parameter or QuantumCircuit
        The amplitude ``a`` of ``psi_a``, or any circuit preparing a two-qubit state on its
        qubits 0 (A) and 1 (B); further qubits are its purification and are copied per pair.

    Returns
    -------
    QuantumCircuit
        Qubits A1, B1, A2, B2 (indices 0-3, one register each, named ``a1, b1, a2, b2``: lower
        case for OpenQASM importers) then ancilla registers ``e1``, ``e2`` if any; no
        measurements. The delivered pair is (A1, B1): qubits 0, 1.
    """
    prep = psi_circuit(pair) if not isinstance(pair, QuantumCircuit) else pair
    if prep.num_qubits < 2 or prep.num_clbits:
        raise ValueError("pair circuit must act on >= 2 qubits and have no classical bits")
    extra = prep.num_qubits - 2
    regs = [QuantumRegister(1, name) for name in ("a1", "b1", "a2", "b2")]
    ancillas = [QuantumRegister(extra, name) for name in ("e1", "e2")] if extra else []
    qc = QuantumCircuit(*regs, *ancillas, name="delivered_pair")
    for k in range(2):
        wires = [regs[2 * k][0], regs[2 * k + 1][0], *(ancillas[k] if extra else [])]
        qc.compose(prep, qubits=wires, inplace=True)
    qc.append(noise.noise_site(noise.MIXUP, 2), [regs[1][0], regs[3][0]])
    return qc


def delivered_pair_branches(circuit: QuantumCircuit) -> list[QuantumCircuit]:
    """The mix-up as two noise-free circuits: ``[intact, failure]``, weights ``[S, 1 - S]``.

    The failure branch measures A1 with B2 (the SWAP becomes a relabelling, no gate); gates
    that cannot reach a measurement are pruned (the intact branch keeps one pair). Weights come
    from ``qkit.noise.branch_weights(circuit, [swap_mixture(S)])``.
    """
    return noise.expand_branches(circuit, [noise.swap_mixture(1.0)], prune=True)


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
    theta_a, phi_a = direction_angles(np.atleast_2d(directions_a))
    theta_b, phi_b = direction_angles(np.atleast_2d(directions_b))
    if theta_a.shape != theta_b.shape:
        raise ValueError("directions_a and directions_b must list the same number of settings")
    return dict(zip(_setting_parameters(circuit), (theta_a, phi_a, theta_b, phi_b), strict=True))


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
