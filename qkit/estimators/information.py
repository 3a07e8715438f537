"""Mutual information between channel inputs and measured outcomes, with error bars.

Paper B measures how many bits a symbol carries: the mutual information between the input
label ``x`` and the receiver's outcome ``y``. Two sampling designs:

- *known prior* (``prior`` given): each input ``x`` was sent in a fixed number of shots
  ``N_x`` (the row sums of ``counts``) and the prior ``pi_x`` is known, so
  ``I = H(sum_x pi_x p(.|x)) - sum_x pi_x H(p(.|x))`` with ``p(y|x)`` estimated per row;
- *random inputs* (``prior=None``): ``counts`` are joint occurrences of ``(x, y)`` in ``N``
  shots whose inputs were drawn at random, ``I = H(X) + H(Y) - H(X, Y)``.

The plug-in estimate is biased upward at finite shots; the Miller-Madow correction
(generalized by the delta method to the known-prior design) removes the ``1/N`` term.
Intervals come from a bootstrap of the count rows (each row multinomial with its own shots).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from qkit.estimators._results import (
    Interval,
    RngLike,
    as_counts,
    as_rngs,
    check_confidence,
    check_n_boot,
)
from qkit.estimators.bootstrap import interval_from_replicates, resampled_statistics
from qkit.measures import shannon_entropy

BIAS_CORRECTIONS = ("miller-madow", "bootstrap", "none")


def mutual_information(
    counts: ArrayLike,
    prior: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    bias_correction: str = "miller-madow",
    interval: str | None = None,
    rng: RngLike = None,
) -> Interval:
    """Mutual information in bits between inputs and outcomes, bias-corrected, with an interval.

    Known prior (the experiment sends input ``x`` in ``N_x`` shots): with
    ``q_y = sum_x pi_x p(y|x)``, the plug-in ``I = H(q) - sum_x pi_x H(p(.|x))`` has bias
    ``-(1/2) sum_y Var(q_y)/q_y + sum_x pi_x (m_x - 1)/(2 N_x)`` nats to order ``1/N``
    (``Var(q_y) = sum_x pi_x^2 p(y|x)(1 - p(y|x))/N_x``, ``m_x`` the observed outcomes of row
    ``x``), which ``"miller-madow"`` subtracts with plug-in probabilities. Random inputs: the
    classic Miller-Madow ``(m_xy - m_x - m_y + 1)/(2N)`` nats. ``"bootstrap"`` subtracts the
    bootstrap bias estimate instead. The interval resamples each row multinomially (same
    shots) from its observed frequencies and takes percentiles of the recomputed corrected
    estimate (``"basic"`` intervals under-cover when the distribution is skewed near 0:
    measured 0.86 at 100 shots per input and ``I = 0.08``, against 0.95 for percentile).

    ``"delta"`` (known prior; no resampling, so it costs about as much as the estimate): the
    first-order spread ``Var(I) = sum_x pi_x^2 Var_{y ~ p(.|x)}[log2 p(y|x)/q_y] / N_x`` (delta
    method on the independent rows) added in quadrature to the second-order spread that
    dominates near ``I = 0``, where the first order vanishes and ``2 N ln2 I`` is chi-square
    distributed: ``sd_2^2 = sum_x pi_x^2 2 (m_x - 1) / (2 N_x ln 2)^2`` (the variance of each
    row's entropy to order ``1/N^2``, ``m_x`` observed outcomes; Miller, 1955; Paninski,
    Neural Comput. 15, 1191 (2003)). Interval ``[I_hat - z sd, I_hat + z sd + z^2 sd_2 / 2]``:
    the chi-square term is skewed to the right, and the allowance moves the upper end by about
    its skewness correction (Cornish-Fisher). Where ``sd_2 > 0.2 sd_1`` the information is
    below what the shots resolve (the first order no longer dominates) and the interval is
    flagged ``at_boundary``; it is then conservative (coverage 0.96-1.0 measured at eta <=
    0.1). Measured coverage of the nominal 95% elsewhere 0.945-0.97
    (``tests/test_estimator_coverage.py``). No resampling: it replaces a bootstrap that cost
    30x the rest of a sweep.

    The value is clipped to ``[0, I_max]`` (``I_max = min(H(pi), log2 n_out)``, or
    ``min(log2 n_in, log2 n_out)`` for random inputs). ``at_boundary`` flags estimates or
    intervals touching 0 (no information: the sampling distribution piles up there) or
    ``I_max`` (a noiseless channel: every row deterministic, the interval collapses); there
    the interval does not have nominal coverage.

    Parameters
    ----------
    counts : array_like, shape (..., n_in, n_out)
        Outcome counts per input (known prior) or joint counts (random inputs).
    prior : array_like, shape (..., n_in), optional
        Known input probabilities (must sum to 1). Rows with prior 0 are ignored.
    confidence : float
        Nominal coverage of the interval.
    n_boot : int
        Bootstrap resamples; ``0``: the point estimate only, with NaN interval ends.
    bias_correction : {"miller-madow", "bootstrap", "none"}
        Small-sample bias correction of the point estimate (and of every replicate).
    interval : {"delta", "percentile", "basic", "bc"}, optional
        ``"delta"`` (the default with a known prior): analytic, see below. The others are
        bootstrap constructions (:func:`qkit.estimators.bootstrap.interval_from_replicates`);
        ``"percentile"`` is the default for random inputs.
    rng : numpy.random.Generator, int, or sequence of Generators, optional
        Randomness for the bootstrap; the same seed gives the same interval. A sequence gives
        one Generator per point of the batch (flattened leading axes): point ``i``'s interval
        then depends only on ``rng[i]`` and its own counts, bit for bit, in any batch.

    Returns
    -------
    Interval
        In bits, over the leading axes.

    Examples
    --------
    >>> est = mutual_information([[900, 100], [100, 900]], prior=[0.5, 0.5], rng=1)
    >>> round(float(est.value), 2)  # 1 - h(0.1) = 0.531
    0.53
    >>> bool(est.ci_low < 0.531 < est.ci_high)
    True
    """
    n = as_counts(counts, (None, None))
    if interval is None:
        interval = "percentile" if prior is None else "delta"
    if interval == "delta" and prior is None:
        raise ValueError("interval='delta' needs a known prior; use 'percentile' for joint counts")
    confidence = check_confidence(confidence)
    n_boot = check_n_boot(n_boot)
    if bias_correction not in BIAS_CORRECTIONS:
        raise ValueError(
            f"bias_correction must be one of {', '.join(BIAS_CORRECTIONS)}, got {bias_correction!r}"
        )
    n_in, n_out = n.shape[-2:]
    batch = n.shape[:-2]
    generator = as_rngs(rng, int(np.prod(batch)) if batch else 1)
    correct = bias_correction == "miller-madow"

    if prior is None:
        total = np.sum(n, axis=(-2, -1))
        if np.any(total <= 0):
            raise ValueError("counts: need at least one shot")
        point = _joint_mi(n, correct)
        i_max = min(np.log2(n_in), np.log2(n_out)) * np.ones(np.shape(point))
        flat = n.reshape(*n.shape[:-2], 1, n_in * n_out)
        shots = total[..., None]
        probs = flat / total[..., None, None]

        def statistic(draws: np.ndarray, points: slice) -> tuple[np.ndarray]:
            return (_joint_mi(draws.reshape(*draws.shape[:-2], n_in, n_out), correct),)

    else:
        pi = _check_prior(prior, n_in)
        pi = np.broadcast_to(pi, n.shape[:-1])
        shots = np.sum(n, axis=-1)
        if np.any((shots <= 0) & (pi > 0)):
            raise ValueError("counts: every input with non-zero prior needs at least one shot")
        safe_shots = np.where(shots > 0, shots, 1.0)
        probs = np.where(shots[..., None] > 0, n / safe_shots[..., None], 1.0 / n_out)
        point = _prior_mi(n, pi, correct)
        i_max = np.minimum(shannon_entropy(pi), np.log2(n_out))
        pi_flat = pi.reshape(-1, n_in)
        shots = np.where(shots > 0, shots, 1.0)  # ignored rows: draw anything, weight 0

        def statistic(draws: np.ndarray, points: slice) -> tuple[np.ndarray]:
            return (_prior_mi(draws, pi_flat[points], correct),)

    if n_boot == 0:
        if bias_correction == "bootstrap":
            raise ValueError("bias_correction='bootstrap' needs n_boot >= 10")
        point = np.clip(point, 0.0, i_max)
        nan = np.full(np.shape(point), np.nan)
        edge = (point <= 1e-12) | (point >= i_max - 1e-12)
        return Interval(point, nan, nan, confidence, edge, f"none/{bias_correction}")
    if interval == "delta":
        if bias_correction == "bootstrap":
            raise ValueError("bias_correction='bootstrap' needs a bootstrap interval")
        point = np.clip(point, 0.0, i_max)
        first, second = _prior_mi_spread(n, pi)
        sd = np.hypot(first, second)
        z = norm.ppf(0.5 + confidence / 2.0)
        low = np.clip(point - z * sd, 0.0, point)
        high = np.clip(point + z * sd + 0.5 * z * z * second, point, i_max)
        unresolved = second > _RESOLVED * first
        edge = (low <= 1e-12) | (high >= i_max - 1e-12) | unresolved
        return Interval(point, low, high, confidence, edge, f"delta/{bias_correction}")
    (replicates,) = resampled_statistics(statistic, shots, probs, n_boot, generator)
    if bias_correction == "bootstrap":
        bias = np.mean(replicates, axis=0) - point
        point, replicates = point - bias, replicates - bias
    point = np.clip(point, 0.0, i_max)
    low, high, edge = interval_from_replicates(point, replicates, confidence, interval, lower=0.0)
    high = np.minimum(high, i_max)
    low = np.minimum(low, i_max)
    at_max = np.mean(replicates >= i_max - 1e-12, axis=0) >= (1.0 - confidence) / 2.0
    edge = edge | (high >= i_max - 1e-12) | at_max
    # The interval always contains its estimate (a percentile interval may miss a clipped one).
    low, high = np.minimum(low, point), np.maximum(high, point)
    return Interval(
        value=point,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        at_boundary=edge,
        method=f"bootstrap-{interval}/{bias_correction}",
    )


# The first-order (normal) term dominates the spread when the second-order one is below this
# fraction of it; otherwise the information is below what the shots resolve.
_RESOLVED = 0.2


def _prior_mi_spread(counts: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-order standard deviations of the known-prior MI, bits (see above)."""
    shots = np.sum(counts, axis=-1)
    safe = np.where(shots > 0, shots, 1.0)
    cond = counts / safe[..., None]
    q = np.sum(prior[..., None] * cond, axis=-2)
    seen = cond > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(seen, cond / np.where(q[..., None, :] > 0, q[..., None, :], 1.0), 1.0)
    g = np.log2(ratio)
    mean = np.sum(cond * g, axis=-1)
    var_row = np.clip(np.sum(cond * g * g, axis=-1) - mean * mean, 0.0, None)
    first = np.sum(prior**2 * var_row / safe, axis=-1)
    observed = np.sum(seen, axis=-1)
    second = np.sum(
        prior**2 * 2.0 * np.maximum(observed - 1, 0) / (2.0 * safe * np.log(2.0)) ** 2, axis=-1
    )
    return np.sqrt(first), np.sqrt(second)


def _check_prior(prior: ArrayLike, n_in: int) -> np.ndarray:
    try:
        pi = np.asarray(prior, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("prior must be an array of probabilities") from None
    if pi.shape[-1:] != (n_in,):
        raise ValueError(f"prior must have shape (..., {n_in}) to match counts, got {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError("prior must be finite and non-negative")
    if not np.allclose(np.sum(pi, axis=-1), 1.0, atol=1e-9):
        raise ValueError("prior must sum to 1")
    return pi


def _prior_mi(counts: np.ndarray, prior: np.ndarray, correct: bool) -> np.ndarray:
    """Plug-in (optionally Miller-Madow corrected) MI in bits for the known-prior design."""
    shots = np.sum(counts, axis=-1)
    safe = np.where(shots > 0, shots, 1.0)
    cond = counts / safe[..., None]  # p(y|x)
    q = np.sum(prior[..., None] * cond, axis=-2)
    used = prior > 0
    # rows of unused inputs may be all zero (no shots): trusted skips the sum-to-1 check
    h_cond = shannon_entropy(cond, trusted=True)
    mi = shannon_entropy(q, trusted=True) - np.sum(np.where(used, prior * h_cond, 0.0), axis=-1)
    if correct:
        var_q = np.sum((prior**2 / safe)[..., None] * cond * (1.0 - cond), axis=-2)
        q_safe = np.where(q > 0, q, 1.0)
        bias_out = -0.5 * np.sum(np.where(q > 0, var_q / q_safe, 0.0), axis=-1)
        observed = np.sum(counts > 0, axis=-1)
        bias_rows = np.sum(np.where(used, prior * (observed - 1) / (2.0 * safe), 0.0), axis=-1)
        mi = mi - (bias_out + bias_rows) / np.log(2.0)
    return mi


def _joint_mi(counts: np.ndarray, correct: bool) -> np.ndarray:
    """Plug-in (optionally Miller-Madow corrected) MI in bits from joint counts."""
    total = np.sum(counts, axis=(-2, -1))
    joint = counts / total[..., None, None]
    px, py = np.sum(joint, axis=-1), np.sum(joint, axis=-2)
    flat = joint.reshape(*joint.shape[:-2], -1)
    h_x, h_y = shannon_entropy(px, trusted=True), shannon_entropy(py, trusted=True)
    mi = h_x + h_y - shannon_entropy(flat, trusted=True)  # built here from counts: trusted
    if correct:
        m_xy = np.sum(flat > 0, axis=-1)
        m_x, m_y = np.sum(px > 0, axis=-1), np.sum(py > 0, axis=-1)
        mi = mi - (m_xy - m_x - m_y + 1) / (2.0 * total * np.log(2.0))
    return mi
