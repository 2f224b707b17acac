"""Reading, compacting, listing, renaming, deleting and exporting runs of the run store (``sims.runstore``).

A run is read as a *wide* frame: ``step``, ``wall_time`` and one float column per metric, one row per logged step.
A finished run is compacted to ``metrics.parquet`` the first time it is read; the Parquet file records the size of
the ``metrics.jsonl`` it was made from, so a JSONL that grew afterwards is read again instead of a stale Parquet.
Running runs are never compacted and are read from the JSONL (a half-written last line is ignored).
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from sims.runs.importers import Imported
from sims.runstore import read_json, read_metrics, run_status, safe_name

PARQUET = "metrics.parquet"
JSONL = "metrics.jsonl"
_SIZE_KEY = b"dgpo_jsonl_size"


def run_path(root: Path | str, name: str) -> Path:
    """The folder of an existing run; ``ValueError`` for names that could leave ``root`` or do not exist."""
    root = Path(root)
    if not _is_safe(name):
        raise ValueError(f"run name {name!r} is not allowed; use letters, digits, '.', '_' or '-' (no '/' or '..')")
    path = root / name
    if path.resolve().parent != root.resolve():
        raise ValueError(f"run name {name!r} points outside the runs folder")
    if not (path / "config.json").is_file():
        raise ValueError(f"no run named {name!r} in {root}")
    return path


def _is_safe(name) -> bool:
    try:
        return isinstance(name, str) and name == safe_name(name)
    except ValueError:  # no usable characters at all ("", "..")
        return False


def _fresh_parquet(run_dir: Path) -> Path | None:
    parquet = run_dir / PARQUET
    if not parquet.is_file():
        return None
    jsonl = run_dir / JSONL
    if not jsonl.is_file():
        return parquet
    meta = pq.read_schema(parquet).metadata or {}
    return parquet if meta.get(_SIZE_KEY) == str(jsonl.stat().st_size).encode() else None


def _frame_from_rows(rows: list[dict]) -> pd.DataFrame:
    metrics = pd.DataFrame.from_records([r["metrics"] for r in rows]).astype(np.float64)
    metrics.insert(0, "wall_time", np.array([r.get("wall_time") for r in rows], dtype=np.float64))
    metrics.insert(0, "step", np.array([r["step"] for r in rows], dtype=np.int64))
    return metrics


def _read_jsonl(run_dir: Path) -> pd.DataFrame:
    """The JSONL as a wide frame: Arrow's C++ JSON reader first (about 10x faster than a Python loop), and
    ``read_metrics`` whenever Arrow refuses the file (a half-written last line, a malformed row), so that such
    files get the run store's own handling: partial last line ignored, other bad lines named."""
    jsonl = run_dir / JSONL
    try:
        table = pa_json.read_json(jsonl)
        metrics = table.column("metrics")
        if not pa.types.is_struct(metrics.type) or not pa.types.is_integer(table.column("step").type):
            raise TypeError("not a run-store JSONL")
        frame = pa.Table.from_arrays(metrics.combine_chunks().flatten(), names=[f.name for f in metrics.type])
        frame = frame.to_pandas().astype(np.float64)
        frame.insert(0, "wall_time", table.column("wall_time").to_pandas().astype(np.float64).to_numpy())
        frame.insert(0, "step", table.column("step").to_numpy())
        return frame
    except (pa.ArrowException, KeyError, TypeError, ValueError):
        rows = read_metrics(jsonl)
        return _frame_from_rows(rows) if rows else pd.DataFrame({"step": [], "wall_time": []})


def compact(run_dir: Path | str, frame: pd.DataFrame | None = None) -> Path:
    """Write ``metrics.parquet`` next to ``metrics.jsonl`` (atomically), tagged with the JSONL size it reflects."""
    run_dir = Path(run_dir)
    jsonl = run_dir / JSONL
    size = jsonl.stat().st_size
    if frame is None:
        frame = _read_jsonl(run_dir)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _SIZE_KEY: str(size).encode()})
    # a tmp name per process and thread: two app sessions may compact the same run at once
    tmp = run_dir / f"{PARQUET}.{os.getpid()}-{threading.get_ident()}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, run_dir / PARQUET)
    return run_dir / PARQUET


def load_run(run_dir: Path | str) -> pd.DataFrame:
    """The wide frame of one run: from a fresh Parquet if there is one, else from the JSONL (then compacted if
    the run is over). ``ValueError`` naming the file and line for a malformed JSONL."""
    run_dir = Path(run_dir)
    try:
        parquet = _fresh_parquet(run_dir)
        if parquet is not None:
            return pq.read_table(parquet).to_pandas()
    except (pa.ArrowException, OSError):
        pass  # an unreadable Parquet (disk trouble, foreign file) is only a cache: the JSONL is the record
    if not (run_dir / JSONL).is_file():
        return pd.DataFrame({"step": np.array([], dtype=np.int64), "wall_time": np.array([], dtype=np.float64)})
    size = (run_dir / JSONL).stat().st_size
    frame = _read_jsonl(run_dir)
    if len(frame) and run_status(run_dir) != "running" and (run_dir / JSONL).stat().st_size == size:
        try:
            compact(run_dir, frame)
        except OSError:
            pass  # a read-only runs folder still reads fine from the JSONL
    return frame


def _steps(run_dir: Path) -> int:
    try:
        parquet = _fresh_parquet(run_dir)
        if parquet is not None:
            return pq.read_metadata(parquet).num_rows
    except (pa.ArrowException, OSError):
        pass
    jsonl = run_dir / JSONL
    return jsonl.read_bytes().count(b"\n") if jsonl.is_file() else 0


def _flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, str | int | float | bool) or value is None:
            out[f"{prefix}{key}"] = value
    return out


def runs_table(root: Path | str) -> pd.DataFrame:
    """One row per run folder under ``root``: name, kind, scheme, status, steps, started, then the scalar config
    values (nested keys dotted). A run with an unreadable config shows its problem instead of breaking the table."""
    from sims.runstore import list_runs

    records = []
    for path in list_runs(root):
        row = {"name": path.name, "kind": None, "scheme": None, "status": run_status(path), "steps": 0}
        try:
            config = _flat(read_json(path / "config.json"))
            status = read_json(path / "status.json") if (path / "status.json").is_file() else {}
            row["steps"] = _steps(path)
        except (ValueError, OSError) as e:
            records.append({**row, "problem": str(e)})
            continue
        row["kind"], row["scheme"] = config.get("kind"), config.get("scheme")
        started = status.get("started")
        row["started"] = pd.Timestamp(started, unit="s") if isinstance(started, int | float) else pd.NaT
        # metric_names (an import's name mapping) is provenance, not a hyper-parameter: kept out of the table
        records.append(
            {**row, **{k: v for k, v in config.items() if k not in row and not k.startswith("metric_names.")}}
        )
    columns = ["name", "kind", "scheme", "status", "steps", "started"]
    table = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=columns)
    for col in columns:
        if col not in table:
            table[col] = None
    rest = [c for c in table.columns if c not in columns]
    table = table[columns + rest]
    if len(table):  # newest first by start time (folder mtimes change whenever a run writes)
        order = pd.to_datetime(table["started"]).rank(method="first", ascending=False, na_option="bottom")
        table = table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return table


def rename_run(root: Path | str, old: str, new: str) -> Path:
    """Rename a run folder; the new name must already be a safe name and not be taken."""
    path = run_path(root, old)
    if not _is_safe(new):
        raise ValueError(f"new name {new!r} is not allowed; use letters, digits, '.', '_' or '-' (no '/' or '..')")
    target = Path(root) / new
    if target.exists():
        raise ValueError(f"a run named {new!r} already exists; pick another name")
    os.rename(path, target)
    return target


def delete_run(root: Path | str, name: str) -> None:
    """Delete a run folder (refused while the run is still being written)."""
    path = run_path(root, name)
    if run_status(path) == "running":
        raise ValueError(f"run {name!r} is still running; stop it before deleting it")
    shutil.rmtree(path)


def import_run(root: Path | str, imported: Imported, name: str, source_label: str = "") -> Path:
    """Store an imported log as a run: config.json (kind "imported"), metrics.jsonl, status.json, metrics.parquet.
    The name is sanitised and made unique (``name-2``, ...), as ``RunWriter`` does."""
    root = Path(root)
    base = safe_name(name)
    path, k = root / base, 1
    while path.exists():
        k += 1
        path = root / f"{base}-{k}"
    path.mkdir(parents=True)
    config = {"kind": "imported", "scheme": None, "source_format": imported.source, "source_file": source_label}
    config.update({f"source.{k}": v for k, v in imported.config.items()})
    config["metric_names"] = imported.renamed
    (path / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    frame = imported.frame
    metrics = [c for c in frame.columns if c not in ("step", "wall_time")]
    with open(path / JSONL, "w", encoding="utf-8") as f:
        for step, wall, values in zip(frame["step"], frame["wall_time"], frame[metrics].to_numpy(), strict=True):
            row = {k: (float(v) if math.isfinite(v) else None) for k, v in zip(metrics, values, strict=True)}
            row = {k: v for k, v in row.items() if v is not None}
            wall_time = float(wall) if math.isfinite(wall) else None
            f.write(json.dumps({"step": int(step), "wall_time": wall_time, "metrics": row}) + "\n")
    now = time.time()
    status = {"status": "finished", "pid": os.getpid(), "started": now, "ended": now}
    (path / "status.json").write_text(json.dumps(status), encoding="utf-8")
    compact(path, frame)
    return path


def to_long(frames: dict[str, pd.DataFrame], metrics: list[str] | None = None) -> pd.DataFrame:
    """Long format ``run, step, wall_time, metric, value`` (missing values dropped) of wide run frames."""
    parts = []
    for name, frame in frames.items():
        cols = [c for c in frame.columns if c not in ("step", "wall_time") and (metrics is None or c in metrics)]
        if not cols:
            continue
        long = frame.melt(id_vars=["step", "wall_time"], value_vars=cols, var_name="metric", value_name="value")
        long.insert(0, "run", name)
        parts.append(long.dropna(subset=["value"]))
    if not parts:
        return pd.DataFrame({"run": [], "step": [], "wall_time": [], "metric": [], "value": []})
    return pd.concat(parts, ignore_index=True)


def export_bytes(long: pd.DataFrame, fmt: str) -> bytes:
    """The long frame as CSV or Parquet bytes."""
    if fmt == "csv":
        return long.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        long.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use 'csv' or 'parquet'")
