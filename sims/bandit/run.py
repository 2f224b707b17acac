"""Run several schemes on identical seeds, step by step in lockstep, into the run store.

Each scheme gets its own run folder (``sims.runstore``): ``config.json`` (everything needed to rerun it),
``metrics.jsonl`` (the mean over seeds, one flushed line per step) and, when the run ends, ``per_seed.parquet``
(every metric for every seed and step) and ``answers.parquet`` (prompt 0's answer probabilities per seed and step).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet  # noqa: F401  (imported now, so a stop does not wait for the first Parquet write)
import torch

import dgpo
from sims.bandit.config import BanditConfig
from sims.bandit.sim import BanditSim
from sims.runstore import RunWriter

# on_step(scheme, step, {metric: (S,) array}, answers (S, K) array) -- called from the running thread.
StepCallback = Callable[[str, int, dict[str, np.ndarray], np.ndarray], None]


def run_config(cfg: BanditConfig, scheme: dgpo.Scheme, preset: str) -> dict:
    """The ``config.json`` payload: enough to rebuild the exact run."""
    return {
        "sim": "bandit",
        "preset": preset,
        "scheme": scheme.name,
        "scheme_hp": dataclasses.asdict(scheme),
        "bandit": dataclasses.asdict(cfg),
        "rerun": "python -m sims.bandit --config <this file>",
    }


def _per_seed_frame(rows: list[dict[str, np.ndarray]], seeds: np.ndarray) -> pd.DataFrame:
    frames = [pd.DataFrame({"step": step, "seed": seeds, **m}) for step, m in enumerate(rows)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"step": [], "seed": []})


def _answers_frame(answers: list[np.ndarray], seeds: np.ndarray) -> pd.DataFrame:
    if not answers:
        return pd.DataFrame({"step": [], "seed": [], "arm": [], "prob": []})
    a = np.stack(answers)  # (steps, S, K)
    steps, S, K = a.shape
    return pd.DataFrame(
        {
            "step": np.repeat(np.arange(steps), S * K),
            "seed": np.tile(np.repeat(seeds, K), steps),
            "arm": np.tile(np.arange(K), steps * S),
            "prob": a.reshape(-1).astype(np.float32),
        }
    )


def run_schemes(
    cfg: BanditConfig,
    schemes: list[dgpo.Scheme],
    root: Path | str,
    *,
    preset: str = "custom",
    name: str = "bandit",
    stop: threading.Event | None = None,
    on_step: StepCallback | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Path]:
    """Run every scheme of ``schemes`` on the seeds of ``cfg``; return the run folders.

    Schemes advance in lockstep (step t of all, then t + 1) so a live view grows evenly. ``stop`` ends the run
    after the current step with status ``stopped``; an exception marks every run ``crashed``.
    """
    names = [s.name for s in schemes]
    if not schemes or len(set(names)) != len(names):
        raise ValueError(f"give one or more distinct schemes, got {names}")
    sims = [BanditSim(cfg, s) for s in schemes]
    writers = [RunWriter(root, f"{name}-{s.name}", run_config(cfg, s, preset), kind="bandit") for s in schemes]
    seeds = sims[0].seeds.numpy()
    rows: list[list[dict[str, np.ndarray]]] = [[] for _ in schemes]
    answers: list[list[np.ndarray]] = [[] for _ in schemes]
    status = "finished"
    try:
        for t in range(cfg.steps):
            if stop is not None and stop.is_set():
                status = "stopped"
                break
            for i, (sim, writer) in enumerate(zip(sims, writers, strict=True)):
                if stop is not None and stop.is_set():  # checked per scheme too: a stop waits for one sim step
                    status = "stopped"
                    break
                t0 = time.perf_counter()
                out = sim.step()
                ans = out.pop("answers").numpy()
                m = {k: v.detach().numpy() for k, v in out.items()}
                step_s = time.perf_counter() - t0
                writer.log(t, {**{k: float(v.mean()) for k, v in m.items()}, "perf/step_s": step_s})
                rows[i].append(m)
                answers[i].append(ans)
                if on_step is not None:
                    on_step(names[i], t, m, ans)
            if status == "stopped":
                break
            if progress is not None:
                progress()
    except BaseException:
        status = "crashed"
        raise
    finally:
        for i, writer in enumerate(writers):
            _per_seed_frame(rows[i], seeds).to_parquet(writer.path / "per_seed.parquet", index=False)
            _answers_frame(answers[i], seeds).to_parquet(writer.path / "answers.parquet", index=False)
            writer.finish(status)
    return [w.path for w in writers]


def set_threads() -> None:
    """One intra-op thread: the tensors are tiny, and extra threads only fight over shared cores."""
    torch.set_num_threads(1)
