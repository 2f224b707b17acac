"""``LMConfig``: every knob of one small-LM RLVR run, validated on construction (the CLI flags mirror it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import dgpo
from sims.lm.tasks import Task

FAMILIES = ("qwen2", "llama")
"""Model families ``sims.lm.model`` can build (kept here so the config does not import transformers)."""


@dataclass(frozen=True)
class LMConfig:
    task: str = "addition"
    """Task family: addition, sort or countdown (see ``sims.lm.tasks``)."""
    difficulty: int = 2
    """Digits per operand (addition), list length (sort), numbers given (countdown)."""
    scheme: str = "dgpo"
    """Clipping scheme, any of ``dgpo.available_schemes()``."""
    scheme_hp: tuple[tuple[str, float | None], ...] = ()
    """Hyper-parameter overrides of the scheme as (name, value) pairs; the rest keep their defaults."""
    steps: int = 200
    """RL steps (one rollout each)."""
    sft_steps: int = 300
    """Supervised warm-start steps before RL (cached by config; 0 = RL from random weights)."""
    sft_lr: float = 1e-3
    """Learning rate of the warm start."""
    sft_batch: int = 64
    """Task pairs per warm-start step."""
    prompts_per_step: int = 8
    """Prompts per RL step."""
    group_size: int = 8
    """G: completions sampled per prompt (the group of the advantage)."""
    passes: int = 2
    """mu: passes over each rollout; with mu > 1 or several minibatches the ratio moves and clipping acts."""
    minibatches: int = 2
    """Optimizer steps per pass."""
    lr: float = 3e-5
    """AdamW learning rate of RL."""
    kl_coef: float = 0.0
    """beta of the k3 KL penalty to the reference (warm-started) model; 0 = none (kl/ref_k3 is still logged)."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    estimator: str = "grpo"
    """Group advantage estimator: grpo, drgrpo or rloo."""
    agg: str = "token-mean"
    """Loss aggregation, any of ``dgpo.available_aggregations()``."""
    temperature: float = 1.0
    """Sampling temperature of the rollout."""
    family: str = "qwen2"
    """Architecture of the built model: qwen2 or llama."""
    layers: int = 2
    """Transformer blocks of the built model."""
    width: int = 128
    """Hidden size of the built model (MLP 2x)."""
    heads: int = 4
    """Attention heads of the built model (must divide width)."""
    model_dir: str | None = None
    """Local Hugging Face model directory to start from instead of building + warm-starting one."""
    device: str = "auto"
    """auto (CUDA when available), cpu or cuda."""
    seed: int = 0
    """Seeds the init, the warm start, every step's prompts and samples."""
    save_every: int = 50
    """Checkpoint period in steps (a checkpoint is also written at the end)."""
    samples_per_step: int = 4
    """Sample completions written to samples.jsonl per step."""
    eval_prompts: int = 128
    """Held-out prompts for the greedy accuracy before and after RL (0 = skip)."""

    def __post_init__(self):
        Task(self.task, self.difficulty)  # validates task and difficulty
        dgpo.make(self.scheme, **dict(self.scheme_hp))  # validates the scheme and its hyper-parameters
        for name in ("steps", "prompts_per_step", "passes", "minibatches", "layers", "width", "heads", "save_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("sft_steps", "samples_per_step", "eval_prompts", "kl_coef"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("sft_lr", "sft_batch", "lr", "max_grad_norm", "temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.group_size < 2:
            raise ValueError(
                f"group_size must be >= 2 (advantages compare completions of a prompt), got {self.group_size}"
            )
        if (self.prompts_per_step * self.group_size) % self.minibatches:
            raise ValueError(
                f"prompts_per_step x group_size = {self.prompts_per_step * self.group_size} must be divisible by "
                f"minibatches = {self.minibatches}"
            )
        if self.estimator not in dgpo.available_estimators():
            raise ValueError(f"unknown estimator {self.estimator!r}; valid: {', '.join(dgpo.available_estimators())}")
        if self.agg not in dgpo.available_aggregations():
            raise ValueError(f"unknown aggregation {self.agg!r}; valid: {', '.join(dgpo.available_aggregations())}")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; valid: {', '.join(FAMILIES)}")
        if self.width % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide width ({self.width})")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")

    @property
    def task_obj(self) -> Task:
        return Task(self.task, self.difficulty)

    @property
    def scheme_obj(self) -> dgpo.Scheme:
        return dgpo.make(self.scheme, **dict(self.scheme_hp))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["scheme_hp"] = dict(self.scheme_hp)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> LMConfig:
        """Inverse of ``to_dict`` (ignores keys that are not fields, e.g. the run store's ``kind``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["scheme_hp"] = tuple(sorted(dict(kwargs.get("scheme_hp", {})).items()))
        return cls(**kwargs)


def parse_hp(scheme: str, items: list[str]) -> tuple[tuple[str, float | None], ...]:
    """``["eps_low=0.2", "n=2"]`` -> ``(("eps_low", 0.2), ("n", 2.0))``; ``none`` -> None (e.g. dual_clip)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--hp {item!r}: expected NAME=VALUE, e.g. --hp eps_high=0.28")
        if value.strip().lower() == "none":
            out[name.strip()] = None
            continue
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--hp {item!r}: {value!r} is not a number") from None
    dgpo.make(scheme, **out)
    return tuple(sorted(out.items()))
