"""Figure builders of the Small-LM lab page (pure Plotly, no Streamlit): the live training curves."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

# (panel title, [(metric, legend label)], log y-axis)
PANELS = [
    ("Reward", [("reward/mean", "mean reward"), ("reward/accuracy", "accuracy")], False),
    ("Entropy of π_old (nats)", [("entropy/mean", "entropy")], False),
    ("KL", [("kl/old_new_k3", "KL(π_old‖π_new) k3"), ("kl/ref_k3", "KL(π‖π_ref) k3")], False),
    ("Clip fractions", [("clip/low_frac", "low (r<1−ε, A<0)"), ("clip/high_frac", "high (r>1+ε, A>0)")], False),
    ("max w_prob (log)", [("weight/prob_max", "max w_prob")], True),
    ("Ratio r = π/π_old", [("ratio/min", "min r"), ("ratio/max", "max r")], False),
    ("Gradient norm", [("grad_norm", "grad norm")], False),
    ("Tokens / s", [("perf/tokens_per_s", "tokens/s")], False),
]
COLORS = ["#1f77b4", "#ff7f0e"]


def training_figure(rows: list[dict], max_points: int = 600) -> go.Figure:
    """2 x 4 panels of the LM run's metrics against the step; at most ``max_points`` points per trace
    (evenly strided, the newest point always kept) so a live redraw stays cheap."""
    if len(rows) > max_points:
        stride = -(-len(rows) // max_points)
        rows = rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])
    steps = [r["step"] for r in rows]
    fig = make_subplots(rows=2, cols=4, subplot_titles=[p[0] for p in PANELS], horizontal_spacing=0.06,
                        vertical_spacing=0.16)  # fmt: skip
    for i, (_, series, log_y) in enumerate(PANELS):
        row, col = divmod(i, 4)
        for j, (key, label) in enumerate(series):
            ys = [r["metrics"].get(key) for r in rows]
            fig.add_trace(
                go.Scatter(x=steps, y=ys, name=label, mode="lines", line=dict(color=COLORS[j], width=1.8),
                           hovertemplate=f"{label}<br>step %{{x}}: %{{y:.4g}}<extra></extra>", showlegend=False),
                row=row + 1, col=col + 1,
            )  # fmt: skip
        if log_y:
            fig.update_yaxes(type="log", row=row + 1, col=col + 1)
        if len(series) > 1:  # name the two traces in the panel instead of one crowded legend
            text = " · ".join(f"<span style='color:{COLORS[j]}'>{lab}</span>" for j, (_, lab) in enumerate(series))
            fig.add_annotation(text=text, xref="x domain", yref="y domain", x=0, y=1.0, showarrow=False,
                               font=dict(size=10), xanchor="left", yanchor="bottom",
                               row=row + 1, col=col + 1)  # fmt: skip
    fig.update_xaxes(title_text="step", row=2)
    fig.update_layout(height=560, margin=dict(l=40, r=20, t=60, b=40), template="plotly_white")
    fig.update_annotations(font_size=12, selector=dict(showarrow=False, xref="paper"))
    return fig
