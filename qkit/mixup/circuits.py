"""Paper A as circuits: pairs ``psi_a``, the delivered pair under mix-up, and its measurements.

The mix-up ``M[rho] = S rho + (1 - S) Tr_B[rho] ⊗ Tr_A[rho]`` (Eq. 2.1) is linear on two copies:
two independent pairs (A1 B1), (A2 B2) and a :data:`qkit.noise.MIXUP` site on (B1, B2) that
swaps with probability ``1 - S`` leave (A1 B1), the delivered pair, exactly in ``M[rho]``.
Realize the site with ``qkit.noise.noise_model([swap_mixture(S)])`` on Aer, or with
:func:`delivered_pair_branches` (intact: A1 with B1, weight ``S``; failure: A1 with B2, weight
``1 - S``, no SWAP gate) on hardware.

The pair is measured along Bloch directions with the helpers of :mod:`qkit.pairs` (shared with
the other pair experiments; their names stay importable from here).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit import ParameterExpression

from qkit import noise
from qkit._validate import check_amplitude
from qkit.pairs import (  # noqa: F401 - the pair-measurement helpers' first home
    CHSH_SETTINGS,
    CHSH_SIGNS,
    PAULI_DIRECTIONS,
    PAULI_SETTINGS,
    SETTING_NAMES,
    bind_settings,
    chsh_bindings,
    chsh_circuits,
    chsh_directions,
    counts_array,
    direction_angles,
    direction_probabilities,
    measure_directions,
    pair_outcomes,
    setting_angles,
    setting_bindings,
    tomography_circuits,
    tomography_directions,
)


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
