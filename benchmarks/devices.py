"""Fake-device estimates against the ideal prediction: is the deviation the device's noise?

Run: ``.venv/bin/python benchmarks/devices.py [--devices lima quito] [--shots 4000] [--quick]``.

Every experiment of both papers runs on each fake IBM device exactly as ``qkit run`` does it
(branch-mixture realization, the runtime's local mode with the device's calibrated noise,
``--mitigate readout``): paper A at two ``(S, a)`` (CHSH, concurrence, E_F, fidelity), paper B's
mutual information for the pair and two-slot alphabets, entangled and separable inputs, at
``eta = 1`` and ``0.5``. For each quantity the table gives the ideal prediction, the raw and
the readout-mitigated estimate with their error bars, and the deviation from the prediction in
error bars (``z``).

Whether the error bar plus the device's noise explains a deviation is tested against the
*device expectation*: what the same estimator returns on the exact outcome distribution of the
same transpiled circuits under the device's noise model (Aer density matrices of every branch,
mixed with the exact branch weights; readout errors applied as the noise model's assignment
matrices; ``N -> infinity``). ``dev`` is that value with readout errors (what raw estimates
should scatter around), ``dev-ro`` without them (what perfect readout mitigation would give).
``zd`` = (raw - dev) / err and (mitigated - dev-ro) / err: |zd| < 3 means the deviation from
the ideal prediction is the device's noise plus sampling error. Error bars: the binomial standard
error for CHSH, the bootstrap 95% interval / 3.92 for the others; for mitigated estimates
combined with ``cal``, their standard deviation over 5 independent readout calibrations (M3's
calibration, 10^4 shots per qubit state, has its own sampling error).

Also shown: two-qubit gates and depth of the transpiled circuits (range over the branch
circuits), and the device's reported mean readout error and two-qubit gate error on the qubits
and pairs the circuits use.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qkit import noise, runner
from qkit.backends import get_backend
from qkit.channel import experiment as channel
from qkit.mitigation import calibrate_readout, measured_qubits
from qkit.mixup import experiment as mixup
from qkit.sampling import Sampled, collect, prepare

EXACT_SHOTS = 10**9  # the exact distribution, scaled to integer "counts" for the estimators
TRANSPILER_SEED = 7


@dataclass
class Case:
    label: str
    module: object
    args: tuple
    quantities: tuple[tuple[str, str], ...]  # (estimate key, prediction key)


MIXUP_Q = (("chsh", "chsh_max"), ("concurrence", "concurrence"), ("eof", "eof"),
           ("fidelity", "fidelity"))  # fmt: skip
CHANNEL_Q = (("mutual_information", "holevo"),)


def cases(quick: bool) -> list[Case]:
    out = [
        Case("mixup S=0.9 a=0.707", mixup, (0.9, 2**-0.5), MIXUP_Q),
        Case("mixup S=0.7 a=0.8", mixup, (0.7, 0.8), MIXUP_Q),
    ]
    etas = (1.0,) if quick else (1.0, 0.5)
    alphabets = ("pair",) if quick else ("pair", "two-slot")
    for alphabet in alphabets:
        for inputs in ("entangled", "separable"):
            for eta in etas:
                label = f"{alphabet} {inputs[:3]} eta={eta:g}"
                out.append(Case(label, channel, (eta, inputs, alphabet), CHANNEL_Q))
    return out


# -- the device expectation: exact noisy distributions of the same transpiled circuits ----
class DeviceModel:
    """The fake device's Aer noise model, as its local testing mode uses it.

    Gate errors act in a density-matrix simulation; readout errors (which Aer applies only
    to sampled measurements) are applied to the exact probabilities as the model's assignment
    matrices.
    """

    def __init__(self, backend):
        self.backend = backend
        full = NoiseModel.from_backend(backend.device)
        self.assignment = _assignment_matrices(full)
        gates_only = NoiseModel.from_backend(backend.device, readout_error=False)
        self.simulator = AerSimulator(method="density_matrix", noise_model=gates_only)

    def distributions(self, circuits: list[QuantumCircuit], readout: bool) -> list[np.ndarray]:
        """Outcome probabilities of each circuit, indexed like counts keys (clbit 0 = LSB)."""
        prepared, qubits = [], []
        for circuit in circuits:
            measured = measured_qubits(circuit)
            bare = _without_final_measurements(circuit)
            bare.save_probabilities(measured)  # order = clbit order: index bit j = clbit j
            prepared.append(bare)
            qubits.append(measured)
        result = self.simulator.run(prepared, shots=1).result()
        out = []
        for index, measured in enumerate(qubits):
            probabilities = np.asarray(result.data(index)["probabilities"], dtype=float)
            if readout:
                probabilities = self._read(probabilities, measured)
            out.append(probabilities)
        return out

    def _read(self, probabilities: np.ndarray, measured: list[int]) -> np.ndarray:
        n = len(measured)
        tensor = probabilities.reshape([2] * n)  # axis a <-> clbit n-1-a
        for clbit, qubit in enumerate(measured):
            matrix = self.assignment.get(qubit, np.eye(2))  # [prepared, read]
            axis = n - 1 - clbit
            tensor = np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)
        return tensor.reshape(-1)


def _assignment_matrices(model: NoiseModel) -> dict[int, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        errors = model.to_dict()["errors"]
    return {
        int(e["gate_qubits"][0][0]): np.asarray(e["probabilities"], dtype=float)
        for e in errors
        if e["type"] == "roerror"
    }


def _without_final_measurements(circuit: QuantumCircuit) -> QuantumCircuit:
    out = circuit.copy_empty_like()
    measured = set()
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            measured.update(instruction.qubits)
            continue
        if instruction.operation.name == "barrier":
            continue
        if measured & set(instruction.qubits):
            raise ValueError("a gate acts after a measurement: not a final measurement")
        out.append(instruction)
    return out


def device_expectation(model: DeviceModel, plan: runner.Plan, readout: bool) -> dict:
    """The plan's estimates on the exact noisy outcome distributions (every branch, exact
    weights, the same transpiled circuits as the run)."""
    family, backend = plan.family, model.backend
    jobs = []  # (circuit index, setting, weight, transpiled bound circuit)
    for index, circuit in enumerate(family.circuits):
        if noise.sites(circuit):
            branches = noise.expand_branches(circuit, plan.mixtures, prune=True)
            weights = noise.branch_weights(circuit, plan.mixtures)
        else:
            branches, weights = [circuit], np.ones(1)
        transpiled = backend.transpile(branches)
        for k in range(family.num_settings(index)):
            for branch, weight in zip(transpiled, weights, strict=True):
                if weight <= 0:
                    continue
                if branch.parameters:
                    settings = family.settings[index]
                    branch = branch.assign_parameters(
                        {p: float(np.asarray(settings[p.name])[k]) for p in branch.parameters}
                    )
                jobs.append((index, k, float(weight), branch))
    distributions = model.distributions([job[3] for job in jobs], readout)
    mixed: dict[tuple[int, int], np.ndarray] = {}
    for (index, k, weight, _), probabilities in zip(jobs, distributions, strict=True):
        mixed[(index, k)] = mixed.get((index, k), 0) + weight * probabilities
    counts = [
        [_as_counts(mixed[(i, k)]) for k in range(family.num_settings(i))]
        for i in range(len(family.circuits))
    ]
    estimate, _ = plan.analyse(Sampled(counts, "exact", {}))
    return estimate


def _as_counts(probabilities: np.ndarray) -> dict[str, int]:
    n = int(np.log2(len(probabilities)))
    probabilities = np.clip(probabilities, 0, None) / probabilities.sum()
    return {
        format(i, f"0{n}b"): int(round(p * EXACT_SHOTS))
        for i, p in enumerate(probabilities)
        if p * EXACT_SHOTS >= 0.5
    }


# -- the table --------------------------------------------------------------------------
def error_bar(entry: dict) -> float:
    if "stderr" in entry:
        return float(entry["stderr"])
    return float(entry["ci_high"] - entry["ci_low"]) / 3.92


def reported_errors(backend, circuits) -> tuple[float, float]:
    """Mean reported readout error of the measured qubits, and 2q gate error of used pairs."""
    target = backend.device.target
    qubits = sorted({q for c in circuits for q in measured_qubits(c)})
    readout = np.mean([target["measure"][(q,)].error for q in qubits])
    errors = []
    for circuit in circuits:
        for instruction in circuit.data:
            operation = instruction.operation
            if operation.num_qubits == 2 and operation.name in target.operation_names:
                pair = tuple(circuit.find_bit(q).index for q in instruction.qubits)
                props = target[operation.name].get(pair)
                if props is not None and props.error is not None:
                    errors.append(props.error)
    return float(readout), float(np.mean(errors)) if errors else float("nan")


def gate_summary(stats: list[dict]) -> str:
    twos = sorted({s["two_qubit_gates"] for s in stats})
    depths = [s["depth"] for s in stats]
    two = f"{twos[0]}" if len(twos) == 1 else f"{twos[0]}-{twos[-1]}"
    return f"{two} / {min(depths)}-{max(depths)}"


def run_device(device: str, shots: int, quick: bool, n_boot: int) -> list[list[str]]:
    backend = get_backend(f"fake:{device}", seed=TRANSPILER_SEED)
    model = DeviceModel(backend)
    rows = []
    for number, case in enumerate(cases(quick)):
        started = time.perf_counter()
        plan = case.module.plan(*case.args, shots=shots, seed=100 + number, n_boot=n_boot)
        # what runner.execute(plan, backend, mitigate="readout") does, keeping the counts
        prepared = prepare(backend, plan.family, plan.mixtures, shots=shots, seed=plan.seed)
        counts = backend.run(prepared.pubs, shots=shots, seed=plan.seed)
        options = {"realization": prepared.realization, "mitigate": "readout"}
        result = runner.finish(plan, backend, prepared, counts, options, started, "readout")
        raw, mitigated = result.metadata["raw_estimate"], result.estimate
        spread = calibration_spread(backend, plan, prepared, counts, case.quantities)
        exact_plan = case.module.plan(*case.args, shots=shots, seed=1, n_boot=10)
        dev = device_expectation(model, exact_plan, readout=True)
        dev_ro = device_expectation(model, exact_plan, readout=False)
        stats = next(iter(result.metadata["transpiled"].values()))
        ro_err, two_err = reported_errors(backend, prepared.circuits)
        for key, pred_key in case.quantities:
            predicted = float(result.prediction[pred_key])
            r, m = raw[key], mitigated[key]
            r_err = error_bar(r)
            m_err = float(np.hypot(error_bar(m), spread[key]))
            d, d_ro = float(dev[key]["value"]), float(dev_ro[key]["value"])
            rows.append(
                [
                    device,
                    case.label,
                    key.replace("mutual_information", "MI"),
                    f"{predicted:.4f}",
                    f"{r['value']:.4f}±{r_err:.4f}",
                    f"{_z(r['value'], predicted, r_err):+.1f}",
                    f"{d:.4f}",
                    f"{_z(r['value'], d, r_err):+.1f}",
                    f"{m['value']:.4f}±{m_err:.4f}",
                    f"{spread[key]:.4f}",
                    f"{_z(m['value'], predicted, m_err):+.1f}",
                    f"{d_ro:.4f}",
                    f"{_z(m['value'], d_ro, m_err):+.1f}",
                    gate_summary(stats),
                    f"{ro_err:.3f}/{two_err:.3f}",
                ]
            )
        print(f"  {device} {case.label}: {time.perf_counter() - started:.1f} s", flush=True)
    return rows


def calibration_spread(backend, plan, prepared, counts, quantities, repeats: int = 5) -> dict:
    """Standard deviation of each mitigated estimate over independent readout calibrations."""
    qubits = sorted({q for c in prepared.circuits for q in measured_qubits(c)})
    values = {key: [] for key, _ in quantities}
    for repeat in range(repeats):
        calibration = calibrate_readout(backend, qubits, seed=10_000 + repeat)
        mitigated = runner._mitigate_pooled(calibration, prepared, counts)
        estimate, _ = plan.analyse(collect(prepared, mitigated))
        for key in values:
            values[key].append(estimate[key]["value"])
    return {key: float(np.std(v, ddof=1)) for key, v in values.items()}


def _z(value: float, reference: float, error: float) -> float:
    return (value - reference) / error if error > 0 else float("nan")


HEADER = ["device", "experiment", "quantity", "ideal", "raw ± err", "z", "dev", "zd",
          "mitigated ± err", "cal", "z", "dev-ro", "zd", "2q / depth", "ro/2q err"]  # fmt: skip


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["lima", "quito"], help="fake devices")
    parser.add_argument("--shots", type=int, default=4000, help="shots per setting / letter")
    parser.add_argument("--bootstrap", type=int, default=300, help="bootstrap resamples")
    parser.add_argument("--quick", action="store_true", help="mix-up and the pair alphabet only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Properties of fake_nighthawk")
    rows = []
    started = time.perf_counter()
    for device in args.devices:
        rows.extend(run_device(device, args.shots, args.quick, args.bootstrap))
    print(f"\n{args.shots} shots per setting (mix-up) or letter (channel); "
          f"total {time.perf_counter() - started:.0f} s\n")  # fmt: skip
    print_table(rows)
    zd = np.array([[float(r[7]), float(r[12])] for r in rows])
    explained = np.sum(np.abs(zd) < 3, axis=0)
    print(
        f"\n|zd| < 3 (device noise + error bar explain the deviation): "
        f"raw {explained[0]}/{len(zd)}, mitigated {explained[1]}/{len(zd)}"
    )


if __name__ == "__main__":
    main()
