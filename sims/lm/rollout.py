"""Sampling with a KV cache, and per-token log-probs/entropies of completions under a model.

Prompts of one task have equal length (see ``sims.lm.tasks``), so the batch is ``<bos> prompt`` with no padding
and the cache positions follow from its length. After a sequence emits EOS its later tokens are padding and
leave the completion mask.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor

import dgpo


def autocast(device: torch.device):
    """bf16 autocast on CUDA (matmuls in bf16, log-softmax/entropy upcast to fp32 below); nothing on CPU,
    where bf16 matmuls are slow and the tiny model is cheap in fp32."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


@dataclass
class Rollout:
    ids: Tensor  # (B, P + T) <bos> prompt completion, padded after EOS
    mask: Tensor  # (B, T) bool: completion tokens up to and including EOS
    prompt_len: int  # P (including <bos>)
    completions: list[str]  # decoded completions, EOS and padding removed


def encode_prompts(tokenizer, prompts: list[str], device) -> Tensor:
    rows = [[tokenizer.bos_token_id] + tokenizer.encode(p, add_special_tokens=False) for p in prompts]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("prompts of one batch must have the same number of tokens")
    return torch.tensor(rows, dtype=torch.long, device=device)


@torch.no_grad()
def sample(
    model,
    tokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int,
    generator: torch.Generator | None,
    temperature: float = 1.0,
    greedy: bool = False,
) -> Rollout:
    """Sample one completion per prompt (repeat a prompt G times for a group). ``generator`` makes it seeded."""
    device = next(model.parameters()).device
    ids = encode_prompts(tokenizer, prompts, device)
    batch, prompt_len = ids.shape
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    out, cache, step_input = [], None, ids
    for _ in range(max_new_tokens):
        with autocast(device):
            res = model(step_input, past_key_values=cache, use_cache=True)
        cache, logits = res.past_key_values, res.logits[:, -1].float()
        if greedy:
            nxt = logits.argmax(-1)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            # sample on the CPU generator so CPU and CUDA runs draw the same uniform numbers
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(-1).to(device)
        nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
        out.append(nxt)
        done |= nxt == eos
        if bool(done.all()):
            break
        step_input = nxt[:, None]
    comp = torch.stack(out, dim=1)
    # a token is in the completion if no EOS came strictly before it (so a sampled <pad> inside counts, too)
    is_eos = (comp == eos).int()
    mask = (torch.cumsum(is_eos, dim=1) - is_eos) == 0
    texts = []
    for row, m in zip(comp.tolist(), mask.tolist(), strict=True):
        kept = [t for t, k in zip(row, m, strict=True) if k and t != eos]
        # specials other than EOS stay in the text (e.g. "<pad>"), so the verifier counts them as wrong
        texts.append(tokenizer.decode(kept, skip_special_tokens=False))
    return Rollout(torch.cat([ids, comp], dim=1), mask, prompt_len, texts)


def token_logprobs(model, ids: Tensor, prompt_len: int, *, with_entropy: bool = False):
    """Log-probs ``(B, T)`` of the completion tokens ``ids[:, prompt_len:]`` (and their entropies, in nats, via
    ``dgpo.entropy_from_logits``) under ``model``; keeps the graph when grad is enabled."""
    with autocast(ids.device):
        logits = model(ids).logits[:, prompt_len - 1 : -1]  # the logits at t predict token t + 1
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    logp = log_probs.gather(-1, ids[:, prompt_len:, None]).squeeze(-1)
    if not with_entropy:
        return logp
    return logp, dgpo.entropy_from_logits(logits.detach())
