"""Paper A sampled: CHSH and state tomography of the delivered pair, beside the exact prediction.

:data:`MIXUP` is the one definition of the experiment (:class:`qkit.experiment.Experiment`):
the delivered pair (A1, B1) of :func:`qkit.mixup.circuits.delivered_pair_circuit` is measured at
the optimal CHSH settings of the predicted state ``M[psi_a]`` (4 settings) and in the 9 Pauli
settings of two-qubit tomography, ``shots`` shots per setting. The counts become a CHSH value
with its binomial standard error and violation significance (Sec. V), and a physical state
estimate with intervals for concurrence (Eq. 3.3), ``E_F`` and fidelity (Eq. 3.2).

>>> result = run(0.9, 2 ** -0.5, shots=2000, seed=1, n_boot=200)
>>> result.estimate["chsh"]["value"] > 2
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit import experiment as definitions
from qkit._validate import check_amplitude, check_success
from qkit.experiment import Analysis, Experiment, Param, Point, Points
from qkit.mixup import theory

if TYPE_CHECKING:
    from qkit.backends import Backend
    from qkit.result import Result

NUM_SETTINGS = 13
"""4 CHSH settings (optimal for the predicted state), then the 9 Pauli settings."""


def predict(points: Points) -> dict[str, np.ndarray]:
    """The exact values an experiment at ``(S, a)`` estimates (keys of ``qkit run mixup``)."""
    s, a = points["success"], points["amplitude"]
    return {
        "fidelity": theory.fidelity(s, a),
        "concurrence": theory.concurrence(s, a),
        "eof": theory.eof(s, a),
        "chsh_max": theory.chsh_max(s, a),
    }


def setting_directions(success: Any, amplitude: Any) -> tuple[np.ndarray, np.ndarray]:
    """Directions of A and B for the 13 settings of each point, each (..., 13, 3).

    The CHSH settings optimal for the predicted state ``M[psi_a]``
    (:func:`qkit.measures.optimal_chsh_settings`), then the Pauli settings XX, XY, ..., ZZ.
    """
    from qkit.mixup import circuits

    chsh_a, chsh_b = circuits.chsh_directions(theory.chsh_settings(success, amplitude))
    tomo_a, tomo_b = circuits.tomography_directions()
    shape = chsh_a.shape[:-2] + (9, 3)
    return (
        np.concatenate([chsh_a, np.broadcast_to(tomo_a, shape)], axis=-2),
        np.concatenate([chsh_b, np.broadcast_to(tomo_b, shape)], axis=-2),
    )


@functools.cache
def _delivered_pair():
    """The delivered pair with the preparation angle ``theta_psi = 2 acos(a)`` a Parameter.

    The angle, not ``a``: the expression ``acos(a)`` does not survive every provider's
    OpenQASM conversion (Braket's), a bare angle does.
    """
    from qiskit.circuit import Parameter

    from qkit.mixup import circuits

    return circuits.delivered_pair_circuit(circuits.psi_circuit(angle=Parameter("theta_psi")))


@functools.cache
def _measured_pair():
    """The delivered pair with the preparation and measurement angles as Parameters."""
    from qkit.mixup import circuits

    return circuits.measure_directions(_delivered_pair())


def circuits(point: Point):
    """One parametrized circuit for every point (transpiled once); the swap mixture of ``S``."""
    from qkit import noise, pairs
    from qkit.mixup import circuits
    from qkit.sampling import Family

    success, amplitude = point["success"], point["amplitude"]
    settings = pairs.setting_angles(*setting_directions(success, amplitude))
    settings["theta_psi"] = np.full(NUM_SETTINGS, circuits.amplitude_angle(amplitude))
    family = Family("mixup", [_measured_pair()], [settings])
    return family, [noise.swap_mixture(success)]


def outcomes(point: Point, index: int, num_clbits: int) -> np.ndarray:
    """Qiskit's bit string of ``meas`` (clbit 0 = A) -> the pair's outcome ``2 bA + bB``."""
    from qkit import pairs

    return pairs.pair_outcomes(num_clbits)


def analyse(
    counts: Sequence[np.ndarray],
    points: Points,
    rngs: Sequence[np.random.Generator],
    analysis: Analysis,
) -> dict[str, Any]:
    """Estimates from counts of shape (13, 4) per point: CHSH, then tomography."""
    from qkit import estimators

    stacked = np.asarray(counts)
    chsh = estimators.chsh(stacked[:, :4], confidence=analysis.confidence)  # analytic: cheap
    tomography = estimators.state_tomography(
        stacked[:, 4:],
        theory.psi(points["amplitude"]),
        confidence=analysis.confidence,
        n_boot=analysis.n_boot,
    )  # analytic intervals: no resampling, so no use for the points' generators
    return {
        "chsh": chsh,
        "concurrence": tomography.concurrence,
        "eof": tomography.eof,
        "fidelity": tomography.fidelity,
        "state": tomography.state,
    }


def concurrence_below(
    counts: Any, amplitude: float, threshold: float, confidence: float = 0.95
) -> dict[str, Any]:
    """The concurrence estimate re-analysed with the claim ``C < threshold`` (JSON form).

    ``counts`` is a mix-up result's counts record (``{"settings", "counts"}``, 13 settings:
    4 CHSH then 9 Pauli) as :class:`qkit.result.Result` keeps and the store returns, so
    ``qkit run`` and ``qkit results show`` answer "is C below c?" for any ``c`` without
    sampling again.
    """
    from qkit import estimators

    table = np.asarray(counts["counts"] if isinstance(counts, dict) else counts, dtype=float)
    if table.shape != (13, 4):
        raise ValueError(f"counts must be a mix-up record of 13 settings, got shape {table.shape}")
    est = estimators.state_tomography(
        table[4:], theory.psi(amplitude), confidence=confidence, threshold=threshold
    )
    return est.concurrence.to_dict()


# -- the exact engine: the delivered pair's branch states, measured by the Born rule ----------
_STATES: dict[tuple[str, float], np.ndarray] = definitions.cache({})


def branch_states(backend: Backend, amplitudes: np.ndarray) -> np.ndarray:
    """Delivered-pair states of the intact and failure branches, shape (n, 2, 4, 4), qkit order.

    ``M[psi_a] = S states[:, 0] + (1 - S) states[:, 1]`` (paper A, Eq. 2.1 realized as the
    two-copy swap mixture). Each distinct amplitude is simulated once per process.
    """
    from qkit import measures

    amplitudes = np.asarray(amplitudes, dtype=float)
    unique, inverse = np.unique(amplitudes, return_inverse=True)  # a chunk repeats amplitudes
    known = {a for name, a in _STATES if name == backend.name}
    missing = sorted({float(a) for a in unique} - known)
    if missing:
        from qkit.mixup import circuits

        (theta,) = _delivered_pair().parameters
        angles = [circuits.amplitude_angle(a) for a in missing]
        for b, (branch, qubits) in enumerate(_branches()):
            rho = backend.density_matrices(branch, qubits, {theta: angles})
            for a, state in zip(missing, rho, strict=True):
                entry = _STATES.setdefault((backend.name, a), np.empty((2, 4, 4), dtype=complex))
                entry[b] = measures.from_qiskit_order(state)
    table = np.array([_STATES[(backend.name, float(a))] for a in unique])
    return table[inverse.reshape(amplitudes.shape)]


@functools.cache
def _branches():
    """The intact and failure branches of the delivered pair and the qubits of its pair.

    The failure branch is the swap done by relabelling (no SWAP gate): its pair is (A1, B2).
    A marker on (A1, B1) placed before the branches are expanded follows the relabelling.
    """
    from qiskit.circuit import Instruction

    from qkit import noise

    pair = _delivered_pair().copy()
    for qubit, name in ((0, "pair_a"), (1, "pair_b")):  # non-gates: pruning keeps their cone
        pair.append(Instruction(name, 1, 0, []), [qubit])
    out = []
    for branch in noise.expand_branches(pair, [noise.swap_mixture(1.0)], prune=True):
        qubits, kept = {}, branch.copy_empty_like()
        for inst in branch.data:
            if inst.operation.name in ("pair_a", "pair_b"):
                qubits[inst.operation.name] = branch.find_bit(inst.qubits[0]).index
            else:
                kept.append(inst)
        out.append((kept, [qubits["pair_a"], qubits["pair_b"]]))
    return tuple(out)


def probabilities(backend: Backend, points: Points) -> list[np.ndarray]:
    """Exact outcome distributions (13, 4) of each point: branch states mixed by ``S``."""
    success = np.asarray(points["success"], dtype=float)
    amplitude = np.asarray(points["amplitude"], dtype=float)
    states = branch_states(backend, amplitude)
    rho = np.einsum("nb,nbij->nij", np.stack([success, 1.0 - success], axis=-1), states)
    dirs_a, dirs_b = setting_directions(success, amplitude)
    from qkit.mixup import circuits

    return list(circuits.direction_probabilities(rho, dirs_a, dirs_b))


def _setting_labels() -> list[str]:
    from qkit.mixup import circuits

    chsh = [f"chsh:{x},{y}" for x, y in circuits.CHSH_SETTINGS]
    return chsh + [f"pauli:{s}" for s in circuits.PAULI_SETTINGS]


def _best_coupler(backend, store, width: int = 2):
    """``layout="best"``: the coupler of the largest stored survey with the highest lower
    confidence bound, else the best predicted from calibration (:mod:`qkit.survey.layout`)."""
    from qkit.survey.layout import choose

    return choose(backend, "mixup", store)


MIXUP = Experiment(
    name="mixup",
    title="paper A: CHSH and tomography of the delivered pair",
    params=(
        Param("success", check_success, "S in (0, 1]", flags=("-S",)),
        Param("amplitude", check_amplitude, "a in [0, 1]", flags=("-a",)),
    ),
    predict=predict,
    circuits=circuits,
    choose_layout=_best_coupler,
    outcomes=outcomes,
    analyse=analyse,
    targets={
        "chsh": "chsh_max",
        "concurrence": "concurrence",
        "eof": "eof",
        "fidelity": "fidelity",
    },
    probabilities=probabilities,
    labels=lambda point: {"settings": _setting_labels()},
)
"""Paper A's mix-up experiment."""


def run(success: float, amplitude: float, **options_: Any) -> Result:
    """Sample the delivered pair at ``(S, a)`` and estimate CHSH, concurrence, ``E_F``, fidelity.

    ``S`` in (0, 1] and ``a`` in [0, 1] (paper A, Eq. 2.1); ``shots`` is per measurement setting
    (13 settings: 4 CHSH, 9 Pauli). The options (shots, seed, backend, engine, n_boot,
    confidence, realization, mitigate, store, durable) are those of
    :meth:`qkit.experiment.Experiment.run`: the seed is drawn and recorded when omitted; the
    engine is ``sampler`` (every shot sampled) unless ``engine="exact"`` (Aer: counts drawn from
    the circuits' exact outcome probabilities).
    """
    return MIXUP.run(success=success, amplitude=amplitude, **options_)


def submit(success: float, amplitude: float, *, store: Any, **options_: Any) -> Any:
    """Submit the experiment at ``(S, a)`` durably (see :meth:`Experiment.submit`)."""
    return MIXUP.submit(success=success, amplitude=amplitude, store=store, **options_)
