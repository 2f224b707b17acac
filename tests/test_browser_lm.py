"""The Small-LM lab in headless Chromium: start a tiny run, watch the live charts update, Stop it within a
second, and find it stopped in the run list. Screenshots: artifacts/screenshots/lm_*.png.
Run: pytest tests/test_browser_lm.py -q"""

import re
import time

import pytest

from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _set_number(page, label, value):
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def test_lm_page_live_run_and_stop(page, app_url):
    page.goto(f"{app_url}/lm")
    wait_for_app(page)
    screenshot(page, "lm_empty")
    assert page.get_by_role("heading", name="Small-LM lab").is_visible()

    size = page.get_by_label("Model size (layers x width)")
    size.scroll_into_view_if_needed()  # the sidebar holds the navigation too: a click mid-scroll opens nothing
    page.wait_for_timeout(300)
    size.click()
    page.get_by_role("option", name="tiny (1 x 32)").click()
    wait_for_app(page)
    for label, value in [("RL steps", 400), ("SFT steps", 20), ("Group size G", 4), ("Prompts / step", 4)]:
        _set_number(page, label, value)
    page.get_by_role("button", name="Start run").click()

    # live: the progress text counts steps up and the curves are drawn while the subprocess runs
    progress = page.get_by_text(re.compile(r"Running on \*?\*?CPU|Running on CPU"))
    progress.wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    first = int(re.search(r"step (\d+)/400", page.get_by_text(re.compile(r"step \d+/400")).inner_text()).group(1))
    page.wait_for_timeout(3000)
    later = int(re.search(r"step (\d+)/400", page.get_by_text(re.compile(r"step \d+/400")).inner_text()).group(1))
    assert later > first  # the page refreshed by itself
    assert page.get_by_text("Recent samples").is_visible()
    screenshot(page, "lm_running")

    t0 = time.time()
    page.locator(".st-key-lm-stop button").click()  # (the header has its own "Stop" while a script runs)
    page.get_by_text(re.compile(r"Stopped on CPU")).wait_for(timeout=15_000)
    assert time.time() - t0 < 10  # Stop itself waits at most 1 s for the process; the rest is the page redraw
    wait_for_app(page)
    assert page.get_by_role("button", name="Start run").is_enabled()
    screenshot(page, "lm_stopped")
