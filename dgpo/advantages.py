"""Group-relative advantage estimators over a ``(groups, group_size)`` reward tensor.

A group is the G completions of one prompt. Zero-variance groups (all rewards equal) get exactly zero
advantages, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from dgpo.checks import require

_ESTIMATORS: dict[str, Callable[..., Tensor]] = {}


def _register(name: str):
    def deco(fn):
        _ESTIMATORS[name] = fn
        return fn

    return deco


@_register("grpo")
def _grpo(rewards: Tensor, eps: float) -> Tensor:
    """GRPO z-score: ``(R - mean) / (std + eps)`` with the unbiased group std (arXiv:2402.03300)."""
    centred = rewards - rewards.mean(-1, keepdim=True)
    return centred / (rewards.std(-1, keepdim=True) + eps)


@_register("drgrpo")
def _drgrpo(rewards: Tensor, eps: float) -> Tensor:
    """Dr. GRPO: mean-centred, no std division (arXiv:2503.20783)."""
    return rewards - rewards.mean(-1, keepdim=True)


@_register("rloo")
def _rloo(rewards: Tensor, eps: float) -> Tensor:
    """RLOO: ``R_i - mean_{j != i} R_j = G / (G - 1) (R_i - mean)`` (arXiv:2402.14740)."""
    g = rewards.shape[-1]
    return (rewards - rewards.mean(-1, keepdim=True)) * (g / (g - 1))


def available_estimators() -> list[str]:
    """Names accepted by ``group_advantages``."""
    return list(_ESTIMATORS)


def group_advantages(rewards: Tensor, *, estimator: str = "grpo", eps: float = 1e-6) -> Tensor:
    """Advantages of each completion relative to its group.

    Args:
      rewards: ``(groups, G)`` rewards, G >= 2 completions per prompt (any leading batch dims).
      estimator: ``grpo`` (z-score), ``drgrpo`` (mean-centred) or ``rloo`` (leave-one-out).
      eps: added to the std of ``grpo``.

    Returns:
      ``(groups, G)`` advantages; exactly 0 in groups whose rewards are all equal.
    """
    require(estimator in _ESTIMATORS, f"unknown estimator {estimator!r}; valid: {', '.join(_ESTIMATORS)}")
    require(isinstance(rewards, Tensor) and rewards.is_floating_point(), "rewards must be a floating-point tensor")
    require(
        rewards.dim() >= 2 and rewards.shape[-1] >= 2,
        f"rewards must have shape (groups, G) with G >= 2, got {tuple(rewards.shape)}",
    )
    require(bool(torch.isfinite(rewards).all()), "rewards hold NaN or inf")
    adv = _ESTIMATORS[estimator](rewards, eps)
    constant = (rewards == rewards[..., :1]).all(-1, keepdim=True)
    return torch.where(constant, torch.zeros_like(adv), adv)
