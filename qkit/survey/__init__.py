"""Survey every coupler of a device: CHSH of a Bell pair and paper B's singlet/triplet mutual
information, measured class by class and set beside ideal and noise-model predictions.

- :mod:`qkit.survey.packing` -- couplers into classes that neither overlap nor touch;
- :mod:`qkit.survey.circuits` -- one device circuit per class (and letter);
- :mod:`qkit.survey.predict` -- ideal and exact noise-model predictions per coupler;
- :func:`run_survey` -- sample on a :class:`qkit.backends.Backend` and estimate.
"""

from qkit.survey.circuits import EXPERIMENTS
from qkit.survey.packing import check_packing, conflicts, couplers, pack_couplers
from qkit.survey.survey import CouplerResult, Survey, run_survey

__all__ = [
    "EXPERIMENTS",
    "CouplerResult",
    "Survey",
    "check_packing",
    "conflicts",
    "couplers",
    "pack_couplers",
    "run_survey",
]
