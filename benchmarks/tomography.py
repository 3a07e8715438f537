"""qkit's batched Pauli tomography against qiskit-experiments' fitters: agreement and speed.

Run: ``.venv/bin/python benchmarks/tomography.py [--points 300] [--batch 10000]``.

Same method on both sides: linear inversion (``qiskit_experiments...fitters.linear_inversion``)
followed by the Smolin-Gambetta-Smith projection to a physical state
(``postprocess_fitter(make_positive=True)``), against :func:`qkit.estimators.fit_state`.
Data: multinomial counts at random mixed-up pairs M[psi_a] (with small shot numbers, so that
the projection is often active). Reports the largest elementwise difference of the fitted
states and fits per second of each. (The cvxpy fitters are not compared: cvxpy is not a qkit
dependency, and they solve a different, constrained least-squares problem.)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from qiskit_experiments.library.tomography.basis import PauliMeasurementBasis
from qiskit_experiments.library.tomography.fitters import linear_inversion, postprocess_fitter

from qkit import measures
from qkit.estimators import PAULI_SETTINGS, fit_state, pauli_probabilities, state_tomography
from qkit.mixup import theory

_QE_INDEX = {"Z": 0, "X": 1, "Y": 2}  # PauliMeasurementBasis index of each basis


def qiskit_experiments_fit(counts: np.ndarray) -> np.ndarray:
    """One (9, 4) qkit-order counts array through qiskit-experiments; state in qkit order."""
    outcome_data = np.zeros((1, 9, 4))
    measurement = np.zeros((9, 2), dtype=int)
    for s, label in enumerate(PAULI_SETTINGS):
        measurement[s] = [_QE_INDEX[label[0]], _QE_INDEX[label[1]]]  # qubit 0 = A
        for bit_a in (0, 1):
            for bit_b in (0, 1):  # Qiskit outcome integer is little-endian: bit_q0 + 2 bit_q1
                outcome_data[0, s, bit_a + 2 * bit_b] = counts[s, 2 * bit_a + bit_b]
    raw, meta = linear_inversion(
        outcome_data,
        counts.sum(-1),
        measurement,
        np.zeros((9, 0), dtype=int),
        PauliMeasurementBasis(),
    )
    states, _ = postprocess_fitter(raw, meta, make_positive=True)
    return measures.from_qiskit_order(states[0].data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300, help="data sets fitted by both")
    parser.add_argument("--batch", type=int, default=10_000, help="data sets in qkit's batch")
    parser.add_argument("--shots", type=int, default=200, help="shots per setting")
    args = parser.parse_args()

    rng = np.random.default_rng(2024)
    success = rng.uniform(0.3, 1.0, args.batch)
    amplitude = rng.uniform(0.0, 1.0, args.batch)
    probs = pauli_probabilities(theory.state(success, amplitude))
    counts = rng.multinomial(args.shots, probs, size=(args.batch, 9))

    qiskit_experiments_fit(counts[0])  # warm caches (dual basis, lru_cache)
    t0 = time.perf_counter()
    theirs = np.array([qiskit_experiments_fit(c) for c in counts[: args.points]])
    t_theirs = (time.perf_counter() - t0) / args.points

    t0 = time.perf_counter()
    ours = fit_state(counts)
    t_ours = (time.perf_counter() - t0) / args.batch

    raw_negative = np.mean(np.linalg.eigvalsh(_raw(counts[: args.points])).min(-1) < 0)
    diff = np.max(np.abs(ours[: args.points] - theirs))
    print(f"data sets compared      : {args.points} ({args.shots} shots/setting)")
    print(f"projection active in    : {raw_negative:.0%} of them")
    print(f"max |rho_qkit - rho_qe| : {diff:.2e}")
    print(f"qiskit-experiments      : {1 / t_theirs:10.0f} fits/s ({t_theirs * 1e6:.0f} us/fit)")
    print(f"qkit fit_state (batch)  : {1 / t_ours:10.0f} fits/s ({t_ours * 1e6:.2f} us/fit)")
    print(f"speed-up                : {t_theirs / t_ours:.0f}x")

    n_points = 1000
    t0 = time.perf_counter()
    state_tomography(counts[:n_points], rng=1)
    t_full = time.perf_counter() - t0
    print(
        f"state_tomography        : {n_points / t_full:10.0f} points/s with the default "
        "(analytic) intervals of concurrence, E_F and fidelity"
    )


def _raw(counts: np.ndarray) -> np.ndarray:
    from qkit.estimators import linear_inversion as qkit_linear_inversion

    return qkit_linear_inversion(counts)


if __name__ == "__main__":
    main()
