"""The Runs page's pure figure builder (app/charts/runs.py).

Run: python -m pytest tests/test_runs_charts.py -q
"""

from __future__ import annotations

import numpy as np
import plotly.io as pio

from app.charts.runs import color_of, metric_figure


def test_runs_with_raw_lines_behind():
    lines = [{"name": "a", "x": np.arange(3), "y": np.ones(3), "raw_x": np.arange(3), "raw_y": np.zeros(3)}]
    fig = metric_figure("reward/mean", lines, {"a": "#112233"}, x_title="Step")
    raw, smooth = fig.data
    assert raw.name == "a raw" and raw.opacity == 0.2 and raw.showlegend is False
    assert smooth.name == "a" and smooth.line.color == "#112233" and list(smooth.y) == [1, 1, 1]
    assert fig.layout.title.text == "reward/mean" and fig.layout.xaxis.title.text == "Step"
    assert fig.layout.yaxis.type == "linear"
    pio.to_json(fig, validate=True)  # what we build without validation is still a valid figure


def test_group_band_is_a_closed_polygon_and_log_axis():
    x = np.array([0, 1, 2])
    lines = [
        {
            "name": "g",
            "x": x,
            "y": np.array([1.0, 2, 3]),
            "lower": np.array([0.5, 1, 2]),
            "upper": np.array([2.0, 3, 4]),
        }
    ]
    fig = metric_figure("m", lines, {}, log_y=True)
    band, mean = fig.data
    assert list(band.x) == [0, 1, 2, 2, 1, 0] and list(band.y) == [2.0, 3, 4, 2, 1, 0.5]
    assert band.fill == "toself" and band.fillcolor.startswith("rgba(") and band.fillcolor.endswith(",0.22)")
    assert mean.line.color == color_of(0)
    assert fig.layout.yaxis.type == "log"


def test_empty_panel_says_why():
    fig = metric_figure("m", [], {})
    assert len(fig.data) == 0 and "no selected run" in fig.layout.annotations[0].text
