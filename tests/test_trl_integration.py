"""DGPOTrainer against the real TRL: a tiny Qwen2 built and saved here, CPU, a few steps, two passes per batch."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import trl
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

import dgpo
from dgpo.integrations.trl import DGPOConfig, DGPOTrainer

WORDS = list("abcdefgh")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A 2-layer Qwen2 and a word-level tokenizer over 8 letters, saved to disk (no hub)."""
    out = tmp_path_factory.mktemp("tiny-qwen2")
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    Qwen2ForCausalLM(config).save_pretrained(out)
    return str(out)


def reward_a(completions, **kwargs):
    """Fraction of the letter 'a' in the completion (decoded without spaces): varies within a group, so A != 0."""
    return [c.count("a") / max(len(c), 1) for c in completions]


class Probe(DGPOTrainer):
    """Records, for every loss call, the returned loss and the tensors it was computed from."""

    def _compute_loss(self, model, inputs):
        loss = super()._compute_loss(model, inputs)
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
        attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        with torch.no_grad():  # same parameters as the loss above (the optimizer steps after backward)
            logps, _, _ = self._get_per_token_logps_and_entropies(model, ids, attn, inputs["completion_ids"].size(1))
        self.records.append(
            {
                "loss": loss.detach().clone(),
                "logps": logps,
                "old": inputs["old_per_token_logps"].clone(),
                "adv": inputs["advantages"].clone(),
                "mask": inputs["completion_mask"].clone(),
                "ref": inputs.get("ref_per_token_logps"),
            }
        )
        return loss


def train(model_dir, tmp_path, **kw):
    data = Dataset.from_dict({"prompt": ["a b c", "d e f", "g h a", "b b c"] * 2})
    args = DGPOConfig(
        output_dir=str(tmp_path / kw["clip_scheme"]),
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        max_steps=4,  # two generation batches, each used for two optimiser steps
        learning_rate=0.05,  # large on purpose: ratios must leave [1-eps, 1+eps] within a pass
        per_device_train_batch_size=8,
        gradient_accumulation_steps=1,
        num_generations=4,
        num_iterations=2,  # two optimisation passes per generation batch, so r != 1 on the second
        max_completion_length=6,
        temperature=1.0,
        seed=0,
        **kw,
    )
    trainer = Probe(model=model_dir, reward_funcs=reward_a, args=args, train_dataset=data)
    trainer.records = []
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters()}
    trainer.train()
    changed = max((v - before[k]).abs().max().item() for k, v in trainer.model.named_parameters())
    logs = [h for h in trainer.state.log_history if "clip_ratio/region_mean" in h]
    return trainer, logs, changed


def _ppo_reference(logps, old, adv, mask, eps):
    """TRL's own GRPO token loss (grpo_trainer.py, loss_type grpo): -min(r A, clip(r) A), seq-mean-token-mean."""
    r = torch.exp(logps - old)
    per_token = -torch.min(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv)
    return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()


@pytest.mark.slow
@pytest.mark.parametrize(
    "scheme, loss_type, agg, hp, beta",
    [
        ("dgpo", "bnpo", "token-mean", {"n": 1.0, "m": 2.0}, 0.0),
        ("ppo", "grpo", "seq-mean-token-mean", {}, 0.0),
        # dapo (TRL's default) divides by the generation batch's token count: one micro-batch here, so token-mean.
        # beta > 0 adds TRL's KL-to-reference term, restated below.
        ("cpgd", "dapo", "token-mean", {"drift_coef": 0.05}, 0.04),
    ],
)
def test_trainer_trains_and_its_loss_is_the_core_loss(tiny_model_dir, tmp_path, scheme, loss_type, agg, hp, beta):
    trainer, logs, changed = train(tiny_model_dir, tmp_path, clip_scheme=scheme, loss_type=loss_type, beta=beta, **hp)
    assert trainer.scheme == dgpo.make(scheme, eps_low=0.2, eps_high=0.2, **hp)
    assert changed > 1e-4, "parameters did not move"
    assert len(logs) == 4
    for key in (
        "clip_ratio/low_mean",
        "clip_ratio/high_mean",
        "clip_ratio/region_mean",
        "weight/prob_max",
        "weight/log_max",
        "ratio/max",
        "kl/old_new_k3",
        "clip/region_frac",
        "loss/policy",
        "entropy",
    ):
        values = [h[key] for h in logs]
        assert all(math.isfinite(v) for v in values), (key, values)
    # Second passes are off-policy: ratios leave 1 and some tokens reach a boundary.
    assert max(h["ratio/max"] for h in logs) > 1.2
    assert max(h["clip_ratio/region_mean"] for h in logs) > 0
    for h in logs:  # TRL's name and ours count the same tokens
        assert h["clip_ratio/region_mean"] == pytest.approx(h["clip/region_frac"], abs=1e-6)

    # On every recorded batch, the trainer's loss equals the core's loss on the same tensors.
    scheme_obj = dgpo.make(scheme, **hp)
    off_policy, worst = 0, 0.0
    for rec in trainer.records:
        adv = rec["adv"].unsqueeze(1)
        expected, metrics = dgpo.policy_loss(scheme_obj, rec["logps"], rec["old"], adv, rec["mask"], agg=agg)
        if beta:  # TRL: + beta * k3(pi, pi_ref) * r (use_bias_correction_kl), same aggregation
            x, ref, m = rec["logps"], rec["ref"], rec["mask"]
            k3 = (torch.exp(ref - x) - (ref - x) - 1) * torch.exp(x - rec["old"])
            expected = expected + beta * (k3 * m).sum() / m.sum()
            assert logs[0]["kl"] >= 0
        assert rec["loss"].item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)
        if scheme == "ppo":  # and TRL's own hard-clip formula
            assert rec["loss"].item() == pytest.approx(
                _ppo_reference(rec["logps"], rec["old"], adv, rec["mask"], 0.2).item(), rel=1e-5, abs=1e-7
            )
        off_policy += int(metrics["clip/region_frac"].item() > 0)
        worst = max(worst, abs(rec["loss"].item() - expected.item()))
    assert off_policy >= 1, "no recorded batch had clipped tokens: the equality was only checked at r = 1"
    print(
        f"\n{scheme}/{loss_type}: {len(trainer.records)} batches, {off_policy} with clipped tokens, "
        f"max |trainer loss - (dgpo.policy_loss + beta KL)| = {worst:.3g}, "
        f"losses {[round(r['loss'].item(), 6) for r in trainer.records]}"
    )


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"clip_scheme": "nope"}, "unknown scheme 'nope'"),
        ({"clip_scheme": "ppo", "n": 2.0}, "n=2.0 is not a hyper-parameter of clip_scheme='ppo'"),
        ({"clip_scheme": "dgpo", "m": 0.0}, "m must be in (0.0, inf)"),
        ({"clip_scheme": "dgpo", "epsilon": 1.5}, "eps_low must be in [0.0, 1.0)"),
        ({"loss_type": "cispo"}, "set loss_type to one of grpo, bnpo, dr_grpo, dapo"),
        ({"importance_sampling_level": "sequence"}, "importance_sampling_level='token'"),
        ({"delta": 2.0}, "use dual_clip"),
        ({"use_adaptive_entropy": True}, "static entropy_coef"),
    ],
)
def test_config_refuses_what_it_cannot_honour(tmp_path, kw, message):
    with pytest.raises(ValueError) as err:
        DGPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **kw)
    assert message in str(err.value)


def test_config_maps_trl_epsilons_and_core_names(tmp_path):
    args = DGPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to="none",
        clip_scheme="dgpo",
        epsilon=0.1,
        epsilon_high=0.28,
        n=2.0,
    )
    assert args.make_scheme() == dgpo.make("dgpo", eps_low=0.1, eps_high=0.28, n=2.0, m=2.0)
    sapo = DGPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", clip_scheme="sapo", tau_neg=2.0)
    assert sapo.make_scheme() == dgpo.make("sapo", tau_neg=2.0)  # no eps: TRL's epsilon is not passed


def test_trainer_requires_dgpo_config(tiny_model_dir):
    with pytest.raises(ValueError, match="DGPOTrainer needs args=DGPOConfig"):
        DGPOTrainer(model=tiny_model_dir, reward_funcs=reward_a, args=trl.GRPOConfig(output_dir="x", use_cpu=True))


def test_command_line_flags_reach_the_scheme(tmp_path):
    """docs/scale.md's script parses DGPOConfig with HfArgumentParser, as `accelerate launch ... --n 2` does."""
    from transformers import HfArgumentParser

    argv = ["--output_dir", str(tmp_path), "--use_cpu", "--report_to", "none", "--clip_scheme", "dgpo"]
    argv += ["--n", "2", "--m", "2", "--epsilon_high", "0.28", "--num_iterations", "2"]
    (args,) = HfArgumentParser(DGPOConfig).parse_args_into_dataclasses(argv)
    assert args.num_iterations == 2
    assert args.make_scheme() == dgpo.make("dgpo", eps_low=0.2, eps_high=0.28, n=2.0, m=2.0)


def test_import_dgpo_pulls_in_neither_trl_nor_verl():
    code = "import sys, dgpo, dgpo.integrations; print(sorted(m for m in ('trl', 'verl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
