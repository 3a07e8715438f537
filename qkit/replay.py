"""Rerun a stored run from the store alone and compare its counts with the stored ones.

A sampled run is rerun from its provenance (:mod:`qkit.provenance`), not rebuilt from the
experiment's definition: the stored circuits (QPY; OpenQASM 3 if the QPY cannot be read) with
the stored parameter values and shots per PUB, the stored noise model (Aer) and the stored
simulator seed, submitted through ``qkit.backends.get_backend(name).run``. On Aer and fake
devices the same seed gives the same counts, PUB by PUB: a replay there must match exactly.
The Braket local simulator and cloud devices are not seeded: their replay is compared as
distributions (a homogeneity chi-square test over every PUB and binding), never as equal.
An ``exact``-engine run (no PUBs) is recomputed through its experiment with its seed.

On another backend (``backend=...``) the stored circuits are transpiled for it first (a noise
model needs Aer); the new counts are reported beside the old and, with a writable store,
saved as a run of kind ``replay`` linked to the original.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qkit import provenance as prov
from qkit.consent import replay_backend
from qkit.store._document import check_provenance, qpy_bytes


@dataclass
class Replay:
    """The outcome of a replay."""

    run_id: str
    backend: str
    original_backend: str
    engine: str
    deterministic: bool
    match: bool | None  # None: not deterministic, compared as distributions
    source: str  # "qpy", "qasm3" or "experiment"
    pubs: int
    mismatched_pubs: list[int] = field(default_factory=list)
    chi2: float | None = None
    dof: int | None = None
    p_value: float | None = None
    counts: Any = None
    stored_counts: Any = None
    replay_run_id: str | None = None

    def to_dict(self, with_counts: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("counts", "stored_counts")}
        if with_counts:
            out["counts"] = self.counts
            out["stored_counts"] = self.stored_counts
        return out


def provenance_of(store: Any, run_id: str) -> tuple[Any, dict[str, Any]]:
    """The run record and its provenance; one-line ValueError if it cannot be replayed."""
    record = store.get_run(run_id)
    document = store.get_provenance(record.run_id)
    if document is None:
        raise ValueError(
            f"run {record.run_id} has no provenance (stored before qkit kept it, or not a "
            "single run): it cannot be replayed"
        )
    if document.get("format") != prov.FORMAT:
        raise ValueError(
            f"run {record.run_id}: provenance format {document.get('format')!r} is not "
            f"{prov.FORMAT}; replay it with the qkit that stored it"
        )
    check_provenance(document, record.backend)  # as checked on import; the record's backend
    return record, document


def replay(
    store: Any,
    run_id: str,
    *,
    backend: str | None = None,
    source: str = "auto",
    row: int | None = None,
) -> Replay:
    """Rerun ``run_id`` from ``store`` (see the module docstring); ``row`` replays one row of
    a sampled sweep (run ``run_id`` of kind ``sweep``) from the provenance kept beside its
    table (:func:`qkit.sweep.runner.row_provenance`).

    ``source``: ``"auto"`` (QPY, else OpenQASM 3), ``"qpy"`` or ``"qasm3"``.
    """
    if source not in ("auto", "qpy", "qasm3"):
        raise ValueError(f"source must be auto, qpy or qasm3, got {source!r}")
    if row is not None:
        from qkit.sweep.runner import row_provenance

        record = store.get_run(run_id)
        if record.kind != "sweep":
            raise ValueError(
                f"--row replays a row of a sweep; run {record.run_id} is a {record.kind}"
            )
        document = row_provenance((record.metadata or {})["out"], row)
        return _replay_sampled(record, document, backend or document["backend"], source)
    record, document = provenance_of(store, run_id)
    name = replay_backend(backend, document["backend"])  # never a cloud one unless named
    if document["engine"] == "exact":
        outcome = _replay_exact(record, document, name)
    else:
        outcome = _replay_sampled(record, document, name, source)
    if name != document["backend"] and not store.readonly:
        outcome.replay_run_id = _save(store, record, document, outcome)
    return outcome


def _replay_exact(record: Any, document: dict[str, Any], name: str) -> Replay:
    from qkit import engines
    from qkit.experiment import get
    from qkit.options import RunOptions

    experiment = get(document["experiment"])
    point = experiment.point(**document["point"])
    opts = RunOptions(shots=document["shots"], seed=document["seed"], engine="exact")
    device = engines.resolve_backend(name, document["seed"])
    run = engines.point_run(experiment, point, opts.replace(backend=name))
    counts = engines.exact_point(run, device)[0].tolist()
    stored = (record.counts or {}).get("counts")
    match = counts == stored
    return Replay(
        record.run_id,
        name,
        document["backend"],
        "exact",
        True,
        match,
        "experiment",
        0,
        counts=counts,
        stored_counts=stored,
    )


def load_circuits(document: dict[str, Any], source: str = "auto") -> tuple[list, str]:
    """The stored circuits (QPY, or OpenQASM 3 with the noise sites put back) and the form used."""
    blobs = document["circuits"]
    if source in ("auto", "qpy"):
        try:
            from qiskit import qpy

            data = qpy_bytes(blobs["qpy"])  # within the import's size limit
            return list(qpy.load(io.BytesIO(data))), "qpy"
        except Exception as exc:  # noqa: BLE001 - e.g. a QPY from a newer Qiskit
            if source == "qpy":
                raise ValueError(f"cannot read the stored QPY circuits: {exc}") from None
    texts = blobs.get("qasm3") or []
    if any(text is None for text in texts):
        raise ValueError("the stored circuits have no OpenQASM 3 form; replay from QPY")
    return [_from_qasm3(text) for text in texts], "qasm3"


def _from_qasm3(text: str):
    from qiskit import qasm3

    from qkit import noise

    try:
        circuit = qasm3.loads(text)
    except ImportError:  # Qiskit's MissingOptionalLibraryError
        raise ValueError(
            "reading OpenQASM 3 needs the qiskit-qasm3-import package: "
            "pip install qiskit-qasm3-import (or replay from QPY)"
        ) from None
    except qasm3.QASM3ImporterError as exc:
        raise ValueError(f"cannot read the stored OpenQASM 3: {exc}") from None
    for index, instruction in enumerate(circuit.data):
        name = instruction.operation.name
        if name.startswith(prov.NOISE_GATE_PREFIX):
            site = noise.noise_site(
                name.removeprefix(prov.NOISE_GATE_PREFIX), instruction.operation.num_qubits
            )
            circuit.data[index] = instruction.replace(operation=site)
    return circuit


def _pubs(document: dict[str, Any], circuits: list) -> list[tuple]:
    pubs: list[tuple] = []
    for pub in document["pubs"]:
        circuit = circuits[pub["circuit"]]
        values = None
        if pub["values"] is not None:
            by_name = {p.name: p for p in circuit.parameters}
            values = {by_name[n]: _array(v) for n, v in pub["values"].items()}
            values = {p: values[p] for p in circuit.parameters}  # the circuit's order
        if pub["shots"] is not None:
            pubs.append((circuit, values, pub["shots"]))
        elif values is not None:
            pubs.append((circuit, values))
        else:
            pubs.append((circuit,))
    return pubs


def _array(value: Any) -> Any:
    array = np.asarray(value, dtype=float)
    return array[()] if array.ndim == 0 else array


def _noise_model(document: dict[str, Any]):
    from qkit import noise

    mixtures = [
        noise.MixedUnitary(
            m["label"],
            np.asarray(m["unitaries_real"]) + 1j * np.asarray(m["unitaries_imag"]),
            np.asarray(m["weights"]),
        )
        for m in document["noise"]
    ]
    return noise.noise_model(mixtures)


def _replay_sampled(record: Any, document: dict[str, Any], name: str, source: str) -> Replay:
    from qkit.backends import get_backend

    circuits, used = load_circuits(document, source)
    level = document.get("optimization_level", 2)  # for transpiling to another backend
    device = get_backend(name, seed=document["seed"], optimization_level=level)
    same = name == document["backend"]
    model = None
    if document.get("noise"):
        if not device.supports_noise_model:
            raise ValueError(
                f"run {record.run_id} realized its noise as an Aer noise model: replay it on "
                "aer (other backends run the branch-mixture realization)"
            )
        model = _noise_model(document)
    if not same:
        circuits = device.transpile(circuits)
    pubs = _pubs(document, circuits)
    results = device.run(
        pubs, shots=document["shots"], noise_model=model, seed=document["simulator_seed"]
    )
    counts = [prov.counts_json(r) for r in results]
    stored = document["counts"]
    deterministic = same and prov.deterministic(name)
    outcome = Replay(
        record.run_id,
        name,
        document["backend"],
        "sampler",
        deterministic,
        None,
        used,
        len(pubs),
        counts=counts,
        stored_counts=stored,
    )
    if deterministic:
        pairs = enumerate(zip(counts, stored, strict=False))
        outcome.mismatched_pubs = [i for i, (a, b) in pairs if a != b]
        outcome.match = not outcome.mismatched_pubs and len(counts) == len(stored)
    else:
        outcome.chi2, outcome.dof, outcome.p_value = homogeneity(stored, counts)
    return outcome


def homogeneity(old: list, new: list) -> tuple[float, int, float]:
    """Chi-square test that two sets of counts (per PUB and binding) share distributions.

    Sums the two-sample statistics (``scipy.stats.chi2_contingency``, no continuity
    correction) of every PUB and binding, over the outcomes seen in either.
    """
    from scipy import stats

    chi2, dof = 0.0, 0
    for a, b in zip(_leaves(old), _leaves(new), strict=True):
        keys = sorted(set(a) | set(b))
        table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]], float)
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] >= 2 and table.sum(axis=1).all():
            test = stats.chi2_contingency(table, correction=False)
            chi2 += float(test.statistic)
            dof += int(test.dof)
    p = float(stats.chi2.sf(chi2, dof)) if dof else 1.0
    return chi2, dof, p


def _leaves(counts: Any) -> list[dict]:
    if isinstance(counts, dict):
        return [counts]
    return [leaf for item in counts for leaf in _leaves(item)]


def _save(store: Any, record: Any, document: dict[str, Any], outcome: Replay) -> str:
    return store.save_run(
        "replay",
        {"of": record.run_id, **record.params},
        backend=outcome.backend,
        counts={"pubs": outcome.counts} if outcome.engine == "sampler" else outcome.counts,
        seeds={"seed": document["seed"], "simulator_seed": document.get("simulator_seed")},
        metadata={
            "replay_of": record.run_id,
            "original_kind": record.kind,
            "original_backend": document["backend"],
            "source": outcome.source,
            "p_value": outcome.p_value,
        },
    )
