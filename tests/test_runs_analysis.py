"""Smoothing, downsampling and grouping of run curves (sims.runs.analysis) against hand-computed numbers.

Run: python -m pytest tests/test_runs_analysis.py -q
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sims.runs import analysis


def _tensorboard_ema(values, weight):
    """TensorBoard's smoothing loop, transcribed (vz_line_chart: last = last*w + (1-w)*v, debiased by 1-w**k)."""
    out, last, k = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(float("nan"))
            continue
        last = last * weight + (1 - weight) * v
        k += 1
        out.append(last / (1 - weight**k))
    return out


def test_ema_matches_hand_computed_series():
    # w = 0.5 on [1, 2, 3, 4]: by hand
    # k=1: last=0.5,   /0.5    = 1
    # k=2: last=1.25,  /0.75   = 5/3
    # k=3: last=2.125, /0.875  = 17/7
    # k=4: last=3.0625,/0.9375 = 49/15
    got = analysis.ema(np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    np.testing.assert_allclose(got, [1.0, 5 / 3, 17 / 7, 49 / 15], rtol=1e-12)


def test_ema_equals_tensorboard_loop_with_gaps():
    rng = np.random.default_rng(0)
    values = rng.normal(size=300)
    values[[5, 6, 100]] = [np.nan, np.inf, np.nan]
    for weight in (0.0, 0.3, 0.6, 0.9, 0.99):
        np.testing.assert_allclose(analysis.ema(values, weight), _tensorboard_ema(values, weight), rtol=1e-10)
    assert np.isnan(analysis.ema(values, 0.6)[[5, 6, 100]]).all()


def test_ema_first_point_is_unbiased_and_constant_stays_constant():
    assert analysis.ema(np.array([7.0]), 0.9)[0] == pytest.approx(7.0)
    np.testing.assert_allclose(analysis.ema(np.full(50, 3.0), 0.95), 3.0)


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_ema_rejects_weights_outside_unit_interval(weight):
    with pytest.raises(ValueError, match=r"smoothing weight must be in \[0, 1\)"):
        analysis.ema(np.ones(3), weight)


def test_downsample_keeps_extremes_and_bounds_points():
    n = 100_000
    x = np.arange(n)
    y = np.sin(x / 1000.0)
    y[31_337] = 50.0  # a spike that must survive
    y[77_777] = -50.0
    dx, dy = analysis.downsample(x, y, 1000)
    assert len(dx) <= 1002
    assert dy.max() == 50.0 and dy.min() == -50.0
    assert dx[0] == 0 and dx[-1] == n - 1
    assert np.all(np.diff(dx) > 0)
    np.testing.assert_array_equal(dy, y[dx])  # points are real samples, not averages


def test_downsample_leaves_short_series_alone():
    x, y = np.arange(10), np.arange(10.0)
    dx, dy = analysis.downsample(x, y, 1000)
    np.testing.assert_array_equal(dx, x)
    np.testing.assert_array_equal(dy, y)


def test_group_stats_on_steps():
    a = (np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]))
    b = (np.array([0, 1, 2, 3]), np.array([3.0, 4.0, 9.0, 10.0]))
    stats = analysis.group_stats([a, b])
    assert list(stats["x"]) == [0, 1, 2, 3]
    assert list(stats["mean"]) == [2.0, 3.0, 6.0, 10.0]
    assert list(stats["std"]) == [1.0, 1.0, 3.0, 0.0]  # population std; step 3 has only run b
    assert list(stats["min"]) == [1.0, 2.0, 3.0, 10.0]
    assert list(stats["max"]) == [3.0, 4.0, 9.0, 10.0]
    assert list(stats["count"]) == [2, 2, 2, 1]


def test_group_stats_on_a_time_grid_interpolates():
    a = (np.array([0.0, 10.0]), np.array([0.0, 10.0]))  # y = x
    b = (np.array([0.0, 5.0]), np.array([2.0, 2.0]))  # constant 2, only up to x = 5
    stats = analysis.group_stats([a, b], grid_points=3)  # grid 0, 5, 10
    np.testing.assert_allclose(stats["x"], [0.0, 5.0, 10.0])
    np.testing.assert_allclose(stats["mean"], [1.0, 3.5, 10.0])
    assert list(stats["count"]) == [2, 2, 1]


def _frames():
    steps = np.arange(4)
    return {
        "r1": pd.DataFrame({"step": steps, "wall_time": 100.0 + steps, "m": [0.0, 1.0, 2.0, 3.0]}),
        "r2": pd.DataFrame({"step": steps, "wall_time": 200.0 + 2 * steps, "m": [2.0, 3.0, 4.0, 5.0]}),
        "r3": pd.DataFrame({"step": steps, "wall_time": 300.0 + steps, "other": [1.0, 1.0, 1.0, 1.0]}),
    }


def test_panel_series_per_run_with_raw_behind():
    lines = analysis.panel_series(_frames(), "m", weight=0.5)
    assert [line["name"] for line in lines] == ["r1", "r2"]  # r3 did not log "m"
    np.testing.assert_allclose(lines[0]["y"], _tensorboard_ema([0.0, 1.0, 2.0, 3.0], 0.5))
    np.testing.assert_allclose(lines[0]["raw_y"], [0.0, 1.0, 2.0, 3.0])
    assert "raw_y" not in analysis.panel_series(_frames(), "m", weight=0.0)[0]


def test_panel_series_relative_time_starts_at_zero():
    lines = analysis.panel_series(_frames(), "m", x_axis="relative")
    np.testing.assert_allclose(lines[1]["x"], [0.0, 2.0, 4.0, 6.0])


def test_panel_series_groups_mean_and_bands():
    groups = {"r1": "ppo", "r2": "ppo", "r3": "dgpo"}
    (line,) = analysis.panel_series(_frames(), "m", groups=groups, band="std")
    assert line["name"] == "ppo (2 runs)" and line["runs"] == 2
    np.testing.assert_allclose(line["y"], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(line["lower"], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(line["upper"], [2.0, 3.0, 4.0, 5.0])
    (mm,) = analysis.panel_series(_frames(), "m", groups=groups, band="min-max")
    np.testing.assert_allclose(mm["lower"], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(mm["upper"], [2.0, 3.0, 4.0, 5.0])
    (none,) = analysis.panel_series(_frames(), "m", groups=groups, band="none")
    assert none["lower"] is None


def test_panel_series_rejects_unknown_band_and_axis():
    with pytest.raises(ValueError, match="unknown band"):
        analysis.panel_series(_frames(), "m", band="iqr")
    with pytest.raises(ValueError, match="unknown x-axis"):
        analysis.panel_series(_frames(), "m", x_axis="tokens")
