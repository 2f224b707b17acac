"""Loading, Parquet compaction, the runs table, rename/delete (path traversal), export round trip and the CLI.

Run: python -m pytest tests/test_runs_store.py -q
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sims.runs import __main__ as cli
from sims.runs import store
from sims.runstore import RunWriter

ROOT = Path(__file__).resolve().parents[1]


def _run(root, name, n=50, scheme="ppo", seed=0, finish=True):
    w = RunWriter(root, name, {"scheme": scheme, "seed": seed, "hp": {"eps_low": 0.2}}, kind="bandit", unique=False)
    for s in range(n):
        w.log(s, {"reward/mean": s * 0.5 + seed, "clip/region_frac": 0.25}, wall_time=1000.0 + 2 * s)
    if finish:
        w.finish()
    return w


def test_load_reads_jsonl_then_compacts_finished_run(tmp_path):
    _run(tmp_path, "a")
    run = tmp_path / "a"
    assert not (run / store.PARQUET).exists()
    frame = store.load_run(run)
    assert list(frame.columns) == ["step", "wall_time", "reward/mean", "clip/region_frac"]
    np.testing.assert_allclose(frame["reward/mean"], np.arange(50) * 0.5)
    np.testing.assert_allclose(frame["wall_time"], 1000.0 + 2 * np.arange(50))
    assert (run / store.PARQUET).exists()  # compacted on first read of the finished run
    again = store.load_run(run)  # now from Parquet
    pd.testing.assert_frame_equal(frame, again)


def test_running_run_is_not_compacted_and_partial_line_is_ignored(tmp_path):
    w = _run(tmp_path, "live", n=10, finish=False)
    with open(w.path / "metrics.jsonl", "a") as f:
        f.write('{"step": 10, "wall_time": 1.0, "metr')  # a step being written right now
    frame = store.load_run(w.path)
    assert len(frame) == 10
    assert not (w.path / store.PARQUET).exists()
    w.finish()


def test_stale_parquet_is_not_used_after_the_jsonl_grew(tmp_path):
    _run(tmp_path, "a", n=5)
    store.compact(tmp_path / "a")
    with open(tmp_path / "a" / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 5, "wall_time": 0.0, "metrics": {"reward/mean": 99.0}}) + "\n")
    frame = store.load_run(tmp_path / "a")
    assert len(frame) == 6 and frame["reward/mean"].iloc[-1] == 99.0


def test_malformed_line_names_file_and_line(tmp_path):
    _run(tmp_path, "bad", n=3)
    path = tmp_path / "bad" / "metrics.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = "{oops"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"metrics\.jsonl: line 2 is not a metrics row"):
        store.load_run(tmp_path / "bad")


def test_runs_table(tmp_path):
    _run(tmp_path, "a", n=7, scheme="dgpo", seed=3)
    _run(tmp_path, "b", n=4, finish=False)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{nope")
    assert list(store.runs_table(tmp_path)["name"]) == ["b", "a", "broken"]  # newest start first, unknown last
    table = store.runs_table(tmp_path).set_index("name")
    assert table.loc["a", "kind"] == "bandit" and table.loc["a", "scheme"] == "dgpo"
    assert table.loc["a", "steps"] == 7 and table.loc["b", "steps"] == 4
    assert table.loc["a", "status"] == "finished" and table.loc["b", "status"] == "running"
    assert table.loc["a", "seed"] == 3 and table.loc["a", "hp.eps_low"] == 0.2
    assert "malformed JSON" in table.loc["broken", "problem"]
    assert store.runs_table(tmp_path / "none").empty


@pytest.mark.parametrize("bad", ["../evil", "..", "a/b", "/etc", "", "x\x00y", "./a"])
def test_path_traversal_names_are_rejected(tmp_path, bad):
    (tmp_path / "runs").mkdir()
    _run(tmp_path / "runs", "a")
    with pytest.raises(ValueError, match="not allowed"):
        store.run_path(tmp_path / "runs", bad)
    with pytest.raises(ValueError, match="not allowed"):
        store.delete_run(tmp_path / "runs", bad)
    with pytest.raises(ValueError, match="not allowed"):
        store.rename_run(tmp_path / "runs", "a", bad)
    assert (tmp_path / "runs" / "a" / "config.json").exists()


def test_rename_and_delete(tmp_path):
    _run(tmp_path, "a")
    _run(tmp_path, "b")
    store.rename_run(tmp_path, "a", "c")
    assert not (tmp_path / "a").exists() and (tmp_path / "c" / "metrics.jsonl").exists()
    with pytest.raises(ValueError, match="already exists"):
        store.rename_run(tmp_path, "c", "b")
    with pytest.raises(ValueError, match="no run named 'zzz'"):
        store.delete_run(tmp_path, "zzz")
    store.delete_run(tmp_path, "b")
    assert not (tmp_path / "b").exists()
    live = _run(tmp_path, "live", finish=False)
    with pytest.raises(ValueError, match="still running"):
        store.delete_run(tmp_path, "live")
    live.finish()


def test_export_round_trip_csv_and_parquet(tmp_path):
    _run(tmp_path, "a", n=3)
    _run(tmp_path, "b", n=2, seed=1)
    frames = {n: store.load_run(tmp_path / n) for n in ("a", "b")}
    long = store.to_long(frames, ["reward/mean"])
    assert list(long.columns) == ["run", "step", "wall_time", "metric", "value"]
    assert len(long) == 5 and set(long["metric"]) == {"reward/mean"}
    assert long.loc[long["run"] == "b", "value"].tolist() == [1.0, 1.5]
    csv = pd.read_csv(io.BytesIO(store.export_bytes(long, "csv")))
    parquet = pd.read_parquet(io.BytesIO(store.export_bytes(long, "parquet")))
    for back in (csv, parquet):
        pd.testing.assert_frame_equal(back, long, check_dtype=False)
    # and back to the wide frame of a run
    wide = parquet[parquet["run"] == "a"].pivot(index="step", columns="metric", values="value")
    np.testing.assert_allclose(wide["reward/mean"], frames["a"]["reward/mean"])
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        store.export_bytes(long, "xlsx")


def test_cli_import_sanitises_name_and_stays_inside_root(tmp_path, capsys):
    log = tmp_path / "exp.jsonl"
    log.write_text("".join(json.dumps({"step": s, "data": {"actor/pg_loss": s * 1.0}}) + "\n" for s in range(3)))
    root = tmp_path / "runs"
    assert cli.main(["import", str(log), "--name", "../../evil", "--root", str(root)]) == 0
    assert [p.name for p in root.iterdir()] == ["evil"]
    assert not (tmp_path / "evil").exists()
    out = capsys.readouterr().out
    assert "as run 'evil': 3 steps, 1 metrics" in out and "actor/pg_loss -> loss/policy" in out
    config = json.loads((root / "evil" / "config.json").read_text())
    assert config["kind"] == "imported" and config["source_format"] == "verl"
    frame = store.load_run(root / "evil")
    assert frame["loss/policy"].tolist() == [0.0, 1.0, 2.0] and (root / "evil" / store.PARQUET).exists()
    assert cli.main(["import", str(log), "--name", "evil", "--root", str(root)]) == 0
    assert sorted(p.name for p in root.iterdir()) == ["evil", "evil-2"]  # never overwrites


def test_cli_bad_input_exits_nonzero_with_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"step": 1, "data": {"a": 1}}\nnot json\n{"step": 3, "data": {"a": 1}}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sims.runs", "import", str(bad), "--name", "x", "--root", str(tmp_path / "r")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: {bad}: line 2 is not valid JSON (Expecting value at column 1)"]
    assert not (tmp_path / "r").exists()


def test_arrow_and_python_jsonl_readers_agree(tmp_path):
    from sims.runstore import read_metrics

    w = RunWriter(tmp_path, "mixed", {"scheme": "ppo"}, kind="bandit", unique=False)
    for s in range(3000):
        metrics = {"a": s * 1.0, "b": float("nan") if s % 7 == 0 else -s * 1.0}  # NaN is written as null
        if s >= 2500:
            metrics["late"] = 0.5  # a metric that appears only late in the file
        w.log(s, metrics, wall_time=float(s))
    w.finish()
    arrow = store._read_jsonl(w.path)
    python = store._frame_from_rows(read_metrics(w.path))
    pd.testing.assert_frame_equal(arrow, python, check_like=True)
    assert arrow["b"].isna().sum() == len(range(0, 3000, 7)) and arrow["late"].notna().sum() == 500


def test_cli_compact_skips_running_runs(tmp_path, capsys):
    _run(tmp_path, "done", n=4)
    live = _run(tmp_path, "live", n=4, finish=False)
    assert cli.main(["compact", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "done" / store.PARQUET).exists() and not (tmp_path / "live" / store.PARQUET).exists()
    assert "compacted 1 finished runs" in capsys.readouterr().out
    live.finish()


def test_imported_run_in_table_without_mapping_columns(tmp_path):
    log = tmp_path / "trainer_state.json"
    log.write_text(json.dumps({"train_batch_size": 4, "log_history": [{"step": 1, "loss": 2.0, "reward": 0.5}]}))
    root = tmp_path / "runs"
    assert cli.main(["import", str(log), "--name", "trl", "--root", str(root)]) == 0
    row = store.runs_table(root).set_index("name").loc["trl"]
    assert row["kind"] == "imported" and row["source_format"] == "trl" and row["source.train_batch_size"] == 4
    assert row["steps"] == 1 and row["status"] == "finished"
    assert not [c for c in row.index if c.startswith("metric_names")]


def test_corrupt_parquet_falls_back_to_jsonl(tmp_path):
    _run(tmp_path, "a", n=6)
    store.compact(tmp_path / "a")
    (tmp_path / "a" / store.PARQUET).write_bytes(b"PAR1 not really")
    frame = store.load_run(tmp_path / "a")
    assert len(frame) == 6 and frame["reward/mean"].iloc[-1] == 2.5
    assert store.runs_table(tmp_path).loc[0, "steps"] == 6
    assert pd.read_parquet(tmp_path / "a" / store.PARQUET).equals(frame)  # and it was compacted again
    assert not list((tmp_path / "a").glob("*.tmp"))
