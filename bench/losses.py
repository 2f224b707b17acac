"""Forward + backward time of every scheme's policy loss on 4M float32 tokens, as a ratio to ppo.

    PYTHONPATH=. .venv/bin/python bench/losses.py [--tokens 4194304] [--repeats 5]

Goal (issue 2): dgpo within 1.3x of ppo. Schemes are timed in interleaved rounds (median of the rounds) so
that machine noise hits them alike. "loss" is token_loss + token-mean aggregation + backward;
"+metrics" is dgpo.policy_loss (which also computes the metrics dict) + backward.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import dgpo


def _inputs(tokens: int, seq: int = 1024):
    gen = torch.Generator().manual_seed(0)
    b = tokens // seq
    old = -torch.rand(b, seq, generator=gen) * 6
    x = (old + torch.randn(b, seq, generator=gen) * 0.3).clamp(max=0.0)
    adv = torch.randn(b, 1, generator=gen)
    mask = torch.ones(b, seq)
    return x, old, adv, mask


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4 * 1024 * 1024, help="tokens per batch (default 4M)")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved timing rounds (median reported)")
    args = ap.parse_args()
    x, old, adv, mask = _inputs(args.tokens)
    schemes = {name: dgpo.make(name) for name in dgpo.available_schemes()}

    def loss_only(s):
        leaf = x.clone().requires_grad_()
        dgpo.aggregate(s.token_loss(leaf, old, adv, mask), mask).backward()

    def with_metrics(s):
        leaf = x.clone().requires_grad_()
        dgpo.policy_loss(s, leaf, old, adv, mask)[0].backward()

    times = {(n, k): [] for n in schemes for k in ("loss", "metrics")}
    for s in schemes.values():  # warm-up
        loss_only(s)
    for _ in range(args.repeats):
        for name, s in schemes.items():
            times[(name, "loss")].append(_time(lambda s=s: loss_only(s)))
            times[(name, "metrics")].append(_time(lambda s=s: with_metrics(s)))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{x.numel():,} float32 tokens, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"median of {args.repeats} rounds"
    )
    print("| scheme | loss fwd+bwd (s) | vs ppo | with metrics (s) | vs ppo |")
    print("| --- | --- | --- | --- | --- |")
    for name in schemes:
        lo, me = med[(name, "loss")], med[(name, "metrics")]
        print(
            f"| {name} | {lo:.3f} | {lo / med[('ppo', 'loss')]:.2f}x | {me:.3f} | {me / med[('ppo', 'metrics')]:.2f}x |"
        )
    ratio = med[("dgpo", "loss")] / med[("ppo", "loss")]
    print(f"dgpo / ppo = {ratio:.2f}x (goal <= 1.30x): {'PASS' if ratio <= 1.3 else 'FAIL'}")


if __name__ == "__main__":
    main()
