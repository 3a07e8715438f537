"""The package can be published, installed and cited under a distribution name of its own.

The import package and the command are ``qkit``; the distribution on the package index is
``qkit-comm`` (the name ``qkit`` there belongs to an unrelated project), so no install hint may
name the bare ``qkit`` distribution.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
DIST = PROJECT["name"]
VERSION = PROJECT["version"]

# Skipped when walking a tree without git (an unpacked sdist, say).
_SKIP_DIRS = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}
_SKIP_DIRS |= {".ruff_cache", ".ipynb_checkpoints", "qkit-results", "node_modules"}

# An install hint for the bare distribution: ``qkit[extra]`` (an extras requirement), or an
# installer command whose argument is ``qkit`` itself. ``qkit-comm[...]`` and ``import qkit``
# do not match.
_BARE_EXTRAS = r"(?<![\w.-])qkit\[[A-Za-z0-9_,\s-]+\]"
_INSTALLER = r"(?:pip3?|pipx|uv\s+pip|uv|conda|mamba)\s+(?:install|add)"
_OPTIONS = r"(?:\s+-{1,2}[\w-]+(?:=\S+)?)*"
_BARE_INSTALL = _INSTALLER + _OPTIONS + r"\s+['\"]?qkit(?![\w-])"
_BARE_METADATA = r"""(?:version|metadata|distribution)\(\s*['"]qkit['"]\s*\)"""
BARE_QKIT_HINT = re.compile("|".join([_BARE_EXTRAS, _BARE_INSTALL, _BARE_METADATA]))


def tracked_files() -> list[Path]:
    """The repository's tracked files (``git ls-files``), or every file when there is no git."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        files = [REPO / name for name in out.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        files = []
    if not files:
        files = [
            path
            for path in REPO.rglob("*")
            if path.is_file()
            and not _SKIP_DIRS.intersection(path.relative_to(REPO).parts)
            and not path.relative_to(REPO).parts[0].endswith(".egg-info")
        ]
    return [path for path in files if path.is_file()]


def text_files() -> dict[Path, str]:
    texts = {}
    for path in tracked_files():
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def package_strings() -> list[tuple[Path, int, str]]:
    """Every string constant in ``qkit/`` (docstrings, messages, f-string parts)."""
    found = []
    for path in sorted((REPO / "qkit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((path, node.lineno, node.value))
    return found


@pytest.mark.parametrize(
    "text, bad",
    [
        ("pip install 'qkit[dask]'", True),
        ("install qkit[ibm] (qiskit-ibm-runtime) to use IBM backends", True),
        ("pip install qkit", True),
        ("python -m pip install -U qkit", True),
        ("uv add qkit", True),
        ('__version__ = version("qkit")', True),
        ("pip install 'qkit-comm[dask]'", False),
        ("install qkit-comm[ibm] to use IBM backends", False),
        ("pip install -e '.[ibm]'", False),
        ("pip install qiskit-aer", False),
        ("import qkit; from qkit[\\w.]* import x", False),
    ],
)
def test_the_hint_pattern_tells_bare_qkit_from_the_new_name(text, bad):
    assert bool(BARE_QKIT_HINT.search(text)) is bad


def test_no_file_or_message_tells_users_to_install_the_bare_qkit_distribution():
    offenders = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for path, text in text_files().items()
        if path.name != Path(__file__).name
        for match in BARE_QKIT_HINT.finditer(text)
    ]
    offenders += [
        f"{path.relative_to(REPO)}:{line}: {match.group()}"
        for path, line, value in package_strings()
        for match in BARE_QKIT_HINT.finditer(value)
    ]
    assert not offenders, "install hints naming the bare qkit distribution:\n" + "\n".join(
        offenders
    )


def test_the_scan_sees_the_package_and_its_messages():
    """Guard against a vacuous scan: the files and the strings it reads are really there."""
    names = {path.relative_to(REPO).as_posix() for path in text_files()}
    assert {"README.md", "pyproject.toml", "qkit/__init__.py", "qkit/mitigation.py"} <= names
    assert any("mthree" in value for _, _, value in package_strings())


def test_distribution_metadata_is_publishable():
    assert DIST != "qkit"
    assert "qkit" in PROJECT["scripts"], "the command stays `qkit`"
    assert PROJECT["license"] == "Apache-2.0"  # an SPDX expression, not the deprecated table
    assert PROJECT["license-files"] == ["LICENSE"]
    requires = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d|\d{3,})(\.\d+)*", r) for r in requires)
    license_text = (REPO / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert (REPO / "qkit" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["qkit"]
    # Extras refer to the distribution by its own name.
    for extra, requirements in PROJECT["optional-dependencies"].items():
        for requirement in requirements:
            if requirement.startswith("qkit"):
                assert requirement.startswith(f"{DIST}["), (extra, requirement)


def test_citation_file_cites_qkit_and_the_works_it_reproduces():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software" and cff["message"] and cff["title"]
    assert cff["version"] == VERSION and cff["license"] == PROJECT["license"]
    assert cff["authors"]
    references = {ref["title"].strip(): ref for ref in cff["references"]}
    titles = " | ".join(references)
    assert "arbitrarily inept delivery service" in titles  # paper A
    assert "Exploiting entanglement in communication channels with correlated noise" in titles
    assert "entanglement-enhanced classical communication" in titles  # the experiment
    for ref in cff["references"]:
        assert ref["type"] and ref["authors"] and ref["year"]
        assert ref.get("doi") or ref.get("url"), ref["title"]
        if "doi" in ref:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", str(ref["doi"]))
    dois = {str(ref.get("doi")) for ref in cff["references"]}
    assert "10.1103/PhysRevLett.92.257901" in dois


def test_changelog_has_the_release_and_an_unreleased_section():
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """No source tree on the path, no byte-code switch (setuptools warns about it), private
    results store and data directories."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    env.update(
        QKIT_STORE=str(tmp_path / "store.sqlite"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        MPLBACKEND="Agg",
    )
    return env


def _run(args: list[str], tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=tmp_path, env=_clean_env(tmp_path), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.mark.slow
def test_wheel_and_sdist_build_without_warnings_install_and_run(tmp_path):
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    log = built.stdout + built.stderr
    assert not [line for line in log.splitlines() if "warning" in line.lower()], log[-3000:]

    stem = f"{DIST.replace('-', '_')}-{VERSION}"
    (sdist,) = dist.glob(f"{stem}.tar.gz")
    (wheel,) = dist.glob(f"{stem}-*.whl")
    with tarfile.open(sdist) as archive:
        members = {name.removeprefix(f"{stem}/") for name in archive.getnames()}
    for needed in [
        "tests/conftest.py",
        "circuits/manifest.json",
        "notebooks/01_mixup_weak_entanglement.ipynb",
        "docs/physics.md",
        "benchmarks/README.md",
        "README.md",
        "LICENSE",
        "CITATION.cff",
        "CHANGELOG.md",
        "qkit/py.typed",
    ]:
        assert needed in members, needed
    assert not [m for m in members if "__pycache__" in m or ".ipynb_checkpoints" in m]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{stem}.dist-info/METADATA").decode()
    assert "qkit/py.typed" in names and f"{stem}.dist-info/licenses/LICENSE" in names
    assert f"Name: {DIST}\n" in metadata and "License-Expression: Apache-2.0\n" in metadata

    # A fresh environment that reuses the running one's installed dependencies (a plain path
    # entry: no download of qiskit, and none of that environment's .pth hooks, so an editable
    # qkit there stays invisible); qkit itself must come from the wheel.
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path
    )
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site.stdout.strip(), "zz_running_environment.pth").write_text("\n".join(deps) + "\n")
    install = _run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall",
         str(wheel)],
        tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    where = _run(
        [str(python), "-c", "import qkit; print(qkit.__file__); print(qkit.__version__)"], tmp_path
    )
    assert where.returncode == 0, where.stderr
    location, version = where.stdout.split()
    assert Path(location).resolve().is_relative_to(venv.resolve()), location
    assert version == VERSION

    qkit = str(venv / "bin" / "qkit")
    assert _run([qkit, "--version"], tmp_path).stdout.strip().endswith(VERSION)
    theory = _run([qkit, "theory", "mixup", "--success", "0.5", "--amplitude", "0.3"], tmp_path)
    assert theory.returncode == 0, theory.stderr
    assert re.search(r"concurrence\s+0\.2042817604\b", theory.stdout), theory.stdout
    run = _run(
        [
            qkit,
            "run",
            "mixup",
            "-S",
            "0.9",
            "-a",
            "0.7071",
            "--shots",
            "200",
            "--seed",
            "1",
            "--no-store",
        ],
        tmp_path,
        900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"^\s+concurrence\s+\S+\s+\S+", run.stdout, re.M), run.stdout
