"""``policy_loss``: one call from per-token tensors to the aggregated loss and its metrics."""

from __future__ import annotations

from torch import Tensor

from dgpo.aggregate import aggregate
from dgpo.metrics import policy_metrics
from dgpo.scheme import Scheme, make


def policy_loss(
    scheme: Scheme | str,
    log_prob: Tensor,
    old_log_prob: Tensor,
    advantages: Tensor,
    mask: Tensor | None = None,
    agg: str = "token-mean",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Aggregated policy loss of ``scheme`` and its metrics.

    Args:
      scheme: a scheme from ``dgpo.make`` (or a name, built with its defaults).
      log_prob: ``(B, T)`` log-probs of the sampled tokens under the current policy (carries the gradient).
      old_log_prob: ``(B, T)`` log-probs under the rollout policy ``pi_old``.
      advantages: ``(B, T)`` or ``(B, 1)`` advantages.
      mask: ``(B, T)`` 1 for completion tokens, 0 for padding; None = all tokens.
      agg: aggregation mode, see ``dgpo.available_aggregations()``.

    Returns:
      ``(loss, metrics)``: the scalar loss to minimise and a dict of 0-dim tensors (docs/metrics.md),
      including ``loss/policy``.
    """
    if isinstance(scheme, str):
        scheme = make(scheme)
    per_token = scheme.token_loss(log_prob, old_log_prob, advantages, mask)
    loss = aggregate(per_token, mask if mask is not None else per_token.new_ones(per_token.shape), agg)
    metrics = policy_metrics(scheme, log_prob, old_log_prob, advantages, mask)
    metrics["loss/policy"] = loss.detach()
    return loss, metrics
