"""Pure Plotly figure builders for the gradient-weight page (no ``st.`` here).

Every number comes from the core: the builders take the schemes and their ``dgpo.RatioCurve`` / ``ProbCurve`` /
``ProbGrid`` (tensors, or the same tuples with numpy fields as the page caches them). Zero weights (a dropped
gradient) cannot be drawn on a log axis; they become gaps (NaN), and the captions say so. The token table and the
CSV export live in app/charts/weights_table.py.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

import dgpo

COLORS = {
    "pg": "#9e9e9e",
    "ppo": "#1f77b4",
    "cispo": "#ff7f0e",
    "gppo": "#d62728",
    "aspo": "#8c564b",
    "sapo": "#9467bd",
    "cpgd": "#17becf",
    "dgpo": "#2ca02c",
}
# Dashes keep coinciding curves apart (CISPO and GPPO share w_log at LN).
DASHES = {"cispo": "dash", "sapo": "dot", "cpgd": "dashdot", "aspo": "longdash", "pg": "dot"}
SIGNS = {1: "A > 0", -1: "A < 0"}


def label(scheme: dgpo.Scheme) -> str:
    """Legend name, e.g. 'DGPO (n=2, m=4)': the hyper-parameters that differ from their defaults are named."""

    def fmt(v) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    defaults = dgpo.hyperparameters(scheme.name)
    changed = [f"{k}={fmt(getattr(scheme, k))}" for k, v in defaults.items() if getattr(scheme, k) != v]
    return scheme.name.upper() + (f" ({', '.join(changed)})" if changed else "")


def to_numpy(t) -> np.ndarray:
    """A tensor (the core's curves) or an array (the page's cached curves) as a numpy array."""
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _positive(y: np.ndarray) -> np.ndarray:
    """Zeros become NaN so a log axis shows a gap instead of dropping the trace."""
    return np.where(y > 0, y, np.nan)


def _boundary_values(schemes: list[dgpo.Scheme]) -> list[tuple[float, str]]:
    """Distinct boundary ratios of the selected schemes with a label naming the side."""
    seen: dict[float, str] = {}
    for s in schemes:
        lo, hi = s.bounds
        if lo is not None:
            seen.setdefault(round(lo, 6), f"1-ε_low={lo:g}")
        if hi is not None:
            seen.setdefault(round(hi, 6), f"1+ε_high={hi:g}")
    return sorted(seen.items())


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts, without Plotly's per-property validation.

    Validation costs ~90 ms per figure with 16 traces, a third of the 300 ms rerun budget; the specs are fixed
    code, checked once by the unit tests (tests/test_charts_weights.py rebuilds each figure validated).
    """
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _two_panels(titles: tuple[str, str], x_title: str, y_title: str, log: bool) -> dict:
    """Layout of two side-by-side panels with shared axes (x and y for A > 0, x2 and y2 for A < 0)."""
    kind = "log" if log else "linear"
    fmt = {"exponentformat": "power"} if log else {}
    return {
        "xaxis": {"domain": [0.0, 0.48], "title": {"text": x_title}, "type": kind, **fmt},
        "xaxis2": {"domain": [0.52, 1.0], "title": {"text": x_title}, "type": kind, "matches": "x", **fmt},
        "yaxis": {"title": {"text": y_title}, "type": kind, **fmt},
        "yaxis2": {"anchor": "x2", "matches": "y", "showticklabels": False, "type": kind},
        "annotations": [
            {
                "text": t,
                "xref": f"{ax} domain",
                "x": 0.5,
                "yref": "paper",
                "y": 1.0,
                "yanchor": "bottom",
                "showarrow": False,
                "yshift": 28,
                "font": {"size": 14},
            }
            for t, ax in zip(titles, ("x", "x2"), strict=True)
        ],
        "shapes": [],
        "height": 430,
        "margin": {"t": 80, "b": 40, "l": 60, "r": 20},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
    }


def _width(i: int, n: int) -> float:
    """Line width of the i-th of n schemes: earlier ones are wider, so a curve under a later one still shows."""
    return 2.0 if n == 1 else 1.5 + 3.5 * (n - 1 - i) / (n - 1)


def _line(s: dgpo.Scheme, x, y, panel: int, hover: str, width: float = 2.0) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "name": label(s),
        "legendgroup": s.name,
        "showlegend": panel == 1,
        "xaxis": "x" if panel == 1 else "x2",
        "yaxis": "y" if panel == 1 else "y2",
        "line": {"color": COLORS.get(s.name), "width": width, "dash": DASHES.get(s.name, "solid")},
        "hovertemplate": f"{label(s)}<br>{hover}<extra></extra>",
    }


def _shared_region(schemes: list[dgpo.Scheme]) -> tuple[float, float] | None:
    """The ratio interval every selected scheme calls inside (None if some scheme has no boundary there)."""
    los = [s.bounds[0] for s in schemes if s.bounds[0] is not None]
    his = [s.bounds[1] for s in schemes if s.bounds[1] is not None]
    return (max(los), min(his)) if los and his else None


def _band(x0: float, x1: float, opacity: float) -> list[dict]:
    return [
        {
            "type": "rect",
            "xref": ax,
            "yref": f"{ya} domain",
            "x0": x0,
            "x1": x1,
            "y0": 0,
            "y1": 1,
            "fillcolor": "#2ca02c",
            "opacity": opacity,
            "line": {"width": 0},
            "layer": "below",
        }
        for ax, ya in (("x", "y"), ("x2", "y2"))
    ]


def _vlines(x: float, dash: str, color: str) -> list[dict]:
    return [
        {
            "type": "line",
            "xref": ax,
            "yref": f"{ya} domain",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"dash": dash, "color": color, "width": 1},
        }
        for ax, ya in (("x", "y"), ("x2", "y2"))
    ]


def ratio_figure(schemes: list[dgpo.Scheme], curves: list[dgpo.RatioCurve]) -> go.Figure:
    """Plot 1: ``w_log`` against ``r`` for A > 0 and A < 0 (two panels, shared axes), trust region shaded."""
    layout = _two_panels(("A > 0", "A < 0"), "ratio r = π / π_old", "w_log (weight on A·∇log π)", log=False)
    data = []
    top = 0.0
    for i, (s, c) in enumerate(zip(schemes, curves, strict=True)):
        r, width = to_numpy(c.ratio), _width(i, len(schemes))
        for panel, w in ((1, to_numpy(c.w_log_pos)), (2, to_numpy(c.w_log_neg))):
            data.append(_line(s, r, w, panel, "r=%{x:.3f}<br>w_log=%{y:.4g}", width))
            top = max(top, float(np.nanmax(np.where(np.isfinite(w), w, np.nan))))
    layout["yaxis"]["range"] = [-0.05 * top, 1.08 * top] if top > 0 else [-0.05, 1.0]
    region = _shared_region(schemes)
    if region:
        layout["shapes"] += _band(*region, opacity=0.10)
    for x, text in _boundary_values(schemes):
        layout["shapes"] += _vlines(x, "dot", "#666")
        for ax in ("x", "x2"):
            layout["annotations"].append(
                {
                    "x": x,
                    "xref": ax,
                    "y": 1.0,
                    "yref": "paper",
                    "text": text,
                    "showarrow": False,
                    "yanchor": "bottom",
                    "xanchor": "right" if x < 1 else "left",  # keep the two labels of one region apart
                    "font": {"size": 10, "color": "#555"},
                }
            )
    if curves:
        layout["xaxis"]["range"] = [0.0, float(to_numpy(curves[0].ratio)[-1])]
    return _figure(data, layout)


def prob_figure(
    schemes: list[dgpo.Scheme], pos: list[dgpo.ProbCurve], neg: list[dgpo.ProbCurve], old_prob: float
) -> go.Figure:
    """Plot 2: ``w_prob`` against ``pi`` at a fixed ``pi_old`` (log-log), A > 0 and A < 0; gaps are zero weight.

    Shaded: the trust region in pi, ``(1 - eps_low) pi_old <= pi <= (1 + eps_high) pi_old``; dashed: pi_old.
    """
    titles = (f"A > 0, π_old = {old_prob:g}", f"A < 0, π_old = {old_prob:g}")
    layout = _two_panels(titles, "current probability π", "w_prob (weight on A·∇π)", log=True)
    data = []
    for i, (s, cp, cn) in enumerate(zip(schemes, pos, neg, strict=True)):
        width = _width(i, len(schemes))
        for panel, c in ((1, cp), (2, cn)):
            data.append(
                _line(s, to_numpy(c.prob), _positive(to_numpy(c.w_prob)), panel, "π=%{x:.3g}<br>w_prob=%{y:.4g}", width)
            )
    # SAPO's gate falls below 1e-40 far right of pi_old: show 18 decades under the largest weight, not all of it.
    ys = np.concatenate([np.asarray(d["y"], dtype=float) for d in data]) if data else np.array([])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size:
        top, low = float(ys.max()), float(ys.min())
        layout["yaxis"]["range"] = [math.log10(max(low, top * 1e-18)) - 0.5, math.log10(top) + 0.5]
    region = _shared_region(schemes)
    if region:
        layout["shapes"] += _band(region[0] * old_prob, min(1.0, region[1] * old_prob), opacity=0.15)
    layout["shapes"] += _vlines(old_prob, "dash", "#000")
    for ax in ("x", "x2"):  # annotations on a log axis take log10 coordinates
        layout["annotations"].append(
            {
                "x": math.log10(old_prob),
                "xref": ax,
                "y": 1.0,
                "yref": "paper",
                "text": "π_old",
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": 11},
            }
        )
    return _figure(data, layout)


def heatmap_figure(scheme: dgpo.Scheme, grid: dgpo.ProbGrid, sign: int, token: tuple[float, float] | None = None):
    """Plot 3: ``log10 w_prob`` over (pi_old, pi) for one scheme, with the boundary lines pi = (1 -+ eps) pi_old.

    Axes are log10 of the probabilities (a heatmap needs evenly spaced cells); white cells have zero weight.
    ``token`` = (pi_old, pi) marks the token of the table.
    """
    x, y = np.log10(to_numpy(grid.prob)), np.log10(to_numpy(grid.old_prob))
    w = to_numpy(grid.w_prob)
    z = np.log10(_positive(w))
    data = [
        {
            "type": "heatmap",
            "x": x,
            "y": y,
            "z": z,
            "colorscale": "Viridis",
            "zsmooth": False,
            "colorbar": {"title": {"text": "log10 w_prob"}},
            "hovertemplate": "π=10^%{x:.2f}<br>π_old=10^%{y:.2f}<br>log10 w_prob=%{z:.2f}<extra></extra>",
        }
    ]
    lo, hi = scheme.bounds
    for b, name in ((lo, "π = (1-ε_low) π_old"), (hi, "π = (1+ε_high) π_old")):
        if b is None:
            continue
        line_y = y[(y + math.log10(b)) <= 0]  # stay inside pi <= 1
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": line_y + math.log10(b),
                "y": line_y,
                "name": name,
                "line": {"color": "#ff00ff", "dash": "dash", "width": 2},
                "hoverinfo": "skip",
            }
        )
    if token is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [math.log10(token[1])],
                "y": [math.log10(token[0])],
                "name": "the token of the table",
                "marker": {"symbol": "x", "size": 13, "color": "red", "line": {"color": "white", "width": 1}},
            }
        )
    layout = {
        "title": {"text": f"{label(scheme)}, {SIGNS[sign]}: w_prob over (π_old, π)"},
        "xaxis": {"title": {"text": "log10 π (current)"}, "range": [x[0], x[-1]]},
        "yaxis": {"title": {"text": "log10 π_old"}, "range": [y[0], y[-1]]},
        "height": 480,
        "margin": {"t": 50, "b": 40, "l": 60, "r": 20},
        "legend": {"orientation": "h", "y": -0.22},
    }
    return _figure(data, layout)
