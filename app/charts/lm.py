"""Figure builders of the Small-LM lab page (pure Plotly, no Streamlit): the live training curves."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

# (panel title, [(metric, legend label)], log y-axis)
PANELS = [
    # the verifiers give 0/1 rewards, so reward/mean is the accuracy; the second trace shows how many groups
    # give no learning signal (all G completions equally right or wrong: zero advantages)
    ("Reward = accuracy", [("reward/mean", "mean"), ("reward/frac_zero_std", "groups w/o signal")], False),
    ("Entropy of π_old, nats", [("entropy/mean", "entropy")], False),
    ("KL k3", [("kl/old_new_k3", "π_old‖π_new"), ("kl/ref_k3", "π‖π_ref")], False),
    ("Clip fraction", [("clip/low_frac", "low"), ("clip/high_frac", "high")], False),
    ("max w_prob (log axis)", [("weight/prob_max", "max w_prob")], True),
    ("Ratio π/π_old", [("ratio/min", "min"), ("ratio/max", "max")], False),
    ("Gradient norm", [("grad_norm", "grad norm")], False),
    ("Tokens / s", [("perf/tokens_per_s", "tokens/s")], False),
]
COLORS = ["#1f77b4", "#ff7f0e"]


def training_figure(rows: list[dict], max_points: int = 600) -> go.Figure:
    """2 x 4 panels of the LM run's metrics against the step; at most ``max_points`` points per trace
    (evenly strided, the newest point always kept) so a live redraw stays cheap. From 50 rows on, each raw
    trace is drawn faint under its trailing mean over ``len(rows) // 25`` points."""
    if len(rows) > max_points:
        stride = -(-len(rows) // max_points)
        rows = rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])
    steps = [r["step"] for r in rows]
    smooth = max(1, len(rows) // 25)
    titles = []
    for title, series, _ in PANELS:
        if len(series) > 1:  # name the traces in the panel title (colour-coded) instead of one crowded legend
            title += ": " + " · ".join(
                f"<span style='color:{COLORS[j]}'>{lab}</span>" for j, (_, lab) in enumerate(series)
            )
        titles.append(title)
    fig = make_subplots(rows=2, cols=4, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.16)
    for i, (_, series, log_y) in enumerate(PANELS):
        row, col = divmod(i, 4)
        for j, (key, label) in enumerate(series):
            ys = [r["metrics"].get(key) for r in rows]
            fig.add_trace(
                go.Scatter(x=steps, y=ys, name=label, mode="lines", line=dict(color=COLORS[j], width=1.8),
                           opacity=0.35 if smooth > 1 else 1.0, showlegend=False,
                           hovertemplate=f"{label}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"),
                row=row + 1, col=col + 1,
            )  # fmt: skip
            if smooth > 1:  # per-step values are noisy (64 samples a step): a trailing mean shows the trend
                fig.add_trace(
                    go.Scatter(x=steps, y=_trailing_mean(ys, smooth), name=f"{label} (mean of {smooth})",
                               mode="lines", line=dict(color=COLORS[j], width=2.4), showlegend=False,
                               hovertemplate=f"{label}, trailing mean<br>step %{{x}}: %{{y:.4g}}<extra></extra>"),
                    row=row + 1, col=col + 1,
                )  # fmt: skip
        if log_y:
            fig.update_yaxes(type="log", row=row + 1, col=col + 1)
    fig.update_xaxes(title_text="step", row=2)
    fig.update_layout(height=560, margin=dict(l=40, r=20, t=60, b=40), template="plotly_white")
    fig.update_annotations(font_size=11)
    return fig


def _trailing_mean(ys: list, window: int) -> list:
    """Mean of the last ``window`` finite values up to each point (None where there is none)."""
    out, buf = [], []
    for y in ys:
        if y is not None:
            buf = (buf + [y])[-window:]
        out.append(sum(buf) / len(buf) if buf else None)
    return out
