"""Run a sweep: chunks computed here or on a Dask cluster, streamed to disk, resumable, recorded.

:func:`compute_chunk` is a pure function of ``(spec, chunk)``: any process that has qkit
installed computes the same columns for it. :func:`run_sweep` computes the chunks not yet on
disk (in this process, or as Dask tasks), writes each as it arrives
(:class:`qkit.sweep.table.PartsWriter`), shows a progress bar with an ETA on a terminal,
merges the parts into the output, and records the sweep in the results store (kind
``"sweep"``, with the output path). Only this process touches the disk and the store, so
Dask workers need no shared file system.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from qkit import progress as qkit_progress
from qkit import registry
from qkit._files import write_atomic
from qkit._validate import shown
from qkit.result import jsonable
from qkit.sweep.compute import PROVENANCE, compute_chunk
from qkit.sweep.grid import SweepSpec
from qkit.sweep.table import PartsWriter, parts_dir


def spec_digest(spec: SweepSpec) -> str:
    """SHA-256 of the whole spec (every axis value) as canonical JSON."""
    import hashlib
    import json

    text = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    store=None,
    dask: Any = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Compute every point of ``spec`` into the table ``out`` (``.csv`` or ``.parquet``).

    Parameters
    ----------
    spec : SweepSpec
        From :func:`qkit.sweep.mixup_spec` or :func:`qkit.sweep.channel_spec`.
    out : str or Path
        Output table. An unfinished sweep of the same spec at this path (``OUT.parts/``)
        is resumed: only missing chunks are computed, and the table is the same as an
        uninterrupted run's.
    store : qkit.store.ResultsStore, optional
        Record the sweep (kind ``"sweep"``; the output path in its metadata and estimate).
    dask : str or distributed.Client, optional
        Run chunks as Dask tasks: a scheduler address (``"tcp://host:8786"``), ``"local"``
        or ``"local:N"`` (a local cluster of N single-threaded worker processes), or a
        ``Client``.
    progress : bool, optional
        Progress bar with ETA on stderr; default: only when stderr is a terminal.
    overwrite : bool
        Replace an existing, finished ``out``.

    Returns
    -------
    dict
        ``run_id, out, points, chunks, computed_chunks, seconds, seconds_per_point``
        (``seconds`` covers this invocation only).
    """
    if not str(out).strip():
        raise ValueError("--out must name a file (.csv or .parquet), got an empty path")
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; name a .csv or .parquet file")
    # the spec's summary (evenly spaced axes as start/stop/count, not 10^7 values) and the
    # digest of the whole spec, which decides whether a rerun resumes
    manifest = {"qkit_sweep": 1, "spec": spec.summary(), "digest": spec_digest(spec)}
    manifest["run_id"] = None
    writer = PartsWriter(out, manifest)
    previous = writer.existing_manifest()
    if previous is not None:
        same = (
            previous.get("digest") == manifest["digest"]
            if "digest" in previous
            else previous.get("spec") == spec.to_dict()  # a manifest of an older qkit
        )
        if not same:
            raise ValueError(
                f"{parts_dir(out)} holds an unfinished sweep with other arguments; rerun it "
                f"with those arguments, or delete {parts_dir(out)} to start over"
            )
        manifest["run_id"] = previous.get("run_id")
    elif out.exists() and not overwrite:
        raise ValueError(f"{out} exists; choose another output or pass --overwrite")
    if previous is None:  # a fresh sweep: no provenance of an earlier table survives
        import shutil

        shutil.rmtree(provenance_dir(out), ignore_errors=True)

    done = writer.done() if previous is not None else set()
    pending = [c for c in range(spec.num_chunks) if c not in done]
    run_id = _record_start(store, spec, out, manifest, len(done))
    manifest["run_id"] = run_id
    writer.start()

    started = time.perf_counter()
    done_points = sum(len(spec.chunk_range(c)) for c in done)
    # the start line of a piped `qkit sweep` comes with the bar: the sweep begins
    bar = qkit_progress.bar(
        spec.num_points, show=progress, unit="pt", desc=f"sweep {spec.kind}", initial=done_points
    )
    computed = 0
    # Parts are written (encoded, flushed to disk) on a thread while the next chunk computes:
    # pyarrow and fsync release the GIL. At most one part is in flight.
    writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qkit-sweep-writer")
    in_flight: deque[Future] = deque()
    try:
        for chunk, columns in _chunks(spec, pending, dask):
            _write_provenance(out, spec, chunk, columns.pop(PROVENANCE, None))
            in_flight.append(writes.submit(writer.write, chunk, columns))
            while len(in_flight) > 1:
                in_flight.popleft().result()
            computed += 1
            bar.update(len(spec.chunk_range(chunk)))
        while in_flight:
            in_flight.popleft().result()
        bar.close()
        writes.shutdown()
        writer.merge(spec.num_chunks, [len(spec.chunk_range(c)) for c in range(spec.num_chunks)])
    except BaseException as exc:
        writes.shutdown(wait=True)  # a part is complete or absent: the ones started finish
        bar.close()
        if isinstance(exc, ValueError) and previous is None and computed == 0:
            # refused at the start (a bad backend, no Dask scheduler): no parts folder left
            shutil.rmtree(parts_dir(out), ignore_errors=True)
        if store is not None and run_id is not None:
            store.fail_run(
                run_id,
                f"{type(exc).__name__} after {len(done) + computed} of {spec.num_chunks} chunks; "
                "rerun the same command to resume",
            )
        raise
    seconds = time.perf_counter() - started
    computed_points = spec.num_points - done_points
    summary = {
        "run_id": run_id,
        "out": str(out),
        "points": spec.num_points,
        "chunks": spec.num_chunks,
        "computed_chunks": computed,
        "seconds": round(seconds, 3),
        "seconds_per_point": seconds / computed_points if computed_points else None,
    }
    if store is not None:
        store.finish_run(
            run_id,
            estimate={"points": spec.num_points, "out": str(out.resolve())},
            metadata={
                "seconds": summary["seconds"],
                "seconds_per_point": summary["seconds_per_point"],
                "resumed_chunks": len(done),
            },
        )
    return summary


def provenance_dir(out: Path) -> Path:
    """``OUT.provenance/``: a sampled sweep's per-row provenance, one gzip JSON file per chunk
    (``{"rows": [first, ...], "provenance": [document, ...]}``, documents as
    :mod:`qkit.provenance` records for ``qkit run``)."""
    return out.with_name(out.name + ".provenance")


def _write_provenance(out: Path, spec: SweepSpec, chunk: int, documents) -> None:
    if not documents:
        return
    folder = provenance_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps(jsonable({"rows": list(spec.chunk_range(chunk)), "provenance": documents}))
    path = folder / f"chunk-{chunk:07d}.json.gz"
    write_atomic(path, gzip.compress(body.encode(), 6), overwrite=True)  # the sweep's own folder


def row_provenance(out: str | Path, row: int) -> dict[str, Any]:
    """The provenance of row ``row`` of the sampled sweep table ``out`` (for ``qkit replay``)."""
    folder = provenance_dir(Path(out))
    for path in sorted(folder.glob("chunk-*.json.gz")):
        body = json.loads(gzip.decompress(path.read_bytes()))
        if row in body["rows"]:
            return body["provenance"][body["rows"].index(row)]
    raise ValueError(
        f"no provenance of row {row} in {folder} (only sampled sweeps keep it, rows from 0)"
    )


def _record_start(store, spec: SweepSpec, out: Path, manifest: dict, resumed: int) -> str | None:
    if store is None:
        return None
    run_id = manifest.get("run_id")
    if run_id is not None:
        try:
            store.set_status(run_id, "running")
            return run_id
        except ValueError:  # the manifest names a run of another store
            pass
    summary = spec.summary()  # evenly spaced axes as start:stop:count, not every value
    return store.create_run(
        "sweep",
        {"experiment": spec.kind, **summary["axes"], "shots": spec.shots},
        spec.backend,
        {"seed": spec.seed},
        metadata={
            "out": str(out.resolve()),
            "format": out.suffix.lstrip("."),
            "points": spec.num_points,
            "chunks": spec.num_chunks,
            "resumed_chunks": resumed,
            "spec": summary,
        },
    )


def _chunks(spec: SweepSpec, pending: list[int], dask: Any):
    """Yield ``(chunk, columns)`` for the pending chunks, here or on Dask (any order)."""
    if dask is None:
        for chunk in pending:
            yield compute_chunk(spec, chunk)
        return
    client, close = dask_client(dask)
    task = registry.portable(compute_chunk, spec.kind)  # a notebook's experiment travels along
    try:
        from distributed import as_completed

        workers = max(1, len(client.scheduler_info().get("workers", {})))
        window = 2 * workers  # bounded: at most this many chunk results in flight
        queue = iter(pending)
        futures = as_completed()
        for chunk in queue:
            futures.add(client.submit(task, spec, chunk, pure=False))
            if futures.count() >= window:
                break
        for future in futures:
            yield future.result()
            future.release()
            nxt = next(queue, None)
            if nxt is not None:
                futures.add(client.submit(task, spec, nxt, pure=False))
    finally:
        close()


MAX_LOCAL_WORKERS = 256
"""Most worker processes ``--dask local:N`` starts."""


def dask_client(dask: Any):
    """``(client, close)`` for a ``Client``, a scheduler address, ``"local"`` or ``"local:N"``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("--dask needs dask.distributed: pip install 'qkit-comm[dask]'") from None
    if isinstance(dask, Client):
        return dask, lambda: None
    text = str(dask).strip()
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2]
        if count and (not count.isdecimal() or not 1 <= int(count) <= MAX_LOCAL_WORKERS):
            raise ValueError(
                f"--dask local:N needs a worker count in [1, {MAX_LOCAL_WORKERS}], "
                f"got {shown(text)}"
            )
        import dask

        # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which also pins
        # glibc's mmap threshold: every temporary array of a chunk (megabytes) is then mapped
        # and faulted in afresh. A sweep's workers reuse the same sizes chunk after chunk.
        trim = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
        with dask.config.set({trim: None, "distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(
                n_workers=int(count) if count else None,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    if not text:
        raise ValueError("--dask needs a scheduler address, 'local' or 'local:N'")
    try:
        client = Client(text, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        reason = " ".join(str(exc).split())[:200]
        raise ValueError(f"cannot reach the Dask scheduler at {shown(text)}: {reason}") from None
    return client, client.close
