"""Loss aggregation modes (verl's names), each a choice separate from the scheme.

Every mode is a weighted sum ``sum(loss * weights)`` with weights built from the mask, so a mean never
overflows through an intermediate sum.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from dgpo.checks import require

_AGGREGATIONS: dict[str, Callable[[Tensor], Tensor]] = {}


def _register(name: str):
    def deco(fn):
        _AGGREGATIONS[name] = fn
        return fn

    return deco


@_register("token-mean")
def _token_mean(mask: Tensor) -> Tensor:
    """Every unmasked token counts once: ``sum(l * m) / sum(m)`` (DAPO, verl's default)."""
    return mask / mask.sum()


@_register("seq-mean-token-mean")
def _seq_mean_token_mean(mask: Tensor) -> Tensor:
    """Mean over sequences (with at least one token) of each sequence's token mean (GRPO paper)."""
    per_seq = mask.sum(-1, keepdim=True)
    has_tokens = (per_seq > 0).to(mask.dtype)
    return mask / per_seq.clamp(min=1) * has_tokens / has_tokens.sum()


@_register("seq-mean-token-sum")
def _seq_mean_token_sum(mask: Tensor) -> Tensor:
    """Mean over sequences of each sequence's token sum."""
    has_tokens = (mask.sum(-1, keepdim=True) > 0).to(mask.dtype)
    return mask * has_tokens / has_tokens.sum()


@_register("seq-mean-token-sum-norm")
def _seq_mean_token_sum_norm(mask: Tensor) -> Tensor:
    """Token sum over the batch divided by a constant, sequences x max length (Dr. GRPO, arXiv:2503.20783)."""
    return mask / (mask.shape[0] * mask.shape[-1])


def available_aggregations() -> list[str]:
    """Names accepted by ``aggregate``."""
    return list(_AGGREGATIONS)


def aggregation_weights(mask: Tensor, agg: str = "token-mean") -> Tensor:
    """Per-token weights of mode ``agg``: the aggregated loss is ``(loss * weights).sum()``.

    Args:
      mask: ``(B, T)`` 0/1 or bool (any shape for ``token-mean``).
      agg: one of ``available_aggregations()``.
    """
    require(agg in _AGGREGATIONS, f"unknown aggregation {agg!r}; valid: {', '.join(_AGGREGATIONS)}")
    mask = mask.to(torch.get_default_dtype() if not mask.is_floating_point() else mask.dtype)
    require(bool(mask.sum() > 0), "mask selects no token (empty mask); nothing to aggregate")
    if agg != "token-mean":
        require(mask.dim() == 2, f"aggregation {agg!r} needs a (sequences, tokens) mask, got shape {tuple(mask.shape)}")
    return _AGGREGATIONS[agg](mask)


def aggregate(loss: Tensor, mask: Tensor, agg: str = "token-mean") -> Tensor:
    """Aggregate a per-token loss ``(B, T)`` to a scalar with mode ``agg``."""
    return (loss * aggregation_weights(mask, agg).to(loss.dtype)).sum()
