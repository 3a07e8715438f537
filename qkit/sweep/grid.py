"""Parameter grids: range syntax, the sweep specification, points, chunks and seeds.

A sweep is the Cartesian product of an experiment's parameter axes, in the order of its
parameters, outer first (mix-up: ``success`` x ``amplitude``; channel: ``eta`` x ``inputs`` x
``alphabet``), each point repeated ``repeat`` times (innermost). Row ``i`` is the ``i``-th element
of that product in row-major order, whatever machine computes it. Rows are cut into *chunks*
(the unit of work, of progress, of a file on disk and of a Dask task). Every random number of a
row derives from the row's own seed (:func:`qkit.experiment.point_seed` of the sweep's seed and
the point's parameters and replicate), which the table records: the table is the same however
the chunks are run (in one process, resumed, on a cluster), and ``qkit run --seed`` reproduces
any row.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from qkit import options

DEFAULT_CHUNK = 8192
"""Rows per chunk: large enough that a chunk's fixed costs (numpy calls, a part file and its
fsync, a Dask task) are small against its rows, small enough to hold in memory (a mix-up
chunk peaks at ~150 MB in its analysis: a sweep of any size stays under 400 MB)."""
MAX_POINTS = 10**8
"""Rows a sweep may have (the table is streamed, but the axes are held in memory)."""


def parse_range(text: str, name: str = "values") -> np.ndarray:
    """Values of a range ``start:stop:count`` (both ends included) or a comma list.

    Parameters
    ----------
    text : str
        ``"0.05:1:20"`` (20 evenly spaced values from 0.05 to 1), ``"0.1,0.5,0.9"`` or a
        single number.
    name : str
        Parameter name for error messages.

    Returns
    -------
    numpy.ndarray
        The values in the order given (not validated against the physics: see
        :func:`mixup_spec` and :func:`channel_spec`).

    Raises
    ------
    ValueError
        One line naming the parameter and what was wrong.

    Examples
    --------
    >>> parse_range("0:1:5").tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> parse_range("0.2, 0.7").tolist()
    [0.2, 0.7]
    """
    text = str(text).strip()
    syntax = f"{name} must be start:stop:count or a comma list of numbers, got {text!r}"
    if not text:
        raise ValueError(syntax)
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(syntax)
        start, stop = (_number(p, name, text) for p in parts[:2])
        try:
            count = int(parts[2])
        except ValueError:
            raise ValueError(f"{name}: count in {text!r} must be a positive integer") from None
        if count < 1:
            raise ValueError(f"{name}: count in {text!r} must be a positive integer")
        if count == 1 and start != stop:
            raise ValueError(f"{name}: a range {text!r} with one value needs start == stop")
        return np.linspace(start, stop, count)
    return np.array([_number(p, name, text) for p in text.split(",")])


def _number(part: str, name: str, text: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise ValueError(
            f"{name} must be start:stop:count or a comma list of numbers, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} values must be finite, got {part.strip()!r} in {text!r}")
    return value


def parse_choices(text: str | Sequence[str], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """Comma-separated names (or a sequence), each one of ``allowed``; order kept.

    >>> parse_choices("entangled,separable", "inputs", ("entangled", "separable"))
    ('entangled', 'separable')
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    items = [str(item).strip() for item in items]
    if not items or any(not item for item in items):
        raise ValueError(f"{name} must be a comma list of {', '.join(allowed)}, got {text!r}")
    for item in items:
        if item not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {item!r}")
    return tuple(items)


@dataclass(frozen=True)
class SweepSpec:
    """Everything that determines a sweep's table (and so its resumability).

    ``kind`` names the experiment (:func:`qkit.experiment.get`); ``axes`` holds
    ``(name, values)`` pairs in the order of its parameters. ``engine`` is resolved
    (``"exact"`` or ``"sampler"``), never ``"auto"``; ``n_boot`` 0 means no intervals. Two specs
    with equal :meth:`to_dict` produce identical tables.
    """

    kind: str
    axes: tuple[tuple[str, tuple], ...]
    shots: int
    seed: int
    backend: str = "aer"
    engine: str = "exact"
    realization: str | None = None
    n_boot: int = options.DEFAULT_BOOTSTRAP
    confidence: float = options.DEFAULT_CONFIDENCE
    chunk_size: int = DEFAULT_CHUNK
    repeat: int = 1
    layout: tuple[int, ...] | None = None  # physical qubits of every point's measured pair
    mitigate: str | None = None

    @property
    def options(self) -> options.RunOptions:
        """The run options of every row (its seed is the row's own)."""
        return options.RunOptions(
            shots=self.shots,
            backend=self.backend,
            engine=self.engine,
            realization=self.realization,
            mitigate=self.mitigate,
            layout="auto" if self.layout is None else self.layout,
            confidence=self.confidence,
            intervals="none" if self.n_boot == 0 else "auto",
            n_boot=self.n_boot or options.DEFAULT_BOOTSTRAP,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for _, values in self.axes)

    @property
    def num_points(self) -> int:
        """Rows of the table: grid points x replicates."""
        return int(np.prod(self.shape)) * self.repeat

    @property
    def num_chunks(self) -> int:
        return -(-self.num_points // self.chunk_size)

    def chunk_range(self, chunk: int) -> range:
        """Row indices of ``chunk``."""
        if not 0 <= chunk < self.num_chunks:
            raise ValueError(f"chunk must be in [0, {self.num_chunks}), got {chunk}")
        return range(chunk * self.chunk_size, min((chunk + 1) * self.chunk_size, self.num_points))

    def values(self, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """Axis values of the rows ``indices``: one array per axis name."""
        grid = np.asarray(indices, dtype=np.int64) // self.repeat
        idx = np.unravel_index(grid, self.shape)
        names = [name for name, _ in self.axes]
        return {name: values[i] for name, values, i in zip(names, self._arrays, idx, strict=True)}

    @functools.cached_property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        """Each axis as an array, built once (a 10^7-value axis is not converted per chunk)."""
        return tuple(np.asarray(values) for _, values in self.axes)

    def axis_positions(self, indices: Sequence[int] | np.ndarray) -> tuple[list[int], ...]:
        """Each axis's value index at the rows ``indices``."""
        grid = np.asarray(indices, dtype=np.int64) // self.repeat
        return tuple(i.tolist() for i in np.unravel_index(grid, self.shape))

    @functools.cached_property
    def key_texts(self) -> tuple[list[str], ...]:
        """``name=value`` of every axis value, as :func:`qkit.experiment.point_key` writes it."""
        from qkit.experiment import point_key

        return tuple(
            [point_key("", {name: value})[1:] for value in values] for name, values in self.axes
        )

    def replicates(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.asarray(indices, dtype=np.int64) % self.repeat

    def to_dict(self) -> dict[str, Any]:
        out = self._scalars()
        out["axes"] = {name: list(values) for name, values in self.axes}
        if self.layout is None:
            del out["layout"]  # specs without a layout keep their digest (resume)
        else:
            out["layout"] = list(self.layout)
        if self.mitigate is None:
            del out["mitigate"]  # (likewise)
        return out

    def summary(self) -> dict[str, Any]:
        """:meth:`to_dict` with each evenly spaced axis as ``{start, stop, count}`` (compact)."""
        out = self._scalars()
        out["axes"] = {name: axis_summary(values) for name, values in self.axes}
        return out

    def _scalars(self) -> dict[str, Any]:
        # every field but the axes, without asdict's deep copy of every axis value
        return {f.name: None if f.name == "axes" else getattr(self, f.name) for f in fields(self)}


def axis_summary(values: Sequence) -> Any:
    """An axis as ``{"start", "stop", "count"}`` when evenly spaced, else its values.

    >>> axis_summary((0.0, 0.5, 1.0))
    {'start': 0.0, 'stop': 1.0, 'count': 3}
    """
    if len(values) > 2 and all(isinstance(v, float) for v in values):
        ramp = np.linspace(values[0], values[-1], len(values))
        if np.array_equal(ramp, np.asarray(values)):
            return {"start": values[0], "stop": values[-1], "count": len(values)}
    return list(values)


def make_spec(
    experiment: str,
    axes: dict[str, Any],
    opts: options.RunOptions | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    repeat: int = 1,
    **kwargs: Any,
) -> SweepSpec:
    """The validated specification of a sweep of ``experiment`` over ``axes``.

    ``axes`` maps each parameter to its values (numbers, or names for a choice; a comma string
    of names works too); a parameter left out takes its default as a one-value axis. The
    default engine is ``exact`` on a backend with exact probabilities (Aer: the circuits'
    exact outcome probabilities, counts drawn multinomially), else ``sampler``. The run
    options are ``opts`` (:class:`~qkit.options.RunOptions`) or its fields as keywords
    (``shots=``, ``seed=``, ``backend=``, ``engine=``, ``mitigate=``, ``n_boot=``, ...);
    ``seed=None`` draws one. ``layout`` (device backends): ``"auto"``, ``"best"`` (resolved
    here, as ``qkit run`` resolves it) or physical qubits.

    >>> spec = make_spec("channel", {"eta": [0.0, 1.0], "inputs": "entangled,separable"}, seed=1)
    >>> spec.shape, spec.engine  # alphabet x inputs x eta
    ((1, 2, 2), 'exact')
    """
    from qkit import experiment as definitions

    opts = options.RunOptions.of(opts, kwargs)
    if not isinstance(opts.backend, str):
        raise ValueError(f"backend must be a backend name such as 'aer', got {opts.backend!r}")
    exp = definitions.get(experiment)
    unknown = set(axes) - {p.name for p in exp.params}
    if unknown:
        raise ValueError(f"{exp.name} has no parameter {sorted(unknown)[0]!r}")
    checked = []
    for param in exp.params:
        values = axes.get(param.name, param.default)
        if values is None:
            raise ValueError(f"a {exp.name} sweep needs values for {param.name}")
        if param.choices:
            names = parse_choices(values, param.name, param.choices)
            checked.append((param.name, tuple(param.validate(v) for v in names)))
        else:
            array = np.atleast_1d(
                np.asarray(values, dtype=float)
                if not isinstance(values, str)
                else parse_range(values, param.name)
            )
            if array.ndim != 1 or array.size == 0:
                raise ValueError(f"{param.name} must be a non-empty list of numbers")
            param.check(array)
            checked.append((param.name, tuple(float(v) for v in array)))
    size = int(np.prod([len(v) for _, v in checked])) * _check_repeat(repeat)
    if size > MAX_POINTS:
        raise ValueError(f"a sweep may have at most {MAX_POINTS:.0e} rows, this one has {size}")
    if int(chunk_size) != chunk_size or not 1 <= chunk_size <= 10**6:
        raise ValueError(f"chunk size must be an integer in [1, 1000000], got {chunk_size!r}")
    return SweepSpec(
        kind=exp.name,
        axes=tuple(checked),
        shots=opts.shots,
        seed=options.resolve_seed(opts.seed),
        backend=opts.backend,
        engine=opts.resolved_engine("exact"),
        realization=opts.realization,
        n_boot=opts.analysis.n_boot,
        confidence=opts.confidence,
        chunk_size=int(chunk_size),
        repeat=_check_repeat(repeat),
        layout=_resolve_layout(opts, exp),
        mitigate=opts.mitigate,
    )


def _resolve_layout(opts: options.RunOptions, experiment) -> tuple[int, ...] | None:
    """Physical qubits of every row: ``best`` resolved once, by the rule ``qkit run`` uses."""
    if opts.layout == "auto":
        return None
    if opts.layout == "best":
        from qkit.engines import choose_best, resolve_backend

        return tuple(choose_best(experiment, resolve_backend(opts.backend), opts.store)["physical"])
    return tuple(int(q) for q in opts.layout)


def _check_repeat(repeat: Any) -> int:
    if isinstance(repeat, bool) or int(repeat) != repeat or not 1 <= repeat <= 100_000:
        raise ValueError(f"repeat must be an integer in [1, 100000], got {repeat!r}")
    return int(repeat)
