"""Counter-based random numbers: a value depends only on (seed, stream, counter, index), never on batch size.

That is what lets S seeds run as one tensor program and still give, seed for seed, exactly the numbers a
run with that seed alone would draw (no torch.Generator per seed, no loop over seeds). The hash is
Chris Wellons' ``lowbias32`` (https://nullprogram.com/blog/2018/07/31/), computed in int64 with every product
kept below 2**63, so nothing relies on integer overflow.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_MASK32 = 0xFFFFFFFF


def _mul32(x: Tensor, c: int) -> Tensor:
    """``x * c mod 2**32`` for ``0 <= x < 2**32`` without overflowing int64 (split ``c`` in 16-bit halves)."""
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & _MASK32


def hash32(x: Tensor) -> Tensor:
    """lowbias32 on int64 tensors holding values in ``[0, 2**32)``."""
    x = x & _MASK32
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def uniform(seeds: Tensor, stream: int, counter: int, shape: tuple[int, ...]) -> Tensor:
    """``(S, *shape)`` float64 uniforms in (0, 1), one independent stream per seed, stream id and counter."""
    n = math.prod(shape)
    key = hash32(hash32(hash32(seeds.long() & _MASK32) ^ (stream * 0x9E3779B9 & _MASK32)) ^ (counter & _MASK32))
    idx = torch.arange(n, dtype=torch.long)
    h = hash32(hash32(key[:, None] ^ idx[None, :]) + 0x632BE5AB)
    return ((h.double() + 0.5) / 2.0**32).reshape(len(seeds), *shape)


def normal(seeds: Tensor, stream: int, counter: int, shape: tuple[int, ...]) -> Tensor:
    """``(S, *shape)`` standard normals by Box-Muller from two uniform streams."""
    u1 = uniform(seeds, stream, counter, shape)
    u2 = uniform(seeds, stream + 1000, counter, shape)
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)
