"""Paper B sampled: the optimal ensemble through the correlated-noise channel, measured.

Two alphabets:

- ``pair``: the two-photon sector alone. The optimal two-state ensemble (Lemma 2; entangled:
  singlet and ``|HH>``, separable: ``|HV>`` and ``|HH>``) passes the correlated rotation and the
  slot-2 depolarization and is read by the Braunstein–Mann singlet/triplet measurement; its
  mutual information is compared with ``chi_2`` (Eqs. 25-32).
- ``two-slot``: the full alphabet (empty, one photon in slot 1 or 2, the two pair states) with
  the optimal sector probabilities (Eq. 8), read by the receiver that counts photons per slot;
  compared with the capacity ``log2(3 + 2^chi_2)`` (Fig. 5).

Every letter is sent in ``shots`` shots; the mutual information uses the known prior of the
optimal ensemble, with its small-sample bias corrected and a bootstrap interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qkit import estimators
from qkit._validate import check_eta, check_inputs
from qkit.backends import Backend
from qkit.channel import circuits, theory
from qkit.mixup.experiment import _check_shots, _resolve_seed
from qkit.result import Result
from qkit.runner import Plan, execute
from qkit.sampling import Family, Sampled

ALPHABETS = ("pair", "two-slot")
DEFAULT_SHOTS = 4000
DEFAULT_BOOTSTRAP = 2000


def check_alphabet(alphabet: str) -> str:
    if alphabet not in ALPHABETS:
        raise ValueError(f"alphabet must be 'pair' or 'two-slot', got {alphabet!r}")
    return alphabet


def ensemble(eta: float, inputs: str, alphabet: str) -> dict[str, Any]:
    """Letters, their optimal prior and the exact Holevo quantity for this alphabet."""
    if alphabet == "pair":
        ens = theory.optimal_ensemble(eta, inputs)
        return {
            "labels": list(ens["labels"]),
            "prior": np.asarray(ens["probabilities"], dtype=float),
            "holevo": float(theory.chi2(eta, inputs)),
            "outcomes": list(circuits.PAIR_OUTCOMES),
        }
    ens = theory.two_slot_ensemble(eta, inputs)
    return {
        "labels": list(ens["labels"]),
        "prior": np.asarray(ens["probabilities"], dtype=float),
        "holevo": float(theory.capacity(eta, inputs)),
        "outcomes": list(circuits.OUTCOMES),
    }


def letter_circuits(labels: list[str], alphabet: str) -> Family:
    """One circuit per letter: encoding, the fibre's noise sites, the receiver."""
    if alphabet == "pair":
        return Family("channel-pair", [circuits.two_photon_circuit(x) for x in labels])
    return Family("channel-two-slot", [circuits.alphabet_circuit(x) for x in labels])


def plan(
    eta: float,
    inputs: str = "entangled",
    alphabet: str = "pair",
    *,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
) -> Plan:
    """The channel experiment as a :class:`qkit.runner.Plan` (validated inputs)."""
    eta = float(check_eta(eta))
    inputs = check_inputs(inputs)
    alphabet = check_alphabet(alphabet)
    shots = _check_shots(shots)
    seed = _resolve_seed(seed)
    ens = ensemble(eta, inputs, alphabet)
    to_array = circuits.singlet_triplet_counts if alphabet == "pair" else circuits.receiver_counts

    def analyse(sampled: Sampled) -> tuple[dict[str, Any], dict[str, Any]]:
        counts = np.array([to_array(c[0]) for c in sampled.counts])
        mi = estimators.mutual_information(
            counts,
            ens["prior"],
            confidence=confidence,
            n_boot=n_boot,
            rng=np.random.default_rng([seed, 2]),
        )
        frequencies = counts / counts.sum(axis=1, keepdims=True)
        estimate = {
            "mutual_information": mi.to_dict(),
            "conditional_probabilities": frequencies.tolist(),
        }
        record = {
            "letters": ens["labels"],
            "prior": ens["prior"].tolist(),
            "outcomes": ens["outcomes"],
            "counts": counts.tolist(),
        }
        return estimate, record

    return Plan(
        kind="channel",
        params={"eta": eta, "inputs": inputs, "alphabet": alphabet},
        prediction={"holevo": ens["holevo"]},
        family=letter_circuits(ens["labels"], alphabet),
        mixtures=circuits.channel_mixtures(eta),
        shots=shots,
        seed=seed,
        analyse=analyse,
        options={"n_boot": n_boot, "confidence": confidence},
    )


def run(
    eta: float,
    inputs: str = "entangled",
    alphabet: str = "pair",
    *,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    backend: str | Backend = "aer",
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
    realization: str | None = None,
    mitigate: str | None = None,
    store=None,
    wait: bool = True,
) -> Result:
    """Sample the channel at ``eta`` with the optimal ensemble and estimate its mutual information.

    ``shots`` is per letter. Other arguments as :func:`qkit.mixup.experiment.run`.

    Examples
    --------
    >>> result = run(1.0, "entangled", "pair", shots=500, seed=3, n_boot=200)
    >>> mi = result.estimate["mutual_information"]
    >>> round(result.prediction["holevo"], 12), round(mi["value"], 6)
    (1.0, 1.0)
    """
    experiment = plan(
        eta, inputs, alphabet, shots=shots, seed=seed, n_boot=n_boot, confidence=confidence
    )
    return execute(
        experiment, backend, store=store, wait=wait, realization=realization, mitigate=mitigate
    )
