"""AppTest of the gradient-weight page (app/views/weights.py): it runs the real page script without a browser.

Checks that it loads with its defaults, that a slider changes the plotted numbers to the core's values, that a bad
value is an st.error (never an exception), and that the URL query parameters reproduce a view.
Run: `python -m pytest tests/test_weights_page.py -q`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import dgpo
from app.scheme_notes import field_docs

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "weights.py")


def _run(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def _array(v) -> np.ndarray:
    """Plotly's JSON arrays: either a list or a typed array {'dtype', 'bdata' (base64)}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _trace(chart: dict, name: str, axis: str = "x") -> tuple[np.ndarray, np.ndarray]:
    (t,) = [t for t in chart["data"] if t["name"] == name and t.get("xaxis", "x") == axis]
    return _array(t["x"]), _array(t["y"])


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return _run()


def test_loads_with_defaults(default_page):
    at = default_page
    assert not at.error
    assert at.multiselect("schemes").value == ["ppo", "cispo", "gppo", "dgpo"]
    charts = _charts(at)
    assert len(charts) == 3
    names = {t["name"] for t in charts[0]["data"]}
    assert names == {"PPO", "CISPO", "GPPO", "DGPO"}
    assert len(at.dataframe) == 1  # the token table
    assert len(at.latex) == 4  # one formula per selected scheme


def test_token_panel_matches_the_reference_table(default_page):
    """Defaults pi_old = 0.01, pi = 1e-4, A < 0 (LN): w_prob from docs/schemes.md's numerical illustration."""
    table = default_page.dataframe[0].value.set_index("scheme")
    assert table.loc["PPO", "w_prob"] == 0.0
    assert table.loc["CISPO", "w_prob"] == pytest.approx(8000.0)
    assert table.loc["GPPO", "w_prob"] == pytest.approx(8000.0)
    assert table.loc["DGPO", "w_prob"] == pytest.approx(1.25)
    assert table.loc["GPPO", "vs r=1"] == pytest.approx(80.0)  # 8000 / (1 / pi_old)
    reading = default_page.markdown[1].value
    assert "CISPO and GPPO push this rare negative token 80x" in reading
    assert "DGPO 0.0125x" in reading and "PPO drops its gradient" in reading


def test_slider_changes_the_plotted_data(default_page):
    at = _run()
    r, w = _trace(_charts(at)[0], "DGPO", "x2")  # A < 0 panel
    i = int(np.argmin(np.abs(r - 0.4)))  # LN: w_log = r^(n+1) / 0.8^n
    assert w[i] == pytest.approx(0.4**2 / 0.8)
    at.slider("dgpo.n").set_value(2.0).run()
    assert not at.exception
    r2, w2 = _trace(_charts(at)[0], "DGPO (n=2)", "x2")
    assert w2[i] == pytest.approx(0.4**3 / 0.8**2)
    assert not np.allclose(w, w2)


def test_pi_old_slider_moves_the_probability_plot():
    at = _run()
    at.select_slider("pi_old").set_value(1e-3).run()
    pi, w = _trace(_charts(at)[1], "GPPO", "x2")  # A < 0
    j = int(np.argmin(np.abs(np.log(pi) - np.log(1e-6))))
    assert w[j] == pytest.approx(0.8 / pi[j])  # LN: w_prob = (1 - eps_low) / pi
    inside = int(np.argmin(np.abs(pi - 1e-3)))
    assert w[inside] == pytest.approx(1e3)  # IN: 1 / pi_old


def test_invalid_value_shows_the_core_message_not_a_traceback():
    at = _run()
    at.number_input("ppo.dual_clip").set_value(0.5).run()
    assert not at.exception
    assert len(at.error) == 1
    msg = at.error[0].value
    assert "dual_clip must be in (1.0, inf), got 0.5" in msg and "sidebar" in msg
    assert "PPO" not in {t["name"] for t in _charts(at)[0]["data"]}  # left out until fixed
    at.number_input("ppo.dual_clip").set_value(3.0).run()
    assert not at.error
    assert "PPO (dual_clip=3)" in {t["name"] for t in _charts(at)[0]["data"]}


def test_no_scheme_selected_is_a_hint_not_an_error():
    at = _run()
    at.multiselect("schemes").set_value([]).run()
    assert not at.exception and not at.error
    assert "Pick at least one scheme" in at.info[0].value
    assert not at.get("plotly_chart")


def test_every_widget_is_bound_to_a_query_parameter(default_page):
    widgets = [*default_page.slider, *default_page.select_slider, *default_page.multiselect]
    widgets += [*default_page.number_input, *default_page.checkbox, *default_page.selectbox]
    assert len(widgets) >= 15
    for w in widgets:
        assert w.proto.query_param_key == w.key, f"{w.key} is not in the URL"


def test_query_parameters_round_trip():
    """A view set by hand and the same view loaded from its URL parameters plot the same numbers."""
    by_hand = _run()
    by_hand.multiselect("schemes").set_value(["gppo", "sapo", "dgpo"]).run()
    by_hand.slider("dgpo.m").set_value(4.0).run()
    by_hand.slider("gppo.beta1").set_value(0.75).run()
    by_hand.select_slider("pi_old").set_value(1e-3).run()
    by_hand.select_slider("pi").set_value(1e-6).run()
    by_hand.segmented_control("sign").set_value(1).run()
    by_hand.selectbox("heat").set_value("gppo").run()
    # Options travel as their displayed labels (format_func), as the browser writes them into the URL.
    params = {
        "schemes": ["gppo", "sapo", "dgpo"],
        "dgpo.m": "4.0",
        "gppo.beta1": "0.75",
        "pi_old": "0.001",
        "pi": "1e-06",
        "sign": "A > 0",
        "heat": "GPPO",
    }
    from_url = _run(**params)
    assert from_url.slider("dgpo.m").value == 4.0
    assert from_url.select_slider("pi").value == 1e-6
    assert _charts(from_url) == _charts(by_hand)
    assert from_url.dataframe[0].value.equals(by_hand.dataframe[0].value)


def test_bad_url_values_are_ignored_not_fatal():
    at = _run(**{"dgpo.n": "banana", "pi_old": "7", "schemes": ["dgpo", "nope"]})
    assert not at.exception
    assert at.slider("dgpo.n").value == 1.0  # default
    assert at.select_slider("pi_old").value == 0.01


def test_shell_runs_the_default_page():
    at = AppTest.from_file(str(Path(PAGE).parents[1] / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Gradient weights"
    assert "DGPO Lab" in at.sidebar.caption[0].value


def test_shell_turns_a_page_bug_into_an_error_message(tmp_path):
    """No traceback reaches the page: the entry file catches a page's exception and shows an st.error."""
    (tmp_path / "boom.py").write_text("raise RuntimeError('kaboom')\n")
    entry = (Path(PAGE).parents[1] / "streamlit_app.py").read_text()
    assert 'VIEWS / "weights.py"' in entry
    views = Path(PAGE).resolve().parent
    entry = entry.replace('Path(__file__).parent / "views"', f"Path({str(views)!r})")  # from_string runs elsewhere
    at = AppTest.from_string(entry.replace('VIEWS / "weights.py"', repr(str(tmp_path / "boom.py"))), default_timeout=60)
    at.run()
    assert not at.exception
    assert "hit an unexpected error: RuntimeError: kaboom" in at.error[0].value


def test_widget_help_is_the_core_field_docstring(default_page):
    for name in dgpo.available_schemes():
        assert set(field_docs(name)) == set(dgpo.hyperparameters(name)), name
    assert field_docs("dgpo")["n"] == "Left decay exponent: w_prob ∝ pi^n at LN (official dgpo_n)."
    assert default_page.slider("dgpo.n").help == field_docs("dgpo")["n"]
    assert default_page.number_input("ppo.dual_clip").help.startswith("Dual-clip constant c > 1")
