"""Best and median coupler of three IBM Heron snapshots: measured vs noise-model prediction.

For each device and experiment (CHSH of a Bell pair; paper B's singlet/triplet mutual
information at eta = 1) every coupler gets its exact noise-model prediction
(:func:`qkit.survey.predict.coupler_values`, density matrices, no sampling); the best and the
median coupler by prediction are then measured on the fake device
(:func:`qkit.survey.run_survey` restricted to those two couplers). Run:

    PYTHONPATH=. python benchmarks/survey.py [--shots 4000] [--devices fez marrakesh kingston]

A whole-device survey on a fake Heron costs one simulator call per circuit (about 20-30 s each
on a loaded 2-core machine, mostly the 156-qubit noise model), hence the two couplers here.
"""

from __future__ import annotations

import argparse
import statistics
import time

from qkit.backends import get_backend
from qkit.survey import predict, run_survey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["fez", "marrakesh", "kingston"])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(
        f"{'device':<10} {'experiment':<8} {'coupler':<7} {'pair':<10} "
        f"{'measured [95% CI]':<26} {'predicted':>9} {'ideal':>6}  median of all"
    )
    for name in args.devices:
        backend = get_backend(f"fake:{name}", seed=args.seed)
        model = predict.noise_model(backend.device)
        for experiment in ("chsh", "channel"):
            start = time.perf_counter()
            values = predict.coupler_values(backend.device, experiment, model=model)
            ranked = sorted(values, key=values.get)
            best, median = ranked[-1], ranked[(len(ranked) - 1) // 2]
            survey = run_survey(
                backend,
                experiment,
                shots=args.shots,
                seed=args.seed,
                couplers=[best, median],
                noise_model=model,
            )
            rows = {r.coupler: r for r in survey.couplers}
            for label, coupler in (("best", best), ("median", median)):
                r = rows[coupler]
                measured = f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
                print(
                    f"{name:<10} {experiment:<8} {label:<7} {str(coupler):<10} {measured:<26} "
                    f"{values[coupler]:>9.3f} {r.ideal:>6.3f}  "
                    f"{statistics.median(values.values()):.3f} ({len(values)} couplers, "
                    f"{time.perf_counter() - start:.0f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
