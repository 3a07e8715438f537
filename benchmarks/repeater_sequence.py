"""Cross-check of qkit's repeater-chain theory against SeQUeNCe's Bell-diagonal formulas.

SeQUeNCe (Wu et al., Quantum Sci. Technol. 6, 045027 (2021); package ``sequence`` 1.3.x) tracks
entanglement distribution in a Bell-diagonal-state (BDS) formalism: memory decoherence as a
single-qubit Pauli channel per memory (``Memory.bds_decohere``), entanglement swapping
(``EntanglementSwappingA_BDS.swapping_res``) and DEJMPS purification
(``DEJMPS_BDS.purification_res``). This script runs SeQUeNCe's own code for exactly those
three steps (ideal gates and measurements, ``gate_fid = meas_fid = 1``; no event loop, no
photonic link layer) on a two-link chain with one DEJMPS round per level and memory dephasing:

    level 0: both link pairs dephased (Z errors, p_Z = P on every memory), one DEJMPS round
             on two copies; swap the two kept pairs;
    level 1: dephase, one DEJMPS round

and compares the end-to-end Bell weights and the success probabilities with
``qkit.repeater.theory`` (exact 4x4 density matrices) for Werner links and for links delivering
mixed-up pairs ``M[psi_a]``.

Setup (SeQUeNCe declares Python >= 3.12; its BDS formulas run on 3.11 once ``typing.override``
exists, which this script takes from ``typing_extensions``). In a throwaway venv that sees the
project's packages::

    python3 -m venv /tmp/seq && /tmp/seq/bin/pip install --ignore-requires-python --no-deps \\
        sequence==1.3.1 lazy-loader qutip-qip stim
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/seq/lib/python3.11/site-packages/x.pth
    PYTHONPATH=$PWD /tmp/seq/bin/python benchmarks/repeater_sequence.py
"""

from __future__ import annotations

import math
import sys
import typing
from types import SimpleNamespace

import numpy as np
import typing_extensions

from qkit.distill import theory as distill
from qkit.mixup import theory as mixup
from qkit.repeater import theory

if not hasattr(typing, "override"):  # Python 3.11: SeQUeNCe imports typing.override (3.12)
    typing.override = typing_extensions.override  # type: ignore[attr-defined]

try:
    from sequence.components.memory import Memory
    from sequence.constants import BELL_DIAGONAL_STATE_FORMALISM
    from sequence.entanglement_management.purification.dejmps_bds import DEJMPS_BDS
    from sequence.entanglement_management.swapping.swapping_bds import EntanglementSwappingA_BDS
    from sequence.kernel.timeline import Timeline
except ImportError as exc:  # pragma: no cover - depends on the throwaway venv
    sys.exit(f"SeQUeNCe is not importable ({exc}); see the setup in this script's docstring")

# Bell weights: qkit (Phi+, Psi-, Psi+, Phi-); SeQUeNCe (Phi+, Phi-, Psi+, Psi-) = (I, Z, X, Y)
TO_SEQUENCE = [0, 3, 2, 1]
TO_QKIT = [0, 3, 2, 1]  # the same permutation is its own inverse
COHERENCE_TIME = 1.0  # s; the idle time per level is chosen so that p_Z = P
PS = 1e12  # SeQUeNCe's time unit is the picosecond


class Chain:
    """Memories on one SeQUeNCe timeline in the BDS formalism, with ideal local operations."""

    def __init__(self, dephasing: float, twirled_swap: bool) -> None:
        self.tl = Timeline(formalism=BELL_DIAGONAL_STATE_FORMALISM)
        self.qm = self.tl.quantum_manager
        self.tl.time = 1  # bds_decohere needs last_update_time > 0
        # pure dephasing: p_Z(t) = (1 - exp(-2 t / T)) / 2 = P
        self.idle_ps = (
            int(round(-math.log(1.0 - 2.0 * dephasing) / 2.0 * COHERENCE_TIME * PS))
            if dephasing
            else 0
        )
        self.twirled_swap = twirled_swap
        self.node = SimpleNamespace(gate_fid=1.0, meas_fid=1.0, timeline=self.tl, name="b")
        self.count = 0

    def pair(self, weights_sequence: np.ndarray) -> tuple[Memory, Memory]:
        memories = []
        for _ in range(2):
            self.count += 1
            memory = Memory(
                f"m{self.count}",
                self.tl,
                fidelity=1.0,
                frequency=1e6,
                efficiency=1.0,
                coherence_time=COHERENCE_TIME,
                wavelength=500,
                decoherence_errors=[0.0, 0.0, 1.0],
            )
            memory.last_update_time = self.tl.time
            memories.append(memory)
        self.qm.set([m.qstate_key for m in memories], list(weights_sequence))
        return memories[0], memories[1]

    def weights(self, pair: tuple[Memory, Memory]) -> np.ndarray:
        return np.array(self.qm.get(pair[0].qstate_key).state, dtype=float)

    def dephase(self, pairs: list[tuple[Memory, Memory]]) -> None:
        """Let time pass by one level's idle time, then every memory's Pauli channel acts."""
        self.tl.time += self.idle_ps
        for pair in pairs:
            for memory in pair:
                memory.bds_decohere()

    def dejmps(self, kept: tuple[Memory, Memory], measured: tuple[Memory, Memory]) -> float:
        proto = SimpleNamespace(
            owner=self.node,
            kept_memo=kept[0],
            meas_memo=measured[0],
            remote_node_name="a",
            name="dejmps",
        )
        self.tl.get_entity_by_name = lambda name: self.node  # the remote node: ideal as well
        p, weights = DEJMPS_BDS.purification_res(proto)
        self.qm.set([kept[0].qstate_key, kept[1].qstate_key], list(weights))
        return float(p)

    def swap(self, left: tuple[Memory, Memory], right: tuple[Memory, Memory]):
        proto = SimpleNamespace(
            owner=self.node,
            left_memo=left[1],
            right_memo=right[0],
            is_twirled=self.twirled_swap,
            name="swap",
        )
        weights = EntanglementSwappingA_BDS.swapping_res(proto)
        self.qm.set([left[0].qstate_key, right[1].qstate_key], list(weights))
        return left[0], right[1]


def sequence_chain(
    weights_qkit: np.ndarray, dephasing: float, twirled_swap: bool
) -> tuple[np.ndarray, list[float]]:
    """Two links, one DEJMPS round per level, by SeQUeNCe's formulas: (weights, p)."""
    chain = Chain(dephasing, twirled_swap)
    w = np.asarray(weights_qkit)[TO_SEQUENCE]
    probabilities = []
    kept_pairs = []
    for _ in range(2):  # the two links, each purified from two delivered pairs
        kept, measured = chain.pair(w), chain.pair(w)
        chain.dephase([kept, measured])
        probabilities.append(chain.dejmps(kept, measured))
        kept_pairs.append(kept)
    assert np.isclose(probabilities[0], probabilities[1])
    level_p = [probabilities[0]]
    # level 1: two copies of the swapped pair (the same model as qkit: identical pairs)
    tops = []
    for _ in range(2):
        a, b = chain.pair(chain.weights(kept_pairs[0])), chain.pair(chain.weights(kept_pairs[1]))
        tops.append(chain.swap(a, b))
    chain.dephase(tops)
    level_p.append(chain.dejmps(tops[0], tops[1]))
    return chain.weights(tops[0])[TO_QKIT], level_p


def compare(label: str, link_rho: np.ndarray, dephasing: float) -> None:
    rho, p_qkit = theory.chain_state_from(link_rho, 2, 1, dephasing)
    w_qkit = distill.bell_weights(rho)
    w_twirled, p_twirled = theory.bell_diagonal_chain_levels(
        distill.bell_weights(link_rho), 1, 1, dephasing
    )
    print(f"\n{label}, P = {dephasing:g}, 2 links, 1 DEJMPS round per level")
    print(f"  {'':34s} {'F (Phi+)':>12s} {'Psi-':>10s} {'Psi+':>10s} {'Phi-':>10s}   p0, p1")
    print(f"  {'qkit exact (4x4 states)':34s} " + _row(w_qkit, p_qkit))
    print(f"  {'qkit twirled links (recurrences)':34s} " + _row(w_twirled[-1], p_twirled.ravel()))
    for twirled in (False, True):
        w_seq, p_seq = sequence_chain(distill.bell_weights(link_rho), dephasing, twirled)
        name = f"SeQUeNCe BDS, is_twirled={twirled}"
        print(f"  {name:34s} " + _row(w_seq, p_seq))
        diff = np.max(np.abs(w_seq - w_twirled[-1]))
        dp = np.max(np.abs(np.array(p_seq) - p_twirled.ravel()))
        print(f"  {'':34s} max |SeQUeNCe - qkit twirled|: weights {diff:.1e}, p {dp:.1e}")


def _row(w: np.ndarray, p) -> str:
    return " ".join(f"{x:10.8f}" for x in w) + "   " + ", ".join(f"{x:.8f}" for x in p)


def main() -> None:
    for f in (0.9, 0.75):
        compare(
            f"Werner links F = {f:g}", distill.bell_diagonal_state(distill.werner_weights(f)), 0.02
        )
    compare("Werner links F = 0.9", distill.bell_diagonal_state(distill.werner_weights(0.9)), 0.0)
    compare("mixed-up pairs S = 0.9, a = 0.6", mixup.state(0.9, 0.6), 0.02)


if __name__ == "__main__":
    main()
