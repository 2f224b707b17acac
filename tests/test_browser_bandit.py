"""The bandit page in headless Chromium: a live run redraws and finishes; two tabs run separate jobs; Stop.
Screenshots: artifacts/screenshots/bandit_*.png.  Run: python -m pytest tests/test_browser_bandit.py -q"""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _open(browser, app_url, height: int = 1000):
    context = browser.new_context(viewport={"width": 1400, "height": height})  # tall: Streamlit scrolls inside
    page = context.new_page()
    page.goto(f"{app_url}/bandit")
    wait_for_app(page)
    return context, page


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(700)


def _progress_step(page) -> int:
    text = page.get_by_text(re.compile(r"step \d+ / \d+")).first.inner_text()
    return int(re.search(r"step (\d+) /", text).group(1))


def test_live_run_redraws_and_finishes(browser, app_url):
    context, page = _open(browser, app_url, height=1900)
    try:
        assert page.get_by_text("Pick a preset and schemes, then press Run.").is_visible()
        screenshot(page, "bandit_initial")
        _set_number(page, "steps", 40)
        page.get_by_role("button", name="Run").click()
        # the poll redraws the progress line (its elapsed time) at least once a second, even inside one step
        progress = page.locator("[data-testid='stProgress']")
        progress.get_by_text(re.compile(r"Running: step \d+ / 40")).wait_for(timeout=30_000)
        first = progress.inner_text()
        page.wait_for_timeout(1200)
        assert progress.inner_text() != first, "the live view did not redraw within 1.2 s"
        # and the steps advance (the first one pays torch's one-time warm-up, slow on a loaded machine)
        progress.get_by_text(re.compile(r"step ([3-9]|\d\d) / 40")).wait_for(timeout=90_000)
        screenshot(page, "bandit_running")
        page.get_by_text(re.compile(r"Saved 3 runs")).wait_for(timeout=120_000)
        assert page.locator("[data-testid='stPlotlyChart']").count() == 2
        assert not page.locator("[data-testid='stException']").count()
        page.wait_for_timeout(800)
        screenshot(page, "bandit_finished")
    finally:
        context.close()


def test_two_tabs_run_their_own_jobs_and_stop_is_quick(browser, app_url):
    ctx_a, tab_a = _open(browser, app_url)
    ctx_b, tab_b = _open(browser, app_url)
    try:
        _set_number(tab_a, "steps", 100000)
        tab_a.get_by_role("button", name="Run").click()
        tab_a.get_by_text(re.compile(r"Running: step \d+ / 100000")).wait_for(timeout=30_000)
        _set_number(tab_b, "steps", 10)
        _set_number(tab_b, "seeds", 4)
        tab_b.get_by_role("button", name="Run").click()
        tab_b.get_by_text(re.compile(r"Saved 3 runs")).wait_for(timeout=120_000)
        assert _progress_step(tab_b) == 10
        assert tab_a.get_by_text(re.compile(r"Running: step \d+ / 100000")).is_visible()  # A still runs
        # exact: Streamlit's own status bar shows a "Stop" button while a script runs
        tab_a.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
        t0 = time.time()
        tab_a.get_by_text(re.compile(r"Stopped: step \d+ / 100000")).wait_for(timeout=10_000)
        elapsed = time.time() - t0
        stopped_at = _progress_step(tab_a)
        tab_a.wait_for_timeout(1500)
        assert _progress_step(tab_a) == stopped_at  # nothing advances after the stop
        print(f"stop shown after {elapsed:.2f} s")
        assert elapsed < 5.0, f"stop took {elapsed:.1f} s to show"  # ~1-3 s measured on 2 loaded cores
        screenshot(tab_a, "bandit_stopped")
    finally:
        ctx_a.close()
        ctx_b.close()
