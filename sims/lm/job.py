"""A run of ``python -m sims.lm`` as a subprocess, for the dashboard: launch, poll, stop, tail its files.

The subprocess isolates a hard stop and CUDA state from the app (docs: ecosystem.md, "Live updates"); the app
only reads the run folder the CLI writes (config.json, metrics.jsonl, samples.jsonl, summary.json).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path

from sims.lm.config import LMConfig
from sims.runstore import read_json, read_metrics, run_status, safe_name

ROOT = Path(__file__).resolve().parents[2]


def cli_args(cfg: LMConfig) -> list[str]:
    """The ``python -m sims.lm`` flags that rebuild ``cfg`` (only the fields that differ from the defaults)."""
    args = []
    for f in fields(LMConfig):
        value = getattr(cfg, f.name)
        if f.name == "scheme_hp":
            args += [f"--hp={k}={'none' if v is None else v}" for k, v in value]
        elif f.name == "model_dir":
            args += [f"--model={value}"] if value else []
        elif value != f.default:
            args.append(f"--{f.name.replace('_', '-')}={value}")
    return args


@dataclass
class Job:
    """One launched run: its process, the run folder it will write, and the file its stdout/stderr go to."""

    proc: subprocess.Popen
    run_dir: Path
    log_path: Path
    steps: int

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def error(self) -> str | None:
        """The CLI's one-line reason when it exited with an error, else None."""
        code = self.proc.poll()
        if code in (None, 0) or run_status(self.run_dir) == "stopped":
            return None
        lines = [ln.strip() for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        reasons = [ln for ln in lines if ln.startswith("sims.lm: error:")] or lines[-1:] or [f"exit status {code}"]
        return reasons[-1]

    def stop(self, timeout: float = 1.0) -> None:
        """SIGTERM (the CLI closes the run as ``stopped``), then SIGKILL if it is still alive after ``timeout``."""
        if not self.running:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def launch(cfg: LMConfig, root: Path | str, name: str | None = None) -> Job:
    """Start ``python -m sims.lm`` for ``cfg`` writing under the run store ``root``; returns at once."""
    root = Path(root)
    base = safe_name(name or f"lm-{cfg.task}-{cfg.scheme}-{time.strftime('%Y%m%d-%H%M%S')}")
    run_name, k = base, 1
    while (root / run_name).exists():
        k += 1
        run_name = f"{base}-{k}"
    logs = root / ".lm-logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{run_name}.log"
    cmd = [sys.executable, "-m", "sims.lm", *cli_args(cfg), f"--out={root}", f"--name={run_name}", "--quiet"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Job(proc, root / run_name, log_path, cfg.steps)


def read_rows(run_dir: Path) -> list[dict]:
    """Metrics rows so far (none before the warm start has finished)."""
    return read_metrics(run_dir) if (run_dir / "metrics.jsonl").is_file() else []


def read_samples(run_dir: Path, last: int = 12) -> list[dict]:
    """The newest ``last`` rows of samples.jsonl, newest first (a partial last line is skipped)."""
    file = run_dir / "samples.jsonl"
    if not file.is_file():
        return []
    rows = []
    for line in file.read_text(encoding="utf-8").splitlines()[-last - 1 :]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows[::-1][:last]


def read_summary(run_dir: Path) -> dict:
    file = run_dir / "summary.json"
    return read_json(file) if file.is_file() else {}


def lm_runs(root: Path | str) -> list[Path]:
    """LM run folders under ``root``, newest first."""
    from sims.runstore import list_runs

    out = []
    for run in list_runs(root):
        try:
            if read_json(run / "config.json").get("kind") == "lm":
                out.append(run)
        except ValueError:
            continue
    return out
