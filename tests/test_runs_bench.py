"""bench/runs_page.py still runs (tiny sizes; the README figure comes from its default sizes).

Run: python -m pytest tests/test_runs_bench.py -q
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_and_reports_every_timing():
    cmd = [sys.executable, "bench/runs_page.py", "--runs", "2", "--metrics", "3", "--steps", "50", "--repeat", "1"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 runs x 3 metrics x 50 steps" in proc.stdout
    timings = re.findall(r"^  (.+?)\s+(\d+\.\d+) s$", proc.stdout, flags=re.M)
    assert len(timings) == 5 and all(float(t) >= 0 for _, t in timings)
