"""Generate the API reference pages (``docs/api/``) from the packages' ``__all__``.

One page per public module: its docstring (``automodule``), a table of the names with the
first paragraph of their docstrings, and every name
in its ``__all__`` documented by autodoc under the module's own path. A name in ``__all__``
that is itself a module gets its own page. A module without ``__all__`` falls back to its
public submodules (packages) or to the public functions and classes it defines, so nothing
here is a hand-kept list of members. The pages are regenerated on every build (gitignored).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import qkit_math  # docs/_ext is on sys.path (docs/conf.py)

# The documented public modules; their members come from their own __all__.
PUBLIC_MODULES = [
    "qkit",
    "qkit.experiment",
    "qkit.registry",
    "qkit.pairs",
    "qkit.bits",
    "qkit.options",
    "qkit.engines",
    "qkit.mixup",
    "qkit.channel",
    "qkit.distill",
    "qkit.repeater",
    "qkit.measures",
    "qkit.noise",
    "qkit.estimators",
    "qkit.backends",
    "qkit.sweep",
    "qkit.store",
    "qkit.mitigation",
    "qkit.consent",
    "qkit.reproduce",
    "qkit.survey",
    "qkit.figures",
]


def public_names(module: ModuleType) -> list[str]:
    """The module's ``__all__``; without one, its public submodules or definitions."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    if hasattr(module, "__path__"):
        subs = [m.name for m in pkgutil.iter_modules(module.__path__) if not m.name.startswith("_")]
        if subs:
            return sorted(subs)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", None) == module.__name__
    ]


def _member(module: ModuleType, name: str):
    if hasattr(module, name):
        return getattr(module, name)
    return importlib.import_module(f"{module.__name__}.{name}")  # a submodule not yet imported


def _directive(obj) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or callable(obj):
        return "autofunction"
    return "autodata"


def _summary(obj) -> str:
    """The first paragraph of a function's or class's docstring, on one line."""
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return ""
    doc = inspect.getdoc(obj) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    if getattr(obj, "__module__", "").startswith(qkit_math.MODULES):
        return qkit_math.formulas_as_math(first)  # as on the function's own entry
    return first


def _page(module: ModuleType, documented: set[str]) -> tuple[str, list[ModuleType]]:
    name = module.__name__
    title = f"``{name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {name}", "   :no-members:", ""]
    lines += [f".. currentmodule:: {name}", ""]
    members, submodules = [], []
    for member in public_names(module):
        obj = _member(module, member)
        if inspect.ismodule(obj):
            submodules.append(obj)
        else:
            members.append((member, obj))
    own = [m for m in submodules if m.__name__ not in documented]
    if own:
        lines += [".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   {m.__name__}" for m in own] + [""]
    others = [m for m in submodules if m.__name__ in documented]
    if others:
        lines += ["Also: " + ", ".join(f":mod:`{m.__name__}`" for m in others) + ".", ""]
    pages = documented | {m.__name__ for m in own}
    if members:
        lines += [".. list-table::", "   :widths: 35 65", ""]
        for member, obj in members:
            home = _home(obj, name, pages)
            target = f"{home}.{member}" if home else member
            lines += [f"   * - :py:obj:`{member} <{target}>`", f"     - {_summary(obj)}"]
        lines += [""]
        for member, obj in members:
            if _home(obj, name, pages):
                continue  # documented on the page of the module it comes from
            if _directive(obj) == "autodata":  # an instance: its name and type, not its class
                kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
                lines += [f".. py:data:: {member}", f"   :type: {kind}", ""]
                lines += [f"   An instance of :py:class:`{kind}`.", ""]
                continue
            lines.append(f".. {_directive(obj)}:: {member}")
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                lines.append("   :members:")
            lines.append("")
    return "\n".join(lines), own


def _home(obj, page: str, pages: set[str]) -> str | None:
    """The page (not ``page``, never the top level) where ``obj`` is documented: the module
    that defines it if it has a page, else the public package it comes from."""
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return None
    origin = getattr(obj, "__module__", None) or ""
    if origin == page:
        return None
    if origin in pages:
        return origin
    homes = [
        m
        for m in PUBLIC_MODULES
        if m not in (page, "qkit") and (origin == m or origin.startswith(m + "."))
    ]
    return max(homes, key=len) if homes else None


def generate(outdir: Path) -> list[str]:
    """Write one ``.rst`` page per public module into ``outdir``; return the page names."""
    outdir.mkdir(parents=True, exist_ok=True)
    queue = [importlib.import_module(name) for name in PUBLIC_MODULES]
    documented = {m.__name__ for m in queue}
    pages = []
    while queue:
        module = queue.pop(0)
        text, more = _page(module, documented)
        for sub in more:
            documented.add(sub.__name__)
            queue.append(sub)
        path = outdir / f"{module.__name__}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        pages.append(module.__name__)
    for stale in outdir.glob("*.rst"):
        if stale.stem not in pages and stale.name != "index.rst":
            stale.unlink()
    index = ["API reference", "=============", ""]
    index += [
        "Generated from the docstrings of qkit's public modules: each page documents the names",
        "in the module's ``__all__``.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    index += [f"   {name}" for name in PUBLIC_MODULES] + [""]
    text = "\n".join(index)
    path = outdir / "index.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return pages


def _on_config(app, config) -> None:
    generate(Path(app.srcdir) / "api")


def setup(app):
    app.connect("config-inited", _on_config)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
