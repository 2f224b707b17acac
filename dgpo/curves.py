"""Weight curves for charts: a scheme's ``w_log`` and ``w_prob`` evaluated on grids (float64).

These only evaluate ``Scheme.weight`` / ``Scheme.prob_weight``; no formula is re-typed here.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from dgpo.checks import require
from dgpo.scheme import Scheme


class RatioCurve(NamedTuple):
    ratio: Tensor  # (N,)
    w_log_pos: Tensor  # (N,) w_log for A > 0
    w_log_neg: Tensor  # (N,) w_log for A < 0


class ProbCurve(NamedTuple):
    prob: Tensor  # (N,)
    w_prob: Tensor  # (N,) at the given old_prob and sign of A


class ProbGrid(NamedTuple):
    old_prob: Tensor  # (M,)
    prob: Tensor  # (N,)
    w_prob: Tensor  # (M, N): row i is old_prob[i]


def ratio_grid(low: float = 0.0, high: float = 3.0, points: int = 601) -> Tensor:
    """Evenly spaced ratios in ``[low, high]`` (float64)."""
    require(0 <= low < high and points >= 2, "ratio grid needs 0 <= low < high and at least 2 points")
    return torch.linspace(low, high, points, dtype=torch.float64)


def log_grid(low: float = 1e-8, high: float = 1.0, points: int = 401) -> Tensor:
    """Log-spaced probabilities in ``[low, high]`` (float64)."""
    require(0 < low < high <= 1 and points >= 2, "probability grid needs 0 < low < high <= 1 and 2+ points")
    return torch.logspace(math.log10(low), math.log10(high), points, dtype=torch.float64)


def ratio_curve(scheme: Scheme, ratio: Tensor | None = None) -> RatioCurve:
    """``w_log`` against the ratio for both signs of the advantage."""
    ratio = ratio_grid() if ratio is None else ratio.double()
    one = torch.ones_like(ratio)
    return RatioCurve(ratio, scheme.weight(ratio, one), scheme.weight(ratio, -one))


def prob_curve(scheme: Scheme, old_prob: float, sign: int, prob: Tensor | None = None) -> ProbCurve:
    """``w_prob`` against the current probability at a fixed ``old_prob``, for ``sign(A) = sign``."""
    require(sign in (-1, 1), f"sign must be +1 or -1, got {sign}")
    prob = log_grid() if prob is None else prob.double()
    return ProbCurve(prob, scheme.prob_weight(prob, torch.full_like(prob, old_prob), torch.full_like(prob, sign)))


def prob_grid(scheme: Scheme, sign: int, old_prob: Tensor | None = None, prob: Tensor | None = None) -> ProbGrid:
    """``w_prob`` over the (old_prob, prob) plane for ``sign(A) = sign``."""
    require(sign in (-1, 1), f"sign must be +1 or -1, got {sign}")
    old_prob = log_grid(1e-6, 1.0, 121) if old_prob is None else old_prob.double()
    prob = log_grid(1e-8, 1.0, 161) if prob is None else prob.double()
    w = scheme.prob_weight(prob[None, :], old_prob[:, None], torch.full((1, 1), float(sign), dtype=torch.float64))
    return ProbGrid(old_prob, prob, w)
