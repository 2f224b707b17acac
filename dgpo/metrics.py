"""Metrics from the same tensors as the loss, named as in docs/metrics.md. All return tensors (no host sync).

KL estimators follow Schulman, "Approximating KL divergence" (2020): for ``KL(p || q)`` on samples ``x ~ p``
with ``rho = q(x) / p(x)``: ``k1 = -log rho``, ``k2 = (log rho)^2 / 2``, ``k3 = (rho - 1) - log rho``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dgpo.scheme import LOG_RATIO_CLAMP, Scheme, regions


def entropy_from_logits(logits: Tensor) -> Tensor:
    """Entropy ``-sum_v p_v log p_v`` in nats of the categorical over the last dim; ``(..., V) -> (...)``."""
    logits = logits.float() if logits.dtype not in (torch.float32, torch.float64) else logits
    log_p = F.log_softmax(logits, dim=-1)
    return -(log_p.exp() * log_p).sum(-1)


def kl_estimate(log_p: Tensor, log_q: Tensor, kind: str = "k3") -> Tensor:
    """Per-sample estimate of ``KL(p || q)`` from samples of ``p``: ``kind`` is ``k1``, ``k2`` or ``k3``."""
    log_rho = (log_q - log_p).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    if kind == "k1":
        return -log_rho
    if kind == "k2":
        return 0.5 * log_rho.square()
    if kind == "k3":
        return torch.expm1(log_rho) - log_rho
    raise ValueError(f"unknown KL estimator {kind!r}; valid: k1, k2, k3")


def masked_mean(x: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of ``x`` over the entries where ``mask`` is true (all entries when ``mask`` is None)."""
    if mask is None:
        return x.mean()
    m = mask.to(x.dtype)
    return (x * (m / m.sum())).sum()


def _masked_extreme(x: Tensor, mask: Tensor | None, largest: bool) -> Tensor:
    if mask is None:
        return x.max() if largest else x.min()
    fill = float("-inf") if largest else float("inf")
    filled = torch.where(mask, x, torch.full_like(x, fill))
    return filled.max() if largest else filled.min()


def policy_metrics(
    scheme: Scheme, log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor, mask: Tensor | None = None
) -> dict[str, Tensor]:
    """Clip, ratio, weight and old-vs-new KL statistics over the tokens that ``mask`` keeps.

    Keys: ``clip/low_frac``, ``clip/high_frac``, ``clip/region_frac``, ``ratio/{min,mean,max}``,
    ``weight/log_mean``, ``weight/log_max``, ``weight/prob_max``, ``kl/old_new_k1``, ``kl/old_new_k3``.
    ``weight/prob_max`` is ``exp(max(log w_log - log pi))`` with the exp in float64, so it does not overflow.
    """
    with torch.no_grad():
        dtype = torch.promote_types(log_prob.dtype, torch.float32)
        x = log_prob.detach().to(dtype)
        old = old_log_prob.detach().to(dtype)
        adv = torch.broadcast_to(advantages.detach().to(dtype), x.shape)
        if mask is not None:
            mask = mask.bool()
            x, old, adv = (torch.where(mask, t, torch.zeros_like(t)) for t in (x, old, adv))
        log_ratio = (x - old).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
        ratio = torch.exp(log_ratio)
        low, high = regions(scheme, log_ratio, adv)
        log_w = scheme.log_weight(log_ratio, adv)
        w = torch.exp(log_w)
        low_frac = masked_mean(low.to(dtype), mask)
        high_frac = masked_mean(high.to(dtype), mask)
        out = {
            "clip/low_frac": low_frac,
            "clip/high_frac": high_frac,
            "clip/region_frac": low_frac + high_frac,
            "ratio/min": _masked_extreme(ratio, mask, largest=False),
            "ratio/mean": masked_mean(ratio, mask),
            "ratio/max": _masked_extreme(ratio, mask, largest=True),
            "weight/log_mean": masked_mean(w, mask),
            "weight/log_max": _masked_extreme(w, mask, largest=True),
            "weight/prob_max": torch.exp(_masked_extreme(log_w - x, mask, largest=True).double()),
            "kl/old_new_k1": masked_mean(kl_estimate(old, x, "k1"), mask),
            "kl/old_new_k3": masked_mean(kl_estimate(old, x, "k3"), mask),
        }
    return out
