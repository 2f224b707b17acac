"""Figure builders of the Runs page (pure Plotly, no Streamlit): one panel per metric."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.Plotly + qualitative.D3[1:] + qualitative.Set2


def color_of(index: int) -> str:
    """A stable colour per run/group position, shared by every panel."""
    return PALETTE[index % len(PALETTE)]


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    if len(h) != 6:  # named or rgb() colours from a palette: let Plotly handle them without transparency
        return hex_color
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def metric_figure(
    metric: str,
    lines: list[dict],
    colors: dict[str, str],
    *,
    x_title: str = "Step",
    log_y: bool = False,
    show_legend: bool = True,
    height: int = 360,
) -> go.Figure:
    """One panel. ``lines`` come from ``sims.runs.analysis.panel_series``: per run ``x, y`` (smoothed) and
    optionally ``raw_x, raw_y`` (drawn faint behind), or per group ``x, y`` (mean) and ``lower, upper`` (band)."""
    # Traces are plain dicts and the figure skips Plotly's per-property validation: with 20 runs x 10 panels
    # that validation (and template copying) cost ~2 s per rerun; Streamlit's theme supplies the template.
    traces = []
    for i, line in enumerate(lines):
        name, color = line["name"], colors.get(line["name"], color_of(i))
        if line.get("lower") is not None:
            traces.append(
                {
                    "type": "scatter",
                    "x": np.concatenate([line["x"], line["x"][::-1]]),
                    "y": np.concatenate([line["upper"], line["lower"][::-1]]),
                    "fill": "toself",
                    "fillcolor": _rgba(color, 0.22),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "legendgroup": name,
                    "showlegend": False,
                    "name": f"{name} band",
                }
            )
        if "raw_y" in line:
            traces.append(
                {
                    "type": "scatter",
                    "x": line["raw_x"],
                    "y": line["raw_y"],
                    "mode": "lines",
                    "line": {"color": color, "width": 1},
                    "opacity": 0.2,
                    "hoverinfo": "skip",
                    "legendgroup": name,
                    "showlegend": False,
                    "name": f"{name} raw",
                }
            )
        traces.append(
            {
                "type": "scatter",
                "x": line["x"],
                "y": line["y"],
                "mode": "lines",
                "line": {"color": color, "width": 2},
                "legendgroup": name,
                "name": name,
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
            }
        )
    layout = {
        "title": {"text": metric, "font": {"size": 14}},
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "showlegend": show_legend,
        # below the x-axis title; Plotly grows the bottom margin to fit however many rows it wraps into
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "font": {"size": 11}},
        "hovermode": "closest",
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"type": "log" if log_y else "linear", "exponentformat": "power" if log_y else "none"},
    }
    if not lines:
        layout["annotations"] = [
            {
                "text": "no selected run logged this metric",
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ]
    return go.Figure(data=traces, layout=layout, _validate=False)
