"""Paper A sampled: CHSH and state tomography of the delivered pair, beside the exact prediction.

The delivered pair (A1, B1) of :func:`qkit.mixup.circuits.delivered_pair_circuit` is measured at
the optimal CHSH settings of the predicted state ``M[psi_a]`` (4 settings) and in the 9 Pauli
settings of two-qubit tomography, ``shots`` shots per setting. The counts become a CHSH value
with its binomial standard error and violation significance (Sec. V), and a physical state
estimate with bootstrap intervals for concurrence (Eq. 3.3), ``E_F`` and fidelity (Eq. 3.2).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from qkit import estimators, noise
from qkit._validate import check_amplitude, check_success
from qkit.backends import Backend, get_backend
from qkit.mixup import circuits, theory
from qkit.result import Result, package_versions
from qkit.sampling import Family, Sampled, sample

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
) -> Result:
    """Sample the delivered pair at ``(S, a)`` and estimate CHSH, concurrence, ``E_F``, fidelity.

    Parameters
    ----------
    success, amplitude : float
        ``S`` in (0, 1] and ``a`` in [0, 1] (paper A, Eq. 2.1).
    shots : int
        Shots per measurement setting (13 settings).
    seed : int, optional
        Makes the run reproducible (sampling, branch allocation, bootstrap); drawn and
        recorded when omitted.
    backend : str or Backend
        ``"aer"`` (default), ``"fake:<device>"``, ``"ibm:<device>"``, ``"braket:..."``.

    Examples
    --------
    >>> result = run(0.9, 2 ** -0.5, shots=2000, seed=1, n_boot=200)
    >>> result.estimate["chsh"]["value"] > 2
    True
    """
    success = float(check_success(success))
    amplitude = float(check_amplitude(amplitude))
    shots = _check_shots(shots)
    seed = _resolve_seed(seed)
    device = backend if isinstance(backend, Backend) else get_backend(backend, seed=seed)
    started = time.perf_counter()
    family = measurement_family(success, amplitude)
    sampled = sample(
        device, family, [noise.swap_mixture(success)], shots=shots, seed=seed,
        realization=realization,
    )
    counts = np.array([circuits.counts_array(c) for c in sampled.counts[0]])
    est = estimate(
        counts, success, amplitude, rng=np.random.default_rng([seed, 2]), n_boot=n_boot,
        confidence=confidence,
    )
    return Result(
        kind="mixup",
        params={"success": success, "amplitude": amplitude},
        prediction=prediction(success, amplitude),
        estimate=est,
        counts={"settings": _setting_labels(), "counts": counts.tolist()},
        shots=shots,
        seed=seed,
        backend=device.name,
        metadata=_metadata(sampled, started, n_boot, confidence),
    )


def _setting_labels() -> list[str]:
    chsh = [f"chsh:{x},{y}" for x, y in circuits.CHSH_SETTINGS]
    return chsh + [f"pauli:{s}" for s in circuits.PAULI_SETTINGS]


def _metadata(sampled: Sampled, started: float, n_boot: int, confidence: float) -> dict[str, Any]:
    return {
        "realization": sampled.realization,
        "transpiled": sampled.transpiled,
        "bootstrap_resamples": n_boot,
        "confidence": confidence,
        "wall_time_s": round(time.perf_counter() - started, 3),
        "versions": package_versions(),
    }


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
