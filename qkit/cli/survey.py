"""``qkit survey``: every coupler of a device, measured beside ideal and noise-model values."""

from __future__ import annotations

import argparse

from qkit.cli._common import positive_int, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "survey",
        help="CHSH or singlet/triplet information on every coupler of a device",
        description="Measure the CHSH value of a Bell pair or paper B's singlet/triplet mutual "
        "information on every coupler, packing couplers that neither overlap nor touch into "
        "one circuit, and print each estimate beside its ideal and noise-model predictions.",
    )
    parser.add_argument("--backend", required=True, help="fake:<device>, ibm:<device>, ...")
    parser.add_argument("--experiment", choices=("chsh", "channel"), default="chsh")
    from qkit import options

    options.add_flags(parser, ("shots", "seed", "confidence", "store", "engine"), shots=1000)
    parser.add_argument(
        "--pairs-per-circuit",
        type=positive_int,
        default=None,
        help="split classes into circuits of at most N pairs (default: whole classes on "
        "hardware, 6 on simulators)",
    )
    parser.add_argument(
        "--figure", metavar="PNG", help="also draw the coupling map coloured by the estimates"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_survey)


def _survey(args: argparse.Namespace) -> int:
    from qkit._files import check_new, save_figure
    from qkit.backends import get_backend
    from qkit.survey import run_survey
    from qkit.survey.packing import coupling_map

    if args.figure and not args.figure.lower().endswith(".png"):
        raise ValueError(f"--figure must name a .png file, got {args.figure!r}")
    if args.figure:
        check_new(args.figure, overwrite=args.overwrite)  # refused before anything is made
    backend = get_backend(args.backend, seed=args.seed)
    if coupling_map(backend.device) is None:  # a simulator (aer) has no couplers to survey
        raise ValueError(
            f"survey needs a device with a coupling map (fake:<device>, ibm:<device>, "
            f"braket:<ARN>), got {args.backend!r}"
        )
    store = None
    if not args.no_store:  # an existing store is checked now; a new one made once there is
        from qkit.store import ResultsStore, StoreNotFound  # a survey to keep

        try:
            store = ResultsStore(args.store, create=False)
        except StoreNotFound:
            store = None
    survey = run_survey(
        backend,
        args.experiment,
        shots=args.shots,
        seed=args.seed,
        confidence=args.confidence,
        pairs_per_circuit=args.pairs_per_circuit,
        engine=args.engine,
    )
    figure = None
    if args.figure:
        from pathlib import Path

        import matplotlib

        from qkit.figures.survey import survey_map

        matplotlib.use("Agg")
        path = Path(args.figure)
        path.parent.mkdir(parents=True, exist_ok=True)
        drawn = survey_map(survey.to_dict(), backend.device)
        figure = str(save_figure(drawn, path, overwrite=args.overwrite, dpi=150).resolve())
    run_id = None
    if store is None and not args.no_store:
        store = ResultsStore(args.store)
    if store is not None:
        from qkit.survey.store import save

        run_id = save(store, survey, backend.device, figure=figure)
    if args.json:
        record = {**survey.to_dict(), "run_id": run_id, "figure": figure}
        print_json(record)
        return 0
    print(
        f"{survey.backend}: {survey.experiment}, {len(survey.couplers)} couplers in "
        f"{len(survey.classes)} classes, "
        + (
            "counts drawn from the device model's exact distributions"
            if survey.engine == "exact"
            else f"{survey.num_circuits} circuits"
        )
        + f", {survey.shots} shots"
    )
    level = f"{survey.confidence:.0%} CI"
    print(f"{'coupler':<10} {'estimate [' + level + ']':<26} {'noise model':>11} {'ideal':>7}")
    for r in sorted(survey.couplers, key=lambda r: -r.value):
        estimate = f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        print(f"{str(r.coupler):<10} {estimate:<26} {r.predicted:>11.3f} {r.ideal:>7.3f}")
    print(f"noise-model prediction inside the interval on {survey.coverage():.0%} of couplers")
    best = survey.best()
    print(
        f"best: {best.coupler} (the {survey.to_dict()['best_rule']}, {best.ci_low:.3f}); "
        "--layout best uses the largest stored survey of this device"
    )
    if run_id is not None:
        print(f"stored as run {run_id} (qkit results show {run_id}); --layout best uses it")
    return 0
