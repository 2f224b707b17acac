"""A character-level tokenizer made in code: a ``PreTrainedTokenizerFast`` over a ``tokenizers`` WordLevel
model with one token per character, so it supports ``save_pretrained``/``from_pretrained`` like any
Hugging Face tokenizer and nothing is downloaded."""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from sims.lm.tasks import ALPHABET

SPECIALS = {"pad_token": "<pad>", "bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>"}


def char_tokenizer(alphabet: str = ALPHABET) -> PreTrainedTokenizerFast:
    """Ids 0-3 are ``<pad> <bos> <eos> <unk>``, then one id per character of ``alphabet`` in order."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS.values())}
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=SPECIALS["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIALS)


def check_tokenizer(tokenizer: PreTrainedTokenizerBase, alphabet: str = ALPHABET) -> None:
    """``ValueError`` unless every character of ``alphabet`` round-trips as exactly one token and the
    tokenizer has pad/bos/eos tokens (the rollout relies on all three)."""
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise ValueError(f"tokenizer has no {name[:-3]}; the LM lab needs pad, bos and eos tokens")
    bad = []
    for ch in alphabet:
        ids = tokenizer.encode(ch, add_special_tokens=False)
        if len(ids) != 1 or ids[0] == tokenizer.unk_token_id or tokenizer.decode(ids) != ch:
            bad.append(ch)
    if bad:
        raise ValueError(
            f"tokenizer cannot encode the task characters {''.join(bad)!r} as one token each; "
            "use a character-level tokenizer that covers them (drop --model to build one)"
        )
