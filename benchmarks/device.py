"""One point on a fake Heron: qkit against the plain way, cold and warm, in one run.

The plain way is what a user writes without qkit: import, ``FakeFez()`` +
``AerSimulator.from_backend`` (the whole device's noise model), transpile the Bell-state
preparation with its 9 tomography and 4 CHSH measurement settings (13 circuits), and sample
them at 4000 shots. qkit's point is ``qkit run mixup -S 0.6 -a 0.5 --backend fake:fez
--layout best --mitigate readout``: once with an empty device cache (the first run on this
device) and once more in a new process (the second run: device model, ranking, transpiled
circuits and readout calibration come from the cache). Every timing is a fresh process, so
imports count as they do for a user. Run:

    PYTHONPATH=. python benchmarks/device.py [--device fez] [--repeat 2] [--survey]
        [--tree OLD_CHECKOUT --tree .]

Prints each time and its ratio to the plain way measured in the same run, the load at the
start and the end, and whether every run printed the same result (but for its wall time).
``--tree DIR`` (repeatable) times the qkit source tree ``DIR`` (first on ``PYTHONPATH``, its
own empty cache), the trees' processes alternating: before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = r"""
import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeFez

device = FakeFez()
simulator = AerSimulator.from_backend(device)
a = 0.5
pair = QuantumCircuit(2)
pair.ry(2 * np.arccos(a), 0)
pair.cx(0, 1)
bases = [(x, y) for x in "XYZ" for y in "XYZ"]
chsh = [(0.0, np.pi / 4), (0.0, -np.pi / 4), (np.pi / 2, np.pi / 4), (np.pi / 2, -np.pi / 4)]
circuits = []
for x, y in bases:
    qc = pair.copy()
    for q, b in ((0, x), (1, y)):
        if b == "X":
            qc.h(q)
        elif b == "Y":
            qc.sdg(q)
            qc.h(q)
    qc.measure_all()
    circuits.append(qc)
for ta, tb in chsh:
    qc = pair.copy()
    qc.ry(-2 * ta, 0)
    qc.ry(-2 * tb, 1)
    qc.measure_all()
    circuits.append(qc)
compiled = transpile(circuits, device, optimization_level=2, seed_transpiler=1)
counts = simulator.run(compiled, shots=4000, seed_simulator=1).result().get_counts()
assert len(counts) == 13
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - start, out.stdout


def _same(outputs: list[str]) -> bool:
    """Do the JSON results agree but for the wall time?"""
    records = []
    for text in outputs:
        record = json.loads(text)
        record.get("metadata", {}).pop("wall_time_s", None)
        records.append(json.dumps(record, sort_keys=True))
    return len(set(records)) == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fez")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--survey", action="store_true", help="also time a whole-device survey")
    parser.add_argument(
        "--tree", action="append", default=None, help="qkit source tree (repeatable)"
    )
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.tree or [Path(__file__).resolve().parents[1]]]
    survey = [
        sys.executable, "-m", "qkit.cli", "survey", "--backend", f"fake:{args.device}",
        "--seed", "1", "--no-store", "--json",
    ]  # fmt: skip
    qkit = [
        sys.executable, "-m", "qkit.cli", "run", "mixup", "-S", "0.6", "-a", "0.5",
        "--backend", f"fake:{args.device}", "--layout", "best", "--mitigate", "readout",
        "--seed", "1", "--no-store", "--json",
    ]  # fmt: skip
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as work:
            envs = {
                tree: {**os.environ, "QKIT_CACHE_DIR": f"{work}/{k}", "PYTHONPATH": tree}
                for k, tree in enumerate(trees)
            }
            plain, _ = timed([sys.executable, "-c", PLAIN], envs[trees[0]])
            load = os.getloadavg()[0]
            first = {tree: timed(qkit, envs[tree]) for tree in trees}
            second = {tree: timed(qkit, envs[tree]) for tree in trees}
            whole = {tree: timed(survey, envs[tree]) for tree in trees} if args.survey else {}
        outputs = [out for runs in (first, second) for _, out in runs.values()]
        for tree in trees:
            line = (
                f"plain {plain:6.1f} s | qkit first {first[tree][0]:6.1f} s "
                f"({first[tree][0] / plain:.2f}x) | qkit second {second[tree][0]:6.1f} s "
                f"({second[tree][0] / plain:.2f}x)"
            )
            if tree in whole:
                line += f" | survey {whole[tree][0]:6.1f} s ({whole[tree][0] / plain:.2f}x)"
            name = f" | {tree}" if len(trees) > 1 else ""
            print(f"{line} | load {load:.1f} -> {os.getloadavg()[0]:.1f}{name}", flush=True)
        print(f"same results (every run and tree): {_same(outputs)}", flush=True)


if __name__ == "__main__":
    main()
