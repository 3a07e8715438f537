"""Backends by name: one ``SamplerV2`` interface to Aer, IBM fake devices, IBM Quantum, Braket.

========================  =====================================================================
name                      what runs the PUBs
========================  =====================================================================
``aer`` (default)         Qiskit Aer's ``SamplerV2``; exact Aer ``NoiseModel`` per run
``fake:<device>``         an IBM fake device (``fake:list`` lists them): Aer with the device's
                          calibrated noise, offline, as qiskit-ibm-runtime's local testing mode
``ibm:<device>``          IBM Quantum via qiskit-ibm-runtime (``pip install 'qkit-comm[ibm]'``),
                          credentials from the saved account or ``QISKIT_IBM_*`` variables
``braket:local``          the Amazon Braket local simulator (``pip install 'qkit-comm[braket]'``)
``braket:<device ARN>``   an Amazon Braket device, AWS credentials from the usual AWS config
========================  =====================================================================

Every backend transpiles a circuit family once (``Backend.transpile``; parameters stay
unbound), runs many PUBs in one sampler call (``Backend.run`` / ``Backend.submit``), and
returns counts per PUB in Qiskit's bitstring convention (see :mod:`qkit.backends._jobs`).
Only ``aer`` takes a noise model; on the others the experiments realize the noise as a
mixture of circuits. Optional packages are imported only when their backend is asked for.

>>> backend = get_backend("aer", seed=7)
>>> from qiskit import QuantumCircuit
>>> bell = QuantumCircuit(2, 2); _ = bell.h(0); _ = bell.cx(0, 1); _ = bell.measure([0, 1], [0, 1])
>>> counts = backend.run([(c,) for c in backend.transpile([bell])], shots=100)[0]
>>> sorted(counts), sum(counts.values())
(['00', '11'], 100)
"""

from __future__ import annotations

from qkit.backends._base import Backend, BackendUnavailableError, check_seed
from qkit.backends._capabilities import Capabilities, capabilities
from qkit.backends._jobs import STATUSES, Job

__all__ = [
    "STATUSES",
    "Backend",
    "BackendUnavailableError",
    "Capabilities",
    "Job",
    "capabilities",
    "describe_fake_devices",
    "get_backend",
    "list_fake_devices",
]

BACKEND_NAMES = "aer, fake:<device>, ibm:<device>, braket:local, braket:<ARN>"


def list_fake_devices() -> list[str]:
    """Names usable as ``fake:<name>``, from ``qiskit_ibm_runtime.fake_provider``.

    >>> "sherbrooke" in list_fake_devices()
    True
    """
    from qkit.backends._runtime import fake_device_classes

    return list(fake_device_classes())


def describe_fake_devices() -> list[dict[str, object]]:
    """Every fake device with its processor family (Heron, Eagle, Falcon, ...), revision and
    number of qubits, read from the snapshot's configuration file (no device is built)."""
    import json
    from pathlib import Path

    from qkit.backends._runtime import fake_device_classes

    out = []
    for name, cls in fake_device_classes().items():
        try:
            folder, conf_file = getattr(cls, "dirname"), getattr(cls, "conf_filename")  # noqa: B009
            conf = json.loads((Path(folder) / conf_file).read_text())
        except (AttributeError, OSError, ValueError):
            conf = {}
        processor = conf.get("processor_type") or {}
        out.append(
            {
                "name": name,
                "family": processor.get("family"),
                "revision": processor.get("revision"),
                "num_qubits": conf.get("n_qubits"),
            }
        )
    return out


def get_backend(
    name: str = "aer", *, seed: int | None = None, optimization_level: int = 2
) -> Backend:
    """The backend called ``name`` (see the module docstring for the names).

    Parameters
    ----------
    name : str
        ``aer``, ``fake:<device>``, ``ibm:<device>``, ``braket:local`` or ``braket:<ARN>``.
    seed : int, optional
        Default sampling seed of :meth:`Backend.run`, and the transpiler seed (layouts and
        routing; 0 when not given, so transpilation is always reproducible).
    optimization_level : int
        Preset pass manager level 0-3 for :meth:`Backend.transpile`.

    Raises
    ------
    ValueError
        Unknown name or device. :class:`BackendUnavailableError` (a ``ValueError``) when an
        optional package or credentials are missing; its message says what to install or
        configure, on one line.
    """
    if not isinstance(name, str):
        raise ValueError(f"backend must be one of {BACKEND_NAMES}; got {name!r}")
    if optimization_level not in (0, 1, 2, 3):
        raise ValueError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
    check_seed(seed)
    prefix, _, rest = name.partition(":")
    if name == "aer":
        from qkit.backends._aer import AerBackend

        return AerBackend(seed=seed, optimization_level=optimization_level)
    if prefix == "fake" and rest and rest != "list":
        from qkit.backends._runtime import fake_backend

        return fake_backend(rest, seed=seed, optimization_level=optimization_level)
    if prefix == "ibm" and rest:
        from qkit.backends._runtime import ibm_backend

        return ibm_backend(rest, seed=seed, optimization_level=optimization_level)
    if prefix == "braket" and (rest == "local" or rest.startswith("arn:")):
        from qkit.backends._braket import BraketBackend

        return BraketBackend(rest, seed=seed, optimization_level=optimization_level)
    raise ValueError(f"backend must be one of {BACKEND_NAMES}; got {name!r}")
