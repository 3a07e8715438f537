"""Shared look of qkit's figures, sample parsing, and saving.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through ``pyplot``:
no global figure registry, no GUI backend, nothing to close. PNGs are rendered by Agg.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from qkit._files import save_figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SEQUENTIAL_CMAP = "viridis"  # perceptually uniform and colour-blind safe

RC: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "legend.fontsize": 8.5,
    "legend.framealpha": 0.92,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": False,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,  # embed TrueType so the PDF text stays editable and searchable
}


def styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure builder under qkit's rc settings (fonts are resolved at artist creation)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def marker_entry(label: str, marker: str = "o", **style: Any) -> Line2D:
    """A legend entry showing a marker alone, no line (``style``: ``Line2D`` properties)."""
    return Line2D([], [], ls="none", marker=marker, label=label, **style)


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout, detached from pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, out_dir: str | Path, name: str, *, dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``out_dir/name.png`` (``dpi``) and ``out_dir/name.pdf``.

    Creates ``out_dir`` if needed and returns the two paths, PNG first.

    >>> import tempfile
    >>> fig = new_figure(2, 2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.suffix for p in save(fig, tmp, "empty")]
    ['.png', '.pdf']
    """
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain file stem, got {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    engine = fig.get_layout_engine()
    with matplotlib.rc_context(RC):  # atomic; a link in the folder is replaced, not followed
        save_figure(fig, paths[0], overwrite=True, dpi=dpi)
        # the PNG pass placed every axes; the PDF keeps those places rather than solving the
        # constrained layout again (a fifth of the time of drawing a figure twice)
        fig.set_layout_engine("none")
        try:
            save_figure(fig, paths[1], overwrite=True)
        finally:
            fig.set_layout_engine(engine)
    return paths


def interval(record: Mapping[str, Any] | None) -> tuple[float, float, float]:
    """``(value, low, high)`` of an estimate dict.

    Accepts ``{value, ci_low, ci_high}`` or ``{value, stderr}`` (then +- one standard error);
    a bare number has a zero-width interval. NaN for a missing record.
    """
    if record is None:
        return (np.nan, np.nan, np.nan)
    if not isinstance(record, Mapping):
        v = float(record)
        return (v, v, v)
    value = float(record["value"])
    if "ci_low" in record and "ci_high" in record:
        return (value, float(record["ci_low"]), float(record["ci_high"]))
    err = float(record.get("stderr", 0.0))
    return (value, value - err, value + err)


def intervals(samples: Iterable[Mapping[str, Any]], key: str) -> np.ndarray:
    """Stack :func:`interval` of ``sample[key]`` over samples, shape (n, 3)."""
    rows = [interval(s.get(key)) for s in samples]
    return np.array(rows, dtype=float).reshape(-1, 3)


def yerr(values: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths (2, n) from stacked ``(value, low, high)`` rows."""
    v, lo, hi = values.T
    return np.vstack([np.maximum(v - lo, 0.0), np.maximum(hi - v, 0.0)])
