"""Two-qubit correlators and the CHSH value from counts, with exact binomial standard errors.

Counts arrays are ``(..., 4)`` per measurement setting, outcome index in qkit order
``2 * bit_A + bit_B`` (first qubit most significant), bit value 0 = eigenvalue +1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qkit.estimators._results import ChshEstimate, Estimate, as_counts, check_shots

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
    shots = check_shots(n)
    value = np.einsum("...o,o->...", n, _PARITY) / shots
    stderr = np.sqrt(np.clip(1.0 - value * value, 0.0, None) / shots)
    return Estimate(value=value, stderr=stderr)


def chsh(counts: ArrayLike) -> ChshEstimate:
    """CHSH value ``E(a,b) + E(a,b') + E(a',b) - E(a',b')`` with its standard error.

    The four settings are measured on independent shots, so their variances add:
    ``stderr^2 = sum_k (1 - E_k^2) / N_k``. ``significance = (value - 2) / stderr`` is the
    violation of the local bound in standard deviations (paper A, Sec. V: the largest value
    is the Horodecki ``2 sqrt(m1 + m2)``).

    Parameters
    ----------
    counts : array_like, shape (..., 4, 4)
        Counts for the settings (a, b), (a, b'), (a', b), (a', b') in that order, each over
        outcomes 00, 01, 10, 11 (qkit order).

    Returns
    -------
    ChshEstimate
        ``value``, ``stderr`` and ``significance`` over the leading axes.

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
    each = correlator(n)
    value = np.einsum("...k,k->...", each.value, CHSH_SIGNS)
    stderr = np.sqrt(np.sum(each.stderr**2, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        significance = np.where(
            stderr > 0,
            (value - 2.0) / np.where(stderr > 0, stderr, 1.0),
            np.sign(value - 2.0) * np.inf,
        )
    return ChshEstimate(value=value, stderr=stderr, significance=significance)
