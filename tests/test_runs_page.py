"""AppTest of the Runs page (app/views/runs.py) on runs written here with RunWriter.

Run: python -m pytest tests/test_runs_page.py -q
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from sims.runstore import RunWriter

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "runs.py")


def _values(v):
    # Plotly >= 6 ships numpy arrays as {"dtype": "f8", "bdata": base64}
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def _traces(at, index=0):
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return {t["name"]: _values(t["y"]) for t in spec["data"]}


def _write(root, name, scheme, seed, finish=True):
    rng = np.random.default_rng(seed)
    w = RunWriter(root, name, {"scheme": scheme, "seed": seed}, kind="bandit", unique=False)
    for step in range(100):
        w.log(step, {"reward/mean": step / 100 + rng.normal(0, 0.2), "clip/region_frac": 0.1 * seed})
    if finish:
        w.finish()
    return w


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DGPO_RUNS_DIR", str(tmp_path))
    _write(tmp_path, "ppo-s0", "ppo", 0)
    _write(tmp_path, "ppo-s1", "ppo", 1)
    _write(tmp_path, "dgpo-s0", "dgpo", 2)
    return tmp_path


def _app():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_runs_overlaid_and_smoothing_changes_the_chart(runs):
    at = _app()
    assert sorted(at.multiselect(key="runs_selected").value) == ["dgpo-s0", "ppo-s0", "ppo-s1"]
    assert at.multiselect(key="runs_metrics").value == ["reward/mean", "clip/region_frac"]
    assert len(at.get("plotly_chart")) == 2
    smoothed = _traces(at)
    assert {"ppo-s0", "ppo-s1", "dgpo-s0", "ppo-s0 raw"} <= set(smoothed)
    at.slider(key="runs_smoothing").set_value(0.0).run()
    raw = _traces(at)
    assert set(raw) == {"ppo-s0", "ppo-s1", "dgpo-s0"}  # no faint raw copy when not smoothing
    assert raw["ppo-s0"] == smoothed["ppo-s0 raw"]
    assert np.abs(np.diff(raw["ppo-s0"])).mean() > 2 * np.abs(np.diff(smoothed["ppo-s0"])).mean()


def test_group_by_scheme_draws_mean_and_band(runs):
    at = _app()
    at.slider(key="runs_smoothing").set_value(0.0)
    at.selectbox(key="runs_group").set_value("scheme").run()
    assert not at.exception
    traces = _traces(at, 1)  # clip/region_frac: constant 0.1*seed per run
    assert set(traces) == {"ppo (2 runs)", "ppo (2 runs) band", "dgpo (1 run)", "dgpo (1 run) band"}
    np.testing.assert_allclose(traces["ppo (2 runs)"], 0.05)  # mean of 0.0 and 0.1
    band = np.array(traces["ppo (2 runs) band"])  # upper then lower reversed: mean ± std = 0.1 and 0.0
    np.testing.assert_allclose(band[:100], 0.1)
    np.testing.assert_allclose(band[100:], 0.0, atol=1e-12)


def test_malformed_run_is_skipped_with_a_warning(runs):
    (runs / "ppo-s1" / "metrics.jsonl").write_text('{"step": 0, "wall_time": 1, "metrics": {}}\n{broken\n{}\n')
    at = _app()
    assert any("ppo-s1" in w.value and "line 2" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 2


def test_bad_filter_regex_is_an_error_not_a_traceback(runs):
    at = _app()
    at.text_input(key="runs_filter").set_value("ppo-(").run()
    assert not at.exception
    assert any("not a valid regular expression" in e.value for e in at.error)
    at.text_input(key="runs_filter").set_value("^ppo").run()
    assert sorted(at.multiselect(key="runs_selected").options) == ["ppo-s0", "ppo-s1"]


def test_rename_rejects_traversal_and_renames(runs):
    at = _app()
    at.selectbox(key="runs_manage_target").set_value("ppo-s0")
    at.text_input(key="runs_new_name").set_value("../../outside").run()
    at.button(key="runs_rename").click().run()
    assert any("not allowed" in e.value for e in at.error)
    assert (runs / "ppo-s0").is_dir() and not (runs.parent / "outside").exists()
    at.text_input(key="runs_new_name").set_value("ppo-seed0").run()
    at.button(key="runs_rename").click().run()
    assert not at.exception
    assert (runs / "ppo-seed0").is_dir() and not (runs / "ppo-s0").exists()
    assert any("Renamed ppo-s0 to ppo-seed0" in s.value for s in at.success)


def test_delete_asks_for_confirmation(runs):
    at = _app()
    at.selectbox(key="runs_manage_target").set_value("dgpo-s0")
    at.button(key="runs_delete").click().run()
    assert (runs / "dgpo-s0").is_dir()  # nothing deleted yet
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="runs_delete_no").click().run()
    assert (runs / "dgpo-s0").is_dir()
    at.button(key="runs_delete").click().run()
    at.button(key="runs_delete_yes").click().run()
    assert not at.exception
    assert not (runs / "dgpo-s0").exists()
    assert "dgpo-s0" not in at.multiselect(key="runs_selected").options


def test_live_run_is_read_while_written(runs):
    live = _write(runs, "live", "ppo", 3, finish=False)
    with open(live.path / "metrics.jsonl", "a") as f:
        f.write('{"step": 100, "wall')  # half-written line
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["runs_selected"] = ["live"]
    at.session_state["runs_listed"] = ["live", "dgpo-s0", "ppo-s1", "ppo-s0"]
    at.run()
    assert not at.exception
    assert at.multiselect(key="runs_selected").value == ["live"]
    assert any("refresh every 2 s" in c.value for c in at.caption)
    assert len(_traces(at)["live"]) == 100
    live.finish()


def test_empty_runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DGPO_RUNS_DIR", str(tmp_path / "nothing"))
    at = _app()
    assert any("No runs in" in i.value for i in at.info)


def test_log_toggle_and_every_axis_with_grouping(runs):
    at = _app()
    at.toggle(key="runs_log_reward/mean").set_value(True).run()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert specs[0]["layout"]["yaxis"]["type"] == "log" and specs[1]["layout"]["yaxis"]["type"] == "linear"
    at.selectbox(key="runs_group").set_value("scheme")
    for axis in ("relative", "wall", "step"):
        at.selectbox(key="runs_x").set_value(axis).run()
        assert not at.exception, axis
        assert {"ppo (2 runs)", "dgpo (1 run)"} <= set(_traces(at))


def test_export_download_offers_long_format(runs):
    at = _app()
    assert at.get("download_button"), "the export expander has a download button"
