"""One definition per experiment: where a paper's physics meets qkit's machinery.

An :class:`Experiment` says, once and batched over points, everything qkit needs to run it:

- its **parameters** (:class:`Param`): names, checks, CLI help;
- the exact **prediction** at a batch of points;
- the **circuits** of one point: the circuit family (circuits and their measurement settings)
  and the classical noise acting on it (:class:`qkit.noise.MixedUnitary`), which qkit
  realizes as an Aer noise model, a mixture of branch circuits or exact branch weights;
- how the measured bits map to the experiment's **outcomes**;
- the **analysis** from counts to estimates with intervals, batched over points, each point's
  randomness from its own generator.

The drivers only call these: ``qkit run`` (:meth:`Experiment.run`, :meth:`Experiment.submit`)
is a batch of one point, ``qkit sweep`` (:mod:`qkit.sweep`) is chunks of a grid, ``qkit
reproduce`` a list of named points. So the same point, shots, seed, engine and backend give the
same estimates by every door, and a user's own experiment (a Werner source, their own noise)
runs through all of them without touching qkit's source: define it and register it
(:mod:`qkit.registry`, or an installed package's entry point).

Seeds: every point has one seed (:func:`point_seed` derives it from a sweep's or reproduction's
master seed and the point's parameters); every random draw of the point comes from its own
stream of that seed (:func:`stream`): counts of the exact engine, branch allocation, simulator
seeds, the bootstrap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit import options
from qkit.options import Analysis, RunOptions
from qkit.registry import get, names, register  # noqa: F401 - the registry's old home

if TYPE_CHECKING:  # imported lazily at run time: ``qkit --help`` must not load Qiskit
    from qkit.backends import Backend
    from qkit.noise import MixedUnitary
    from qkit.result import Result
    from qkit.sampling import Family

Point = dict[str, Any]
"""One point: parameter name -> value (a float, or a string for a choice)."""
Points = dict[str, np.ndarray]
"""A batch of points: parameter name -> array of length n."""

# Independent streams of one point's seed (numpy SeedSequence entropy words).
STREAM_COUNTS, STREAM_ALLOCATION, STREAM_ANALYSIS, STREAM_SIMULATOR = 0, 1, 2, 3


@dataclass(frozen=True)
class Param:
    """A parameter of an experiment.

    ``check`` takes a value (or an array of values) and returns it validated (a float array
    for numbers, the string for a choice), or raises a one-line ``ValueError``. A parameter
    with ``choices`` is categorical; ``default`` ``None`` means required.
    """

    name: str
    check: Callable[[Any], Any]
    help: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None
    flags: tuple[str, ...] = ()  # extra command-line spellings, e.g. ("-S",)

    def validate(self, value: Any) -> Any:
        if self.choices:
            return options.check_choice(self.name, self.check(value), self.choices)
        return float(self.check(value))


@dataclass(frozen=True)
class Experiment:
    """One experiment, defined once for every driver and backend.

    Attributes
    ----------
    name : str
        Its name: ``qkit run NAME``, the store's run kind.
    title : str
        One line for help texts.
    params : tuple of Param
        Its parameters, in order (a sweep's axes, outer first).
    predict : callable
        ``predict(points) -> {key: array (n,)}``: the exact values the experiment estimates.
    circuits : callable
        ``circuits(point) -> (family, mixtures)``: the circuits with their measurement settings
        (:class:`qkit.sampling.Family`) and the classical noise on their labelled sites.
        Circuits shared by many points (parametrized, cached) are transpiled once.
    outcomes : callable
        ``outcomes(point, circuit_index, num_clbits) -> array (2**num_clbits, m)``: which
        outcome of the experiment each measured bit string (Qiskit integer) is (0/1 rows).
    analyse : callable
        ``analyse(counts, points, rngs, analysis) -> estimates``: ``counts`` is a list of
        arrays ``(measurements, outcomes)``, one per point, ``rngs`` one generator per point;
        ``estimates`` maps a quantity to a batched estimator result (``result[i].to_dict()``)
        or an array/list over points. Point ``i``'s estimates depend only on its counts and
        ``rngs[i]``.
    targets : mapping
        Estimated quantity -> the prediction key it estimates (reports, tables, agreement).
    probabilities : callable, optional
        ``probabilities(backend, points) -> list of arrays (measurements, outcomes)``: the
        exact outcome distributions, for the ``exact`` engine. Default
        (:func:`exact_probabilities`): every branch of the noise simulated once by the
        backend and mixed with the point's weights.
    labels : callable, optional
        ``labels(point) -> dict``: names of the measurements and outcomes, kept with the
        counts in the store.
    default_engine : str
        The engine ``engine="auto"`` means for one point on a backend with exact probabilities.
    choose_layout : callable, optional
        ``choose_layout(backend, store, width) -> {"physical": [a, b, ...], "source": ...}``:
        the physical qubits ``layout="best"`` means for circuits of ``width`` qubits
        (default: the coupler with the lowest calibration error,
        :func:`qkit.device_model.choose_by_calibration`; a chain's line:
        :func:`qkit.device_model.choose_line`).
    """

    name: str
    title: str
    params: tuple[Param, ...]
    predict: Callable[[Points], dict[str, np.ndarray]]
    circuits: Callable[[Point], tuple[Family, list[MixedUnitary]]]
    outcomes: Callable[[Point, int, int], np.ndarray]
    analyse: Callable[[list[np.ndarray], Points, Sequence[np.random.Generator], Analysis], dict]
    targets: Mapping[str, str] = field(default_factory=dict)
    probabilities: Callable[[Backend, Points], list[np.ndarray]] | None = None
    labels: Callable[[Point], dict[str, Any]] | None = None
    default_engine: str = "sampler"
    choose_layout: Callable[[Backend, Any, int], dict[str, Any]] | None = None

    # -- points ----------------------------------------------------------------------------
    def point(self, **values: Any) -> Point:
        """A validated point from keyword values (defaults filled in)."""
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            raise ValueError(f"{self.name} has no parameter {sorted(unknown)[0]!r}")
        out = {}
        for param in self.params:
            value = values.get(param.name, param.default)
            if value is None:
                raise ValueError(f"{self.name} needs a value for {param.name}")
            out[param.name] = param.validate(value)
        return out

    def batch(self, points: Sequence[Point]) -> Points:
        """Points as one array per parameter."""
        return {
            p.name: np.array([pt[p.name] for pt in points], dtype=object if p.choices else float)
            for p in self.params
        }

    def prediction(self, point: Point) -> dict[str, Any]:
        """The exact prediction at one point, as plain numbers."""
        values = self.predict(self.batch([point]))
        return {key: _plain(np.asarray(value)[0]) for key, value in values.items()}

    # -- Python API: one point (thin entry points into qkit.runner) -------------------------
    def run(
        self, opts: RunOptions | None = None, *, durable: bool | None = None, **kwargs: Any
    ) -> Result:
        """Sample one point and wait: the estimates beside the prediction.

        ``kwargs`` are the experiment's parameters by name and, when ``opts`` is not given,
        the fields of :class:`~qkit.options.RunOptions` (``shots=``, ``seed=``, ``backend=``,
        ``engine=``, ``n_boot=``, ``intervals=``, ``confidence=``, ``realization=``,
        ``mitigate=``, ``layout=``, ``store=``); see :func:`qkit.runner.run_point`.
        """
        from qkit import runner

        point, opts = self._split(opts, kwargs)
        return runner.run_point(self, point, opts, durable=durable)

    def submit(self, opts: RunOptions | None = None, **kwargs: Any) -> Any:
        """Submit one point durably and return a ``qkit.runner.Pending`` at once;
        ``qkit.runner.fetch`` finishes it. Arguments as :meth:`run` (a store is required)."""
        from qkit import runner

        point, opts = self._split(opts, kwargs)
        return runner.submit_point(self, point, opts)

    def _split(self, opts: RunOptions | None, kwargs: dict[str, Any]) -> tuple[Point, RunOptions]:
        param_names = {p.name for p in self.params}
        params = {k: v for k, v in kwargs.items() if k in param_names}
        rest = {k: v for k, v in kwargs.items() if k not in param_names}
        unknown = set(rest) - set(RunOptions.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{self.name} has no parameter {sorted(unknown)[0]!r}")
        return self.point(**params), RunOptions.of(opts, rest)


# -- seeds and streams -----------------------------------------------------------------------
def point_key(experiment: Experiment | str, point: Point, replicate: int = 0) -> str:
    """Stable text naming a point (seed derivation, report rows).

    >>> point_key("channel", {"eta": 0.5, "inputs": "entangled", "alphabet": "pair"})
    'channel eta=0.5 inputs=entangled alphabet=pair'
    """
    name = experiment if isinstance(experiment, str) else experiment.name
    parts = [name] + [f"{k}={_key_value(v)}" for k, v in point.items()]
    if replicate:
        parts.append(f"replicate={int(replicate)}")
    return " ".join(parts)


def _key_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(float(value))


def point_seed(master: int, key: str) -> int:
    """A point's seed from a master seed and the point's key (63 bits of BLAKE2b).

    The same point gets the same seed in every sweep and reproduction with that master seed,
    whatever else they contain; ``qkit run --seed`` with it reproduces the point.

    >>> key = "mixup success=0.5 amplitude=0.3"
    >>> point_seed(1, key) == point_seed(1, key) != point_seed(2, key)
    True
    """
    text = f"{options.check_seed(master)}:{key}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


def point_seeds(master: int, keys: Sequence[str]) -> list[int]:
    """:func:`point_seed` of each of ``keys`` (the master seed checked once)."""
    prefix = f"{options.check_seed(master)}:"
    blake2b = hashlib.blake2b
    return [
        int.from_bytes(blake2b(f"{prefix}{key}".encode(), digest_size=8).digest(), "big") >> 1
        for key in keys
    ]


def stream(seed: int, which: int) -> np.random.Generator:
    """Stream ``which`` (:data:`STREAM_COUNTS`, ...) of a point's seed."""
    return np.random.default_rng([int(seed), int(which)])


def each_stream(seeds: Sequence[int], which: int) -> Iterator[np.random.Generator]:
    """Stream ``which`` of each of ``seeds`` in turn, bit for bit :func:`stream`'s generators.

    ``default_rng([seed, which])`` costs ~25 us, most of it numpy's ``SeedSequence`` hashing
    in Python-level code, paid per point of a sweep. Here the hashing runs vectorized over all
    seeds (:func:`_pcg64_states`) and one generator is re-seeded for each: the yielded
    generator is the same object every time, so draw from it before asking for the next.
    """
    generator = np.random.Generator(np.random.PCG64(0))
    bit_generator = generator.bit_generator
    for seed, state in zip(seeds, _pcg64_states(seeds, which), strict=True):
        if state is None:  # a seed outside the vectorized range (not a point seed)
            yield stream(seed, which)
            continue
        bit_generator.state = state
        yield generator


# numpy's SeedSequence (numpy/random/bit_generator.pyx) and PCG64 seeding (pcg64.c), vectorized
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL, _MASK32 = 0xCA01F9DD, 0x4973F715, 4, 0xFFFFFFFF
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1


def _hash_constants(start: int, mult: int, count: int) -> list[int]:
    out, const = [], start
    for _ in range(count):
        out.append(const)
        const = (const * mult) & _MASK32
    return out


_HASH_A = _hash_constants(_INIT_A, _MULT_A, _POOL + _POOL * (_POOL - 1))
_HASH_B = _hash_constants(_INIT_B, _MULT_B, 8)


def _entropy_words(seeds: np.ndarray, which: int) -> np.ndarray:
    """The pool's entropy words (n, 4) of ``SeedSequence([seed, which])`` (uint32, 0-padded)."""
    lo = (seeds & _MASK32).astype(np.uint32)
    hi = (seeds >> 32).astype(np.uint32)
    words = np.zeros((len(seeds), _POOL), dtype=np.uint32)
    words[:, 0] = lo
    small = seeds < 2**32  # one entropy word for the seed, then ``which``
    words[:, 1] = np.where(small, np.uint32(which), hi)
    words[:, 2] = np.where(small, np.uint32(0), np.uint32(which))
    return words


def _hashmix(value: np.ndarray, const: int) -> np.ndarray:
    value = value ^ np.uint32(const)
    value = value * np.uint32((const * _MULT_A) & _MASK32)
    return value ^ (value >> np.uint32(16))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result: np.ndarray = x * np.uint32(_MIX_L) - y * np.uint32(_MIX_R)  # uint32, mod 2**32
    return result ^ (result >> np.uint32(16))


def _seed_words(seeds: np.ndarray, which: int) -> np.ndarray:
    """``SeedSequence([seed, which]).generate_state(4, np.uint64)`` for each seed, (n, 4)."""
    words = _entropy_words(seeds, which)
    consts = iter(_HASH_A)
    pool = [_hashmix(words[:, i], next(consts)) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], next(consts)))
    state = np.empty((len(seeds), 8), dtype=np.uint32)
    for i, const in enumerate(_HASH_B):
        value = pool[i % _POOL] ^ np.uint32(const)
        value = value * np.uint32((const * _MULT_B) & _MASK32)
        state[:, i] = value ^ (value >> np.uint32(16))
    return state.astype("<u4").view("<u8")


def _pcg64_states(seeds: Sequence[int], which: int) -> list[dict[str, Any] | None]:
    """``np.random.default_rng([seed, which]).bit_generator.state`` for each seed."""
    values = [int(s) for s in seeds]
    inside = [0 <= v < 2**64 for v in values]
    array = np.array([v if ok else 0 for v, ok in zip(values, inside, strict=True)], np.uint64)
    words = _seed_words(array, int(which)).tolist() if len(array) else []
    out: list[dict[str, Any] | None] = []
    for (s_hi, s_lo, i_hi, i_lo), ok in zip(words, inside, strict=True):
        if not ok:
            out.append(None)
            continue
        inc = (((i_hi << 64) | i_lo) << 1 | 1) & _MASK128
        # pcg_setseq_128_srandom_r: state 0, one step (-> inc), add the seed, one more step
        state = ((inc + ((s_hi << 64) | s_lo)) * _PCG_MULT + inc) & _MASK128
        out.append(
            {
                "bit_generator": "PCG64",
                "state": {"state": state, "inc": inc},
                "has_uint32": 0,
                "uinteger": 0,
            }
        )
    return out


class Streams(Sequence[np.random.Generator]):
    """Stream ``which`` of each of ``seeds``, each generator made when first asked for.

    Seeding a generator costs ~0.15 ms; analyses that draw nothing (analytic intervals) never
    pay it.
    """

    def __init__(self, seeds: Sequence[int], which: int):
        self._seeds = list(seeds)
        self._which = which
        self._made: dict[int, np.random.Generator] = {}

    def __len__(self) -> int:
        return len(self._seeds)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(len(self))[index]
        if index not in self._made:
            self._made[index] = stream(self._seeds[index], self._which)
        return self._made[index]


def simulator_seed(seed: int) -> int:
    """The simulator seed of a point (32 bits: every simulator takes it)."""
    return int(np.random.SeedSequence([int(seed), STREAM_SIMULATOR]).generate_state(1)[0])


# -- counts and exact probabilities ------------------------------------------------------------
# -- per-process simulation caches -----------------------------------------------------------
_CACHES: list[dict] = []


def cache(store: dict) -> dict:
    """Register a per-process simulation cache (emptied by :func:`clear_caches`)."""
    _CACHES.append(store)
    return store


def clear_caches() -> None:
    """Forget every simulated branch probability and state of this process."""
    for store in _CACHES:
        store.clear()


# -- estimates: one point's JSON, a batch's table columns ---------------------------------------
def estimate_of(estimates: Mapping[str, Any], i: int) -> dict[str, Any]:
    """Point ``i``'s estimates as plain JSON values (what ``qkit run --json`` prints)."""
    from qkit.result import jsonable

    out: dict[str, Any] = {}
    for name, value in estimates.items():
        if hasattr(value, "to_dict"):
            out[name] = value[i].to_dict()
        elif isinstance(value, np.ndarray) and np.iscomplexobj(value):
            out[name] = {"real": np.real(value[i]).tolist(), "imag": np.imag(value[i]).tolist()}
        else:
            out[name] = jsonable(value[i])
    return out


def columns_of(estimates: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """Table columns of a batch: ``q`` (value) and ``q_<field>`` for each scalar field.

    Quantities that are not one number per point (states, conditional probabilities) stay
    out of tables.
    """
    out: dict[str, np.ndarray] = {}
    for name, value in estimates.items():
        fields = getattr(value, "_batched_fields", None)
        if fields is None:
            arr = np.asarray(value) if not isinstance(value, list) else None
            if arr is not None and arr.shape == (n,) and not np.iscomplexobj(arr):
                out[name] = arr
            continue
        for f in fields:
            arr = np.broadcast_to(np.asarray(getattr(value, f)), (n,))
            out[name if f == "value" else f"{name}_{f}"] = np.array(arr)
    return out


def stack(results: Sequence[Any]) -> Any:
    """One batched estimator result from single-point ones (same type and settings)."""
    from dataclasses import replace

    first = results[0]
    fields = first._batched_fields
    return replace(
        first, **{f: np.array([np.asarray(getattr(r, f)) for r in results]) for f in fields}
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
