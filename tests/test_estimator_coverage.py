"""Coverage of the estimators' nominal 95% intervals, drawn from the exact outcome distributions.

Every replicate is a data set drawn multinomially from the EXACT outcome probabilities of the
experiment (computed here with numpy from the predicted state and the measured directions:
the 4 CHSH settings optimal for ``M[psi_a]`` and the 9 Pauli settings for paper A; the exact
``P(outcome | letter)`` for paper B), ``REPLICATES`` data sets per point, all estimated in one
batched call. At each point the fraction of replicates whose interval covers the truth must
lie in ``[LOW, HIGH] = [0.93, 0.975]``, except where the estimator says no two-sided interval
can be honest (``at_boundary`` on most replicates: a quantity at its physical bound, a state
on the edge of the state space, or below the resolution of the shots); there the reported
interval reads as a one-sided bound and its coverage must be at least ``LOW``. Which points
those are is part of each case (``"one-sided"`` / ``"two-sided"``) and checked.

False-failure rate: with ``REPLICATES = 4000`` an interval whose true coverage is 0.95 falls
outside [0.93, 0.975] with probability < 1e-7 per check (exact binomial; about 120 checks,
so < 2e-5 for the whole file). An interval 10% narrower (z = 1.76: coverage 0.922) fails the
lower limit with probability 0.99 (shown by ``test_a_ten_percent_narrower_interval_fails``).
Each case is seeded, so a checkout passes or fails reproducibly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from qkit import measures
from qkit.channel import experiment as channel_experiment
from qkit.channel import theory as channel_theory
from qkit.estimators import chsh, mutual_information, state_tomography
from qkit.mixup import theory

LOW, HIGH = 0.93, 0.975
REPLICATES = 4000
ONE_SIDED_FLAG_RATE = 0.5  # a point is one-sided when most of its intervals are flagged

_SIGN_A = np.array([1.0, 1.0, -1.0, -1.0])
_SIGN_B = np.array([1.0, -1.0, 1.0, -1.0])


def born_probabilities(rho: np.ndarray, dirs_a: np.ndarray, dirs_b: np.ndarray) -> np.ndarray:
    """Outcome probabilities (K, 4) of ``n_A . sigma ⊗ n_B . sigma`` on ``rho`` (qkit order).

    ``p = (1 + sA n_A.r_A + sB n_B.r_B + sA sB n_A^T T n_B) / 4`` (as the sweep's exact engine).
    """
    pauli = measures.PAULI
    r_a = np.real(np.einsum("iab,ba->i", pauli, measures.partial_trace(rho, 0)))
    r_b = np.real(np.einsum("iab,ba->i", pauli, measures.partial_trace(rho, 1)))
    t = measures.correlation_matrix(rho)
    e_a, e_b = dirs_a @ r_a, dirs_b @ r_b
    e_ab = np.einsum("ki,ij,kj->k", dirs_a, t, dirs_b)
    p = (1 + e_a[:, None] * _SIGN_A + e_b[:, None] * _SIGN_B + e_ab[:, None] * _SIGN_A * _SIGN_B)
    p = np.clip(p / 4.0, 0.0, None)
    return p / p.sum(axis=-1, keepdims=True)


def mixup_probabilities(success: float, amplitude: float) -> np.ndarray:
    """Exact (13, 4) outcome probabilities of the mix-up experiment: 4 CHSH, then 9 Pauli."""
    rho = theory.state(success, amplitude)
    d = measures.optimal_chsh_settings(rho)
    chsh_a = np.array([d["a"], d["a"], d["a_prime"], d["a_prime"]])
    chsh_b = np.array([d["b"], d["b_prime"], d["b"], d["b_prime"]])
    axes = np.eye(3)
    tomo_a = np.repeat(axes, 3, axis=0)
    tomo_b = np.tile(axes, (3, 1))
    return born_probabilities(
        rho, np.concatenate([chsh_a, tomo_a]), np.concatenate([chsh_b, tomo_b])
    )


def mixup_truth(success: float, amplitude: float) -> dict[str, float]:
    return {
        "concurrence": float(theory.concurrence(success, amplitude)),
        "eof": float(theory.eof(success, amplitude)),
        "fidelity": float(theory.fidelity(success, amplitude)),
        "chsh": float(theory.chsh_max(success, amplitude)),
    }


def mixup_replicates(success, amplitude, shots, seed, widen=1.0):
    """Estimates of ``REPLICATES`` independent data sets at one point (one batched call)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(shots, mixup_probabilities(success, amplitude), size=(REPLICATES, 13))
    est = state_tomography(counts[:, 4:], theory.psi(amplitude), confidence=0.95)
    return est, chsh(counts[:, :4])


def coverage(interval, truth: float, tol: float = 1e-9) -> float:
    return float(np.mean((interval.ci_low <= truth + tol) & (truth - tol <= interval.ci_high)))


def check(name, interval, truth, kind):
    cov = coverage(interval, truth)
    flagged = float(np.mean(interval.at_boundary))
    if kind == "one-sided":
        assert flagged > ONE_SIDED_FLAG_RATE, (name, "expected flagged", flagged, cov)
        assert cov >= LOW, (name, cov, flagged)
    else:
        assert flagged <= ONE_SIDED_FLAG_RATE, (name, "expected two-sided", flagged, cov)
        assert LOW <= cov <= HIGH, (name, cov, flagged)


BELL = theory.BELL_AMPLITUDE
# (S, a, {quantity: "one-sided" | "two-sided"} at 1000 and 4000 shots per setting).
TWO = "two-sided"
ONE = "one-sided"
MIXUP_POINTS = [
    # pure states: C = f = 1 at the Bell pair; the state on the edge of the state space
    pytest.param(1.0, BELL, {"concurrence": ONE, "eof": ONE, "fidelity": ONE, "chsh": ONE}, id="pure-bell"),
    pytest.param(1.0, 0.4, {"concurrence": ONE, "eof": ONE, "fidelity": ONE, "chsh": TWO}, id="pure-a0.4"),
    pytest.param(1.0, 0.1, {"concurrence": ONE, "eof": ONE, "fidelity": ONE, "chsh": TWO}, id="pure-a0.1"),
    # interior
    pytest.param(0.8, 0.6, {"concurrence": TWO, "eof": TWO, "fidelity": TWO, "chsh": TWO}, id="interior-0.8-0.6"),
    pytest.param(0.5, BELL, {"concurrence": TWO, "eof": TWO, "fidelity": TWO, "chsh": TWO}, id="interior-0.5-bell"),
    pytest.param(0.45, 0.70, {"concurrence": TWO, "eof": TWO, "fidelity": TWO, "chsh": TWO}, id="interior-0.45-0.70"),
    # concurrence in (0, 0.1)
    pytest.param(0.37, 0.70, {"fidelity": TWO, "chsh": TWO}, id="small-C-0.37-0.70"),
    pytest.param(0.3, 0.3, {"fidelity": TWO, "chsh": TWO}, id="small-C-0.3-0.3"),
    pytest.param(0.36, BELL, {"fidelity": TWO, "chsh": TWO}, id="small-C-0.36-bell"),
    pytest.param(0.2, 0.1, {"concurrence": ONE, "eof": ONE, "fidelity": TWO, "chsh": TWO}, id="small-C-0.2-0.1"),
    # local-hidden-variable triangle, and separable
    pytest.param(0.4, BELL, {"fidelity": TWO, "chsh": TWO}, id="lhv-0.4-bell"),
    pytest.param(0.3, BELL, {"concurrence": ONE, "eof": ONE, "fidelity": TWO, "chsh": TWO}, id="separable-0.3-bell"),
]
