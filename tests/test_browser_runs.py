"""The Runs page in headless Chromium: two runs overlaid, the smoothing slider moved, the chart changes.

Run: python -m pytest tests/test_browser_runs.py -q
"""

from __future__ import annotations

import numpy as np
import pytest

from sims.runstore import RunWriter
from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

# The traces of the first panel as plotly.js holds them (typed arrays decoded to plain lists).
TRACES_JS = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  return gd._fullData.map(t => ({name: t.name, y: Array.from(t.y).slice(0, 40)}));
}"""


def _runs_dir(tmp_path_factory):
    # app_url's streamlit was started with DGPO_RUNS_DIR=<basetemp>/browser-runs<k>; there is one per session.
    dirs = sorted(p for p in tmp_path_factory.getbasetemp().glob("browser-runs[0-9]*") if not p.is_symlink())
    assert len(dirs) == 1, dirs
    return dirs[0]


def _write_run(root, name, seed):
    rng = np.random.default_rng(seed)
    with RunWriter(root, name, {"scheme": "dgpo" if seed else "ppo", "seed": seed}, kind="bandit", unique=False) as w:
        for step in range(200):
            w.log(step, {"reward/mean": step / 200 + rng.normal(0, 0.2), "grad_norm": 1.0 + seed})


def test_two_runs_overlaid_and_smoothing_changes_chart(app_url, page, tmp_path_factory):
    root = _runs_dir(tmp_path_factory)
    _write_run(root, "brtest-a", 0)
    _write_run(root, "brtest-b", 1)

    page.goto(f"{app_url}/runs")
    wait_for_app(page)
    filt = page.get_by_label("Filter names (regular expression)")
    filt.fill("^brtest-")
    filt.press("Enter")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot")

    before = page.evaluate(TRACES_JS)
    names = {t["name"] for t in before}
    assert {"brtest-a", "brtest-b"} <= names  # both runs overlaid in the first panel
    # default smoothing 0.6: each run has a faint raw trace behind its smoothed one
    assert sum(t["name"].endswith(" raw") for t in before) == 2
    page.set_viewport_size({"width": 1400, "height": 1700})
    page.wait_for_timeout(500)
    screenshot(page, "runs_smoothed")

    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("Home")  # smoothing 0 = raw
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot')[0]._fullData.length === 2")

    after = page.evaluate(TRACES_JS)
    assert sorted(t["name"] for t in after) == ["brtest-a", "brtest-b"]
    smooth_a = next(t["y"] for t in before if t["name"] == "brtest-a")
    raw_a = next(t["y"] for t in after if t["name"] == "brtest-a")
    # the smoothed line of a noisy series is much less rough than the raw one
    assert np.abs(np.diff(raw_a)).mean() > 2 * np.abs(np.diff(smooth_a)).mean()
    screenshot(page, "runs_raw")
