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
        [--tree OLD_CHECKOUT --tree .] [--readout]

Prints each time and its ratio to the plain way measured in the same run, the load at the
start and the end, and whether every run printed the same result (but for its wall time).
``--tree DIR`` (repeatable) times the qkit source tree ``DIR`` (first on ``PYTHONPATH``, its
own empty cache), the trees' processes alternating: before and after in one run. Every
process starts in a temporary folder (``python -m`` puts the working folder first on
``sys.path``: started in a checkout, every tree would run that checkout's qkit).

``--readout`` instead compares qkit's readout correction (:mod:`qkit.mitigation`) with M3's
(``mthree``, if installed): the import in a new process, and the time per corrected count
dictionary, the same numbers from both.
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


def timed(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - start, out.stdout


IMPORT = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"

READOUT = r"""
import time, numpy as np
from qkit.mitigation import ReadoutCalibration
from mthree import M3Mitigation
rng = np.random.default_rng(1)
for n, observed in ((2, 4), (4, 12), (6, 40)):
    qubits = list(range(n))
    matrices = {}
    for q in qubits:
        e0, e1 = rng.uniform(0.005, 0.05, 2)
        matrices[q] = np.array([[1 - e0, e1], [e0, 1 - e1]])
    keys = [format(int(i), f"0{n}b") for i in rng.permutation(2**n)[:observed]]
    counts = {k: int(rng.integers(1, 2000)) for k in keys}
    ours = ReadoutCalibration("b", matrices, 0)
    m3 = M3Mitigation()
    m3.cals_from_matrices([np.asarray(matrices[q], dtype=np.float32) for q in qubits])
    def theirs():
        probs = m3.apply_correction(counts, qubits).nearest_probability_distribution()
        return {k: float(v) * sum(counts.values()) for k, v in probs.items()}
    same = ours.mitigate(counts, qubits) == theirs()
    times = {}
    for name, call in (("qkit", lambda: ours.mitigate(counts, qubits)), ("M3", theirs)):
        start, k = time.perf_counter(), 0
        while time.perf_counter() - start < 0.5:
            call(); k += 1
        times[name] = (time.perf_counter() - start) / k
    print(
        f"{n} qubits, {observed} bitstrings: qkit {times['qkit'] * 1e3:.3f} ms, "
        f"M3 {times['M3'] * 1e3:.3f} ms per call (M3 / qkit {times['M3'] / times['qkit']:.0f}x), "
        f"same numbers: {same}"
    )
"""


def readout(env: dict[str, str], cwd: str) -> None:
    """qkit's readout correction against M3's: import time, time per call, same numbers."""
    imports = {}
    for name, module in (("qkit", "qkit.mitigation"), ("M3", "mthree")):
        # after numpy and Qiskit, which a run imports anyway
        code = "import numpy, qiskit, qiskit_aer; " + IMPORT.format(module)
        imports[name] = float(timed([sys.executable, "-c", code], env, cwd)[1])
    print(
        f"import (after numpy, qiskit, qiskit_aer): qkit.mitigation {imports['qkit']:.2f} s, "
        f"mthree {imports['M3']:.2f} s | load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(timed([sys.executable, "-c", READOUT], env, cwd)[1], end="", flush=True)


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
    parser.add_argument("--readout", action="store_true", help="qkit's readout correction vs M3")
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.tree or [Path(__file__).resolve().parents[1]]]
    if args.readout:
        with tempfile.TemporaryDirectory() as work:
            readout({**os.environ, "PYTHONPATH": trees[-1]}, work)
        return
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
            plain, _ = timed([sys.executable, "-c", PLAIN], envs[trees[0]], work)
            load = os.getloadavg()[0]
            first = {tree: timed(qkit, envs[tree], work) for tree in trees}
            second = {tree: timed(qkit, envs[tree], work) for tree in trees}
            whole = {tree: timed(survey, envs[tree], work) for tree in trees} if args.survey else {}
        outputs = [out for runs in (first, second) for _, out in runs.values()]
        for tree in trees:
            line = (
                f"plain {plain:6.2f} s | qkit first {first[tree][0]:5.2f} s "
                f"({first[tree][0] / plain:.3f}x) | qkit second {second[tree][0]:5.2f} s "
                f"({second[tree][0] / plain:.3f}x)"
            )
            if tree in whole:
                line += f" | survey {whole[tree][0]:6.1f} s ({whole[tree][0] / plain:.2f}x)"
            name = f" | {tree}" if len(trees) > 1 else ""
            print(f"{line} | load {load:.1f} -> {os.getloadavg()[0]:.1f}{name}", flush=True)
        print(f"same results (every run and tree): {_same(outputs)}", flush=True)


if __name__ == "__main__":
    main()
