"""Paper B: classical communication over a channel with correlated polarization noise.

Two time slots share a random polarization rotation; slot 2 is further depolarized by ``eta``.
The exact theory (:mod:`qkit.channel.theory`, numpy only), the Fock-space optics model
(:mod:`qkit.channel.optics`, QuTiP), the circuits (:mod:`qkit.channel.circuits`) and the
sampled experiment (:data:`CHANNEL`, :func:`run`).

- :func:`werner_state`, :func:`singlet_probability`: the two-photon output (Werner states);
- :func:`chi2`, :func:`capacity`: the Holevo quantity of the pair sector (Eqs. 25-32) and the
  two-slot capacity (Eq. 8, Fig. 5);
- :func:`optimal_ensemble`, :func:`two_slot_ensemble`: the optimal input ensembles (Lemma 2,
  Sec. V);
- :func:`conditional_probabilities`, :func:`measurement_mutual_information`: the
  Braunstein-Mann singlet/triplet measurement and the information it attains (Fig. 4);
- :data:`CHANNEL`, :func:`run`, :func:`submit`: the sampled experiment.
"""

from qkit._lazy import exporter
from qkit.channel.theory import (
    capacity,
    capacity_unpolarized,
    chi2,
    conditional_probabilities,
    measurement_mutual_information,
    optimal_ensemble,
    singlet_probability,
    train_capacity,
    two_slot_ensemble,
    werner_state,
)

_EXPORTS = {
    "CHANNEL": "qkit.channel.experiment:CHANNEL",
    "run": "qkit.channel.experiment:run",
    "submit": "qkit.channel.experiment:submit",
    "theory": "qkit.channel.theory",
    "optics": "qkit.channel.optics",
    "circuits": "qkit.channel.circuits",
    "experiment": "qkit.channel.experiment",
}

__all__ = [
    "capacity",
    "capacity_unpolarized",
    "chi2",
    "conditional_probabilities",
    "measurement_mutual_information",
    "optimal_ensemble",
    "singlet_probability",
    "train_capacity",
    "two_slot_ensemble",
    "werner_state",
    *_EXPORTS,
]
__getattr__ = exporter(__name__, _EXPORTS)
