"""Start-up cost of the ``qkit`` command line against the imports it cannot avoid.

Run: ``.venv/bin/python benchmarks/startup.py [--repeat 5] [--tree DIR ...]``.

Each command runs as a fresh process (``qkit`` is ``python -m qkit.cli``); its wall time is the
best of ``--repeat`` runs. Every round runs every command once, the trees alternating, so
a change of load on a shared machine hits all of them alike. The yardsticks, measured in the
same run: ``python -c "import numpy"`` for the instant answers (help, version, theory: goal
at most 2.5x) and ``python -c "import qiskit_aer"`` for a whole ``qkit run mixup`` (goal at
most 3x); a 100-point ``qkit sweep mixup`` is compared with a 1-point one (goal at most 1.5x).

``--tree DIR`` (repeatable) times the qkit source tree ``DIR`` (put first on ``PYTHONPATH``),
e.g. an older checkout against this one: before and after in one run. Default: this tree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUMPY = "python -c 'import numpy'"
AER = "python -c 'import qiskit_aer'"
RUN = "qkit run mixup -S 0.5 -a 0.3 --shots 1000 --seed 1 --no-store"
SWEEP_1 = "qkit sweep mixup -S 0.5 -a 0.3 (1 point)"
SWEEP_100 = "qkit sweep mixup -S 0.1:1:10 -a 0.05:0.7:10 (100 points)"

# label -> argv after the interpreter
COMMANDS: dict[str, list[str]] = {
    NUMPY: ["-c", "import numpy"],
    "qkit --version": ["-m", "qkit.cli", "--version"],
    "qkit --help": ["-m", "qkit.cli", "--help"],
    "qkit run --help": ["-m", "qkit.cli", "run", "mixup", "--help"],
    "qkit theory mixup --success 0.5 --amplitude 0.3": [
        "-m",
        "qkit.cli",
        *"theory mixup --success 0.5 --amplitude 0.3".split(),
    ],
    AER: ["-c", "import qiskit_aer"],
    RUN: ["-m", "qkit.cli", *RUN.split()[1:]],
    SWEEP_1: ["-m", "qkit.cli", *"sweep mixup -S 0.5 -a 0.3".split()],
    SWEEP_100: ["-m", "qkit.cli", *"sweep mixup -S 0.1:1:10 -a 0.05:0.7:10".split()],
}
SWEEP_OPTIONS = ["--shots", "1000", "--seed", "1", "--no-store", "--no-progress", "--overwrite"]
# (command, yardstick, goal)
RATIOS = [
    ("qkit --version", NUMPY, 2.5),
    ("qkit --help", NUMPY, 2.5),
    ("qkit run --help", NUMPY, 2.5),
    ("qkit theory mixup --success 0.5 --amplitude 0.3", NUMPY, 2.5),
    (RUN, AER, 3.0),
    (SWEEP_100, SWEEP_1, 1.5),
]


def wall_time(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (best is kept)")
    parser.add_argument(
        "--tree", action="append", default=None, help="qkit source tree (repeatable)"
    )
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.tree or [Path(__file__).resolve().parents[1]]]
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.repeat):
            for label, argv in COMMANDS.items():
                for tree in trees:
                    env = {**os.environ, "PYTHONPATH": tree}
                    full = [sys.executable, *argv]
                    if "sweep" in argv:
                        full += [*SWEEP_OPTIONS, "--out", str(Path(work) / "sweep.csv")]
                    elapsed = wall_time(full, env, work)
                    key = (label, tree)
                    best[key] = min(best.get(key, elapsed), elapsed)
    print(f"best of {args.repeat} fresh processes; load average {os.getloadavg()[0]:.1f}")
    for tree in trees:
        print(f"\ntree {tree}")
        for label in COMMANDS:
            print(f"  {label:<64} {best[(label, tree)]:7.3f} s")
        for label, yardstick, goal in RATIOS:
            ratio = best[(label, tree)] / best[(yardstick, tree)]
            verdict = "ok" if ratio <= goal else "over"
            pair = f"{label[:48]:<48} / {yardstick[:28]:<28}"
            print(f"  {pair} {ratio:6.2f}x (goal {goal}x, {verdict})")


if __name__ == "__main__":
    main()
