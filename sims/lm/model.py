"""The tiny causal LM: built in code from a ``Qwen2Config``/``LlamaConfig`` (random init, nothing downloaded),
or loaded from a local Hugging Face directory; plus the supervised warm start, cached by its config.

The warm start (``sft_steps`` of next-token cross-entropy on the answer tokens of sampled task pairs) gives RL a
policy that is right sometimes; RL from random weights rarely sees a reward (toyRLVR, nanochat: SFT, then RL).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from sims.lm.tasks import ALPHABET, Task
from sims.lm.tokenizer import char_tokenizer, check_tokenizer

FAMILIES = {"qwen2": (Qwen2Config, Qwen2ForCausalLM), "llama": (LlamaConfig, LlamaForCausalLM)}


def build_model(
    tokenizer: PreTrainedTokenizerBase, *, family: str, layers: int, width: int, heads: int, seed: int
) -> PreTrainedModel:
    """A randomly initialised ``family`` model with ``layers`` blocks of ``width`` (MLP 2x width, no dropout)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; valid: {', '.join(FAMILIES)}")
    config_cls, model_cls = FAMILIES[family]
    config = config_cls(
        vocab_size=len(tokenizer), hidden_size=width, intermediate_size=2 * width, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=128,
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)  # HF init draws from the global RNG; seeding it here makes the init reproducible
    return model_cls(config)


def load_local(model_dir: str | Path, alphabet: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model and tokenizer from a local directory (``save_pretrained`` layout); never touches the hub."""
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise ValueError(f"--model {model_dir}: no such model directory (expected a config.json from save_pretrained)")
    if not any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
        raise ValueError(f"--model {model_dir}: no tokenizer saved there; save one with tokenizer.save_pretrained(DIR)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(
            f"--model {model_dir}: cannot load its tokenizer ({e.__class__.__name__}); "
            "save one next to the model with tokenizer.save_pretrained"
        ) from None
    check_tokenizer(tokenizer, alphabet)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    return model, tokenizer


def encode_pairs(tokenizer, pairs: list[tuple[str, str]], device) -> tuple[torch.Tensor, torch.Tensor]:
    """``<bos> prompt answer <eos>`` right-padded, and a mask of the answer + EOS tokens (the SFT targets)."""
    rows, masks = [], []
    for prompt, answer in pairs:
        p = [tokenizer.bos_token_id] + tokenizer.encode(prompt, add_special_tokens=False)
        a = tokenizer.encode(answer, add_special_tokens=False) + [tokenizer.eos_token_id]
        rows.append(p + a)
        masks.append([0] * len(p) + [1] * len(a))
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, (r, m) in enumerate(zip(rows, masks, strict=True)):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(m)] = torch.tensor(m, dtype=torch.bool)
    return ids.to(device), mask.to(device)


def supervised_warm_start(
    model, tokenizer, task: Task, *, steps: int, lr: float, batch: int, seed: int, device, progress=None
) -> None:
    """``steps`` AdamW steps of cross-entropy on the answer (+EOS) tokens of freshly sampled task pairs."""
    rng = np.random.default_rng([seed, 1])  # its own stream, independent of the RL prompts
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        ids, mask = encode_pairs(tokenizer, task.batch(rng, batch), device)
        logits = model(ids).logits[:, :-1]
        target = ids[:, 1:].masked_fill(~mask[:, 1:], -100)  # predict token t+1 from tokens <= t
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress.update(1)
    model.eval()


def warm_started(
    cache_root: Path,
    task: Task,
    *,
    family: str,
    layers: int,
    width: int,
    heads: int,
    steps: int,
    lr: float,
    batch: int,
    seed: int,
    device,
    progress=None,
):
    """The warm-started model and tokenizer, from ``cache_root/<hash of the config>`` when it was trained before.

    Returns ``(model, tokenizer, cache_dir, reused)``. The key covers everything that changes the weights.
    """
    key = dict(task=task.name, difficulty=task.difficulty, family=family, layers=layers, width=width, heads=heads,
               steps=steps, lr=lr, batch=batch, seed=seed)  # fmt: skip
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    cache_dir = Path(cache_root) / f"{task.name}-{family}-{digest}"
    if (cache_dir / "warm_start.json").is_file():
        model, tokenizer = load_local(cache_dir, alphabet=ALPHABET)
        return model.to(device).eval(), tokenizer, cache_dir, True
    tokenizer = char_tokenizer()
    model = build_model(tokenizer, family=family, layers=layers, width=width, heads=heads, seed=seed).to(device)
    supervised_warm_start(model, tokenizer, task, steps=steps, lr=lr, batch=batch, seed=seed, device=device,
                          progress=progress)  # fmt: skip
    tmp = cache_dir.with_name(cache_dir.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "warm_start.json").write_text(json.dumps(key, indent=2))  # written last: marks a complete entry
    if not cache_dir.exists():  # another run may have finished the same entry meanwhile: keep theirs
        tmp.replace(cache_dir)
    return model.eval(), tokenizer, cache_dir, False
