"""TRL plug-in: any DGPO Lab scheme as the policy loss of TRL's ``GRPOTrainer`` (written against trl==1.16.0).

    from dgpo.integrations.trl import DGPOConfig, DGPOTrainer
    args = DGPOConfig(output_dir="out", clip_scheme="dgpo", n=1, m=2, epsilon=0.2, num_iterations=2)
    DGPOTrainer(model="Qwen/Qwen2.5-0.5B-Instruct", reward_funcs=my_reward, args=args, train_dataset=ds).train()

TRL has no loss registry, so, like TRL's own experimental GMPO trainer, ``DGPOTrainer`` overrides
``GRPOTrainer._compute_loss``. It keeps TRL's log-probs, masks (completion, tool, high-entropy, off-policy),
vLLM importance-sampling correction, k3 KL-to-reference term (``beta``), static entropy bonus, MoE aux loss and
``loss_type`` normaliser (grpo, bnpo, dr_grpo, dapo); only the per-token policy loss comes from the core,
``scheme.token_loss(log_prob, old_log_prob, A, mask)``. TRL's ``epsilon`` / ``epsilon_high`` are the scheme's
``eps_low`` / ``eps_high``; the other hyper-parameters keep their core names (``n``, ``m``, ``dual_clip``, ...).

Remember that clipping only acts off-policy: with ``num_iterations=1`` and ``steps_per_generation <=
gradient_accumulation_steps`` TRL uses ``old = logp.detach()``, so ``r = 1`` and every scheme is plain GRPO.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from trl import GRPOConfig, GRPOTrainer
from trl.trainer.utils import nanmax, nanmin

import dgpo
from dgpo.checks import require

# Core hyper-parameters other than eps_low/eps_high, settable on DGPOConfig under the same names.
SCHEME_FIELDS = (
    "n",
    "m",
    "dual_clip",
    "beta1",
    "beta2",
    "c_pos",
    "c_neg",
    "tau_pos",
    "tau_neg",
    "drift_coef",
    "drift_cap",
)
# TRL loss types that only choose the normaliser; the others are whole losses of their own.
NORMALISERS = ("grpo", "bnpo", "dr_grpo", "dapo")


def _hp(text: str):
    return field(default=None, metadata={"help": f"{text} None = the scheme's default."})


@dataclass
class DGPOConfig(GRPOConfig):
    """``GRPOConfig`` plus the clipping scheme. ``epsilon``/``epsilon_high`` feed ``eps_low``/``eps_high``."""

    clip_scheme: str = field(default="dgpo", metadata={"help": "Clipping scheme, any of dgpo.available_schemes()."})
    """Name of the core scheme that computes the per-token policy loss (``dgpo.available_schemes()``)."""
    n: float | None = _hp("dgpo: left decay exponent, w_prob ∝ pi^n below 1-epsilon (official dgpo_n).")
    """DGPO left decay exponent (official ``dgpo_n``; paper: 1, or 2 for ~1.5B models)."""
    m: float | None = _hp("dgpo: right decay root, w_prob ∝ pi^(-1/m) above 1+epsilon_high (official dgpo_m).")
    """DGPO right decay root (official ``dgpo_m``; paper: 2)."""
    dual_clip: float | None = _hp("ppo/gppo: dual-clip constant c > 1 for negative advantages.")
    """Dual-clip constant of ppo/gppo (None = off)."""
    beta1: float | None = _hp("gppo: scale of the left-boundary gradient (CE-GPPO).")
    """CE-GPPO scale of the LN gradient weight."""
    beta2: float | None = _hp("gppo: scale of the right-boundary gradient (CE-GPPO).")
    """CE-GPPO scale of the HP gradient weight."""
    c_pos: float | None = _hp("aspo: cap on the flipped weight 1/r of positive tokens.")
    """ASPO cap on ``1/r`` for positive tokens."""
    c_neg: float | None = _hp("aspo: soft dual clip of negative tokens.")
    """ASPO soft dual clip of negative tokens."""
    tau_pos: float | None = _hp("sapo: gate temperature for positive advantages.")
    """SAPO gate temperature, ``A > 0``."""
    tau_neg: float | None = _hp("sapo: gate temperature for negative advantages.")
    """SAPO gate temperature, ``A < 0``."""
    drift_coef: float | None = _hp("cpgd: weight of the policy-drift KL(pi_old || pi) term.")
    """CPGD policy-drift weight."""
    drift_cap: float | None = _hp("cpgd: cap on r - 1 in the drift gradient.")
    """CPGD cap on ``r - 1`` in the drift gradient."""

    def __post_init__(self):
        super().__post_init__()
        require(
            self.loss_type in NORMALISERS,
            f"loss_type={self.loss_type!r} is TRL's own {self.loss_type} loss, which DGPOTrainer replaces; set "
            f"loss_type to one of {', '.join(NORMALISERS)} (it then only picks the normaliser) and choose the loss "
            "with clip_scheme (e.g. clip_scheme='cispo' or 'sapo')",
        )
        require(
            self.importance_sampling_level == "token",
            "importance_sampling_level='sequence' (GSPO) is not a core scheme; DGPOTrainer computes token-level "
            "ratios only: use importance_sampling_level='token' or TRL's GRPOTrainer",
        )
        require(
            self.delta is None,
            f"delta={self.delta} (TRL's two-sided clip) is not applied by DGPOTrainer; unset it and use "
            "dual_clip with clip_scheme='ppo' or 'gppo' for the same effect",
        )
        require(
            not self.use_adaptive_entropy,
            "use_adaptive_entropy=True is not supported by DGPOTrainer; use a static entropy_coef instead",
        )
        require(
            not (self.use_liger_kernel and hasattr(GRPOTrainer, "compute_liger_loss")),
            "use_liger_kernel=True makes this TRL version compute the loss in Liger's fused kernel, bypassing "
            "the clipping scheme; set use_liger_kernel=False",
        )
        self.make_scheme()  # fail at configuration time, not after the model has loaded

    def scheme_hparams(self) -> dict[str, float]:
        """Keyword hyper-parameters for ``dgpo.make(clip_scheme, ...)``: eps from TRL's, the rest as set here."""
        try:
            valid = dgpo.hyperparameters(self.clip_scheme)
        except ValueError as e:
            raise ValueError(f"clip_scheme: {e}") from None
        hp: dict[str, float] = {}
        if "eps_low" in valid:
            hp["eps_low"] = self.epsilon
        if "eps_high" in valid:
            hp["eps_high"] = self.epsilon if self.epsilon_high is None else self.epsilon_high
        for name in SCHEME_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            require(
                name in valid,
                f"{name}={value} is not a hyper-parameter of clip_scheme={self.clip_scheme!r} "
                f"(it has: {', '.join(valid) or 'none'}); unset {name} or choose a scheme that has it",
            )
            hp[name] = value
        return hp

    def make_scheme(self) -> dgpo.Scheme:
        """The validated core scheme; ``ValueError`` naming the bad setting otherwise."""
        try:
            return dgpo.make(self.clip_scheme, **self.scheme_hparams())
        except ValueError as e:
            msg = str(e)
            raise ValueError(
                msg if msg.startswith("clip_scheme") else f"clip_scheme={self.clip_scheme!r}: {msg}"
            ) from None


class DGPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose per-token policy loss is ``args.make_scheme().token_loss`` (see the module docstring).

    Logs TRL's metric names (``clip_ratio/low_mean``, ``clip_ratio/high_mean``, ``clip_ratio/region_mean``,
    ``clip_ratio/low_min``, ``clip_ratio/high_max``, ``entropy``, ``kl``) with the scheme's own boundaries, plus
    the core's (``clip/*``, ``ratio/*``, ``weight/*``, ``kl/old_new_*``, ``loss/policy``; docs/metrics.md).
    """

    _tag_names = ["trl", "dgpo-lab"]

    def __init__(self, model, reward_funcs, args: DGPOConfig | None = None, **kwargs):
        require(
            isinstance(args, DGPOConfig),
            f"DGPOTrainer needs args=DGPOConfig(...), got {type(args).__name__}; "
            "DGPOConfig takes every GRPOConfig option plus clip_scheme",
        )
        self.scheme = args.make_scheme()
        super().__init__(model, reward_funcs, args=args, **kwargs)

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        extra = {k: inputs.get(k) for k in _FORWARD_KEYS}
        per_token_logps, entropies, aux_loss = self._get_per_token_logps_and_entropies(
            model,
            input_ids,
            attention_mask,
            completion_ids.size(1),
            compute_entropy=True,
            compute_aux_loss=self.aux_loss_enabled,
            **extra,
        )
        advantages = inputs["advantages"]
        if advantages.dim() == 1:
            advantages = advantages.unsqueeze(1)
        # On-policy (num_iterations=1, aligned steps) TRL skips the old pass: r = 1 exactly, as in TRL.
        old_per_token_logps = inputs.get("old_per_token_logps")
        old_per_token_logps = per_token_logps.detach() if old_per_token_logps is None else old_per_token_logps

        # The one line that differs from TRL: the scheme's per-token loss (zero on masked tokens).
        per_token_loss = self.scheme.token_loss(per_token_logps, old_per_token_logps, advantages, mask)

        # TRL's masks and corrections, in TRL's order.
        if self.off_policy_mask_threshold is not None:
            per_token_loss = per_token_loss * self.get_off_policy_mask(
                advantages=advantages,
                per_token_logps=per_token_logps,
                sampling_per_token_logps=inputs.get("sampling_per_token_logps", old_per_token_logps),
                mask=mask,
                off_policy_threshold=self.off_policy_mask_threshold,
            )
        entropy_mask = None
        if self.top_entropy_quantile < 1.0:
            entropy_mask = self.get_high_entropy_mask(entropies, mask, 1 - self.top_entropy_quantile)
            per_token_loss = per_token_loss * entropy_mask
        if self.use_vllm and self.vllm_importance_sampling_correction:
            per_token_loss = per_token_loss * inputs["importance_sampling_ratio"]
        if self.beta != 0.0:  # k3 estimate of KL(pi || pi_ref), as TRL
            ref = inputs["ref_per_token_logps"]
            per_token_kl = torch.exp(ref - per_token_logps) - (ref - per_token_logps) - 1
            if self.args.use_bias_correction_kl:
                per_token_kl = per_token_kl * torch.exp(per_token_logps - old_per_token_logps)
            per_token_loss = per_token_loss + self.beta * per_token_kl

        mode = "train" if self.model.training else "eval"
        loss, policy_loss = self._normalise(per_token_loss, mask, inputs, mode)
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        if self.entropy_coef != 0.0:  # TRL's static entropy bonus: mean entropy of the tokens the loss acts on
            bonus_mask = mask if entropy_mask is None else mask * entropy_mask
            mean_entropy = (entropies * bonus_mask).sum() / bonus_mask.sum().clamp(min=1.0)
            loss = loss - self.entropy_coef * mean_entropy / accumulation
            self._metrics[mode]["policy_loss"].append(self.accelerator.gather(policy_loss).nanmean().item())
        if self.aux_loss_enabled:
            loss = loss + self.router_aux_loss_coef * aux_loss / accumulation
            self._metrics[mode]["aux_loss"].append(self.accelerator.gather_for_metrics(aux_loss).mean().item())

        self._log_scheme_metrics(mode, per_token_logps, old_per_token_logps, advantages, mask, entropies)
        self._metrics[mode]["loss/policy"].append(self.accelerator.gather(policy_loss).nanmean().item())
        if self.beta != 0.0:
            self._metrics[mode]["kl"].append(self._global_mean(per_token_kl, mask))
        return loss

    def _normalise(self, per_token_loss, mask, inputs, mode):
        """TRL's ``loss_type`` normalisers; returns (loss to backprop, policy loss to log)."""
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        summed = (per_token_loss * mask).sum()
        if self.loss_type == "grpo":  # mean over sequences of each sequence's token mean
            loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
        elif self.loss_type == "bnpo":  # token mean of this micro-batch
            loss = summed / mask.sum().clamp(min=1.0)
        elif self.loss_type == "dr_grpo":  # constant normaliser: sequences x max completion length
            loss = summed / (per_token_loss.size(0) * self.max_completion_length)
        else:  # dapo: token mean over the whole generation batch (num_items_in_batch), TRL's default
            normaliser = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            if mode == "train":
                normaliser = normaliser * self.current_gradient_accumulation_steps / self.args.steps_per_generation
            loss = summed / normaliser
            return loss, loss.detach()
        return loss / accumulation, loss.detach()

    def _global_mean(self, x, mask):
        totals = self.accelerator.reduce(torch.stack([(x * mask).sum(), mask.sum().float()]), reduction="sum")
        return (totals[0] / totals[1].clamp(min=1.0)).item()

    def _log_scheme_metrics(self, mode, logps, old_logps, advantages, mask, entropies):
        metrics = self._metrics[mode]
        metrics["entropy"].append(self._global_mean(entropies, mask))
        with torch.no_grad():
            log_ratio = (logps.detach() - old_logps).clamp(-dgpo.LOG_RATIO_CLAMP, dgpo.LOG_RATIO_CLAMP)
            low, high = dgpo.regions(self.scheme, log_ratio, torch.broadcast_to(advantages, log_ratio.shape))
            low, high = low.float(), high.float()
            m = mask.float()
            metrics["clip_ratio/low_mean"].append(self._global_mean(low, m))
            metrics["clip_ratio/high_mean"].append(self._global_mean(high, m))
            metrics["clip_ratio/region_mean"].append(self._global_mean(low + high, m))
            per_seq = m.sum(-1).clamp(min=1.0)
            metrics["clip_ratio/low_min"].append(nanmin(self.accelerator.gather((low * m).sum(-1) / per_seq)).item())
            metrics["clip_ratio/high_max"].append(nanmax(self.accelerator.gather((high * m).sum(-1) / per_seq)).item())
            for key, value in dgpo.policy_metrics(self.scheme, logps, old_logps, advantages, mask).items():
                gathered = self.accelerator.gather(value.float().reshape(1))
                if key.endswith("/min"):
                    metrics[key].append(gathered.min().item())
                elif key.endswith("max"):
                    metrics[key].append(gathered.max().item())
                else:
                    metrics[key].append(gathered.mean().item())


# Multimodal and token-type inputs that GRPOTrainer forwards to the model when present.
_FORWARD_KEYS = (
    "pixel_values",
    "image_grid_thw",
    "num_images",
    "pixel_attention_mask",
    "spatial_shapes",
    "num_tiles",
    "image_sizes",
    "token_type_ids",
    "mm_token_type_ids",
    "image_position_ids",
)
