"""The backend interface shared by Aer, IBM fake devices, IBM Quantum and Amazon Braket."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.transpiler import generate_preset_pass_manager

from qkit import _checks as options
from qkit import consent, progress
from qkit.backends._capabilities import Capabilities
from qkit.backends._jobs import Job, SplitJob, shot_groups
from qkit.backends._transpile import TranspileCache, transpile_stats, without_idle_qubits

MAX_CALL_SHOTS = 4_000_000
"""Shots (over every PUB and binding) a local simulator samples in one call. A larger
submission runs as consecutive calls of at most this many shots, each turned into counts before
the next starts, so memory does not grow with the shots (Aer keeps every shot of a call as a
string; :data:`qkit.sampling.MAX_PUB_SHOTS` bounds a single PUB)."""

# Transpiler seed when the user gives none: layouts and routing stay reproducible.
DEFAULT_TRANSPILER_SEED = 0


class BackendUnavailableError(ValueError):
    """A backend needs an optional package or credentials that are missing (one line)."""


def check_seed(seed: int | None) -> int | None:
    """``None`` (the backend's default) or a seed checked by :func:`qkit.options.check_seed`."""
    return None if seed is None else options.check_seed(seed)


def check_layout(layout: Sequence[int], num_qubits: int) -> tuple[int, ...]:
    """Distinct physical qubits ``0 <= q < num_qubits`` (a one-line ``ValueError`` otherwise)."""
    try:
        fixed = tuple(int(q) for q in layout)
        ok = all(int(q) == q and not isinstance(q, bool) for q in layout)
    except (TypeError, ValueError):
        ok, fixed = False, ()
    if not ok or not fixed or len(set(fixed)) != len(fixed):
        raise ValueError(f"layout must list distinct physical qubits, got {layout!r}")
    bad = [q for q in fixed if not 0 <= q < num_qubits]
    if bad:
        raise ValueError(
            f"layout qubits must be in [0, {num_qubits - 1}] on this device, got {bad[0]}"
        )
    return fixed


def check_coupled(layout: Sequence[int], device) -> None:
    """ValueError unless the physical qubits of ``layout`` are connected on ``device``'s
    coupling map (two qubits: a coupler joins them), so the pair is not routed through SWAPs.
    Devices without a coupling map (simulators) take any layout."""
    coupling = getattr(device, "coupling_map", None)
    if coupling is None or len(layout) < 2:
        return
    edges = {frozenset(edge) for edge in coupling.get_edges()}
    reached, todo = {layout[0]}, [layout[0]]
    while todo:
        here = todo.pop()
        for there in layout:
            if there not in reached and frozenset((here, there)) in edges:
                reached.add(there)
                todo.append(there)
    if len(reached) < len(layout):
        apart = [q for q in layout if q not in reached]
        pairs = sorted(tuple(sorted(e)) for e in edges if e & set(layout))[:6]
        raise ValueError(
            f"layout qubits {list(layout)} are not coupled on this device ({apart[0]} is not"
            f" joined to {layout[0]}); couplers at these qubits: {pairs}"
        )


class Backend:
    """A named execution target: transpile circuit families once, sample PUBs, track jobs.

    Attributes
    ----------
    name : str
        The name it was created from, e.g. ``"aer"``, ``"fake:sherbrooke"``.
    kind : str
        ``"aer"``, ``"fake"``, ``"ibm"`` or ``"braket"`` (for records; code asks ``caps``).
    caps : Capabilities
        What the backend can do (noise models, exact probabilities, detachable jobs, ...).
    device : qiskit.providers.BackendV2
        The Qiskit backend that defines the transpilation target.
    """

    kind: str = ""
    caps: Capabilities = Capabilities()
    native_pub_shots: bool = False  # does the sampler take different shots per PUB in one call?
    split_waste: float = 2.0  # see shot_groups: cloud calls run at most 2x the shots needed

    def __init__(self, name: str, device, *, seed: int | None, optimization_level: int):
        if optimization_level not in (0, 1, 2, 3):
            raise ValueError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
        self.name = name
        self.device = device
        self.seed = check_seed(seed)
        self.optimization_level = optimization_level
        self._cache = TranspileCache(self._transpile_uncached, lambda: self._persisted("auto"))
        self._layout_caches: dict[tuple[int, ...], TranspileCache] = {}
        self._default_pass_manager = None
        self._device_cache: Any = None

    persist_transpilations = True
    """Keep transpiled circuits on disk (:mod:`qkit.backends._cache`); off where transpiling
    is cheaper than reading them back (Aer)."""

    def device_cache(self):
        """The on-disk cache of this device's calibration (:mod:`qkit.backends._cache`), or
        ``None`` when the device has no target to fingerprint."""
        if self._device_cache is None:
            from qkit.backends import _cache

            try:
                self._device_cache = _cache.DeviceCache(_cache.fingerprint(self.name, self.device))
            except Exception:  # noqa: BLE001 - a device without a readable target: no cache
                self._device_cache = False
        return self._device_cache or None

    def _persisted(self, layout: object):
        if not self.persist_transpilations:
            return None
        cache = self.device_cache()
        if cache is None:
            return None
        seed = DEFAULT_TRANSPILER_SEED if self.seed is None else self.seed
        return cache, f"layout={layout}|level={self.optimization_level}|seed={seed}"

    @property
    def supports_noise_model(self) -> bool:
        return self.caps.noise_model

    @property
    def retrievable(self) -> bool:
        """Can ``retrieve(job_id)`` re-attach to a job after a restart?"""
        return self.caps.retrievable

    @property
    def num_qubits(self) -> int:
        return int(self.device.num_qubits)

    def __repr__(self) -> str:
        return f"<qkit Backend {self.name!r}>"

    # -- transpilation ------------------------------------------------------------------
    def _pass_manager(self, target=None):
        if target is None:
            if self._default_pass_manager is None:
                self._default_pass_manager = self._build_pass_manager(self.device.target)
            return self._default_pass_manager
        return self._build_pass_manager(target)

    def _build_pass_manager(self, target, initial_layout=None):
        seed = DEFAULT_TRANSPILER_SEED if self.seed is None else self.seed
        return generate_preset_pass_manager(
            optimization_level=self.optimization_level,
            target=target,
            seed_transpiler=seed,
            initial_layout=initial_layout,
        )

    def _check_sites(self, circuits: list[QuantumCircuit]) -> None:
        for circuit in circuits:
            sites = [i.operation.label for i in circuit.data if i.operation.name == "qerror_loc"]
            if sites:
                raise ValueError(
                    f"backend {self.name!r} cannot run noise sites ({', '.join(sites)}); "
                    "use the circuit-mixture realization of the noise (qkit.noise)"
                )

    def _has(self, operation: str) -> bool:
        """Does the device's target take ``operation`` (IBM devices differ in dynamic circuits)?"""
        target = getattr(self.device, "target", None)
        return target is None or operation in target.operation_names

    def _check_capabilities(self, circuits: Sequence[QuantumCircuit]) -> None:
        """Refuse what this backend would run wrongly: feed-forward it cannot convert, an idle
        period (``delay``) where no T1/T2 acts (it would silently do nothing)."""
        for circuit in circuits:
            if circuit.num_qubits > self.num_qubits:
                raise ValueError(
                    f"a {circuit.num_qubits}-qubit circuit does not fit {self.name!r} "
                    f"({self.num_qubits} qubits)"
                )
            for inst in circuit.data:
                name = inst.operation.name
                dynamic = name in _CONTROL_FLOW or name == "reset"
                if dynamic and not (self.caps.feed_forward and self._has(name)):
                    raise ValueError(
                        f"backend {self.name!r} cannot run dynamic circuits (mid-circuit reset, "
                        "classically controlled gates: feed-forward); use aer or an IBM device "
                        "that does (e.g. fake:lagos, fake:hanoi)"
                    )
                if name == "delay" and not self.caps.timing and _nonzero(inst.operation):
                    raise ValueError(
                        f"backend {self.name!r} has no timing, so an idle period would do "
                        "nothing; use a device backend (fake:<device>, ibm:<device>)"
                    )

    def _transpile_uncached(self, circuits: list[QuantumCircuit]) -> list[QuantumCircuit]:
        self._check_sites(circuits)
        with progress.phase("transpiling"):
            return list(self._pass_manager().run(self._aligned_delays(circuits)))

    def _aligned_delays(self, circuits: list[QuantumCircuit]) -> list[QuantumCircuit]:
        """Delays in seconds-based units as whole multiples of the device's timing granularity
        (in ``dt``): the preset pass manager cannot reschedule an unaligned delay. Changes a
        delay by less than one granularity step (3.6 ns on IBM devices)."""
        target = getattr(self.device, "target", None)
        dt = getattr(target, "dt", None)
        if not dt or not any(i.operation.name == "delay" for c in circuits for i in c.data):
            return circuits
        step = max(1, int(getattr(target, "granularity", 1) or 1))
        scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}
        out = []
        for circuit in circuits:
            fixed = circuit.copy_empty_like()
            for inst in circuit.data:
                op = inst.operation
                if op.name == "delay" and op.unit in scale:
                    ticks = int(round(float(op.duration) * scale[op.unit] / dt / step)) * step
                    fixed.delay(ticks, inst.qubits, unit="dt")
                else:
                    fixed.append(inst)
            out.append(fixed)
        return out

    def _transpile_on(
        self, circuits: list[QuantumCircuit], layout: tuple[int, ...]
    ) -> list[QuantumCircuit]:
        """Transpile with virtual qubit ``k`` on physical ``layout[k]`` (helpers nearby)."""
        from qkit.backends._layout import complete_layout

        self._check_sites(circuits)
        out = []
        for circuit in progress.each(
            self._aligned_delays(circuits), "transpiling", unit="circuits"
        ):  # the completed layout depends on the circuit's width
            full = complete_layout(self.device, layout, circuit.num_qubits)
            out.append(self._build_pass_manager(self.device.target, full).run(circuit))
        return out

    def transpile(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        key: str | None = None,
        layout: Sequence[int] | None = None,
    ) -> list[QuantumCircuit]:
        """Transpile for this backend, once per circuit family.

        Results are cached by the structure of each circuit; ``Parameter``s stay unbound, so
        one transpilation serves every parameter value and a repeated call costs a hash.
        ``key`` names the family: reusing a key for different circuits raises. Preset pass
        manager for the device's target (layout, routing, optimization at
        ``optimization_level``), seeded so layouts are reproducible. ``layout`` fixes virtual
        qubit ``k`` on physical qubit ``layout[k]``; wider circuits get their other qubits
        on the nearest free qubits (:func:`qkit.backends._layout.complete_layout`). Do not
        modify the returned circuits in place.
        """
        circuits = [without_idle_qubits(c, self.num_qubits) for c in circuits]  # branches
        widest = max((c.num_qubits for c in circuits), default=0)
        if widest > self.num_qubits:
            raise ValueError(
                f"a circuit needs {widest} qubits (after dropping its idle ones) and backend"
                f" {self.name!r} has {self.num_qubits}; choose a larger device"
            )
        self._check_capabilities(circuits)
        if layout is None:
            return self._cache(circuits, key)
        fixed = check_layout(layout, self.num_qubits)
        if fixed not in self._layout_caches:
            self._layout_caches[fixed] = TranspileCache(
                lambda batch: self._transpile_on(batch, fixed),
                lambda: self._persisted(list(fixed)),
            )
        return self._layout_caches[fixed](circuits, key)

    def _is_output(self, circuit: QuantumCircuit) -> bool:
        return self._cache.is_output(circuit) or any(
            cache.is_output(circuit) for cache in self._layout_caches.values()
        )

    def transpile_stats(self, circuits: Sequence[QuantumCircuit]) -> list[dict]:
        """``{"two_qubit_gates", "depth", "layout"}`` of each circuit as transpiled here.

        Accepts the original circuits (they are transpiled through the cache) or circuits
        returned by :meth:`transpile`.
        """
        circuits = list(circuits)
        originals = [c for c in circuits if not self._is_output(c)]
        transpiled = iter(self.transpile(originals)) if originals else iter(())
        return [transpile_stats(c if self._is_output(c) else next(transpiled)) for c in circuits]

    # -- execution ----------------------------------------------------------------------
    def _coerce_pubs(self, pubs: Sequence[tuple], shots: int) -> list[SamplerPub]:
        if isinstance(pubs, QuantumCircuit | tuple):
            raise ValueError("pubs must be a sequence of (circuit,) or (circuit, values) tuples")
        coerced = []
        for index, pub in enumerate(pubs):
            if isinstance(pub, QuantumCircuit):
                pub = (pub,)
            if not isinstance(pub, tuple | list) or not 1 <= len(pub) <= 3:
                raise ValueError(
                    f"pub {index} must be (circuit,), (circuit, parameter_values) or "
                    f"(circuit, parameter_values, shots), got {pub!r}"
                )
            if pub[0].num_clbits == 0:
                raise ValueError(f"pub {index}: the circuit measures nothing (no classical bits)")
            coerced.append(SamplerPub.coerce(tuple(pub), shots))
        if not coerced:
            raise ValueError("pubs must not be empty")
        return coerced

    def _check_noise_model(self, noise_model) -> None:
        if noise_model is not None and not self.supports_noise_model:
            raise ValueError(
                f"backend {self.name!r} cannot take an Aer noise model; "
                "use the circuit-mixture realization of the noise"
            )

    def confirm(self, pubs: Sequence[tuple], *, shots: int) -> None:
        """Ask for consent to submit ``pubs`` now, before anything is recorded (a cloud
        backend: :func:`qkit.consent.check`); :meth:`submit` of the same work does not ask
        again. Local backends: nothing to do."""
        if self.caps.cloud:
            consent.check(self, self._coerce_pubs(pubs, options.check_shots(shots)))

    def submit(
        self,
        pubs: Sequence[tuple],
        *,
        shots: int,
        noise_model=None,
        seed: int | None = None,
        detach: bool = False,
    ) -> Job:
        """Start sampling ``pubs`` and return without waiting.

        ``pubs`` are ``(transpiled_circuit,)``, ``(transpiled_circuit, values)`` or
        ``(transpiled_circuit, values, pub_shots)`` with ``values`` of shape
        ``(..., n_parameters)`` in ``circuit.parameters`` order (``None`` if unparametrized);
        ``shots`` applies to PUBs without their own. All PUBs go in one primitive call, except
        on samplers that need one shot count per call (IBM, Braket) when PUBs ask for
        different shots: see :func:`qkit.backends._jobs.shot_groups`.
        ``seed`` (default: the backend's seed) makes simulators reproducible.
        ``detach=True`` makes a local job durable: it runs in a detached process and
        :meth:`retrieve` finds it from any process (cloud jobs are durable anyway).
        """
        shots = options.check_shots(shots)
        seed = check_seed(seed)
        self._check_noise_model(noise_model)
        coerced = self._coerce_pubs(pubs, shots)
        consent.check(self, coerced)  # a cloud backend: estimate, budget, the user's yes
        seed = self.seed if seed is None else seed
        if detach and not self.caps.retrievable and self.caps.detachable:
            from qkit.backends import _detached

            return Job(_detached.submit(self, pubs, shots, noise_model, seed), self.name, _same)
        if not self.caps.cloud and _call_shots(coerced) > MAX_CALL_SHOTS:
            batches = _batches(list(pubs), coerced, MAX_CALL_SHOTS)
            return Job(_SequentialJob(self, batches, shots, noise_model, seed), self.name, _same)
        pub_shots = [pub.shots for pub in coerced]
        if self.native_pub_shots or len(set(pub_shots)) == 1:
            return Job(self._submit_raw(coerced, pub_shots[0], noise_model, seed), self.name)
        groups = shot_groups(pub_shots, self.split_waste)
        raws = [
            self._submit_raw(
                [_with_shots(coerced[i], group_shots) for i in indices],
                group_shots,
                noise_model,
                None if seed is None else _group_seed(seed, k),
            )
            for k, (group_shots, indices) in enumerate(groups)
        ]
        return Job(SplitJob(raws, groups, pub_shots), self.name, _same)

    def run(
        self, pubs: Sequence[tuple], *, shots: int, noise_model=None, seed: int | None = None
    ) -> list[dict[str, int] | np.ndarray]:
        """Sample ``pubs`` and wait: counts per PUB (see :mod:`qkit.backends._jobs`)."""
        return self.submit(pubs, shots=shots, noise_model=noise_model, seed=seed).result()

    # -- exact outcome probabilities (caps.exact) ------------------------------------------
    def probabilities(self, circuit: QuantumCircuit, binds: dict | None = None) -> np.ndarray:
        """Exact outcome probabilities of a measured ``circuit`` (transpiled here).

        Shape ``(bindings, 2**num_clbits)``; outcome ``k`` is the Qiskit integer of the
        classical bits (clbit 0 least significant). ``binds`` maps the circuit's parameters
        to equal-length value arrays (one row per binding); without it, one row.
        Only where ``caps.exact``.
        """
        raise ValueError(f"backend {self.name!r} cannot give exact outcome probabilities")

    def density_matrices(
        self, circuit: QuantumCircuit, qubits: Sequence[int], binds: dict | None = None
    ) -> np.ndarray:
        """Exact reduced states of ``qubits`` at the end of ``circuit`` (no measurements).

        Shape ``(bindings, 2**k, 2**k)`` in Qiskit's little-endian order. Only where
        ``caps.exact``.
        """
        raise ValueError(f"backend {self.name!r} cannot give exact states")

    def _submit_raw(self, pubs: list[SamplerPub], shots: int, noise_model, seed: int | None):
        """Submit PUBs in one primitive call; return the primitive's job."""
        raise NotImplementedError

    def _retrieve_raw(self, job_id: str, pubs: list[SamplerPub] | None, shots: int | None):
        """The primitive job of a cloud job id (``pubs``/``shots`` as submitted, if needed)."""
        raise ValueError(
            f"backend {self.name!r} ran job {job_id!r} in its submitting process; "
            "only jobs submitted with detach=True can be retrieved later"
        )

    def retrieve(
        self, job_id: str, *, pubs: Sequence[tuple] | None = None, shots: int | None = None
    ) -> Job:
        """Re-attach to a job submitted earlier: a cloud job, or a detached local one.

        ``pubs`` and ``shots`` (as given to :meth:`submit`) are needed for Braket jobs and
        for ``qkit-split:`` jobs (PUBs with different shots on IBM); IBM jobs with one shot
        count and detached local jobs need only the id.
        """
        from qkit.backends import _detached

        if job_id.startswith(_detached.PREFIX):
            return Job(_detached.retrieve(job_id), self.name, _same)
        coerced = None
        if pubs is not None:
            if shots is None:
                raise ValueError("retrieve needs the shots the pubs were submitted with")
            coerced = self._coerce_pubs(pubs, options.check_shots(shots))
        if not job_id.startswith(SplitJob.PREFIX):
            return Job(self._retrieve_raw(job_id, coerced, shots), self.name)
        if coerced is None:
            raise ValueError(
                f"job {job_id[:40]}... split its PUBs by shots; retrieve it with the pubs and "
                "shots it was submitted with"
            )
        pub_shots = [pub.shots for pub in coerced]
        groups = shot_groups(pub_shots, self.split_waste)
        ids = job_id.removeprefix(SplitJob.PREFIX).split(",")
        if len(ids) != len(groups):
            raise ValueError(f"job {job_id[:40]}... does not match the given pubs and shots")
        raws = [
            self._retrieve_raw(part, [_with_shots(coerced[i], s) for i in indices], s)
            for part, (s, indices) in zip(ids, groups, strict=True)
        ]
        return Job(SplitJob(raws, groups, pub_shots), self.name, _same)


_CONTROL_FLOW = ("if_else", "while_loop", "for_loop", "switch_case", "box")


def _nonzero(delay) -> bool:
    try:
        return float(delay.duration) > 0
    except (TypeError, ValueError):  # a parametrized duration
        return True


def _with_shots(pub: SamplerPub, shots: int) -> SamplerPub:
    return SamplerPub(pub.circuit, pub.parameter_values, shots=shots)


def _group_seed(seed: int, group: int) -> int:
    # independent streams per call, reproducible from the one seed
    return int(np.random.SeedSequence([seed, group]).generate_state(1)[0])


def _call_shots(pubs: Sequence[SamplerPub]) -> int:
    return sum(pub.shots * max(1, pub.parameter_values.size) for pub in pubs)


def _batches(pubs: list, coerced: list[SamplerPub], limit: int) -> list[list]:
    """Consecutive ``pubs`` in batches of at most ``limit`` shots (a larger PUB alone)."""
    batches: list[list] = [[]]
    total = 0
    for pub, sized in zip(pubs, coerced, strict=True):
        size = _call_shots([sized])
        if batches[-1] and total + size > limit:
            batches.append([])
            total = 0
        batches[-1].append(pub)
        total += size
    return batches


class _SequentialJob:
    """A local submission too large for one call: its batches run one after another in a
    background thread, each reduced to counts before the next, on their own seed streams."""

    def __init__(self, backend: Backend, batches, shots: int, noise_model, seed: int | None):
        import threading
        import uuid

        self._id = f"qkit-batched:{uuid.uuid4().hex}"
        self._counts: list | None = None
        self._error: BaseException | None = None
        self._args = (backend, batches, shots, noise_model, seed)
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        backend, batches, shots, noise_model, seed = self._args
        counts: list = []
        try:
            for b, batch in enumerate(batches):
                batch_seed = None if seed is None else _group_seed(seed, 2**32 + b)
                job = backend.submit(batch, shots=shots, noise_model=noise_model, seed=batch_seed)
                counts.extend(job.result())
        except BaseException as exc:  # noqa: BLE001 - re-raised in result()
            self._error = exc
        else:
            self._counts = counts

    def job_id(self) -> str:
        return self._id

    def status(self) -> str:
        if self._thread.is_alive():
            return "RUNNING"
        return "ERROR" if self._error is not None else "DONE"

    def cancel(self) -> None:  # local work cannot be stopped midway; it ends with the process
        pass

    def result(self) -> list:
        while self._thread.is_alive():
            self._thread.join(0.2)  # short joins keep Ctrl-C responsive
        if self._error is not None:
            raise self._error
        return list(self._counts or [])


def _same(counts):
    return counts
