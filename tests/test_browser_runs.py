"""The Runs page in headless Chromium: two runs overlaid, the smoothing slider moved, the chart changes.

Run: python -m pytest tests/test_browser_runs.py -q
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sims.runstore import RunWriter
from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

# The traces of the first panel as plotly.js holds them (typed arrays decoded to plain lists).
TRACES_JS = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  return gd._fullData.map(t => ({name: t.name, y: Array.from(t.y).slice(0, 40)}));
}"""

TRACE_COUNT_JS = """(n) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  return !!gd && !!gd._fullData && gd._fullData.length === n;
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
    page.wait_for_function(TRACE_COUNT_JS, arg=2)

    after = page.evaluate(TRACES_JS)
    assert sorted(t["name"] for t in after) == ["brtest-a", "brtest-b"]
    smooth_a = next(t["y"] for t in before if t["name"] == "brtest-a")
    raw_a = next(t["y"] for t in after if t["name"] == "brtest-a")
    # the smoothed line of a noisy series is much less rough than the raw one
    assert np.abs(np.diff(raw_a)).mean() > 2 * np.abs(np.diff(smooth_a)).mean()
    screenshot(page, "runs_raw")

    # export: the long-format CSV of the two runs and both metrics, generated on click
    page.get_by_text("Export selection").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = pd.read_csv(download.value.path())
    assert list(exported.columns) == ["run", "step", "wall_time", "metric", "value"]
    assert len(exported) == 2 * 2 * 200 and set(exported["run"]) == {"brtest-a", "brtest-b"}
    assert (exported.query("metric == 'grad_norm' and run == 'brtest-b'")["value"] == 2.0).all()


def test_group_by_scheme_and_import_upload(app_url, page, tmp_path):
    page.goto(f"{app_url}/runs")
    wait_for_app(page)

    # a trainer_state.json upload becomes a run; TRL names are mapped to ours
    state = {"log_history": [{"step": s, "loss": 1.0 / s, "reward": s / 10} for s in range(1, 11)]}
    good = tmp_path / "trainer_state.json"
    good.write_text(json.dumps(state))
    page.get_by_text("Import a TRL, verl or TensorBoard log").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(good))
    wait_for_app(page)
    name = page.get_by_label("Run name")
    name.fill("brtest-trl")
    name.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Imported 10 steps as run").wait_for()
    assert page.get_by_text("`loss` → `loss/policy`").count() == 0  # markdown is rendered, not shown raw
    assert "loss → loss/policy" in page.locator("[data-testid='stAlert']").first.inner_text()

    # a malformed upload gives an error naming the file and the page keeps working
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"step": 1, "data": {"a": 1}}\n{"step": 2, "data": \n{"step": 3, "data": {"a": 1}}\n')
    page.get_by_role("button", name="Remove trainer_state.json").click()
    wait_for_app(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(bad))
    wait_for_app(page)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Import failed: broken.jsonl: line 2 is not valid JSON").wait_for()

    filt = page.get_by_label("Filter names (regular expression)")
    filt.fill("^brtest-[ab]$")
    filt.press("Enter")
    wait_for_app(page)
    page.get_by_label("Group by", exact=True).click()
    page.get_by_role("option", name="scheme", exact=True).click()
    wait_for_app(page)
    page.wait_for_function(TRACE_COUNT_JS, arg=4)
    names = sorted(t["name"] for t in page.evaluate(TRACES_JS))
    assert names == ["dgpo (1 run)", "dgpo (1 run) band", "ppo (1 run)", "ppo (1 run) band"]
    page.set_viewport_size({"width": 1400, "height": 1700})
    page.wait_for_timeout(500)
    screenshot(page, "runs_grouped")


def test_running_run_updates_live(app_url, page, tmp_path_factory):
    root = _runs_dir(tmp_path_factory)
    writer = RunWriter(root, "brlive", {"scheme": "ppo", "seed": 0}, kind="bandit", unique=False)
    for step in range(30):
        writer.log(step, {"reward/mean": step / 30})
    try:
        page.goto(f"{app_url}/runs")
        wait_for_app(page)
        filt = page.get_by_label("Filter names (regular expression)")
        filt.fill("^brlive$")
        filt.press("Enter")
        page.get_by_text("panels refresh every 2 s").wait_for()
        length = (
            "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0]; "
            "const t = gd && gd._fullData && gd._fullData.find(d => d.name === 'brlive'); "
            "return t ? t.x.length : -1; }"
        )
        page.wait_for_function(f"({length})() === 30")
        for step in range(30, 80):
            writer.log(step, {"reward/mean": step / 30})
        page.wait_for_function(f"({length})() === 80", timeout=20_000)  # no reload: the fragment polled
    finally:
        writer.finish()
    page.get_by_text("panels refresh every 2 s").wait_for(state="detached", timeout=20_000)  # polling stops
