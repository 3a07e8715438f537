"""``qkit theory``: exact predictions of both papers, no sampling."""

from __future__ import annotations

import argparse

from qkit.cli._common import emit, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("theory", help="exact predictions of both papers")
    sub = parser.add_subparsers(dest="theory_command", metavar="QUANTITY")
    sub.required = True

    p = sub.add_parser("mixup", help="paper A: the mixed-up pair M[psi_a] at (S, a)")
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    p.add_argument("--amplitude", "-a", type=number, required=True, help="a in [0, 1]")
    p.set_defaults(func=_mixup)

    p = sub.add_parser(
        "mixup-optimum",
        help="paper A: best amplitude and E_F^max at S",
        description="Paper A's best amplitude a*(S) and E_F^max(S). pairs_per_bell_pair_bound "
        "= 1/E_F^max(S) is a lower bound on the delivered pairs one Bell pair costs (no "
        "protocol does better); `qkit theory distill-optimum` gives what DEJMPS achieves. "
        "pairs_per_bell_pair is the same bound under its old name (deprecated, removed in "
        "the next release).",
    )
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    p.set_defaults(func=_mixup_optimum)

    p = sub.add_parser("mixup-threshold", help="paper A: smallest S for entanglement / CHSH at a")
    p.add_argument("--amplitude", "-a", type=number, required=True, help="a in [0, 1]")
    p.set_defaults(func=_mixup_threshold)

    p = sub.add_parser("channel", help="paper B: Holevo quantities and capacities at eta")
    p.add_argument("--eta", type=number, required=True, help="eta in [0, 1]")
    p.set_defaults(func=_channel)

    _register_distill(sub)
    _register_chain(sub)

    for action in sub.choices.values():
        action.add_argument("--json", action="store_true", help="print one JSON object")


def mixup_record(success: float, amplitude: float) -> dict:
    """The ``qkit theory mixup`` record (also the ``prediction`` of ``qkit run mixup``)."""
    from qkit.mixup import theory

    return {
        "success": success,
        "amplitude": amplitude,
        "fidelity": float(theory.fidelity(success, amplitude)),
        "concurrence": float(theory.concurrence(success, amplitude)),
        "eof": float(theory.eof(success, amplitude)),
        "chsh_max": float(theory.chsh_max(success, amplitude)),
        "entangled": bool(theory.concurrence(success, amplitude) > 0),
        "chsh_violated": bool(theory.chsh_max(success, amplitude) > 2),
        "lhv_region": bool(theory.lhv_region(success, amplitude)),
    }


def _mixup(args: argparse.Namespace) -> int:
    emit(mixup_record(args.success, args.amplitude), args.json, "paper A: mixed-up pair")
    return 0


def _mixup_optimum(args: argparse.Namespace) -> int:
    from qkit.mixup import theory

    s = args.success
    record = {
        "success": s,
        "amplitude_opt": float(theory.optimal_amplitude(s)),
        "eof_max": float(theory.eof_max(s)),
        "eof_max_approx": float(theory.eof_max_approx(s)),
        "pairs_per_bell_pair_bound": float(theory.pairs_per_bell_pair(s)),
        "pairs_per_bell_pair": float(theory.pairs_per_bell_pair(s)),  # deprecated: the bound
    }
    emit(record, args.json, "paper A: optimal amplitude")
    return 0


def _mixup_threshold(args: argparse.Namespace) -> int:
    from qkit.mixup import theory

    a = args.amplitude
    record = {
        "amplitude": a,
        "success_entangled": float(theory.entanglement_threshold(a)),
        "success_chsh": float(theory.chsh_threshold(a)),
    }
    emit(record, args.json, "paper A: thresholds in S (null: no S <= 1)")
    return 0


def _channel(args: argparse.Namespace) -> int:
    from qkit.channel import theory

    eta = args.eta
    record = {
        "eta": eta,
        "chi0": theory.CHI0,
        "chi1": theory.CHI1,
        "chi2_entangled": float(theory.chi2(eta, "entangled")),
        "chi2_separable": float(theory.chi2(eta, "separable")),
        "capacity_entangled": float(theory.capacity(eta, "entangled")),
        "capacity_separable": float(theory.capacity(eta, "separable")),
        "capacity_unpolarized": float(theory.capacity_unpolarized()),
    }
    emit(record, args.json, "paper B: bits per use of the two slots")
    return 0


# --- beyond paper A: distillation (qkit.distill, imported lazily) -------------------------


def _register_distill(sub: argparse._SubParsersAction) -> None:
    from qkit.cli._common import non_negative_int

    p = sub.add_parser("distill", help="beyond paper A: DEJMPS rounds + hashing on M[psi_a]")
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    p.add_argument("--amplitude", "-a", type=number, required=True, help="a in [0, 1]")
    p.add_argument(
        "--rounds", "-K", type=non_negative_int, default=None, help="DEJMPS rounds (default: best)"
    )
    _target_fidelity(p)
    p.add_argument(
        "--filter-strength", type=number, default=0.0, help="local filter strength in [0, 1]"
    )
    p.set_defaults(func=_distill)

    p = sub.add_parser(
        "distill-optimum",
        help="beyond paper A: best yield over a, filter and rounds at S",
        description="The best DEJMPS yield (Bell pairs of fidelity >= --target-fidelity per "
        "delivered pair) over a, filter strength and rounds at S. "
        "pairs_per_bell_pair_achieved = 1/yield is what this protocol achieves; "
        "pairs_per_bell_pair_bound = 1/E_F^max(S) is paper A's lower bound (as in `qkit "
        "theory mixup-optimum`). pairs_per_bell_pair is the achieved value under its old "
        "name (deprecated, removed in the next release).",
    )
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    _target_fidelity(p)
    p.set_defaults(func=_distill_optimum)


def _target_fidelity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target-fidelity",
        type=number,
        default=0.99,
        help="fidelity with a Bell state at which a distilled pair counts as a Bell pair, in "
        "(0.5, 1] (default: 0.99)",
    )


def _distill(args: argparse.Namespace) -> int:
    from qkit.distill import theory

    result = theory.distill(
        args.success,
        args.amplitude,
        args.rounds,
        args.target_fidelity,
        args.filter_strength,
    )
    emit(result.record(), args.json, "beyond paper A: Bell pairs per delivered pair")
    return 0


def _distill_optimum(args: argparse.Namespace) -> int:
    from qkit.distill import theory

    result = theory.distill_optimum(args.success, args.target_fidelity)
    emit(result.record(), args.json, "beyond paper A: best distillation yield at S")
    return 0


# --- beyond paper A: a repeater chain (qkit.repeater, imported lazily) ---------------------


def _register_chain(sub: argparse._SubParsersAction) -> None:
    from qkit.cli._common import non_negative_int, positive_int

    p = sub.add_parser(
        "chain",
        help="beyond paper A: end-to-end pair of a nested repeater chain of M[psi_a] links",
    )
    p.add_argument(
        "--links", "-L", type=positive_int, required=True, help="links L: a power of two <= 2^20"
    )
    p.add_argument("--success", "-S", type=number, required=True, help="S in (0, 1]")
    p.add_argument("--amplitude", "-a", type=number, required=True, help="a in [0, 1]")
    p.add_argument(
        "--rounds", "-K", type=non_negative_int, default=0, help="DEJMPS rounds per level (0-64)"
    )
    p.add_argument(
        "--dephasing",
        "-P",
        type=number,
        default=0.0,
        help="memory dephasing per level and qubit, P in [0, 0.5]",
    )
    p.set_defaults(func=_chain)


def _chain(args: argparse.Namespace) -> int:
    from qkit.repeater import theory

    record = theory.chain(args.links, args.success, args.amplitude, args.rounds, args.dephasing)
    emit(record, args.json, "beyond paper A: end-to-end pair of a repeater chain")
    return 0
