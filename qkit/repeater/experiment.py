"""A repeater chain of mixed-up pairs sampled on dynamic circuits, beside the exact theory.

:data:`CHAIN` is the one definition of the experiment (:class:`qkit.experiment.Experiment`),
written with the public experiment API only, like :mod:`qkit.distill.experiment`. One circuit
per point (:func:`qkit.repeater.circuits.chain_circuit`): ``L`` links delivered as in paper A
(the :data:`qkit.noise.MIXUP` sites, filled by ``qkit.noise.swap_mixture(S)``), memory
dephasing (:data:`qkit.repeater.circuits.DEPHASING` sites, ``I``/``Z`` with ``1-P``/``P``), ``K``
DEJMPS rounds per level with mid-circuit measurements, swaps with mid-circuit Bell measurements
and Pauli corrections by feed-forward; the end-to-end pair is measured at the 4 CHSH settings
optimal for the predicted state (:func:`qkit.repeater.theory.chain_state`) and in the 9 Pauli
settings, ``shots`` shots per setting. Each shot is one of five outcomes: the end pair's four
when every round's two outcomes agree, "discarded" otherwise.

Estimates, each with an interval:

- ``success_probability``: kept shots over all shots (pooled over the settings), exact
  Clopper-Pearson; predicted ``prod p_{l,k} ** N_{l,k}`` over the ``N_{l,k}`` rounds of each
  level and round (:func:`qkit.repeater.circuits.round_counts`);
- ``chsh``: from the kept shots of the CHSH settings (:func:`qkit.estimators.chsh`);
- ``fidelity`` (with ``|Phi+>``), ``concurrence``, ``eof``: tomography of the kept pair
  (:func:`qkit.estimators.state_tomography`).

``idle`` (nanoseconds, default 0) holds the stored qubits before each swap (``delay``): on a
device backend its T1/T2 act, and the device prediction (``prediction_device``) includes them;
backends without timing refuse it. The exact engine (Aer) simulates the chain's deferred form
(:mod:`qkit.repeater.circuits`) with Aer's density-matrix method and the noise model.

>>> result = CHAIN.run(links=2, success=0.95, amplitude=2**-0.5, shots=500, seed=1,
...                    engine="exact")
>>> f = result.estimate["fidelity"]
>>> bool(f["ci_low"] <= result.prediction["fidelity"] <= f["ci_high"])
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit._validate import check_amplitude, check_range, check_success
from qkit.distill.theory import BELL_BASIS
from qkit.experiment import Analysis, Experiment, Param, Point, Points, stack
from qkit.repeater import theory

if TYPE_CHECKING:
    from qkit.backends import Backend

NUM_SETTINGS = 13
"""4 CHSH settings (optimal for the predicted end-to-end pair), then the 9 Pauli settings."""
DISCARDED = 4
"""Outcome index of a shot in which some DEJMPS round failed."""
PHI_PLUS = BELL_BASIS[0]
"""``|Phi+>``, the end pair's target (as distillation's)."""
EXACT_QUBITS = 12
"""Widest deferred chain the exact engine simulates (a 12-qubit density matrix: 256 MB)."""


def check_links(links: Any) -> np.ndarray:
    """``L``: a power of two (1, 2, 4, ...), as :func:`qkit.repeater.theory.check_links`."""
    for value in np.ravel(np.asarray(links, dtype=object)):
        theory.check_links(value)
    return np.asarray(links, dtype=float)


def check_rounds(rounds: Any) -> np.ndarray:
    """``K``: DEJMPS rounds per level, an integer in [0, 64]."""
    for value in np.ravel(np.asarray(rounds, dtype=object)):
        theory.check_rounds(value)
    return np.asarray(rounds, dtype=float)


def check_idle(idle: Any) -> np.ndarray:
    """Idle time before each swap in nanoseconds, in [0, 1e6]."""
    return check_range("idle", idle, 0.0, 1e6)


def _chain(point: Point, *, form: str = "dynamic"):
    from qkit.repeater import circuits

    return circuits.chain_circuit(
        int(point["links"]),
        int(point["rounds"]),
        dephasing=point["dephasing"] > 0,
        idle=float(point["idle"]),
        form=form,
    )


@functools.lru_cache(maxsize=256)
def _predicted(links: int, success: float, amplitude: float, rounds: int, dephasing: float):
    """The end-to-end pair and the probability that every round of the chain succeeds."""
    from qkit.repeater import circuits

    rho, p = theory.chain_state(links, success, amplitude, rounds, dephasing)
    per_round = np.asarray(p, dtype=float).reshape(-1, rounds) if rounds else np.ones((1, 0))
    kept = float(np.prod(per_round ** circuits.round_counts(links, rounds))) if rounds else 1.0
    return rho, p, kept


def _point_state(point: Point):
    return _predicted(
        int(point["links"]),
        float(point["success"]),
        float(point["amplitude"]),
        int(point["rounds"]),
        float(point["dephasing"]),
    )


def predict(points: Points) -> dict[str, np.ndarray]:
    """Exact values (:func:`qkit.repeater.theory.chain_state`): the end-to-end pair's
    ``fidelity``, ``concurrence``, ``eof``, ``chsh`` (= ``chsh_max``: the settings are optimal),
    ``success_probability`` (every round of the circuit succeeds) and ``yield``."""
    n = len(points["links"])
    keys = ("fidelity", "concurrence", "eof", "chsh", "chsh_max", "success_probability", "yield")
    out = {key: np.empty(n) for key in keys}
    for i in range(n):
        point = {name: values[i] for name, values in points.items()}
        rho, p, kept = _point_state(point)
        merits = theory.figures_of_merit(rho)
        for key in ("fidelity", "concurrence", "eof", "chsh_max"):
            out[key][i] = float(merits[key])
        out["chsh"][i] = out["chsh_max"][i]
        out["success_probability"][i] = kept
        out["yield"][i] = float(theory.chain_yield(int(point["links"]), np.asarray(p)))
    return out


def setting_directions(point: Point) -> tuple[np.ndarray, np.ndarray]:
    """Directions of the left and right end for the 13 settings, each (13, 3)."""
    from qkit import measures
    from qkit.mixup import circuits

    rho, _, _ = _point_state(point)
    chsh_a, chsh_b = circuits.chsh_directions(measures.optimal_chsh_settings(rho))
    tomo_a, tomo_b = circuits.tomography_directions()
    return np.concatenate([chsh_a, tomo_a]), np.concatenate([chsh_b, tomo_b])


def _settings(point: Point) -> dict[str, np.ndarray]:
    from qkit.mixup import circuits
    from qkit.repeater.circuits import PAIR_ANGLE

    dirs_a, dirs_b = setting_directions(point)
    theta_a, phi_a = circuits.direction_angles(dirs_a)
    theta_b, phi_b = circuits.direction_angles(dirs_b)
    settings = dict(zip(circuits.SETTING_NAMES, (theta_a, phi_a, theta_b, phi_b), strict=True))
    settings[PAIR_ANGLE] = np.full(NUM_SETTINGS, circuits.amplitude_angle(point["amplitude"]))
    return settings


def _mixtures(point: Point) -> list:
    from qkit import noise
    from qkit.repeater import circuits

    mixtures = [noise.swap_mixture(point["success"])]
    if point["dephasing"] > 0:
        mixtures.append(circuits.dephasing_mixture(point["dephasing"]))
    return mixtures


def _choose_line(backend, store, width: int = 2):
    """``layout="best"``: the best line of coupled qubits
    (:func:`qkit.device_model.choose_line`)."""
    from qkit.device_model import choose_line

    return choose_line(backend, store, width)


def layout(point: Point):
    """The chain's dynamic circuit (one per ``L, K``, dephasing or not, idle), 13 settings;
    the swap mixture of ``S`` and the dephasing mixture of ``P``."""
    from qkit.sampling import Family

    chain = _chain(point)
    return Family("chain", [chain.circuit], [_settings(point)]), _mixtures(point)


@functools.lru_cache(maxsize=64)
def _outcome_map(links: int, rounds: int, dephasing: bool, idle: float, num_clbits: int):
    from qkit.repeater import circuits

    chain = circuits.chain_circuit(links, rounds, dephasing=dephasing, idle=idle)
    keys = np.arange(2**num_clbits)
    agree = np.ones(keys.shape, dtype=bool)
    for left, right in chain.rounds:
        agree &= ((keys >> left) & 1) == ((keys >> right) & 1)
    outcome = 2 * ((keys >> chain.meas[0]) & 1) + ((keys >> chain.meas[1]) & 1)
    rows = np.zeros((2**num_clbits, 5))
    rows[keys, np.where(agree, outcome, DISCARDED)] = 1.0
    return rows


def outcomes(point: Point, index: int, num_clbits: int) -> np.ndarray:
    """Bit string -> end-pair outcome ``2 bL + bR`` when every round agreed, else discarded."""
    return _outcome_map(
        int(point["links"]),
        int(point["rounds"]),
        bool(point["dephasing"] > 0),
        float(point["idle"]),
        num_clbits,
    )


def analyse(
    counts: Sequence[np.ndarray],
    points: Points,
    rngs: Sequence[np.random.Generator],
    analysis: Analysis,
) -> dict[str, Any]:
    """Estimates from counts (13, 5) per point: success, CHSH and tomography of the kept pair."""
    from qkit.estimators import proportion

    stacked = np.asarray(counts, dtype=float)
    trials = stacked.sum(axis=(1, 2))
    kept = stacked[:, :, :DISCARDED].sum(axis=(1, 2))
    success = proportion(kept, trials, analysis.confidence)
    fits = [_kept_pair(stacked[i], analysis) for i in range(len(stacked))]
    return {
        "success_probability": success,
        "chsh": stack([f[0] for f in fits]),
        "fidelity": stack([f[1] for f in fits]),
        "concurrence": stack([f[2] for f in fits]),
        "eof": stack([f[3] for f in fits]),
        "state": np.array([f[4] for f in fits]),
    }


def _kept_pair(counts: np.ndarray, analysis: Analysis):
    """CHSH and tomography of the kept end pair of one point (counts (13, 5))."""
    from qkit import estimators

    kept = counts[:, :DISCARDED]
    if np.any(kept.sum(axis=-1) <= 0):  # no kept shot in some setting: nothing to estimate
        empty = np.full((NUM_SETTINGS, 4), 1.0)  # placeholder shapes, values replaced by NaN
        chsh = _nan(estimators.chsh(empty[None, :4], confidence=analysis.confidence)[0])
        tomo = estimators.state_tomography(empty[None, 4:], PHI_PLUS, n_boot=0)[0]
        nan_state = np.full((4, 4), np.nan, dtype=complex)
        return chsh, _nan(tomo.fidelity), _nan(tomo.concurrence), _nan(tomo.eof), nan_state
    chsh = estimators.chsh(kept[None, :4], confidence=analysis.confidence)[0]
    tomo = estimators.state_tomography(
        kept[None, 4:], PHI_PLUS, confidence=analysis.confidence, n_boot=analysis.n_boot
    )[0]
    return chsh, tomo.fidelity, tomo.concurrence, tomo.eof, tomo.state


def _nan(estimate):
    from dataclasses import replace

    fields = {f: np.asarray(np.nan) for f in estimate._batched_fields}
    if "at_boundary" in fields:
        fields["at_boundary"] = np.asarray(True)
    return replace(estimate, **fields)


# -- the exact engine: the deferred chain in Aer's density-matrix method with the noise model ---
def end_pair(point: Point) -> tuple[float, np.ndarray]:
    """``(probability that every round succeeds, end pair given that)`` of the chain's
    deferred circuit (:mod:`qkit.repeater.circuits`), by Aer's density-matrix method with the
    noise model of the point (the mix-up and dephasing mixtures); the pair in qkit order."""
    from qiskit_aer import AerSimulator

    from qkit import measures, noise
    from qkit.mixup import circuits as mixup_circuits
    from qkit.repeater.circuits import PAIR_ANGLE

    if point["idle"] > 0:
        raise ValueError("idle needs a device backend with timing (fake:<device>, ibm:<device>)")
    chain = _chain(point, form="deferred")
    circuit = chain.circuit
    if circuit.num_qubits > EXACT_QUBITS:
        raise ValueError(
            f"the exact engine simulates chains of up to {EXACT_QUBITS} qubits; this one "
            f"needs {circuit.num_qubits}: use --engine sampler"
        )
    body = circuit.copy_empty_like()
    flag_qubit = None
    for inst in circuit.data:
        if inst.operation.name == "measure":
            if circuit.find_bit(inst.clbits[0]).index == chain.flag:
                flag_qubit = circuit.find_bit(inst.qubits[0]).index
            continue
        body.append(inst)
    qubits = list(chain.kept) + ([] if flag_qubit is None else [flag_qubit])
    body.save_density_matrix(qubits, label="rho")
    by_name = {p.name: p for p in body.parameters}
    values = {by_name[PAIR_ANGLE]: mixup_circuits.amplitude_angle(point["amplitude"])}
    values.update({p: 0.0 for name, p in by_name.items() if name != PAIR_ANGLE})
    simulator = AerSimulator(
        method="density_matrix",
        noise_model=noise.noise_model(_mixtures(point)),
        max_parallel_threads=1,
    )
    result = simulator.run(body.assign_parameters(values), shots=1, seed_simulator=0).result()
    rho = np.asarray(result.data(0)["rho"])
    if flag_qubit is not None:  # the flag is the most significant qubit (Qiskit order)
        rho = rho.reshape(2, 4, 2, 4)[0, :, 0, :]
    p_kept = float(np.clip(np.real(np.trace(rho)), 0.0, 1.0))
    if p_kept <= 0:
        return 0.0, np.full((4, 4), np.nan, dtype=complex)
    return p_kept, measures.from_qiskit_order(rho / p_kept)


def probabilities(backend: Backend, points: Points) -> list[np.ndarray]:
    """Exact outcome distributions (13, 5) of each point (:func:`end_pair`, Born rule)."""
    from qkit.mixup import circuits

    out = []
    for i in range(len(points["links"])):
        point = {name: values[i] for name, values in points.items()}
        p_kept, rho = end_pair(point)
        dist = np.zeros((NUM_SETTINGS, 5))
        dist[:, DISCARDED] = 1.0 - p_kept
        if p_kept > 0:
            dist[:, :DISCARDED] = p_kept * circuits.direction_probabilities(
                rho, *setting_directions(point)
            )
        out.append(dist)
    return out


def _labels(point: Point) -> dict[str, Any]:
    from qkit.mixup import circuits

    chsh = [f"chsh:{x},{y}" for x, y in circuits.CHSH_SETTINGS]
    return {
        "settings": chsh + [f"pauli:{s}" for s in circuits.PAULI_SETTINGS],
        "outcomes": ["kept:00", "kept:01", "kept:10", "kept:11", "discarded"],
    }


CHAIN = Experiment(
    name="chain",
    title="beyond paper A: a repeater chain of mixed-up pairs on dynamic circuits",
    params=(
        Param("links", check_links, "L links, a power of two (1, 2, 4, ...)", flags=("-L",)),
        Param("success", check_success, "S in (0, 1]", flags=("-S",)),
        Param("amplitude", check_amplitude, "a in [0, 1]", flags=("-a",)),
        Param("rounds", check_rounds, "K DEJMPS rounds per level (default 0)", default=0),
        Param(
            "dephasing",
            theory.check_dephasing,
            "P memory dephasing per level in [0, 0.5] (default 0)",
            default=0.0,
        ),
        Param(
            "idle",
            check_idle,
            "NS ns each stored qubit waits before each swap (device backends; default 0)",
            default=0.0,
        ),
    ),
    predict=predict,
    circuits=layout,
    choose_layout=_choose_line,
    outcomes=outcomes,
    analyse=analyse,
    targets={
        "success_probability": "success_probability",
        "chsh": "chsh",
        "fidelity": "fidelity",
        "concurrence": "concurrence",
        "eof": "eof",
    },
    probabilities=probabilities,
    labels=_labels,
)
"""The repeater chain of mixed-up pairs, sampled on dynamic circuits."""
