"""Benchmark of the vectorized bandit against a per-seed loop, plus the results table of the presets.

    python bench/bandit.py                 # updates/s: S seeds as one tensor program vs a loop over seeds
    python bench/bandit.py --default-run   # also time `python -m sims.bandit` with its defaults
    python bench/bandit.py table RUNS_DIR  # markdown table (mean and 95% interval over seeds) of CLI runs

A "policy update" is one optimizer step of one seed, so a step of S seeds with `passes * minibatches`
minibatches counts S * passes * minibatches updates. Both variants run the same config on the same seeds
(they give the same numbers: tests/test_bandit_sim.py) after one warm-up step each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dgpo  # noqa: E402
from sims.bandit import BanditSim, preset  # noqa: E402
from sims.bandit.run import run_schemes, set_threads  # noqa: E402
from sims.runstore import read_json  # noqa: E402


def _time_steps(sim: BanditSim, steps: int) -> float:
    sim.step()  # warm-up (lazy imports, allocator)
    t0 = time.perf_counter()
    for _ in range(steps):
        sim.step()
    return time.perf_counter() - t0


def bench(preset_name: str, scheme: str, seeds: int, steps: int) -> None:
    cfg = preset(preset_name, seeds=seeds)
    per_step = seeds * cfg.passes * cfg.minibatches
    all_seeds = torch.arange(cfg.seed, cfg.seed + seeds)
    vec = _time_steps(BanditSim(cfg, dgpo.make(scheme), all_seeds), steps)
    loop = sum(_time_steps(BanditSim(cfg, dgpo.make(scheme), all_seeds[i : i + 1]), steps) for i in range(seeds))
    print(f"preset={preset_name} scheme={scheme} seeds={seeds} steps={steps} threads={torch.get_num_threads()}")
    print(f"vectorized: {vec:.2f} s, {steps * per_step / vec:,.0f} policy updates/s")
    print(f"per-seed loop: {loop:.2f} s, {steps * per_step / loop:,.0f} policy updates/s")
    print(f"speed-up: {loop / vec:.1f}x")


def default_run() -> None:
    cfg = preset("default")
    schemes = [dgpo.make(s) for s in ("ppo", "gppo", "dgpo")]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_schemes(cfg, schemes, tmp, preset="default")
        wall = time.perf_counter() - t0
    print(f"default run (ppo,gppo,dgpo x {cfg.seeds} seeds x {cfg.steps} steps, incl. writing the runs): {wall:.1f} s")


def _ci(x: np.ndarray, log: bool = False) -> str:
    """Mean and normal 95% interval of the mean over seeds (on log10 for heavy-tailed values)."""
    v = np.log10(x) if log else x
    m, h = v.mean(), 1.96 * v.std(ddof=1) / np.sqrt(len(v))
    if log:
        return f"10^{m:.2f} [10^{m - h:.2f}, 10^{m + h:.2f}]"
    return f"{m:.3f} [{m - h:.3f}, {m + h:.3f}]"


def table(root: Path) -> None:
    rows = []
    for run in sorted(p for p in root.iterdir() if (p / "per_seed.parquet").exists()):
        cfg = read_json(run / "config.json")
        df = pd.read_parquet(run / "per_seed.parquet")
        last = df[df["step"] == df["step"].max()].sort_values("seed")
        wmax = df.groupby("seed")["weight/prob_max"].max().to_numpy()
        rows.append(
            (
                cfg["preset"],
                cfg["scheme"],
                _ci(last["reward/mean"].to_numpy()),
                _ci(last["entropy/mean"].to_numpy()),
                _ci(wmax, log=True),
                len(last),
                int(df["step"].max()) + 1,
            )
        )
    for p in dict.fromkeys(r[0] for r in rows):
        sub = [r for r in rows if r[0] == p]
        print(f"\n**{p}** ({sub[0][5]} seeds, {sub[0][6]} steps; mean [95% interval of the mean])\n")
        print("| scheme | final reward/mean | final entropy/mean | max over steps of weight/prob_max |")
        print("| --- | --- | --- | --- |")
        for r in sub:
            print(f"| {r[1]} | {r[2]} | {r[3]} | {r[4]} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="bench", choices=["bench", "table"])
    ap.add_argument("runs", nargs="?", help="table mode: the --out folder of the CLI runs")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--scheme", default="dgpo")
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--default-run", action="store_true")
    args = ap.parse_args()
    set_threads()
    if args.mode == "table":
        if not args.runs:
            ap.error("table mode needs the runs folder")
        table(Path(args.runs))
        return
    bench(args.preset, args.scheme, args.seeds, args.steps)
    if args.default_run:
        default_run()


if __name__ == "__main__":
    main()
