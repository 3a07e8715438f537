"""Reproduce both papers in one call: sampled experiments, the figures, a report.

:func:`reproduce` runs paper A's mix-up experiments (CHSH and tomography at points along the
curves of Figs. 2-3 and Eq. 3.2) and paper B's channel experiments (mutual information of the
optimal ensembles over ``eta``, Figs. 4-5) on one backend, then writes into ``out_dir``:

- every figure of both papers as PNG and PDF, sampled points over exact theory;
- ``report.md`` and ``report.html``: a table of every headline number (prediction, estimate,
  interval, deviation in sigmas), the figures, and the run metadata;
- ``results.json``: the same, machine-readable, with raw counts and per-run metadata.

``qkit reproduce`` (:mod:`qkit.cli.reproduce`) is the command-line face of this function.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qkit import options
from qkit import progress as qkit_progress
from qkit._files import write_atomic
from qkit.options import RunOptions
from qkit.reproduce import _figures, _headline, _plan, _report, _run
from qkit.reproduce._plan import settings
from qkit.result import package_versions

__all__ = [
    "DEFAULT_ROOT",
    "plan_points",
    "reproduce",
    "resolve_out_dir",
]

DEFAULT_ROOT = Path("qkit-results")
"""Parent of the default, timestamped output directories."""
MANIFEST = "qkit-reproduce.json"
"""Written first into the output directory: what is being reproduced, and whether it is done."""


def plan_points(quick: bool = False, backend: str = "aer") -> dict[str, list[dict[str, Any]]]:
    """The points a reproduction samples: ``{"mixup": [...], "channel": [...], "distill": [...],
    "chain": [...]}`` (the repeater chains only on a backend that takes a noise model, Aer:
    their dynamic circuits need a device that runs feed-forward, and their width one wide
    enough; ``qkit run chain`` runs them on a device).

    >>> points = plan_points(quick=True)
    >>> len(points["channel"]), {p["alphabet"] for p in points["channel"]} == {"pair", "two-slot"}
    (20, True)
    """
    from qkit.backends import capabilities

    config = settings(quick)
    points = {
        "mixup": _plan.mixup_points(config),
        "channel": _plan.channel_points(config),
        "distill": _plan.distill_points(config),
    }
    if capabilities(backend).noise_model:
        points["chain"] = _plan.chain_points(config)
    return points


def resolve_out_dir(
    out_dir: str | Path | None,
    *,
    root: Path = DEFAULT_ROOT,
    args: dict[str, Any] | None = None,
) -> tuple[Path, int | None]:
    """The directory to write into, and the seed of the reproduction it resumes (or None).

    A new or empty directory starts afresh; one holding an unfinished reproduction with the
    same ``args`` (mode, backend, shots, bootstrap, and the seed when one is given) is resumed.
    ``None`` means the newest such unfinished directory under ``root``, else
    ``root/<UTC timestamp>``. Anything else (a file, a directory of other files, a finished
    reproduction) is refused: nothing qkit did not write is ever touched.
    """
    args = args or {}
    if out_dir is None:
        for candidate in sorted(root.glob("*"), reverse=True) if root.is_dir() else []:
            seed = _resumable(candidate, args)
            if seed is not None:
                return candidate, seed
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        candidate, n = root / stamp, 1
        while candidate.exists():
            n += 1
            candidate = root / f"{stamp}-{n}"
        return candidate, None
    if not str(out_dir).strip():
        raise ValueError("--out must name a directory, got an empty path")
    path = Path(out_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out must be a directory, but {path} is a file")
    if path.is_dir() and any(path.iterdir()):
        manifest = _manifest(path)
        if manifest is None:
            raise ValueError(
                f"--out directory {path} is not empty; choose a new or empty directory"
            )
        if manifest.get("finished"):
            raise ValueError(f"--out directory {path} holds a finished reproduction")
        seed = _resumable(path, args)
        if seed is None:
            raise ValueError(
                f"--out directory {path} holds an unfinished reproduction with other options "
                f"({_describe(manifest.get('args', {}))}); rerun with those to resume it"
            )
        return path, seed
    return path, None


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == "qkit-reproduce/1" else None


def _resumable(path: Path, args: dict[str, Any]) -> int | None:
    """The seed of an unfinished reproduction in ``path`` with the same ``args``, else None."""
    manifest = _manifest(path) if path.is_dir() else None
    if manifest is None or manifest.get("finished"):
        return None
    stored = manifest.get("args", {})
    same = all(stored.get(k) == v for k, v in args.items() if k != "seed" or v is not None)
    return int(stored["seed"]) if same and isinstance(stored.get("seed"), int) else None


def _describe(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items())


def _write_manifest(out: Path, args: dict[str, Any], finished: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    body = {"format": "qkit-reproduce/1", "args": args, "finished": finished}
    write_atomic(out / MANIFEST, json.dumps(body), overwrite=True)


def reproduce(
    out_dir: str | Path | None = None,
    *,
    quick: bool = False,
    backend: str = "aer",
    shots: int | None = None,
    seed: int | None = None,
    n_boot: int = options.DEFAULT_BOOTSTRAP,
    confidence: float = options.DEFAULT_CONFIDENCE,
    store=None,
    progress: bool | None = None,
    command: str | None = None,
    layout: Any = "auto",
) -> Path:
    """Run both papers' experiments and write figures, reports and ``results.json``.

    Parameters
    ----------
    out_dir : str or Path, optional
        New or empty directory, or an unfinished reproduction with the same options to resume;
        default: the newest such under ``./qkit-results/``, else ``./qkit-results/<UTC
        timestamp>``.
    quick : bool
        About a minute on a laptop (fewer points and shots) instead of the full,
        publication-quality run.
    backend : str
        ``"aer"`` (default), ``"fake:<device>"``, ``"ibm:<device>"``, ``"braket:..."``. A
        name, not a :class:`~qkit.backends.Backend`: each experiment opens its own (a backend
        caches one transpiled circuit per family, and every point is a new circuit).
    shots : int, optional
        Shots per measurement setting (paper A) and per letter (paper B); default by mode.
    seed : int, optional
        Master seed; each experiment's seed is derived from it and the point's parameters
        (:func:`qkit.experiment.point_seed`). Drawn and recorded when omitted (or taken from
        the reproduction being resumed).
    n_boot : int
        Bootstrap resamples for the intervals (at least ``options.MIN_BOOTSTRAP``: the
        figures draw every interval).
    confidence : float
        Nominal coverage of the intervals.
    store : qkit.store.ResultsStore, optional
        Also save every run in this results store.
    progress : bool, optional
        Show a progress bar on stderr; default: only when stderr is a terminal.
    command : str, optional
        The command line to record in the report.
    layout : {"auto", "best"} or sequence of int
        Physical qubits of each experiment's measured pair on a device backend
        (:func:`qkit.runner.run_point`); ``best`` is chosen per experiment.

    Returns
    -------
    Path
        The output directory.
    """
    started = time.perf_counter()
    if not isinstance(backend, str):
        raise ValueError(f"backend must be a backend name such as 'aer', got {backend!r}")
    opts = RunOptions(
        shots=options.DEFAULT_SHOTS if shots is None else shots,
        seed=seed,
        backend=backend,
        n_boot=n_boot,
        confidence=confidence,
        layout=layout,
        store=store,
    )
    if opts.intervals == "none":  # the figures draw every sample with its interval
        raise ValueError(
            f"reproduce draws error bars: bootstrap resamples must be in "
            f"[{options.MIN_BOOTSTRAP}, {options.MAX_BOOTSTRAP}], got 0"
        )
    args: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "backend": backend,
        "shots": None if shots is None else opts.shots,
        "n_boot": opts.n_boot,
        "confidence": opts.confidence,
        "seed": opts.seed,
    }
    if opts.layout != "auto":  # runs without a layout keep their manifest (resume)
        args["layout"] = opts.layout if isinstance(opts.layout, str) else list(opts.layout)
    out, resumed_seed = resolve_out_dir(out_dir, args=args)
    seed = options.resolve_seed(seed if seed is not None else resumed_seed)
    args["seed"] = seed
    from qkit.backends import get_backend

    device = get_backend(backend, seed=seed)  # unknown names and missing credentials fail here
    _write_manifest(out, args, finished=False)  # before any sampling: --out is checked now
    config = settings(quick)
    points = plan_points(quick, backend)
    specs_count = len(_figures.figure_specs([], config))  # builders are lazy: cheap
    total = sum(len(entries) for entries in points.values()) + specs_count + 1
    bar = qkit_progress.bar(total, show=progress, unit="step")  # and the start line
    try:
        records = _run.run_points(
            points,
            config,
            opts,
            seed=seed,
            shots=shots,
            out=out,
            starting=bar.set_description_str,
            done=bar.update,
        )
        sampled = time.perf_counter()
        figures = []
        for spec in _figures.figure_specs(records, config):
            bar.set_description_str(f"figure {spec.name}")
            png, pdf = _save(spec, out, config.dpi)
            figures.append(
                {"name": spec.name, "title": spec.title, "caption": spec.caption}
                | {"png": png.name, "pdf": pdf.name}
            )
            bar.update(1)
        drawn = time.perf_counter()
        bar.set_description_str("report")
        rows = _headline.headline_rows(records, config.fig4_etas)
        run = {
            "format": "qkit-reproduce/1",
            "meta": _meta(
                config, device, seed, shots, opts.analysis, store, command, started, sampled, drawn
            ),
            "summary": _headline.summary(rows),
            "headline": rows,
            "figures": figures,
            "points": records,
        }
        _report.write(out, run)
        _write_manifest(out, args, finished=True)
        bar.update(1)
    finally:
        bar.close()
    return out


def _save(spec, out: Path, dpi: int) -> list[Path]:
    from qkit.figures import save

    return save(spec.build(), out, spec.name, dpi=dpi)


def _meta(config, device, seed, shots, analysis, store, command, started, sampled, drawn) -> dict:
    return {
        "mode": config.mode,
        "backend": device.name,
        "seed": int(seed),
        "seed_derivation": "qkit.experiment.point_seed(seed, point key): each point's seed "
        "is in its record; qkit run --seed SEED reproduces the point",
        "shots": {
            "mixup": shots or config.mixup_shots,
            "channel": shots or config.channel_shots,
            "distill": shots or config.distill_shots,
            **({"chain": shots or config.chain_shots} if device.caps.noise_model else {}),
        },
        "n_boot": analysis.n_boot,
        "confidence": analysis.confidence,
        "command": command or "qkit.reproduce.reproduce(...)",
        "store": str(store.path) if store is not None else None,
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "sampling_time_s": round(sampled - started, 2),
        "figures_time_s": round(drawn - sampled, 2),
        "wall_time_s": round(time.perf_counter() - started, 2),
        "versions": package_versions(("matplotlib", "tqdm")),
    }
