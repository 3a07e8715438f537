"""Paper B closed forms (qkit.channel.theory) against explicit density-matrix numerics.

The reference channel here is built independently of the closed forms: the ``U ⊗ U`` Haar
twirl as the average over the 24 single-qubit Cliffords (a unitary 2-design), generated in this
file from H and S, followed by the depolarization of photon 2,
``eta rho + (1 - eta) Tr_2[rho] ⊗ I/2``; Holevo quantities via ``qkit.measures``.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar

from qkit import measures
from qkit.channel import theory

SINGLET = np.array([0, 1, -1, 0]) / np.sqrt(2)
ETAS = np.array([0.0, 1e-7, 0.003, 0.05, 0.2, 0.5, 0.8, 0.97, 1.0])
INPUTS = ("entangled", "separable")
eta_strategy = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _cliffords() -> np.ndarray:
    gens = [np.array([[1, 1], [1, -1]]) / np.sqrt(2), np.diag([1, 1j])]
    found = [np.eye(2, dtype=complex)]
    frontier = list(found)
    while frontier:
        new = []
        for u in frontier:
            for gen in gens:
                v = gen @ u
                if not any(abs(abs(np.trace(w.conj().T @ v)) - 2) < 1e-9 for w in found):
                    found.append(v)
                    new.append(v)
        frontier = new
    return np.array(found)


CLIFFORD_PAIRS = np.array([np.kron(c, c) for c in _cliffords()])


def reference_channel(rho: np.ndarray, eta: float) -> np.ndarray:
    """Twirl by C ⊗ C over the Clifford group, then depolarize photon 2 with shrink eta."""
    twirled = np.einsum("kab,...bc,kdc->...ad", CLIFFORD_PAIRS, rho, CLIFFORD_PAIRS.conj()) / len(
        CLIFFORD_PAIRS
    )
    reduced = measures.partial_trace(twirled, 0)
    product = np.einsum("...ac,bd->...abcd", reduced, np.eye(2) / 2).reshape(twirled.shape)
    return eta * twirled + (1 - eta) * product


def random_pure(rng: np.random.Generator, dim: int = 4) -> np.ndarray:
    psi = rng.normal(size=dim) + 1j * rng.normal(size=dim)
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


def random_entangled_input(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        return random_pure(rng)
    seed = int(rng.integers(2**31))
    return qutip.rand_dm(4, density=1.0, seed=seed).full()


def random_separable_input(rng: np.random.Generator) -> np.ndarray:
    weights = rng.dirichlet(np.ones(int(rng.integers(1, 4))))
    return sum(w * np.kron(random_pure(rng, 2), random_pure(rng, 2)) for w in weights)


def test_clifford_reference_is_the_24_element_group():
    assert len(CLIFFORD_PAIRS) == 24


def test_werner_state_has_singlet_weight_and_eq20_parameter(rng):
    p = rng.uniform(-1 / 3, 1, size=7)
    rho = theory.werner_state(p)
    assert np.allclose(np.trace(rho, axis1=-2, axis2=-1), 1)
    assert np.all(np.linalg.eigvalsh(rho) > -1e-12)
    assert np.allclose(measures.fidelity_pure(SINGLET, rho), (1 + 3 * p) / 4)
    assert np.allclose(theory.werner_parameter(rho), p)


def test_twirl_of_any_input_is_the_werner_state_of_its_eq20_parameter(rng):
    for _ in range(10):
        rho = random_entangled_input(rng)
        eta = rng.uniform()
        expected = theory.werner_state(eta * theory.werner_parameter(rho))
        assert np.allclose(reference_channel(rho, eta), expected, atol=1e-12)


def test_werner_range_contains_random_states_and_separable_states_stay_below_one_third(rng):
    lo, hi = theory.werner_range("entangled")
    lo_sep, hi_sep = theory.werner_range("separable")
    assert (lo, hi, lo_sep) == (-1 / 3, 1.0, -1 / 3) and hi_sep == pytest.approx(1 / 3)
    p_any = theory.werner_parameter(np.array([random_entangled_input(rng) for _ in range(200)]))
    p_sep = theory.werner_parameter(np.array([random_separable_input(rng) for _ in range(200)]))
    assert p_any.min() >= lo - 1e-12 and p_any.max() <= hi + 1e-12
    assert p_sep.min() >= lo_sep - 1e-12 and p_sep.max() <= hi_sep + 1e-12
    assert p_any.max() > hi_sep  # entangled inputs reach beyond the separable range


def test_singlet_probability_and_output_entropy_match_the_werner_spectrum():
    q = np.linspace(-1 / 3, 1, 13)
    eigs = np.linalg.eigvalsh(theory.werner_state(q))
    s = theory.singlet_probability(q)
    assert np.allclose(measures.fidelity_pure(SINGLET, theory.werner_state(q)), s)
    expected = np.sort(np.stack([s, (1 - q) / 4, (1 - q) / 4, (1 - q) / 4], axis=-1), axis=-1)
    assert np.allclose(eigs, expected)
    assert np.allclose(
        theory.output_entropy(q), measures.von_neumann_entropy(theory.werner_state(q))
    )
    for qi in q:
        assert theory.output_entropy(qi) == pytest.approx(
            qutip.entropy_vn(qutip.Qobj(theory.werner_state(qi)), base=2), abs=1e-10
        )


def test_eq25_holevo_matches_explicit_holevo_of_channel_outputs(rng):
    for _ in range(20):
        k = int(rng.integers(2, 6))
        inputs = np.array([random_entangled_input(rng) for _ in range(k)])
        prob = rng.dirichlet(np.ones(k))
        eta = rng.uniform()
        explicit = measures.holevo_chi(prob, reference_channel(inputs, eta))
        closed = theory.holevo_two_photon(prob, theory.werner_parameter(inputs), eta)
        assert closed == pytest.approx(explicit, abs=1e-10)


@pytest.mark.parametrize("inputs", INPUTS)
def test_chi2_is_the_explicit_holevo_of_the_optimal_ensemble_outputs(inputs):
    ens = theory.optimal_ensemble(ETAS, inputs)
    assert np.allclose(theory.werner_parameter(ens["states"]), ens["werner_parameters"])
    assert np.allclose(ens["werner_parameters"], theory.werner_range(inputs)[::-1])
    for eta, prob in zip(ETAS, ens["probabilities"], strict=True):
        explicit = measures.holevo_chi(prob, reference_channel(ens["states"], eta))
        assert theory.chi2(eta, inputs) == pytest.approx(explicit, abs=1e-10)
    assert np.allclose(theory.chi2(ETAS, inputs), [theory.chi2(e, inputs) for e in ETAS])


def test_optimal_separable_states_are_product_states_and_labels_are_as_documented():
    ent, sep = theory.optimal_ensemble(0.5, "entangled"), theory.optimal_ensemble(0.5, "separable")
    assert ent["labels"] == ("singlet", "triplet_HH") and sep["labels"] == ("HV", "HH")
    assert np.allclose(measures.concurrence(sep["states"]), 0)
    assert np.allclose(measures.concurrence(ent["states"]), [1, 0])


@pytest.mark.parametrize("inputs", INPUTS)
def test_chi2_equals_numerical_maximum_over_the_two_end_probabilities(inputs):
    hi, lo = theory.werner_range(inputs)[::-1]
    for eta in ETAS[ETAS > 0.01]:
        states = theory.optimal_ensemble(eta, inputs)["states"]
        outputs = reference_channel(states, eta)

        def minus_chi(x, outputs=outputs):
            return -float(measures.holevo_chi([x, 1 - x], outputs))

        best = minimize_scalar(minus_chi, bounds=(0, 1), method="bounded", options={"xatol": 1e-10})
        assert theory.chi2(eta, inputs) == pytest.approx(-best.fun, abs=1e-9)
        prob = theory.optimal_ensemble(eta, inputs)["probabilities"][0]
        assert prob == pytest.approx(best.x, abs=1e-4)  # the optimum is flat: chi is quadratic


@pytest.mark.parametrize("inputs", INPUTS)
def test_random_input_ensembles_never_beat_chi2(inputs):
    """Brute force: 600 random ensembles of 3-6 states (Lemma 2 and Eqs. 22-23)."""
    rng = np.random.default_rng(7 if inputs == "entangled" else 8)
    draw = random_entangled_input if inputs == "entangled" else random_separable_input
    optimal = theory.optimal_ensemble(0.5, inputs)["states"]
    closest = 0.0
    for trial in range(600):
        eta = float(ETAS[trial % len(ETAS)]) if trial < 100 else float(rng.uniform())
        k = int(rng.integers(3, 7))
        states = np.array([draw(rng) for _ in range(k)])
        if trial % 2:  # stress the bound near the optimum: slightly noisy optimal states
            eps = rng.uniform(0, 0.05, size=(2, 1, 1))
            states[:2] = (1 - eps) * optimal + eps * states[:2]
        prob = rng.dirichlet(np.ones(k))
        chi = float(measures.holevo_chi(prob, reference_channel(states, eta)))
        assert chi <= theory.chi2(eta, inputs) + 1e-9
        if eta > 0.05:
            closest = max(closest, chi / theory.chi2(eta, inputs))
    # the search came close to the bound, so it could have crossed it. Seeded: with seeds
    # 100-199 the closest ratio was <= 0.9 in 6% (entangled) and 11% (separable) of searches,
    # a false failure of ~0.16 per run were the seeds redrawn (worse than 1e-3)
    assert closest > 0.9


def test_numerical_optimization_over_werner_parameter_ensembles_finds_chi2():
    """Lemma 2: free 4-element ensembles in p-space converge to the two-end optimum."""
    rng = np.random.default_rng(3)
    for inputs in INPUTS:
        lo, hi = theory.werner_range(inputs)
        for eta in (0.4, 0.9):

            def minus_chi(x, lo=lo, hi=hi, eta=eta):
                prob = np.exp(x[:4]) / np.sum(np.exp(x[:4]))
                p = lo + (hi - lo) / (1 + np.exp(-x[4:]))
                return -float(theory.holevo_two_photon(prob, p, eta))

            best = min(
                (minimize(minus_chi, rng.normal(size=8), method="L-BFGS-B") for _ in range(3)),
                key=lambda r: r.fun,
            )
            assert -best.fun <= theory.chi2(eta, inputs) + 1e-12
            assert -best.fun == pytest.approx(theory.chi2(eta, inputs), rel=1e-3)


def test_capacity_at_full_correlation_is_log2_5_entangled_and_log2_17_4_separable():
    assert theory.chi2(1.0, "entangled") == pytest.approx(1.0, abs=1e-14)
    assert theory.chi2(1.0, "separable") == pytest.approx(np.log2(5 / 4), abs=1e-14)
    assert theory.capacity(1.0, "entangled") == pytest.approx(np.log2(5), abs=1e-14)
    assert theory.capacity(1.0, "separable") == pytest.approx(np.log2(17 / 4), abs=1e-14)
    assert theory.capacity_unpolarized() == pytest.approx(np.log2(4))


@pytest.mark.parametrize("inputs", INPUTS)
def test_polarization_adds_nothing_at_eta_zero(inputs):
    assert theory.chi2(0.0, inputs) == 0.0
    assert theory.capacity(0.0, inputs) == pytest.approx(theory.capacity_unpolarized())
    ens = theory.optimal_ensemble(0.0, inputs)
    assert np.all(np.isfinite(ens["probabilities"]))
    assert np.allclose(ens["probabilities"], theory.optimal_ensemble(1e-9, inputs)["probabilities"])


@pytest.mark.parametrize("inputs", INPUTS)
def test_sector_probabilities_and_eq8_maximize_the_eq4_holevo_sum(inputs):
    """Eq. 4: chi = sum_n P_n chi_n + H(P); maximized numerically over the simplex."""
    for eta in (0.0, 0.3, 1.0):
        chis = np.array([theory.CHI0, theory.CHI1, theory.chi2(eta, inputs)])

        def minus_total(x, chis=chis):
            prob = np.exp(x) / np.sum(np.exp(x))
            return -(prob @ chis + measures.shannon_entropy(prob))

        best = minimize(minus_total, np.zeros(3), method="BFGS")
        assert theory.capacity(eta, inputs) == pytest.approx(-best.fun, abs=1e-8)
        prob = np.exp(best.x) / np.sum(np.exp(best.x))
        assert np.allclose(theory.sector_probabilities(eta, inputs), prob, atol=1e-4)
    assert np.allclose(theory.sector_probabilities(1.0, "entangled"), [0.2, 0.4, 0.4])


def test_fig4_conditional_probabilities():
    ent = theory.conditional_probabilities(np.array(theory.werner_range("entangled"))[::-1], 1.0)
    sep = theory.conditional_probabilities(np.array(theory.werner_range("separable"))[::-1], 1.0)
    assert np.allclose(ent, [[1, 0], [0, 1]])  # Fig. 4(b): perfectly distinguishable
    assert np.allclose(sep, [[0.5, 0.5], [0, 1]])  # Fig. 4(c): |HV> is half singlet


def test_conditional_probabilities_match_singlet_projection_of_explicit_outputs(rng):
    singlet_projector = np.outer(SINGLET, SINGLET)
    for _ in range(20):
        rho, eta = random_entangled_input(rng), rng.uniform()
        explicit = np.real(np.trace(singlet_projector @ reference_channel(rho, eta)))
        cond = theory.conditional_probabilities(theory.werner_parameter(rho), eta)
        assert cond == pytest.approx([explicit, 1 - explicit], abs=1e-12)


def test_singlet_triplet_mutual_information_equals_the_holevo_quantity(rng):
    for _ in range(30):
        k = int(rng.integers(2, 6))
        prob, p, eta = rng.dirichlet(np.ones(k)), rng.uniform(-1 / 3, 1, size=k), rng.uniform()
        mi = theory.measurement_mutual_information(prob, p, eta)
        explicit = measures.holevo_chi(prob, reference_channel(theory.werner_state(p), eta))
        assert mi == pytest.approx(explicit, abs=1e-10)
        assert mi == pytest.approx(theory.holevo_two_photon(prob, p, eta), abs=1e-10)


@pytest.mark.parametrize("inputs", INPUTS)
def test_receiver_matrix_is_stochastic_and_its_mutual_information_is_the_capacity(inputs):
    matrix = theory.receiver_conditional_probabilities(ETAS, inputs)
    prior = theory.two_slot_ensemble(ETAS, inputs)["probabilities"]
    assert matrix.shape == (len(ETAS), 5, 5)
    assert np.allclose(matrix.sum(axis=-1), 1) and np.all(matrix >= 0)
    assert np.allclose(prior.sum(axis=-1), 1)
    mi = measures.mutual_information(prior[..., None] * matrix)
    assert np.allclose(mi, theory.capacity(ETAS, inputs), atol=1e-10)


def test_two_slot_ensemble_states_are_the_documented_kets():
    ens = theory.two_slot_ensemble(0.6, "separable")
    assert ens["labels"] == ("empty", "slot1", "slot2", "HV", "HH")
    index = {"empty": 0, "slot1": 3 * 2 + 0, "slot2": 0 * 3 + 2, "HV": 3 * 1 + 2, "HH": 3 * 1 + 1}
    for label, state in zip(ens["labels"], ens["states"], strict=True):
        expected = np.zeros((9, 9))
        expected[index[label], index[label]] = 1
        assert np.allclose(state, expected), label
    z = 3 + 2 ** theory.chi2(0.6, "separable")
    assert np.allclose(ens["probabilities"][:3], 1 / z)


def test_train_rate_is_two_and_a_half_bits_at_full_correlation():
    assert theory.train_capacity(1.0, "entangled") == pytest.approx(2.5)
    assert theory.train_capacity(0.0, "entangled") == pytest.approx(2.0)
    eta = np.linspace(0, 1, 11)
    assert np.allclose(
        theory.train_capacity(eta, "separable"), 2 + theory.chi2(eta, "separable") / 2
    )
    assert np.all(theory.train_capacity(1.0, "entangled") > theory.capacity(1.0, "entangled"))


@given(eta=eta_strategy, other=eta_strategy)
@settings(max_examples=150, deadline=None)
def test_chi2_is_monotone_bounded_and_entanglement_never_hurts(eta, other):
    low, high = min(eta, other), max(eta, other)
    for inputs in INPUTS:
        assert 0 <= theory.chi2(low, inputs) <= theory.chi2(high, inputs) + 1e-13 <= 1 + 1e-13
        assert 2 - 1e-13 <= theory.capacity(eta, inputs) <= np.log2(5) + 1e-13
    assert theory.chi2(eta, "entangled") >= theory.chi2(eta, "separable") - 1e-15


@given(eta=eta_strategy, inputs=st.sampled_from(INPUTS))
@settings(max_examples=150, deadline=None)
def test_optimal_probabilities_attain_chi2_and_beat_neighbours(eta, inputs):
    ens = theory.optimal_ensemble(eta, inputs)
    prob = ens["probabilities"]
    assert np.all((prob >= 0) & (prob <= 1)) and prob.sum() == pytest.approx(1)
    chi = theory.holevo_two_photon(prob, ens["werner_parameters"], eta)
    assert chi == pytest.approx(theory.chi2(eta, inputs), abs=1e-12)
    for shift in (-0.02, 0.02):
        moved = np.clip(prob[0] + shift, 0, 1)
        other = theory.holevo_two_photon([moved, 1 - moved], ens["werner_parameters"], eta)
        assert other <= chi + 1e-13
    assert np.allclose(theory.sector_probabilities(eta, inputs).sum(), 1)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: theory.chi2(1.5, "entangled"), "eta"),
        (lambda: theory.capacity(-0.1, "separable"), "eta"),
        (lambda: theory.chi2(0.5, "bell"), "inputs"),
        (lambda: theory.werner_range("mixed"), "inputs"),
        (lambda: theory.werner_state(1.2), "p"),
        (lambda: theory.singlet_probability(-0.5), "q"),
        (lambda: theory.output_entropy(np.nan), "q"),
        (lambda: theory.holevo_two_photon([0.5, 0.6], [1, 0], 0.5), "probabilities"),
        (lambda: theory.holevo_two_photon([0.5, 0.5], [1, -0.5], 0.5), "werner_parameters"),
        (lambda: theory.conditional_probabilities(2.0, 0.5), "werner_parameters"),
        (lambda: theory.werner_parameter(np.eye(3) / 3), "rho"),
        (lambda: theory.werner_parameter(np.zeros((4, 4))), "rho"),  # was -1/3
        (lambda: theory.werner_parameter(np.full((4, 4), np.nan)), "rho"),  # was nan
        (lambda: theory.werner_parameter(2 * theory.werner_state(1.0)), "rho"),
        (lambda: theory.embed_two_photon(np.diag([1.5, -0.5, 0, 0])), "rho"),
        (lambda: theory.two_slot_ensemble(2, "entangled"), "eta"),
        (lambda: theory.receiver_conditional_probabilities(0.5, "x"), "inputs"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
