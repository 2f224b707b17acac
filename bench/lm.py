"""Benchmark of the Small-LM lab: generation and training tokens/s, step time, peak memory and its growth.

    python bench/lm.py                      # CPU, default model (2 x 128), 60 RL steps after a short warm start
    python bench/lm.py --device cuda --width 256 --layers 4 --prompts-per-step 32

Runs ``sims.lm.train`` in a temporary run store and reads the per-step ``perf/*`` metrics it logs; a thread
samples the resident set size (RSS) every 0.1 s so growth between the first and the last quarter of the steps
shows up. Not a test: numbers depend on the machine and its load (printed with them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from sims.lm import LMConfig, train  # noqa: E402
from sims.runstore import read_metrics  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--sft-steps", type=int, default=50)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--prompts-per-step", type=int, default=8)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = LMConfig(steps=args.steps, sft_steps=args.sft_steps, layers=args.layers, width=args.width,
                   prompts_per_step=args.prompts_per_step, group_size=args.group_size, device=args.device,
                   eval_prompts=0, save_every=10**6)  # fmt: skip
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append((time.time(), rss_mb()))
            time.sleep(0.1)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        run = train(cfg, tmp, name="bench")
        wall = time.time() - t0
        rows = read_metrics(run)
    stop.set()
    thread.join()
    rows = rows[2:]  # the first steps include allocator and kernel warm-up

    def med(key):
        return statistics.median(r["metrics"][key] for r in rows)

    q = max(1, len(rows) // 4)
    early = [m for t, m in samples if rows[0]["wall_time"] - 1 <= t <= rows[q - 1]["wall_time"]]
    late = [m for t, m in samples if rows[-q]["wall_time"] - 1 <= t <= rows[-1]["wall_time"]]
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"{args.threads} thread(s)"
    print(
        f"device={args.device} ({where}) model={args.layers}x{args.width} "
        f"batch={args.prompts_per_step}x{args.group_size} steps={args.steps} load={os.getloadavg()[0]:.1f}"
    )
    print(f"generation tokens/s (median): {med('perf/gen_tokens_per_s'):.0f}")
    print(f"training tokens/s (median):   {med('perf/train_tokens_per_s'):.0f}")
    print(f"all tokens/s (median):        {med('perf/tokens_per_s'):.0f}")
    print(f"step time s (median):         {med('perf/step_s'):.3f}")
    print(f"wall time incl. warm start:   {wall:.1f} s")
    print(
        f"peak RSS MB: {max(m for _, m in samples):.0f}; RSS MB first quarter of steps {max(early):.0f}, "
        f"last quarter {max(late):.0f}"
    )
    if args.device == "cuda":
        print(f"peak GPU memory allocated MB: {torch.cuda.max_memory_allocated() / 2**20:.1f}")


if __name__ == "__main__":
    main()
