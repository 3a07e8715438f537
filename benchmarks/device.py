"""One point on a fake Heron: qkit against the plain way, cold and warm, in one run.

The plain way is what a user writes without qkit: import, ``FakeFez()`` +
``AerSimulator.from_backend`` (the whole device's noise model), transpile the Bell-state
preparation with its 9 tomography and 4 CHSH measurement settings (13 circuits), and sample
them at 4000 shots. qkit's point is ``qkit run mixup -S 0.6 -a 0.5 --backend fake:fez
--layout best --mitigate readout``: once with an empty device cache (the first run on this
device) and once more in a new process (the second run: device model, ranking, transpiled
circuits and readout calibration come from the cache). Every timing is a fresh process, so
imports count as they do for a user. Run:

    PYTHONPATH=. python benchmarks/device.py [--device fez] [--repeat 2]

Prints each time and its ratio to the plain way measured in the same run, and the load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

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


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fez")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--survey", action="store_true", help="also time a whole-device survey")
    args = parser.parse_args()
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
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "QKIT_CACHE_DIR": cache}
            plain = timed([sys.executable, "-c", PLAIN], env)
            first = timed(qkit, env)
            second = timed(qkit, env)
            whole = timed(survey, env) if args.survey else None
        load = os.getloadavg()[0]
        line = (
            f"plain {plain:6.1f} s | qkit first {first:6.1f} s ({first / plain:.2f}x) | "
            f"qkit second {second:6.1f} s ({second / plain:.2f}x)"
        )
        if whole is not None:
            line += f" | survey {whole:6.1f} s ({whole / plain:.2f}x)"
        print(f"{line} | load {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
