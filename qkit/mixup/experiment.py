"""Paper A sampled: CHSH and state tomography of the delivered pair, beside the exact prediction.

The delivered pair (A1, B1) of :func:`qkit.mixup.circuits.delivered_pair_circuit` is measured at
the optimal CHSH settings of the predicted state ``M[psi_a]`` (4 settings) and in the 9 Pauli
settings of two-qubit tomography, ``shots`` shots per setting. The counts become a CHSH value
with its binomial standard error and violation significance (Sec. V), and a physical state
estimate with bootstrap intervals for concurrence (Eq. 3.3), ``E_F`` and fidelity (Eq. 3.2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qkit import estimators, noise
from qkit._validate import check_amplitude, check_success
from qkit.backends import Backend
from qkit.mixup import circuits, theory
from qkit.result import Result
from qkit.runner import Plan, execute
from qkit.sampling import Family, Sampled

DEFAULT_SHOTS = 4000
DEFAULT_BOOTSTRAP = 1000


def prediction(success: float, amplitude: float) -> dict[str, Any]:
    """The exact values an experiment at ``(S, a)`` estimates (keys of ``qkit run mixup``)."""
    return {
        "fidelity": float(theory.fidelity(success, amplitude)),
        "concurrence": float(theory.concurrence(success, amplitude)),
        "eof": float(theory.eof(success, amplitude)),
        "chsh_max": float(theory.chsh_max(success, amplitude)),
    }


def measurement_family(success: float, amplitude: float) -> Family:
    """The delivered-pair circuit measured at the 4 optimal CHSH and the 9 Pauli settings.

    One parametrized circuit: the amplitude is bound into the preparation, the measurement
    directions are Parameters, so a backend transpiles it once for all 13 settings.
    """
    measured = circuits.measure_directions(circuits.delivered_pair_circuit(float(amplitude)))
    chsh_a, chsh_b = circuits.chsh_directions(theory.chsh_settings(success, amplitude))
    tomo_a, tomo_b = circuits.tomography_directions()
    theta_a, phi_a = circuits.direction_angles(np.concatenate([chsh_a, tomo_a]))
    theta_b, phi_b = circuits.direction_angles(np.concatenate([chsh_b, tomo_b]))
    settings = dict(zip(circuits.SETTING_NAMES, (theta_a, phi_a, theta_b, phi_b), strict=True))
    return Family("mixup", [measured], [settings])


def estimate(
    counts: np.ndarray,
    success: float,
    amplitude: float,
    *,
    rng: np.random.Generator,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Estimates from counts of shape (13, 4): the 4 CHSH settings, then the 9 Pauli settings."""
    chsh = estimators.chsh(counts[:4])
    tomography = estimators.state_tomography(
        counts[4:], theory.psi(amplitude), confidence=confidence, n_boot=n_boot, rng=rng
    )
    out = {"chsh": {**chsh.to_dict(), "significance": float(chsh.significance)}}
    out.update(tomography.to_dict())
    out["state"] = {
        "real": np.real(tomography.state).tolist(),
        "imag": np.imag(tomography.state).tolist(),
    }
    return out


def plan(
    success: float,
    amplitude: float,
    *,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    confidence: float = 0.95,
) -> Plan:
    """The mix-up experiment at ``(S, a)`` as a :class:`qkit.runner.Plan` (validated inputs)."""
    success = float(check_success(success))
    amplitude = float(check_amplitude(amplitude))
    shots = _check_shots(shots)
    seed = _resolve_seed(seed)

    def analyse(sampled: Sampled) -> tuple[dict[str, Any], dict[str, Any]]:
        counts = np.array([circuits.counts_array(c) for c in sampled.counts[0]])
        est = estimate(
            counts,
            success,
            amplitude,
            rng=np.random.default_rng([seed, 2]),
            n_boot=n_boot,
            confidence=confidence,
        )
        return est, {"settings": _setting_labels(), "counts": counts.tolist()}

    return Plan(
        kind="mixup",
        params={"success": success, "amplitude": amplitude},
        prediction=prediction(success, amplitude),
        family=measurement_family(success, amplitude),
        mixtures=[noise.swap_mixture(success)],
        shots=shots,
        seed=seed,
        analyse=analyse,
        options={"n_boot": n_boot, "confidence": confidence},
    )


def run(
    success: float,
    amplitude: float,
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
    """Sample the delivered pair at ``(S, a)`` and estimate CHSH, concurrence, ``E_F``, fidelity.

    Parameters
    ----------
    success, amplitude : float
        ``S`` in (0, 1] and ``a`` in [0, 1] (paper A, Eq. 2.1).
    shots : int
        Shots per measurement setting (13 settings: 4 CHSH, 9 Pauli).
    seed : int, optional
        Makes the run reproducible (sampling, branch allocation, bootstrap); drawn and
        recorded when omitted.
    backend : str or Backend
        ``"aer"`` (default), ``"fake:<device>"``, ``"ibm:<device>"``, ``"braket:..."``.
    realization : {"noise-model", "branch-mixture"}, optional
        How the mix-up is realized (default: the noise model where the backend takes one).
    mitigate : {"readout"}, optional
        Readout-error mitigation on device backends.
    store : qkit.store.ResultsStore, optional
        Save the run (and its jobs, before waiting).
    wait : bool
        ``False`` submits durably and returns a :class:`qkit.runner.Pending`.

    Examples
    --------
    >>> result = run(0.9, 2 ** -0.5, shots=2000, seed=1, n_boot=200)
    >>> result.estimate["chsh"]["value"] > 2
    True
    """
    experiment = plan(
        success, amplitude, shots=shots, seed=seed, n_boot=n_boot, confidence=confidence
    )
    return execute(
        experiment, backend, store=store, wait=wait, realization=realization, mitigate=mitigate
    )


def _setting_labels() -> list[str]:
    chsh = [f"chsh:{x},{y}" for x, y in circuits.CHSH_SETTINGS]
    return chsh + [f"pauli:{s}" for s in circuits.PAULI_SETTINGS]


def _check_shots(shots: int) -> int:
    if isinstance(shots, bool) or int(shots) != shots or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    return int(shots)


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)
