"""Runs: read, compact, compare and export runs of the run store, and import logs from TRL, verl and TensorBoard.

``python -m sims.runs import PATH --name NAME`` imports a log from the command line (see ``sims/runs/__main__.py``).
"""

from sims.runs.analysis import downsample, ema, group_stats, x_values
from sims.runs.importers import Imported, detect_format, parse_files, parse_path
from sims.runs.names import map_names
from sims.runs.store import (
    compact,
    delete_run,
    export_bytes,
    import_run,
    load_run,
    rename_run,
    run_path,
    runs_table,
    to_long,
)

__all__ = [
    "Imported",
    "compact",
    "delete_run",
    "detect_format",
    "downsample",
    "ema",
    "export_bytes",
    "group_stats",
    "import_run",
    "load_run",
    "map_names",
    "parse_files",
    "parse_path",
    "rename_run",
    "run_path",
    "runs_table",
    "to_long",
    "x_values",
]
