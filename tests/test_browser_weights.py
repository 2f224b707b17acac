"""Real-browser tests of the dashboard: `streamlit run` in headless Debian Chromium (fixtures in conftest.py).

Every page in the navigation must load without an exception element; pages that plot must show a Plotly chart.
The weights page is driven: moving a slider must change the plotted data. Screenshots go to artifacts/screenshots/.
Run: `python -m pytest tests/test_browser_weights.py -q`.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

# url_path of every page that draws at least one Plotly chart with its defaults (later pages add themselves here).
PLOTTING_PAGES = {""}  # "" is the default page, the gradient weights


def _nav_paths() -> list[str]:
    """url_path of every page in the entry file's PAGES: the view's file name, or "" for the default page."""
    lines = (ROOT / "app" / "streamlit_app.py").read_text().splitlines()
    pages = [(re.search(r'VIEWS / "(\w+)\.py"', line), line) for line in lines]
    return ["" if "default=True" in line else m.group(1) for m, line in pages if m]


def _chart_data(page, index: int) -> str:
    """The data of the index-th Plotly chart on the page, as JSON (what the user sees plotted)."""
    return page.evaluate(
        "i => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[i].data.map(t => [t.name, t.x, t.y]))",
        index,
    )


def test_every_page_loads_without_exception(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 3600})  # Streamlit scrolls inside a div: a tall window shows all
    paths = _nav_paths()
    assert "" in paths, f"no default page in the navigation: {paths}"
    page.goto(app_url)
    wait_for_app(page)
    links = page.eval_on_selector_all("[data-testid='stSidebarNav'] a", "els => els.map(e => e.href)")
    if len(paths) > 1:  # Streamlit hides the navigation while there is a single page
        assert sorted(h.rstrip("/").split("/")[-1] for h in links if not h.rstrip("/").endswith(app_url[7:])) == sorted(
            p for p in paths if p
        )
    for path in paths:
        page.goto(f"{app_url}/{path}")
        wait_for_app(page)
        assert page.locator("[data-testid='stException']").count() == 0, f"page /{path} shows an exception"
        assert page.get_by_text("hit an unexpected error").count() == 0, f"page /{path} failed (see server log)"
        if path in PLOTTING_PAGES:
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
            assert page.locator(".js-plotly-plot").count() >= 1
        screenshot(page, f"page_{path or 'home'}")


def test_weights_slider_changes_the_chart(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 3600})
    page.goto(f"{app_url}/")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 3
    before = _chart_data(page, 0)
    traces = {name for name, _, _ in json.loads(before)}
    assert {"PPO", "CISPO", "GPPO", "DGPO"} <= traces
    # Move DGPO's left decay exponent n one step (1.0 -> 1.25) with the keyboard, as a user would.
    thumb = page.locator("[data-testid='stSidebar'] .st-key-dgpo-n input[type='range']")
    thumb.focus()
    thumb.press("ArrowRight")
    page.wait_for_timeout(300)
    wait_for_app(page)
    page.wait_for_function(
        f"() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0].data"
        f".map(t => [t.name, t.x, t.y])) !== {json.dumps(before)}",
        timeout=30_000,
    )
    after = json.loads(_chart_data(page, 0))
    assert "DGPO (n=1.25)" in {name for name, _, _ in after}
    assert "n=1.25" in page.url  # the state went into the URL
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "weights_after_slider")


def test_weights_url_reproduces_the_view_and_bad_values_show_an_error(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{app_url}/?schemes=sapo&schemes=gppo&gppo.dual_clip=0.5&pi_old=0.001")
    wait_for_app(page)
    screenshot(page, "weights_from_url_with_error")
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    error = page.locator("[data-testid='stAlert']").filter(has_text="dual_clip must be in (1.0, inf), got 0.5")
    assert error.count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    traces = {name for name, _, _ in json.loads(_chart_data(page, 0))}
    assert traces == {"SAPO"}  # GPPO is left out until its dual_clip is fixed
    assert "π_old = 0.001" in page.locator(".js-plotly-plot").nth(1).inner_text()
    screenshot(page, "weights_from_url_with_error")


def test_weights_all_eight_schemes(page, app_url):
    import dgpo

    page.set_viewport_size({"width": 1400, "height": 4200})
    page.goto(f"{app_url}/?" + "&".join(f"schemes={n}" for n in dgpo.available_schemes()) + "&sign=A+%3E+0")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert len(json.loads(_chart_data(page, 0))) == 2 * len(dgpo.available_schemes())
    assert page.locator(".katex-display").count() == len(dgpo.available_schemes())
    screenshot(page, "weights_all_schemes")
