"""``qkit export-circuits``: write the canonical circuits as OpenQASM 3 files with a manifest."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export-circuits",
        help="write both papers' circuits as OpenQASM 3 files with manifest.json",
        description="Write the canonical noise-free circuits of both papers as OpenQASM 3 files, "
        "with manifest.json describing qubits, parameters, measured bits and noise mixtures.",
    )
    parser.add_argument(
        "--out",
        default="circuits",
        metavar="DIR",
        help="new or empty output folder, or a previous export to replace (default: circuits)",
    )
    parser.add_argument(
        "--target",
        default="qiskit",
        choices=("qiskit", "braket", "generic"),
        help="gate set: qiskit (stdgates.inc, as committed), braket (only Braket's built-in "
        "gates, no include; runs on Braket's local simulators), generic (every gate defined "
        "in the file from U and ctrl @) (default: qiskit)",
    )
    parser.add_argument(
        "--device-report",
        action="store_true",
        help="also print two-qubit gate counts and depths after transpiling for FakeSherbrooke",
    )
    parser.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from qkit import export

    for path in export.export_circuits(args.out, args.target):
        print(path)
    if args.device_report:
        print(f"{'circuit':<28} {'2q gates':>8} {'depth':>6}")
        for row in export.device_report():
            print(f"{row['name']:<28} {row['two_qubit_gates']:>8} {row['depth']:>6}")
    return 0
