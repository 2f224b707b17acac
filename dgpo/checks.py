"""Input validation shared by the core: every message names the problem and the fix."""

from __future__ import annotations

import math

import torch
from torch import Tensor

# bf16 log-softmax can round a log-prob of ~0 to a small positive number.
LOG_PROB_TOLERANCE = 1e-3


def require(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition`` holds."""
    if not condition:
        raise ValueError(message)


def check_number(name: str, value, *, low=None, high=None, low_open=False, high_open=False, allow_none=False):
    """Check a scalar hyper-parameter: a real, finite number inside ``[low, high]`` (ends optionally open)."""
    if value is None:
        require(allow_none, f"{name} must be a number, got None")
        return
    require(
        isinstance(value, (int, float)) and not isinstance(value, bool),
        f"{name} must be a number, got {type(value).__name__} {value!r}",
    )
    require(math.isfinite(value), f"{name} must be finite, got {value}")
    lo_ok = low is None or (value > low if low_open else value >= low)
    hi_ok = high is None or (value < high if high_open else value <= high)
    if not (lo_ok and hi_ok):
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "inf)" if high is None else f"{high}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {value}")


def _mask_bool(mask: Tensor | None, shape: torch.Size) -> Tensor | None:
    if mask is None:
        return None
    require(isinstance(mask, Tensor), f"mask must be a tensor, got {type(mask).__name__}")
    require(
        mask.shape == shape,
        f"mask has shape {tuple(mask.shape)} but log_prob has shape {tuple(shape)}; pass a mask of the same shape",
    )
    if mask.dtype != torch.bool:
        require(bool(((mask == 0) | (mask == 1)).all()), "mask must hold only 0 and 1 (or be a bool tensor)")
        mask = mask != 0
    return mask


def check_token_inputs(
    log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor, mask: Tensor | None
) -> Tensor | None:
    """Validate the per-token inputs of a policy loss and return the mask as a bool tensor (or None).

    Shapes: ``log_prob`` and ``old_log_prob`` equal; ``advantages`` broadcastable to them (e.g. ``(B, 1)`` for
    per-sequence advantages of ``(B, T)`` tokens); ``mask`` equal. Values: finite, log-probs <= 0. Entries that
    the mask drops (padding) are not inspected.
    """
    for name, t in (("log_prob", log_prob), ("old_log_prob", old_log_prob), ("advantages", advantages)):
        require(isinstance(t, Tensor), f"{name} must be a torch.Tensor, got {type(t).__name__}")
        require(t.is_floating_point(), f"{name} must be a floating-point tensor, got {t.dtype}")
    shape = log_prob.shape
    require(
        old_log_prob.shape == shape,
        f"old_log_prob has shape {tuple(old_log_prob.shape)} but log_prob has shape {tuple(shape)}; "
        "they must match token for token",
    )
    try:
        ok = torch.broadcast_shapes(advantages.shape, shape) == shape
    except RuntimeError:
        ok = False
    require(
        ok,
        f"advantages of shape {tuple(advantages.shape)} do not broadcast to log_prob's shape {tuple(shape)}; "
        "pass one advantage per token, or per sequence as advantages[:, None]",
    )
    m = _mask_bool(mask, shape)
    for name, t in (("log_prob", log_prob), ("old_log_prob", old_log_prob)):
        t = t.detach()
        bad = ~torch.isfinite(t) | (t > LOG_PROB_TOLERANCE)  # one pass; the reason is found only on failure
        if m is not None:
            bad &= m
        if bool(bad.any()):
            kept = t[bad]
            if not bool(torch.isfinite(kept).all()):
                raise ValueError(f"{name} holds NaN or inf on unmasked tokens; fix the model output or mask them out")
            raise ValueError(
                f"{name} holds values above 0 (max {float(kept.max()):.4g}): these are not log-probabilities; "
                "pass log_softmax outputs, not logits or probabilities"
            )
    adv = advantages.detach()
    if m is not None and adv.shape == shape:
        adv = torch.where(m, adv, torch.zeros_like(adv))
    require(bool(torch.isfinite(adv).all()), "advantages hold NaN or inf; check the rewards and their std")
    return m
