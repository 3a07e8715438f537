"""Sweeps at scale: whole parameter grids sampled, streamed to a table, resumable, distributable.

>>> import tempfile, pathlib
>>> from qkit.sweep import mixup_spec, run_sweep, read_table
>>> spec = mixup_spec([0.6, 1.0], [0.5, 0.7], shots=500, seed=3, intervals="none")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.csv"
>>> run_sweep(spec, out)["points"]
4
>>> table = read_table(out)
>>> table["success"].tolist(), table["amplitude"].tolist()
([0.6, 0.6, 1.0, 1.0], [0.5, 0.7, 0.5, 0.7])

Any experiment (:mod:`qkit.experiment`) sweeps the same way: :func:`make_spec` takes its name
and axes; every row is that experiment at one point, with the row's own recorded seed.

- :mod:`qkit.sweep.grid` -- range syntax (``start:stop:count`` or comma lists) and the sweep
  specification;
- :mod:`qkit.sweep.compute` -- one chunk of rows: counts by the ``exact`` or ``sampler``
  engine, estimates by the experiment's analysis, as table columns;
- :mod:`qkit.sweep.table` -- chunk parts, resume, streamed merge into CSV or Parquet;
- :mod:`qkit.sweep.runner` -- progress bar, Dask, results store.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from qkit.sweep.compute import compute_chunk
from qkit.sweep.grid import SweepSpec, make_spec, parse_choices, parse_range
from qkit.sweep.runner import run_sweep
from qkit.sweep.table import read_table

__all__ = [
    "SweepSpec",
    "channel_spec",
    "compute_chunk",
    "make_spec",
    "mixup_spec",
    "parse_choices",
    "parse_range",
    "read_table",
    "run_sweep",
]


def mixup_spec(
    success: ArrayLike,
    amplitude: ArrayLike,
    **kwargs: Any,
) -> SweepSpec:
    """A mix-up sweep over ``success x amplitude`` (keywords as :func:`make_spec`).

    >>> spec = mixup_spec([0.5, 1.0], [0.6], shots=100, seed=1)
    >>> spec.num_points, spec.engine
    (2, 'exact')
    """
    axes = {"success": success, "amplitude": amplitude}
    return make_spec("mixup", axes, **kwargs)


def channel_spec(
    eta: ArrayLike,
    inputs: str | tuple[str, ...] = ("entangled", "separable"),
    alphabet: str | tuple[str, ...] = "pair",
    **kwargs: Any,
) -> SweepSpec:
    """A channel sweep over ``alphabet x inputs x eta`` (keywords as :func:`make_spec`).

    ``shots`` is per letter. ``inputs`` and ``alphabet`` are names or comma lists.

    >>> spec = channel_spec([0.0, 1.0], "entangled,separable", seed=1)
    >>> spec.shape
    (1, 2, 2)
    """
    axes = {"eta": eta, "inputs": inputs, "alphabet": alphabet}
    return make_spec("channel", axes, **kwargs)
