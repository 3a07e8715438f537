"""Paper B's channel built from field operators (qkit.channel.optics) against the closed forms.

The optics model is the definition (Eqs. 9-12); qkit.channel.theory is the closed-form
solution. Holevo quantities via ``qkit.measures.holevo_chi``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import qutip
from scipy.optimize import minimize
from scipy.stats import unitary_group

from qkit import measures
from qkit.channel import optics, theory

SINGLET = np.array([0, 1, -1, 0]) / np.sqrt(2)
TWO_PHOTON = list(theory.TWO_PHOTON_INDICES)
ONE_PHOTON = [1, 2, 3, 6]  # |vac,H>, |vac,V>, |H,vac>, |V,vac>
INPUTS = ("entangled", "separable")


def out(rho, eta: float) -> np.ndarray:
    return optics.channel(rho, eta).full()


@pytest.fixture(scope="module")
def superoperators() -> dict[float, np.ndarray]:
    """The (linear) optics channel as 81x81 matrices acting on row-major vec(rho)."""
    result = {}
    for eta in (0.0, 0.35, 1.0):
        columns = []
        for k in range(81):
            unit = np.zeros(81, dtype=complex)
            unit[k] = 1.0
            basis = unit.reshape(9, 9)
            # The channel is linear: feed Hermitian, unit-trace combinations and unmix.
            columns.append(_apply_linear(basis, eta))
        result[eta] = np.array(columns).T
        rho = qutip.rand_dm(9, density=1.0, seed=1).full()
        assert np.allclose((result[eta] @ rho.ravel()).reshape(9, 9), out(rho, eta))
    return result


def _apply_linear(matrix: np.ndarray, eta: float) -> np.ndarray:
    """Apply the channel to any 9x9 matrix by linearity from density matrices."""
    herm, anti = (matrix + matrix.conj().T) / 2, (matrix - matrix.conj().T) / 2j
    return (_apply_hermitian(herm, eta) + 1j * _apply_hermitian(anti, eta)).ravel()


def _apply_hermitian(h: np.ndarray, eta: float) -> np.ndarray:
    # h = (t + s) rho_+ - s rho_- with rho_pm states: shift by the identity to make it positive.
    shift = max(0.0, -np.linalg.eigvalsh(h).min()) + 1.0
    positive = h + shift * np.eye(9)
    norm = np.trace(positive).real
    return norm * out(positive / norm, eta) - shift * 9 * _maximally_mixed_output(eta)


@lru_cache
def _maximally_mixed_output(eta: float) -> np.ndarray:
    return out(np.eye(9) / 9, eta)


def test_slot_unitary_from_field_operators_is_one_plus_g_and_a_representation():
    rng = np.random.default_rng(1)
    for _ in range(5):
        g1, g2 = unitary_group.rvs(2, size=2, random_state=rng)
        direct = np.zeros((3, 3), dtype=complex)
        direct[0, 0], direct[1:, 1:] = 1, g1
        assert np.allclose(optics.slot_unitary(g1).full(), direct, atol=1e-12)
        assert np.allclose(optics.field_unitary(g1).full(), np.kron(direct, direct), atol=1e-12)
        product = optics.field_unitary(g1 @ g2).full()
        composed = (optics.field_unitary(g1) * optics.field_unitary(g2)).full()
        assert np.allclose(product, composed, atol=1e-12)


def test_exact_average_set_is_a_unitary_2_design():
    """Frame potential (1/|G|^2) sum |Tr C_i^dag C_j|^4 = 2, the Haar value for U(2), t = 2."""
    group = optics.clifford_group()
    assert len(group) == 24
    overlaps = np.abs(np.einsum("iab,jab->ij", group.conj(), group)) ** 4
    assert overlaps.mean() == pytest.approx(2.0)


def test_exact_channel_agrees_with_haar_monte_carlo():
    """Hoeffding: entries of one Haar sample lie in [-1/2, 1/2] (off-diagonal) or [0, 1], so
    P(|mean - exact| > 0.05) <= 2 exp(-2 n 0.05^2) = 4e-9 per real entry at n = 4000:
    false-failure rate below 1e-6 over the 162 real entries. The state carries 1/4-size
    coherences between all sectors, which the exact average must remove."""
    kets = optics.two_slot_basis()
    psi = (kets["vac,vac"] + kets["V,vac"] + kets["H,V"] - kets["V,H"]).unit()
    for eta in (0.0, 0.3, 1.0):
        exact = optics.channel(psi * psi.dag(), eta).full()
        sampled = optics.channel(psi * psi.dag(), eta, "haar", n_samples=4000, seed=11).full()
        assert np.abs(exact - sampled).max() < 0.05
    assert np.abs(exact[0, 6]) < 1e-14 and np.abs(exact[0, 5]) < 1e-14


def test_lemma1_channel_removes_all_coherence_between_photon_numbers():
    projectors = [p.full() for p in optics.sector_projectors()]
    for seed in range(5):
        rho = qutip.rand_dm(9, density=1.0, seed=seed)
        for eta in (0.0, 0.6, 1.0):
            output = out(rho, eta)
            assert np.trace(output).real == pytest.approx(1.0)
            assert np.linalg.eigvalsh(output).min() > -1e-12
            for n in range(3):
                for m in range(3):
                    block = projectors[n] @ output @ projectors[m]
                    if n != m:
                        assert np.abs(block).max() < 1e-13
                # Each sector keeps its weight: the channel does not move photons.
                assert np.trace(projectors[n] @ output).real == pytest.approx(
                    np.trace(projectors[n] @ rho.full()).real
                )


def test_two_photon_output_is_the_werner_state_of_parameter_eta_p():
    for seed in range(8):
        rho4 = qutip.rand_dm(4, density=1.0, seed=100 + seed).full()
        eta = (seed + 0.5) / 8
        output = out(theory.embed_two_photon(rho4), eta)
        block = output[np.ix_(TWO_PHOTON, TWO_PHOTON)]
        expected = theory.werner_state(eta * theory.werner_parameter(rho4))
        assert np.allclose(block, expected, atol=1e-12)


def test_one_photon_sector_output_is_eq15_with_which_slot_coherence_shrunk_by_eta():
    rng = np.random.default_rng(5)
    for eta in (0.0, 0.4, 1.0):
        psi = rng.normal(size=4) + 1j * rng.normal(size=4)
        psi /= np.linalg.norm(psi)
        rho = np.zeros((9, 9), dtype=complex)
        rho[np.ix_(ONE_PHOTON, ONE_PHOTON)] = np.outer(psi, psi.conj())
        block = out(rho, eta)[np.ix_(ONE_PHOTON, ONE_PHOTON)]
        # Reorder to (slot, polarization): slot 1 = |H,vac>,|V,vac>; slot 2 = |vac,H>,|vac,V>.
        order = [2, 3, 0, 1]
        slot_pol = np.outer(psi, psi.conj())[np.ix_(order, order)].reshape(2, 2, 2, 2)
        which_slot = np.einsum("apbp->ab", slot_pol)
        which_slot[0, 1] *= eta
        which_slot[1, 0] *= eta
        expected = np.kron(which_slot, np.eye(2) / 2)
        assert np.allclose(block[np.ix_(order, order)], expected, atol=1e-12)


def test_one_photon_holevo_quantity_is_at_most_one_bit(superoperators):
    """chi_1 = 1: random ensembles and a numerical optimization over 3-state ensembles."""
    rng = np.random.default_rng(9)

    def chi_of(params: np.ndarray, superop: np.ndarray) -> float:
        amplitudes = (params[:24:2] + 1j * params[1:24:2]).reshape(3, 4)
        amplitudes /= np.linalg.norm(amplitudes, axis=1, keepdims=True)
        states = np.zeros((3, 9, 9), dtype=complex)
        for k, a in enumerate(amplitudes):
            states[k][np.ix_(ONE_PHOTON, ONE_PHOTON)] = np.outer(a, a.conj())
        outputs = (states.reshape(3, 81) @ superop.T).reshape(3, 9, 9)
        prob = np.exp(params[24:]) / np.sum(np.exp(params[24:]))
        return float(measures.holevo_chi(prob, outputs))

    for eta, superop in superoperators.items():
        found = [chi_of(rng.normal(size=27), superop) for _ in range(200)]
        for _ in range(2):
            best = minimize(lambda x, s=superop: -chi_of(x, s), rng.normal(size=27), method="BFGS")
            found.append(-best.fun)
        assert max(found) <= theory.CHI1 + 1e-9
        # which-slot letters reach the bound (seeded search; with seeds 100-109 BFGS reached
        # 1 - 1e-8 in all 30 searches, so another seed fails this rarely)
        assert max(found) > 0.99
        kets = optics.two_slot_basis()
        slots = [qutip.ket2dm(kets["V,vac"]).full(), qutip.ket2dm(kets["vac,V"]).full()]
        outputs = [out(s, eta) for s in slots]
        assert measures.holevo_chi([0.5, 0.5], outputs) == pytest.approx(theory.CHI1)


@pytest.mark.parametrize("inputs", INPUTS)
def test_optics_map_with_optimal_two_slot_ensemble_attains_the_capacity(inputs):
    for eta in (0.0, 0.15, 0.5, 0.9, 1.0):
        ens = theory.two_slot_ensemble(eta, inputs)
        outputs = np.array([out(state, eta) for state in ens["states"]])
        chi = measures.holevo_chi(ens["probabilities"], outputs)
        assert chi == pytest.approx(theory.capacity(eta, inputs), abs=1e-10)


def _random_product_two_slot(rng: np.random.Generator) -> np.ndarray:
    weights = rng.dirichlet(np.ones(int(rng.integers(1, 3))))
    state = np.zeros((9, 9), dtype=complex)
    for w in weights:
        a, b = (rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))) * rng.uniform(0, 1, 3) ** 2
        ket = np.kron(a / np.linalg.norm(a), b / np.linalg.norm(b))
        state += w * np.outer(ket, ket.conj())
    return state


@pytest.mark.parametrize("inputs", INPUTS)
def test_random_two_slot_ensembles_never_beat_the_capacity(inputs, superoperators):
    """Eq. 8 bounds every ensemble on the 9-dim space, entangled across slots or not."""
    rng = np.random.default_rng(21 if inputs == "entangled" else 22)
    optimal = {eta: theory.two_slot_ensemble(eta, inputs) for eta in superoperators}
    closest = 0.0
    for trial in range(150):
        eta = list(superoperators)[trial % 3]
        k = int(rng.integers(3, 7))
        if inputs == "entangled":
            states = np.array(
                [
                    qutip.rand_dm(9, density=1.0, seed=int(rng.integers(2**31))).full()
                    for _ in range(k)
                ]
            )
        else:
            states = np.array([_random_product_two_slot(rng) for _ in range(k)])
        prob = rng.dirichlet(np.ones(k))
        if trial % 2:  # near the optimum: noisy optimal letters with perturbed probabilities
            eps = rng.uniform(0, 0.05)
            states = (1 - eps) * optimal[eta]["states"] + eps * states[:1]
            prob = optimal[eta]["probabilities"] * rng.uniform(0.9, 1.1, 5)
            prob /= prob.sum()
        outputs = (states.reshape(len(states), 81) @ superoperators[eta].T).reshape(-1, 9, 9)
        chi = float(measures.holevo_chi(prob, outputs))
        assert chi <= theory.capacity(eta, inputs) + 1e-9
        closest = max(closest, chi / theory.capacity(eta, inputs))
    assert closest > 0.99  # the search came close to the bound, so it could have crossed it


def test_full_receiver_on_optics_outputs_gives_the_receiver_matrix_and_the_capacity():
    kets = list(optics.two_slot_basis().values())

    def occupation_projector(slot1: bool, slot2: bool) -> np.ndarray:
        idx = [i for i in range(9) if (i // 3 > 0, i % 3 > 0) == (slot1, slot2)]
        return sum(kets[i] * kets[i].dag() for i in idx).full()

    singlet = theory.embed_two_photon(np.outer(SINGLET, SINGLET))
    povm = [
        occupation_projector(False, False),
        occupation_projector(True, False),
        occupation_projector(False, True),
        singlet,
        occupation_projector(True, True) - singlet,
    ]
    assert np.allclose(sum(povm), np.eye(9))
    for inputs in INPUTS:
        for eta in (0.0, 0.45, 1.0):
            ens = theory.two_slot_ensemble(eta, inputs)
            matrix = np.array(
                [[np.trace(e @ out(s, eta)).real for e in povm] for s in ens["states"]]
            )
            assert np.allclose(matrix, theory.receiver_conditional_probabilities(eta, inputs))
            mi = measures.mutual_information(ens["probabilities"][:, None] * matrix)
            assert mi == pytest.approx(theory.capacity(eta, inputs), abs=1e-10)


@pytest.mark.parametrize(
    ("ket", "port"),
    [
        ([0, 1, -1, 0], "different_ports"),  # singlet
        ([1, 0, 0, 0], "same_port"),  # |HH>
        ([0, 0, 0, 1], "same_port"),  # |VV>
        ([0, 1, 1, 0], "same_port"),  # psi+
        ([1, 0, 0, 1], "same_port"),  # phi+
        ([1, 0, 0, -1], "same_port"),  # phi-
    ],
)
def test_beam_splitter_sends_singlet_apart_and_bunches_triplets(ket, port):
    ket = np.array(ket, dtype=complex) / np.linalg.norm(ket)
    result = optics.beam_splitter_probabilities(ket)
    assert result[port] == pytest.approx(1.0, abs=1e-12)
    assert result["different_ports"] + result["same_port"] == pytest.approx(1.0, abs=1e-12)


def test_beam_splitter_singlet_probability_for_werner_and_random_states():
    for p in np.linspace(-1 / 3, 1, 7):
        result = optics.beam_splitter_probabilities(theory.werner_state(p))
        assert result["different_ports"] == pytest.approx(theory.singlet_probability(p), abs=1e-12)
    for seed in range(5):
        rho = qutip.rand_dm(4, density=1.0, seed=seed)
        result = optics.beam_splitter_probabilities(rho)
        fidelity = measures.fidelity_pure(SINGLET, rho.full())
        assert result["different_ports"] == pytest.approx(fidelity, abs=1e-12)
        assert result["different_ports"] + result["same_port"] == pytest.approx(1.0, abs=1e-12)
    ket = qutip.rand_ket(4, seed=3).full().ravel()
    assert optics.beam_splitter_probabilities(ket) == pytest.approx(
        optics.beam_splitter_probabilities(np.outer(ket, ket.conj()))
    )


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: optics.channel(np.eye(9) / 9, 1.2), "eta"),
        (lambda: optics.channel(np.eye(9) / 9, 0.5, method="twirl"), "method"),
        (lambda: optics.channel(np.eye(4) / 4, 0.5), "rho"),
        (lambda: optics.channel(np.eye(9) / 9, 0.5, "haar", n_samples=0), "n_samples"),
        (lambda: optics.field_unitary(np.ones((2, 2))), "g"),
        (lambda: optics.beam_splitter_probabilities(np.ones(3)), "polarization_state"),
        (lambda: optics.beam_splitter_probabilities(np.ones(4)), "polarization_state"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
