"""The ``exact`` engine: outcome probabilities from the simulator, counts drawn multinomially.

Sampling shot by shot costs Aer about a microsecond per shot (a 20 x 20 mix-up grid at 4000
shots per setting is two million shots); the statistics of ``N`` independent shots of a
setting are a multinomial draw from its exact outcome probabilities, which the simulator can
give in one noiseless run. So on Aer:

- each noise mixture is split into its fixed branch circuits (:func:`qkit.noise.expand_branches`),
  simulated once each (statevector; results cached per process), and the mixture weights of a
  point (``S``, ``eta``) combine the branch results: a new weight never means a new circuit;
- paper A: the branch circuits save the delivered pair's density matrix (one simulation per
  distinct amplitude and branch), and the measurement settings of a point (angles of the
  :func:`qkit.mixup.circuits.measure_directions` rotations) act by the Born rule;
- paper B: the measured letter circuits save their outcome probabilities per branch.

``tests/test_sweep.py`` holds the resulting counts against
:func:`qkit.noise.outcome_distribution` of the measured circuits (chi-square).
"""

from __future__ import annotations

import threading

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qkit import measures, noise
from qkit.backends import Backend
from qkit.mixup import circuits as mixup_circuits

_LOCK = threading.RLock()
_STATES: dict[tuple[str, float], np.ndarray] = {}
_PROBABILITIES: dict[tuple[str, str], np.ndarray] = {}
_PAIR_BRANCHES: dict[str, list[QuantumCircuit]] = {}

_SIGN_A = np.array([1.0, 1.0, -1.0, -1.0])  # outcome 2 bA + bB, bit 0 = eigenvalue +1
_SIGN_B = np.array([1.0, -1.0, 1.0, -1.0])


def clear_caches() -> None:
    """Forget the simulated branch states and probabilities of this process."""
    with _LOCK:
        _STATES.clear()
        _PROBABILITIES.clear()
        _PAIR_BRANCHES.clear()


def _run_saved(backend: Backend, circuits: list[QuantumCircuit], binds=None) -> list:
    """Run circuits with save instructions on the Aer simulator itself (no shots needed).

    The ``SamplerV2`` primitive returns measured bits only, so saved states and
    probabilities come from ``AerSimulator.run``.
    """
    if backend.kind != "aer":
        raise ValueError(f"the exact engine needs the aer backend, got {backend.name!r}")
    options = {"runtime_parameter_bind_enable": True} if binds else {}  # binds in C++: 2x faster
    result = backend.device.run(
        circuits, parameter_binds=binds, shots=1, method="statevector", seed_simulator=0, **options
    ).result()
    if not result.success:
        raise RuntimeError(f"Aer failed: {result.status}")
    return [result.data(i) for i in range(len(result.results))]


def _pair_branches(backend: Backend) -> list[QuantumCircuit]:
    """Intact and failure branches of the delivered pair, saving the (A1, B·) state."""
    if backend.name in _PAIR_BRANCHES:
        return _PAIR_BRANCHES[backend.name]
    amplitude = Parameter("amplitude")
    circuit = mixup_circuits.delivered_pair_circuit(amplitude)
    circuit.save_density_matrix([0, 1], label="pair")  # follows B1 -> B2 in the failure branch
    branches = noise.expand_branches(circuit, [noise.swap_mixture(1.0)], prune=True)
    _PAIR_BRANCHES[backend.name] = backend.transpile(branches, key="sweep:mixup:branch-states")
    return _PAIR_BRANCHES[backend.name]


def pair_branch_states(backend: Backend, amplitudes: np.ndarray) -> np.ndarray:
    """Delivered-pair states of the intact and failure branches, shape (n, 2, 4, 4), qkit order.

    ``M[psi_a] = S states[:, 0] + (1 - S) states[:, 1]`` (paper A, Eq. 2.1 realized as the
    two-copy swap mixture). Each distinct amplitude is simulated once per process.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    with _LOCK:
        known = {a for name, a in _STATES if name == backend.name}
        missing = sorted({float(a) for a in amplitudes} - known)
        if missing:
            branches = _pair_branches(backend)
            binds = [{c.parameters[0]: missing} for c in branches]
            data = _run_saved(backend, branches, binds)
            n = len(missing)
            for k, a in enumerate(missing):
                pair = [np.asarray(data[b * n + k]["pair"]) for b in range(len(branches))]
                _STATES[(backend.name, a)] = measures.from_qiskit_order(np.array(pair))
        return np.array([_STATES[(backend.name, float(a))] for a in amplitudes])


def born_probabilities(rho: np.ndarray, dirs_a: np.ndarray, dirs_b: np.ndarray) -> np.ndarray:
    """Outcome probabilities (..., K, 4) of measuring ``n_A . sigma ⊗ n_B . sigma``.

    ``rho`` (..., 4, 4) in qkit order, unit directions (..., K, 3); outcome ``2 bA + bB`` with
    bit 0 the +1 eigenvalue (as :func:`qkit.mixup.circuits.measure_directions`):
    ``p = (1 + sA n_A.r_A + sB n_B.r_B + sA sB n_A^T T n_B) / 4``.
    """
    bloch_a = _bloch(measures.partial_trace(rho, 0))
    bloch_b = _bloch(measures.partial_trace(rho, 1))
    t = measures.correlation_matrix(rho)
    e_a = np.einsum("...ki,...i->...k", dirs_a, bloch_a)
    e_b = np.einsum("...ki,...i->...k", dirs_b, bloch_b)
    e_ab = np.einsum("...ki,...ij,...kj->...k", dirs_a, t, dirs_b)
    p = (
        1.0
        + e_a[..., None] * _SIGN_A
        + e_b[..., None] * _SIGN_B
        + e_ab[..., None] * (_SIGN_A * _SIGN_B)
    ) / 4.0
    p = np.clip(p, 0.0, None)
    return p / p.sum(axis=-1, keepdims=True)


def _bloch(rho1: np.ndarray) -> np.ndarray:
    return np.real(np.einsum("iab,...ba->...i", measures.PAULI, rho1))


def _probability_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with its terminal measurements replaced by ``save_probabilities``.

    Outcome ``k`` of the saved vector is the Qiskit integer of the clbits (clbit 0 least
    significant), as :func:`qkit.noise.outcome_distribution`.
    """
    measured: dict[int, int] = {}
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        if inst.operation.name == "measure":
            measured[circuit.find_bit(inst.clbits[0]).index] = qubits[0]
            continue
        if set(qubits) & set(measured.values()):
            raise ValueError("the exact engine needs measurements at the end of each qubit")
        out.append(inst)
    if sorted(measured) != list(range(circuit.num_clbits)):
        raise ValueError("every clbit must be measured exactly once")
    out.save_probabilities([measured[k] for k in range(circuit.num_clbits)], label="p")
    return out


def branch_probabilities(
    backend: Backend, circuit: QuantumCircuit, mixtures: list[noise.MixedUnitary], key: str
) -> np.ndarray:
    """Exact outcome probabilities of every branch of ``circuit``, shape (branches, 2**clbits).

    The noise sites become ``U`` gates (:func:`qkit.noise.parametrized_branches`): one
    transpiled circuit, one binding per branch. Rows follow :func:`mixture_weights`, so the
    outcome distribution under any weights of the same mixtures is
    ``mixture_weights(circuit, mixtures) @ result``. Cached per process under ``key``.
    """
    with _LOCK:
        cache_key = (backend.name, key)
        if cache_key not in _PROBABILITIES:
            template, params, values, _ = noise.parametrized_branches(circuit, mixtures)
            (transpiled,) = backend.transpile([_probability_circuit(template)], key=f"sweep:{key}")
            by_name = {p.name: p for p in transpiled.parameters}
            binds = [{by_name[p.name]: values[:, k] for k, p in enumerate(params)}]
            data = _run_saved(backend, [transpiled], binds)
            _PROBABILITIES[cache_key] = np.array([np.asarray(d["p"]) for d in data])
        return _PROBABILITIES[cache_key]


def mixture_weights(circuit: QuantumCircuit, mixtures: list[noise.MixedUnitary]) -> np.ndarray:
    """Branch weights in the row order of :func:`qkit.noise.parametrized_branches`.

    Products of the mixtures' weights over their sites (``itertools.product`` order: the
    first mixture outermost), computed without building the branch table.
    """
    weights = np.ones(1)
    for mixture in mixtures:
        for _ in noise.sites(circuit, [mixture.label]):
            weights = np.kron(weights, mixture.weights)
    return weights
