"""Beyond paper A: a nested repeater chain of mixed-up pairs (issue 22).

:mod:`qkit.repeater.theory` holds the exact theory (numpy only): ``L = 2^n`` links delivering
``M[psi_a]`` (or any two-qubit state), memory dephasing and DEJMPS rounds at every nesting level,
entanglement swapping between levels.

- :func:`chain`, :func:`chain_state`, :func:`chain_state_from`, :func:`chain_levels`: the
  end-to-end pair, its figures of merit, yield and DEJMPS success probabilities;
- :func:`swap`, :func:`dephase`: the operations on any pair;
- :func:`bell_diagonal_swap`, :func:`werner_swap`, :func:`werner_chain_fidelity`: twirled closed
  forms;
- :func:`reach`, :func:`best_rounds`: where the chain stops working, the rounds a target needs.

Names load lazily (the package imports nothing until one is used).
"""

from qkit._lazy import exporter

_THEORY = (
    "CHAIN_KEYS",
    "bell_diagonal_chain_levels",
    "bell_diagonal_dephase",
    "bell_diagonal_swap",
    "best_rounds",
    "chain",
    "chain_curves",
    "chain_levels",
    "chain_record",
    "chain_state",
    "chain_state_from",
    "chain_yield",
    "dephase",
    "figures_of_merit",
    "reach",
    "swap",
    "swap_probabilities",
    "werner_chain_fidelity",
    "werner_chsh_distance",
    "werner_entanglement_distance",
    "werner_swap",
)
_EXPORTS = {
    **{name: f"qkit.repeater.theory:{name}" for name in _THEORY},
    "theory": "qkit.repeater.theory",
    "CHAIN": "qkit.repeater.experiment:CHAIN",
    "chain_circuit": "qkit.repeater.circuits:chain_circuit",
    "circuits": "qkit.repeater.circuits",
    "experiment": "qkit.repeater.experiment",
}

__all__ = [*_EXPORTS]
__getattr__ = exporter(__name__, _EXPORTS)
