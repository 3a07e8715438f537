"""How narrow can a 95% interval for the mutual information be at no information?

Run: ``.venv/bin/python benchmarks/mi_floor.py`` (a few seconds; no sampling, exact integrals).

At ``I = 0`` (paper B's pair alphabet at ``eta = 0``) the Miller-Madow estimate is ``c (X - 1)``
with ``X ~ chi2_1(lambda)``, ``t = sqrt(X) = |mu + Z|``, ``I = c lambda``; qkit reports it clipped
at 0. Pratt's identity (JASA 56, 549 (1961)): the mean length of an interval ``C(t)`` at the true
``lambda_0`` is ``int P_lambda0(lambda in C(t)) dlambda``. An interval that covers 95% at every
``lambda >= 0`` has, for each ``lambda``, an acceptance region ``A(lambda)`` with
``P_lambda(A) >= 0.95``, and by Neyman-Pearson (the likelihood ratio ``exp(-lambda/2) cosh(mu
t)`` grows with ``t``) the smallest ``P_0(A)`` is ``P_0(t >= t_lo(lambda))`` with
``P_lambda(t < t_lo) = 0.05``. So no such interval has a mean width at ``lambda_0 = 0`` below
``W = int 2 Q(t_lo(lambda)) dlambda`` (``Q`` the upper normal tail), in units of ``c``.

The issue's width measure is the mean half-width over ``1.96 x`` the spread of the estimate, so
the floor is ``W / 2 / (1.96 sd(estimate) / c)``: it depends on the estimator. The table prints it
for ``c max(X - k, 0)`` (``k = 1``: the clipped Miller-Madow estimate qkit reports, ``k = 0``: the
plug-in, never negative), the estimate's bias at ``I = 0`` and where the signal is resolved
(``c (1 - k)``), and the ratio of qkit's interval (``noncentral.upper_limit_interval``, its
grid included) on the same footing. The two-slot alphabet's estimate ``I_fixed + c (X - 1)`` is
not clipped (``k = 1`` unclipped row).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from qkit.estimators import noncentral

CONFIDENCE = 0.95
Z = float(ndtri(0.5 + CONFIDENCE / 2.0))


def _cdf(t: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``P(|mu + Z| <= t)``."""
    return ndtr(t - mu) - ndtr(-t - mu)


def _lower_edge(mu: np.ndarray, alpha: float) -> np.ndarray:
    """``t_lo`` with ``P(|mu + Z| < t_lo) = alpha`` (bisection)."""
    lo, hi = np.zeros_like(mu), mu + 10.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        below = _cdf(mid, mu) < alpha
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2.0


def pratt_floor_width(confidence: float = CONFIDENCE) -> float:
    """Least mean width (units of ``c``) at ``lambda = 0`` of an interval covering everywhere."""
    mu = np.linspace(0.0, 12.0, 240_001)
    t_lo = _lower_edge(mu, 1.0 - confidence)
    covered_at_zero = 2.0 * ndtr(-t_lo)  # P_0(|Z| >= t_lo)
    lam = mu**2
    return float(np.sum(0.5 * (covered_at_zero[1:] + covered_at_zero[:-1]) * np.diff(lam)))


def _folded_normal_grid(n: int = 400_001) -> tuple[np.ndarray, np.ndarray]:
    """Points ``t`` and weights of ``|Z|`` (``lambda = 0``) for exact expectations."""
    t = np.linspace(0.0, 9.0, n)
    weight = 2.0 * np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)
    weight = weight * (t[1] - t[0])
    weight[[0, -1]] /= 2.0
    return t, weight / weight.sum()


def estimator_spread(k: float, clipped: bool = True) -> tuple[float, float]:
    """``sd`` and mean of ``max(X - k, 0)`` (or ``X - k``) at ``lambda = 0``, units of ``c``."""
    t, w = _folded_normal_grid()
    est = t * t - k
    est = np.maximum(est, 0.0) if clipped else est
    mean = float(np.sum(w * est))
    return float(np.sqrt(np.sum(w * (est - mean) ** 2))), mean


def belt_width(clipped: bool = True, k: float = 1.0) -> float:
    """Mean width (units of ``c``) at ``lambda = 0`` of qkit's interval, the estimate inside."""
    t, w = _folded_normal_grid()
    lo, hi = noncentral.upper_limit_interval(t * t, 1.0, CONFIDENCE, signal=6.0)
    est = t * t - k
    est = np.maximum(est, 0.0) if clipped else est
    lo, hi = np.minimum(lo, est), np.maximum(hi, est)
    return float(np.sum(w * (hi - lo)))


def main() -> None:
    floor = pratt_floor_width()
    print(
        f"Pratt floor of the mean width at I = 0: W = {floor:.3f} c (half-width {floor / 2:.3f} c)"
    )
    header = ("estimate", "sd/c", "bias@0/c", "bias resolved/c", "floor", "qkit")
    print(" ".join(f"{h:>{n}}" for h, n in zip(header, (26, 6, 8, 15, 6, 6), strict=True)))
    rows = [(k, True) for k in (1.0, 0.9, 0.8, 0.7, 0.5, 0.0)] + [(1.0, False)]
    for k, clipped in rows:
        sd, mean = estimator_spread(k, clipped)
        name = f"c max(X - {k:.1f}, 0)" if clipped else f"c (X - {k:.1f}) unclipped"
        ratio_floor = floor / 2.0 / (Z * sd)
        ratio_belt = belt_width(clipped, k) / 2.0 / (Z * sd)
        line = (
            f"{name:>26} {sd:6.3f} {mean:8.3f} {1.0 - k:15.1f} {ratio_floor:6.3f} {ratio_belt:6.3f}"
        )
        print(line)
    need = floor / 2.0 / (Z * 1.25)
    print(f"a ratio <= 1.25 needs sd(estimate) >= {need:.3f} c at I = 0 (the floor alone)")


if __name__ == "__main__":
    main()
