"""The papers' figures: they build, render, save, and draw the theory they claim to draw.

Curves are read back from the artists and held against independent computations (explicit
density matrices through :mod:`qkit.measures`), not against the plotting code's own arrays.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from qkit import figures, measures
from qkit.mixup import theory as mixup_theory

BELL = 2**-0.5


def _estimate(value: float, half_width: float) -> dict:
    return {"value": value, "ci_low": value - half_width, "ci_high": value + half_width}


def _render(fig: Figure) -> None:
    """Draw every artist once (a low-resolution PNG), so rendering errors surface."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    assert buffer.getvalue().startswith(b"\x89PNG")


def _assert_readable(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    main = fig.axes[0]
    assert main.get_title(), "the first axes carries the title"
    assert main.get_xlabel() and main.get_ylabel()
    _render(fig)


def _eof_by_density_matrix(success: float, amplitude: np.ndarray) -> np.ndarray:
    """E_F of M[psi_a] from the mix-up map on explicit projectors and Wootters' formula."""
    psi = mixup_theory.psi(amplitude)
    rho = mixup_theory.mixup(np.einsum("...i,...j->...ij", psi, psi.conj()), success)
    return measures.entanglement_of_formation(rho)


@pytest.fixture(scope="module")
def phase_samples() -> list[dict]:
    return [
        # Bell pairs at S = 0.95 violate CHSH by many sigma
        {
            "success": 0.95,
            "amplitude": BELL,
            "eof": _estimate(0.9, 0.03),
            "chsh": {"value": 2.6, "stderr": 0.02},
        },
        # inside the local region: entangled, no violation
        {
            "success": 0.38,
            "amplitude": 0.70,
            "eof": _estimate(0.01, 0.02),
            "chsh": {"value": 1.2, "stderr": 0.02},
        },
        # no estimates at all: a hollow marker
        {"success": 0.6, "amplitude": 0.3},
    ]


@pytest.fixture(scope="module")
def eof_samples() -> list[dict]:
    s_small = 0.05
    return [
        {
            "success": s_small,
            "amplitude": float(mixup_theory.optimal_amplitude(s_small)),
            "eof": {"value": 2e-6, "ci_low": -0.01, "ci_high": 0.01},
        },  # interval crosses zero
        {"success": 0.6, "amplitude": BELL, "eof": _estimate(0.3, 0.02)},
        {
            "success": 0.2,
            "amplitude": 0.1,
            "eof": {"value": -0.003, "ci_low": -0.01, "ci_high": 0.004},
        },  # negative estimate
    ]


# --- paper A, Fig. 2 -----------------------------------------------------------------------


def test_phase_diagram_builds_with_and_without_samples(phase_samples):
    _assert_readable(figures.mixup_phase_diagram(resolution=60))
    _assert_readable(figures.mixup_phase_diagram(phase_samples, resolution=60))


def test_phase_diagram_entanglement_line_is_where_concurrence_vanishes():
    """Eq. 3.4 as drawn: on the line C = 0, just right of it C > 0 (Eq. 3.3 on explicit states)."""
    ax = figures.mixup_phase_diagram(resolution=40).axes[0]
    line = ax.lines[0]
    s, a = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    keep = np.isfinite(s) & (a > 0.02) & (a < 0.98)
    s, a = s[keep][::50], a[keep][::50]
    assert len(s) > 20
    rho_on = [
        mixup_theory.mixup(np.outer(p, p), x) for p, x in zip(mixup_theory.psi(a), s, strict=True)
    ]
    rho_right = [
        mixup_theory.mixup(np.outer(p, p), min(x + 1e-3, 1.0))
        for p, x in zip(mixup_theory.psi(a), s, strict=True)
    ]
    assert np.allclose(measures.concurrence(np.array(rho_on)), 0.0, atol=1e-9)
    assert np.all(measures.concurrence(np.array(rho_right)) > 0)


def test_phase_diagram_chsh_line_is_where_horodecki_value_reaches_two():
    ax = figures.mixup_phase_diagram(resolution=40).axes[0]
    line = ax.lines[1]
    s, a = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    keep = np.isfinite(s)
    s, a = s[keep][::40], a[keep][::40]
    rho = np.array(
        [mixup_theory.mixup(np.outer(p, p), x) for p, x in zip(mixup_theory.psi(a), s, strict=True)]
    )
    assert np.allclose(measures.chsh_max(rho), 2.0, atol=1e-9)


def test_phase_diagram_marks_only_significant_chsh_violations_with_stars(phase_samples):
    fig = figures.mixup_phase_diagram(phase_samples, resolution=40)
    ax = fig.axes[0]
    stars = [c for c in ax.collections if c.get_gid() == "chsh-violated"]
    others = [c for c in ax.collections if c.get_gid() == "chsh-not-violated"]
    assert np.concatenate([c.get_offsets() for c in stars]).tolist() == [[0.95, BELL]]
    assert sorted(np.concatenate([c.get_offsets() for c in others]).tolist()) == [
        [0.38, 0.70],
        [0.6, 0.3],
    ]


def test_phase_diagram_markers_show_agreement_and_intervals():
    """Marker fill is the deviation in sigma on the diverging map; rings mark exactly the
    samples whose interval excludes the exact E_F; the agreement panel draws the intervals."""
    from matplotlib import colormaps

    from qkit.figures.mixup import DEVIATION_CMAP, DEVIATION_NORM, EXCLUDES_GID

    exact = float(mixup_theory.eof(0.9, BELL))
    samples = [
        {"success": 0.9, "amplitude": BELL, "eof": _estimate(exact, 0.0392)},  # agrees
        {"success": 0.6, "amplitude": 0.5, "eof": _estimate(0.5, 0.05)},  # far above
        {"success": 0.8, "amplitude": 0.3, "eof": _estimate(0.01, 0.005)},  # below
    ]
    fig = figures.mixup_phase_diagram(samples, resolution=40)
    plane, agree = fig.axes[0], fig.axes[2]
    (markers,) = [c for c in plane.collections if c.get_gid() == "chsh-not-violated"]
    markers.update_scalarmappable()  # colours from the values, as drawing would
    sigma = np.array([0.0392, 0.05, 0.005]) / 1.959963984540054
    truth = np.array([float(mixup_theory.eof(s["success"], s["amplitude"])) for s in samples])
    deviation = (np.array([exact, 0.5, 0.01]) - truth) / sigma
    cmap = colormaps[DEVIATION_CMAP]
    expected = cmap(DEVIATION_NORM(np.clip(deviation, -3, 3)))
    assert np.allclose(markers.get_facecolors(), expected)
    assert np.allclose(markers.get_facecolors()[0][:3], cmap(0.5)[:3])  # agreement is white
    (rings,) = [c for c in plane.collections if c.get_gid() == EXCLUDES_GID]
    assert sorted(map(tuple, np.asarray(rings.get_offsets()).tolist())) == [(0.6, 0.5), (0.8, 0.3)]
    (points,) = [c for c in agree.collections if c.get_gid() == "agreement"]
    estimates = np.array([sample["eof"]["value"] for sample in samples])
    assert np.allclose(points.get_offsets(), np.column_stack([truth, estimates - truth]))
    bars = [seg for c in agree.containers for coll in c.lines[2] for seg in coll.get_segments()]
    spans = sorted(round(float(np.ptp(np.asarray(seg)[:, 1])), 9) for seg in bars)
    assert spans == sorted([round(2 * w, 9) for w in (0.0392, 0.05, 0.005)])  # the intervals
    assert "2 of 3 exclude" in agree.get_title()


def test_phase_diagram_deviation_beyond_1_96_sigma_means_the_interval_excludes():
    """One-sided intervals (at the physical limits) colour as the ring says, never darker."""
    from qkit.figures.mixup import _sample_agreement

    samples = [  # exact E_F = 1 at S = 1: the estimate can only lie below
        {"success": 1.0, "amplitude": BELL, "eof": {"value": 0.97, "ci_low": 0.9, "ci_high": 1.0}},
        {"success": 1.0, "amplitude": BELL, "eof": {"value": 0.9, "ci_low": 0.8, "ci_high": 0.99}},
        {"success": 0.3, "amplitude": 0.2, "eof": {"value": 0.05, "ci_low": 0.0, "ci_high": 0.1}},
        {"success": 0.9, "amplitude": 0.6, "eof": {"value": 0.2, "ci_low": 0.15, "ci_high": 0.5}},
    ]
    _, deviation, excludes = _sample_agreement(samples)
    assert excludes.tolist() == [False, True, False, True]
    assert (np.abs(deviation) > 1.959963984540054).tolist() == excludes.tolist()


# --- paper A, Fig. 3 -----------------------------------------------------------------------


def test_eof_max_figure_builds_with_and_without_samples(eof_samples):
    _assert_readable(figures.mixup_eof_max())
    _assert_readable(figures.mixup_eof_max(eof_samples))


def test_eof_max_curve_is_the_maximum_over_amplitudes_of_explicit_states():
    """Fig. 3 curve a: beat every a on a fine grid, and be reached by one of them."""
    ax = figures.mixup_eof_max(success_min=1e-3).axes[0]
    s_curve, e_curve = np.asarray(ax.lines[0].get_xdata()), np.asarray(ax.lines[0].get_ydata())
    amplitudes = np.linspace(1e-4, BELL, 20001)
    for s in (0.002, 0.03, 0.2, 0.5, 0.9):
        i = np.argmin(np.abs(s_curve - s))
        brute = _eof_by_density_matrix(s_curve[i], amplitudes)
        assert e_curve[i] >= brute.max() * (1 - 1e-9)
        assert e_curve[i] == pytest.approx(brute.max(), rel=1e-3)
    assert np.allclose(e_curve, mixup_theory.eof_max(s_curve), rtol=1e-12)


def test_eof_max_fixed_amplitude_curves_follow_explicit_states():
    ax = figures.mixup_eof_max().axes[0]
    for line, amplitude in ((ax.lines[2], BELL), (ax.lines[3], 0.1)):
        s, e = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        pick = np.isfinite(e)
        expected = [float(_eof_by_density_matrix(x, np.array(amplitude))) for x in s[pick][::40]]
        assert np.allclose(e[pick][::40], expected, rtol=1e-6, atol=1e-15)
        # undrawn (masked) points are exactly the separable ones
        assert np.all(mixup_theory.concurrence(s[~pick], amplitude) == 0)


def test_eof_max_log_axes_keep_nonpositive_estimates_visible(eof_samples):
    ax = figures.mixup_eof_max(eof_samples, success_min=1e-3).axes[0]
    bottom, top = ax.get_ylim()
    assert ax.get_yscale() == "log" and 0 < bottom < 1e-11 and top >= 1
    marker_y = [c.lines[0].get_ydata()[0] for c in ax.containers]
    # the negative estimate is drawn as an upper limit at its ci_high, inside the axes
    assert 0.004 in marker_y
    assert all(bottom <= y <= top for y in marker_y)


def test_eof_max_default_view_is_the_range_the_shots_resolve(eof_samples):
    """Default: S from a little left of the samples, E_F from a quarter of the resolution;
    ``success_min=1e-3`` keeps the paper's twelve decades."""
    from qkit.figures.mixup import concurrence_resolution

    shots = [{**s, "shots": 2000} for s in eof_samples]
    ax = figures.mixup_eof_max(shots).axes[0]
    resolution = float(measures.eof_from_concurrence(concurrence_resolution(2000)))
    assert ax.get_ylim()[0] == pytest.approx(resolution / 4)
    left = ax.get_xlim()[0]
    assert 0.03 < left <= 0.8 * 0.05  # the smallest sampled S is 0.05
    assert "resolve" in ax.get_title()
    full = figures.mixup_eof_max(shots, success_min=1e-3).axes[0]
    bottom, top = full.get_ylim()
    assert full.get_xlim()[0] == 1e-3 and np.log10(top / bottom) > 12
    assert figures.mixup_eof_max().axes[0].get_xlim()[0] == 1e-3  # theory alone: full view


# --- paper A, Eq. 3.2 ----------------------------------------------------------------------


def test_fidelity_figure_builds_with_and_without_samples():
    samples = [{"success": 0.5, "amplitude": 0.3, "fidelity": _estimate(0.88, 0.02)}]
    _assert_readable(figures.mixup_fidelity())
    _assert_readable(figures.mixup_fidelity(samples))


def test_fidelity_curves_are_overlaps_with_the_sent_state():
    """Eq. 3.2 as drawn equals <psi_a|M[psi_a]|psi_a> on explicit density matrices."""
    samples = [{"success": 0.4, "amplitude": 0.6, "fidelity": _estimate(0.7, 0.02)}]
    ax = figures.mixup_fidelity(samples, successes=(0.1, 0.9)).axes[0]
    curves = ax.lines[:3]  # S = 0.1, 0.4 (added by the sample), 0.9
    for line, s in zip(curves, (0.1, 0.4, 0.9), strict=True):
        a = np.asarray(line.get_xdata())[::50]
        psi = mixup_theory.psi(a)
        rho = mixup_theory.mixup(np.einsum("...i,...j->...ij", psi, psi.conj()), s)
        assert np.allclose(np.asarray(line.get_ydata())[::50], measures.fidelity_pure(psi, rho))


def test_fidelity_figure_says_which_samples_it_leaves_out():
    samples = [
        {"success": 0.5, "amplitude": 0.3, "fidelity": _estimate(0.88, 0.02)},
        {"success": 0.38, "amplitude": 0.7, "fidelity": _estimate(0.6, 0.02)},
        {"success": 0.95, "amplitude": 0.3, "fidelity": _estimate(0.99, 0.01)},
    ]
    fig = figures.mixup_fidelity(samples, successes=(0.5, 1.0), sampled_curves=False)
    ax = fig.axes[0]
    assert len(ax.containers) == 1  # only the sample at S = 0.5 has a curve
    (note,) = [t for t in fig.findobj() if getattr(t, "get_gid", lambda: None)() == "omitted"]
    assert "2 sampled points" in note.get_text() and "0.38, 0.95" in note.get_text()
    default = figures.mixup_fidelity(samples, successes=(0.5, 1.0))
    assert len(default.axes[0].containers) == 3  # by default each sampled S gets a curve
    assert not [t for t in default.findobj() if getattr(t, "get_gid", lambda: None)() == "omitted"]


def test_figures_reject_out_of_range_samples():
    with pytest.raises(ValueError, match="success"):
        figures.mixup_fidelity([{"success": 1.5, "amplitude": 0.3, "fidelity": _estimate(1, 0)}])


# --- saving --------------------------------------------------------------------------------


def test_save_writes_nonempty_png_and_pdf(tmp_path):
    fig = figures.mixup_fidelity()
    paths = figures.save(fig, tmp_path / "out", "fidelity")
    assert [p.name for p in paths] == ["fidelity.png", "fidelity.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG") and paths[0].stat().st_size > 10_000
    assert paths[1].read_bytes().startswith(b"%PDF") and paths[1].stat().st_size > 5_000


def test_save_rejects_a_path_as_name(tmp_path):
    with pytest.raises(ValueError, match="name"):
        figures.save(figures.mixup_fidelity(), tmp_path, "sub/fidelity")


# --- paper B -------------------------------------------------------------------------------

_SINGLET = np.array([0.0, 1.0, -1.0, 0.0]) / np.sqrt(2.0)


def _werner(q: float) -> np.ndarray:
    """Explicit Werner state q |psi-><psi-| + (1 - q) I/4 in the |HH>, |HV>, |VH>, |VV> basis."""
    return q * np.outer(_SINGLET, _SINGLET) + (1.0 - q) * np.eye(4) / 4.0


def _singlet_fidelity(rho: np.ndarray) -> float:
    return float(np.real(_SINGLET @ rho @ _SINGLET))


def _binary_capacity_brute(s_a: float, s_b: float) -> float:
    """max over P of I(input; singlet/triplet) for two inputs with P(singlet) s_a, s_b."""
    weights = np.linspace(0.0, 1.0, 20001)[:, None]
    cond = np.array([[s_a, 1 - s_a], [s_b, 1 - s_b]])
    joint = np.stack([weights * cond[0], (1 - weights) * cond[1]], axis=-2)
    return float(measures.mutual_information(joint).max())


@pytest.mark.parametrize("eta", [1.0, 0.6, 0.0])
def test_entropy_construction_builds_for_any_eta(eta):
    fig = figures.channel_entropy_construction(eta)
    _assert_readable(fig)
    assert len(fig.axes) == 2


def test_entropy_construction_curve_is_the_werner_entropy():
    """Eq. 26 as drawn: f(q) = S(rho_W(q)) from explicit Werner matrices."""
    ax = figures.channel_entropy_construction(1.0).axes[0]
    q, f = np.asarray(ax.lines[0].get_xdata()), np.asarray(ax.lines[0].get_ydata())
    expected = [float(measures.von_neumann_entropy(_werner(x))) for x in q[::60]]
    assert np.allclose(f[::60], expected, atol=1e-10)


@pytest.mark.parametrize(("eta", "inputs", "panel"), [(1.0, "entangled", 0), (0.6, "separable", 1)])
def test_entropy_construction_segment_is_the_holevo_quantity(eta, inputs, panel):
    """Lemma 2: the chord-to-curve segment at q* is chi of the two-letter output ensemble, and
    no other send probability beats it."""
    ax = figures.channel_entropy_construction(eta).axes[panel]
    chord, segment = ax.lines[1], ax.lines[3]
    q_ends = np.asarray(chord.get_xdata())
    lo, hi = (eta * x for x in {"entangled": (-1 / 3, 1.0), "separable": (-1 / 3, 1 / 3)}[inputs])
    assert np.allclose(q_ends, [lo, hi])
    (q_star, _), (low, high) = segment.get_xdata(), segment.get_ydata()
    weight_hi = (q_star - lo) / (hi - lo)
    states = np.array([_werner(hi), _werner(lo)])
    chi = float(measures.holevo_chi([weight_hi, 1 - weight_hi], states))
    assert high - low == pytest.approx(chi, abs=1e-9)
    brute = _binary_capacity_brute(_singlet_fidelity(states[0]), _singlet_fidelity(states[1]))
    assert chi == pytest.approx(brute, abs=1e-6)


def _pair_samples(eta: float) -> list[dict]:
    from qkit.channel import theory as channel_theory

    out = []
    for inputs in ("entangled", "separable"):
        ens = channel_theory.optimal_ensemble(eta, inputs)
        for label, value in zip(ens["labels"], (0.61, 0.12), strict=True):
            out.append(
                {
                    "inputs": inputs,
                    "input_label": label,
                    "eta": eta,
                    "p_singlet": _estimate(value, 0.02),
                }
            )
    return out


def test_conditional_probabilities_builds_with_and_without_samples():
    _assert_readable(figures.channel_conditional_probabilities(1.0))
    _assert_readable(figures.channel_conditional_probabilities(0.5, _pair_samples(0.5)))


@pytest.mark.parametrize("eta", [1.0, 0.5])
def test_conditional_probability_bars_are_singlet_overlaps_of_the_outputs(eta):
    """Fig. 4 as drawn: P(singlet | input) = <psi-|rho_out|psi->, rho_out the twirled,
    depolarized input, built here from the input's singlet fidelity (Eqs. 18-21)."""
    from qkit.channel import theory as channel_theory

    fig = figures.channel_conditional_probabilities(eta)
    for ax, inputs in zip(fig.axes, ("entangled", "separable"), strict=True):
        states = channel_theory.optimal_ensemble(eta, inputs)["states"]
        heights = np.array([bar.get_height() for bar in ax.patches]).reshape(2, -1)
        for i, rho_in in enumerate(states):
            p = (4 * _singlet_fidelity(rho_in) - 1) / 3
            p_singlet = _singlet_fidelity(_werner(eta * p))
            assert heights[0, i] == pytest.approx(p_singlet, abs=1e-12)
            assert heights[1, i] == pytest.approx(1 - p_singlet, abs=1e-12)


def test_conditional_probability_samples_land_on_both_bars():
    ax = figures.channel_conditional_probabilities(0.5, _pair_samples(0.5)).axes[0]
    ys = sorted(
        round(float(c.lines[0].get_ydata()[0]), 9) for c in ax.containers if hasattr(c, "has_yerr")
    )
    assert ys == sorted([0.61, 0.39, 0.12, 0.88])


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_paper_b_figures_name_letters_as_states_not_code_names():
    for fig in (
        figures.channel_entropy_construction(1.0),
        figures.channel_entropy_construction(0.0),
        figures.channel_conditional_probabilities(1.0),
    ):
        texts = " ".join(_texts(fig))
        assert "triplet_HH" not in texts and "_HH" not in texts
        assert r"$|HH\rangle$" in texts


def test_construction_legend_swatches_have_the_shading_colours():
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Rectangle

    from qkit.figures.channel import INPUT_COLORS

    fig = figures.channel_entropy_construction(0.5)
    shades = {
        to_rgba(p.get_facecolor())
        for ax in fig.axes
        for p in ax.patches
        if isinstance(p, Rectangle) or p.get_label().startswith("_")
    }
    (legend,) = fig.legends
    swatches = {to_rgba(p.get_facecolor()) for p in legend.findobj(Rectangle) if p.get_visible()}
    for inputs in ("entangled", "separable"):
        rgb = to_rgba(INPUT_COLORS[inputs])[:3]
        assert any(np.allclose(c[:3], rgb) for c in shades)
        assert any(np.allclose(c[:3], rgb) and c[3] > 0 for c in swatches)
    assert not any(np.allclose(c[:3], to_rgba("0.35")[:3]) for c in swatches)


def test_conditional_probabilities_reject_unknown_letters_and_other_eta():
    bad_label = [{"inputs": "entangled", "input_label": "HV", "p_singlet": _estimate(0.5, 0.1)}]
    with pytest.raises(ValueError, match="input_label"):
        figures.channel_conditional_probabilities(1.0, bad_label)
    with pytest.raises(ValueError, match="eta"):
        figures.channel_conditional_probabilities(1.0, _pair_samples(0.5))


def _capacity_samples() -> list[dict]:
    return [
        {
            "eta": 1.0,
            "inputs": "entangled",
            "alphabet": "pair",
            "mutual_information": _estimate(0.97, 0.03),
        },
        {
            "eta": 0.5,
            "inputs": "separable",
            "alphabet": "two-slot",
            "mutual_information": _estimate(2.02, 0.02),
        },
    ]


def test_capacity_figure_builds_with_and_without_samples():
    _assert_readable(figures.channel_capacity())
    fig = figures.channel_capacity(_capacity_samples())
    _assert_readable(fig)
    assert fig.axes[1].get_ylabel() and fig.axes[1].get_title()


def test_capacity_curves_are_optimal_mutual_information_of_the_measurement():
    """Fig. 5 as drawn: chi_2 is the best mutual information of the singlet/triplet outcome
    over send probabilities (brute force), and C = log2(3 + 2^chi_2) (Eq. 8)."""
    ax_pair, ax_full = figures.channel_capacity().axes[:2]
    for k, (p_lo, p_hi) in enumerate(((-1 / 3, 1.0), (-1 / 3, 1 / 3))):
        eta = np.asarray(ax_pair.lines[k].get_xdata())
        chi2 = np.asarray(ax_pair.lines[k].get_ydata())
        capacity = np.asarray(ax_full.lines[k].get_ydata())
        for i in (50, 250, 400, 500):
            brute = _binary_capacity_brute((1 + 3 * eta[i] * p_hi) / 4, (1 + 3 * eta[i] * p_lo) / 4)
            assert chi2[i] == pytest.approx(brute, abs=1e-6)
        assert np.allclose(capacity, np.log2(3 + 2**chi2))
    assert chi2[-1] == pytest.approx(np.log2(5 / 4)) and capacity[-1] == pytest.approx(
        np.log2(17 / 4)
    )


def test_capacity_samples_go_to_the_panel_of_their_alphabet():
    ax_pair, ax_full = figures.channel_capacity(_capacity_samples()).axes[:2]
    pair_y = [c.lines[0].get_ydata()[0] for c in ax_pair.containers]
    full_y = [c.lines[0].get_ydata()[0] for c in ax_full.containers]
    assert pair_y == [0.97] and full_y == [2.02]
    with pytest.raises(ValueError, match="alphabet"):
        figures.channel_capacity([{**_capacity_samples()[0], "alphabet": "photons"}])
