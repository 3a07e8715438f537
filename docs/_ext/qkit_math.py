"""Formulas in the API reference rendered as maths.

The theory modules write their formulas as ASCII literals in the docstrings (``C = max(0, 2 S a
sqrt(1-a^2) - ...)``), which reads well in ``help()`` and an editor. On the site each such
literal becomes ``:math:`` (MathJax): greek names, ``sqrt(x)``, ``log2``, exponents,
subscripts, bras and kets, ``<=``, ``~``, ``⊗`` are translated to TeX. A literal is taken for a
formula only in :data:`MODULES` and only when it holds an operator and no word that is not
maths (so ``max_rounds``, ``ValueError`` or ``(yield, a, strength, rounds)`` stay code);
a translation whose braces do not balance stays a literal.
"""

from __future__ import annotations

import re

MODULES = ("qkit.mixup.theory", "qkit.channel.theory", "qkit.distill.theory", "qkit.measures")

_GREEK = (
    "alpha beta gamma delta epsilon eta theta lambda mu nu pi rho sigma tau phi chi psi omega "
    "Gamma Delta Theta Lambda Sigma Phi Psi Omega"
).split()
_FUNCTIONS = {"sqrt", "log", "log2", "log1p", "ln", "exp", "max", "min", "sum", "diag", "Tr"}
_FUNCTIONS |= {"cos", "sin", "dag", "Rx", "Ry", "Rz", "mean"}
_WORDS = {"singlet", "triplet", "outcome", "input", "hi", "lo", "out", "in", "SEP", "opt"}
_OPERATOR = re.compile(r"=|\^|<|>|~|⊗|\bsqrt|\blog|/|\+|±|\|")
_LITERAL = re.compile(r"``([^`]+)``")


def is_formula(text: str) -> bool:
    """Maths, not code: an operator, and every word is a symbol, a greek letter, a function."""
    if not _OPERATOR.search(text) or re.search(r"[\"`\\#&%$]|\.\.\.|\w\.\w", text):
        return False
    for word in re.findall(r"[A-Za-z]+", text):
        base = word.rstrip("0123456789")
        if len(word) <= 2 or base in _GREEK or base in _FUNCTIONS or base in _WORDS:
            continue
        if re.fullmatch(r"(sqrt|log)\d*", word):
            continue
        return False
    return not re.search(r"[A-Za-z]{2,}_[A-Za-z]{2,}", text.replace("rho_", "r_"))


def _balanced(text: str, open_: str = "(", close: str = ")") -> int | None:
    """Index of the bracket closing the one at ``text[0]``."""
    depth = 0
    for i, c in enumerate(text):
        depth += c == open_
        depth -= c == close
        if depth == 0:
            return i
    return None


def _sqrt(text: str) -> str:
    out, i = [], 0
    while (k := text.find("sqrt", i)) >= 0:
        out.append(text[i:k])
        rest = text[k + 4 :]
        if rest.startswith("("):
            end = _balanced(rest)
            if end is None:
                return text
            out.append(r"\sqrt{" + _sqrt(rest[1:end]) + "}")
            i = k + 4 + end + 1
        elif m := re.match(r"\d+|[A-Za-z]\b", rest):
            out.append(r"\sqrt{" + m.group(0) + "}")
            i = k + 4 + m.end()
        else:
            out.append(r"\sqrt{}")
            i = k + 4
    return "".join(out) + text[i:]


def to_tex(text: str) -> str:
    """An ASCII formula as TeX (see the module docstring)."""
    t = text
    t = t.replace("...", r"\ldots ")
    t = re.sub(r"<([^<>|]+)\|", r"\\langle \1|", t)  # bras, before <= and -> are replaced
    t = re.sub(r"\|([^<>|\\]+)>", r"|\1\\rangle ", t)  # kets
    for ascii_, tex in (
        ("<->", r" \leftrightarrow "),
        ("->", r" \to "),
        ("<=", r" \le "),
        (">=", r" \ge "),
        ("<<", r" \ll "),
        ("⊗", r" \otimes "),
        ("~", r" \approx "),
    ):
        t = t.replace(ascii_, tex)
    t = _sqrt(t)
    t = re.sub(r"(\w)\*\^(\w+)", r"\1^{*\2}", t)  # a*^2
    t = re.sub(r"(\w)\*(?! )", r"\1^{*}", t)  # a*, a*(S)
    t = t.replace(" * ", r" \cdot ")
    t = re.sub(r"\^max\b", r"^{\\max}", t)
    t = re.sub(r"\^dag\b", r"^\\dagger", t)
    t = re.sub(r"\^\(", "^{(", t)  # ^(...) -> ^{(...)}: closed below
    t = re.sub(r"\^([A-Za-z]+_\w+|\w+)", r"^{\1}", t)
    t = re.sub(r"\blog2\b", r"\\log_2 ", t)
    t = re.sub(r"\blog1p\b", r"\\operatorname{log1p}", t)
    t = re.sub(r"(?<!\\)\b(ln|log|exp|max|min|cos|sin)(?=\b|_)", r"\\\1", t)
    t = re.sub(r"(?<!\\)\b(diag|Tr)(?=\b|_)", r"\\operatorname{\1}", t)
    t = re.sub(r"\bsum_", r"\\sum_", t)
    t = re.sub(r"(?<!\\)\b(" + "|".join(_GREEK) + r")(?![A-Za-z])", r"\\\1", t)
    t = re.sub(r"\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b", r"\\text{\1}", t)
    t = re.sub(r"_([A-Za-z0-9+\-]{2,})", r"_{\1}", t)
    t = re.sub(r"\{\(([^{}]*)\)(?=[^}]*$|[^{}]*[ ,=])", r"{(\1)}", t)
    return _close_exponents(t)


def _close_exponents(t: str) -> str:
    """``^{(...)`` opened above gets its closing brace after the matching parenthesis."""
    out, i = [], 0
    while (k := t.find("^{(", i)) >= 0:
        out.append(t[i : k + 2])
        rest = t[k + 2 :]
        end = _balanced(rest)
        if end is None:
            return t
        out.append(rest[: end + 1] + "}")
        i = k + 2 + end + 1
    return "".join(out) + t[i:]


def _braces_ok(t: str) -> bool:
    depth = 0
    for c in t:
        depth += c == "{"
        depth -= c == "}"
        if depth < 0:
            return False
    return depth == 0


def formulas_as_math(line: str) -> str:
    """Every formula literal of a docstring line as ``:math:``."""

    def one(found: re.Match) -> str:
        text = found.group(1)
        if not is_formula(text):
            return found.group(0)
        tex = to_tex(text).strip()
        return f":math:`{tex}`" if _braces_ok(tex) else found.group(0)

    return _LITERAL.sub(one, line)


def _process(app, what, name, obj, options, lines) -> None:
    if not name.startswith(MODULES):
        return
    lines[:] = [formulas_as_math(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _process)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
