"""Paper A closed forms against explicit density-matrix numerics (qkit.measures) and QuTiP."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from qkit import measures
from qkit.mixup import theory
from tests.conftest import random_density_matrix

success = st.floats(min_value=1e-3, max_value=1.0)
amplitude = st.floats(min_value=0.0, max_value=1.0)
BELL = 2**-0.5


def numeric_state(s: float, a: float) -> np.ndarray:
    """M[psi_a] built from the definition (Eq. 2.1) with explicit partial traces."""
    psi = theory.psi(a)
    return theory.mixup(np.outer(psi, psi.conj()), s)


def numeric_state_by_swapping(s: float, rho: np.ndarray) -> np.ndarray:
    """M[rho] as the reduced state of (A1 B1) when B1 <-> B2 are swapped with probability 1 - S."""
    two_pairs = np.kron(rho, rho)  # order A1 B1 A2 B2
    swap = np.eye(16)[
        [
            int(f"{a1}{b2}{a2}{b1}", 2)
            for a1 in (0, 1)
            for b1 in (0, 1)
            for a2 in (0, 1)
            for b2 in (0, 1)
        ]
    ]
    mixed = s * two_pairs + (1 - s) * swap @ two_pairs @ swap.T
    return qutip.Qobj(mixed, dims=[[2] * 4] * 2).ptrace([0, 1]).full()


@given(s=success, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_mixup_of_any_state_is_the_swap_twirl_and_a_state(s, seed):
    rho = random_density_matrix(np.random.default_rng(seed))
    out = theory.mixup(rho, s)
    assert np.allclose(out, numeric_state_by_swapping(s, rho), atol=1e-12)
    assert np.trace(out).real == pytest.approx(1.0)
    assert np.allclose(out, out.conj().T)
    assert np.linalg.eigvalsh(out).min() > -1e-12


@given(s=success, a=amplitude)
@settings(max_examples=80, deadline=None)
def test_closed_form_state_matches_the_definition(s, a):
    assert np.allclose(theory.state(s, a), numeric_state(s, a), atol=1e-14)


@given(s=success, a=amplitude)
@settings(max_examples=80, deadline=None)
def test_fidelity_eq_3_2_matches_numerics(s, a):
    rho = numeric_state(s, a)
    assert float(theory.fidelity(s, a)) == pytest.approx(
        float(measures.fidelity_pure(theory.psi(a), rho)), abs=1e-12
    )


@given(s=success, a=amplitude)
@settings(max_examples=80, deadline=None)
def test_concurrence_eq_3_3_matches_wootters_and_qutip(s, a):
    rho = numeric_state(s, a)
    assert float(theory.concurrence(s, a)) == pytest.approx(
        float(measures.concurrence(rho)), abs=1e-12
    )
    assert float(theory.concurrence(s, a)) == pytest.approx(
        qutip.concurrence(qutip.Qobj(rho, dims=[[2, 2], [2, 2]])), abs=1e-6
    )


@given(s=success, a=amplitude)
@settings(max_examples=60, deadline=None)
def test_chsh_max_and_correlations_match_numerics(s, a):
    rho = numeric_state(s, a)
    t = measures.correlation_matrix(rho)
    assert np.allclose(np.diag(t), theory.correlation_diagonal(s, a), atol=1e-12)
    assert np.allclose(t - np.diag(np.diag(t)), 0, atol=1e-12)
    assert float(theory.chsh_max(s, a)) == pytest.approx(float(measures.chsh_max(rho)), abs=1e-12)


def test_a_1000_by_1000_grid_is_one_call():
    s, a = np.meshgrid(np.linspace(0.001, 1, 1000), np.linspace(0, 1, 1000), indexing="ij")
    for f in (theory.fidelity, theory.concurrence, theory.eof, theory.chsh_max, theory.lhv_region):
        assert f(s, a).shape == (1000, 1000)


def test_bell_pairs_die_at_one_third():
    assert float(theory.entanglement_threshold(BELL)) == pytest.approx(1 / 3)
    assert float(theory.concurrence(1 / 3 + 1e-9, BELL)) > 0
    assert float(theory.concurrence(1 / 3 - 1e-9, BELL)) == 0


def test_bell_pairs_violate_chsh_only_above_one_over_root_two():
    assert float(theory.chsh_threshold(BELL)) == pytest.approx(BELL)
    assert float(theory.chsh_max(BELL + 1e-9, BELL)) > 2
    assert float(theory.chsh_max(BELL - 1e-9, BELL)) < 2


def test_entanglement_can_always_be_distributed():
    """For every S > 0 some small a keeps the pair entangled (Sec. III)."""
    for s in np.logspace(-4, 0, 30):
        a = theory.optimal_amplitude(s)
        assert float(theory.concurrence(s, a)) > 0


@given(a=st.floats(min_value=1e-3, max_value=1 - 1e-6))
@settings(max_examples=80, deadline=None)
def test_entanglement_threshold_is_where_concurrence_crosses_zero(a):
    s0 = float(theory.entanglement_threshold(a))
    assert 0 < s0 < 1
    assert float(theory.concurrence(min(1.0, s0 * (1 + 1e-6)), a)) > 0
    assert float(theory.concurrence(s0 * (1 - 1e-6), a)) == 0
    # Eq. 3.4 as printed with the corrected denominator.
    assert s0 == pytest.approx(a * (1 - a * a) / (np.sqrt(1 - a * a) + a - a**3), rel=1e-12, abs=0)


@given(a=st.floats(min_value=1e-3, max_value=1 - 1e-6))
@settings(max_examples=80, deadline=None)
def test_chsh_threshold_is_where_the_horodecki_value_crosses_two(a):
    s_chsh = float(theory.chsh_threshold(a))
    assert 0 < s_chsh < 1
    assert float(theory.chsh_max(min(1.0, s_chsh + 1e-7), a)) > 2
    assert float(theory.chsh_max(s_chsh - 1e-7, a)) < 2
    assert s_chsh >= float(theory.entanglement_threshold(a))  # violation implies entanglement


def test_product_states_have_no_thresholds():
    for a in (0.0, 1.0):
        assert np.isnan(theory.entanglement_threshold(a))
        assert np.isnan(theory.chsh_threshold(a))


def test_weak_entanglement_violates_chsh_from_root_three_minus_one():
    assert float(theory.chsh_threshold(1e-6)) == pytest.approx(np.sqrt(3) - 1, abs=1e-6)


@given(s=st.floats(min_value=1e-3, max_value=1.0))
@settings(max_examples=40, deadline=None)
def test_optimal_amplitude_is_the_numerical_optimum(s):
    res = minimize_scalar(
        lambda a: -float(theory.concurrence(s, a)),
        bounds=(0, BELL),
        method="bounded",
        options={"xatol": 1e-12},
    )
    a_opt = float(theory.optimal_amplitude(s))
    assert 0 <= a_opt <= BELL
    assert float(theory.concurrence(s, a_opt)) >= -res.fun - 1e-12
    assert float(theory.eof_max(s)) == pytest.approx(
        float(theory.eof(s, a_opt)), rel=1e-9, abs=1e-300
    )
    grid = np.linspace(0, 1, 20001)
    assert float(theory.eof_max(s)) >= float(np.max(theory.eof(s, grid))) - 1e-15


def test_symmetry_a_to_sqrt_one_minus_a_squared():
    s, a = 0.37, 0.2
    b = np.sqrt(1 - a * a)
    for f in (theory.fidelity, theory.concurrence, theory.eof, theory.chsh_max, theory.lhv_region):
        assert np.allclose(f(s, a), f(s, b))


def test_bell_pairs_are_optimal_above_one_half():
    assert np.allclose(theory.optimal_amplitude([0.5, 0.7, 1.0]), BELL)
    assert float(theory.optimal_amplitude(0.49)) < BELL


def test_eq_4_2_is_the_small_s_limit():
    s = np.array([1e-2, 1e-3, 1e-4])
    ratio = theory.eof_max_approx(s) / theory.eof_max(s)
    assert np.all(np.abs(ratio - 1) < [0.05, 0.005, 0.0005])
    assert float(theory.optimal_amplitude(1e-4)) == pytest.approx(0.5e-4, rel=1e-3, abs=0)


def test_pairs_per_bell_pair_is_one_over_eof_max():
    assert float(theory.pairs_per_bell_pair(1.0)) == pytest.approx(1.0)
    assert float(theory.pairs_per_bell_pair(0.1)) == pytest.approx(1 / float(theory.eof_max(0.1)))


def test_lhv_region_states_decompose_into_barrett_plus_diagonal():
    s, a = np.meshgrid(np.linspace(0.01, 1, 200), np.linspace(0.005, 0.995, 200), indexing="ij")
    region = theory.lhv_region(s, a)
    assert region.any() and not region.all()
    barrett = 5 / 12 * np.outer(theory.psi(BELL), theory.psi(BELL).conj()).real + 7 / 48 * np.eye(4)
    for si, ai in zip(s[region][::50], a[region][::50], strict=True):
        rho = theory.state(si, ai)
        c = float(theory.barrett_weight(si, ai))
        rest = (rho - c * barrett) / (1 - c)
        assert 0 < c < 1
        assert np.allclose(rest, np.diag(np.diag(rest)), atol=1e-12)  # diagonal: separable
        assert np.diag(rest).min() >= -1e-12 and np.trace(rest) == pytest.approx(1)
        assert float(measures.concurrence(rho)) > 0  # entangled, yet local
        assert float(theory.chsh_max(si, ai)) <= 2  # consistent: a local model cannot violate CHSH


def test_bell_state_fidelity_is_the_most_fragile():
    a = np.linspace(0, 1, 101)
    assert np.argmin(theory.fidelity(0.3, a)) == 71 or np.isclose(
        a[np.argmin(theory.fidelity(0.3, a))], BELL, atol=0.01
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: theory.concurrence(0.0, 0.5), "success must be in (0, 1], got 0"),
        (lambda: theory.concurrence(1.2, 0.5), "success must be in (0, 1], got 1.2"),
        (lambda: theory.fidelity(0.5, -0.1), "amplitude must be in [0, 1], got -0.1"),
        (lambda: theory.eof(np.nan, 0.5), "success must be in (0, 1], got nan"),
        (lambda: theory.optimal_amplitude("x"), "success must be a number"),
        (lambda: theory.mixup(np.eye(4), 0.5), "rho must have unit trace"),
    ],
)
def test_bad_input_raises_one_line_value_error(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)
