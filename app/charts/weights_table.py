"""The "what happens to this token" panel and the CSV export of the gradient-weight page (pure, no ``st.``).

Every number is ``Scheme.weight`` / ``Scheme.prob_weight`` or a curve of the core; nothing is re-derived here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import dgpo
from app.charts.weights import label, to_numpy


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
        rows.append(
            {
                "scheme": label(s),
                "region": region(s, prob / old_prob, sign),
                "w_log": w_log,
                "w_prob": w_prob,
                "vs r=1": w_prob / at_one if at_one > 0 else float("nan"),
            }
        )
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
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
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
            parts.append(pd.DataFrame({"scheme": label(s), "curve": curve, "x": to_numpy(x), "weight": to_numpy(w)}))
    return pd.concat(parts, ignore_index=True).to_csv(index=False)
