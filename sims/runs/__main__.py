"""Command line for the run store's importers and compaction.

    python -m sims.runs import PATH --name NAME [--format auto|verl|trl|tensorboard] [--root runs]
    python -m sims.runs compact [--root runs]

PATH is a verl file-logger JSONL, a trainer_state.json (or the checkpoint folder holding it), or a TensorBoard
log folder / event file. Errors exit non-zero with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from sims.runs.importers import FORMATS, parse_path
from sims.runs.store import JSONL, PARQUET, compact, import_run
from sims.runstore import DEFAULT_ROOT, list_runs, run_status


def _import(args) -> int:
    imported = parse_path(args.path, args.format)
    path = import_run(args.root, imported, args.name, source_label=Path(args.path).name)
    for warning in imported.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    metrics = len(imported.frame.columns) - 2
    steps = len(imported.frame)
    print(f"imported {imported.source} log {args.path} as run {path.name!r}: {steps} steps, {metrics} metrics")
    if imported.renamed:
        print("mapped to our names: " + ", ".join(f"{theirs} -> {ours}" for ours, theirs in imported.renamed.items()))
    return 0


def _compact(args) -> int:
    done = 0
    for run in tqdm(list_runs(args.root), desc="compacting", unit="run"):
        if (run / JSONL).is_file() and run_status(run) != "running":
            compact(run)
            done += 1
    print(f"compacted {done} finished runs to {PARQUET} under {args.root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sims.runs", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a TRL, verl or TensorBoard log as a run")
    imp.add_argument("path", help="verl JSONL, trainer_state.json (or its folder), TensorBoard log folder or file")
    imp.add_argument("--name", required=True, help="run name (letters, digits, '.', '_', '-'; made unique)")
    imp.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="log format (default: guess)")
    imp.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="runs folder (default: $DGPO_RUNS_DIR or runs)")
    cmp = sub.add_parser("compact", help="write metrics.parquet for every finished run")
    cmp.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="runs folder (default: $DGPO_RUNS_DIR or runs)")
    args = parser.parse_args(argv)
    try:
        return _import(args) if args.command == "import" else _compact(args)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
