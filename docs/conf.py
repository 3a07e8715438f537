"""Sphinx configuration of the qkit documentation (``make docs``).

Everything generated comes from qkit itself at build time (``docs/_ext``): the API pages from
the packages' ``__all__``, the CLI reference from :func:`qkit.cli.build_parser`, the gallery from
``qkit reproduce --quick``, the phase-diagram data from ``qkit theory`` and ``qkit sweep``. The
notebooks of ``notebooks/`` are executed by myst-nb. MathJax is served from the build itself
(``sphinx-mathjax-offline``), so the site works offline and from ``file://``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))  # the qkit of this tree, also when it is not installed
sys.path.insert(0, str(DOCS / "_ext"))
os.environ["PYTHONPATH"] = os.pathsep.join(  # ... and in the notebook kernels
    [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
)
os.environ.setdefault("MPLBACKEND", "Agg")

import qkit  # noqa: E402

project = "qkit"
author = "the qkit authors"
copyright = "the qkit authors, Apache-2.0"
release = version = qkit.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
    "sphinx-mathjax-offline",  # MathJax 3 bundled into _static/mathjax: no CDN
    "qkit_api",
    "qkit_gallery",
    "qkit_phase",
    "qkit_math",  # the theory modules' ASCII formulas as maths in the API pages
]

# MathJax's SVG output needs no web fonts, which browsers may refuse to load over file://;
# set again at config-inited because sphinx-mathjax-offline's setup() picks tex-chtml.js
MATHJAX_PATH = "mathjax/tex-svg.js"
mathjax_path = MATHJAX_PATH

exclude_patterns = ["_build", "README.md", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["qkit_phase.css"]
html_theme = "furo"
html_title = f"qkit {release}"
html_last_updated_fmt = None
html_copy_source = False
html_show_search_summary = False  # summaries are fetch()ed, which file:// forbids

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Notebooks: executed at build time, cached between builds (keyed on their code cells)
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True  # anything a notebook writes lands in a temporary directory
# ...and the fake devices' cache (qkit.backends._cache) lives in the build, not the user's
# cache directory: a docs build leaves nothing behind outside docs/_build
os.environ.setdefault("QKIT_CACHE_DIR", str(DOCS / "_build" / ".qkit_cache"))
nb_merge_streams = True

autodoc_default_options = {"members": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autosummary_generate = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

suppress_warnings = ["myst.header"]


def _copy_notebooks(app, config) -> None:
    """Copy ``notebooks/*.ipynb`` into ``docs/notebooks`` (generated; a glob toctree picks up
    every notebook, also ones added later)."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    sources = {p.name: p for p in sorted((REPO / "notebooks").glob("*.ipynb"))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
    for name, source in sources.items():
        dest = target / name
        if not dest.exists() or dest.read_bytes() != source.read_bytes():
            shutil.copyfile(source, dest)


def _offline_mathjax(app, config) -> None:
    config.mathjax_path = MATHJAX_PATH


def _quiet_kernel() -> None:
    """The notebooks run in a ``python3`` kernel of this interpreter whose own log shows errors
    only: ipykernel warns "Kernel is running over TCP without encryption" at every start (six
    warnings a build, about the kernel's local socket, nothing a reader can act on; IPC would
    need the kernel manager's config, which myst-nb does not pass). The kernel spec lives in
    the build folder and is found first through ``JUPYTER_PATH``."""
    import json

    spec = DOCS / "_build" / ".jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {
        "argv": [*argv, "--IPKernelApp.log_level=ERROR"],
        "display_name": "Python 3 (qkit docs)",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(spec.parents[1]), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    )


def setup(app):
    import logging

    logging.getLogger("traitlets").setLevel(logging.WARNING)  # "Executing notebook with ..."
    _quiet_kernel()
    app.connect("config-inited", _copy_notebooks)
    app.connect("config-inited", _offline_mathjax)
smartquotes = False  # captions and commands appear exactly as qkit writes them
