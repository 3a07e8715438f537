"""Every relative link in the Markdown files and the notebooks resolves inside the repository.

Users get the repository (or the sdist), nothing beside it: a link or a citation that points
outside it is broken for them. Only committed files count, so the test passes in a fresh clone:
a link into the pages ``make docs`` generates resolves to what generates them (``docs/api/`` to
the pages ``docs/_ext/qkit_api.py`` writes, ``docs/notebooks/`` to ``notebooks/``).
"""

from __future__ import annotations

import functools
import json
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.test_packaging import REPO, text_files

# Inline links and images ``[text](target "title")``, reference definitions ``[id]: target``
# and HTML ``href``/``src`` attributes.
_INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)"
)
_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
_HTML = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
_FENCE = re.compile(r"^(\s*)(```|~~~).*?^\1\2[^\S\n]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Where the physics used to live, beside the repository; it ships in docs/physics.md now.
_OUTSIDE = re.compile(r"\.\./shared\b|\bshared/PHYSICS|\bPHYSICS" r"\.md\b")


def markdown_sources() -> dict[str, str]:
    """Markdown text of every tracked ``.md`` file and of every notebook's markdown cells."""
    sources = {}
    for path, text in text_files().items():
        name = path.relative_to(REPO).as_posix()
        if path.suffix == ".md":
            sources[name] = text
        elif path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            for i, cell in enumerate(cells):
                if cell["cell_type"] == "markdown":
                    sources[f"{name}#cell{i}"] = "".join(cell["source"])
    return sources


def link_targets(markdown: str) -> list[str]:
    """Link targets in a Markdown text, code blocks and code spans left out."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", markdown))
    return [
        m.group(1) for pattern in (_INLINE, _DEFINITION, _HTML) for m in pattern.finditer(prose)
    ]


@functools.cache
def generated_api_pages() -> frozenset[str]:
    """Names of the pages the docs build writes into ``docs/api/`` (generated here, in a
    temporary folder, by the same code)."""
    sys.path.insert(0, str(REPO / "docs" / "_ext"))
    try:
        import qkit_api
    finally:
        sys.path.remove(str(REPO / "docs" / "_ext"))
    with tempfile.TemporaryDirectory() as out:
        qkit_api.generate(Path(out))
        return frozenset(p.name for p in Path(out).iterdir())


def _exists(resolved: Path) -> bool:
    """A committed file, or a page the docs build generates from committed files."""
    if resolved.exists():
        return True
    relative = resolved.relative_to(REPO.resolve()).parts
    if relative[:2] == ("docs", "notebooks") and len(relative) == 3:
        return (REPO / "notebooks" / relative[2]).exists()  # copied by docs/conf.py
    if relative[:2] == ("docs", "api") and len(relative) == 3:
        return relative[2] == "index.rst" or relative[2] in generated_api_pages()
    return False


def broken_links(source: str, markdown: str) -> list[str]:
    """Relative targets that are missing or leave the repository, as ``source -> target``."""
    base = (REPO / source.split("#cell")[0]).parent
    broken = []
    for target in link_targets(markdown):
        if _SCHEME.match(target) or target.startswith("#"):
            continue  # a URL (checked by nobody offline) or an anchor on the same page
        path = unquote(target.split("#")[0].split("?")[0])
        resolved = (REPO / path.lstrip("/") if path.startswith("/") else base / path).resolve()
        if not resolved.is_relative_to(REPO.resolve()) or not _exists(resolved):
            broken.append(f"{source} -> {target}")
    return broken


def test_link_parser_finds_links_and_ignores_code():
    text = (
        'See [the guide](docs/physics.md#paper-a), ![fig](img/a.png "A"),\n'
        "<a href='x.html'>x</a>.\n"
        "[ref]: ../shared/PHYSICS.md\n"
        "`[not](a-link)` and\n```\n[nor](this)\n```\n[web](https://example.org) [anchor](#top)\n"
    )
    assert link_targets(text) == [
        "docs/physics.md#paper-a",
        "img/a.png",
        "https://example.org",
        "#top",
        "../shared/PHYSICS.md",
        "x.html",
    ]


def test_broken_and_outside_links_are_reported():
    text = (
        "[ok](docs/physics.md) [gone](docs/nothing.md) [out](../shared/PHYSICS.md) [w](https://x.y)"
    )
    assert broken_links("README.md", text) == [
        "README.md -> docs/nothing.md",
        "README.md -> ../shared/PHYSICS.md",
    ]
    assert broken_links("docs/physics.md", "[up](../README.md) [self](physics.md#x)") == []


@pytest.mark.slow  # generating the API pages imports every public module: ~10 s
def test_links_into_generated_pages_resolve_to_their_sources():
    """``make docs`` writes docs/api/ and docs/notebooks/: a fresh clone has neither."""
    text = (
        "[api](api/index.rst) [mod](api/qkit.mixup.rst)"
        " [nb](notebooks/05_your_own_experiment.ipynb) [bad](api/qkit.nothing.rst)"
        " [bad nb](notebooks/99_none.ipynb)"
    )
    assert broken_links("docs/index.md", text) == [
        "docs/index.md -> api/qkit.nothing.rst",
        "docs/index.md -> notebooks/99_none.ipynb",
    ]


def test_every_relative_link_in_markdown_and_notebooks_resolves_inside_the_repository():
    sources = markdown_sources()
    assert "README.md" in sources and "docs/physics.md" in sources
    assert any(name.startswith("notebooks/") for name in sources)
    assert "docs/physics.md" in link_targets(sources["README.md"])
    broken = [link for name, text in sources.items() for link in broken_links(name, text)]
    assert not broken, "broken relative links:\n" + "\n".join(broken)


@pytest.mark.parametrize("bad", ["../shared/PHYSICS.md", "see PHYSICS.md, paper B"])
def test_outside_pattern_catches_citations_of_the_old_location(bad):
    assert _OUTSIDE.search(bad)


def test_no_file_cites_the_physics_outside_the_repository():
    """Docstrings and prose cite docs/physics.md, which ships, not a file beside the repo."""
    offenders = [
        f"{path.relative_to(REPO)}: {match.group()}"
        for path, text in text_files().items()
        if path.name != Path(__file__).name
        for match in _OUTSIDE.finditer(text)
    ]
    assert not offenders, "\n".join(offenders)
