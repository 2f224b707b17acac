"""Unit tests of the gradient-weight figure builders (app/charts/weights.py): the traces hold the core's numbers.

Each figure is also rebuilt through Plotly's full validation (the app skips it for speed), so a bad property fails
here. Run: `python -m pytest tests/test_charts_weights.py -q`.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

import dgpo
from app.charts import weights as charts
from app.charts import weights_table as tables

DEFAULTS = [dgpo.make(n) for n in ("ppo", "cispo", "gppo", "dgpo")]
ALL = [dgpo.make(n) for n in dgpo.available_schemes()]


def _traces(fig: go.Figure, name: str) -> list:
    return [t for t in fig.data if t.name == name]


def _validated(fig: go.Figure) -> go.Figure:
    """The figure itself, after rebuilding it once with Plotly's validation (raises on any invalid property)."""
    go.Figure(fig.to_dict())
    return fig


def test_ratio_figure_traces_are_the_core_curves():
    curves = [dgpo.ratio_curve(s) for s in ALL]
    fig = _validated(charts.ratio_figure(ALL, curves))
    assert len(fig.data) == 2 * len(ALL)
    for s, c in zip(ALL, curves, strict=True):
        pos, neg = _traces(fig, charts.label(s))
        assert (pos.xaxis, neg.xaxis) == ("x", "x2")
        np.testing.assert_array_equal(pos.y, c.w_log_pos.numpy())
        np.testing.assert_array_equal(neg.y, c.w_log_neg.numpy())
    # spot values of the definitions at r = 0.5 (LN for A < 0, eps_low = 0.2)
    i = int(np.argmin(np.abs(curves[0].ratio.numpy() - 0.5)))
    by = {s.name: _traces(fig, charts.label(s))[1].y[i] for s in ALL}
    assert by["ppo"] == 0.0 and by["cpgd"] == 0.0 and by["aspo"] == 0.0
    assert by["gppo"] == pytest.approx(0.8) and by["cispo"] == pytest.approx(0.8)
    assert by["dgpo"] == pytest.approx(0.5**2 / 0.8) and by["pg"] == pytest.approx(0.5)


def test_ratio_figure_shades_the_shared_trust_region_and_labels_boundaries():
    schemes = [dgpo.make("ppo", eps_high=0.28), dgpo.make("dgpo", eps_low=0.1)]
    fig = _validated(charts.ratio_figure(schemes, [dgpo.ratio_curve(s) for s in schemes]))
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert {(r.x0, r.x1) for r in rects} == {(0.9, 1.2)}  # intersection of [0.8, 1.28] and [0.9, 1.2]
    lines = {round(s.x0, 6) for s in fig.layout.shapes if s.type == "line"}
    assert lines == {0.8, 0.9, 1.2, 1.28}
    texts = {a.text for a in fig.layout.annotations}
    assert {"1-ε_low=0.8", "1-ε_low=0.9", "1+ε_high=1.2", "1+ε_high=1.28"} <= texts


def test_ratio_figure_without_boundaries_has_no_band():
    schemes = [dgpo.make("pg"), dgpo.make("sapo")]
    fig = charts.ratio_figure(schemes, [dgpo.ratio_curve(s) for s in schemes])
    assert not fig.layout.shapes


def test_prob_figure_holds_core_weights_and_gaps_for_zero():
    old = 1e-2
    pos = [dgpo.prob_curve(s, old, 1) for s in DEFAULTS]
    neg = [dgpo.prob_curve(s, old, -1) for s in DEFAULTS]
    fig = _validated(charts.prob_figure(DEFAULTS, pos, neg, old))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    for s, cp, cn in zip(DEFAULTS, pos, neg, strict=True):
        tp, tn = _traces(fig, charts.label(s))
        for trace, curve in ((tp, cp), (tn, cn)):
            w = curve.w_prob.numpy()
            y = np.asarray(trace.y, dtype=float)
            np.testing.assert_array_equal(y[w > 0], w[w > 0])
            assert np.isnan(y[w == 0]).all()
    ppo_neg = np.asarray(_traces(fig, "PPO")[1].y, dtype=float)
    pi = neg[0].prob.numpy()
    assert np.isnan(ppo_neg[pi < 0.8 * old]).all() and not np.isnan(ppo_neg[pi > 0.8 * old]).any()
    # GPPO at LN: (1 - eps_low) / pi, i.e. 8e7 at pi = 1e-8; DGPO n = 1: pi / 0.8 / pi_old^2 ... = 1.25e-4
    gppo_neg, dgpo_neg = _traces(fig, "GPPO")[1].y, _traces(fig, "DGPO")[1].y
    assert gppo_neg[0] == pytest.approx(0.8 / 1e-8) and dgpo_neg[0] == pytest.approx(1e-8 / 0.8 / 1e-4)
    band = [s for s in fig.layout.shapes if s.type == "rect"][0]
    assert (band.x0, band.x1) == pytest.approx((0.8 * old, 1.2 * old))
    old_lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.x0 for s in old_lines] == [old, old]


def test_prob_figure_y_range_keeps_18_decades_under_the_top():
    """SAPO's gate reaches ~1e-43 at pi = 1, pi_old = 0.01; the axis stops 18 decades under the largest weight."""
    schemes = [dgpo.make("gppo"), dgpo.make("sapo")]
    pos = [dgpo.prob_curve(s, 1e-2, 1) for s in schemes]
    neg = [dgpo.prob_curve(s, 1e-2, -1) for s in schemes]
    assert float(neg[1].w_prob.min()) < 1e-40
    lo, hi = charts.prob_figure(schemes, pos, neg, 1e-2).layout.yaxis.range
    assert hi == pytest.approx(math.log10(0.8 / 1e-8) + 0.5)  # GPPO at LN, pi = 1e-8
    assert lo == pytest.approx(hi - 0.5 - 18 - 0.5)


def test_heatmap_is_log10_of_the_core_grid_with_boundary_lines():
    s = dgpo.make("gppo")
    grid = dgpo.prob_grid(s, -1)
    fig = _validated(charts.heatmap_figure(s, grid, -1, token=(1e-2, 1e-4)))
    heat = fig.data[0]
    np.testing.assert_allclose(heat.x, np.log10(grid.prob.numpy()))
    np.testing.assert_allclose(heat.y, np.log10(grid.old_prob.numpy()))
    w = grid.w_prob.numpy()
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(z[w > 0], np.log10(w[w > 0]))
    low, high, token = fig.data[1], fig.data[2], fig.data[3]
    np.testing.assert_allclose(np.asarray(low.x) - np.asarray(low.y), math.log10(0.8))
    np.testing.assert_allclose(np.asarray(high.x) - np.asarray(high.y), math.log10(1.2))
    assert max(high.x) <= 0  # the pi = 1.2 pi_old line stops at pi = 1
    assert (token.x[0], token.y[0]) == pytest.approx((-4.0, -2.0))


def test_heatmap_of_ppo_leaves_dropped_cells_empty():
    s = dgpo.make("ppo")
    grid = dgpo.prob_grid(s, -1)
    z = np.asarray(charts.heatmap_figure(s, grid, -1).data[0].z, dtype=float)
    ratio = grid.prob.numpy()[None, :] / grid.old_prob.numpy()[:, None]
    assert np.isnan(z[ratio < 0.8 * (1 - 1e-9)]).all()
    assert np.isfinite(z[ratio > 0.8 * (1 + 1e-9)]).all()


def test_token_table_literal_values():
    """pi_old = 0.01, A < 0, LN: w_prob from the numerical illustration of docs/schemes.md."""
    schemes = [*DEFAULTS, dgpo.make("dgpo", n=2), dgpo.make("gppo", beta1=0.75), dgpo.make("sapo")]
    expected = {1e-3: [0, 800, 800, 12.5, 1.5625, 600, 80.6], 1e-6: [0, 8e5, 8e5, 0.0125, 1.5625e-6, 6e5, 76.8]}
    for prob, w_prob in expected.items():
        table = tables.token_table(schemes, 1e-2, prob, -1)
        assert list(table["scheme"]) == ["PPO", "CISPO", "GPPO", "DGPO", "DGPO (n=2)", "GPPO (beta1=0.75)", "SAPO"]
        np.testing.assert_allclose(table["w_prob"], w_prob, rtol=6e-3)
        np.testing.assert_allclose(table["w_log"], table["w_prob"] * prob, rtol=1e-12)
        np.testing.assert_allclose(table["vs r=1"], table["w_prob"] * 1e-2, rtol=1e-12)  # 1 / pi_old at r = 1
    assert list(table["region"]) == ["LN (left boundary)"] * 6 + ["no boundary"]


def test_token_regions_for_each_side():
    ppo = dgpo.make("ppo")
    assert tables.region(ppo, 0.5, 1) == "LP" and tables.region(ppo, 0.5, -1) == "LN (left boundary)"
    assert tables.region(ppo, 1.5, 1) == "HP (right boundary)" and tables.region(ppo, 1.5, -1) == "HN"
    assert tables.region(ppo, 1.0, 1) == "IN" and tables.region(dgpo.make("pg"), 9.0, 1) == "no boundary"


def test_token_reading_ranks_and_groups_ties():
    table = tables.token_table(DEFAULTS, 1e-2, 1e-4, -1)
    line = tables.token_reading(table, 1e-2, 1e-4, -1)
    assert line == (
        "At π_old=0.01, π=0.0001 (r=0.01): CISPO and GPPO push this rare negative token 80x as hard as inside the "
        "trust region (r = 1); DGPO 0.0125x; PPO drops its gradient."
    )
    hp = tables.token_table([dgpo.make("gppo"), dgpo.make("dgpo")], 1e-2, 0.5, 1)  # r = 50, HP
    line = tables.token_reading(hp, 1e-2, 0.5, 1)
    # GPPO: 1.2 / 0.5 vs 1 / 0.01 -> 0.024x; DGPO: 1.2^(1/2) 50^(1/2) / 0.5 / 100 -> 0.155x
    assert line.startswith("At π_old=0.01, π=0.5 (r=50): DGPO pushes this positive token 0.155x")
    assert line.endswith("GPPO 0.024x.")
    assert tables.token_reading(table.iloc[:0], 1e-2, 1e-4, -1) == ""


def test_label_names_changed_hyperparameters():
    assert charts.label(dgpo.make("dgpo")) == "DGPO"
    assert charts.label(dgpo.make("dgpo", n=2, m=4)) == "DGPO (n=2, m=4)"
    assert charts.label(dgpo.make("ppo", dual_clip=3.0)) == "PPO (dual_clip=3)"
    assert charts.label(dgpo.make("cispo", eps_low=None)) == "CISPO (eps_low=None)"


def test_curves_csv_round_trips_the_plotted_numbers():
    rc = [dgpo.ratio_curve(s) for s in DEFAULTS]
    pos = [dgpo.prob_curve(s, 1e-3, 1) for s in DEFAULTS]
    neg = [dgpo.prob_curve(s, 1e-3, -1) for s in DEFAULTS]
    df = pd.read_csv(io.StringIO(tables.curves_csv(DEFAULTS, rc, pos, neg, 1e-3)))
    assert list(df.columns) == ["scheme", "curve", "x", "weight"]
    assert len(df) == len(DEFAULTS) * (2 * 601 + 2 * 401)
    got = df[(df.scheme == "DGPO") & (df.curve == "w_prob vs pi, pi_old=0.001, A<0")]
    np.testing.assert_allclose(got["x"], neg[3].prob.numpy(), rtol=1e-15)
    np.testing.assert_allclose(got["weight"], neg[3].w_prob.numpy(), rtol=1e-15)


def test_builders_accept_numpy_curves_as_cached_by_the_page():
    s = dgpo.make("dgpo")
    c = dgpo.ratio_curve(s)
    as_numpy = dgpo.RatioCurve(*(t.numpy() for t in c))
    a = charts.ratio_figure([s], [c])
    b = charts.ratio_figure([s], [as_numpy])
    assert [list(t.y) for t in a.data] == [list(t.y) for t in b.data]
    assert torch.equal(torch.as_tensor(b.data[1].y), c.w_log_neg)
