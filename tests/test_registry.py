"""A user's experiment is first-class: found by name from an installed package's entry point,
listed by ``qkit run --help`` and ``qkit sweep --help``, run from the command line, and carried
to Dask workers when it is registered only in the user's process.

The installed package is a real distribution in a temporary folder (``*.dist-info`` with an
``entry_points.txt``), put on the path of a new interpreter or of this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qkit
from qkit import registry

# A user's experiment as a user would write it: Werner pairs (a depolarized singlet, singlet
# weight eta) measured at the four CHSH settings optimal for the state; CHSH = 2 sqrt2 eta.
WERNER_SOURCE = """
import numpy as np
from qiskit import QuantumCircuit

import qkit
from qkit import estimators, measures, noise, pairs

LABEL = "user-depolarizer"


def check_eta(value):
    eta = np.asarray(value, dtype=float)
    if not np.all((eta >= 0) & (eta <= 1)):
        raise ValueError(f"eta must be in [0, 1], got {value!r}")
    return eta


def werner(eta):
    singlet = np.array([0, 1, -1, 0]) / np.sqrt(2)
    return eta * np.outer(singlet, singlet) + (1 - eta) * np.eye(4) / 4


def source():
    qc = QuantumCircuit(2)
    qc.x([0, 1])
    qc.h(0)
    qc.cx(0, 1)
    qc.append(noise.noise_site(LABEL, 1), [1])
    return pairs.measure_directions(qc)


CIRCUIT = source()


def circuits(point):
    directions = pairs.chsh_directions(measures.optimal_chsh_settings(werner(point["eta"])))
    family = qkit.Family(NAME, [CIRCUIT], [pairs.setting_angles(*directions)])
    return family, [noise.depolarizing_mixture(point["eta"], label=LABEL)]


# the field is "circuits" once the execution-layer rename lands ("layout" before it)
FIELD = "circuits" if "circuits" in qkit.Experiment.__dataclass_fields__ else "layout"
WERNER = qkit.Experiment(
    **{FIELD: circuits},
    name=NAME,
    title="user package: Werner pairs measured with CHSH",
    params=(qkit.Param("eta", check_eta, "singlet weight eta in [0, 1]"),),
    predict=lambda points: {"chsh_max": 2 * np.sqrt(2) * np.asarray(points["eta"], float)},
    outcomes=lambda point, index, num_clbits: pairs.pair_outcomes(num_clbits),
    analyse=lambda counts, points, rngs, analysis: {
        "chsh": estimators.chsh(np.asarray(counts), confidence=analysis.confidence)
    },
    targets={"chsh": "chsh_max"},
)
"""
ENTRY_POINTS = """
[qkit.experiments]
werner-user = qkit_user_werner:WERNER
broken-user = qkit_user_werner:NOT_THERE
misnamed-user = qkit_user_werner:MISNAMED
"""


def werner_source(name: str) -> str:
    return f"NAME = {name!r}\n{WERNER_SOURCE}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder holding an installed distribution that declares three experiments."""
    root = tmp_path / "site"
    package = root / "qkit_user_werner"
    package.mkdir(parents=True)
    code = werner_source("werner-user")
    code += "\nimport dataclasses\nMISNAMED = dataclasses.replace(WERNER, name='other')\n"
    (package / "__init__.py").write_text(code)
    info = root / "qkit_user_werner-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: qkit-user-werner\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def environment(site: Path, tmp_path: Path) -> dict[str, str]:
    root = str(Path(qkit.__file__).resolve().parent.parent)
    path = [str(site), root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "QKIT_STORE": str(tmp_path / "s")}


def qkit_cli(site: Path, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qkit.cli", *argv],
        capture_output=True,
        text=True,
        env=environment(site, tmp_path),
        cwd=tmp_path,
        timeout=600,
    )


@pytest.fixture
def clean_registry(monkeypatch):
    """This process's registry, emptied for the test and restored after it."""
    monkeypatch.setattr(registry, "_REGISTERED", {})
    return registry


# -- the registry ------------------------------------------------------------------------------
def test_builtin_experiments_are_found_and_their_names_are_reserved(clean_registry):
    assert registry.names()[:3] == ["mixup", "channel", "distill"]
    assert registry.get("mixup") is qkit.MIXUP
    with pytest.raises(ValueError, match="'mixup' exists already"):
        registry.register(qkit.Experiment(**{**vars(qkit.MIXUP), "title": "impostor"}))
    assert registry.register(qkit.MIXUP) is qkit.MIXUP  # the same one again: fine
    with pytest.raises(ValueError, match="register takes a qkit.Experiment"):
        registry.register("mixup")  # type: ignore[arg-type]


def test_an_unknown_name_is_one_error_listing_every_known_one(clean_registry):
    with pytest.raises(ValueError, match=r"must be one of mixup, channel, distill.*got 'nope'"):
        registry.get("nope")


def test_entry_points_are_found_by_name_and_checked(site, clean_registry, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    assert {"werner-user", "broken-user", "misnamed-user"} <= set(registry.names())
    werner = registry.get("werner-user")
    assert werner.name == "werner-user" and registry.get("werner-user") is werner
    with pytest.raises(ValueError, match=r"broken-user .* cannot be loaded: AttributeError"):
        registry.get("broken-user")
    with pytest.raises(ValueError, match=r"names the experiment 'other', not 'misnamed-user'"):
        registry.get("misnamed-user")
    sys.modules.pop("qkit_user_werner", None)


def test_the_experiment_module_still_offers_the_registry():
    from qkit import experiment

    assert experiment.get is registry.get and experiment.register is registry.register
    assert qkit.register is registry.register and qkit.get_experiment is registry.get


# -- the command line --------------------------------------------------------------------------
def test_run_and_sweep_help_list_every_experiment_including_installed_ones(site, tmp_path):
    for command in ("run", "sweep"):
        proc = qkit_cli(site, tmp_path, command, "--help")
        assert proc.returncode == 0, proc.stderr
        listed = proc.stdout.split("positional arguments:")[1]
        for name in ("mixup", "channel", "distill", "werner-user"):
            assert f"    {name} " in listed, f"qkit {command} --help does not list {name}"
        assert "user package: Werner pairs measured with CHSH" in listed
        assert "broken-user" in listed and "cannot be loaded" in listed


PROBE = """
import contextlib, io, json, sys
from qkit.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
      ("qkit_user_werner", "qiskit") or m == "importlib.metadata")))
"""


@pytest.mark.parametrize("argv", [["--help"], ["theory", "channel", "--eta", "0.5"]])
def test_other_commands_never_read_the_entry_points(site, tmp_path, argv):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        env=environment(site, tmp_path),
        check=True,
    ).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_an_installed_experiment_runs_from_the_command_line(site, tmp_path):
    proc = qkit_cli(
        site, tmp_path, "run", "werner-user", "--eta", "0.9", "--shots", "4000", "--seed", "3",
        "--engine", "exact", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    chsh = record["estimate"]["chsh"]
    assert record["prediction"]["chsh_max"] == pytest.approx(2 * np.sqrt(2) * 0.9)
    # 4000 shots per setting: sd of the CHSH estimate ~0.02; 6 sd wide (false failure ~1e-9)
    assert abs(chsh["value"] - record["prediction"]["chsh_max"]) < 0.12


def test_a_broken_installed_experiment_is_one_line_and_exit_2(site, tmp_path):
    proc = qkit_cli(site, tmp_path, "run", "broken-user", "--eta", "0.5")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot be loaded: AttributeError" in proc.stderr
    assert qkit_cli(site, tmp_path, "run", "mixup", "--help").returncode == 0


# -- Dask workers ------------------------------------------------------------------------------
def test_a_task_carries_an_experiment_registered_only_here(clean_registry):
    import cloudpickle

    namespace: dict = {}
    exec(werner_source("werner-carried"), namespace)  # noqa: S102 - the test's own source
    werner = registry.register(namespace["WERNER"])
    task = registry.portable(registry.get, "werner-carried")
    assert registry.portable(registry.get, "mixup") is registry.get  # workers know built-ins
    shipped = cloudpickle.dumps(task)
    registry._REGISTERED.clear()  # a worker that never saw the definition
    carried = cloudpickle.loads(shipped)("werner-carried")
    assert carried.name == "werner-carried" and carried is not werner
    assert carried.prediction({"eta": 0.5}) == werner.prediction({"eta": 0.5})


SWEEP_IN_MAIN = """
if __name__ == "__main__":  # worker processes import this script again
    import sys

    from qkit.sweep import make_spec, run_sweep

    qkit.register(WERNER)
    spec = make_spec(NAME, {"eta": [0.6, 0.8, 0.9, 1.0]}, shots=2000, seed=5, chunk_size=1)
    run_sweep(spec, sys.argv[1] + "/here.csv")
    run_sweep(spec, sys.argv[1] + "/dask.csv", dask="local:2")
"""


@pytest.mark.slow
def test_an_experiment_defined_in_a_script_sweeps_on_dask_workers(tmp_path):
    """The definition lives in ``__main__`` only: the workers get it with the tasks."""
    pytest.importorskip("distributed")
    script = tmp_path / "user_script.py"
    script.write_text(werner_source("werner-script") + SWEEP_IN_MAIN)
    root = str(Path(qkit.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, check=True, timeout=600)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()


@pytest.mark.slow
def test_an_installed_experiment_sweeps_with_dask_from_the_command_line(site, tmp_path):
    args = ["sweep", "werner-user", "--eta", "0.6:1:4", "--shots", "2000", "--seed", "9",
            "--chunk-size", "1", "--no-store"]  # fmt: skip
    here = qkit_cli(site, tmp_path, *args, "--out", "here.csv")
    assert here.returncode == 0, here.stderr
    dask = qkit_cli(site, tmp_path, *args, "--out", "dask.csv", "--dask", "local:2")
    assert dask.returncode == 0, dask.stderr
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
