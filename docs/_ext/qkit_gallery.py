"""The gallery: every figure ``qkit reproduce --quick`` draws, with its caption and command.

At build time this runs ``qkit reproduce --quick --no-store`` once into
``docs/_build/gallery`` (reused while no file under ``qkit/`` changes), copies the PNGs into
``docs/_generated/gallery`` and the ``qkit-gallery`` directive lays them out from the run's
``results.json`` (title, caption, file names), so the gallery always shows what the command
draws today.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

COMMAND = ["reproduce", "--quick", "--no-store", "--quiet"]


def source_key(repo: Path) -> str:
    """A hash of every file under ``qkit/``: the gallery is redrawn when any changes."""
    digest = hashlib.sha256()
    for path in sorted((repo / "qkit").rglob("*.py")):
        digest.update(str(path.relative_to(repo)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def draw(repo: Path, out: Path) -> dict:
    """Run the command into ``out`` (unless an up-to-date run is there); its results.json."""
    key = source_key(repo)
    stamp = out / ".source-key"
    if not (stamp.exists() and stamp.read_text() == key and (out / "results.json").exists()):
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
        logger.info("qkit gallery: running qkit %s --out %s", " ".join(COMMAND), out)
        subprocess.run(
            [sys.executable, "-m", "qkit.cli", *COMMAND, "--out", str(out)],
            check=True, env=env, cwd=repo, stdout=subprocess.DEVNULL,
        )
        stamp.write_text(key)
    return json.loads((out / "results.json").read_text())


def escape(text: str) -> str:
    """Plain text as reStructuredText (no accidental markup)."""
    text = text.replace("\\", "\\\\")
    for char in "*`_|[]":
        text = text.replace(char, "\\" + char)
    return text


class GalleryDirective(Directive):
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        run = env.app.config.qkit_gallery_run
        lines = []
        for fig in run["figures"]:
            title = escape(fig["title"])
            lines += [title, "-" * len(title), ""]
            lines += [f".. figure:: /_generated/gallery/{fig['png']}", f"   :alt: {title}", ""]
            lines += [f"   {escape(fig['caption'])}", ""]
            lines += [
                "Drawn by ``qkit reproduce --quick`` (and, with more points and shots, by "
                f"``qkit reproduce``) as ``{fig['png']}`` and ``{fig['pdf']}`` in its output "
                "directory.",
                "",
            ]
        meta = run["meta"]
        lines += [
            "About this run",
            "--------------",
            "",
            f"Backend ``{meta['backend']}``, seed {meta['seed']}, mode ``{meta['mode']}``, "
            f"sampling {meta['sampling_time_s']} s, figures {meta['figures_time_s']} s.",
            "",
        ]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="qkit-gallery"), container)
        return container.children


def _on_builder_inited(app) -> None:
    repo = Path(app.srcdir).parent
    run = draw(repo, Path(app.outdir).parent / "gallery")
    target = Path(app.srcdir) / "_generated" / "gallery"
    target.mkdir(parents=True, exist_ok=True)
    source = Path(app.outdir).parent / "gallery"
    for fig in run["figures"]:
        src, dest = source / fig["png"], target / fig["png"]
        if not dest.exists() or dest.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dest)
    app.config.qkit_gallery_run = run


def setup(app):
    app.add_config_value("qkit_gallery_run", {}, "env")
    app.add_directive("qkit-gallery", GalleryDirective)
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
