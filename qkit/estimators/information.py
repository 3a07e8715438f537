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
With a known prior the default interval is analytic (``interval="delta"``, no resampling): the
delta method where the shots resolve the information, a Neyman belt on the plug-in's noncentral
chi-square where they do not, Fano's bound near a noiseless channel (see
:func:`mutual_information`). With random inputs, or on request, the interval comes from a
bootstrap of the count rows (each row multinomial with its own shots).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaincinv

from qkit.estimators import noncentral
from qkit.estimators._normal import norm
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
    bootstrap bias estimate instead. A bootstrap interval resamples each row multinomially (same
    shots) from its observed frequencies and takes percentiles of the recomputed corrected
    estimate (``"basic"`` intervals under-cover when the distribution is skewed near 0:
    measured 0.86 at 100 shots per input and ``I = 0.08``, against 0.95 for percentile).

    ``"delta"`` (known prior; no resampling, so it costs about as much as the estimate):
    where the shots resolve the information, the normal interval ``I_hat -/+ z sd`` with the
    first-order spread ``Var(I) = sum_x pi_x^2 Var_{y ~ p(.|x)}[log2 p(y|x)/q_y] / N_x`` (delta
    method on the independent rows). Where they do not (near ``I = 0``, or near ``H(block
    prior)`` when some letters are told apart perfectly, e.g. the two-slot alphabet at ``eta =
    0``), the first order vanishes and the plug-in is a scaled noncentral chi-square, ``I_hat =
    I_fixed + c X`` with ``X ~ chi2_d(lambda)`` and ``I = I_fixed + c lambda`` (Miller, 1955;
    ``c`` and ``d`` by Satterthwaite from the second-order term, see :func:`_weak_signal`);
    there the interval is a Neyman belt for ``lambda``
    (:func:`qkit.estimators.noncentral.upper_limit_interval`): an upper limit while the signal
    is small, which by Pratt's identity is what minimizes the mean width at ``I = I_fixed``,
    turning central before the switch to the normal interval at ``sqrt(X - d) = 6``. It covers
    at the bound too (Feldman-Cousins, PRD 57, 3873 (1998), the previous choice, is 25-30% wider
    at no information). Near a noiseless channel (fewer than 30 rare outcomes: those off each
    letter's most frequent outcome; or fewer than 10 a cell that saw any) the plug-in spread is
    too small and the distribution skewed; the lower end is then at most the estimate less
    ``F(P_up) - F(P_hat)``, Fano's growth of the loss from the estimated decoding error to its
    Fay-Feuer gamma upper bound (:func:`_fano_growth`), and the upper end at most the
    estimate with its rare counts scaled down to their rate's mid-P lower bound
    (:func:`_fewer_rare`); where every row saw one outcome only (a noiseless channel, every
    data set alike) that is Fano's bound ``[H(pi_B) - F(P_up), I_hat]``, never zero width.
    Where the normal interval is used in the chi-square regime it is shifted up by ``c (d +
    z^2)``, continuing the belt's central interval (fading out from ``sqrt(X - d) = 16`` to
    32). Measured coverage of the nominal 95% (``benchmarks/intervals.py --mi``, 4000 data sets
    a point) 0.942-0.966 from ``eta = 0`` to ``0.9`` for both alphabets and inputs at 1000 and
    4000 shots, mean half-width 0.92-1.18 x 1.96 the spread of the estimates from ``eta =
    0.01`` up; at no information 1.17-1.20 for the two-slot alphabet and 1.29-1.35 for the pair
    alphabet, whose estimate is clipped at 0 (no interval covering every ``I >= 0`` can do
    better than 1.28 there: ``benchmarks/mi_floor.py``). Near a noiseless channel (entangled
    inputs, ``eta = 0.985-0.9985``; exact sums over the rare counts, ``benchmarks/
    mi_noiseless.py``) 0.946-0.973 for the pair alphabet, 0.946-0.982 for the five-letter
    two-slot one (Fano's worst case spreads the error over all letters), where any interval
    that covers 95% at every ``eta`` covers 0.950-0.981 at some (the rare count is about
    Poisson); half-width 1.0-1.06x (pair), up to 1.34x (two-slot at 1000 shots). Other
    channels, e.g. five letters leaking evenly, a Z-channel, an unequal prior, 0.948-0.983
    (leakage 0.001-0.01). No resampling: it replaces a bootstrap that cost 30x the rest of a
    sweep.

    The value is clipped to ``[0, I_max]`` (``I_max = min(H(pi), log2 n_out)``, or
    ``min(log2 n_in, log2 n_out)`` for random inputs). ``at_boundary`` flags intervals
    touching 0 or ``I_max``, the ends of the physical range (the bootstrap intervals there do
    not have nominal coverage; the ``"delta"`` interval does, by its Neyman belt).

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
        low, high = _delta_interval(n, pi, point, confidence)
        low, high = np.clip(low, 0.0, point), np.clip(high, point, i_max)
        edge = (low <= 1e-12) | (high >= i_max - 1e-12)
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


# Below this signal (in standard deviations of the weak-signal statistic, ``sqrt(X - d)``) the
# interval is the Neyman belt of :func:`noncentral.upper_limit_interval` on the noncentral
# chi-square; above, the normal delta interval. (Feldman-Cousins switching at 4 gave a mean
# half-width of 1.40-1.65 x 1.96 sd at no information; this belt, which needs room below the
# switch to turn from an upper limit into a central interval, 1.19 / 1.33: see
# benchmarks/mi_floor.py.)
_WEAK_SIGNAL = 6.0
# The delta interval is shifted by c (d + z^2) up to this signal, by less up to the next, by
# nothing above (measured, eta 0.1-0.95: full shift to 16 and gone at 32 balances the two
# ends' misses at 0.018-0.034 each; to 24: the same within the sampling error).
_SHIFT_FULL, _SHIFT_GONE = 16.0, 32.0
# Below this many rare outcomes (effective count ``y^2 / v``, see :func:`_fano_growth`) the
# lower end is Fano's where that is lower than the delta one (measured: at 30 the delta
# interval covers 0.94-0.95 on its own; at 100 Fano's widens resolved intervals by 25-50%).
_FEW_RARE = 30.0
# ... and where the rare outcomes seen average fewer than this many per cell that saw one
# (measured: a symmetric five-letter channel with 3 counts a rare cell, 60 in all, then
# covers 0.964 instead of 0.946, its lower end missing 2.0% instead of 4.2%).
_FEW_PER_CELL = 10.0


def _delta_interval(
    counts: np.ndarray, prior: np.ndarray, point: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """The known-prior interval: normal (delta method) for a resolved signal, a Neyman belt on
    the G statistic's noncentral chi-square for a weak one, Fano's bound when every row is
    deterministic (see :func:`mutual_information`)."""
    z = norm.ppf(0.5 + confidence / 2.0)
    first = _prior_mi_spread(counts, prior)
    fixed, plugin, scale, dof = _weak_signal(counts, prior)
    noisy = scale > 0
    statistic = np.divide(plugin - fixed, scale, out=np.zeros_like(scale), where=noisy)
    # The normal interval continues the belt's central one, [(t - z)^2, (t + z)^2] in lambda
    # (t = sqrt(X)): that is I_hat + c (d + z^2) -/+ z sd, the delta interval shifted up by
    # c (d + z^2), Miller-Madow's c d and the square root's c z^2. Without it the interval
    # sits low in the chi-square regime (measured: upper end missing 4.9% at sqrt(X - d) = 10,
    # coverage 0.933-0.937). The shift fades out as the signal grows and the plug-in stops
    # being a scaled noncentral chi-square (by then it is below 0.08 sd).
    # equivalent[0.0 -> 0.1]: the signal enters only as signal < 6 and a fade that is 1 below 16
    signal = np.sqrt(np.clip(statistic - dof, 0.0, None))
    fade = np.clip((_SHIFT_GONE - signal) / (_SHIFT_GONE - _SHIFT_FULL), 0.0, 1.0)
    shift = fade * scale * (dof + z * z)
    low, high = point + shift - z * first, point + shift + z * first
    weak = noisy & (signal < _WEAK_SIGNAL)
    if np.any(weak):  # a belt per rounded d, built on first use (a fraction of a second)
        lam_lo, lam_hi = np.zeros(np.shape(weak)), np.zeros(np.shape(weak))
        lam_lo[weak], lam_hi[weak] = noncentral.upper_limit_interval(
            statistic[weak], dof[weak], confidence, signal=_WEAK_SIGNAL
        )
        low = np.where(weak, fixed + scale * lam_lo, low)
        high = np.where(weak, fixed + scale * lam_hi, high)
    # Where few rare outcomes were seen the plug-in spread is too small and the delta lower
    # end too high: the lower end is then the estimate less Fano's growth of the loss. So it
    # is where the rare outcomes are many but spread thin (a few in each of many cells: each
    # cell's ``p log(1/p)`` is skewed, and the leakage is spread as Fano's bound assumes).
    extra, rare = _fano_growth(counts, prior, confidence)
    use = (rare < _FEW_RARE) | (_rare_per_cell(counts, prior) < _FEW_PER_CELL)
    low = np.where(use, np.minimum(low, point - extra), low)
    # ... and the upper end at most the estimate with its rare counts scaled down to their
    # rate's lower bound (a mid-P one: the delta upper end missed only 0.4-1.5%, the
    # coverage 0.97-0.998 just short of a noiseless channel).
    high = np.where(
        use, np.minimum(high, np.maximum(_fewer_rare(counts, prior, confidence), point)), high
    )
    high = np.where(noisy, high, point)
    return low, high


def _fano_growth(
    counts: np.ndarray, prior: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """How much more information the channel may lose than the data show, by Fano's inequality.

    Decode letter ``x``'s block from the outcome: each used row's most frequent outcome
    ``m_x`` names its block (letters sharing it form one; ``k`` blocks). The decoder errs with
    probability ``P_e = sum_x pi_x (1 - p(m_x|x))``, and Fano's inequality bounds what a
    channel with that error loses: ``I >= H(pi_B) - F(P_e)``, ``F(p) = h(p) + p log2(k - 1)``.
    ``P_e`` is a weighted sum of the rows' rare counts ``r_x`` (weights ``w_x = pi_x / N_x``,
    Poisson to the order that matters); its upper confidence bound ``P_up`` at ``1 - alpha/2``
    is Fay and Feuer's gamma bound (Stat. Med. 16, 791 (1997)): the ``1 - alpha/2`` quantile
    of a gamma with mean ``y + w_M`` and variance ``v + w_M^2`` (``y = sum w r = P_e`` estimated,
    ``v = sum w^2 r``, ``w_M = max w``), Garwood's exact Poisson bound when the weights are
    equal and ``ln(2/alpha) w_M`` when no rare outcome was seen. Returns ``F(P_up) - F(y)`` (the
    lower end is the estimate less this; with no rare outcome it is Fano's bound itself,
    ``H(pi_B) - F(P_up)``) and the effective number of rare counts ``y^2 / v``.
    """
    shots = np.sum(counts, axis=-1)
    used = prior > 0
    # equivalent[Gt -> GtE; 0 -> 1; 1.0 -> 1.1]: as in _fewer_rare (prior 0, weight 0)
    safe = np.where(shots > 0, shots, 1.0)
    mode = np.argmax(counts, axis=-1)
    rare = shots - np.take_along_axis(counts, mode[..., None], axis=-1)[..., 0]
    weight = np.where(used, prior / safe, 0.0)
    y = np.sum(weight * rare, axis=-1)
    v = np.sum(weight**2 * rare, axis=-1)
    w_max = np.max(weight, axis=-1)
    shape = (y + w_max) ** 2 / (v + w_max**2)
    # scipy.stats.gamma.ppf(q, shape, scale=s) is s * gammaincinv(shape, q): the same doubles
    p_up = (v + w_max**2) / (y + w_max) * gammaincinv(shape, 0.5 + confidence / 2.0)
    # blocks named by their mode: k distinct modes among the used letters
    named = (mode[..., None] == np.arange(counts.shape[-1])) & used[..., None]
    k = np.sum(np.any(named, axis=-2), axis=-1)

    def fano_loss(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 0.0, 1.0 - 1.0 / np.maximum(k, 1))
        binary = shannon_entropy(np.stack([p, 1.0 - p], axis=-1), trusted=True)
        return binary + p * np.log2(np.maximum(k - 1, 1))

    effective = np.divide(y**2, v, out=np.zeros_like(y), where=v > 0)
    return fano_loss(p_up) - fano_loss(y), effective


def _fewer_rare(counts: np.ndarray, prior: np.ndarray, confidence: float) -> np.ndarray:
    """The estimate with every rare count scaled down to the rare rate's lower bound.

    The rare counts ``r_x`` (off each letter's most frequent outcome) are scaled by ``P_lo /
    y``, keeping their pattern, and the estimate recomputed: the information of a channel that
    leaks as observed at the lowest rate the data allow. ``y = sum_x w_x r_x`` (``w_x = pi_x /
    N_x``) as in :func:`_fano_growth`; ``P_lo`` is the ``alpha/2`` quantile of a gamma with mean
    ``y + w_M/2`` and variance ``v + w_M^2/2``: for equal weights ``w`` within 3% of Poisson's
    mid-P lower bound (Lancaster, JASA 56, 223 (1961)), nearer the nominal level on average
    than the exact one (Fay and Feuer's, ``w_M`` dropped), which over-covers at a few counts.
    No rare outcome: ``P_lo = 0``, the estimate of a noiseless channel.
    """
    shots = np.sum(counts, axis=-1)
    used = prior > 0  # equivalent[Gt -> GtE]: a letter of prior 0 has weight 0 either way
    # only letters of prior 0 may have no shots (weight 0 whatever they are divided by), and a
    # row of one shot divides by 1 either way:
    # equivalent[Gt -> GtE; 0 -> 1; 1.0 -> 1.1]
    safe = np.where(shots > 0, shots, 1.0)
    mode = np.argmax(counts, axis=-1)
    is_mode = mode[..., None] == np.arange(counts.shape[-1])
    rare = shots - np.take_along_axis(counts, mode[..., None], axis=-1)[..., 0]
    weight = np.where(used, prior / safe, 0.0)
    y = np.sum(weight * rare, axis=-1)
    v = np.sum(weight**2 * rare, axis=-1)
    w_half = np.max(weight, axis=-1) / 2.0
    # where y = 0 no used letter saw a rare outcome: any ratio scales only counts of weight 0
    # equivalent[Gt -> GtE]
    seen = y > 0
    # equivalent[1.0 -> 1.1]: the fallbacks where nothing rare was seen are masked (where=seen)
    mean = np.where(seen, y + w_half, 1.0)
    var = np.where(seen, v + w_half * w_half * 2.0, 1.0)  # equivalent[1.0 -> 1.1]: as above
    # equivalent[0.0 -> 0.1]: p_lo where nothing rare was seen is masked by the ratio's where=seen
    p_lo = np.where(seen, var / mean * gammaincinv(mean * mean / var, 0.5 - confidence / 2.0), 0.0)
    ratio = np.clip(np.divide(p_lo, y, out=np.zeros_like(y), where=seen), 0.0, 1.0)
    scaled = np.where(is_mode, 0.0, counts * ratio[..., None, None])
    scaled = np.where(is_mode, shots[..., None] - np.sum(scaled, axis=-1, keepdims=True), scaled)
    return _prior_mi(scaled, prior, correct=True)


def _rare_per_cell(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Rare outcomes (off each used letter's most frequent one) per cell that saw any."""
    used = prior > 0
    mode = np.argmax(counts, axis=-1)
    off = (mode[..., None] != np.arange(counts.shape[-1])) & used[..., None]
    rare = np.sum(np.where(off, counts, 0.0), axis=(-2, -1))
    cells = np.sum(off & (counts > 0), axis=(-2, -1))
    return np.divide(rare, cells, out=np.zeros_like(rare), where=cells > 0)


def _weak_signal(
    counts: np.ndarray, prior: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The known-prior MI as a weak signal: ``I_hat = I_fixed + c X`` with ``X ~ chi2_d``.

    Letters sharing an observed outcome form blocks; the block is known from the outcome, so
    ``I = H(block prior) + sum_b pi_b I_b`` (exactly, for the plug-in too), ``I_fixed = H(block
    prior)`` needs no estimation. To second order the plug-in is ``I_fixed + sum_j w_j (mu_j +
    Z_j)^2`` with ``w_j`` the eigenvalues of ``H Sigma / (2 ln 2)`` (``H`` the Hessian of ``I``
    in the rows ``p(.|x)``, ``Sigma`` their multinomial covariance); Satterthwaite's
    ``c = sum w^2 / sum w``, ``d = (sum w)^2 / sum w^2`` make it ``c`` times a noncentral
    chi-square with ``d`` degrees of freedom and ``I - I_fixed = c lambda`` (one weight, ``d =
    1``, for a binary outcome of two letters: paper B's pair sector). ``sum w`` is the
    Miller-Madow bias. Returns ``(I_fixed, plug-in I, c, d)`` in bits; ``c = 0`` where no row
    has two outcomes (the data are the same whatever the draw).
    """
    shots = np.sum(counts, axis=-1)
    # equivalent[0 -> 1; 1.0 -> 1.1]: a row of no shots has prior 0, of one shot divides by 1
    safe = np.where(shots > 0, shots, 1.0)
    cond = counts / safe[..., None]
    n_in, n_out = cond.shape[-2:]
    seen = counts > 0
    # blocks: letters linked by a shared observed outcome, closed transitively
    link = seen @ np.swapaxes(seen, -1, -2)  # boolean: "or" of "and"s
    for _ in range(n_in):
        link = link @ link
    used = prior > 0
    block_prior = np.sum(link * prior[..., None, :], axis=-1)
    # equivalent[1.0 -> 1.1]: the fallback of an unused letter is masked by where(used)
    fixed = -np.sum(np.where(used, prior * np.log2(np.where(used, block_prior, 1.0)), 0.0), -1)
    plugin = _prior_mi(counts, prior, correct=False)
    # tr(H Sigma) and tr((H Sigma)^2) in closed form (O(n_in n_out^2), no (n_in n_out)^2
    # matrices): with r_x = pi_x / N_x, V = sum_x pi_x r_x (diag p_x - p_x p_x^T) and m_x the
    # outcomes row x saw, tr(H Sigma) = sum_x r_x (m_x - 1) - sum_y V_yy / q_y and
    # tr((H Sigma)^2) = sum_x r_x^2 (m_x - 1) - 2 sum_x r_x^2 pi_x sum_y p_xy (1 - p_xy) / q_y
    # + sum_yw V_yw^2 / (q_y q_w).
    q = np.sum(prior[..., None] * cond, axis=-2)
    inv_q = np.divide(1.0, q, out=np.zeros_like(q), where=q > 0)
    rate = prior / safe
    extra = np.maximum(np.sum(seen, axis=-1) - 1, 0)
    # explicit sums, not einsum: einsum's order of summation depends on the batch's shape,
    # and a point must get the same doubles alone as in any batch
    weighted = (prior * rate)[..., :, None] * cond
    spread = -np.sum(weighted[..., :, :, None] * cond[..., :, None, :], axis=-3)
    diagonal = np.sum(weighted, axis=-2) + np.diagonal(spread, axis1=-2, axis2=-1)
    own = np.sum(cond * (1.0 - cond) * inv_q[..., None, :], axis=-1)
    trace = np.sum(rate * extra, axis=-1) - np.sum(diagonal * inv_q, axis=-1)
    off = spread * (1.0 - np.eye(n_out))
    cross = np.sum(off**2 * inv_q[..., :, None] * inv_q[..., None, :], axis=(-2, -1))
    trace2 = (
        np.sum(rate**2 * extra, axis=-1)
        - 2.0 * np.sum(rate**2 * prior * own, axis=-1)
        + cross
        + np.sum(diagonal**2 * inv_q**2, axis=-1)
    )
    w1 = trace / (2.0 * np.log(2.0))
    w2 = trace2 / (2.0 * np.log(2.0)) ** 2
    # w2 (the squared weights' sum) is 0 only with w1, to rounding; 1e-15 is a rounding guard
    # (w1 is the Miller-Madow bias, of order 1/N: [1e-15, 1.1e-15] needs some 10^14 shots):
    # equivalent[Gt -> GtE; 1e-15 -> 1.1e-15]
    noisy = (w1 > 1e-15) & (w2 > 0)  # 0 up to rounding where every row saw one outcome
    scale = np.divide(w2, w1, out=np.zeros_like(w1), where=noisy)
    dof = np.divide(w1**2, w2, out=np.ones_like(w2), where=noisy)
    return fixed, plugin, scale, dof


def _prior_mi_spread(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """First-order (delta-method) standard deviation of the known-prior MI, bits (see above)."""
    shots = np.sum(counts, axis=-1)
    # equivalent[0 -> 1; 1.0 -> 1.1]: a row of no shots has prior 0, of one shot divides by 1
    safe = np.where(shots > 0, shots, 1.0)
    cond = counts / safe[..., None]
    q = np.sum(prior[..., None] * cond, axis=-2)
    seen = cond > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # equivalent[1.0 -> 1.1]: both fallbacks are where a row did not see y (weight cond = 0)
        ratio = np.where(seen, cond / np.where(q[..., None, :] > 0, q[..., None, :], 1.0), 1.0)
    g = np.log2(ratio)
    mean = np.sum(cond * g, axis=-1)
    var_row = np.clip(np.sum(cond * g * g, axis=-1) - mean * mean, 0.0, None)
    return np.sqrt(np.sum(prior**2 * var_row / safe, axis=-1))


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
