"""Paper A: entanglement distribution by an inept delivery service (mix-up).

A source makes pairs ``psi_a = a|00> + sqrt(1-a^2)|11>``; the delivery service mixes pairs up
with probability ``1 - S``. The exact theory (:mod:`qkit.mixup.theory`, numpy only, broadcast
over arrays), the circuits (:mod:`qkit.mixup.circuits`) and the sampled experiment
(:data:`MIXUP`, :func:`run`).

- :func:`state`, :func:`mixup`: the delivered pair ``M[psi_a]`` (Eq. 2.1);
- :func:`fidelity`, :func:`concurrence`, :func:`eof`, :func:`chsh_max`: Eqs. 3.2-3.3, ``E_F``,
  the Horodecki CHSH value;
- :func:`entanglement_threshold`, :func:`chsh_threshold`: where entanglement (Eq. 3.4) and CHSH
  violation begin;
- :func:`optimal_amplitude`, :func:`eof_max`, :func:`pairs_per_bell_pair`: the best amplitude for
  each ``S`` (Fig. 3, Eq. 4.2);
- :func:`lhv_region`: the local-hidden-variable region (Fig. 2);
- :data:`MIXUP`, :func:`run`, :func:`submit`: the sampled experiment.
"""

from qkit._lazy import exporter
from qkit.mixup.theory import (
    BELL_AMPLITUDE,
    chsh_max,
    chsh_threshold,
    concurrence,
    entanglement_threshold,
    eof,
    eof_max,
    fidelity,
    lhv_region,
    mixup,
    optimal_amplitude,
    pairs_per_bell_pair,
    psi,
    state,
)

_EXPORTS = {
    "MIXUP": "qkit.mixup.experiment:MIXUP",
    "run": "qkit.mixup.experiment:run",
    "submit": "qkit.mixup.experiment:submit",
    "theory": "qkit.mixup.theory",
    "circuits": "qkit.mixup.circuits",
    "experiment": "qkit.mixup.experiment",
}

__all__ = [
    "BELL_AMPLITUDE",
    "chsh_max",
    "chsh_threshold",
    "concurrence",
    "entanglement_threshold",
    "eof",
    "eof_max",
    "fidelity",
    "lhv_region",
    "mixup",
    "optimal_amplitude",
    "pairs_per_bell_pair",
    "psi",
    "state",
    *_EXPORTS,
]
__getattr__ = exporter(__name__, _EXPORTS)
