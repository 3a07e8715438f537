"""Instant answers: help, version and theory never load the simulator or plotting stack.

Each command runs in a fresh interpreter (``qkit.cli.main`` in a subprocess), and the modules it
loaded are read from ``sys.modules`` afterwards. Timings live in ``benchmarks/startup.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import qkit

# Top-level packages too slow for an instant answer (seconds on a loaded machine).
HEAVY = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime", "braket", "matplotlib", "qutip", "scipy")
COMMANDS = ["theory", "run", "results", "jobs", "sweep", "reproduce", "export-circuits"]

THEORY = [
    ["theory", "mixup", "--success", "0.5", "--amplitude", "0.3"],
    ["theory", "mixup", "-S", "0.9", "-a", "0.7", "--json"],
    ["theory", "mixup-optimum", "--success", "0.3"],
    ["theory", "mixup-threshold", "--amplitude", "0.2", "--json"],
    ["theory", "channel", "--eta", "0.4"],
    ["theory", "channel", "--eta", "7"],  # bad input: one-line error, exit 2
    ["theory", "chain", "-L", "1024", "-S", "0.9", "-a", "0.7", "-K", "2", "-P", "0.01", "--json"],
]
HELP = [
    ["--help"],
    ["--version"],
    *([command, "--help"] for command in COMMANDS),
    ["theory", "mixup", "--help"],
    ["theory", "channel", "--help"],
    ["theory", "chain", "--help"],
    ["run", "mixup", "--help"],
    ["run", "channel", "--help"],
    ["sweep", "mixup", "--help"],
    ["sweep", "channel", "--help"],
    ["results", "show", "--help"],
    ["jobs", "fetch", "--help"],
]

# Runs in a fresh interpreter: argv from the command line, JSON report on the last line.
PROBE = """
import contextlib, io, json, sys
from qkit.cli import main
argv = json.loads(sys.argv[1])
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
heavy = json.loads(sys.argv[2])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "loaded": loaded}))
"""


def python(*args: str) -> str:
    """stdout of a new interpreter that imports this qkit (the tree under test)."""
    root = str(Path(qkit.__file__).resolve().parent.parent)
    path = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout


def probe(argv: list[str]) -> dict:
    """Run ``qkit.cli.main(argv)`` in a new interpreter; exit code, output, heavy modules loaded."""
    return json.loads(python("-c", PROBE, json.dumps(argv), json.dumps(HEAVY)).splitlines()[-1])


@pytest.mark.parametrize("argv", HELP + THEORY, ids=" ".join)
def test_instant_commands_load_no_heavy_module(argv):
    report = probe(argv)
    assert report["loaded"] == [], f"qkit {' '.join(argv)} imported {report['loaded'][:8]}"
    expected = 2 if argv[-1] == "7" else 0
    assert report["code"] == expected, report["err"]
    assert report["out" if expected == 0 else "err"].strip()


def test_help_lists_every_command():
    report = probe(["--help"])
    listed = report["out"].split("positional arguments:")[1]
    for command in COMMANDS:
        assert re.search(rf"^ +{command}\s", listed, re.M), f"qkit --help does not list {command}"


def test_version_prints_the_package_version():
    assert probe(["--version"])["out"].strip() == f"qkit {qkit.__version__}"


def test_import_qkit_loads_no_heavy_module_nor_numpy():
    code = (
        "import sys, qkit; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {(*HEAVY, 'numpy')!r}))"
    )
    assert python("-c", code).strip() == "[]"
