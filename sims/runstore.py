"""The run store: one folder per run under a runs root, written append-only so a crash keeps every step.

Layout of a run folder::

    runs/<name>/config.json    everything needed to rerun it, plus "kind" (bandit, lm, imported, ...)
    runs/<name>/status.json    {"status": "running" | "finished" | "crashed", "pid": ..., "started": ..., "ended": ...}
    runs/<name>/metrics.jsonl  one line per step: {"step": int, "wall_time": float, "metrics": {name: float}}

Non-finite metric values are written as null (strict JSON). A run whose status says running but whose
process is gone reads as crashed.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

DEFAULT_ROOT = Path(os.environ.get("DGPO_RUNS_DIR", "runs"))
_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A run name that stays inside the runs root: letters, digits, '.', '_' and '-' only, no leading dots."""
    cleaned = _NAME_RE.sub("-", str(name)).strip(".-")[:100]
    if not cleaned:
        raise ValueError(f"run name {name!r} has no usable characters; use letters, digits, '.', '_' or '-'")
    return cleaned


def _finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunWriter:
    """Writes one run: ``config.json`` once, then one flushed JSONL line per ``log`` call."""

    def __init__(self, root: Path | str, name: str, config: dict, *, kind: str, unique: bool = True):
        root = Path(root)
        base = safe_name(name)
        path, k = root / base, 1
        while unique and path.exists():
            k += 1
            path = root / f"{base}-{k}"
        path.mkdir(parents=True, exist_ok=not unique)
        self.path = path
        self.name = path.name
        _write_json(path / "config.json", {"kind": kind, **config})
        self._set_status("running", started=time.time())
        self._file = open(path / "metrics.jsonl", "a", encoding="utf-8")

    def log(self, step: int, metrics: dict[str, float], wall_time: float | None = None) -> None:
        """Append one step and flush it to disk."""
        row = {
            "step": int(step),
            "wall_time": time.time() if wall_time is None else float(wall_time),
            "metrics": {k: _finite_or_none(v) for k, v in metrics.items()},
        }
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def finish(self, status: str = "finished") -> None:
        """Close the log and record the final status (``finished`` or ``crashed``/``stopped``)."""
        if not self._file.closed:
            self._file.close()
        self._set_status(status, ended=time.time())

    def _set_status(self, status: str, **extra) -> None:
        current = read_json(self.path / "status.json") if (self.path / "status.json").exists() else {}
        _write_json(self.path / "status.json", {**current, "status": status, "pid": os.getpid(), **extra})

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finish("finished" if exc_type is None else "crashed")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path | str) -> dict:
    """Read a JSON object; ``ValueError`` naming the file if it is malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: malformed JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def run_status(path: Path | str) -> str:
    """``running``, ``finished``, ``stopped`` or ``crashed`` (a running run whose process is gone)."""
    path = Path(path)
    try:
        status = read_json(path / "status.json")
    except (FileNotFoundError, ValueError):
        return "finished"
    state = status.get("status", "finished")
    if state == "running" and not _pid_alive(int(status.get("pid", -1))):
        return "crashed"
    return state


def read_metrics(path: Path | str) -> list[dict]:
    """Rows of a run's ``metrics.jsonl``. A partial last line (a live or killed writer) is ignored;
    a malformed line elsewhere raises ``ValueError`` naming the file and the line."""
    file = Path(path) / "metrics.jsonl" if Path(path).is_dir() else Path(path)
    rows: list[dict] = []
    with open(file, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = isinstance(row, dict) and "step" in row and isinstance(row.get("metrics"), dict)
        except json.JSONDecodeError:
            ok = False
        if not ok:
            if i == len(lines):  # the last line had no newline yet: a step being written
                break
            raise ValueError(f"{file}: line {i} is not a metrics row {{'step', 'wall_time', 'metrics'}}")
        rows.append(row)
    return rows


def list_runs(root: Path | str = DEFAULT_ROOT) -> list[Path]:
    """Run folders (those with a config.json) under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)
