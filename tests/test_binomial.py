"""The CHSH tests' exact binomial tails equal ``scipy.stats.binomtest``'s bit for bit, and its
Clopper-Pearson bounds are the exact beta quantiles: within 16 ulps of the root computed with
mpmath at 40 digits (worst seen: 10), and within ``binomtest``'s own root-finding tolerance of
its bounds (whose Brent roots are up to ~1e6 ulps from the exact root)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy.stats import binomtest

from qkit.estimators import _binomial
from qkit.estimators.correlators import _binomial_tests

# binomtest's bounds come from scipy.optimize.brentq with xtol = 2e-12 and rtol = 4 eps: the
# root is within xtol + rtol |x| of its answer (twice that, to be safe).
_BRENT = {"atol": 4e-12, "rtol": 16 * np.finfo(float).eps}


def _reference(k: int, n: int, p: float, confidence: float) -> tuple[float, ...]:
    up = binomtest(k, n, p, alternative="greater")
    down = binomtest(k, n, p, alternative="less")
    return (
        up.pvalue,
        up.proportion_ci(confidence).low,
        down.pvalue,
        down.proportion_ci(confidence).high,
    )


def _pairs() -> list[tuple[int, int]]:
    rng = np.random.default_rng(23)
    pairs = [(k, n) for n in (1, 2, 3, 13, 40) for k in range(n + 1)]
    for n in (400, 4000, 16000, 160000):  # the edges, the bulk near 3/4, the far tails
        ks = {0, 1, 2, n - 2, n - 1, n, int(0.75 * n), int(0.75 * n) + 1}
        ks |= set(rng.integers(0, n + 1, 12).tolist())
        ks |= set(rng.binomial(n, 0.8, 12).tolist())
        pairs += [(k, n) for k in sorted(ks)]
    return pairs


def _tests(pairs, p, confidence):
    k = np.array([a for a, _ in pairs])
    n = np.array([b for _, b in pairs])
    ours = np.stack(_binomial.one_sided_tests(k, n, p, confidence), axis=-1)
    theirs = np.array([_reference(a, b, p, confidence) for a, b in pairs])
    return ours, theirs


@pytest.mark.parametrize("p, confidence", [(0.75, 0.95), (0.75, 0.99), (0.3, 1 - 0.3173)])
def test_p_values_equal_binomtest_bit_for_bit_and_bounds_to_its_tolerance(p, confidence):
    ours, theirs = _tests(_pairs(), p, confidence)
    # identical doubles, not merely close
    assert ours[:, [0, 2]].tobytes() == theirs[:, [0, 2]].tobytes()
    np.testing.assert_allclose(ours[:, [1, 3]], theirs[:, [1, 3]], **_BRENT)
    assert np.all(ours[:, 1] <= ours[:, 3])  # a lower bound is below the upper
    # at the edges the bounds are exactly 0 and 1, as binomtest's
    k = np.array([a for a, _ in _pairs()])
    n = np.array([b for _, b in _pairs()])
    assert np.all(ours[k == 0, 1] == 0.0) and np.all(ours[k == n, 3] == 1.0)


def _tail(k: int, n: int, q: float, upper: bool) -> mpmath.mpf:
    """``P(X >= k)`` (``upper``) or ``P(X <= k)`` for ``X ~ Bin(n, q)``: an exact sum of
    positive terms in mpmath (no cancellation)."""
    q = mpmath.mpf(q)
    js = range(k, n + 1) if upper else range(0, k + 1)
    term = mpmath.binomial(n, js[0]) * q ** js[0] * (1 - q) ** (n - js[0])
    total, ratio = term, q / (1 - q)
    for j in js[:-1]:
        term *= ratio * (n - j) / (j + 1)
        total += term
    return total


@pytest.mark.parametrize("confidence", [0.95, 0.99, 1 - 0.3173])
def test_bounds_are_the_exact_beta_quantiles_to_16_ulps(confidence):
    """The exact root lies between the bound -/+ 16 ulps (the tails are monotone in q), for
    sizes where the 40-digit sums are cheap (Boost's ``ibeta_inv`` measured at most 10 ulps
    off here; ``binomtest``'s Brent roots up to ~1e6 ulps, e.g. k = 2, n = 40 at 99 %)."""
    alpha = mpmath.mpf(1.0 - confidence)
    rng = np.random.default_rng(5)
    pairs = [(k, n) for n in (1, 2, 3, 13, 40) for k in range(n + 1)]
    for n in (400, 4000):
        pairs += [(k, n) for k in {0, 1, n - 1, n, *rng.integers(0, n + 1, 4).tolist()}]
    k = np.array([a for a, _ in pairs])
    n = np.array([b for _, b in pairs])
    low, high = _binomial.clopper_pearson_bounds(k, n, 1.0 - confidence)
    with mpmath.workdps(40):
        for (a, b), lo, hi in zip(pairs, low, high, strict=True):
            if a > 0:  # P(X >= k; q) increases with q through alpha at the lower bound
                step = 16 * np.spacing(lo)
                assert _tail(a, b, lo - step, True) < alpha < _tail(a, b, lo + step, True), (a, b)
            else:
                assert lo == 0.0
            if a < b:  # P(X <= k; q) decreases with q through alpha at the upper bound
                step = 16 * np.spacing(hi)
                above = _tail(a, b, min(hi + step, 1.0), False)
                assert _tail(a, b, hi - step, False) > alpha > above, (a, b)
            else:
                assert hi == 1.0


def test_bounds_kept_per_process_are_the_bounds_computed_afresh(monkeypatch):
    """The per-process tables give the same doubles as the quantiles computed directly, for
    repeated, new and mixed trial counts, when the tables are cleared, and beyond them."""
    rng = np.random.default_rng(9)
    monkeypatch.setattr(_binomial, "_MEMO", {})
    monkeypatch.setattr(_binomial, "MEMO_ENTRIES", 2)
    for n_values in ([4000], [4000, 16000], [13, 40, 400], [2_000_000]):
        n = rng.choice(n_values, 50)
        k = rng.binomial(n, 0.8)
        k[:2] = [0, n[1]]  # the edges
        for _ in range(2):  # the second call reads the tables
            kept = _binomial.clopper_pearson_bounds(k, n, 0.05)
            fresh = [
                _binomial._quantiles(k[i : i + 1].astype(float), float(n[i]), 0.05)
                for i in range(k.size)
            ]
            assert np.array_equal(kept[0], [lo[0] for lo, _ in fresh])
            assert np.array_equal(kept[1], [hi[0] for _, hi in fresh])
        assert len(_binomial._MEMO) <= 2  # cleared when full
    assert (2_000_000.0, 0.05) not in _binomial._MEMO  # beyond MEMO_TRIALS: not kept


def test_the_tables_are_bounded_as_documented(monkeypatch):
    """At most MEMO_ENTRIES tables (the next new one clears them), and a table is kept for
    exactly MEMO_TRIALS trials but not for one more (the memory the docstrings promise)."""
    monkeypatch.setattr(_binomial, "_MEMO", {})
    for trials in range(1, _binomial.MEMO_ENTRIES + 1):
        _binomial.clopper_pearson_bounds(np.array([0]), np.array([trials]), 0.05)
    assert len(_binomial._MEMO) == _binomial.MEMO_ENTRIES
    _binomial.clopper_pearson_bounds(np.array([0]), np.array([1000]), 0.05)
    assert list(_binomial._MEMO) == [(1000.0, 0.05)]  # full: cleared, then this one kept
    top = _binomial.MEMO_TRIALS
    _binomial.clopper_pearson_bounds(np.array([1, top]), np.array([top, top]), 0.05)
    assert (float(top), 0.05) in _binomial._MEMO
    _binomial.clopper_pearson_bounds(np.array([1]), np.array([top + 1]), 0.05)
    assert (float(top + 1), 0.05) not in _binomial._MEMO


def test_the_chsh_tests_are_binomtests_per_point_in_any_shape():
    rng = np.random.default_rng(4)
    total = np.full((3, 5), 16000)
    total[0, 0] = 400
    wins = rng.binomial(total, 0.76)
    wins[1, 1] = wins[1, 2]  # a repeated pair is computed once and shared
    tests = _binomial_tests(wins, total, 0.05)
    for index in np.ndindex(wins.shape):
        reference = _reference(int(wins[index]), int(total[index]), 0.75, 1.0 - 0.05)
        ours = tuple(float(t[index]) for t in tests)
        assert (ours[0], ours[2]) == (reference[0], reference[2])
        np.testing.assert_allclose(ours[1::2], reference[1::2], **_BRENT)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="trials >= 1"):
        _binomial.one_sided_tests(np.array([0]), np.array([0]), 0.75, 0.95)
    with pytest.raises(ValueError, match="successes <= trials"):
        _binomial.one_sided_tests(np.array([5]), np.array([4]), 0.75, 0.95)
