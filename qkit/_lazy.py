"""Lazy public names: a package lists what it exports, and loads a module only when asked.

``import qkit`` and ``qkit --help`` stay free of Qiskit, QuTiP and matplotlib; the first use of a
name that needs them imports its module (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exporter(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names``: public name -> ``"module[:attr]"``.

    A bare module path exports the module itself.
    """

    def __getattr__(name: str) -> Any:
        try:
            target = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module

    return __getattr__


def qkit_version() -> str:
    """The installed qkit's version (``0.0.0`` when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qkit-comm")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
