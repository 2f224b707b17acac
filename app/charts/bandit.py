"""Pure Plotly figure builders of the bandit page (no Streamlit here)."""

from __future__ import annotations

import copy
import functools

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per scheme, the same on every chart of the page.
SCHEME_COLORS = {
    "pg": "#7f7f7f",
    "ppo": "#1f77b4",
    "cispo": "#9467bd",
    "gppo": "#d62728",
    "aspo": "#8c564b",
    "sapo": "#e377c2",
    "cpgd": "#bcbd22",
    "dgpo": "#2ca02c",
}

# (metric, panel title, log y)
PANELS = [
    ("reward/mean", "reward/mean", False),
    ("policy/p_correct", "policy/p_correct", False),
    ("entropy/mean", "entropy/mean (nats)", False),
    ("weight/prob_max", "weight/prob_max: max w_prob (log)", True),
    ("kl/old_new_k3", "kl/old_new_k3 (per step)", True),
    ("kl/ref_k3", "kl/ref_k3 (to the initial policy)", False),
    ("clip/low_frac", "clip/low_frac (LN: r < 1-eps_low, A < 0)", False),
    ("clip/high_frac", "clip/high_frac (HP: r > 1+eps_high, A > 0)", False),
]


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def band(values: np.ndarray, log: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre line and 10-90 % band across seeds of ``(steps, S)`` values; the centre is the mean
    (the geometric mean on log axes, where one seed's spike would otherwise hide the others)."""
    v = np.asarray(values, dtype=float)
    if log:
        v = np.log10(np.clip(v, 1e-12, None))  # floor: a step with no update has KL exactly 0
    lo, hi = np.percentile(v, [10, 90], axis=1)
    mid = v.mean(axis=1)
    return (10**mid, 10**lo, 10**hi) if log else (mid, lo, hi)


def _axes(i: int) -> dict:
    """Axis references of subplot ``i`` (0-based) in a make_subplots grid."""
    return {"xaxis": f"x{i + 1}" if i else "x", "yaxis": f"y{i + 1}" if i else "y"}


@functools.cache
def _metrics_layout() -> dict:
    """The grid's layout, built once: make_subplots and Plotly's validation cost ~0.5 s a call, too slow to
    redraw twice a second, so the live figures are assembled from plain dicts with validation off."""
    fig = make_subplots(
        rows=2, cols=4, subplot_titles=[t for _, t, _ in PANELS], horizontal_spacing=0.06, vertical_spacing=0.16
    )
    for i, (_, _, log) in enumerate(PANELS):
        if log:
            fig.update_yaxes(type="log", row=i // 4 + 1, col=i % 4 + 1)
    fig.update_xaxes(title_text="step", row=2)
    fig.update_layout(
        height=560,
        margin=dict(l=40, r=20, t=50, b=40),
        legend=dict(orientation="h", y=1.12, x=0),
        hovermode="x unified",
    )
    fig.update_annotations(font_size=12)
    return fig.layout.to_plotly_json()


def metrics_figure(per_seed: dict[str, dict[str, np.ndarray]], steps_total: int | None = None) -> go.Figure:
    """A grid of the page's metrics over steps: per scheme, the mean over seeds and a 10-90 % band."""
    traces = []
    for i, (metric, _, log) in enumerate(PANELS):
        for scheme, m in per_seed.items():
            if metric not in m:
                continue
            color = SCHEME_COLORS.get(scheme, "#333333")
            mid, lo, hi = band(m[metric], log)
            x = np.arange(len(mid))
            traces.append(
                dict(
                    type="scatter",
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([hi, lo[::-1]]),
                    fill="toself",
                    fillcolor=_rgba(color, 0.15),
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=scheme,
                    **_axes(i),
                )
            )
            traces.append(
                dict(
                    type="scatter",
                    x=x,
                    y=mid,
                    mode="lines",
                    line=dict(color=color, width=2),
                    name=scheme,
                    legendgroup=scheme,
                    showlegend=i == 0,
                    hovertemplate=f"{scheme} step %{{x}}: %{{y:.4g}}<extra></extra>",
                    **_axes(i),
                )
            )
    layout = copy.deepcopy(_metrics_layout())
    if steps_total:
        for i in range(len(PANELS)):
            layout["xaxis" + (str(i + 1) if i else "")]["range"] = [0, max(steps_total - 1, 1)]
    return go.Figure(data=traces, layout=layout, _validate=False)


@functools.cache
def _answers_layout(schemes: tuple[str, ...]) -> dict:
    fig = make_subplots(
        rows=1, cols=max(len(schemes), 1), subplot_titles=list(schemes), shared_yaxes=True, horizontal_spacing=0.03
    )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="π(answer | prompt 0)", row=1, col=1)
    fig.update_layout(height=360, margin=dict(l=50, r=20, t=40, b=40), legend=dict(orientation="h", y=1.18, x=0))
    return fig.layout.to_plotly_json()


def answers_figure(answers: dict[str, np.ndarray], correct: np.ndarray, top_wrong: int) -> go.Figure:
    """One panel per scheme: the probability of each answer of one prompt and seed over steps (log y).

    ``answers``: scheme -> (steps, K); ``correct``: (K,) bool; ``top_wrong``: the initially most likely wrong arm.
    The grey "other" answers are drawn first so the correct (green) and top wrong (red) lines stay on top.
    """
    schemes = tuple(answers)
    traces = []
    for j, scheme in enumerate(schemes):
        a = np.clip(answers[scheme], 1e-12, None)
        x = np.arange(a.shape[0])
        others = [k for k in range(a.shape[1]) if not correct[k] and k != top_wrong]
        roles = [(k, "other wrong answers", "rare", dict(color="rgba(120,120,120,0.35)", width=1)) for k in others]
        roles += [(top_wrong, "most likely wrong answer", "top", dict(color="#d62728", width=2.5))]
        roles += [(k, "correct answer", "correct", dict(color="#2ca02c", width=3)) for k in np.flatnonzero(correct)]
        shown = set()
        for k, name, group, style in roles:
            traces.append(
                dict(
                    type="scatter",
                    x=x,
                    y=a[:, k],
                    mode="lines",
                    line=style,
                    name=name,
                    legendgroup=group,
                    showlegend=j == 0 and group not in shown,
                    hovertemplate=f"answer {k} step %{{x}}: p=%{{y:.3g}}<extra>{scheme}</extra>",
                    **_axes(j),
                )
            )
            shown.add(group)
    return go.Figure(data=traces, layout=copy.deepcopy(_answers_layout(schemes)), _validate=False)
