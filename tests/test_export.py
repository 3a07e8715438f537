"""circuits/: OpenQASM 3 files and manifest match the code, load back, reproduce the physics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from qiskit import qasm3
from qiskit.quantum_info import Operator

from qkit import export, noise
from qkit.cli import main
from qkit.mixup import circuits as mixup_circuits
from qkit.mixup import theory as mixup_theory

CIRCUITS = Path(__file__).resolve().parents[1] / "circuits"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("circuits")
    export.export_circuits(out)
    return out


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((CIRCUITS / export.MANIFEST).read_text())


def load(name: str):
    return qasm3.loads((CIRCUITS / f"{name}.qasm").read_text())


def bind_by_name(circuit, values: dict):
    return circuit.assign_parameters({p: values[p.name] for p in circuit.parameters})


def test_committed_files_match_a_fresh_export(exported):
    # regenerate with `qkit export-circuits` when this fails after an intended change
    fresh = sorted(p.name for p in exported.iterdir())
    assert fresh == sorted(p.name for p in CIRCUITS.iterdir())
    for name in fresh:
        assert (CIRCUITS / name).read_text() == (exported / name).read_text(), name


def test_every_file_loads_back_with_the_same_unitary_and_outcome_distribution(rng):
    for canonical in export.canonical_circuits():
        loaded = load(canonical.name)
        assert sorted(p.name for p in loaded.parameters) == sorted(
            p.name for p in canonical.circuit.parameters
        )
        values = {p.name: rng.uniform(-np.pi, np.pi) for p in canonical.circuit.parameters}
        ours, theirs = bind_by_name(canonical.circuit, values), bind_by_name(loaded, values)
        assert Operator(theirs.remove_final_measurements(inplace=False)).equiv(
            Operator(ours.remove_final_measurements(inplace=False))
        )
        assert np.allclose(
            noise.outcome_distribution(theirs), noise.outcome_distribution(ours), atol=1e-12
        )


def test_manifest_describes_every_file_its_registers_and_parameters(manifest):
    listed = [entry["file"] for entry in manifest["circuits"]]
    assert sorted(listed + [export.MANIFEST]) == sorted(p.name for p in CIRCUITS.iterdir())
    for entry in manifest["circuits"]:
        loaded = load(entry["name"])
        assert [q["register"] for q in entry["qubits"]] == [r.name for r in loaded.qregs]
        assert sorted(entry["parameters"]) == sorted(p.name for p in loaded.parameters)
        assert entry["measured"]["register"] == loaded.cregs[0].name and len(loaded.cregs) == 1
        assert set(entry["noise"]) <= set(manifest["mixtures"])


def test_manifest_mixup_branches_and_weights_give_the_mixed_up_pair(manifest, rng):
    mixture = manifest["mixtures"][noise.MIXUP]
    s, a = rng.uniform(0, 1), rng.uniform(0, 1)
    weights = [eval(w, {"S": s}) for w in mixture["weights"]]  # "S", "1 - S"
    rho = mixup_theory.state(s, a)
    for directions in rng.normal(size=(3, 2, 3)):
        theta_a, phi_a = mixup_circuits.direction_angles(directions[0])
        theta_b, phi_b = mixup_circuits.direction_angles(directions[1])
        values = {
            "theta_psi": 2 * np.arccos(a),
            "theta_A": theta_a,
            "phi_A": phi_a,
            "theta_B": theta_b,
            "phi_B": phi_b,
        }
        p = sum(
            w * noise.outcome_distribution(bind_by_name(load(name), values))
            for w, name in zip(weights, mixture["branches"], strict=True)
        )
        # Born rule in qkit order; file outcome index bA + 2 bB
        na, nb = (
            np.einsum("i,iab->ab", d / np.linalg.norm(d), noise.PAULIS[1:]) for d in directions
        )
        for ba in (0, 1):
            for bb in (0, 1):
                proj = np.kron((np.eye(2) + (-1) ** ba * na) / 2, (np.eye(2) + (-1) ** bb * nb) / 2)
                assert p[ba + 2 * bb] == pytest.approx(np.real(np.trace(rho @ proj)), abs=1e-10)


def test_manifest_noise_rows_give_the_werner_singlet_probability(manifest, rng):
    rotation = manifest["mixtures"][noise.ROTATION]
    depol = manifest["mixtures"][noise.DEPOLARIZATION]
    eta = rng.uniform(0, 1)
    dep_weights = [eval(w, {"eta": eta}) for w in depol["weights"]]
    assert len(rotation["rows"]) == 24 and sum(dep_weights) == pytest.approx(1.0)
    for state, p in (("singlet", 1.0), ("triplet_HH", -1 / 3), ("HV", 1 / 3)):
        loaded = load(f"channel_pair_{state}")
        singlet = 0.0
        for rot_row in rotation["rows"]:
            for dep_row, dep_w in zip(depol["rows"], dep_weights, strict=True):
                values = {
                    **dict(zip(rotation["parameters"], rot_row, strict=True)),
                    **dict(zip(depol["parameters"], dep_row, strict=True)),
                }
                singlet += dep_w / 24 * noise.outcome_distribution(bind_by_name(loaded, values))[3]
        assert singlet == pytest.approx((1 + 3 * eta * p) / 4, abs=1e-10)


def test_cli_export_circuits_writes_the_files(tmp_path, capsys):
    assert main(["export-circuits", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / export.MANIFEST).exists()
    assert len(capsys.readouterr().out.splitlines()) == len(list(CIRCUITS.iterdir()))
