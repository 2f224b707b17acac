"""Importers for logs from other trainers, each parsed as data (JSON or event protobufs, never pickles or code).

* verl ``file`` logger JSONL: one line per step ``{"step": N, "data": {metric: value}}``.
* Hugging Face / TRL ``trainer_state.json``: its ``log_history`` list of ``{"step": N, metric: value, ...}``
  (several entries may share a step, e.g. train and eval logs; they are merged).
* TensorBoard event files (a directory, or one or more uploaded files), every point (no 10k sampling).

Each importer returns an :class:`Imported` whose ``frame`` is wide (``step``, ``wall_time``, one column per metric)
with metric names mapped to ours where a counterpart exists (``sims.runs.names``) and kept otherwise.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sims.runs import names as _names
from sims.runs import tensorboard as _tb

FORMATS = ("verl", "trl", "tensorboard")
MAX_IMPORT_BYTES = 200 * 1024 * 1024  # the page's upload limit is lower (see app/views/runs.py)


@dataclass
class Imported:
    """A parsed foreign log, ready for the run store."""

    source: str
    """``verl``, ``trl`` or ``tensorboard``."""
    frame: pd.DataFrame
    """Wide: ``step``, ``wall_time`` (NaN where the log has none), one float column per metric (our names)."""
    renamed: dict[str, str] = field(default_factory=dict)
    """``{our name: their name}`` for every metric that was mapped."""
    warnings: list[str] = field(default_factory=list)
    """Things the user should know (a cut last line or record, skipped non-numeric values)."""
    config: dict = field(default_factory=dict)
    """What the log says about its run (e.g. trainer_state's batch size), stored in config.json."""


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else float("nan")


def _finish(source: str, rows: dict[int, dict], wall: dict[int, float], warnings: list[str], config=None) -> Imported:
    if not rows:
        raise ValueError(f"no numeric metrics found in this {source} log")
    steps = sorted(rows)
    frame = pd.DataFrame([rows[s] for s in steps], dtype=np.float64)
    mapping = _names.map_names(list(frame.columns), source)
    frame = frame.rename(columns=mapping)
    frame.insert(0, "wall_time", [wall.get(s, np.nan) for s in steps])
    frame.insert(0, "step", np.asarray(steps, dtype=np.int64))
    renamed = {ours: theirs for theirs, ours in mapping.items() if ours != theirs}
    return Imported(source, frame, renamed, warnings, config or {})


def parse_verl_jsonl(text: str, label: str) -> Imported:
    """verl's file logger: ``{"step": N, "data": {...}}`` per line. A cut last line (no newline) is skipped
    with a warning; any other bad line is an error naming ``label`` and the line number."""
    rows: dict[int, dict] = {}
    warnings: list[str] = []
    lines = text.split("\n")
    skipped = 0
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            if i == len(lines):  # no trailing newline: the writer was cut mid-line
                warnings.append(f"{label}: line {i} is truncated ({e.msg}); imported the {len(rows)} steps before it")
                break
            raise ValueError(f"{label}: line {i} is not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict) or "step" not in obj:
            raise ValueError(f"{label}: line {i} is not a verl file-logger row {{'step': N, 'data': {{...}}}}")
        step = obj["step"]
        if not isinstance(step, int) or isinstance(step, bool):
            raise ValueError(f"{label}: line {i} has a non-integer step {step!r}")
        row = rows.setdefault(step, {})
        for key, value in obj["data"].items():
            number = _number(value)
            if number is None:
                skipped += 1
            else:
                row[str(key)] = number
    if skipped:
        warnings.append(f"{label}: skipped {skipped} non-numeric values")
    return _finish("verl", rows, {}, warnings)


def parse_trainer_state(text: str, label: str) -> Imported:
    """A Hugging Face ``trainer_state.json``; the metrics are in ``log_history`` (no wall times in it)."""
    try:
        state = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{label}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise ValueError(f"{label}: not a trainer_state.json (no 'log_history' list)")
    rows: dict[int, dict] = {}
    skipped = 0
    for i, entry in enumerate(state["log_history"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), int):
            raise ValueError(f"{label}: log_history[{i}] has no integer 'step'")
        row = rows.setdefault(entry["step"], {})
        for key, value in entry.items():
            if key == "step":
                continue
            number = _number(value)
            if number is None:
                skipped += 1
            else:
                row[key] = number
    warnings = [f"{label}: skipped {skipped} non-numeric values"] if skipped else []
    config = {k: v for k, v in state.items() if k != "log_history" and isinstance(v, int | float | str | bool)}
    return _finish("trl", rows, {}, warnings, config)


def parse_event_files(files: list[tuple[str, bytes]]) -> Imported:
    """TensorBoard event files given as ``(label, bytes)``; tags of all files are merged into one run."""
    warnings: list[str] = []
    rows = []
    for label, data in files:
        rows.extend(_tb.read_event_bytes(data, label, warnings))
    if not rows:
        labels = ", ".join(label for label, _ in files)
        raise ValueError(f"{labels}: no scalar summaries found in these TensorBoard event files")
    wide = _tb.wide_from_rows(rows)
    metrics = [c for c in wide.columns if c not in ("step", "wall_time")]
    mapping = _names.map_names(metrics, "tensorboard")
    wide = wide.rename(columns=mapping)
    renamed = {ours: theirs for theirs, ours in mapping.items() if ours != theirs}
    return Imported("tensorboard", wide, renamed, warnings, {})


def detect_format(label: str, head: bytes) -> str:
    """Guess the format from a file's name and first bytes."""
    if "tfevents" in label:
        return "tensorboard"
    text = head.lstrip()
    if label.endswith("trainer_state.json") or (text.startswith(b"{") and b'"log_history"' in head):
        return "trl"
    if text.startswith(b"{"):
        return "verl"
    raise ValueError(
        f"{label}: cannot tell the format; expected a verl JSONL, a trainer_state.json or a TensorBoard "
        "events.out.tfevents.* file (pick the format explicitly if the name is unusual)"
    )


def _decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{label}: not UTF-8 text (byte {e.start}); is this a binary file?") from None


def parse_files(files: list[tuple[str, bytes]], fmt: str = "auto") -> Imported:
    """Parse one run's log from ``(label, bytes)`` pairs (several only for TensorBoard event files)."""
    if not files:
        raise ValueError("no file given")
    for label, data in files:
        if len(data) > MAX_IMPORT_BYTES:
            raise ValueError(f"{label}: {len(data) / 2**20:.0f} MiB is over the {MAX_IMPORT_BYTES >> 20} MiB limit")
    if fmt == "auto":
        kinds = {detect_format(label, data[:4096]) for label, data in files}
        if len(kinds) > 1:
            raise ValueError(f"these files are of different formats ({', '.join(sorted(kinds))}); import one at a time")
        fmt = kinds.pop()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of auto, {', '.join(FORMATS)}")
    if fmt == "tensorboard":
        return parse_event_files(files)
    if len(files) > 1:
        raise ValueError(f"a {fmt} log is one file; got {len(files)}")
    label, data = files[0]
    text = _decode(data, label)
    return parse_verl_jsonl(text, label) if fmt == "verl" else parse_trainer_state(text, label)


def parse_path(path: Path | str, fmt: str = "auto") -> Imported:
    """Parse a log on disk: a file, a TensorBoard log directory, or a checkpoint dir holding trainer_state.json."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "trainer_state.json").is_file() and fmt in ("auto", "trl"):
            files = [path / "trainer_state.json"]
        else:
            files = _tb.event_files(path)
            fmt = "tensorboard" if fmt == "auto" else fmt
    else:
        files = [path]
    for f in files:
        if f.stat().st_size > MAX_IMPORT_BYTES:
            raise ValueError(f"{f}: {f.stat().st_size / 2**20:.0f} MiB is over the {MAX_IMPORT_BYTES >> 20} MiB limit")
    return parse_files([(str(f), f.read_bytes()) for f in files], fmt)
