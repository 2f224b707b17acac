"""Pure Plotly figure builders for the gradient-weight page (no ``st.`` here).

Every number comes from the core: the builders take ``dgpo.RatioCurve`` / ``ProbCurve`` / ``ProbGrid`` objects and
the schemes themselves (``Scheme.weight`` / ``Scheme.prob_weight`` for the token table). Zero weights (a dropped
gradient) cannot be drawn on a log axis; they become gaps (NaN), and the captions say so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
SIGNS = {1: "A > 0", -1: "A < 0"}


def label(scheme: dgpo.Scheme) -> str:
    """Legend name, e.g. 'DGPO n=1, m=2' (hyper-parameters that differ from the defaults are named)."""
    defaults = dgpo.hyperparameters(scheme.name)
    changed = [f"{k}={getattr(scheme, k):g}" for k, v in defaults.items() if getattr(scheme, k) != v and v is not None]
    changed += [f"{k}={getattr(scheme, k)}" for k, v in defaults.items() if getattr(scheme, k) != v and v is None]
    return scheme.name.upper() + (f" ({', '.join(changed)})" if changed else "")


def _np(t) -> np.ndarray:
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


def ratio_figure(schemes: list[dgpo.Scheme], curves: list[dgpo.RatioCurve]) -> go.Figure:
    """Plot 1: ``w_log`` against ``r`` for A > 0 and A < 0 (two panels, shared axes), trust region shaded."""
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=("A > 0", "A < 0")
    )
    for s, c in zip(schemes, curves, strict=True):
        r = _np(c.ratio)
        for col, w in ((1, c.w_log_pos), (2, c.w_log_neg)):
            fig.add_trace(
                go.Scatter(
                    x=r, y=_np(w), name=label(s), legendgroup=s.name, showlegend=col == 1, mode="lines",
                    line={"color": COLORS.get(s.name), "width": 2},
                    hovertemplate=f"{label(s)}<br>r=%{{x:.3f}}<br>w_log=%{{y:.4g}}<extra></extra>",
                ),
                row=1, col=col,
            )
    los = [s.bounds[0] for s in schemes if s.bounds[0] is not None]
    his = [s.bounds[1] for s in schemes if s.bounds[1] is not None]
    if los and his:  # shade the region every selected scheme calls "inside"
        for col in (1, 2):
            fig.add_vrect(x0=max(los), x1=min(his), fillcolor="#2ca02c", opacity=0.08, line_width=0, row=1, col=col)
    for x, text in _boundary_values(schemes):
        for col in (1, 2):
            fig.add_vline(x=x, line={"dash": "dot", "color": "#666", "width": 1}, row=1, col=col)
        fig.add_annotation(x=x, y=1.0, yref="paper", xref="x", text=text, showarrow=False, yanchor="bottom",
                           font={"size": 10, "color": "#555"}, textangle=-30)
    fig.update_xaxes(title_text="ratio r = π / π_old", range=[0, float(_np(curves[0].ratio)[-1])] if curves else None)
    fig.update_yaxes(title_text="w_log (weight on A·∇log π)", row=1, col=1)
    fig.update_layout(height=420, margin={"t": 70, "b": 40, "l": 60, "r": 20}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def prob_figure(
    schemes: list[dgpo.Scheme], pos: list[dgpo.ProbCurve], neg: list[dgpo.ProbCurve], old_prob: float
) -> go.Figure:
    """Plot 2: ``w_prob`` against ``pi`` at a fixed ``pi_old`` (log-log), A > 0 and A < 0; gaps are zero weight."""
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
        subplot_titles=(f"A > 0, π_old = {old_prob:g}", f"A < 0, π_old = {old_prob:g}"),
    )
    for s, cp, cn in zip(schemes, pos, neg, strict=True):
        for col, c in ((1, cp), (2, cn)):
            fig.add_trace(
                go.Scatter(
                    x=_np(c.prob), y=_positive(_np(c.w_prob)), name=label(s), legendgroup=s.name,
                    showlegend=col == 1, mode="lines", line={"color": COLORS.get(s.name), "width": 2},
                    hovertemplate=f"{label(s)}<br>π=%{{x:.3g}}<br>w_prob=%{{y:.4g}}<extra></extra>",
                ),
                row=1, col=col,
            )
    for col in (1, 2):
        fig.add_vline(x=old_prob, line={"dash": "dash", "color": "#000", "width": 1}, row=1, col=col)
    fig.add_annotation(x=math.log10(old_prob), y=1.0, xref="x", yref="paper", text="π_old", showarrow=False,
                       yanchor="bottom", font={"size": 10})
    for x, text in _boundary_values(schemes):
        p = x * old_prob
        if p <= 1:
            for col in (1, 2):
                fig.add_vline(x=p, line={"dash": "dot", "color": "#666", "width": 1}, row=1, col=col)
            fig.add_annotation(x=math.log10(p), y=1.0, xref="x2", yref="paper", text=text.replace("=", " π_old, "),
                               showarrow=False, yanchor="bottom", font={"size": 9, "color": "#555"}, textangle=-30)
    fig.update_xaxes(type="log", title_text="current probability π", exponentformat="power")
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="w_prob (weight on A·∇π)", row=1, col=1)
    fig.update_layout(height=420, margin={"t": 80, "b": 40, "l": 60, "r": 20}, legend={"orientation": "h", "y": -0.2})
    return fig


def heatmap_figure(scheme: dgpo.Scheme, grid: dgpo.ProbGrid, sign: int, token: tuple[float, float] | None = None):
    """Plot 3: ``log10 w_prob`` over (pi_old, pi) for one scheme, with the boundary lines pi = (1 -+ eps) pi_old.

    Axes are log10 of the probabilities (a heatmap needs evenly spaced cells); white cells have zero weight.
    ``token`` = (pi_old, pi) marks the token of the table.
    """
    x, y = np.log10(_np(grid.prob)), np.log10(_np(grid.old_prob))
    w = _np(grid.w_prob)
    z = np.log10(_positive(w))
    fig = go.Figure(
        go.Heatmap(
            x=x, y=y, z=z, colorscale="Viridis", zsmooth=False,
            colorbar={"title": {"text": "log10 w_prob"}},
            hovertemplate="π=10^%{x:.2f}<br>π_old=10^%{y:.2f}<br>log10 w_prob=%{z:.2f}<extra></extra>",
        )
    )
    lo, hi = scheme.bounds
    for b, name in ((lo, "π = (1-ε_low) π_old"), (hi, "π = (1+ε_high) π_old")):
        if b is None:
            continue
        line_y = y[(y + math.log10(b)) <= 0]  # stay inside pi <= 1
        fig.add_trace(go.Scatter(x=line_y + math.log10(b), y=line_y, mode="lines", name=name,
                                 line={"color": "white", "dash": "dash", "width": 2}, hoverinfo="skip"))
    if token is not None:
        fig.add_trace(go.Scatter(x=[math.log10(token[1])], y=[math.log10(token[0])], mode="markers", name="token",
                                 marker={"symbol": "x", "size": 12, "color": "red"}))
    fig.update_layout(
        title=f"{label(scheme)}, {SIGNS[sign]}: w_prob over (π_old, π)",
        xaxis={"title": "log10 π (current)", "range": [x[0], x[-1]]},
        yaxis={"title": "log10 π_old", "range": [y[0], y[-1]]},
        height=460, margin={"t": 50, "b": 40, "l": 60, "r": 20}, legend={"orientation": "h", "y": -0.15},
    )
    return fig


def region(scheme: dgpo.Scheme, ratio: float, sign: int) -> str:
    """Which region a token is in for this scheme: IN, LN, HP, LP or HN (see docs/schemes.md)."""
    lo, hi = scheme.bounds
    if lo is not None and ratio < lo:
        return "LN (left boundary)" if sign < 0 else "LP"
    if hi is not None and ratio > hi:
        return "HP (right boundary)" if sign > 0 else "HN"
    return "IN" if (lo is not None or hi is not None) else "no boundary"


def token_table(schemes: list[dgpo.Scheme], old_prob: float, prob: float, sign: int) -> pd.DataFrame:
    """``w_log`` and ``w_prob`` of one token per scheme, and ``w_prob`` relative to the same token at r = 1."""
    rows = []
    for s in schemes:
        w_log = float(s.weight(np.float64(prob / old_prob), float(sign)))
        w_prob = float(s.prob_weight(np.float64(prob), old_prob, float(sign)))
        at_one = float(s.prob_weight(np.float64(old_prob), old_prob, float(sign)))
        rows.append({"scheme": label(s), "region": region(s, prob / old_prob, sign), "w_log": w_log,
                     "w_prob": w_prob, "vs r=1": w_prob / at_one if at_one > 0 else float("nan")})
    return pd.DataFrame(rows)


def token_reading(table: pd.DataFrame, old_prob: float, prob: float, sign: int) -> str:
    """One line ranking the schemes by how hard they push this token, relative to the same token at r = 1.

    E.g. "GPPO and CISPO push this rare negative token 80x as hard as inside the trust region; DGPO 0.01x;
    PPO drops it." Schemes with equal factors are named together.
    """
    if table.empty:
        return ""
    rare = "rare " if prob < 1e-2 else ""
    kind = "negative" if sign < 0 else "positive"
    groups: dict[float, list[str]] = {}
    for name, x in zip(table["scheme"], table["vs r=1"], strict=True):
        groups.setdefault(float(f"{x:.3g}"), []).append(name)
    ordered = sorted(groups.items(), key=lambda kv: -kv[0])
    parts = []
    for i, (x, names) in enumerate(ordered):
        who = " and ".join(names)
        if x == 0:
            parts.append(f"{who} {'drops' if len(names) == 1 else 'drop'} its gradient")
        elif i == 0:
            verb = "pushes" if len(names) == 1 else "push"
            parts.append(f"{who} {verb} this {rare}{kind} token {x:.3g}x as hard as inside the trust region (r = 1)")
        else:
            parts.append(f"{who} {x:.3g}x")
    return f"At π_old={old_prob:g}, π={prob:g} (r={prob / old_prob:.3g}): " + "; ".join(parts) + "."


def curves_csv(schemes, ratio_curves, pos, neg, old_prob: float) -> str:
    """All plotted curves in long format: scheme, curve, x, weight."""
    parts = []
    for s, rc, cp, cn in zip(schemes, ratio_curves, pos, neg, strict=True):
        for curve, x, w in (
            ("w_log vs r, A>0", rc.ratio, rc.w_log_pos),
            ("w_log vs r, A<0", rc.ratio, rc.w_log_neg),
            (f"w_prob vs pi, pi_old={old_prob:g}, A>0", cp.prob, cp.w_prob),
            (f"w_prob vs pi, pi_old={old_prob:g}, A<0", cn.prob, cn.w_prob),
        ):
            parts.append(pd.DataFrame({"scheme": label(s), "curve": curve, "x": _np(x), "weight": _np(w)}))
    return pd.concat(parts, ignore_index=True).to_csv(index=False)
