"""Noise as classical mixtures of unitaries on labelled circuit sites: one description, three
realizations.

**The description.** A :class:`MixedUnitary` states the noise once: a label, the unitaries
``U_k`` and their weights ``w_k`` (``rho -> sum_k w_k U_k rho U_k^dag``). Circuits carry a
:func:`noise_site` (an identity placeholder with that label) wherever the noise acts. The papers'
mixtures are built by :func:`swap_mixture` (paper A's mix-up, Eq. 2.1),
:func:`correlated_rotation_mixture` (paper B's ``U ⊗ U`` twirl as the 24 Cliffords ``C ⊗ C``,
an exact 2-design) and :func:`depolarizing_mixture` (paper B's slot-2 Bloch shrink ``eta``).

**The realizations.** All three derive from the same object, so they cannot drift apart, and in
all three the physical parameters (``S``, ``eta``) enter only through the weights:

1. *Noise model* (:mod:`qkit.noise.aer`, simulators): :func:`noise_model` registers the
   mixture as an Aer mixed-unitary error on its label; the circuit is unchanged.
2. *Branches* (:mod:`qkit.noise.branches`, hardware): :func:`expand_branches` gives one
   noise-free circuit per combination of terms, fixed whatever the weights;
   :func:`branch_weights` their product weights; :func:`allocate_shots` splits the shots
   multinomially, so the pooled counts are distributed exactly as under the mixture.
   :func:`outcome_distribution` is the exact prediction by the same enumeration.
3. *One parametrized circuit* (:mod:`qkit.noise.parametrized`, sweeps and hardware):
   :func:`parametrize_sites` turns sites into ``U(theta, phi, lam)`` gates whose angles are
   bound per branch (:func:`parametrized_branches`, weights :func:`mixture_weights`) or per Haar
   draw (:func:`haar_parameter_values`): transpile once, then submit one binding row per branch
   with its multinomial share of the shots.

The sites (:mod:`qkit.noise.sites`) are Aer's ``qerror_loc`` directive: they survive the
transpiler for an Aer target, and a hardware target refuses them on purpose, so expand or
parametrize the sites *before* transpiling for hardware. The unitaries themselves (Paulis,
Cliffords, Haar draws, Euler angles) are in :mod:`qkit.noise.unitaries`.

Matrix convention: unitaries act on the site's qubits in Qiskit's little-endian order
(``qargs[0]`` is the least significant bit, as for ``UnitaryGate``/``Operator``); ``factors[j]``
acts on ``qargs[j]``.
"""

from __future__ import annotations

from qkit.noise.aer import aer_sampler_options, noise_model
from qkit.noise.branches import (
    allocate_shots,
    branch_weights,
    expand_branches,
    outcome_distribution,
    prune_circuit,
)
from qkit.noise.mixtures import (
    MixedUnitary,
    correlated_rotation_mixture,
    depolarizing_mixture,
    swap_mixture,
)
from qkit.noise.parametrized import (
    branch_parameter_values,
    haar_parameter_values,
    mixture_parameter_values,
    mixture_weights,
    parametrize_sites,
    parametrized_branches,
)
from qkit.noise.sites import (
    DEPOLARIZATION,
    MIXUP,
    ROTATION,
    Branch,
    NoiseSite,
    Site,
    noise_site,
    sites,
    strip_sites,
)
from qkit.noise.unitaries import (
    IDENTITY,
    PAULIS,
    SWAP,
    clifford_group,
    euler_angles,
    haar_unitaries,
)

__all__ = [
    # the description
    "MixedUnitary",
    "swap_mixture",
    "correlated_rotation_mixture",
    "depolarizing_mixture",
    # sites
    "MIXUP",
    "ROTATION",
    "DEPOLARIZATION",
    "NoiseSite",
    "Site",
    "Branch",
    "noise_site",
    "sites",
    "strip_sites",
    # unitaries
    "IDENTITY",
    "PAULIS",
    "SWAP",
    "clifford_group",
    "haar_unitaries",
    "euler_angles",
    # realization 1: Aer noise model
    "noise_model",
    "aer_sampler_options",
    # realization 2: branches
    "expand_branches",
    "branch_weights",
    "allocate_shots",
    "prune_circuit",
    "outcome_distribution",
    # realization 3: one parametrized circuit
    "parametrize_sites",
    "parametrized_branches",
    "mixture_weights",
    "branch_parameter_values",
    "mixture_parameter_values",
    "haar_parameter_values",
]
