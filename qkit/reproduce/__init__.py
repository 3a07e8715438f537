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

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qkit.backends import get_backend
from qkit.reproduce import _figures, _headline, _plan, _report, _run
from qkit.reproduce._plan import DEFAULT_SEED, derive_seed, settings
from qkit.result import package_versions

__all__ = [
    "DEFAULT_ROOT",
    "DEFAULT_SEED",
    "derive_seed",
    "plan_points",
    "reproduce",
    "resolve_out_dir",
]

DEFAULT_ROOT = Path("qkit-results")
"""Parent of the default, timestamped output directories."""


def plan_points(quick: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The points a reproduction samples: ``{"mixup": [...], "channel": [...]}``.

    >>> points = plan_points(quick=True)
    >>> len(points["channel"]), {p["alphabet"] for p in points["channel"]} == {"pair", "two-slot"}
    (20, True)
    """
    config = settings(quick)
    return {"mixup": _plan.mixup_points(config), "channel": _plan.channel_points(config)}


def resolve_out_dir(out_dir: str | Path | None, *, root: Path = DEFAULT_ROOT) -> Path:
    """The directory to write into; never one that already holds files.

    ``None`` means ``root/<UTC timestamp>`` (suffixed ``-2``, ``-3``, ... if that is taken).
    An explicit directory may be new or empty; a file or a non-empty directory is an error.
    """
    if out_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        candidate, n = root / stamp, 1
        while candidate.exists() and any(candidate.iterdir()):
            n += 1
            candidate = root / f"{stamp}-{n}"
        return candidate
    path = Path(out_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out must be a directory, but {path} is a file")
    if path.is_dir() and any(path.iterdir()):
        raise ValueError(f"--out directory {path} is not empty; choose a new or empty directory")
    return path


def reproduce(
    out_dir: str | Path | None = None,
    *,
    quick: bool = False,
    backend: str = "aer",
    shots: int | None = None,
    seed: int = DEFAULT_SEED,
    n_boot: int | None = None,
    store=None,
    progress: bool | None = None,
    command: str | None = None,
) -> Path:
    """Run both papers' experiments and write figures, reports and ``results.json``.

    Parameters
    ----------
    out_dir : str or Path, optional
        New or empty directory; default ``./qkit-results/<UTC timestamp>``.
    quick : bool
        About a minute on a laptop (fewer points and shots) instead of the full,
        publication-quality run.
    backend : str
        ``"aer"`` (default), ``"fake:<device>"``, ``"ibm:<device>"``, ``"braket:..."``. A
        name, not a :class:`~qkit.backends.Backend`: each experiment opens its own (a backend
        caches one transpiled circuit per family, and every point is a new circuit).
    shots : int, optional
        Shots per measurement setting (paper A) and per letter (paper B); default by mode.
    seed : int
        Master seed; each experiment's seed is derived from it and the point's parameters.
    n_boot : int, optional
        Bootstrap resamples for the intervals; default by mode.
    store : qkit.store.ResultsStore, optional
        Also save every run in this results store.
    progress : bool, optional
        Show a progress bar on stderr; default: only when stderr is a terminal.
    command : str, optional
        The command line to record in the report.

    Returns
    -------
    Path
        The output directory.
    """
    started = time.perf_counter()
    if shots is not None and (isinstance(shots, bool) or int(shots) != shots or shots < 1):
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    if n_boot is not None and (isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 1):
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    out = resolve_out_dir(out_dir)
    if not isinstance(backend, str):
        raise ValueError(f"backend must be a backend name such as 'aer', got {backend!r}")
    device = get_backend(backend, seed=seed)  # unknown names and missing credentials fail here
    config = settings(quick)
    points = plan_points(quick)
    specs_count = len(_figures.figure_specs([], config))  # builders are lazy: cheap
    total = len(points["mixup"]) + len(points["channel"]) + specs_count + 1
    bar = _progress_bar(total, progress)
    try:
        records = _run.run_points(
            points["mixup"],
            points["channel"],
            config,
            backend=backend,
            seed=seed,
            shots=shots,
            n_boot=n_boot,
            store=store,
            starting=bar.set_description_str,
            done=bar.update,
        )
        sampled = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)
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
                config, device, seed, shots, n_boot, store, command, started, sampled, drawn
            ),
            "summary": _headline.summary(rows),
            "headline": rows,
            "figures": figures,
            "points": records,
        }
        _report.write(out, run)
        bar.update(1)
    finally:
        bar.close()
    return out


def _save(spec, out: Path, dpi: int) -> list[Path]:
    from qkit.figures import save

    return save(spec.build(), out, spec.name, dpi=dpi)


def _meta(config, device, seed, shots, n_boot, store, command, started, sampled, drawn) -> dict:
    return {
        "mode": config.mode,
        "backend": device.name,
        "seed": int(seed),
        "seed_derivation": "numpy SeedSequence([seed, crc32(point key)]), first uint32",
        "shots": {"mixup": shots or config.mixup_shots, "channel": shots or config.channel_shots},
        "n_boot": {
            "mixup": n_boot or config.mixup_boot,
            "channel": n_boot or config.channel_boot,
        },
        "confidence": _plan.CONFIDENCE,
        "command": command or "qkit.reproduce.reproduce(...)",
        "store": str(store.path) if store is not None else None,
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "sampling_time_s": round(sampled - started, 2),
        "figures_time_s": round(drawn - sampled, 2),
        "wall_time_s": round(time.perf_counter() - started, 2),
        "versions": package_versions(("matplotlib", "tqdm")),
    }


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_description_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True, leave=True)
