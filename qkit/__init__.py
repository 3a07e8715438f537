"""qkit: an experiment kit for quantum communication.

Two published results, from exact theory to sampled experiments on simulators and quantum
clouds:

- :mod:`qkit.mixup` -- paper A, entanglement distribution under mix-up;
- :mod:`qkit.channel` -- paper B, a channel with correlated polarization noise.

The public API (every name below is importable from ``qkit``; heavy modules load on first use):

- :class:`Experiment`, :class:`Param`, :class:`Analysis`, :class:`Family`: define an experiment
  once (:mod:`qkit.experiment`); run it with ``experiment.run(...)``, sweep it with
  :func:`qkit.sweep.make_spec`;
- :func:`register`, :func:`get_experiment`: make an experiment known by name (stores, fetch,
  Dask workers);
- :data:`MIXUP`, :data:`CHANNEL`: the two papers' experiments; :data:`DISTILL`: one DEJMPS round
  on mixed-up pairs (beyond the papers);
- :class:`Result`: prediction beside estimate, with provenance;
- :func:`get_backend`: ``aer``, ``fake:<device>``, ``ibm:<device>``, ``braket:...``;
- :class:`ResultsStore`: the SQLite results store;
- :mod:`measures`, :mod:`noise`, :mod:`estimators`, :mod:`sweep`: state measures, classical noise
  and its realizations, counts to estimates with error bars, parameter grids into tables.
"""

from qkit._lazy import exporter

DISTRIBUTION = "qkit-comm"
"""The name qkit is installed under (``qkit`` on the package index is another project)."""

_EXPORTS = {
    "Experiment": "qkit.experiment:Experiment",
    "Param": "qkit.experiment:Param",
    "Analysis": "qkit.options:Analysis",
    "RunOptions": "qkit.options:RunOptions",
    "Family": "qkit.sampling:Family",
    "register": "qkit.registry:register",
    "get_experiment": "qkit.registry:get",
    "MIXUP": "qkit.mixup.experiment:MIXUP",
    "CHANNEL": "qkit.channel.experiment:CHANNEL",
    "DISTILL": "qkit.distill.experiment:DISTILL",
    "Result": "qkit.result:Result",
    "get_backend": "qkit.backends:get_backend",
    "ResultsStore": "qkit.store:ResultsStore",
    "measures": "qkit.measures",
    "noise": "qkit.noise",
    "estimators": "qkit.estimators",
    "sweep": "qkit.sweep",
    "mixup": "qkit.mixup",
    "channel": "qkit.channel",
}

__all__ = ["__version__", *_EXPORTS]
_export = exporter(__name__, _EXPORTS)


def __getattr__(name: str):
    if name == "__version__":  # read when asked: importlib.metadata costs 30-40 ms
        from qkit._lazy import qkit_version

        return qkit_version()
    return _export(name)


def __dir__() -> list[str]:
    return sorted(__all__)
