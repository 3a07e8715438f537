"""``qkit run``: one sampled experiment, estimate beside prediction, saved in the results store."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from qkit.cli._common import add_consent_flags, number, print_json
from qkit.cli._experiments import add_command

if TYPE_CHECKING:
    from qkit.result import Result
    from qkit.runner import Pending


RUN_FLAGS = (
    "shots",
    "seed",
    "backend",
    "engine",
    "store",
    "intervals",
    "n_boot",
    "confidence",
    "mitigate",
    "realization",
    "layout",
)
"""The :class:`qkit.options.RunOptions` flags of ``qkit run`` (one spelling and help each)."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    from qkit import options

    options.add_flags(parser, RUN_FLAGS)
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="submit, record the jobs and return; finish with 'qkit jobs fetch RUN_ID'",
    )
    parser.add_argument(
        "--agreement",
        choices=options.AGREEMENTS,
        default=None,
        help="prediction the 'agrees' column compares with: device (the device noise model for "
        "the chosen layout; default on devices) or ideal (default on aer)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_concurrence_below(parser)


def add_concurrence_below(parser: argparse.ArgumentParser) -> None:
    """``--concurrence-below C``: test the claim ``C < c`` (mix-up runs)."""
    parser.add_argument(
        "--concurrence-below",
        metavar="C",
        type=_concurrence,
        default=None,
        help="also test the claim 'concurrence < C' (p-value of C >= c; default c = 0.5)",
    )


def _concurrence(text: str) -> float:
    value = number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a concurrence in [0, 1], got {text}")
    return value


def add_parameters(parser: argparse.ArgumentParser, experiment, *, ranges: bool = False) -> None:
    """One flag per parameter of ``experiment`` (a range or list of values when ``ranges``)."""
    for param in experiment.params:
        flags = [f"--{param.name}", *param.flags]
        if param.choices:
            help_ = param.help + (" (or a comma list)" if ranges else "")
            default = param.default
            if ranges and param.name == "inputs":  # sweeps compare both encodings by default
                default = ",".join(param.choices)
                help_ = f"{', '.join(param.choices)} or both (comma; default both)"
            kwargs = {} if ranges else {"choices": param.choices}
            parser.add_argument(*flags, default=default, help=help_, **kwargs)
        elif ranges:
            parser.add_argument(
                *flags,
                required=param.default is None,
                default=None if param.default is None else str(param.default),
                help=f"{param.help}: start:stop:count (ends included) or a comma list",
            )
        else:
            parser.add_argument(
                *flags,
                type=number,
                required=param.default is None,
                default=param.default,
                help=param.help,
            )


def register(subparsers: argparse._SubParsersAction) -> None:
    help_ = "sample an experiment and estimate with error bars"
    add_command(subparsers, "run", help_, _add_experiment)  # one subcommand per experiment


def _add_experiment(sub: argparse._SubParsersAction, exp) -> None:
    p = sub.add_parser(exp.name, help=exp.title)
    add_parameters(p, exp)
    _add_common(p)
    add_consent_flags(p)  # lazily added experiments get them too
    p.set_defaults(func=_run, experiment_name=exp.name)


def _list_fake() -> int:
    from qkit.backends import describe_fake_devices

    print("\n".join(_fake_line(d) for d in describe_fake_devices()))
    return 0


def _fake_line(device: dict) -> str:
    """``fake:fez          Heron r2     156 qubits``: name, processor family, size."""
    family = device["family"] or "-"
    if device["family"] and device["revision"] is not None:
        family += f" r{device['revision']}"
    n = device["num_qubits"]
    qubits = f"{n:>4} qubit{'s' if n != 1 else ''}" if n else "   ? qubits"
    return f"fake:{device['name']:<16} {family:<12} {qubits}"


def finish(args: argparse.Namespace, result) -> int:
    """Print a Result (or a Pending submission) as JSON or a table."""
    record = result.to_dict()
    if "prediction" in record:
        retest_concurrence(record, result.counts, getattr(args, "concurrence_below", None))
    if args.json:
        print_json(record)
    elif "prediction" not in record:
        print(
            f"submitted run {record['run_id']} (jobs {', '.join(record['job_ids'])}); "
            f"finish it with: qkit jobs fetch {record['run_id']}"
        )
    else:
        _print_table(record, _targets(result.kind), getattr(args, "agreement", None))
    return 0


def _targets(kind: str) -> dict:
    from qkit import experiment as definitions

    try:
        return dict(definitions.get(kind).targets)
    except ValueError:  # a run of an experiment this process does not know
        return {}


def _print_table(record: dict, targets: dict, agreement: str | None = None) -> None:
    from qkit import options

    params = {k: v for k, v in record.items() if k not in ("prediction", "estimate", "metadata")}
    print("  ".join(f"{k}={'-' if v is None else v}" for k, v in params.items()))
    metadata = record.get("metadata") or {}
    prediction, estimate = record["prediction"], record["estimate"]
    device = metadata.get("prediction_device")
    against = options.resolve_agreement(agreement, str(record.get("backend", "aer")))
    if against == "device" and device is None:
        against = "ideal"  # a device without a noise model: nothing else to compare with
    layout = metadata.get("layout")
    if layout:
        print(
            f"  layout: qubits {layout.get('used')} ({layout.get('mode')}"
            + (f", from {layout['source']}" if layout.get("source") else "")
            + ")"
        )
    head = f"  {'quantity':<20} {'prediction':>12}"
    if device is not None:
        head += f" {'device':>12}"
    print(f"{head} {'estimate':>12}  {'agrees':<6}  interval ({against} prediction)")
    tests = []
    for key, value in estimate.items():
        if not isinstance(value, dict) or "value" not in value:
            continue
        name = targets.get(key, key)
        predicted = prediction.get(name)
        line = f"  {key:<20} {_number(predicted):>12}"
        if device is not None:
            line += f" {_number(device.get(name)):>12}"
        compared = device.get(name) if device is not None and against == "device" else predicted
        print(
            f"{line} {_number(value['value']):>12}  {_agrees(compared, value):<6}  {_spread(value)}"
        )
        tests += _test_lines(key, value)
    if tests:
        print(f"  {'one-sided test':<20} {'95% bound':>12} {'p-value':>12}  significance")
        for line in tests:
            print(line)


def _agrees(predicted, value: dict) -> str:
    low, high = value.get("ci_low"), value.get("ci_high")
    if predicted is None or low is None or high is None:
        return "-"
    return "yes" if low <= predicted <= high else "no"


def _number(x) -> str:
    return "-" if x is None else f"{x:.6f}"


def _spread(value: dict) -> str:
    """The interval (or ± stderr without one) and a note where coverage is one-sided."""
    if value.get("ci_low") is not None and value.get("ci_high") is not None:
        text = f"[{value['ci_low']:.4f}, {value['ci_high']:.4f}]"
    elif value.get("stderr") is not None:
        text = f"± {value['stderr']:.4f}"
    else:
        text = "-"
    if value.get("at_boundary"):
        text += "  (at a physical bound: read it as one-sided)"
    return text


# One-sided tests: claim (the prefix of ``..._p_value``) -> (label, the bound that goes with it).
_CLAIMS = {
    "entangled": ("{key} > 0", "lower_bound"),
    "violation": ("{key} > 2", "lower_bound"),
    "no_violation": ("{key} < 2", "upper_bound"),
    "below": ("{key} < {threshold:g}", "upper_bound"),
}


def _test_lines(key: str, value: dict) -> list[str]:
    """``C > 0`` / ``CHSH > 2`` and the opposite claims as one-sided tests: bound, p, sigma."""
    lines = []
    for name in value:
        claim = name.removesuffix("_p_value")
        if claim == name or claim not in _CLAIMS:
            continue
        label, bound_key = _CLAIMS[claim]
        bound = value.get(bound_key)
        if bound is None:
            continue
        label = label.format(key=key, threshold=value.get("threshold") or 0.0)
        p = value[name]
        sigma = value.get(f"{claim}_sigma")
        shown_p = "-" if p is None else ("< 1e-300" if p < 1e-300 else f"{p:.3g}")
        shown_sigma = "-" if sigma is None else f"{sigma:.1f} sigma"
        lines.append(f"  {label:<20} {bound:>12.4f} {shown_p:>12}  {shown_sigma}")
    return lines


def retest_concurrence(record: dict, counts: Any, threshold: float | None) -> None:
    """Replace a mix-up record's concurrence by its re-analysis with ``C < threshold``."""
    if threshold is None or "concurrence" not in record.get("estimate", {}):
        return
    from qkit.mixup.experiment import concurrence_below

    amplitude: Any = record.get("amplitude", (record.get("params") or {}).get("amplitude"))
    record["estimate"]["concurrence"] = concurrence_below(counts, float(amplitude), threshold)


def _interrupted(exc) -> int:
    """Ctrl-C while waiting on a durable run: say how to finish it (exit 130, like a shell)."""
    print(
        f"qkit: interrupted while waiting; run {exc.run_id} keeps running: "
        f"finish it with 'qkit jobs fetch {exc.run_id}'",
        file=sys.stderr,
    )
    return 130


def _run(args: argparse.Namespace) -> int:
    from qkit import experiment as definitions
    from qkit import runner

    if args.backend == "fake:list":
        return _list_fake()
    exp = definitions.get(args.experiment_name)
    params = {p.name: getattr(args, p.name) for p in exp.params}
    from qkit import options

    options.resolve_agreement(args.agreement, args.backend)  # bad choices fail before running
    if args.no_wait and args.no_store:
        raise ValueError("--no-wait needs the results store (drop --no-store)")
    opts = options.from_args(args, RUN_FLAGS)
    result: Result | Pending
    try:
        result = exp.submit(opts, **params) if args.no_wait else exp.run(opts, **params)
    except runner.Interrupted as exc:
        return _interrupted(exc)
    return finish(args, result)
