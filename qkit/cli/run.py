"""``qkit run``: one sampled experiment, estimate beside prediction, saved in the results store."""

from __future__ import annotations

import argparse
import json
import sys

from qkit.cli._common import non_negative_int, number, positive_int


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shots", type=positive_int, default=4000, help="shots per measurement setting"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=None, help="seed (default: drawn and recorded)"
    )
    parser.add_argument(
        "--backend",
        default="aer",
        help="aer (default), fake:<device>, fake:list, ibm:<device>, braket:local, braket:<ARN>",
    )
    parser.add_argument(
        "--store", default=None, help="results database (default: $QKIT_STORE or the user data dir)"
    )
    parser.add_argument("--no-store", action="store_true", help="do not save the run")
    parser.add_argument(
        "--bootstrap", type=positive_int, default=None, help="bootstrap resamples for intervals"
    )
    parser.add_argument(
        "--mitigate",
        choices=["readout"],
        default=None,
        help="readout-error mitigation (device backends)",
    )
    parser.add_argument(
        "--realization",
        choices=["noise-model", "branch-mixture"],
        default=None,
        help="how the classical noise is realized (default: noise model on aer)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="submit, record the jobs and return; finish with 'qkit jobs fetch RUN_ID'",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="sample an experiment and estimate with error bars")
    sub = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    sub.required = True

    p = sub.add_parser("mixup", help="paper A: CHSH and tomography of the delivered pair")
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    p.add_argument("--amplitude", "-a", type=number, required=True, help="a in [0, 1]")
    _add_common(p)
    p.set_defaults(func=_run_mixup)

    p = sub.add_parser("channel", help="paper B: mutual information of the optimal ensemble")
    p.add_argument("--eta", type=number, required=True, help="eta in [0, 1]")
    p.add_argument("--inputs", default="entangled", help="entangled (default) or separable")
    p.add_argument("--alphabet", default="pair", help="pair (default) or two-slot")
    _add_common(p)
    p.set_defaults(func=_run_channel)


def _list_fake() -> int:
    from qkit.backends import list_fake_devices

    print("\n".join(f"fake:{d}" for d in list_fake_devices()))
    return 0


def _store(args: argparse.Namespace):
    if args.no_store:
        if args.no_wait:
            raise ValueError("--no-wait needs the results store (drop --no-store)")
        return None
    from qkit.store import ResultsStore

    return ResultsStore(args.store)


def _options(args: argparse.Namespace) -> dict:
    options = {
        "shots": args.shots,
        "seed": args.seed,
        "backend": args.backend,
        "mitigate": args.mitigate,
        "realization": args.realization,
        "store": _store(args),
        "wait": not args.no_wait,
    }
    if args.bootstrap is not None:
        options["n_boot"] = args.bootstrap
    return options


def finish(args: argparse.Namespace, result) -> int:
    """Print a Result (or a Pending submission) as JSON or a table."""
    record = result.to_dict()
    if args.json:
        print(json.dumps(record))
    elif "prediction" not in record:
        print(
            f"submitted run {record['run_id']} (jobs {', '.join(record['job_ids'])}); "
            f"finish it with: qkit jobs fetch {record['run_id']}"
        )
    else:
        _print_table(record)
    return 0


def _print_table(record: dict) -> None:
    params = {k: v for k, v in record.items() if k not in ("prediction", "estimate", "metadata")}
    print("  ".join(f"{k}={v}" for k, v in params.items()))
    prediction, estimate = record["prediction"], record["estimate"]
    print(f"  {'quantity':<20} {'prediction':>12} {'estimate':>12}  interval / stderr")
    for key, value in estimate.items():
        if not isinstance(value, dict) or "value" not in value:
            continue
        predicted = prediction.get(key, prediction.get("chsh_max" if key == "chsh" else "holevo"))
        spread = (
            f"± {value['stderr']:.4f}"
            if "stderr" in value
            else f"[{value['ci_low']:.4f}, {value['ci_high']:.4f}]"
        )
        extra = "  (at boundary: coverage not nominal)" if value.get("at_boundary") else ""
        shown = "-" if predicted is None else f"{predicted:.6f}"
        print(f"  {key:<20} {shown:>12} {value['value']:>12.6f}  {spread}{extra}")


def _interrupted(exc) -> int:
    """Ctrl-C while waiting on a durable run: say how to finish it (exit 130, like a shell)."""
    print(
        f"qkit: interrupted while waiting; run {exc.run_id} keeps running: "
        f"finish it with 'qkit jobs fetch {exc.run_id}'",
        file=sys.stderr,
    )
    return 130


def _run_mixup(args: argparse.Namespace) -> int:
    from qkit import runner
    from qkit.mixup import experiment

    if args.backend == "fake:list":
        return _list_fake()
    try:
        result = experiment.run(args.success, args.amplitude, **_options(args))
    except runner.Interrupted as exc:
        return _interrupted(exc)
    return finish(args, result)


def _run_channel(args: argparse.Namespace) -> int:
    from qkit import runner
    from qkit.channel import experiment

    if args.backend == "fake:list":
        return _list_fake()
    try:
        result = experiment.run(args.eta, args.inputs, args.alphabet, **_options(args))
    except runner.Interrupted as exc:
        return _interrupted(exc)
    return finish(args, result)
