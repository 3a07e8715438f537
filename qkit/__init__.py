"""qkit: an experiment kit for quantum communication.

Two published results, from exact theory to sampled experiments on simulators and
quantum clouds:

- :mod:`qkit.mixup` -- paper A, entanglement distribution under mix-up;
- :mod:`qkit.channel` -- paper B, a channel with correlated polarization noise.

Shared state measures live in :mod:`qkit.measures`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qkit-comm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
