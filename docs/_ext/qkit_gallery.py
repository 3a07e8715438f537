"""The gallery: every figure ``qkit reproduce --quick`` draws, with its caption and command.

When the build starts, ``qkit reproduce --quick --no-store`` is launched in the background into
``docs/_build/gallery`` (skipped while no file under ``qkit/`` has changed since the last run);
the notebooks execute meanwhile. The ``qkit-gallery`` directive waits for it, copies the PNGs
into ``docs/_generated/gallery`` and lays them out from the run's ``results.json`` (title,
caption, file names), so the gallery always shows what the command draws today.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

COMMAND = ["reproduce", "--quick", "--no-store", "--quiet"]


def source_key(repo: Path, extra: object = None) -> str:
    """A hash of every file under ``qkit/`` (and ``extra``): what a generated file depends on."""
    digest = hashlib.sha256(json.dumps(extra).encode())
    for path in sorted((repo / "qkit").rglob("*.py")):
        digest.update(str(path.relative_to(repo)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def qkit_env(repo: Path) -> dict[str, str]:
    """The environment of a ``python -m qkit.cli`` subprocess: this tree's qkit first."""
    path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg"}


class Background:
    """A command run in the background unless its output is up to date (``key`` stamp)."""

    def __init__(self, argv: list[str], repo: Path, stamp: Path, key: str, clean: Path | None):
        self.stamp, self.key, self.process, self.argv = stamp, key, None, argv
        if stamp.exists() and stamp.read_text() == key:
            return
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        logger.info("qkit docs: running %s", " ".join(argv[1:]))
        self.process = subprocess.Popen(argv, env=qkit_env(repo), cwd=repo)

    def wait(self) -> None:
        if self.process is not None:
            if self.process.wait() != 0:
                raise ExtensionError(f"{' '.join(self.argv[1:])} exited {self.process.returncode}")
            self.stamp.write_text(self.key)
            self.process = None


def escape(text: str) -> str:
    """Plain text as Markdown (no accidental markup): punctuation backslash-escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-!|$~" else c for c in text)


# The ASCII maths of figure titles, as TeX (longest first): "E_F^max(S)", "a = 1/sqrt2",
# "chi_2", "eta = 0.5", "S >= 0.08", "(S, a)"; the rest of a title stays escaped text.
_MATH = [  # (pattern, TeX with {1}, {2} for the pattern's groups)
    (r"E_F\^max\(S\)", r"E_F^{{\max}}(S)"),
    (r"E_F\^max", r"E_F^{{\max}}"),
    (r"\b([a-zA-Z]) = 1/sqrt ?2\b", r"{1} = 1/\sqrt{{2}}"),
    (r"1/sqrt ?2\b", r"1/\sqrt{{2}}"),
    (r"\bE_F\b", r"E_F"),
    (r"\bchi_(\d)\b", r"\chi_{1}"),
    (r"\beta = ([\d.]*\d)", r"\eta = {1}"),
    (r"\beta\b", r"\eta"),
    (r"\b([SaC]) >= ([\d.]*\d)", r"{1} \geq {2}"),
    (r"\b([SaC]) <= ([\d.]*\d)", r"{1} \leq {2}"),
    (r"\b([SaC]) = ([\d.]*\d)", r"{1} = {2}"),
    (r"\(S, a\)", r"(S, a)"),
]
_MATH_RE = re.compile("|".join(f"(?:{pattern})" for pattern, _ in _MATH))


def as_math(title: str) -> str:
    """A figure title as MyST Markdown with its formulas as inline maths (``$E_F^{max}(S)$``);
    ``$...$`` already in the title (matplotlib mathtext) is kept as maths."""
    out = []
    for k, part in enumerate(re.split(r"(\$[^$]+\$)", title)):
        if k % 2:  # mathtext from the figure code
            out.append(part)
            continue
        last = 0
        for found in _MATH_RE.finditer(part):
            text = found.group(0)
            for pattern, tex in _MATH:
                match = re.fullmatch(pattern, text)
                if match:
                    text = tex.format(None, *match.groups())
                    break
            out += [escape(part[last : found.start()]), f"${text}$"]
            last = found.end()
        out.append(escape(part[last:]))
    return "".join(out)


def _run(app) -> dict:
    """Wait for the reproduction; copy its PNGs into the source tree; its results.json."""
    app.qkit_gallery.wait()
    out = Path(app.outdir).parent / "gallery"
    run = json.loads((out / "results.json").read_text())
    target = Path(app.srcdir) / "_generated" / "gallery"
    target.mkdir(parents=True, exist_ok=True)
    for fig in run["figures"]:
        src, dest = out / fig["png"], target / fig["png"]
        if not dest.exists() or dest.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dest)
    return run


class GalleryDirective(Directive):
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        run = _run(env.app)
        env.note_dependency(str(Path(env.app.outdir).parent / "gallery" / "results.json"))
        env.note_dependency(__file__)
        lines = []  # MyST Markdown: the directive is used in a Markdown page
        for fig in run["figures"]:
            alt = " ".join(fig["title"].split())
            lines += [f"## {as_math(fig['title'])}", ""]
            lines += [f"```{{figure}} /_generated/gallery/{fig['png']}", f":alt: {alt}", ""]
            lines += [escape(fig["caption"]), "```", ""]
            lines += [
                "Drawn by `qkit reproduce --quick` (and, with more points and shots, by "
                f"`qkit reproduce`) as `{fig['png']}` and `{fig['pdf']}` in its output "
                "directory.",
                "",
            ]
        meta = run["meta"]
        lines += [
            "## About this run",
            "",
            f"Backend `{meta['backend']}`, master seed {meta['seed']}, mode "
            f"`{meta['mode']}`: sampling {meta['sampling_time_s']} s, figures "
            f"{meta['figures_time_s']} s.",
            "",
        ]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="qkit-gallery"), container)
        return container.children


class FigureDirective(Directive):
    """``{qkit-figure} NAME``: one figure of the same run (the home page shows one)."""

    required_arguments = 1
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        run = _run(env.app)
        env.note_dependency(str(Path(env.app.outdir).parent / "gallery" / "results.json"))
        figures = {fig["name"]: fig for fig in run["figures"]}
        if self.arguments[0] not in figures:
            raise self.error(
                f"qkit reproduce drew no figure {self.arguments[0]!r}: {list(figures)}"
            )
        fig = figures[self.arguments[0]]
        alt = " ".join(fig["title"].split())
        lines = [f"```{{figure}} /_generated/gallery/{fig['png']}", f":alt: {alt}", ""]
        lines += [as_math(fig["title"]) + " (drawn by `qkit reproduce --quick`)", "```", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="qkit-figure"), container)
        return container.children


def _on_builder_inited(app) -> None:
    repo = Path(app.srcdir).parent
    out = Path(app.outdir).parent / "gallery"
    argv = [sys.executable, "-m", "qkit.cli", *COMMAND, "--out", str(out)]
    stamp = Path(app.outdir).parent / "gallery.key"
    app.qkit_gallery = Background(argv, repo, stamp, source_key(repo, COMMAND), clean=out)


def _on_build_finished(app, exc) -> None:
    background = getattr(app, "qkit_gallery", None)
    if background is not None and background.process is not None:
        background.process.kill() if exc is not None else background.wait()


def setup(app):
    app.add_directive("qkit-gallery", GalleryDirective)
    app.add_directive("qkit-figure", FigureDirective)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
