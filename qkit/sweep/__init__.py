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

- :mod:`qkit.sweep.grid` -- range syntax (``start:stop:count`` or comma lists), the sweep
  specification, chunks of blocks, seeds derived from ``(seed, block)``;
- :mod:`qkit.sweep.mixup`, :mod:`qkit.sweep.channel` -- the points of each paper, counts to
  table columns (predictions beside estimates with intervals);
- engines: ``exact`` (Aer: the simulator's exact outcome probabilities, counts drawn
  multinomially; :mod:`qkit.sweep._exact`) and ``sampler`` (every backend: every shot sampled,
  many points per call; :mod:`qkit.sweep._sampler`);
- :mod:`qkit.sweep.table` -- chunk parts, resume, streamed merge into CSV or Parquet;
- :mod:`qkit.sweep.runner` -- progress bar, Dask, results store.
"""

from qkit.sweep.channel import channel_spec
from qkit.sweep.grid import SweepSpec, parse_choices, parse_range
from qkit.sweep.mixup import mixup_spec
from qkit.sweep.runner import compute_chunk, run_sweep
from qkit.sweep.table import read_table

__all__ = [
    "SweepSpec",
    "channel_spec",
    "compute_chunk",
    "mixup_spec",
    "parse_choices",
    "parse_range",
    "read_table",
    "run_sweep",
]
