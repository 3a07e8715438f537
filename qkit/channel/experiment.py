"""Paper B sampled: the optimal ensemble through the correlated-noise channel, measured.

:data:`CHANNEL` is the one definition of the experiment (:class:`qkit.experiment.Experiment`).
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

>>> result = run(1.0, "entangled", "pair", shots=500, seed=3, n_boot=200)
>>> mi = result.estimate["mutual_information"]
>>> round(result.prediction["holevo"], 12), round(mi["value"], 6)
(1.0, 1.0)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qkit._validate import check_eta, check_inputs
from qkit.channel import theory
from qkit.experiment import Analysis, Experiment, Param, Point, Points, stack

if TYPE_CHECKING:
    from qkit.result import Result

ALPHABETS = ("pair", "two-slot")
INPUTS = ("entangled", "separable")


def check_alphabet(alphabet: str) -> str:
    if alphabet not in ALPHABETS:
        raise ValueError(f"alphabet must be 'pair' or 'two-slot', got {alphabet!r}")
    return alphabet


def ensemble(eta: float, inputs: str, alphabet: str) -> dict[str, Any]:
    """Letters, their optimal prior and the exact Holevo quantity for this alphabet."""
    if alphabet == "pair":
        ens = theory.optimal_ensemble(eta, inputs)
        holevo = theory.chi2(eta, inputs)
        outcomes: tuple[str, ...] = ("singlet", "triplet")
    else:
        ens = theory.two_slot_ensemble(eta, inputs)
        holevo = theory.capacity(eta, inputs)
        outcomes = ("none", "slot1", "slot2", "singlet", "triplet")
    return {
        "labels": list(ens["labels"]),
        "prior": np.asarray(ens["probabilities"], dtype=float),
        "holevo": float(holevo),
        "outcomes": list(outcomes),
    }


def predict(points: Points) -> dict[str, np.ndarray]:
    """The Holevo quantity each point's mutual information is compared with."""
    holevo = [
        ensemble(float(eta), str(inputs), str(alphabet))["holevo"]
        for eta, inputs, alphabet in zip(
            points["eta"], points["inputs"], points["alphabet"], strict=True
        )
    ]
    return {"holevo": np.array(holevo, dtype=float)}


@functools.cache
def letter_family(alphabet: str, inputs: str):
    """One circuit per letter: encoding, the fibre's noise sites, the receiver (cached)."""
    from qkit.channel import circuits
    from qkit.sampling import Family

    labels = ensemble(1.0, inputs, alphabet)["labels"]
    if alphabet == "pair":
        return Family("channel-pair", [circuits.two_photon_circuit(x) for x in labels])
    return Family("channel-two-slot", [circuits.alphabet_circuit(x) for x in labels])


def circuits(point: Point):
    """The letters of the optimal ensemble; the fibre's mixtures at ``eta``."""
    from qkit.channel import circuits

    family = letter_family(point["alphabet"], point["inputs"])
    return family, circuits.channel_mixtures(point["eta"])


@functools.cache
def _outcome_map(alphabet: str, num_clbits: int) -> np.ndarray:
    from qkit.channel import circuits

    to_array = circuits.singlet_triplet_counts if alphabet == "pair" else circuits.receiver_counts
    return np.array(
        [to_array({format(k, f"0{num_clbits}b"): 1}) for k in range(2**num_clbits)], dtype=float
    )


def outcomes(point: Point, index: int, num_clbits: int) -> np.ndarray:
    return _outcome_map(point["alphabet"], num_clbits)


def labels(point: Point) -> dict[str, Any]:
    ens = ensemble(point["eta"], point["inputs"], point["alphabet"])
    return {"letters": ens["labels"], "prior": ens["prior"].tolist(), "outcomes": ens["outcomes"]}


def analyse(
    counts: Sequence[np.ndarray],
    points: Points,
    rngs: Sequence[np.random.Generator],
    analysis: Analysis,
) -> dict[str, Any]:
    """Mutual information between letter and outcome, with the known prior, per point."""
    from qkit import estimators

    estimates, frequencies = [], []
    for i, c in enumerate(counts):
        ens = ensemble(
            float(points["eta"][i]), str(points["inputs"][i]), str(points["alphabet"][i])
        )
        estimates.append(
            estimators.mutual_information(
                c,
                ens["prior"],
                confidence=analysis.confidence,
                n_boot=analysis.n_boot,
                rng=rngs[i],
            )
        )
        frequencies.append((c / c.sum(axis=1, keepdims=True)).tolist())
    return {"mutual_information": stack(estimates), "conditional_probabilities": frequencies}


def _best_coupler(backend, store, width: int = 2):
    """``layout="best"``: the coupler of the largest stored survey with the highest lower
    confidence bound, else the best predicted from calibration (:mod:`qkit.survey.layout`)."""
    from qkit.survey.layout import choose

    return choose(backend, "channel", store)


CHANNEL = Experiment(
    name="channel",
    title="paper B: mutual information of the optimal ensemble",
    params=(  # sweep axes outer first: one eta curve per alphabet and inputs
        Param("alphabet", check_alphabet, "pair (default) or two-slot", ALPHABETS, "pair"),
        Param("inputs", check_inputs, "entangled (default) or separable", INPUTS, "entangled"),
        Param("eta", check_eta, "eta in [0, 1]"),
    ),
    predict=predict,
    circuits=circuits,
    choose_layout=_best_coupler,
    outcomes=outcomes,
    analyse=analyse,
    targets={"mutual_information": "holevo"},
    labels=labels,
)
"""Paper B's correlated-noise channel experiment."""


def run(eta: float, inputs: str = "entangled", alphabet: str = "pair", **options_: Any) -> Result:
    """Sample the channel at ``eta`` with the optimal ensemble and estimate its mutual information.

    ``shots`` is per letter; the options (shots, seed, backend, engine, n_boot, confidence,
    realization, mitigate, store, durable) are those of :meth:`qkit.experiment.Experiment.run`.
    """
    return CHANNEL.run(eta=eta, inputs=inputs, alphabet=alphabet, **options_)


def submit(
    eta: float, inputs: str = "entangled", alphabet: str = "pair", *, store: Any, **options_: Any
) -> Any:
    """Submit the experiment durably (see :meth:`qkit.experiment.Experiment.submit`)."""
    return CHANNEL.submit(eta=eta, inputs=inputs, alphabet=alphabet, store=store, **options_)
