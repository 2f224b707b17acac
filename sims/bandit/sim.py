"""The vectorized RLVR bandit: S seeds as one batched tensor program, every scheme through the dgpo core.

One training step (GRPO shaped, as in an LM trainer):

1. rollout: for each prompt sample G answers from the current policy pi_old (inverse CDF on counter-based
   uniforms, so each seed draws the same numbers alone or in a batch);
2. reward 1 for a correct answer (+ optional noise), group advantages with ``dgpo.group_advantages``;
3. ``passes`` passes of ``minibatches`` minibatches: loss = mean over answers of ``scheme.token_loss`` (a bandit
   answer is one token, so every aggregation mode is this mean) + ``kl_coef * k3(pi_theta, pi_ref)``.
   From the second minibatch on pi != pi_old, the ratio leaves 1 and the schemes differ.

Every parameter has a leading seed axis and the loss is the *sum* of per-seed losses, so each seed's gradient
is exactly its own; Adam and SGD are element-wise, hence per seed too. Metrics come back as ``(S,)`` tensors.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

import dgpo
from sims.bandit import rng
from sims.bandit.config import BanditConfig

# Stream ids of the counter-based RNG: one per kind of draw.
_ROLES, _EMB, _PRIOR, _SAMPLE, _NOISE, _MINIBATCH = 1, 2, 3, 4, 5, 6

# Per-pass metrics and how a step combines them over its passes (docs/metrics.md: over all update tokens).
_COMBINE = {
    "clip/low_frac": "mean",
    "clip/high_frac": "mean",
    "clip/region_frac": "mean",
    "ratio/min": "min",
    "ratio/mean": "mean",
    "ratio/max": "max",
    "weight/log_mean": "mean",
    "weight/log_max": "max",
    "weight/prob_max": "max",
    "loss/policy": "mean",
    "grad_norm": "mean",
}


def _per_seed_policy_metrics(scheme: dgpo.Scheme, log_prob: Tensor, old: Tensor, adv: Tensor) -> dict[str, Tensor]:
    """``dgpo.policy_metrics`` for each seed: vmapped over the leading seed axis."""
    return torch.func.vmap(lambda lp, o, a: dgpo.policy_metrics(scheme, lp, o, a))(log_prob, old, adv)


class BanditSim:
    """One scheme on S seeds. ``step()`` runs one training step and returns ``{metric: (S,) tensor}``."""

    def __init__(self, cfg: BanditConfig, scheme: dgpo.Scheme, seeds: Tensor | None = None):
        self.cfg, self.scheme = cfg, scheme
        self.seeds = torch.arange(cfg.seed, cfg.seed + cfg.seeds) if seeds is None else seeds.long()
        S, P, K, D = len(self.seeds), cfg.prompts, cfg.arms, cfg.dim
        self.t = 0

        # Roles -> arms: a random permutation per (seed, prompt); role j is played by arm perm[..., j].
        perm = rng.uniform(self.seeds, _ROLES, 0, (P, K)).argsort(-1)
        role_logits = torch.tensor(cfg.prior_role_logits(), dtype=torch.float64).expand(S, P, K)
        prior = torch.empty(S, P, K, dtype=torch.float64).scatter_(-1, perm, role_logits)
        prior = prior + cfg.prior_noise * rng.normal(self.seeds, _PRIOR, 0, (P, K))
        self.prior = prior - prior.logsumexp(-1, keepdim=True)  # (S, P, K) the initial "pretrained" policy
        self.correct = torch.zeros(S, P, K, dtype=torch.bool).scatter_(-1, perm[..., : cfg.n_correct], True)

        if cfg.policy == "linear":
            self.x = rng.normal(self.seeds, _EMB, 0, (P, D)) / math.sqrt(D)  # (S, P, D) fixed prompt embeddings
            self.W = torch.zeros(S, D, K, dtype=torch.float64, requires_grad=True)
            self.c = torch.zeros(S, K, dtype=torch.float64, requires_grad=True)
            self.params = [self.W, self.c]
        else:
            self.table = self.prior.clone().requires_grad_(True)
            self.params = [self.table]
        opt = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
        self.opt = opt(self.params, lr=cfg.lr)
        self.ref_log_probs = self.log_probs().detach()  # pi_ref = the initial policy

    def log_probs(self) -> Tensor:
        """``(S, P, K)`` log pi(answer | prompt)."""
        if self.cfg.policy == "linear":
            logits = self.prior + torch.einsum("spd,sdk->spk", self.x, self.W) + self.c[:, None, :]
        else:
            logits = self.table
        return F.log_softmax(logits, dim=-1)

    def step(self) -> dict[str, Tensor]:
        cfg, S, P, G = self.cfg, len(self.seeds), self.cfg.prompts, self.cfg.group
        t, self.t = self.t, self.t + 1

        # -- rollout from pi_old ---------------------------------------------------------------------------
        with torch.no_grad():
            log_pi_old = self.log_probs()  # (S, P, K)
            probs = log_pi_old.exp()
            u = rng.uniform(self.seeds, _SAMPLE, t, (P, G))
            cdf = probs.cumsum(-1)
            actions = torch.searchsorted(cdf / cdf[..., -1:], u).clamp(max=cfg.arms - 1)  # (S, P, G)
            rewards = self.correct.gather(-1, actions).double()
            if cfg.reward_noise > 0:
                rewards = rewards + cfg.reward_noise * rng.normal(self.seeds, _NOISE, t, (P, G))
            adv = dgpo.group_advantages(rewards.reshape(S * P, G), estimator=cfg.estimator).reshape(S, P, G)
            old = log_pi_old.gather(-1, actions)
            ref = self.ref_log_probs.gather(-1, actions)
            out = {
                "reward/mean": rewards.mean((1, 2)),
                "reward/std": rewards.reshape(S, -1).std(-1),
                "reward/frac_zero_std": (adv == 0).all(-1).double().mean(-1),
                "entropy/mean": dgpo.entropy_from_logits(log_pi_old).mean(-1),
                "kl/ref_k3": dgpo.kl_estimate(old, ref, "k3").mean((1, 2)),  # KL(pi_theta || pi_ref), samples of pi
                "policy/p_correct": (probs * self.correct).sum(-1).mean(-1),
            }
            answers = probs[:, 0, :].clone()  # (S, K) prompt 0, for the per-answer view

        # -- several passes of minibatch updates on this batch (where the ratio leaves 1) -------------------
        per_pass: dict[str, list[Tensor]] = {k: [] for k in _COMBINE}
        size = P // cfg.minibatches
        for epoch in range(cfg.passes):
            order = rng.uniform(self.seeds, _MINIBATCH, t * cfg.passes + epoch, (P,)).argsort(-1)  # (S, P)
            for mb in range(cfg.minibatches):
                idx = order[:, mb * size : (mb + 1) * size]  # (S, Pm) prompts of this minibatch, per seed
                a_idx = actions.gather(1, idx[..., None].expand(-1, -1, G))
                mb_adv, mb_old, mb_ref = (x.gather(1, idx[..., None].expand(-1, -1, G)) for x in (adv, old, ref))
                log_pi = self.log_probs().gather(1, idx[..., None].expand(-1, -1, cfg.arms))
                log_prob = log_pi.gather(-1, a_idx)  # (S, Pm, G), carries the gradient

                policy = self.scheme.token_loss(log_prob, mb_old, mb_adv).mean((1, 2))  # (S,)
                loss = policy
                if cfg.kl_coef > 0:
                    loss = loss + cfg.kl_coef * dgpo.kl_estimate(log_prob, mb_ref, "k3").mean((1, 2))
                self.opt.zero_grad(set_to_none=True)
                loss.sum().backward()  # the sum keeps every seed's gradient its own

                grads = [p.grad for p in self.params]
                grad_norm = torch.sqrt(sum(g.pow(2).flatten(1).sum(-1) for g in grads))  # (S,)
                if cfg.max_grad_norm > 0:
                    scale = (cfg.max_grad_norm / (grad_norm + 1e-6)).clamp(max=1.0)
                    for g in grads:
                        g.mul_(scale.view(-1, *[1] * (g.dim() - 1)))
                self.opt.step()

                m = _per_seed_policy_metrics(self.scheme, log_prob.detach(), mb_old, mb_adv)
                m["loss/policy"], m["grad_norm"] = policy.detach(), grad_norm
                for k in _COMBINE:
                    per_pass[k].append(m[k])

        for k, how in _COMBINE.items():
            stacked = torch.stack(per_pass[k])  # (updates, S)
            out[k] = {"mean": stacked.mean(0), "min": stacked.min(0).values, "max": stacked.max(0).values}[how]

        # -- how far this step moved the policy: KL(pi_old || pi_new) on the step's samples ---------------
        with torch.no_grad():
            new = self.log_probs().gather(-1, actions)
            out["kl/old_new_k1"] = dgpo.kl_estimate(old, new, "k1").mean((1, 2))
            out["kl/old_new_k3"] = dgpo.kl_estimate(old, new, "k3").mean((1, 2))
        out["answers"] = answers
        return out
