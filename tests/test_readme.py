"""Every ``$ qkit ...`` example in the README prints what the README shows.

In a ``console`` block, each line starting with ``$ qkit`` is a command (a trailing ``# exit
code N`` comment sets its expected exit code, 0 otherwise) and the lines up to the next command
are its output, compared line by line: exactly, except that ``...`` inside a line stands for any
text and a line that is only ``...`` for any number of lines. Sampled examples carry their seed,
so their numbers are what that command prints.

Each command runs as a user runs it: in a fresh ``bash``, after the activation line the
README's set-up gives (``source .venv/bin/activate``, pointed at the environment running the
tests when the clone has no ``.venv`` of its own), typed as written, from an empty folder.
Progress lines (``qkit.progress``: the start and end lines of a long wait when stderr is not a
terminal, which a terminal never shows) are left out of the comparison.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from qkit import progress

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def examples() -> list[tuple[str, list[str], int]]:
    text = README.read_text()
    out = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                if current is not None:
                    out.append(current)
                command = line[2:]
                code = 0
                if "#" in command:
                    command, comment = command.split("#", 1)
                    found = re.search(r"exit code (\d+)", comment)
                    code = int(found.group(1)) if found else 0
                current = (command.strip(), [], code)
            elif current is not None:
                current[1].append(line)
        if current is not None:
            out.append(current)
    return out


def _matches(expected: list[str], got: list[str]) -> bool:
    while expected and not expected[-1].strip():
        expected = expected[:-1]  # the blank line before the next command
    pattern = "".join(
        r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line).replace(r"\.\.\.", ".*") + "\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(g + "\n" for g in got)) is not None


def _slow(command: str) -> bool:
    return not command.startswith("qkit theory")


EXAMPLES = examples()


def activation_line() -> str:
    """The line of the README's set-up that puts ``qkit`` on the PATH."""
    setup = README.read_text().split("## Set-up", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^source (\S*\.venv/bin/activate)\b", setup, flags=re.M)
    assert found, "the set-up does not say how to activate .venv"
    return found.group(0)


def _activation_for_this_environment() -> str:
    line = activation_line()
    if (REPO / ".venv" / "bin" / "activate").exists():  # a clone set up by make
        return f"cd {shlex.quote(str(REPO))} && {line}"
    activate = Path(sys.prefix) / "bin" / "activate"  # e.g. a shared environment elsewhere
    if not activate.exists():
        pytest.skip("the tests do not run in a virtual environment with bin/activate")
    return line.replace(".venv/bin/activate", shlex.quote(str(activate)), 1)


def test_the_readme_has_examples_of_every_kind():
    commands = [c for c, _, _ in EXAMPLES]
    assert any(c.startswith("qkit theory") for c in commands)
    assert any(c.startswith("qkit run") for c in commands)
    assert all(c.startswith("qkit ") for c in commands)


@pytest.mark.parametrize(
    "command, expected, code",
    [
        pytest.param(c, e, k, id=c[:70], marks=[pytest.mark.slow] if _slow(c) else [])
        for c, e, k in EXAMPLES
    ],
)
def test_readme_example_prints_what_the_readme_shows(command, expected, code, tmp_path):
    script = f"{_activation_for_this_environment()} && cd {shlex.quote(str(tmp_path))} && {command}"
    path = os.environ.get("PATH", "").split(os.pathsep)
    env = {  # as a fresh shell: no qkit on the PATH until the activation line puts it there
        **os.environ,
        "PATH": os.pathsep.join(d for d in path if d and not (Path(d) / "qkit").exists()),
        "QKIT_STORE": str(tmp_path / "store.sqlite"),
    }
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    lines = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if not line.startswith(progress.LINE_PREFIX)
    ]
    assert done.returncode == code, (command, lines)
    assert _matches(expected, lines), "\n".join([command, "expected:", *expected, "got:", *lines])
