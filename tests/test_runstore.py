"""The run store: append-only flushed JSONL, crash-tolerant reading, safe names, crashed-run detection."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sims.runstore import RunWriter, list_runs, read_metrics, run_status, safe_name


def test_write_then_read_round_trip(tmp_path):
    with RunWriter(tmp_path, "bandit ppo", {"scheme": "ppo", "lr": 0.1}, kind="bandit") as w:
        for step in range(3):
            w.log(step, {"reward/mean": step / 2, "weight/prob_max": float("inf")})
    assert w.name == "bandit-ppo"
    config = json.loads((w.path / "config.json").read_text())
    assert config == {"kind": "bandit", "scheme": "ppo", "lr": 0.1}
    rows = read_metrics(w.path)
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert [r["metrics"]["reward/mean"] for r in rows] == [0.0, 0.5, 1.0]
    assert rows[0]["metrics"]["weight/prob_max"] is None  # non-finite -> null (strict JSON)
    assert run_status(w.path) == "finished"
    assert list_runs(tmp_path) == [w.path]


def test_names_are_unique_and_sanitised(tmp_path):
    a = RunWriter(tmp_path, "x", {}, kind="t")
    b = RunWriter(tmp_path, "x", {}, kind="t")
    assert (a.name, b.name) == ("x", "x-2")
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("a/b\\c") == "a-b-c"
    for bad in ("..", "/", "   "):
        with pytest.raises(ValueError, match="no usable characters"):
            safe_name(bad)
    c = RunWriter(tmp_path, "../escape", {}, kind="t")
    assert c.path.parent == tmp_path


def test_killed_writer_leaves_every_finished_step(tmp_path):
    """A writer process killed mid-run: every logged step is on disk and the run reads as crashed."""
    code = (
        "import os, sys; from sims.runstore import RunWriter\n"
        f"w = RunWriter({str(tmp_path)!r}, 'k', {{}}, kind='t')\n"
        "for s in range(5): w.log(s, {'m': s})\n"
        'w._file.write(\'{"step": 5, "wall\'); w._file.flush()\n'  # a half-written line
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    run = tmp_path / "k"
    assert [r["step"] for r in read_metrics(run)] == [0, 1, 2, 3, 4]
    assert run_status(run) == "crashed"


def test_malformed_line_in_the_middle_is_reported_with_its_line(tmp_path):
    f = tmp_path / "metrics.jsonl"
    f.write_text('{"step": 0, "wall_time": 1, "metrics": {}}\nnot json\n{"step": 2, "wall_time": 1, "metrics": {}}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl: line 2 is not a metrics row"):
        read_metrics(f)
