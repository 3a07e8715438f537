"""Two-qubit correlators and the CHSH value from counts, with exact binomial standard errors.

Counts arrays are ``(..., 4)`` per measurement setting, outcome index in qkit order
``2 * bit_A + bit_B`` (first qubit most significant), bit value 0 = eigenvalue +1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri_exp

from qkit.estimators._normal import norm
from qkit.estimators._results import (
    ChshEstimate,
    Estimate,
    Interval,
    as_counts,
    check_confidence,
    row_shots,
)

# Product of the two eigenvalues (-1)^(bit_A + bit_B) for outcomes 00, 01, 10, 11.
_PARITY = np.array([1.0, -1.0, -1.0, 1.0])

# CHSH = E(a,b) + E(a,b') + E(a',b) - E(a',b') for settings in this order.
CHSH_SIGNS = np.array([1.0, 1.0, 1.0, -1.0])


def correlator(counts: ArrayLike) -> Estimate:
    """Correlator ``E = p_even - p_odd`` of one two-qubit setting with its binomial stderr.

    Each shot gives ``x = (-1)^(bit_A + bit_B) = +-1``, so ``E`` is a mean of ``N`` independent
    ``+-1`` variables with variance ``1 - E^2``: ``stderr = sqrt((1 - E^2) / N)``
    (plug-in ``E``; exact binomial variance of the mean).

    Parameters
    ----------
    counts : array_like, shape (..., 4)
        Counts of outcomes 00, 01, 10, 11 (qkit order) for each setting.

    Returns
    -------
    Estimate
        ``value`` and ``stderr`` over the leading axes.

    Examples
    --------
    >>> est = correlator([40, 10, 10, 40])
    >>> round(float(est.value), 3), round(float(est.stderr), 4)
    (0.6, 0.08)
    """
    n = as_counts(counts, (4,))
    shots = row_shots(n)
    # equivalent[Mult -> Div]: n / _PARITY is n * _PARITY, the parities being +-1
    value = np.sum(n * _PARITY, axis=-1) / shots
    stderr = np.sqrt(np.clip(1.0 - value * value, 0.0, None) / shots)
    return Estimate(value=value, stderr=stderr)


TSIRELSON = 2.0 * np.sqrt(2.0)
"""Largest quantum CHSH value, ``2 sqrt2``: the physical range is ``[-2 sqrt2, 2 sqrt2]``."""

LOCAL_BOUND = 2.0
"""Largest CHSH value of a local-hidden-variable model."""


def chsh(counts: ArrayLike, *, confidence: float = 0.95) -> ChshEstimate:
    """CHSH value ``E(a,b) + E(a,b') + E(a',b) - E(a',b')`` with its error and violation test.

    Value and standard error: the four settings are measured on independent shots, so their
    variances add, ``stderr^2 = sum_k (1 - E_k^2) / N_k``; ``significance = (value - 2) /
    stderr`` (paper A, Sec. V: the largest value is the Horodecki ``2 sqrt(m1 + m2)``).

    Two-sided interval ``value -/+ z stderr`` (``z`` the normal quantile of ``confidence``),
    with each correlator's variance from add-one smoothed frequencies ``(n + 1) / (N + 4)`` so
    that settings whose shots all agree do not get a zero error bar. Value and interval are
    clipped to Tsirelson's range ``[-2 sqrt2, 2 sqrt2]`` (the value only when noise carries it
    beyond); ``at_boundary`` flags intervals reaching ``2 sqrt2``, whose one-sided reading (the
    lower end) is the honest one.

    Violation test, valid at finite shots (no normal approximation): every shot of setting
    ``k`` is a "win" when its parity has the sign ``s_k`` of that setting in the CHSH sum, so
    with equal shots ``N`` per setting ``CHSH = 2 W / N - 4`` for the total wins ``W`` out of
    ``n = 4 N``, and ``CHSH <= 2`` means a mean win probability ``<= 3/4``. ``W`` is a sum of
    independent Bernoulli trials, whose upper tail is at most that of a binomial with the same
    mean (Hoeffding, Ann. Math. Stat. 27, 713 (1956), Thm. 4), so ``p = P(Bin(n, 3/4) >= W)``
    bounds the probability of so many wins under any local model (Elkouss and Wehner, npj
    Quantum Inf. 2, 16026 (2016), Eq. 2 for a fixed number of rounds per setting), and the
    one-sided Clopper-Pearson bound on the mean win probability (``scipy.stats.binomtest``)
    gives ``lower_bound``. The opposite claim, "it does not violate", is the test of ``CHSH >=
    2``: ``no_violation_p_value = P(Bin(n, 3/4) <= W)`` (Hoeffding's Thm. 4 bounds the lower
    tail the same way) with the Clopper-Pearson ``upper_bound``. ``..._sigma = Phi^-1(1 - p)``,
    0 when ``p >= 1/2`` (no evidence). Each one-sided bound is also kept outside the two-sided
    interval (``lower_bound <= ci_low``, ``upper_bound >= ci_high``), so the table never shows
    a bound tighter than the interval beside it. With unequal shots per setting, Hoeffding's
    inequality on the four means is used instead: ``p = exp(-2 t^2 / sum_k (2^2 / N_k))`` for
    an excess ``t = value - 2`` (deficit for ``no_violation``), bounds ``value -/+ sqrt(sum_k
    (4 / N_k) ln(1 / alpha) / 2)``.

    Parameters
    ----------
    counts : array_like, shape (..., 4, 4)
        Counts for the settings (a, b), (a, b'), (a', b), (a', b') in that order, each over
        outcomes 00, 01, 10, 11 (qkit order).
    confidence : float
        Level of the interval and of the one-sided ``lower_bound``.

    Returns
    -------
    ChshEstimate

    Examples
    --------
    >>> import numpy as np
    >>> p = (1 + 2 ** -0.5) / 4  # Bell state at the optimal settings: each E = +-1/sqrt2
    >>> q = 0.5 - p
    >>> counts = 10_000 * np.array([[p, q, q, p]] * 3 + [[q, p, p, q]])
    >>> round(float(chsh(counts).value), 6)
    2.828427
    """
    n = as_counts(counts, (4, 4))
    confidence = check_confidence(confidence)
    each = correlator(n)
    shots = np.sum(n, axis=-1)
    raw = np.sum(each.value * CHSH_SIGNS, axis=-1)  # equivalent[Mult -> Div]: signs +-1
    stderr = np.sqrt(np.sum(each.stderr**2, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        significance = np.where(
            stderr > 0,
            # equivalent[Gt -> GtE; 1.0 -> 1.1]: keeps 0 out of the division, dropped anyway
            (raw - 2.0) / np.where(stderr > 0, stderr, 1.0),
            # Every shot agreed: the excess is exactly known (0 when the value is exactly 2).
            # equivalent[2.0 -> 2.2 #1]: every E is then +-1, raw an even integer
            np.where(raw > 2.0, np.inf, np.where(raw < 2.0, -np.inf, 0.0)),
        )
    # Interval: exact binomial variance per setting, from add-one smoothed frequencies.
    even = np.sum(n * ((_PARITY + 1.0) / 2.0), axis=-1)
    e_smooth = (2.0 * (even + 1.0) / (shots + 2.0)) - 1.0
    sd = np.sqrt(np.sum((1.0 - e_smooth**2) / shots, axis=-1))
    z = norm.ppf(0.5 + confidence / 2.0)
    value = np.clip(raw, -TSIRELSON, TSIRELSON)
    ci_low = np.clip(raw - z * sd, -TSIRELSON, value)
    ci_high = np.clip(raw + z * sd, value, TSIRELSON)
    # ci_high is clipped to TSIRELSON itself, and unclipped it is never within 1e-12 of it:
    # equivalent[GtE -> Gt; 1e-12 -> 1.1e-12]
    at_boundary = ci_high >= TSIRELSON - 1e-12

    p_value, lower, p_local, upper = _violation_test(n, shots, raw, 1.0 - confidence)
    return ChshEstimate(
        value=value,
        stderr=stderr,
        significance=significance,
        ci_low=ci_low,
        ci_high=ci_high,
        lower_bound=np.minimum(lower, ci_low),
        violation_p_value=p_value,
        violation_sigma=sigma_of(p_value),
        at_boundary=at_boundary,
        confidence=confidence,
        upper_bound=np.maximum(upper, ci_high),
        no_violation_p_value=p_local,
        no_violation_sigma=sigma_of(p_local),
    )


def _violation_test(
    n: np.ndarray, shots: np.ndarray, raw: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Finite-sample tests of ``CHSH <= 2`` and ``CHSH >= 2`` with the one-sided bounds.

    Returns ``(violation_p, lower_bound, no_violation_p, upper_bound)``; see :func:`chsh`.
    """
    # equivalent[Gt -> GtE]: sign x parity is +-1, never 0 (4 settings, 4 outcomes)
    win_parity = np.einsum("k,o->ko", CHSH_SIGNS, _PARITY) > 0
    wins = np.rint(np.sum((n * win_parity).reshape(*n.shape[:-2], 16), axis=-1))
    total = np.sum(shots, axis=-1)
    equal = np.all(shots == shots[..., :1], axis=-1)
    p_up, q_low, p_down, q_high = _binomial_tests(wins, total, alpha)
    # Hoeffding's inequality for unequal shots: each setting's mean lies in [-1, 1].
    spread = np.sum(4.0 / shots, axis=-1)
    excess = raw - LOCAL_BOUND
    # equivalent[Gt -> GtE]: at excess 0 the bound is exp(0) = 1 either way
    p_hoeff_up = np.where(excess > 0, np.exp(-2.0 * excess**2 / spread), 1.0)
    # equivalent[Lt -> LtE]: the same
    p_hoeff_down = np.where(excess < 0, np.exp(-2.0 * excess**2 / spread), 1.0)
    margin = np.sqrt(spread * np.log(1.0 / alpha) / 2.0)

    def pick(binomial: np.ndarray, hoeffding: np.ndarray) -> np.ndarray:
        return np.where(equal, binomial, hoeffding)

    lower = np.clip(pick(8.0 * q_low - 4.0, raw - margin), -TSIRELSON, TSIRELSON)
    upper = np.clip(pick(8.0 * q_high - 4.0, raw + margin), -TSIRELSON, TSIRELSON)
    return pick(p_up, p_hoeff_up), lower, pick(p_down, p_hoeff_down), upper


# A CHSH value of 2 is a mean win probability of 3/4 (see :func:`chsh`).
_LOCAL_WIN_RATE = 0.75


def _binomial_tests(
    wins: np.ndarray, total: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact binomial tails at 3/4 and one-sided Clopper-Pearson bounds, per point.

    ``(P(Bin >= W), lower bound, P(Bin <= W), upper bound)`` on the win rate, each bound at
    level ``1 - alpha``: :func:`scipy.stats.binomtest`'s p-values bit for bit and its bounds as
    exact beta quantiles, computed once per distinct ``(W, n)`` by
    :func:`qkit.estimators._binomial.one_sided_tests`.
    """
    from qkit.estimators._binomial import one_sided_tests

    # equivalent[1 -> 2 #1]: numpy reads any negative size as "the rest", -2 as -1
    pairs = np.stack(np.broadcast_arrays(wins, total), axis=-1).reshape(-1, 2)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    distinct = distinct.astype(np.int64)
    tests = one_sided_tests(distinct[:, 0], distinct[:, 1], _LOCAL_WIN_RATE, 1.0 - alpha)
    out = np.stack(tests, axis=-1)  # equivalent[-x -> x]: 1-D tests, axis 1 is axis -1
    shape = np.shape(wins)
    return tuple(out[np.ravel(inverse), j].reshape(shape) for j in range(4))


def sigma_of(p_value: ArrayLike, log_p: ArrayLike | None = None) -> np.ndarray:
    """One-sided normal quantile ``Phi^-1(1 - p)`` of p-values ("sigma"), 0 when ``p >= 1/2``.

    From ``log_p`` where given (p-values below the smallest double keep a finite figure),
    else from ``p`` clipped at ``1e-300``.
    """
    if log_p is None:
        # equivalent[1.0 -> 1.1]: p-values are at most 1 (and log p > 0 is cut below anyway)
        log_p = np.log(np.clip(np.asarray(p_value, dtype=float), 1e-300, 1.0))
    # equivalent[0.5 -> 0.55]: above p = 1/2 the quantile is negative, the maximum gives 0 too
    return np.maximum(-ndtri_exp(np.minimum(np.asarray(log_p, dtype=float), np.log(0.5))), 0.0)


def clopper_pearson(successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95):
    """Exact two-sided binomial interval (Clopper & Pearson 1934) for ``successes / trials``,
    elementwise: ``(low, high)`` arrays, never outside [0, 1], honest at 0 and ``trials``.

    >>> [round(float(x), 4) for x in clopper_pearson(50, 100)]
    [0.3983, 0.6017]
    """
    from scipy import stats

    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        # equivalent[Gt -> GtE]: at k = 0 the quantile is nan, made 0 below
        low = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        # equivalent[Lt -> LtE]: at k = n the quantile is nan, made 1 below
        high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    # equivalent[0.0 -> 0.1; 1.0 -> 1.1]: a nan here comes only from a nan count or k > n
    return np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)


def proportion(successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95) -> Interval:
    """``successes / trials`` with its :func:`clopper_pearson` interval, flagged at 0 and 1
    (e.g. the post-selection probability of distillation and of a repeater chain).

    >>> p = proportion(50, 100)
    >>> float(p.value), [round(float(x), 4) for x in (p.ci_low, p.ci_high)]
    (0.5, [0.3983, 0.6017])
    """
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    low, high = clopper_pearson(k, n, confidence)
    return Interval(
        value=k / n,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        at_boundary=(k == 0) | (k == n),
        method="clopper-pearson",
    )
