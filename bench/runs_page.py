"""Benchmark of the Runs page: server time to load and plot N runs x M metrics x S steps.

    python bench/runs_page.py                       # 20 runs x 10 metrics x 5,000 steps (the README figure)
    python bench/runs_page.py --runs 5 --steps 100000 --metrics 2

Writes the runs with RunWriter into a temporary folder, then times (median of --repeat):
  * loading every run from JSONL (first read of finished runs, which also compacts them to Parquet);
  * loading every run from Parquet;
  * building every panel (smoothing, downsampling, Plotly figures);
  * the whole page script in AppTest (the server's work for one rerun, incl. serialising the figures),
    cold (empty st.cache_data, runs read from Parquet) and warm (a rerun after moving the smoothing slider).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.charts.runs import metric_figure  # noqa: E402
from sims.runs import analysis, store  # noqa: E402
from sims.runstore import RunWriter  # noqa: E402

METRICS = [
    "reward/mean",
    "reward/std",
    "clip/low_frac",
    "clip/high_frac",
    "clip/region_frac",
    "kl/old_new_k1",
    "entropy/mean",
    "loss/policy",
    "grad_norm",
    "ratio/max",
    "weight/log_max",
    "weight/prob_max",
]


def write_runs(root: Path, runs: int, metrics: int, steps: int) -> list[str]:
    names = METRICS[:metrics] + [f"extra/m{i}" for i in range(max(0, metrics - len(METRICS)))]
    rng = np.random.default_rng(0)
    for r in tqdm(range(runs), desc="writing runs", unit="run"):
        values = np.cumsum(rng.normal(size=(steps, len(names))), axis=0) * 0.01
        with RunWriter(root, f"run-{r:02d}", {"scheme": ["ppo", "dgpo"][r % 2], "seed": r}, kind="bench") as w:
            for s in range(steps):
                w.log(s, dict(zip(names, values[s].tolist(), strict=True)), wall_time=1.7e9 + s)
    return names


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--metrics", type=int, default=10)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    os.environ["DGPO_RUNS_DIR"] = str(root)
    metrics = write_runs(root, args.runs, args.metrics, args.steps)
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    rows = []

    t = time.perf_counter()
    frames = {d.name: store.load_run(d) for d in dirs}  # JSONL, then compacted
    rows.append(("load all runs from JSONL (+ compaction)", time.perf_counter() - t))
    sec, frames = timed(lambda: {d.name: store.load_run(d) for d in dirs}, args.repeat)
    rows.append(("load all runs from Parquet", sec))

    def build():
        colors = {n: f"#{i * 9:02x}4080" for i, n in enumerate(frames)}
        return [metric_figure(m, analysis.panel_series(frames, m, weight=0.6), colors) for m in metrics]

    rows.append(("smooth + downsample + build all figures", timed(build, args.repeat)[0]))

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def page(cold: bool):
        if cold:
            st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "app" / "views" / "runs.py"), default_timeout=120)
        at.session_state["runs_selected"] = [d.name for d in dirs]
        at.session_state["runs_listed"] = [d.name for d in reversed(dirs)]
        at.session_state["runs_metrics"] = metrics
        at.session_state["runs_metrics_picked"] = True  # as if the user had picked them
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) == len(metrics)
        t = time.perf_counter()
        at.slider(key="runs_smoothing").set_value(0.3).run()
        return first, time.perf_counter() - t

    results = [page(cold=True) for _ in range(args.repeat)]
    rows.append(("page script, cold cache (AppTest run)", statistics.median(r[0] for r in results)))
    rows.append(("page script, rerun after moving smoothing", statistics.median(r[1] for r in results)))

    print(f"\n{args.runs} runs x {len(metrics)} metrics x {args.steps} steps (median of {args.repeat})")
    for label, seconds in rows:
        print(f"  {label:<45s} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
