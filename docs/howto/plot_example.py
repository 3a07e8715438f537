"""Draw the pictures of the plotting how-to (``docs/howto/plot.md``) from real sweeps.

Run from the repository root: ``python docs/howto/plot_example.py``. It samples the two sweeps
the page shows (seeded: the same pictures every time) into a temporary folder and writes
``docs/_static/plot-sweep-plane.png`` and ``docs/_static/plot-sweep-channel.png`` with
``qkit plot``, small enough to keep in the repository.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from qkit.cli import main

STATIC = Path(__file__).resolve().parents[1] / "_static"
SWEEPS = {
    "plane": ["mixup", "--success", "0.02:1:50", "--amplitude", "0:1:50", "--shots", "2000"],
    "channel": ["channel", "--eta", "0:1:11", "--inputs", "entangled,separable"]
    + ["--alphabet", "pair,two-slot", "--shots", "2000"],
}


def draw() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in SWEEPS.items():
            table = Path(tmp) / f"{name}.csv"
            common = ["--seed", "7", "--bootstrap", "200", "--no-store", "--out", str(table)]
            if main(["sweep", *argv, *common]) != 0:
                sys.exit(f"the {name} sweep failed")
            out = STATIC / f"plot-sweep-{name}.png"
            if main(["plot", str(table), "--out", str(out), "--overwrite", "--dpi", "90"]) != 0:
                sys.exit(f"plotting the {name} sweep failed")


if __name__ == "__main__":
    draw()
