"""AppTest of the bandit page: run to the end, stop mid-way, bad input.
Run: python -m pytest tests/test_bandit_page.py -q"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sims.runstore import read_metrics, run_status

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "bandit.py")


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv("DGPO_RUNS_DIR", str(tmp_path))
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def _set(at: AppTest, preset: str, **values) -> None:
    for name, v in values.items():
        at.number_input(key=f"bandit_{preset}_{name}").set_value(v)


def _poll(at: AppTest, until, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if until():
            return
        time.sleep(0.2)
    raise AssertionError("the page did not reach the expected state in time")


def test_run_to_the_end_saves_the_runs(at, tmp_path):
    _set(at, "rare-correct", steps=4, seeds=3)
    at.multiselect(key="bandit_schemes").set_value(["ppo", "dgpo"])
    at.button(key="bandit_run").click().run()
    assert not at.exception
    job = at.session_state["bandit_job"]
    job.join(timeout=60)
    _poll(at, lambda: any("Saved 2 runs" in s.value for s in at.success))
    assert not at.error
    runs = sorted(p.name for p in tmp_path.iterdir())
    assert runs == ["bandit-ui-rare-correct-dgpo", "bandit-ui-rare-correct-ppo"]
    for name in runs:
        assert [r["step"] for r in read_metrics(tmp_path / name)] == [0, 1, 2, 3]
        assert run_status(tmp_path / name) == "finished"
    assert len(at.get("plotly_chart")) == 2  # metrics grid and per-answer view
    assert "Finished: step 4 / 4" in at.get("progress")[0].proto.text


def test_stop_ends_the_run_early(at, tmp_path):
    _set(at, "rare-correct", steps=100000, seeds=2)
    at.button(key="bandit_run").click().run()
    job = at.session_state["bandit_job"]
    deadline = time.time() + 60
    while job.snapshot().steps_done < 2 and time.time() < deadline:
        time.sleep(0.1)
    at.run()
    at.button(key="bandit_stop").click().run()
    at_click = job.snapshot().steps_done
    job.join(timeout=10)
    assert not job.running
    # the stop lands before the next step: only the step in flight (~0.1 s here) may still complete
    assert job.snapshot().steps_done <= at_click + 1
    _poll(at, lambda: any("Stopped" in s.value for s in at.success))
    snap = job.snapshot()
    assert snap.state == "stopped" and 2 <= snap.steps_done < 100000
    for path in snap.paths:
        assert run_status(path) == "stopped"
        # lockstep: a stop between two schemes' steps leaves them at most one step apart
        assert snap.steps_done <= len(read_metrics(path)) <= snap.steps_done + 1


def test_bad_settings_show_an_error_not_a_traceback(at, tmp_path):
    _set(at, "rare-correct", minibatches=3)  # 8 prompts do not split into 3 minibatches
    at.button(key="bandit_run").click().run()
    assert not at.exception
    assert "minibatches (3) must divide prompts (8)" in at.error[0].value
    assert "bandit_job" not in at.session_state
    at.multiselect(key="bandit_schemes").set_value([])
    _set(at, "rare-correct", minibatches=2)
    at.button(key="bandit_run").click().run()
    assert "pick at least one scheme" in at.error[0].value
    assert not any(tmp_path.iterdir())


def test_one_pass_warns_that_schemes_coincide(at):
    _set(at, "rare-correct", passes=1, minibatches=1)
    at.run()
    assert any("r == 1 on every token" in w.value for w in at.warning)
