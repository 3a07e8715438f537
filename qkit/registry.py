"""Experiments by name: built in, registered in this process, or declared by an installed package.

Every door that knows an experiment by name asks here: ``qkit run NAME`` and ``qkit sweep
NAME`` (their ``--help`` lists :func:`names`), the results store, ``qkit jobs fetch``, Dask
workers. An installed package declares its experiments in the entry-point group
``qkit.experiments`` (the name is the experiment's name, the object an
:class:`qkit.experiment.Experiment`)::

    [project.entry-points."qkit.experiments"]
    werner = "my_package.werner:WERNER"

The entry points are read only when an experiment is looked up by a name qkit does not know yet,
or when every name is listed (``qkit run --help``): ``qkit --help`` and ``import qkit`` never
import a user's package. Built-in names cannot be taken by another experiment.

Only the standard library, and no other qkit module: the definition (:mod:`qkit.experiment`)
re-exports this registry, and the command-line parsers import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

Experiment = Any
"""A :class:`qkit.experiment.Experiment` (not imported: the definition imports this module)."""
E = TypeVar("E")
_INTERFACE = ("name", "title", "params", "predict", "outcomes", "analyse", "targets")
"""What every driver asks of an experiment: an object without it is not one."""

GROUP = "qkit.experiments"
"""The entry-point group an installed package declares its experiments in."""

_BUILTIN = {
    "mixup": "qkit.mixup.experiment:MIXUP",
    "channel": "qkit.channel.experiment:CHANNEL",
    "distill": "qkit.distill.experiment:DISTILL",
    "chain": "qkit.repeater.experiment:CHAIN",
}  # in help order
_REGISTERED: dict[str, Experiment] = {}


def register(experiment: E) -> E:
    """Make ``experiment`` known by name in this process (stores, fetch, sweeps, Dask workers).

    Registering again under the same name replaces the earlier definition (a notebook cell run
    twice); a built-in name belongs to the built-in experiment.
    """
    if not _is_experiment(experiment):
        raise ValueError(f"register takes a qkit.Experiment, got {type(experiment).__name__}")
    name = experiment.name  # type: ignore[attr-defined]
    if name in _BUILTIN and get(name) is not experiment:
        raise ValueError(f"an experiment called {name!r} exists already (built in)")
    _REGISTERED[name] = experiment
    return experiment


def get(name: str) -> Experiment:
    """The experiment called ``name``: registered here, built in, or an installed entry point."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in _BUILTIN:
        module, _, attr = _BUILTIN[name].partition(":")
        experiment = getattr(importlib.import_module(module), attr)
    else:
        declared = _declared().get(name)
        if declared is None:
            raise ValueError(f"experiment must be one of {', '.join(names())}; got {name!r}")
        experiment = _load(declared)
    _REGISTERED[name] = experiment
    return experiment


def names() -> list[str]:
    """Every experiment name: built-in ones first, then the others in alphabetical order."""
    others = (set(_REGISTERED) | set(_declared())) - set(_BUILTIN)
    return [*_BUILTIN, *sorted(others)]


def _declared() -> dict[str, EntryPoint]:
    """Entry points of the group ``qkit.experiments``, by name (built-in names excluded)."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP) if ep.name not in _BUILTIN}


def _load(entry: EntryPoint) -> Experiment:
    """The experiment an entry point names, checked; any failure is one ``ValueError``."""
    where = f"entry point {entry.name} = {entry.value} (group {GROUP})"
    try:
        experiment = entry.load()
    except Exception as exc:  # noqa: BLE001 - a user's package failing to import is bad input
        raise ValueError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not _is_experiment(experiment):
        raise ValueError(f"{where} is a {type(experiment).__name__}, not a qkit.Experiment")
    if experiment.name != entry.name:
        raise ValueError(f"{where} names the experiment {experiment.name!r}, not {entry.name!r}")
    return experiment


def _is_experiment(value: Any) -> bool:
    return not isinstance(value, type) and all(hasattr(value, a) for a in _INTERFACE)


# -- other processes: Dask workers ------------------------------------------------------------
def portable(task: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``task`` made runnable in another process that may not know experiment ``name``.

    A process with qkit installed finds the built-in experiments, and those an installed
    package declares, by name. An experiment registered only in this process (a notebook, a
    script) travels with the task instead: the returned callable carries its definition
    (Dask pickles it with cloudpickle: the functions of a notebook or script go by value) and
    registers it in the worker before running ``task``.
    """
    if name in _BUILTIN or name not in _REGISTERED or name in _declared():
        return task
    return _Carrying(task, _REGISTERED[name])


class _Carrying:
    """A task that registers the experiment it carries, then runs."""

    def __init__(self, task: Callable[..., Any], experiment: Experiment) -> None:
        self.task = task
        self.experiment = experiment

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _REGISTERED[self.experiment.name] = self.experiment
        return self.task(*args, **kwargs)
