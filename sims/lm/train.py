"""RLVR on a tiny causal LM with any clipping scheme: the training loop, top to bottom.

Per step: sample G completions per prompt from the rollout policy pi_old (KV cache), score them with the task's
verifier, group advantages (``dgpo.group_advantages``), then ``passes`` x ``minibatches`` AdamW steps on
``dgpo.policy_loss`` with the chosen scheme (+ optional k3 KL to the reference = warm-started model), global
gradient clipping. Metrics use the names of docs/metrics.md. Deviations from the GRPO paper, as in nanochat:

1. one rollout per step, reused for ``passes`` epochs (so r = pi/pi_old moves off 1 and clipping acts);
2. the loss aggregation is a separate choice (``agg``, default token-mean as DAPO/verl);
3. the KL to the reference is off by default (``kl_coef=0``), but ``kl/ref_k3`` is always logged.

Each step draws its prompts, samples and minibatch order from generators seeded by (seed, step), so a run
resumed from a checkpoint logs the same later metrics as an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

import dgpo
from sims.lm import checkpoint
from sims.lm.config import LMConfig
from sims.lm.model import load_local, warm_started
from sims.lm.rollout import sample, token_logprobs
from sims.lm.tasks import ALPHABET, Task
from sims.runstore import RunWriter, read_json

CACHE_DIRNAME = ".lm-cache"


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: CUDA is not available on this machine; use --device cpu (or auto)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def step_generator(seed: int, step: int) -> tuple[np.random.Generator, torch.Generator]:
    """The prompt RNG and the sampling/shuffling generator of one step, from (seed, step) alone."""
    return np.random.default_rng([seed, 2, step]), torch.Generator().manual_seed(seed * 1_000_003 + step)


@torch.no_grad()
def greedy_accuracy(model, tokenizer, task: Task, n: int, seed: int) -> float:
    """Fraction of ``n`` held-out prompts (their own seed stream) answered right by greedy decoding."""
    pairs = task.batch(np.random.default_rng([seed, 3]), n)
    prompts = [p for p, _ in pairs]
    ro = sample(model, tokenizer, prompts, max_new_tokens=task.max_new_tokens, generator=None, greedy=True)
    return float(np.mean([task.reward(p, c) for p, c in zip(prompts, ro.completions, strict=True)]))


def load_policy(cfg: LMConfig, cache_root: Path, device, progress=None):
    """The starting policy and tokenizer: ``--model DIR`` as is, or the built model after its cached warm start."""
    if cfg.model_dir:
        model, tokenizer = load_local(cfg.model_dir, ALPHABET)
        return model.to(device).eval(), tokenizer, {"model_dir": cfg.model_dir}
    model, tokenizer, cache_dir, reused = warm_started(
        cache_root, cfg.task_obj, family=cfg.family, layers=cfg.layers, width=cfg.width, heads=cfg.heads,
        steps=cfg.sft_steps, lr=cfg.sft_lr, batch=cfg.sft_batch, seed=cfg.seed, device=device, progress=progress,
    )  # fmt: skip
    return model, tokenizer, {"warm_start_cache": str(cache_dir), "warm_start_reused": reused}


def train(
    cfg: LMConfig,
    out: Path | str,
    *,
    name: str | None = None,
    resume: Path | str | None = None,
    progress: bool = False,
    cache_root: Path | str | None = None,
) -> Path:
    """Run (or resume) one RL run under the run store root ``out``; returns the run folder."""
    out = Path(resume).parent if resume is not None else Path(out)  # a resumed run stays in its own store
    device = resolve_device(cfg.device)
    task, scheme = cfg.task_obj, cfg.scheme_obj
    cache_root = Path(cache_root) if cache_root else out / CACHE_DIRNAME
    bar = _bar(progress and not cfg.model_dir, cfg.sft_steps, "warm start")
    model, tokenizer, origin = load_policy(cfg, cache_root, device, progress=bar)
    if bar is not None:
        bar.close()
    ref = copy.deepcopy(model).eval().requires_grad_(False)  # pi_ref: the starting (warm-started) policy
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0)

    # A new run folder, or the resumed one with its logs trimmed back to the checkpoint it continues from.
    start = 0
    info = {"device_used": device.type, "torch": torch.__version__, **origin}
    if resume is not None:
        run_dir = Path(resume)
        start = checkpoint.load_latest(run_dir, model, opt)
        for file in ("metrics.jsonl", "samples.jsonl"):
            checkpoint.trim_jsonl(run_dir / file, start)
        writer = RunWriter(run_dir.parent, run_dir.name, {**cfg.to_dict(), **info}, kind="lm", unique=False)
        summary = read_json(run_dir / "summary.json") if (run_dir / "summary.json").is_file() else {}
    else:
        writer = RunWriter(out, name or f"lm-{cfg.task}-{cfg.scheme}", {**cfg.to_dict(), **info}, kind="lm")
        run_dir = writer.path
        summary = {}
    samples_file = open(run_dir / "samples.jsonl", "a", encoding="utf-8")
    batch, group = cfg.prompts_per_step * cfg.group_size, cfg.group_size
    bar = _bar(progress, cfg.steps, f"RL {cfg.scheme}", initial=start)
    status = "crashed"
    try:  # from here on a stop or a crash is recorded in status.json
        if resume is None and cfg.eval_prompts:
            summary["eval_accuracy_before"] = greedy_accuracy(model, tokenizer, task, cfg.eval_prompts, cfg.seed)
            _write_summary(run_dir, summary)
        for step in range(start + 1, cfg.steps + 1):
            t0 = time.perf_counter()
            rng, gen = step_generator(cfg.seed, step)

            # 1. Rollout: G completions per prompt from pi_old (the weights at the start of the step).
            pairs = task.batch(rng, cfg.prompts_per_step)
            prompts = [p for p, _ in pairs for _ in range(group)]
            model.eval()
            ro = sample(model, tokenizer, prompts, max_new_tokens=task.max_new_tokens, generator=gen,
                        temperature=cfg.temperature)  # fmt: skip
            mask = ro.mask
            t_gen = time.perf_counter() - t0

            # 2. Verifiable rewards and group-relative advantages (one per completion, broadcast over its tokens).
            rewards = torch.tensor([task.reward(p, c) for p, c in zip(prompts, ro.completions, strict=True)])
            rewards = rewards.view(cfg.prompts_per_step, group)
            adv = dgpo.group_advantages(rewards, estimator=cfg.estimator).reshape(batch, 1).to(device)

            # 3. Log-probs under pi_old and pi_ref, fixed for the whole step (verl recomputes them the same way).
            with torch.no_grad():
                old_logp, entropy = token_logprobs(model, ro.ids, ro.prompt_len, with_entropy=True)
                ref_logp = token_logprobs(ref, ro.ids, ro.prompt_len)

            # 4. passes x minibatches of updates with the scheme's loss.
            t1 = time.perf_counter()
            model.train()
            seen, losses, grad_norms = [], [], []
            for _ in range(cfg.passes):
                perm = torch.randperm(batch, generator=gen).to(device)
                for idx in perm.chunk(cfg.minibatches):
                    logp = token_logprobs(model, ro.ids[idx], ro.prompt_len)
                    loss, _ = dgpo.policy_loss(scheme, logp, old_logp[idx], adv[idx], mask[idx], agg=cfg.agg)
                    losses.append(loss.detach())
                    if cfg.kl_coef > 0:
                        kl = dgpo.masked_mean(dgpo.kl_estimate(logp, ref_logp[idx], "k3"), mask[idx])
                        loss = loss + cfg.kl_coef * kl
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm))
                    opt.step()
                    seen.append((logp.detach(), old_logp[idx], adv[idx].expand_as(logp), mask[idx]))
            t_train = time.perf_counter() - t1

            # 5. Metrics: clip/ratio/weight stats over every (token, pass) that entered an update; KL old->new
            #    after the step's last update; KL to the reference on the rollout's samples.
            model.eval()
            with torch.no_grad():
                new_logp = token_logprobs(model, ro.ids, ro.prompt_len)
            lp, old, a, m = (torch.cat(t) for t in zip(*seen, strict=True))
            metrics = dgpo.policy_metrics(scheme, lp, old, a, m)
            metrics["kl/old_new_k1"] = dgpo.masked_mean(dgpo.kl_estimate(old_logp, new_logp, "k1"), mask)
            metrics["kl/old_new_k3"] = dgpo.masked_mean(dgpo.kl_estimate(old_logp, new_logp, "k3"), mask)
            metrics["kl/ref_k3"] = dgpo.masked_mean(dgpo.kl_estimate(old_logp, ref_logp, "k3"), mask)
            metrics["loss/policy"] = torch.stack(losses).mean()
            metrics["grad_norm"] = torch.stack(grad_norms).mean()
            metrics["entropy/mean"] = dgpo.masked_mean(entropy, mask)
            n_tokens = int(mask.sum())
            step_s = time.perf_counter() - t0
            metrics.update({
                "reward/mean": rewards.mean(),
                "reward/std": rewards.std(),
                "reward/accuracy": (rewards == 1).float().mean(),
                "reward/frac_zero_std": (rewards == rewards[:, :1]).all(-1).float().mean(),
                "response/length_mean": mask.sum(-1).float().mean(),
                "perf/step_s": step_s,
                "perf/tokens_per_s": n_tokens * (1 + cfg.passes) / step_s,
                "perf/gen_tokens_per_s": n_tokens / t_gen,
                "perf/train_tokens_per_s": n_tokens * cfg.passes / t_train,
            })  # fmt: skip
            writer.log(step, {k: float(v) for k, v in metrics.items()})
            for i in range(0, min(cfg.samples_per_step * group, batch), group):  # first completion of a few prompts
                row = {"step": step, "prompt": prompts[i], "completion": ro.completions[i],
                       "reward": float(rewards.view(-1)[i])}  # fmt: skip
                samples_file.write(json.dumps(row) + "\n")
            samples_file.flush()
            if step % cfg.save_every == 0 or step == cfg.steps:
                checkpoint.save(run_dir, step, model, opt)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(acc=f"{float(metrics['reward/accuracy']):.2f}", H=f"{float(entropy.mean()):.2f}")
        if cfg.eval_prompts:
            summary["eval_accuracy_after"] = greedy_accuracy(model, tokenizer, task, cfg.eval_prompts, cfg.seed)
        _write_summary(run_dir, {**summary, "steps_done": cfg.steps, **info})
        status = "finished"
    except KeyboardInterrupt:  # Stop in the app (SIGTERM) or Ctrl-C: keep what was logged
        status = "stopped"
    finally:
        samples_file.close()
        writer.finish(status)
        if bar is not None:
            bar.close()
    return run_dir


def _bar(enabled: bool, total: int, desc: str, initial: int = 0):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, initial=initial, dynamic_ncols=True)


def _write_summary(run_dir: Path, summary: dict) -> None:
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
