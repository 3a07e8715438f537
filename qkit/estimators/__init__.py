"""Counts in, estimates with honest error bars out.

Pure functions over numpy count arrays, vectorized over leading batch axes (a whole sweep is
one call), seeded through a ``numpy.random.Generator`` where they resample. Counts use qkit
order: outcome index ``2 * bit_A + bit_B`` (first qubit most significant), bit 0 = eigenvalue
+1, shape ``(..., n_settings, 4)``.

- :func:`correlator`, :func:`chsh` -- exact binomial standard errors (paper A, Sec. V).
- :func:`fit_state`, :func:`state_tomography` -- physical two-qubit state from the nine Pauli
  settings, with bootstrap intervals for concurrence, ``E_F`` and fidelity (paper A, Sec. III).
- :func:`mutual_information` -- input/outcome mutual information with small-sample bias
  correction and a bootstrap interval (paper B).

Every interval's coverage is tested in ``tests/test_estimator_coverage.py``.
"""

from qkit.estimators._results import ChshEstimate, ConcurrenceInterval, Estimate, Interval
from qkit.estimators.correlators import chsh, correlator
from qkit.estimators.information import mutual_information
from qkit.estimators.tomography import (
    PAULI_SETTINGS,
    TomographyEstimate,
    fit_state,
    linear_inversion,
    pauli_probabilities,
    project_to_physical,
    state_tomography,
)

__all__ = [
    "PAULI_SETTINGS",
    "ChshEstimate",
    "ConcurrenceInterval",
    "Estimate",
    "Interval",
    "TomographyEstimate",
    "chsh",
    "correlator",
    "fit_state",
    "linear_inversion",
    "mutual_information",
    "pauli_probabilities",
    "project_to_physical",
    "state_tomography",
]
