"""Survey every coupler of a device: CHSH of a Bell pair and paper B's singlet/triplet mutual
information, measured class by class and set beside ideal and noise-model predictions.

- :mod:`qkit.survey.packing` -- couplers into classes that neither overlap nor touch;
- :mod:`qkit.survey.circuits` -- one device circuit per class (and letter);
- :mod:`qkit.survey.predict` -- ideal and exact noise-model predictions per coupler;
- :func:`run_survey` -- sample on a :class:`qkit.backends.Backend` and estimate.

Loaded when used (:mod:`qkit._lazy`): ``--layout best`` imports :mod:`qkit.survey.layout`,
which needs neither the survey's sampler nor its estimators when the ranking is cached.
"""

from qkit._lazy import exporter

_EXPORTS = {
    "EXPERIMENTS": "qkit.survey.circuits:EXPERIMENTS",
    "CouplerResult": "qkit.survey.survey:CouplerResult",
    "Survey": "qkit.survey.survey:Survey",
    "check_packing": "qkit.survey.packing:check_packing",
    "conflicts": "qkit.survey.packing:conflicts",
    "couplers": "qkit.survey.packing:couplers",
    "pack_couplers": "qkit.survey.packing:pack_couplers",
    "run_survey": "qkit.survey.survey:run_survey",
}

__all__ = list(_EXPORTS)
__getattr__ = exporter(__name__, _EXPORTS)
