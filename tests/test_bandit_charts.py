"""Pure figure builders of the bandit page. Run: python -m pytest tests/test_bandit_charts.py -q"""

from __future__ import annotations

import numpy as np

from app.charts.bandit import PANELS, SCHEME_COLORS, answers_figure, band, metrics_figure


def test_band_is_mean_and_10_90_percentiles_across_seeds():
    values = np.tile(np.arange(11.0), (2, 1))  # 2 steps, seeds 0..10
    mid, lo, hi = band(values)
    np.testing.assert_allclose(mid, [5.0, 5.0])
    np.testing.assert_allclose(lo, [1.0, 1.0])
    np.testing.assert_allclose(hi, [9.0, 9.0])
    gmid, glo, ghi = band(np.array([[1.0, 100.0, 10.0]]), log=True)  # geometric mean on log axes
    np.testing.assert_allclose(gmid, [10.0])
    assert glo[0] < gmid[0] < ghi[0]
    zmid, _, _ = band(np.zeros((1, 4)), log=True)  # an exact 0 (no update) is floored, not -inf
    assert np.isfinite(zmid).all() and zmid[0] == 1e-12


def test_metrics_figure_one_line_and_one_band_per_scheme_and_panel():
    rng = np.random.default_rng(0)
    per_seed = {s: {m: rng.random((5, 4)) for m, _, _ in PANELS} for s in ("ppo", "dgpo")}
    fig = metrics_figure(per_seed, steps_total=20)
    assert len(fig.data) == 2 * 2 * len(PANELS)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert {t.line.color for t in lines} == {SCHEME_COLORS["ppo"], SCHEME_COLORS["dgpo"]}
    assert sum(t.showlegend for t in lines) == 2  # one legend entry per scheme
    assert fig.layout.xaxis.range == (0, 19)
    assert fig.layout.yaxis4.type == "log"  # weight/prob_max


def test_answers_figure_highlights_correct_and_top_wrong():
    a = np.full((3, 5), 0.2)
    correct = np.array([False, False, True, False, False])
    fig = answers_figure({"ppo": a, "gppo": a}, correct, top_wrong=4)
    assert len(fig.data) == 2 * 5
    green = [t for t in fig.data if t.name == "correct answer"]
    red = [t for t in fig.data if t.name == "most likely wrong answer"]
    assert len(green) == 2 and len(red) == 2
    assert fig.data[4].name == "correct answer"  # drawn last in its panel: on top of the grey lines
