"""Beyond paper A: distilling Bell pairs from mixed-up pairs, against the paper's bound.

:mod:`qkit.distill.theory` holds the exact theory (DEJMPS rounds on any two-qubit state, local
filtering, hashing, yields and bounds); :mod:`qkit.distill.circuits` one DEJMPS round as a Qiskit
circuit on two delivered pairs (imports qiskit; import it explicitly).
"""

from qkit.distill.theory import (
    BELL_NAMES,
    PROTOCOLS,
    Distillation,
    Optimum,
    apply_filter,
    bell_diagonal_state,
    bell_fidelity,
    bell_weights,
    best_yields,
    coherent_information,
    dejmps_recurrence,
    dejmps_round,
    dejmps_rounds,
    distill,
    distill_optimum,
    filtered_state,
    hashing_threshold,
    hashing_yield,
    normal_form_filter,
    pair_coherent_information,
    werner_weights,
    yield_table,
    yields_per_round,
)

__all__ = [
    "BELL_NAMES",
    "PROTOCOLS",
    "Distillation",
    "Optimum",
    "apply_filter",
    "bell_diagonal_state",
    "bell_fidelity",
    "bell_weights",
    "best_yields",
    "coherent_information",
    "dejmps_recurrence",
    "dejmps_round",
    "dejmps_rounds",
    "distill",
    "distill_optimum",
    "filtered_state",
    "hashing_threshold",
    "hashing_yield",
    "normal_form_filter",
    "pair_coherent_information",
    "werner_weights",
    "yield_table",
    "yields_per_round",
]
