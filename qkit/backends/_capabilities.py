"""What a backend can do, known from its name alone (no provider is imported).

Experiments, drivers and option checks ask these questions instead of testing which kind of
backend they hold: a new backend kind states its capabilities here once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do.

    Attributes
    ----------
    noise_model : bool
        Takes an Aer noise model per run (else classical noise is realized as circuit
        mixtures).
    exact : bool
        Gives exact outcome probabilities and states of circuits
        (:meth:`qkit.backends.Backend.probabilities`), which the ``exact`` engine needs.
    readout_error : bool
        Has readout errors worth mitigating (a device or a device model).
    detachable : bool
        A submitted job can outlive the submitting process (a cloud job, or a local job
        run in a detached worker).
    retrievable : bool
        A job id alone re-attaches to the job from any process (cloud jobs).
    cloud : bool
        Jobs run remotely, queued (every waiting run is durable).
    feed_forward : bool
        Runs mid-circuit measurements with classically controlled gates (dynamic circuits).
    timing : bool
        Has gate durations and qubit T1/T2, so an idle period (``delay``) acts.
    """

    noise_model: bool = False
    exact: bool = False
    readout_error: bool = True
    detachable: bool = True
    retrievable: bool = False
    cloud: bool = False
    feed_forward: bool = True
    timing: bool = True


AER = Capabilities(noise_model=True, exact=True, readout_error=False, timing=False)
FAKE = Capabilities()
BRAKET_LOCAL = Capabilities(feed_forward=False, timing=False)
"""qiskit-braket-provider converts no control flow to a Braket circuit, and the local
simulator has no gate durations."""
CLOUD = Capabilities(retrievable=True, cloud=True)
BRAKET_CLOUD = Capabilities(retrievable=True, cloud=True, feed_forward=False, timing=False)
IBM_LOCAL_TESTING = Capabilities(detachable=False)
"""The runtime's local testing service: its jobs live in the submitting process only."""


def capabilities(name: str) -> Capabilities:
    """The capabilities of the backend called ``name`` (checked later by ``get_backend``).

    >>> capabilities("aer").exact, capabilities("fake:lima").exact
    (True, False)
    """
    prefix, _, rest = str(name).partition(":")
    if name == "aer":
        return AER
    if prefix == "fake":
        return FAKE
    if prefix == "braket" and rest == "local":
        return BRAKET_LOCAL
    if prefix == "braket":
        return BRAKET_CLOUD
    return CLOUD
