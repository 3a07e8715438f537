"""Portable exports: the ``braket`` files run on Amazon Braket's local density-matrix simulator
and, with the manifest's rows and weights, give the exact states and outcome probabilities;
the ``generic`` files are self-contained; the export never touches a folder it did not write."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import Parameter
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Operator, random_unitary

from qkit import export, noise
from qkit.channel import circuits as channel_circuits
from qkit.channel import theory as channel_theory
from qkit.cli import main
from qkit.mixup import circuits as mixup_circuits
from qkit.mixup import theory as mixup_theory

braket_devices = pytest.importorskip("braket.devices")
braket_openqasm = pytest.importorskip("braket.ir.openqasm")

_MEASURE = re.compile(r"^(\w+)\[(\d+)\] = measure (\w+\[\d+\]);\n", re.M)
ETAS = (0.0, 0.37, 1.0)
SETTINGS = ("theta_A", "phi_A", "theta_B", "phi_B")


def braket_run(source: str, inputs: dict, result: str, targets: list[str]) -> np.ndarray:
    """Run an exported file on Braket's density-matrix simulator without shots: its final
    measurements become one exact result (``probability`` or ``density_matrix``) on
    ``targets``."""
    body = _MEASURE.sub("", source) + f"#pragma braket result {result} {', '.join(targets)}\n"
    device = braket_devices.LocalSimulator("braket_dm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "noise-free circuit on the DM simulator"
        task = device.run(braket_openqasm.Program(source=body, inputs=inputs), shots=0)
        return np.asarray(task.result().values[0])


def measured_qubits(source: str) -> list[str]:
    """The measured qubit of each clbit (clbit order); checks that no gate follows a measurement
    on its qubit, so turning measurements into a final result type changes nothing."""
    found = {}
    for match in _MEASURE.finditer(source):
        found[int(match.group(2))] = match.group(3)
        later = source[match.end() :]
        assert match.group(3) not in _MEASURE.sub("", later), match.group(0)
    assert sorted(found) == list(range(len(found)))
    return [found[k] for k in range(len(found))]


def qiskit_order(probabilities: np.ndarray) -> np.ndarray:
    """Braket's order (first target most significant) -> Qiskit's clbit integer order."""
    n = int(np.log2(probabilities.size))
    return probabilities.reshape([2] * n).transpose(range(n)[::-1]).ravel()


@pytest.fixture(scope="module")
def braket_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("braket") / "circuits"
    export.export_circuits(out, target="braket")
    return out


@pytest.fixture(scope="module")
def manifest(braket_export) -> dict:
    return json.loads((braket_export / export.MANIFEST).read_text())


@pytest.fixture(scope="module")
def channel_branches(braket_export, manifest) -> dict[str, np.ndarray]:
    """Outcome probabilities (Qiskit order) of every paper-B file for each of the 96 rows
    (rotation row r, depolarization row d) of the manifest, shape (24, 4, 2**clbits)."""
    rotation = manifest["mixtures"][noise.ROTATION]
    depol = manifest["mixtures"][noise.DEPOLARIZATION]
    out = {}
    for entry in manifest["circuits"]:
        if not entry["name"].startswith("channel_"):
            continue
        source = (braket_export / entry["file"]).read_text()
        targets = measured_qubits(source)
        table = np.zeros((len(rotation["rows"]), len(depol["rows"]), 2 ** len(targets)))
        for r, rot_row in enumerate(rotation["rows"]):
            for d, dep_row in enumerate(depol["rows"]):
                inputs = {
                    **dict(zip(rotation["parameters"], rot_row, strict=True)),
                    **dict(zip(depol["parameters"], dep_row, strict=True)),
                }
                table[r, d] = qiskit_order(braket_run(source, inputs, "probability", targets))
        out[entry["name"]] = table
    return out


def mix(table: np.ndarray, manifest: dict, eta: float) -> np.ndarray:
    """The manifest's weights: 1/24 per rotation row times the Pauli weight at ``eta``."""
    weights = [eval(w, {"eta": eta}) for w in manifest["mixtures"][noise.DEPOLARIZATION]["weights"]]
    return np.einsum("rdk,d->k", table, np.asarray(weights)) / table.shape[0]


def test_braket_files_use_only_braket_builtin_gates(braket_export, manifest):
    builtin = {"cnot", "h", "x", "y", "z", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz"}
    builtin |= {"phaseshift", "cy", "cz", "swap", "U"}
    for entry in manifest["circuits"]:
        source = (braket_export / entry["file"]).read_text()
        assert "include" not in source and "gate " not in source and "@" not in source
        statements = _MEASURE.sub("", source).splitlines()[1:]  # after "OPENQASM 3.0;"
        gates = {re.match(r"^(\w+)", line).group(1) for line in statements}
        gates -= {"input", "bit", "qubit"}
        assert gates and gates <= builtin, entry["name"]


def test_braket_mixup_files_give_the_delivered_state_and_its_outcome_probabilities(
    braket_export, manifest, rng
):
    mixture = manifest["mixtures"][noise.MIXUP]
    tomography = manifest["settings"]["tomography (theta_A, phi_A, theta_B, phi_B)"]
    dirs_a, dirs_b = mixup_circuits.tomography_directions()
    for s, a in ((1.0, 1 / np.sqrt(2)), (rng.uniform(0.05, 1), rng.uniform()), (0.1, 0.3)):
        rho = mixup_theory.state(s, a)
        files = mixture["branches"]
        weights = [eval(w, {"S": s}) for w in mixture["weights"]]
        delivered = np.zeros((4, 4), dtype=complex)
        outcomes = {key: np.zeros(4) for key in tomography}
        for name, weight in zip(files, weights, strict=True):
            source = (braket_export / f"{name}.qasm").read_text()
            targets = measured_qubits(source)
            zero = {"theta_psi": 2 * np.arccos(a), "theta_A": 0, "phi_A": 0}
            zero |= {"theta_B": 0, "phi_B": 0}
            delivered += weight * braket_run(source, zero, "density_matrix", targets)
            for key, angles in tomography.items():
                inputs = {**zero, **dict(zip(SETTINGS, angles, strict=True))}
                p = braket_run(source, inputs, "probability", targets)
                outcomes[key] += weight * qiskit_order(p)
        np.testing.assert_allclose(delivered, rho, atol=1e-9)  # both in qkit order, A first
        for key, (na, nb) in zip(tomography, zip(dirs_a, dirs_b, strict=True), strict=True):
            pa, pb = (np.einsum("i,iab->ab", d, noise.PAULIS[1:]) for d in (na, nb))
            for ba in (0, 1):
                for bb in (0, 1):
                    proj = np.kron(
                        (np.eye(2) + (-1) ** ba * pa) / 2, (np.eye(2) + (-1) ** bb * pb) / 2
                    )
                    born = np.real(np.trace(rho @ proj))
                    assert outcomes[key][ba + 2 * bb] == pytest.approx(born, abs=1e-9), key
    source = (braket_export / "mixup_psi.qasm").read_text()
    zero = {"theta_psi": 2 * np.arccos(0.6), "theta_A": 0, "phi_A": 0, "theta_B": 0, "phi_B": 0}
    psi_rho = braket_run(source, zero, "density_matrix", measured_qubits(source))
    np.testing.assert_allclose(psi_rho, mixup_theory.state(1.0, 0.6), atol=1e-9)


@pytest.mark.slow
def test_braket_channel_pair_files_give_the_werner_singlet_probability(channel_branches, manifest):
    werner = {"singlet": 1.0, "triplet_HH": -1 / 3, "HV": 1 / 3}
    for state, p in werner.items():
        table = channel_branches[f"channel_pair_{state}"]
        exact_circuit = channel_circuits.two_photon_circuit(state)
        for eta in ETAS:
            braket = mix(table, manifest, eta)
            exact = noise.outcome_distribution(
                exact_circuit, channel_circuits.channel_mixtures(eta)
            )
            np.testing.assert_allclose(braket, exact, atol=1e-9)
            singlet = braket[3]  # bsm = 11
            assert singlet == pytest.approx(channel_theory.singlet_probability(eta * p), abs=1e-9)


@pytest.mark.slow
def test_braket_channel_letter_files_give_the_receiver_probabilities(channel_branches, manifest):
    rows = {"entangled": ("empty", "slot1", "slot2", "singlet", "triplet_HH")}
    rows["separable"] = ("empty", "slot1", "slot2", "HV", "triplet_HH")
    for eta in ETAS:
        for inputs, letters in rows.items():
            theory = channel_theory.receiver_conditional_probabilities(eta, inputs)
            for row, letter in enumerate(letters):
                braket = mix(channel_branches[f"channel_letter_{letter}"], manifest, eta)
                circuit = channel_circuits.alphabet_circuit(letter)
                exact = noise.outcome_distribution(circuit, channel_circuits.channel_mixtures(eta))
                np.testing.assert_allclose(braket, exact, atol=1e-9)
                receiver = np.zeros(len(channel_circuits.OUTCOMES))
                for k, prob in enumerate(braket):
                    outcome = channel_circuits.receiver_outcome(format(k, "04b"))
                    receiver[channel_circuits.OUTCOMES.index(outcome)] += prob
                np.testing.assert_allclose(receiver, theory[row], atol=1e-9)


def test_braket_target_translates_gates_braket_lacks(rng):
    # a general two-qubit unitary, a controlled-H and sx: none is a Braket built-in
    qc = QuantumCircuit(3)
    theta = Parameter("theta")
    qc.append(UnitaryGate(random_unitary(4, seed=7)), [2, 0])
    qc.ch(0, 2)
    qc.sx(1)
    qc.cx(2, 0)
    qc.ry(theta, 1)
    qc.measure_all()
    value = rng.uniform(-np.pi, np.pi)
    source = export.to_qasm(qc, "braket")
    assert "gate " not in source and "include" not in source
    p = braket_run(source, {"theta": value}, "probability", measured_qubits(source))
    exact = noise.outcome_distribution(qc.assign_parameters({theta: value}))
    np.testing.assert_allclose(qiskit_order(p), exact, atol=1e-9)


def test_generic_files_are_self_contained_and_load_back_with_the_same_unitary(tmp_path, rng):
    export.export_circuits(tmp_path, target="generic")
    manifest = json.loads((tmp_path / export.MANIFEST).read_text())
    assert manifest["target"] == "generic"
    for canonical in export.canonical_circuits():
        source = (tmp_path / f"{canonical.name}.qasm").read_text()
        assert "include" not in source
        loaded = qasm3.loads(source)
        values = {p.name: rng.uniform(-np.pi, np.pi) for p in canonical.circuit.parameters}
        ours, theirs = (
            c.assign_parameters(
                {p: values[p.name] for p in c.parameters}
            ).remove_final_measurements(inplace=False)
            for c in (canonical.circuit, loaded)
        )
        assert Operator(theirs).equiv(Operator(ours)), canonical.name


def test_every_target_has_the_same_manifest_but_its_format(tmp_path):
    manifests = {}
    for target in export.TARGETS:
        export.export_circuits(tmp_path / target, target=target)
        manifests[target] = json.loads((tmp_path / target / export.MANIFEST).read_text())
    for target, data in manifests.items():
        for key in ("generator", "conventions", "mixtures", "settings", "circuits"):
            assert data[key] == manifests["qiskit"][key], (target, key)
    assert "target" not in manifests["qiskit"]
    assert len({data["format"] for data in manifests.values()}) == len(export.TARGETS)


def test_export_refuses_a_folder_it_did_not_write_and_empty_paths(tmp_path, capsys):
    user = tmp_path / "mine"
    user.mkdir()
    (user / export.MANIFEST).write_text('{"my": "data"}')
    with pytest.raises(ValueError, match="not empty"):
        export.export_circuits(user)
    assert main(["export-circuits", "--out", str(user)]) == 2
    assert (user / export.MANIFEST).read_text() == '{"my": "data"}'
    assert main(["export-circuits", "--out", ""]) == 2
    assert main(["export-circuits", "--out", "  "]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["export-circuits", "--out", str(tmp_path / "file")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("qkit: error: out ") for line in errors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]


def test_export_replaces_a_previous_export_but_not_one_with_foreign_files(tmp_path, capsys):
    out = tmp_path / "circuits"
    assert main(["export-circuits", "--out", str(out)]) == 0
    assert main(["export-circuits", "--out", str(out), "--target", "braket"]) == 0
    assert json.loads((out / export.MANIFEST).read_text())["target"] == "braket"
    (out / "notes.txt").write_text("mine")
    assert main(["export-circuits", "--out", str(out)]) == 2
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / export.MANIFEST).read_text())["target"] == "braket"
    with pytest.raises(SystemExit) as exit_:
        main(["export-circuits", "--out", str(tmp_path / "new"), "--target", "nope"])
    assert exit_.value.code == 2
    assert not (tmp_path / "new").exists()
