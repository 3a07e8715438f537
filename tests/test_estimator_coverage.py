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
those are is part of each case (``"one-sided"`` / ``"two-sided"``) and checked. The
concurrence and E_F intervals are Feldman-Cousins ones on a linear witness: at small ``C`` and
on the entanglement threshold (``C = 0``, the witness's mean 0) they reach 0 in most data sets
and still must cover 94-97% at width ratio <= 1.25 (``"feldman-cousins"``). Only inside the
separable region (the witness's mean below 0: ``C = 0`` covered whenever the interval reaches
0) is the over-coverage accepted as one-sided: an interval that covers 95% on the threshold
must cover more there (measured: 0.999-1.0 at (0.3, 0.6), width ratio 1.5-5, the spread of an
estimate that is 0 in nearly every data set being nearly 0).

False-failure rate: with ``REPLICATES = 4000`` an interval whose true coverage is 0.95 falls
outside [0.93, 0.975] with probability < 1e-7 per check, and a one-sided 95% bound below
``LOW_ONE_SIDED = 0.935`` with probability < 1e-5 (exact binomial); a test at nominal rate
exceeds it by 4 binomial standard deviations with probability < 1e-4. About 250 checks: a
correct estimator fails this file with probability below about 1%. An interval 10% narrower
(z = 1.76: coverage 0.922) fails the lower limit with probability 0.97, and one 25% wider
(z = 2.45: coverage 0.986) fails the upper limit with probability > 0.999 (shown by
``test_an_interval_ten_percent_narrower_or_25_percent_wider_fails``). At two-sided points the
mean half-width must also be at most ``WIDTH_RATIO = 1.25`` times ``1.96 x`` the spread of the
estimates (an ideal interval's width); the measured ratio is 0.84-1.14 there, and with 4000
replicates the spread is known to 1.1%, so a correct interval never fails it. CPU time of the
file: about 40 s.
Each case is seeded, so a checkout passes or fails reproducibly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from qkit import measures
from qkit.channel import experiment as channel_experiment
from qkit.channel import theory as channel_theory
from qkit.estimators import chsh, mutual_information, state_tomography
from qkit.mixup import theory

LOW, HIGH = 0.93, 0.975
LOW_ONE_SIDED = 0.935  # for the one-sided 95% lower bounds
WIDTH_RATIO = 1.25  # mean half-width / (1.96 x spread of the estimates), two-sided points
REPLICATES = 4000
ONE_SIDED_FLAG_RATE = 0.5  # a point is one-sided when most of its intervals are flagged
ALPHAS = (0.2, 0.1, 0.05, 0.01, 0.001)

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
    p = 1 + e_a[:, None] * _SIGN_A + e_b[:, None] * _SIGN_B + e_ab[:, None] * _SIGN_A * _SIGN_B
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


def mixup_replicates(success, amplitude, shots, seed, replicates=REPLICATES):
    """Estimates of ``replicates`` independent data sets at one point (one batched call)."""
    rng = np.random.default_rng(seed)
    probs = mixup_probabilities(success, amplitude)
    counts = rng.multinomial(shots, probs, size=(replicates, 13))
    est = state_tomography(counts[:, 4:], theory.psi(amplitude), confidence=0.95)
    return est, chsh(counts[:, :4])


def coverage(interval, truth: float, tol: float = 1e-9) -> float:
    return float(np.mean((interval.ci_low <= truth + tol) & (truth - tol <= interval.ci_high)))


BELL = theory.BELL_AMPLITUDE
ONE, TWO, AUTO, EXACT = "one-sided", "two-sided", "auto", "exact"
BOUNDED = "feldman-cousins"
SHOTS = (1000, 4000)
QUANTITIES = ("concurrence", "eof", "fidelity", "chsh")


def check(name: str, interval, truth: float, kind: str, low: float = LOW) -> None:
    """Coverage in [LOW, HIGH] where the point is two-sided; >= LOW where it is one-sided.

    ``kind`` is what the estimator must say at this point: "one-sided" (most intervals
    flagged ``at_boundary``), "two-sided" (most not), "auto" (a point near the switch), or
    "exact" (every data set is the same, e.g. the fidelity of a pure Bell pair: every shot
    agrees, so the interval either always or never covers; it must always), or
    "feldman-cousins" (a quantity on or near its physical bound whose interval is built to
    cover 95% there: coverage and width are checked whatever the flags say).
    """
    cov = coverage(interval, truth)
    if kind == EXACT:
        assert cov == 1.0, (name, cov)
        return
    flagged = float(np.mean(interval.at_boundary))
    if kind == BOUNDED:
        flagged = 0.0
    elif kind != AUTO:
        assert (flagged > ONE_SIDED_FLAG_RATE) == (kind == ONE), (name, kind, flagged, cov)
    assert cov >= low, (name, cov, flagged)
    if flagged <= ONE_SIDED_FLAG_RATE:
        assert cov <= HIGH, (name, cov, flagged)
        ratio = width_ratio(interval)
        assert ratio <= WIDTH_RATIO, (name, ratio, cov)


def width_ratio(interval) -> float:
    """Mean half-width over ``1.96 x`` the spread of the estimates across replicates."""
    spread = float(np.std(interval.value))
    half = float(np.mean(interval.ci_high - interval.ci_low)) / 2.0
    return half / (1.96 * spread) if spread > 0 else np.inf


def _kinds(default: str = TWO, **special: str | tuple[str, str]) -> dict[str, tuple[str, str]]:
    out = {}
    for q in QUANTITIES:
        kind = special.get(q, default)
        out[q] = kind if isinstance(kind, tuple) else (kind, kind)
    return out


_BOUNDED = {"concurrence": BOUNDED, "eof": BOUNDED}
_SEPARABLE = {"concurrence": ONE, "eof": ONE}
THRESHOLD_BELL = float(theory.entanglement_threshold(BELL))  # S = 1/3: C = 0 on its bound
THRESHOLD_03 = float(theory.entanglement_threshold(0.3))
MIXUP_POINTS = [
    # pure states: the state sits on the edge of the state space, f = 1 at its bound; the
    # witness behind the concurrence interval is linear, so the projection's bias is gone
    pytest.param(
        1.0, BELL, _kinds(ONE, fidelity=EXACT, concurrence=EXACT, eof=EXACT), id="pure-bell"
    ),
    pytest.param(1.0, 0.5, _kinds(), id="pure-a0.5"),
    pytest.param(0.998, 0.6, _kinds(chsh=AUTO), id="near-pure-0.6"),
    pytest.param(1.0, 0.4, _kinds(), id="pure-a0.4"),
    pytest.param(1.0, 0.1, _kinds(), id="pure-a0.1"),
    pytest.param(0.95, BELL, _kinds(), id="near-pure"),
    # interior, including just above the CHSH threshold S = 1/sqrt2
    pytest.param(0.8, 0.6, _kinds(), id="interior-0.8-0.6"),
    pytest.param(0.5, BELL, _kinds(), id="interior-0.5-bell"),
    pytest.param(0.45, 0.70, _kinds(), id="interior-0.45-0.70"),
    pytest.param(0.72, BELL, _kinds(), id="chsh-threshold-0.72-bell"),
    # concurrence in (0, 0.1), near its bound 0 (Feldman-Cousins)
    pytest.param(0.37, 0.70, _kinds(**_BOUNDED), id="small-C-0.37-0.70"),
    pytest.param(0.3, 0.3, _kinds(**_BOUNDED), id="small-C-0.3-0.3"),
    pytest.param(0.36, BELL, _kinds(**_BOUNDED), id="small-C-bell"),
    pytest.param(0.2, 0.1, _kinds(**_BOUNDED), id="small-C-0.2-0.1"),
    pytest.param(0.4, 0.1, _kinds(**_BOUNDED), id="small-C-0.4-0.1"),
    # C = 0 exactly, on the entanglement threshold (the witness's mean is 0): 95% reachable
    pytest.param(THRESHOLD_BELL, BELL, _kinds(**_BOUNDED), id="threshold-bell"),
    pytest.param(THRESHOLD_03, 0.3, _kinds(**_BOUNDED), id="threshold-a0.3"),
    # inside the separable region (K < 0): C = 0 is covered whenever the interval reaches 0,
    # which an interval covering 95% at the threshold does more often (one-sided reading)
    pytest.param(0.3, 0.6, _kinds(**_SEPARABLE), id="separable-0.3-0.6"),
    # local-hidden-variable triangle (C = 0.1), and separable (C = 0 on its bound)
    pytest.param(0.4, BELL, _kinds(**_BOUNDED), id="lhv-0.4-bell"),
    pytest.param(0.3, BELL, _kinds(**_SEPARABLE), id="separable-0.3-bell"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("success", "amplitude", "kinds"), MIXUP_POINTS)
@pytest.mark.parametrize("shots", SHOTS)
def test_mixup_intervals_cover_at_95_percent(success, amplitude, kinds, shots):
    est, chsh_est = mixup_replicates(success, amplitude, shots, seed=int(1e6 * success) + shots)
    truth = mixup_truth(success, amplitude)
    intervals = {q: getattr(est, q) for q in QUANTITIES[:3]} | {"chsh": chsh_est}
    for q, interval in intervals.items():
        check(q, interval, truth[q], kinds[q][SHOTS.index(shots)])
        assert np.all(interval.ci_low <= interval.value)
        assert np.all(interval.value <= interval.ci_high)
    for q in ("concurrence", "eof", "fidelity"):
        assert np.all((0 <= intervals[q].ci_low) & (intervals[q].ci_high <= 1))
    assert np.all(np.abs(chsh_est.ci_low) <= 2 * np.sqrt(2))
    assert np.all(np.abs(chsh_est.ci_high) <= 2 * np.sqrt(2))
    # One-sided lower bounds at 95%: the concurrence's and the finite-sample CHSH bound.
    assert np.mean(est.concurrence.lower_bound <= truth["concurrence"] + 1e-12) >= LOW_ONE_SIDED
    assert np.mean(chsh_est.lower_bound <= truth["chsh"] + 1e-12) >= LOW_ONE_SIDED


def _false_claims(p_values: np.ndarray) -> dict[float, float]:
    return {alpha: float(np.mean(p_values <= alpha)) for alpha in ALPHAS}


def _assert_at_most_nominal(claims: dict[float, float], replicates: int, what: str) -> None:
    for alpha, rate in claims.items():
        slack = 4 * np.sqrt(alpha * (1 - alpha) / replicates)  # 4 binomial standard deviations
        assert rate <= alpha + slack, (what, alpha, rate)


@pytest.mark.slow
@pytest.mark.parametrize("shots", SHOTS)
def test_no_violation_is_claimed_more_often_than_nominal_at_the_local_bound(shots):
    # S = 1/sqrt2 with Bell pairs: CHSH = 2 exactly, the hardest local case; then two points of
    # the LHV triangle, where the data come from a local model.
    assert float(theory.chsh_max(theory.chsh_threshold(BELL), BELL)) == pytest.approx(2.0)
    cases = [(float(theory.chsh_threshold(BELL)), BELL), (0.4, BELL), (0.37, 0.70)]
    for success, amplitude in cases:
        if (success, amplitude) != cases[0]:
            assert theory.lhv_region(success, amplitude)
        _, chsh_est = mixup_replicates(success, amplitude, shots, seed=shots + 17)
        claims = _false_claims(chsh_est.violation_p_value)
        _assert_at_most_nominal(claims, REPLICATES, ("chsh", success, amplitude))
        sigma = chsh_est.violation_sigma
        shown = chsh_est.violation_p_value < 0.5
        assert np.allclose(norm.sf(sigma[shown]), chsh_est.violation_p_value[shown])
        assert np.all(sigma[~shown] == 0)


@pytest.mark.slow
@pytest.mark.parametrize("amplitude", [BELL, 0.3, 0.1])
@pytest.mark.parametrize("shots", SHOTS)
def test_entanglement_is_not_claimed_more_often_than_nominal_at_the_threshold(amplitude, shots):
    success = float(theory.entanglement_threshold(amplitude))  # C = 0, the edge of separability
    est, _ = mixup_replicates(success, amplitude, shots, seed=shots + 23)
    claims = _false_claims(est.concurrence.entangled_p_value)
    _assert_at_most_nominal(claims, REPLICATES, ("entanglement", amplitude))
    assert np.mean(est.concurrence.lower_bound > 0) <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / REPLICATES)


def channel_probabilities(
    eta: float, alphabet: str, inputs: str = "entangled"
) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact ``P(outcome | letter)``, the optimal prior and the true mutual information."""
    ens = channel_experiment.ensemble(eta, inputs, alphabet)
    if alphabet == "pair":
        werner = channel_theory.optimal_ensemble(eta, inputs)["werner_parameters"]
        channel = channel_theory.conditional_probabilities(werner, eta)
    else:
        channel = channel_theory.receiver_conditional_probabilities(eta, inputs)
    prior = ens["prior"]
    truth = float(measures.mutual_information(prior[:, None] * channel))
    assert truth == pytest.approx(ens["holevo"], abs=1e-9)  # the receiver attains chi
    return channel, prior, truth


CHANNEL_POINTS = [
    pytest.param(0.0, "pair", (ONE, ONE), id="pair-eta0"),
    pytest.param(0.05, "pair", (TWO, TWO), id="pair-eta0.05-weak-signal"),
    pytest.param(0.33, "pair", (TWO, TWO), id="pair-eta0.33"),
    pytest.param(0.6, "pair", (TWO, TWO), id="pair-eta0.6"),
    pytest.param(1.0, "pair", (ONE, ONE), id="pair-eta1"),
    pytest.param(0.2, "two-slot", (TWO, TWO), id="two-slot-eta0.2"),
    pytest.param(0.6, "two-slot", (TWO, TWO), id="two-slot-eta0.6"),
    pytest.param(1.0, "two-slot", (ONE, ONE), id="two-slot-eta1"),
    pytest.param(1.0, "pair-separable", (TWO, TWO), id="pair-separable-eta1"),
    pytest.param(0.3, "two-slot-separable", (TWO, TWO), id="two-slot-separable-eta0.3"),
]


def channel_replicates(eta, alphabet, shots, seed, **kwargs):
    base, separable, _ = alphabet.partition("-separable")  # e.g. "pair-separable"
    inputs = "separable" if separable else "entangled"
    channel, prior, truth = channel_probabilities(eta, base, inputs)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(shots, channel, size=(REPLICATES, len(prior)))
    return mutual_information(counts, prior, **kwargs), truth


@pytest.mark.slow
@pytest.mark.parametrize(("eta", "alphabet", "kinds"), CHANNEL_POINTS)
@pytest.mark.parametrize("shots", SHOTS)
def test_mutual_information_interval_covers_at_95_percent(eta, alphabet, kinds, shots):
    est, truth = channel_replicates(eta, alphabet, shots, seed=int(100 * eta) + shots)
    check("mutual_information", est, truth, kinds[SHOTS.index(shots)])
    assert np.all((est.ci_low <= est.value) & (est.value <= est.ci_high))
    assert np.all(est.ci_low >= 0)


def _scaled(interval, factor: float):
    """The same intervals with both half-widths scaled by ``factor`` about the estimate."""
    low = interval.value - factor * (interval.value - interval.ci_low)
    high = interval.value + factor * (interval.ci_high - interval.value)
    return SimpleNamespace(
        value=interval.value, ci_low=low, ci_high=high, at_boundary=interval.at_boundary
    )


@pytest.mark.slow
@pytest.mark.parametrize("shots", SHOTS)
@pytest.mark.parametrize(
    ("success", "amplitude", "kind"),
    [
        pytest.param(1.0, 0.5, TWO, id="pure-a0.5"),
        pytest.param(0.998, 0.6, TWO, id="near-pure-0.6"),
        pytest.param(0.4, 0.1, BOUNDED, id="small-C-0.4-0.1"),
        pytest.param(THRESHOLD_BELL, BELL, BOUNDED, id="threshold-bell"),
    ],
)
def test_concurrence_and_eof_at_the_edges_fail_ten_percent_narrower_or_25_percent_wider(
    success, amplitude, kind, shots
):
    # The edges of the plane where the concurrence and E_F intervals used to be 1.8-15x too
    # wide: the checks pass as they are and fail with both half-widths scaled by 0.9 or 1.25.
    # 12,000 data sets: coverage known to 0.002, so the band is [0.94, 0.975]. Measured with
    # 20,000 (1000/4000 shots): 0.949-0.953 as they are, 0.921-0.928 (0.50 at the threshold)
    # 10% narrower, 0.979-0.999 25% wider. A correct interval (0.95) falls below 0.94 with
    # probability 3e-7 per check; one 10% narrower (<= 0.928) passes it with probability
    # < 1e-6, one 25% wider (>= 0.979) stays below 0.975 with probability < 1e-3 (16 checks).
    est, _ = mixup_replicates(success, amplitude, shots, seed=9 + shots, replicates=12_000)
    truth = mixup_truth(success, amplitude)
    for name in ("concurrence", "eof"):
        interval = getattr(est, name)
        check(name, interval, truth[name], kind, low=0.94)
        for factor in (0.9, 1.25):
            with pytest.raises(AssertionError):
                check(name, _scaled(interval, factor), truth[name], kind, low=0.94)


@pytest.mark.slow
def test_an_interval_ten_percent_narrower_or_25_percent_wider_fails():
    # The coverage check has the power to see an interval 10% too narrow (true coverage 0.92)
    # and one 25% too wide (coverage 0.986, and a width ratio near 1.25), at two interior
    # points and both shot numbers.
    for (success, amplitude), shots in [((0.8, 0.6), 1000), ((0.5, BELL), 4000)]:
        est, chsh_est = mixup_replicates(success, amplitude, shots, seed=5 + shots)
        truth = mixup_truth(success, amplitude)
        mi, mi_truth = channel_replicates(0.6, "pair", shots, seed=6 + shots)
        cases = [
            ("concurrence", est.concurrence, truth["concurrence"]),
            ("eof", est.eof, truth["eof"]),
            ("fidelity", est.fidelity, truth["fidelity"]),
            ("chsh", chsh_est, truth["chsh"]),
            ("mutual_information", mi, mi_truth),
        ]
        for name, interval, value in cases:
            check(name, interval, value, TWO)
            for factor in (0.9, 1.25):
                with pytest.raises(AssertionError):
                    check(name, _scaled(interval, factor), value, TWO)
