"""``report.md``, ``report.html`` and ``results.json`` of a reproduction.

Both reports are rendered from one list of blocks (headings, paragraphs, tables, figures), so
they say the same thing. The HTML references the PNGs beside it by relative path: the output
directory opens as it is, or zipped, with no network.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from qkit._files import write_atomic
from qkit.reproduce._headline import Z_95, covers, point_label, significant, test_rows

_SIGNIFICANT = 3.0  # deviations beyond this many sigma are set in bold


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "-"
    x = float(x)
    if x != 0 and abs(x) < 10 ** -(digits - 1):
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def _deviation(row: dict[str, Any]) -> str:
    dev = row["deviation"]
    if dev is None:
        return "n/a"
    if row["at_boundary"]:  # a one-sided interval: judged by containment, not in sigmas
        return "-"
    text = f"{dev:+.2f}"
    return f"**{text}**" if significant(row, _SIGNIFICANT) else text


def _interval(row: dict[str, Any]) -> str:
    if row["sigma_from"] == "stderr":
        return f"± {_num(row['sigma'])} (s.e.)"
    return f"[{_num(row['ci_low'])}, {_num(row['ci_high'])}]"


def _note(row: dict[str, Any]) -> str:
    if row["at_boundary"]:
        inside = covers(row)
        if inside is None:
            return "boundary"
        return "boundary, " + ("contains prediction" if inside else "**excludes prediction**")
    if row["deviation"] is None:
        return "zero-width interval, excludes prediction"
    if row.get("ci_low") is not None and row["ci_low"] == row["ci_high"]:
        return "exactly known (every shot agreed: zero-width interval)"
    return ""


def _headline_table(rows: list[dict[str, Any]]) -> tuple:
    headers = ["id", "point", "quantity", "prediction", "estimate", "95% interval / s.e."]
    headers += ["sigma", "deviation (sigma)", "note"]
    body = [
        [
            r["id"],
            r["point"],
            r["quantity"],
            _num(r["prediction"]),
            _num(r["estimate"]),
            _interval(r),
            _num(r["sigma"]),
            _deviation(r),
            _note(r),
        ]
        for r in rows
    ]
    return ("table", headers, body)


def _runs_table(records: list[dict[str, Any]]) -> tuple:
    headers = ["id", "point", "seed", "shots", "realization", "2q gates", "wall time (s)", "run id"]
    body = []
    for r in records:
        meta = r.get("metadata") or {}
        stats = [s for family in (meta.get("transpiled") or {}).values() for s in family]
        gates = max((s.get("two_qubit_gates", 0) for s in stats), default=None)
        body.append(
            [
                r["id"],
                point_label(r),
                str(r["seed"]),
                str(r["shots"]),
                str((meta.get("options") or {}).get("realization", "-")),
                "-" if gates is None else str(gates),
                _num(meta.get("wall_time_s"), 2),
                f"`{r['run_id']}`" if r.get("run_id") else "-",
            ]
        )
    return ("table", headers, body)


def _beyond_sentence(summ: dict[str, Any]) -> str:
    """The summary's last sentence, naming exactly the rows the tables set in bold."""
    parts = []
    if summ["beyond_3_sigma"]:
        parts.append(
            f"Beyond {_SIGNIFICANT:g} sigma (bold in the tables): "
            + "; ".join(summ["beyond_3_sigma"])
            + "."
        )
    else:
        parts.append(f"No regular number lies beyond {_SIGNIFICANT:g} sigma.")
    outside = summ.get("boundary_outside") or []
    if outside:
        parts.append(
            "Boundary numbers whose interval excludes the prediction: " + "; ".join(outside) + "."
        )
    elif summ["at_boundary"]:
        parts.append("Every boundary number's interval contains its prediction.")
    return " ".join(parts)


def _within_sentence(summ: dict[str, Any]) -> str:
    """``"; as expected"`` or the one-line comments where a fraction is off (older runs: "")."""
    if "within_comments" not in summ:
        return ""
    comments = summ["within_comments"]
    return "; " + ("; ".join(comments) if comments else "all three as expected")


def _error_bars(records: list[dict[str, Any]]) -> str:
    """How the intervals were made, from what every point's estimators recorded."""
    from qkit.result import describe_intervals

    return describe_intervals([(r.get("metadata") or {}).get("intervals") for r in records])


def _p_value(p: Any, sigma: Any) -> str:
    if p is None:
        return "-"
    text = f"{float(p):.2g}"
    if sigma is not None and np.isfinite(float(sigma)):
        text += f" ({float(sigma):.1f} sigma)"
    return text


def _tests_table(rows: list[dict[str, Any]]) -> tuple:
    headers = ["id", "point", "C (predicted)", "C lower bound", "p(C = 0)", "C upper bound"]
    headers += ["CHSH (predicted)", "CHSH lower bound", "p(CHSH <= 2)", "CHSH upper bound"]
    headers += ["p(CHSH >= 2)"]
    body = [
        [
            r["id"],
            r["point"],
            _num(r["predicted_concurrence"]),
            _num(r["concurrence_lower_bound"]),
            _p_value(r["entangled_p_value"], r["entangled_sigma"]),
            _num(r.get("concurrence_upper_bound")),
            _num(r["predicted_chsh"]),
            _num(r["chsh_lower_bound"]),
            _p_value(r["violation_p_value"], r["violation_sigma"]),
            _num(r.get("chsh_upper_bound")),
            _p_value(r.get("no_violation_p_value"), r.get("no_violation_sigma")),
        ]
        for r in rows
    ]
    return ("table", headers, body)


def blocks(run: dict[str, Any]) -> list[tuple]:
    """The report as blocks: ``("h", level, text)``, ``("p", text)``, ``("table", headers,
    rows)``, ``("figure", png, pdf, title, caption)``."""
    meta, summ, rows = run["meta"], run["summary"], run["headline"]
    out: list[tuple] = [
        ("h", 1, "qkit reproduce: both papers, predicted and sampled"),
        (
            "p",
            f"Mode **{meta['mode']}** on backend `{meta['backend']}`, master seed "
            f"{meta['seed']}, finished {meta['finished_utc']} in {meta['wall_time_s']:.1f} s "
            f"(sampling {meta['sampling_time_s']:.1f} s, figures {meta['figures_time_s']:.1f} s). "
            f"Command: `{meta['command']}`.",
        ),
        ("h", 2, "Agreement at a glance"),
        (
            "p",
            f"{summ['numbers']} headline numbers. Of the {summ['compared']} with a regular "
            f"interval, {summ['within_1_sigma']} lie within 1 sigma, {summ['within_2_sigma']} "
            f"within 2 sigma and {summ['within_3_sigma']} within 3 sigma of the prediction "
            "(sigma from the side of each interval facing the prediction, so within 2 sigma "
            "means inside the 95% interval; expect about 68%, 95% and 99.7%"
            + _within_sentence(summ)
            + f"). {summ['at_boundary']} numbers are marked *boundary*: the true value sits on "
            "the edge of the physical range (C = E_F = 0, or C = E_F = f = 1 for the pure pairs "
            "at S = 1, CHSH at Tsirelson's bound, no information or a noiseless channel, or a "
            "probability 0 or 1), where the estimate can only err inward: their interval is "
            "one-sided (a lower or an upper limit), so they are judged by whether it contains "
            "the prediction, not counted in sigmas (their deviation reads -). "
            + _beyond_sentence(summ),
        ),
        (
            "p",
            "How to read the table: *prediction* is the exact theory of the ideal experiment; "
            "*estimate* is computed from the sampled counts. *sigma* is the standard error for "
            "CHSH values and, for quantities with a 95% interval, the interval's half-width "
            f"on the side facing the prediction divided by {Z_95:.2f} (the standard deviation "
            "a normal estimate with that interval would have). *deviation* = (estimate - "
            "prediction) / sigma; values beyond "
            f"{_SIGNIFICANT:g} sigma are in bold. On a device backend the predictions still "
            "describe the noiseless channel, so device noise shows up as deviation.",
        ),
    ]
    tests = test_rows(run["points"])
    if tests:
        out += [("h", 2, "Entanglement and nonlocality as tests (paper A)"), _tests_table(tests)]
        out.append(
            (
                "p",
                "*C lower bound*: one-sided 95% lower confidence bound of the concurrence "
                "(Hoeffding's inequality on a linear witness: valid at any number of shots); "
                "*p(C = 0)*: p-value of the separable hypothesis, with its one-sided normal "
                "quantile (sigma); *C upper bound*: one-sided 95% upper bound. *CHSH lower "
                "bound*, *p(CHSH <= 2)*, *CHSH upper bound* and *p(CHSH >= 2)* (small: the pair "
                "does not violate): finite-sample bounds valid for any local model (binomial "
                "tail of the CHSH wins, Elkouss and Wehner, npj Quantum Inf. 2, 16026 (2016)), "
                "not a count of standard errors. A one-sided bound is never inside its two-sided "
                "interval.",
            )
        )
    for paper, title in (
        ("A", "Paper A: entanglement distribution under mix-up"),
        ("B", "Paper B: channel with correlated polarization noise"),
        ("beyond", "beyond the papers: one DEJMPS round on two mixed-up pairs"),
    ):
        paper_rows = [r for r in rows if r["paper"] == paper]
        if paper_rows:
            out += [("h", 2, f"Headline numbers, {title}"), _headline_table(paper_rows)]
    out.append(("h", 2, "Figures"))
    for fig in run["figures"]:
        out.append(("figure", fig["png"], fig["pdf"], fig["title"], fig["caption"]))
    out += [
        ("h", 2, "Run metadata"),
        (
            "table",
            ["setting", "value"],
            [
                ["mode", meta["mode"]],
                ["backend", f"`{meta['backend']}`"],
                ["master seed (per-point seeds derived from it)", str(meta["seed"])],
                ["shots per setting, paper A (13 settings/point)", str(meta["shots"]["mixup"])],
                ["shots per letter, paper B", str(meta["shots"]["channel"])],
            ]
            + (
                [["shots per setting, beyond (9 settings/point)", str(meta["shots"]["distill"])]]
                if "distill" in meta["shots"]
                else []
            )
            + (
                [
                    [
                        "shots per setting, repeater chains (13 settings/point)",
                        str(meta["shots"]["chain"]),
                    ]
                ]
                if "chain" in meta["shots"]
                else []
            )
            + [
                ["error bars", _error_bars(run["points"])],
                ["confidence level", f"{meta['confidence']:g}"],
                ["experiments", str(len(run["points"]))],
                ["wall time (s)", f"{meta['wall_time_s']:.1f}"],
                ["results store", f"`{meta['store']}`" if meta["store"] else "not saved"],
            ]
            + [[f"version: {k}", v] for k, v in meta["versions"].items()],
        ),
        ("h", 3, "Experiments"),
        _runs_table(run["points"]),
        (
            "p",
            "Raw counts, full estimates (including the reconstructed states) and per-run "
            "metadata are in `results.json`.",
        ),
    ]
    return out


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def to_markdown(parts: list[tuple]) -> str:
    lines: list[str] = []
    for block in parts:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            headers, body = block[1], block[2]
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "|".join("---" for _ in headers) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
            lines.append("")
        elif kind == "figure":
            png, pdf, title, caption = block[1:]
            lines += [f"### {title}", "", f"![{title}]({png})", "", f"{caption} ([PDF]({pdf}))", ""]
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Escape, then the two markdown marks the report uses: ``**bold**`` and ```code```."""
    out = html.escape(str(text), quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`(.+?)`", r"<code>\1</code>", out)
    return re.sub(r"(?<![\w*])\*(\w[^*]*?)\*(?![\w*])", r"<em>\1</em>", out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
th { background: #f2f2f2; position: sticky; top: 0; }
td:nth-child(n+4) { font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #444; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def to_html(parts: list[tuple]) -> str:
    title = next(b[2] for b in parts if b[0] == "h")
    body: list[str] = []
    for block in parts:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "figure":
            png, pdf, fig_title, caption = block[1:]
            body.append(
                f'<figure id="{html.escape(Path(png).stem)}"><h3>{_inline(fig_title)}</h3>'
                f'<a href="{html.escape(png)}"><img src="{html.escape(png)}" '
                f'alt="{html.escape(fig_title)}"></a>'
                f'<figcaption>{_inline(caption)} <a href="{html.escape(pdf)}">PDF</a></figcaption>'
                "</figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write(out_dir: Path, run: dict[str, Any]) -> list[Path]:
    """Write ``results.json``, ``report.md`` and ``report.html`` into ``out_dir``."""
    parts = blocks(run)
    paths = [out_dir / "results.json", out_dir / "report.md", out_dir / "report.html"]
    texts = [json.dumps(run, indent=1, allow_nan=False) + "\n", to_markdown(parts), to_html(parts)]
    for path, text in zip(paths, texts, strict=True):
        write_atomic(path, text, overwrite=True)  # a link in the folder is replaced, not followed
    return paths
