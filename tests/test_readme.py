"""Every ``$ qkit ...`` example in the README prints what the README shows.

In a ``console`` block, each line starting with ``$ qkit`` is a command (a trailing ``# exit
code N`` comment sets its expected exit code, 0 otherwise) and the lines up to the next command
are its output, compared line by line: exactly, except that ``...`` inside a line stands for any
text and a line that is only ``...`` for any number of lines. Sampled examples carry their seed,
so their numbers are what that command prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from qkit.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


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
def test_readme_example_prints_what_the_readme_shows(
    command, expected, code, tmp_path, monkeypatch
):
    monkeypatch.setenv("QKIT_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)[1:]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            got_code = main(argv)
        except SystemExit as exc:
            got_code = exc.code
    lines = (stdout.getvalue() + stderr.getvalue()).splitlines()
    assert got_code == code, (command, lines)
    assert _matches(expected, lines), "\n".join([command, "expected:", *expected, "got:", *lines])
