"""Checkpoints of an LM run: ``checkpoint-<step>/`` with ``model.safetensors``, ``optimizer.safetensors``
(AdamW moments) and ``checkpoint.json``; the two newest are kept. Resume trims the logs back to the step of
the checkpoint it loads, so the metrics stay one row per step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

KEEP = 2


def save(run_dir: Path, step: int, model, opt: torch.optim.Optimizer) -> Path:
    path = run_dir / f"checkpoint-{step:06d}"
    tmp = run_dir / f".checkpoint-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_model(model, str(tmp / "model.safetensors"))  # handles the tied embedding / lm_head
    state = opt.state_dict()
    tensors = {f"{i}.{k}": v.contiguous() for i, s in state["state"].items() for k, v in s.items()}
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "checkpoint.json").write_text(json.dumps({"step": step, "param_groups": state["param_groups"]}))
    shutil.rmtree(path, ignore_errors=True)
    tmp.replace(path)
    for old in checkpoints(run_dir)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return path


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    return sorted(p for p in Path(run_dir).glob("checkpoint-*") if (p / "checkpoint.json").is_file())


def load_latest(run_dir: Path, model, opt: torch.optim.Optimizer) -> int:
    """Load the newest checkpoint into ``model`` and ``opt``; returns its step. ``ValueError`` if none."""
    found = checkpoints(run_dir)
    if not found:
        raise ValueError(f"--resume {run_dir}: no checkpoint-* folder to resume from (a run saves every --save-every)")
    path = found[-1]
    meta = json.loads((path / "checkpoint.json").read_text())
    load_model(model, str(path / "model.safetensors"), device=str(next(model.parameters()).device))
    flat = load_file(str(path / "optimizer.safetensors"), device=str(next(model.parameters()).device))
    state: dict[int, dict] = {}
    for key, value in flat.items():
        i, name = key.split(".", 1)
        # AdamW keeps its step counter on the CPU unless capturable/fused
        state.setdefault(int(i), {})[name] = value.cpu() if name == "step" else value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return int(meta["step"])


def trim_jsonl(file: Path, last_step: int) -> None:
    """Drop the rows of ``file`` whose ``step`` is after ``last_step`` (and a partial last line)."""
    if not file.is_file():
        return
    kept = []
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("step", 0) <= last_step:
            kept.append(line)
    file.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
