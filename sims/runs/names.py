"""Metric names of TRL and verl mapped to ours (docs: ../shared/reference/metrics.md, "Mapping to the frameworks").

Only names with a true counterpart are mapped; every other name is kept as the framework wrote it, so nothing
is lost and nothing is relabelled as something it is not (e.g. verl's ``actor/pg_clipfrac_lower`` is the
dual-clip zone, not our ``clip/low_frac``, and stays under its own name).
"""

from __future__ import annotations

TRL_TO_OURS: dict[str, str] = {
    "clip_ratio/low_mean": "clip/low_frac",
    "clip_ratio/high_mean": "clip/high_frac",
    "clip_ratio/region_mean": "clip/region_frac",
    "kl": "kl/ref_k3",
    "entropy": "entropy/mean",
    "reward": "reward/mean",
    "reward_std": "reward/std",
    "frac_reward_zero_std": "reward/frac_zero_std",
    "completions/mean_length": "response/length_mean",
    "grad_norm": "grad_norm",
    "loss": "loss/policy",
}

VERL_TO_OURS: dict[str, str] = {
    "actor/pg_clipfrac": "clip/region_frac",
    "actor/ppo_kl": "kl/old_new_k1",
    "actor/kl_loss": "kl/ref_k3",
    "actor/entropy": "entropy/mean",
    "critic/score/mean": "reward/mean",
    "response_length/mean": "response/length_mean",
    "actor/grad_norm": "grad_norm",
    "actor/pg_loss": "loss/policy",
}

MAPPINGS = {"trl": TRL_TO_OURS, "verl": VERL_TO_OURS}


def _strip_trl_prefix(name: str) -> str:
    # TRL's metrics reach W&B/TensorBoard as "train/<name>"; trainer_state.json has the bare name.
    return name[len("train/") :] if name.startswith("train/") else name


def map_names(names: list[str], source: str) -> dict[str, str]:
    """``{their name: our name}`` for every name in ``names`` (unmapped names map to themselves).

    ``source`` is ``"trl"``, ``"verl"`` or ``"tensorboard"`` (a TensorBoard log may come from either
    framework, so both tables are tried). A target that another column already holds is not taken twice.
    """
    if source == "tensorboard":
        tables = [TRL_TO_OURS, VERL_TO_OURS]
    elif source in MAPPINGS:
        tables = [MAPPINGS[source]]
    else:
        raise ValueError(f"unknown log source {source!r}; expected 'trl', 'verl' or 'tensorboard'")
    result: dict[str, str] = {}
    taken = set(names)
    for name in names:
        target = name
        for table in tables:
            key = _strip_trl_prefix(name) if table is TRL_TO_OURS else name
            if key in table:
                target = table[key]
                break
        if target != name and target in taken:
            target = name  # e.g. both "loss" and "train/loss" present: the second keeps its own name
        taken.add(target)
        result[name] = target
    return result
