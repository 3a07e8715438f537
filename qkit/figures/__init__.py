"""The papers' figures: exact theory on fine grids with sampled estimates and error bars.

Each builder takes plain data (sample dicts, as stored in ``results.json``) and returns a
:class:`matplotlib.figure.Figure`; :func:`save` writes it as PNG and PDF. Nothing here uses
``pyplot`` or an interactive backend.

Paper A (:mod:`qkit.figures.mixup`): :func:`mixup_phase_diagram` (Fig. 2),
:func:`mixup_eof_max` (Fig. 3), :func:`mixup_fidelity` (Eq. 3.2).

Any sweep table (:mod:`qkit.figures.sweep`): :func:`plot_sweep` (``qkit plot``).

Paper B (:mod:`qkit.figures.channel`): :func:`channel_entropy_construction` (Figs. 2-3),
:func:`channel_conditional_probabilities` (Fig. 4), :func:`channel_capacity` (Fig. 5).
"""

from qkit.figures._style import save
from qkit.figures.channel import (
    channel_capacity,
    channel_conditional_probabilities,
    channel_entropy_construction,
)
from qkit.figures.mixup import mixup_eof_max, mixup_fidelity, mixup_phase_diagram
from qkit.figures.sweep import plot_sweep

__all__ = [
    "channel_capacity",
    "channel_conditional_probabilities",
    "channel_entropy_construction",
    "mixup_eof_max",
    "mixup_fidelity",
    "mixup_phase_diagram",
    "plot_sweep",
    "save",
]
