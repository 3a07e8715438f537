"""Data of the interactive phase diagram, computed by qkit itself at build time.

- Paper A: ``qkit theory mixup --success S --amplitude A`` is run (through the CLI's own parser
  and command function, output captured) at every point of a grid with steps of 0.01, so a
  click shows exactly the text the command prints for the grid point it snaps to.
- Paper B: ``qkit theory channel --eta E`` at every eta in steps of 0.01.
- Sampled points: a small ``qkit sweep mixup`` and ``qkit sweep channel`` (CSV tables in
  ``docs/_build/phase``), shown with their intervals where they fall on the grid.

All of it runs in a background process (this file as a script) while the notebooks execute,
and only when a file under ``qkit/`` or this file has changed since the last build. The result
is copied to ``_static/qkit_phase_data.js`` (a script, not JSON fetched at run time,
so the page works from ``file://``). The page's JavaScript only finds the nearest grid point and
displays what is stored there.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from qkit_gallery import Background, qkit_env, source_key

STEP = 0.01
SUCCESSES = [round(0.01 * i, 2) for i in range(1, 101)]  # S in (0, 1]
AMPLITUDES = [round(0.01 * i, 2) for i in range(0, 101)]  # a in [0, 1]
ETAS = [round(0.01 * i, 2) for i in range(0, 101)]
SWEEPS = {
    "mixup": [
        "sweep",
        "mixup",
        "--success",
        "0.1:1:10",
        "--amplitude",
        "0.1:0.9:9",
        "--shots",
        "4000",
        "--seed",
        "7",
        "--no-store",
    ],
    "channel": [
        "sweep",
        "channel",
        "--eta",
        "0:1:11",
        "--inputs",
        "entangled,separable",
        "--alphabet",
        "two-slot",
        "--shots",
        "2000",
        "--seed",
        "7",
        "--no-store",
    ],
}


def _printed(parser, argv: list[str]) -> list[list[str]]:
    """``qkit argv`` as it prints: the ``key value`` rows under the title line."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        args = parser.parse_args(argv)
        code = args.func(args)
    if code:
        raise RuntimeError(f"qkit {' '.join(argv)} exited {code}")
    lines = buf.getvalue().splitlines()
    return [line.split(maxsplit=1) for line in lines[1:]], lines[0]


def theory_tables() -> dict:
    """Every grid point's ``qkit theory`` output, as the printed strings."""
    from qkit.cli import build_parser

    parser = build_parser()
    mixup, fields, title_a = [], None, ""
    for s in SUCCESSES:
        for a in AMPLITUDES:
            rows, title_a = _printed(
                parser, ["theory", "mixup", "--success", repr(s), "--amplitude", repr(a)]
            )
            fields = [k for k, _ in rows]
            mixup.append([v for _, v in rows])
    channel, cfields, title_b = [], None, ""
    for eta in ETAS:
        rows, title_b = _printed(parser, ["theory", "channel", "--eta", repr(eta)])
        cfields = [k for k, _ in rows]
        channel.append([v for _, v in rows])
    return {
        "mixup": {
            "success": SUCCESSES,
            "amplitude": AMPLITUDES,
            "fields": fields,
            "title": title_a,
            "values": mixup,
            "chsh_line": chsh_line(),
            "limits": {
                "success": refusal(["theory", "mixup", "--success", "1.5", "--amplitude", "0.3"]),
                "amplitude": refusal(["theory", "mixup", "--success", "0.5", "--amplitude", "1.5"]),
            },
        },
        "channel": {"eta": ETAS, "fields": cfields, "title": title_b, "values": channel},
    }


def chsh_line(points: int = 801) -> list[list[float] | None]:
    """The CHSH threshold ``S(a)`` (``qkit theory mixup-threshold``: ``success_chsh``) on a fine
    grid of ``a``, as ``[S, a]`` points (``None`` where no ``S <= 1`` violates): the page draws
    it as a smooth curve, not along the cells of the 0.01 grid."""
    import numpy as np

    from qkit.mixup import theory

    a = np.linspace(0.0, 1.0, points)
    s = theory.chsh_threshold(a)
    return [
        [round(float(si), 6), round(float(ai), 6)] if np.isfinite(si) else None
        for si, ai in zip(s, a, strict=True)
    ]


def refusal(argv: list[str]) -> dict:
    """How ``qkit`` refuses an out-of-range value: its one-line error (the probe value replaced
    by ``{}``) and the allowed interval parsed from it, for the page to refuse what the command
    line refuses, with the same words."""
    from qkit.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    line = err.getvalue().strip()
    found = re.search(r"must be in ([\[(])([^,]+), ([^\])]+)([\])]), got 1\.5$", line)
    if code != 2 or found is None:
        raise RuntimeError(f"qkit {' '.join(argv)} did not refuse 1.5 as expected: {line!r}")
    left, low, high, right = found.groups()
    return {
        "message": line.removesuffix("1.5") + "{}",
        "low": float(low),
        "high": float(high),
        "low_open": left == "(",
        "high_open": right == ")",
    }


def run_sweeps(repo: Path, out: Path) -> dict:
    """The two shipped sweeps (``qkit sweep ... --out``) as lists of row dicts."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {}
    for kind, argv in SWEEPS.items():
        table = out / f"{kind}.csv"
        table.unlink(missing_ok=True)
        subprocess.run(
            [sys.executable, "-m", "qkit.cli", *argv, "--out", str(table)],
            check=True,
            env=qkit_env(repo),
            cwd=repo,
            stdout=subprocess.DEVNULL,
        )
        with table.open(newline="") as fh:
            tables[kind] = {
                "command": "qkit " + " ".join(argv) + f" --out {kind}.csv",
                "rows": list(csv.DictReader(fh)),
            }
    return tables


def _estimates(tables: dict) -> dict:
    """Sampled estimates keyed by grid point (``"S,a"`` and ``"eta"`` with 2 decimals)."""
    mixup = {}
    for row in tables["mixup"]["rows"]:
        key = f"{float(row['success']):.2f},{float(row['amplitude']):.2f}"
        mixup[key] = {
            "chsh": [row["chsh"], row["chsh_stderr"]],
            **{
                q: [row[q], row[f"{q}_ci_low"], row[f"{q}_ci_high"], row[f"{q}_at_boundary"]]
                for q in ("fidelity", "concurrence", "eof")
            },
        }
    channel = {}
    for row in tables["channel"]["rows"]:
        key = f"{float(row['eta']):.2f}"
        channel.setdefault(key, {})[f"{row['inputs']} {row['alphabet']}"] = [
            row["mutual_information"],
            row["mutual_information_ci_low"],
            row["mutual_information_ci_high"],
            row["mutual_information_at_boundary"],
        ]
    return {
        "mixup": mixup,
        "channel": channel,
        "commands": {k: t["command"] for k, t in tables.items()},
    }


def write(repo: Path, out: Path) -> None:
    """Compute everything and write ``out/qkit_phase_data.js``."""
    data = theory_tables()
    data["samples"] = _estimates(run_sweeps(repo, out))
    js = "window.QKIT_PHASE = " + json.dumps(data, separators=(",", ":")) + ";\n"
    (out / "qkit_phase_data.js").write_text(js)


def _on_builder_inited(app) -> None:
    repo = Path(app.srcdir).parent
    out = Path(app.outdir).parent / "phase"
    argv = [sys.executable, __file__, str(out)]
    key = source_key(repo, [SWEEPS, Path(__file__).read_text()])
    app.qkit_phase = Background(argv, repo, out / "data.key", key, clean=out)


def _on_build_finished(app, exc) -> None:
    background = getattr(app, "qkit_phase", None)
    if background is None:
        return
    if exc is not None:
        if background.process is not None:
            background.process.kill()
        return
    background.wait()
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    src = Path(app.outdir).parent / "phase" / "qkit_phase_data.js"
    shutil.copyfile(src, static / "qkit_phase_data.js")


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # run in the background by the extension: python qkit_phase.py OUT
    write(Path(__file__).resolve().parents[2], Path(sys.argv[1]))
