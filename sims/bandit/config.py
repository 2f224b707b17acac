"""The bandit's configuration: one flat frozen dataclass, validated on construction, plus named presets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

POLICIES = ("linear", "tabular")
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class BanditConfig:
    """A verifiable-reward bandit shaped like RLVR: P prompts, K answers, reward 1 for a correct answer.

    The arms of every prompt play roles: ``n_correct`` correct answers with prior probability ``p_correct`` in
    total, optionally one confident wrong answer with ``p_confident``, and ``K - n_correct - 1`` rare wrong
    answers sharing the rest. Which arm plays which role is drawn per seed and prompt.
    """

    prompts: int = 8
    """P: prompts (contexts) per batch; every step samples G answers for each."""
    arms: int = 16
    """K: answers per prompt (the vocabulary of a one-token LM)."""
    group: int = 8
    """G: answers sampled per prompt per step (the GRPO group)."""
    n_correct: int = 1
    """Correct answers per prompt (reward 1); the others get reward 0."""
    p_correct: float = 0.05
    """Initial probability of the correct answers (together)."""
    p_confident: float = 0.6
    """Initial probability of one confident wrong answer; 0 = none (all wrong answers share equally)."""
    prior_noise: float = 0.3
    """Std of Gaussian noise added to the initial logits, per seed and prompt."""
    reward_noise: float = 0.0
    """Std of Gaussian noise added to every reward (0 = exact verifier)."""
    policy: str = "linear"
    """'linear': logits = prior + x_p W + c with W, c shared across prompts (pushing one answer down moves it
    everywhere, as in an LM); 'tabular': one free logit per (prompt, answer)."""
    dim: int = 8
    """Width of the random prompt embeddings x_p of the linear policy."""
    steps: int = 150
    """Training steps (rollout + updates)."""
    passes: int = 4
    """Update passes over each batch (PPO epochs). With 1 pass and 1 minibatch r == 1 and all schemes agree."""
    minibatches: int = 2
    """Minibatches per pass (split over prompts); must divide ``prompts``."""
    optimizer: str = "adam"
    """'adam' or 'sgd'."""
    lr: float = 0.05
    """Learning rate."""
    max_grad_norm: float = 0.0
    """Per-seed gradient-norm clip before each optimizer step; 0 = off."""
    kl_coef: float = 0.0
    """Weight of the k3 KL-to-reference penalty (GRPO's beta); the reference is the initial policy."""
    estimator: str = "grpo"
    """Group advantage estimator: grpo, drgrpo or rloo."""
    seeds: int = 64
    """S: independent seeds, run as one batched tensor program."""
    seed: int = 0
    """First seed; the run uses seeds seed, seed+1, ..., seed+S-1."""

    def __post_init__(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ValueError(msg)

        for name in ("prompts", "group", "dim", "steps", "passes", "minibatches", "seeds", "n_correct"):
            v = getattr(self, name)
            need(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{name} must be an integer >= 1, got {v!r}"
            )
        need(self.group >= 2, f"group must be >= 2 (advantages are relative to the group), got {self.group}")
        need(
            isinstance(self.arms, int) and self.arms >= self.n_correct + 1,
            f"arms must be an integer >= n_correct + 1 = {self.n_correct + 1}, got {self.arms!r}",
        )
        for name in ("p_correct", "p_confident", "prior_noise", "reward_noise", "lr", "max_grad_norm", "kl_coef"):
            v = getattr(self, name)
            need(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
                f"{name} must be a finite number >= 0, got {v!r}",
            )
        need(0 < self.p_correct < 1, f"p_correct must be in (0, 1), got {self.p_correct}")
        need(
            self.p_correct + self.p_confident < 1,
            f"p_correct + p_confident must be < 1 (the rare wrong answers need some mass), "
            f"got {self.p_correct} + {self.p_confident}",
        )
        need(
            self.p_confident == 0 or self.arms >= self.n_correct + 2,
            "p_confident > 0 needs arms >= n_correct + 2 (one confident wrong answer plus rare ones)",
        )
        need(self.lr > 0, f"lr must be > 0, got {self.lr}")
        need(self.policy in POLICIES, f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        need(
            self.estimator in ("grpo", "drgrpo", "rloo"),
            f"estimator must be grpo, drgrpo or rloo, got {self.estimator!r}",
        )
        need(
            self.prompts % self.minibatches == 0,
            f"minibatches ({self.minibatches}) must divide prompts ({self.prompts})",
        )
        need(isinstance(self.seed, int) and self.seed >= 0, f"seed must be an integer >= 0, got {self.seed!r}")

    def prior_role_logits(self) -> list[float]:
        """Initial log-probabilities by role: correct answers, then the confident wrong one, then rare wrong ones."""
        n_conf = 1 if self.p_confident > 0 else 0
        n_rare = self.arms - self.n_correct - n_conf
        p_rare = (1.0 - self.p_correct - self.p_confident) / n_rare
        return (
            [math.log(self.p_correct / self.n_correct)] * self.n_correct
            + ([math.log(self.p_confident)] if n_conf else [])
            + [math.log(p_rare)] * n_rare
        )

    def replace(self, **changes) -> BanditConfig:
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, dict] = {
    "default": {},
    # Exploration: the correct answer starts at ~1e-3 next to a confident wrong one (p = 0.9).
    "rare-correct": dict(arms=16, group=16, p_correct=1e-3, p_confident=0.9, prior_noise=0.0, lr=0.05, passes=4),
    # Many rare wrong answers (K = 128, ~7e-3 each) sampled with negative advantages and pushed towards 0 by
    # 8 large passes, under a shared policy too small (dim 2 for 16 prompts) to solve every prompt, so the
    # pressure lasts: GPPO/CISPO keep w_log constant at LN and w_prob = w_log / pi blows up; DGPO's decays.
    "negative-pressure": dict(
        prompts=16,
        arms=128,
        group=16,
        p_correct=0.1,
        p_confident=0.0,
        prior_noise=0.0,
        policy="linear",
        dim=2,
        lr=0.3,
        passes=8,
        minibatches=1,
        steps=100,
    ),
    # Stability: a large learning rate and many passes per batch.
    "aggressive": dict(arms=16, group=8, p_correct=0.05, p_confident=0.6, lr=0.5, passes=8, minibatches=2),
}


def preset(name: str, **overrides) -> BanditConfig:
    """The config of preset ``name`` with ``overrides`` applied; ValueError naming the valid presets."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return BanditConfig(**{**PRESETS[name], **overrides})
