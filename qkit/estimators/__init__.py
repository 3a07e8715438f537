"""Counts in, estimates with honest error bars out.

Pure functions over numpy count arrays, vectorized over leading batch axes (a whole sweep is
one call); every point's result depends on its own counts only (and, where a method resamples,
on its own Generator when ``rng`` is a sequence), bit for bit in any batch. Counts use qkit
order: outcome index ``2 * bit_A + bit_B`` (first qubit most significant), bit 0 = eigenvalue
+1, shape ``(..., n_settings, 4)``. The intervals are analytic (no resampling) and cost about
as much as the estimates; ``intervals=False`` (tomography) or ``n_boot=0`` gives point
estimates with NaN intervals.

- :func:`correlator`, :func:`chsh` -- exact binomial standard errors, a two-sided interval in
  Tsirelson's range, and finite-sample (Clopper-Pearson) bounds and p-values for ``CHSH > 2``
  and the opposite claim ``CHSH < 2`` (Sec. V); :func:`clopper_pearson`, the exact binomial
  interval of a frequency (a distillation round's success probability).
- :func:`fit_state`, :func:`state_tomography` -- physical two-qubit state from the nine Pauli
  settings; delta-method concurrence and ``E_F`` intervals, a direct linear fidelity estimate
  with a Feldman-Cousins interval at ``f = 1`` (:mod:`qkit.estimators.boundary`), the
  entanglement test ``C > 0`` with a finite-sample (Hoeffding) lower bound, and the test of
  ``C < c`` with an upper bound (paper A, Sec. III).
- :func:`mutual_information` -- input/outcome mutual information with small-sample bias
  correction and a delta-method interval (paper B).

Every interval's coverage is tested in ``tests/test_estimator_coverage.py``.
"""

from qkit.estimators._results import ChshEstimate, ConcurrenceInterval, Estimate, Interval
from qkit.estimators.correlators import chsh, clopper_pearson, correlator, proportion
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
    "clopper_pearson",
    "correlator",
    "fit_state",
    "linear_inversion",
    "mutual_information",
    "pauli_probabilities",
    "project_to_physical",
    "proportion",
    "state_tomography",
]
