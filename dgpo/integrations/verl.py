"""verl plug-in: the core schemes verl lacks, registered with ``register_policy_loss`` (written against verl==0.9.1).

Importing this module registers the losses below. ``pip install dgpo-lab`` advertises it through the
``verl.plugins`` entry point, which ``import verl`` loads (verl >= 0.9); on older verl set
``VERL_USE_EXTERNAL_MODULES=dgpo.integrations.verl``. Select a loss with
``actor_rollout_ref.actor.policy_loss.loss_mode=<name>``:

===================  ==========================================================================================
``dgpo``             DGPO (arXiv:2603.14389); needs ``policy_loss.dgpo_n`` and ``dgpo_m`` (paper: 1 and 2)
``cpgd``             CPGD with policy drift (arXiv:2505.12504); optional ``cpgd_drift_coef``, ``cpgd_drift_cap``
``gppo``             GPPO / CE-GPPO (arXiv:2508.07629); optional ``gppo_beta1``, ``gppo_beta2``; dual clip at
                     ``clip_ratio_c`` as in verl's vanilla loss
``aspo``             ASPO (arXiv:2510.06062); optional ``aspo_c_pos``, ``aspo_c_neg``
``cispo_bounded``    CISPO with the finite lower IS bound ``1 - clip_ratio_low`` (same maths as verl's ``cispo``)
``cispo_one_sided``  CISPO without a lower bound (the MiniMax-M1 recipe): ``w = min(r, 1 + clip_ratio_high)``
``pg``               unclipped importance-sampled policy gradient (the reference)
===================  ==========================================================================================

``eps_low`` / ``eps_high`` come from verl's ``clip_ratio_low`` / ``clip_ratio_high`` (``clip_ratio`` when unset).
verl builds ``policy_loss`` as its ``PolicyLossConfig`` dataclass, which rejects unknown keys, so extra keys need
``policy_loss._target_=dgpo.integrations.verl.DGPOPolicyLossConfig`` plus ``+policy_loss.dgpo_n=1`` (docs/scale.md).
Each loss returns verl's metric names (``actor/pg_clipfrac`` = LN or HP tokens, as the official DGPO code,
``actor/ppo_kl``, ``actor/pg_clipfrac_lower`` = dual-clip tokens) plus the core's under ``actor/`` (docs/metrics.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from verl.trainer.ppo.core_algos import agg_loss, register_policy_loss
from verl.workers.config import PolicyLossConfig

import dgpo

# verl loss name -> (core scheme, {policy_loss key: core hyper-parameter}); "dgpo" keys are required.
LOSSES: dict[str, tuple[str, dict[str, str]]] = {
    "dgpo": ("dgpo", {"dgpo_n": "n", "dgpo_m": "m"}),
    "cpgd": ("cpgd", {"cpgd_drift_coef": "drift_coef", "cpgd_drift_cap": "drift_cap"}),
    "gppo": ("gppo", {"gppo_beta1": "beta1", "gppo_beta2": "beta2"}),
    "aspo": ("aspo", {"aspo_c_pos": "c_pos", "aspo_c_neg": "c_neg"}),
    "cispo_bounded": ("cispo", {}),
    "cispo_one_sided": ("cispo", {}),
    "pg": ("pg", {}),
}
REQUIRED = {"dgpo": ("dgpo_n", "dgpo_m")}
_TARGET = "actor_rollout_ref.actor.policy_loss._target_=dgpo.integrations.verl.DGPOPolicyLossConfig"


@dataclass
class DGPOPolicyLossConfig(PolicyLossConfig):
    """verl's ``PolicyLossConfig`` plus the keys of the losses above (None = the core default; dgpo needs n, m)."""

    dgpo_n: float | None = None
    """DGPO left decay exponent n (official name; paper: 1, or 2 for ~1.5B models)."""
    dgpo_m: float | None = None
    """DGPO right decay root m (official name; paper: 2)."""
    cpgd_drift_coef: float | None = None
    """CPGD policy-drift weight (core default 0.01)."""
    cpgd_drift_cap: float | None = None
    """CPGD cap on r - 1 in the drift gradient (core default 2)."""
    gppo_beta1: float | None = None
    """CE-GPPO scale of the left-boundary gradient (1 = GPPO)."""
    gppo_beta2: float | None = None
    """CE-GPPO scale of the right-boundary gradient (1 = GPPO)."""
    aspo_c_pos: float | None = None
    """ASPO cap on the flipped weight 1/r of positive tokens (core default 3)."""
    aspo_c_neg: float | None = None
    """ASPO soft dual clip of negative tokens (core default 3)."""


def _get(cfg: Any, key: str, default: Any = None) -> Any:
    """``cfg.key`` for verl's dataclass configs, OmegaConf nodes and plain dicts alike."""
    if cfg is None:
        return default
    if hasattr(cfg, "get"):
        return cfg.get(key, default)
    return getattr(cfg, key, default)


def scheme_from_config(loss_mode: str, config: Any) -> dgpo.Scheme:
    """The core scheme that ``loss_mode`` runs under verl's actor ``config``; ``ValueError`` naming the fix."""
    if loss_mode not in LOSSES:
        raise ValueError(f"unknown dgpo-lab loss {loss_mode!r}; registered: {', '.join(LOSSES)}")
    if config is None:
        raise ValueError(f"loss_mode={loss_mode}: verl passed no actor config; call it as verl's ppo_loss does")
    name, keys = LOSSES[loss_mode]
    policy_loss = _get(config, "policy_loss")
    hp: dict[str, Any] = {}
    valid = dgpo.hyperparameters(name)
    clip = _get(config, "clip_ratio", 0.2)
    low, high = _get(config, "clip_ratio_low"), _get(config, "clip_ratio_high")
    if "eps_low" in valid:
        hp["eps_low"] = None if loss_mode == "cispo_one_sided" else float(clip if low is None else low)
    if "eps_high" in valid:
        hp["eps_high"] = float(clip if high is None else high)
    if loss_mode == "gppo":  # verl's vanilla loss always applies the dual clip; GPPO's recipes keep it
        hp["dual_clip"] = float(_get(config, "clip_ratio_c", 3.0))
    for key, field_name in keys.items():
        value = _get(policy_loss, key)
        if value is None:
            if key in REQUIRED.get(loss_mode, ()):
                raise ValueError(
                    f"loss_mode={loss_mode} needs actor_rollout_ref.actor.policy_loss.{key} (paper: dgpo_n=1, "
                    f"dgpo_m=2; dgpo_n=2 for ~1.5B models); verl's PolicyLossConfig has no such key, so add "
                    f"{_TARGET} +actor_rollout_ref.actor.policy_loss.{key}=<value>"
                )
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"actor_rollout_ref.actor.policy_loss.{key} must be a number, got {value!r}")
        hp[field_name] = float(value)
    try:
        return dgpo.make(name, **hp)
    except ValueError as e:
        setting = ", ".join(f"{k}={v}" for k, v in hp.items())
        raise ValueError(
            f"loss_mode={loss_mode}: {e} (from clip_ratio_low/high and policy_loss.* keys: {setting})"
        ) from None


def _dual_clip_frac(scheme: dgpo.Scheme, log_prob, old_log_prob, advantages, mask) -> torch.Tensor:
    c = getattr(scheme, "dual_clip", None)
    if c is None:
        return torch.zeros(())
    with torch.no_grad():
        hit = ((log_prob.detach() - old_log_prob) > math.log(c)) & (torch.broadcast_to(advantages, log_prob.shape) < 0)
        return dgpo.masked_mean(hit.double(), mask.bool())


def _make_loss_fn(loss_mode: str):
    def loss_fn(
        old_log_prob: torch.Tensor,
        log_prob: torch.Tensor,
        advantages: torch.Tensor,
        response_mask: torch.Tensor,
        loss_agg_mode: str = "token-mean",
        config: Any = None,
        rollout_is_weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        scheme = scheme_from_config(loss_mode, config)
        per_token = scheme.token_loss(log_prob, old_log_prob, advantages, response_mask)
        if rollout_is_weights is not None:  # rollout correction, as verl's own losses
            per_token = per_token * rollout_is_weights
        # verl's aggregation, so the loss stays invariant to data-parallel size and micro-batching.
        loss = agg_loss(
            loss_mat=per_token,
            loss_mask=response_mask,
            loss_agg_mode=loss_agg_mode,
            **(_get(config, "global_batch_info") or {}),
        )
        core = dgpo.policy_metrics(scheme, log_prob, old_log_prob, advantages, response_mask)
        metrics = {
            "actor/pg_clipfrac": core["clip/region_frac"].item(),
            "actor/ppo_kl": core["kl/old_new_k1"].item(),
            "actor/pg_clipfrac_lower": _dual_clip_frac(scheme, log_prob, old_log_prob, advantages, response_mask)
            .float()
            .item(),
        }
        metrics.update({f"actor/{key}": value.item() for key, value in core.items()})
        return loss, metrics

    loss_fn.__name__ = f"compute_policy_loss_{loss_mode}"
    loss_fn.__doc__ = f"verl policy loss {loss_mode!r}: the core scheme {LOSSES[loss_mode][0]!r} (dgpo-lab)."
    return loss_fn


for _mode in LOSSES:
    register_policy_loss(_mode)(_make_loss_fn(_mode))
