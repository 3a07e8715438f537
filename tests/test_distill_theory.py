"""Distillation theory: the DEJMPS Kraus map against explicit 16x16 numerics, the Bell-diagonal
recurrence, filtering, hashing and the bounds, and the ``qkit theory distill*`` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import qutip
from scipy.linalg import expm

from qkit import measures
from qkit.cli import main
from qkit.distill import theory
from qkit.mixup import theory as mixup
from tests.conftest import random_density_matrix

X = np.array([[0, 1], [1, 0]], dtype=complex)


def rx(angle: float) -> np.ndarray:
    return expm(-0.5j * angle * X)


def numeric_round(rho: np.ndarray) -> tuple[float, np.ndarray]:
    """One DEJMPS round on rho ⊗ rho (order A1 B1 A2 B2) with explicit 16x16 matrices."""
    two = np.kron(rho, rho)
    u = np.kron(np.kron(rx(np.pi / 2), rx(-np.pi / 2)), np.kron(rx(np.pi / 2), rx(-np.pi / 2)))
    perm = np.zeros((16, 16))
    for a1 in (0, 1):
        for b1 in (0, 1):
            for a2 in (0, 1):
                for b2 in (0, 1):
                    perm[int(f"{a1}{b1}{a2 ^ a1}{b2 ^ b1}", 2), int(f"{a1}{b1}{a2}{b2}", 2)] = 1
    evolved = perm @ u @ two @ u.conj().T @ perm.T
    kept = np.zeros((4, 4), dtype=complex)
    for m in (0, 1):
        proj = np.kron(
            np.eye(4), np.outer(np.eye(4)[3 * m], np.eye(4)[3 * m])
        )  # |mm><mm| on pair 2
        projected = qutip.Qobj(proj @ evolved @ proj, dims=[[2] * 4] * 2)
        kept += projected.ptrace([0, 1]).full()
    p = float(np.real(np.trace(kept)))
    return p, kept / p


def test_round_matches_explicit_numerics_for_random_states():
    rng = np.random.default_rng(20261202)
    states = np.stack([random_density_matrix(rng, rank=r) for r in (1, 2, 3, 4, 4, 4)])
    p, out = theory.dejmps_round(states)  # batched
    assert p.shape == (6,) and out.shape == (6, 4, 4)
    for k, rho in enumerate(states):
        p_num, out_num = numeric_round(rho)
        assert p[k] == pytest.approx(p_num, abs=1e-12)
        np.testing.assert_allclose(out[k], out_num, atol=1e-12)


def test_round_matches_numerics_on_mixed_up_pairs():
    for s, a in ((0.9, 0.7), (0.4, 0.2), (0.05, 0.02), (1.0, 0.3)):
        p, out = theory.dejmps_round(mixup.state(s, a))
        p_num, out_num = numeric_round(mixup.state(s, a))
        assert p == pytest.approx(p_num, abs=1e-12)
        np.testing.assert_allclose(out, out_num, atol=1e-12)


def test_bell_diagonal_recurrence_agrees_with_the_kraus_map():
    rng = np.random.default_rng(7)
    weights = rng.dirichlet(np.ones(4), size=(3, 5))
    n, w_out = theory.dejmps_recurrence(weights)
    p, rho_out = theory.dejmps_round(theory.bell_diagonal_state(weights))
    np.testing.assert_allclose(p, n, atol=1e-13)
    np.testing.assert_allclose(rho_out, theory.bell_diagonal_state(w_out), atol=1e-13)
    np.testing.assert_allclose(theory.bell_weights(rho_out), w_out, atol=1e-13)


def test_mixed_up_bell_pair_is_bell_diagonal_and_werner():
    s = 0.6
    rho = mixup.state(s, mixup.BELL_AMPLITUDE)
    w = theory.werner_weights((1 + 3 * s) / 4)
    np.testing.assert_allclose(rho, theory.bell_diagonal_state(w), atol=1e-15)


def test_known_dejmps_values():
    # Werner F = 0.7: N = 0.8^2 + 0.2^2 = 0.68, F' = (0.49 + 0.01) / 0.68 = 25/34
    n, w = theory.dejmps_recurrence(theory.werner_weights(0.7))
    assert n == pytest.approx(0.68, abs=1e-15)
    assert w[0] == pytest.approx(25 / 34, abs=1e-15)
    np.testing.assert_allclose(w[1:], [0.02 / 0.68, 0.02 / 0.68, 0.14 / 0.68], atol=1e-15)
    # Phi+ is a fixed point with certain success
    n, w = theory.dejmps_recurrence([1.0, 0.0, 0.0, 0.0])
    assert n == 1.0 and w.tolist() == [1.0, 0.0, 0.0, 0.0]
    # any Werner state with F > 1/2 is driven to Phi+; F = 1/2 stays separable-fixed at 1/2
    p, states = theory.dejmps_rounds(theory.bell_diagonal_state(theory.werner_weights(0.55)), 25)
    assert theory.bell_fidelity(states[-1]) > 0.999999
    f = theory.bell_fidelity(states)
    assert np.all(np.diff(f)[f[:-1] < 1 - 1e-12] > 0)  # strictly up until it reaches 1
    _, states = theory.dejmps_rounds(theory.bell_diagonal_state(theory.werner_weights(0.5)), 5)
    assert np.all(theory.bell_fidelity(states) <= 0.5 + 1e-12)


def test_rounds_are_iterated_single_rounds():
    rho = mixup.state(np.array([0.3, 0.8]), np.array([0.1, 0.6]))
    p, states = theory.dejmps_rounds(rho, 4)
    assert p.shape == (2, 4) and states.shape == (2, 5, 4, 4)
    state = rho
    for k in range(4):
        pk, state = theory.dejmps_round(state)
        np.testing.assert_allclose(p[:, k], pk, atol=1e-14)
        np.testing.assert_allclose(states[:, k + 1], state, atol=1e-13)


def test_mixed_up_pair_bell_fidelity_is_half_plus_half_concurrence():
    # F = (p00 + p11)/2 + S a b = 1/2 + C/2 where C > 0: every entangled M[psi_a] has F > 1/2
    s, a = np.meshgrid(np.linspace(0.01, 1, 37), np.linspace(0, 1, 41))
    f = theory.bell_fidelity(mixup.state(s, a))
    conc = 2 * s * a * np.sqrt(1 - a * a) - 2 * (1 - s) * a * a * (1 - a * a)
    np.testing.assert_allclose(f, 0.5 + conc / 2, atol=1e-14)


def test_hashing_and_coherent_information():
    rng = np.random.default_rng(3)
    w = rng.dirichlet(np.ones(4), size=6)
    rho = theory.bell_diagonal_state(w)
    entropy = -np.sum(w * np.log2(w), axis=-1)
    np.testing.assert_allclose(theory.hashing_yield(rho), np.maximum(0, 1 - entropy), atol=1e-12)
    np.testing.assert_allclose(theory.coherent_information(rho), 1 - entropy, atol=1e-12)
    product = np.diag([0.0, 0.0, 0.0, 1.0])  # |11>: 1 - H(1/2, 0, 0, 1/2) is 0, not rounding
    assert theory.hashing_yield(product) == 0.0
    assert theory.distill(0.5, 0.0).yield_ == 0.0
    for state in (random_density_matrix(rng), mixup.state(0.7, 0.4)):
        q = qutip.Qobj(state, dims=[[2, 2], [2, 2]])
        expected = qutip.entropy_vn(q.ptrace(1), base=2) - qutip.entropy_vn(q, base=2)
        assert theory.coherent_information(state) == pytest.approx(expected, abs=1e-10)


def random_x_state(rng: np.random.Generator) -> np.ndarray:
    """An entangled X-state with F <= 1/2: needs |c| > sqrt(p01 p10) and c <= (p01 + p10)/2."""
    while True:
        p = rng.dirichlet([1.0, 0.3, 3.0, 1.0])  # p01 != p10 typically
        lo, hi = np.sqrt(p[1] * p[2]), min((p[1] + p[2]) / 2, np.sqrt(p[0] * p[3]))
        if hi > lo * 1.05:
            rho = np.diag(p).astype(complex)
            rho[0, 3] = rho[3, 0] = rng.uniform(lo * 1.02, hi)
            return rho


def test_filter_makes_entangled_low_fidelity_states_distillable():
    rng = np.random.default_rng(11)
    states = np.stack([random_x_state(rng) for _ in range(20)])
    assert np.all(measures.concurrence(states) > 0)
    assert np.all(theory.bell_fidelity(states) <= 0.5 + 1e-12)
    p, filtered = theory.apply_filter(states, *theory.normal_form_filter(states))
    assert np.all(p > 0)
    assert np.all(theory.bell_fidelity(filtered) > 0.5)
    # normal form: maximally mixed marginals
    for keep in (0, 1):
        np.testing.assert_allclose(
            measures.partial_trace(filtered, keep),
            np.broadcast_to(np.eye(2) / 2, (20, 2, 2)),
            atol=1e-12,
        )
    # and the fidelity is then as the closed form says
    d = np.real(np.diagonal(states, axis1=-2, axis2=-1))
    c = np.abs(states[:, 0, 3])
    root = np.sqrt(d[:, 0] * d[:, 3])
    expected = (root + c) / (2 * root + 2 * np.sqrt(d[:, 1] * d[:, 2]))
    np.testing.assert_allclose(theory.bell_fidelity(filtered), expected, atol=1e-12)
    # and the DEJMPS rounds then converge
    _, rounds = theory.dejmps_rounds(filtered, 30)
    assert np.all(theory.bell_fidelity(rounds[:, -1]) > 0.99)


def test_separable_state_is_not_pushed_above_one_half():
    rho = np.diag([0.4, 0.1, 0.1, 0.4]).astype(complex)
    rho[0, 3] = rho[3, 0] = 0.1  # |c| = sqrt(p01 p10): separable
    _, filtered = theory.apply_filter(rho, *theory.normal_form_filter(rho))
    assert theory.bell_fidelity(filtered) <= 0.5 + 1e-12


def test_filter_concurrence_transforms_by_determinants():
    # C(A⊗B rho A⊗B^dag / p) = |det A det B| C(rho) / p (Verstraete et al. 2001)
    rng = np.random.default_rng(5)
    for _ in range(8):
        rho = random_density_matrix(rng, rank=2)
        ops = []
        for _ in range(2):
            g = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
            ops.append(g / np.linalg.norm(g, ord=2))
        p, out = theory.apply_filter(rho, *ops)
        assert p == pytest.approx(np.real(np.trace(np.kron(*ops) @ rho @ np.kron(*ops).conj().T)))
        det = abs(np.linalg.det(ops[0]) * np.linalg.det(ops[1]))
        assert measures.concurrence(out) == pytest.approx(
            det * measures.concurrence(rho) / p, abs=1e-10
        )


def test_mixed_up_normal_form_balances_populations_and_raises_fidelity():
    s, a = np.meshgrid([0.05, 0.2, 0.5, 0.9], [0.01, 0.1, 0.3, 0.6])
    p_f, rho = theory.filtered_state(s, a, 1.0)
    np.testing.assert_allclose(rho[..., 0, 0], rho[..., 3, 3], atol=1e-14)
    np.testing.assert_allclose(measures.partial_trace(rho, 1)[..., 0, 0], 0.5, atol=1e-14)
    entangled = mixup.concurrence(s, a) > 0
    assert 0 < entangled.sum() < entangled.size
    f, f_in = theory.bell_fidelity(rho), theory.bell_fidelity(mixup.state(s, a))
    assert np.all(f[entangled] >= f_in[entangled] - 1e-14)
    assert np.all(f[~entangled] <= 0.5 + 1e-14)  # the filter cannot create entanglement
    assert np.all((p_f > 0) & (p_f <= 1))
    p0, rho0 = theory.filtered_state(s, a, 0.0)
    np.testing.assert_allclose(p0, 1.0)
    np.testing.assert_allclose(rho0, mixup.state(s, a), atol=1e-15)


GRID_S = np.array([0.05, 0.15, 0.35, 0.5, 0.75, 0.95])
GRID_A = np.array([0.02, 0.08, 0.2, 0.45, mixup.BELL_AMPLITUDE])


def test_yield_times_output_eof_never_exceeds_input_eof():
    """E_F is subadditive and does not grow on average under LOCC, so per delivered pair
    ``p_f prod_k (p_k/2) E_F(rho_K) <= E_F(rho)`` for every filter, every K, every (S, a)."""
    s, a = np.meshgrid(GRID_S, GRID_A)
    rho = mixup.state(s, a)[..., None, :, :]
    eof_in = measures.entanglement_of_formation(rho)[..., 0]
    strength = np.array([0.0, 0.5, 1.0])
    p_f, filtered = theory.apply_filter(rho, *theory.normal_form_filter(rho, strength))
    p, states = theory.dejmps_rounds(filtered, 8)
    cost = np.concatenate([np.ones((*p.shape[:-1], 1)), np.cumprod(p / 2, axis=-1)], axis=-1)
    lhs = p_f[..., None] * cost * measures.entanglement_of_formation(states)
    assert np.all(lhs <= eof_in[..., None, None] + 1e-12)
    # the full yield (Bell pairs with E_F = 1) too
    y = theory.yields_per_round(filtered, 8, prior_probability=p_f)
    assert np.all(y <= eof_in[..., None, None] + 1e-12)
    assert np.any(y > 0)


def test_best_yields_sit_between_zero_and_eof_max():
    s = np.array([0.1, 0.4, 0.7, 0.95])
    out = theory.best_yields(s, max_rounds=20, resolution=20)
    assert np.all(out["best"] <= out["eof_max"])
    assert np.all(out["best"] > 0)  # every S > 0 yields something
    assert np.all(out["filter_dejmps"] >= out["dejmps"])
    assert np.all(out["dejmps"] >= out["hashing"])
    assert np.all(out["hashing"] <= np.maximum(out["coherent_information"], 0) + 1e-12)
    assert out["hashing"][0] == 0 and out["hashing"][-1] > 0.5


def test_pair_coherent_information_closed_form_and_threshold():
    s, a = np.meshgrid(np.linspace(0.01, 1, 23), np.linspace(0, 1, 31))
    np.testing.assert_allclose(
        theory.pair_coherent_information(s, a),
        theory.coherent_information(mixup.state(s, a)),
        atol=1e-13,
    )
    golden = (5**0.5 - 1) / 2
    a = np.concatenate([np.geomspace(1e-150, 1e-3, 400), np.linspace(1e-3, 1, 20001)])
    for s_below in np.linspace(0.01, golden - 1e-3, 40):
        assert np.max(theory.pair_coherent_information(s_below, a)) <= 0
    assert np.max(theory.pair_coherent_information(golden + 1e-3, a)) > 0


def test_hashing_alone_threshold_is_the_werner_one_at_the_bell_amplitude():
    s_h = theory.hashing_threshold()
    f_h = (1 + 3 * s_h) / 4
    assert 1 - measures.shannon_entropy(theory.werner_weights(f_h)) == pytest.approx(0, abs=1e-12)
    a = np.linspace(0.01, mixup.BELL_AMPLITUDE, 2001)
    for s in (s_h - 1e-4, s_h + 0.01, 0.9):
        y = theory.hashing_yield(mixup.state(s, a))
        assert np.argmax(y) == len(a) - 1 or y.max() == 0  # the Bell amplitude is best
    assert np.max(theory.hashing_yield(mixup.state(s_h - 1e-4, a))) == 0
    assert theory.hashing_yield(mixup.state(s_h + 1e-4, mixup.BELL_AMPLITUDE)) > 0


def test_best_yield_is_reproduced_by_its_protocol_and_beats_a_brute_force_grid():
    s = 0.3
    out = theory.best_yields(s)
    d = theory.distill(
        s,
        float(out["amplitude"]),
        rounds=int(out["rounds"]),
        filter_strength=float(out["filter_strength"]),
    )
    assert d.yield_ == pytest.approx(float(out["filter_dejmps"]), rel=1e-12, abs=0)
    brute = 0.0
    for a in np.linspace(0.05, 0.7, 14):
        for g in (0.0, 0.3, 0.6, 1.0):
            p_f, rho = theory.filtered_state(s, a, g)
            brute = max(
                brute, float(np.max(theory.yields_per_round(rho, 40, prior_probability=p_f)))
            )
    assert float(out["best"]) >= brute
    assert float(out["best"]) < 1.1 * brute  # the grids agree on the optimum's value


def test_distill_point_is_self_consistent():
    d = theory.distill(0.6, mixup.BELL_AMPLITUDE, rounds=2)
    w = theory.werner_weights(0.7)
    n1, w1 = theory.dejmps_recurrence(w)
    n2, w2 = theory.dejmps_recurrence(w1)
    assert d.success_probabilities == pytest.approx([n1, n2], abs=1e-14)
    assert d.fidelity_out == pytest.approx(w2[0], abs=1e-14)
    entropy = -np.sum(w2 * np.log2(w2))
    assert d.yield_ == pytest.approx(n1 * n2 / 4 * (1 - entropy), abs=1e-14)
    best = theory.distill(0.6, mixup.BELL_AMPLITUDE)
    y = theory.yields_per_round(mixup.state(0.6, mixup.BELL_AMPLITUDE), 64)
    assert best.rounds == int(np.argmax(y)) and best.yield_ == pytest.approx(float(y.max()))
    # a perfect Bell pair already meets any target: yield 1 with no rounds
    assert theory.distill(1.0, mixup.BELL_AMPLITUDE).yield_ == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: theory.dejmps_rounds(np.eye(4) / 4, -1), "rounds must be an integer in"),
        (lambda: theory.dejmps_rounds(np.eye(4) / 4, 1.5), "rounds must be an integer in"),
        (lambda: theory.dejmps_round(np.eye(4)), "rho must have unit trace"),
        (lambda: theory.dejmps_recurrence([0.5, 0.5, 0.5, 0.0]), "weights must be non-negative"),
        (lambda: theory.distill(0.5, 0.3, target_fidelity=0.5), "target_fidelity must be in"),
        (lambda: theory.distill(0.5, 1.2), "amplitude must be in [0, 1]"),
        (lambda: theory.distill(0.0, 0.3), "success must be in (0, 1]"),
        (lambda: theory.distill(0.5, 0.3, filter_strength=2), "filter_strength must be in"),
        (lambda: theory.apply_filter(np.eye(4) / 4, 2 * np.eye(2), np.eye(2)), "alice must"),
    ],
)
def test_bad_input_raises_one_line_value_errors(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_distill_keys_and_values(capsys):
    out = run_json(
        capsys, "theory", "distill", "--success", "0.6", "--amplitude", "0.5", "--rounds", "3"
    )
    required = [
        "success",
        "amplitude",
        "rounds",
        "fidelity_in",
        "success_probabilities",
        "fidelity_out",
        "yield",
        "coherent_information",
        "eof",
    ]
    assert set(required) <= set(out)
    d = theory.distill(0.6, 0.5, rounds=3)
    assert out["rounds"] == 3 and len(out["success_probabilities"]) == 3
    assert out["yield"] == pytest.approx(d.yield_)
    assert out["eof"] == pytest.approx(float(mixup.eof(0.6, 0.5)))
    assert out["fidelity_in"] == pytest.approx(0.5 + float(mixup.concurrence(0.6, 0.5)) / 2)
    best = run_json(
        capsys, "theory", "distill", "-S", "0.6", "-a", "0.5", "--target-fidelity", "0.9"
    )
    assert best["yield"] >= out["yield"] - 1e-15


def test_cli_distill_optimum(capsys):
    out = run_json(capsys, "theory", "distill-optimum", "--success", "0.9")
    assert 0 < out["yield"] <= out["eof_max"]
    assert out["yield"] == max(out[f"yield_{p}"] for p in theory.PROTOCOLS)
    assert out["pairs_per_bell_pair"] >= out["pairs_per_bell_pair_bound"]


@pytest.mark.parametrize(
    "argv",
    [
        ["distill", "-S", "0", "-a", "0.3"],
        ["distill", "-S", "0.5", "-a", "0.3", "--rounds", "-2"],
        ["distill", "-S", "0.5", "-a", "0.3", "--target-fidelity", "1.5"],
        ["distill", "-S", "0.5", "-a", "nan"],
        ["distill-optimum", "-S", "2"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(capsys, argv):
    try:
        code = main(["theory", *argv])
    except SystemExit as exc:  # argparse type errors exit from inside the parser
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("qkit: error:") and err.count("\n") == 1


def test_theory_imports_no_heavy_packages():
    """``qkit theory distill`` stays fast: the theory pulls in neither qiskit nor qutip."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, qkit.distill, qkit.distill.theory\n"
        "heavy = ('qiskit', 'qiskit_aer', 'qutip', 'matplotlib')\n"
        "bad = [m for m in sys.modules\n"
        "       if m.split('.')[0] in heavy or m.startswith('scipy.stats')]\n"
        "print(','.join(bad))"
    )
    root = str(Path(__file__).resolve().parents[1])  # this checkout's qkit, not an installed one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""
