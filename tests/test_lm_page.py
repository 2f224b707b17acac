"""AppTest of the Small-LM lab page: renders, rejects bad input with st.error, launches a tiny run as a
subprocess and shows its curves and samples when it has finished. Run: pytest tests/test_lm_page.py -q"""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import sims.runstore
from sims.runstore import read_metrics, run_status

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "views" / "lm.py")


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setattr(sims.runstore, "DEFAULT_ROOT", tmp_path)  # the page reads it at each run
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def _number(at, label):
    return next(n for n in at.number_input if n.label == label)


def test_page_renders_with_scheme_hyperparameters(at):
    assert at.title[0].value == "Small-LM lab"
    labels = [n.label for n in at.number_input]
    assert {"dgpo: eps_low", "dgpo: eps_high", "dgpo: n", "dgpo: m"} == set(labels[:4])  # two columns
    assert "Start run" in [b.label for b in at.button]
    assert "press **Start run**" in at.info[0].value
    next(s for s in at.selectbox if s.label == "Scheme").set_value("gppo").run()
    gppo = {f"gppo: {k}" for k in ("eps_low", "eps_high", "beta1", "beta2", "dual_clip")}
    assert gppo == {n.label for n in at.number_input if n.label.startswith("gppo")}
    assert not any(n.label.startswith("dgpo") for n in at.number_input)


def test_bad_hyperparameter_is_an_error_not_a_traceback(at, tmp_path):
    _number(at, "dgpo: eps_low").set_value(1.5).run()
    next(b for b in at.button if b.label == "Start run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Cannot start:") and "eps_low" in at.error[0].value
    assert not any(tmp_path.iterdir())  # nothing launched


def test_launches_a_tiny_run_and_shows_it(at, tmp_path):
    next(s for s in at.selectbox if s.label == "Model size (layers x width)").set_value("tiny (1 x 32)")
    for label, value in [("RL steps", 3), ("SFT steps", 10), ("Group size G", 4), ("Prompts / step", 2)]:
        _number(at, label).set_value(value)
    next(s for s in at.selectbox if s.label == "Task").set_value("sort")
    at.run()
    next(b for b in at.button if b.label == "Start run").click().run()
    job = at.session_state["lm_job"]
    deadline = time.time() + 120
    while job.running and time.time() < deadline:
        time.sleep(1)
    assert job.proc.returncode == 0, job.log_path.read_text()
    at.run()
    at.run()  # the first rerun notices the end of the run and reruns the app
    assert not at.exception
    assert job.run_dir.parent == tmp_path and run_status(job.run_dir) == "finished"
    assert [r["step"] for r in read_metrics(job.run_dir)] == [1, 2, 3]
    status = " ".join(m.value for m in at.markdown)
    assert "**Finished** on **CPU** · 3/3 steps" in status
    table = at.dataframe[0].value
    assert list(table.columns) == ["step", "prompt", "completion", "correct"]
    assert set(table["correct"]) <= {True, False} and table["step"].iloc[0] == 3
    assert all(p.startswith("S") and p.endswith("=") for p in table["prompt"])


def test_training_figure_panels_and_downsampling():
    from app.charts.lm import PANELS, training_figure

    rows = [{"step": s, "metrics": {"reward/mean": s / 1000, "weight/prob_max": 10.0 + s}} for s in range(1, 1001)]
    fig = training_figure(rows, max_points=300)
    assert len(fig.data) == 2 * sum(len(series) for _, series, _ in PANELS) == 24  # raw + trailing mean
    reward, reward_mean = fig.data[0], fig.data[1]
    assert len(reward.x) <= 300 and reward.x[0] == 1 and reward.x[-1] == 1000  # newest step always drawn
    assert reward.y[-1] == 1.0
    window = len(reward.y) // 25  # the builder smooths over 1/25 of the drawn points
    assert reward_mean.y[-1] == pytest.approx(sum(reward.y[-window:]) / window)
    assert fig.layout.yaxis5.type == "log"  # max w_prob spans decades
    assert all(y is None for y in fig.data[4].y)  # a metric the rows lack is a gap, not a zero
    small = training_figure(rows[:10])
    assert list(small.data[0].x) == list(range(1, 11)) and len(small.data) == 12  # no smoothing for 10 points
