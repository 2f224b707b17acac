"""`python -m sims.bandit`: run folders, config.json reruns, Parquet per-seed values, errors, a killed run.
Run: python -m pytest tests/test_bandit_cli.py -q"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sims.bandit.__main__ import main
from sims.runstore import read_metrics, run_status

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--prompts", "4", "--arms", "6", "--group", "4", "--dim", "3", "--passes", "2", "--seeds", "3"]


def test_one_run_folder_per_scheme_with_jsonl_and_parquet(tmp_path, capsys):
    rc = main(["--scheme", "ppo,dgpo", "--steps", "4", "--out", str(tmp_path), "--eps-high", "0.28", *TINY])
    assert rc == 0
    runs = sorted(p.name for p in tmp_path.iterdir())
    assert runs == ["bandit-default-dgpo", "bandit-default-ppo"]
    for name, scheme in [("bandit-default-ppo", "ppo"), ("bandit-default-dgpo", "dgpo")]:
        run = tmp_path / name
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["kind"] == "bandit" and cfg["scheme"] == scheme and cfg["scheme_hp"]["eps_high"] == 0.28
        assert cfg["bandit"]["seeds"] == 3 and cfg["bandit"]["prompts"] == 4
        rows = read_metrics(run)
        assert [r["step"] for r in rows] == [0, 1, 2, 3]
        assert run_status(run) == "finished"
        per_seed = pd.read_parquet(run / "per_seed.parquet")
        assert len(per_seed) == 4 * 3 and sorted(per_seed["seed"].unique()) == [0, 1, 2]
        # the JSONL line is the mean over seeds of the Parquet's per-seed values
        for r in rows:
            seeds = per_seed[per_seed["step"] == r["step"]]
            for k in ["reward/mean", "entropy/mean", "weight/prob_max", "clip/low_frac", "kl/ref_k3"]:
                assert r["metrics"][k] == pytest.approx(seeds[k].mean(), rel=1e-12), k
        answers = pd.read_parquet(run / "answers.parquet")
        assert len(answers) == 4 * 3 * 6
        sums = answers.groupby(["step", "seed"])["prob"].sum()
        assert ((sums - 1).abs() < 1e-5).all()


def test_config_json_reruns_the_same_numbers(tmp_path):
    assert main(["--scheme", "gppo", "--steps", "3", "--out", str(tmp_path / "a"), "--seed", "5", *TINY]) == 0
    first = tmp_path / "a" / "bandit-default-gppo"
    assert main(["--config", str(first / "config.json"), "--out", str(tmp_path / "b")]) == 0
    again = tmp_path / "b" / "bandit-default-gppo"
    strip = [{k: v for k, v in r["metrics"].items() if k != "perf/step_s"} for r in read_metrics(first)]
    assert strip == [{k: v for k, v in r["metrics"].items() if k != "perf/step_s"} for r in read_metrics(again)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--scheme", "ppo,bogus"], "unknown scheme 'bogus'; valid schemes: pg, ppo"),
        (["--lr", "-1"], "lr must be a finite number >= 0, got -1.0"),
        (["--steps", "ten"], "argument --steps: invalid int value: 'ten'"),
        (["--preset", "easy"], "unknown preset 'easy'; valid presets: default, rare-correct"),
        (["--scheme", "ppo", "--n", "2"], "--n applies to none of ppo (only to dgpo)"),
        (["--scheme", "dgpo", "--eps-low", "1.5"], "eps_low must be in [0.0, 1.0), got 1.5"),
        (["--prompts", "6", "--minibatches", "4"], "minibatches (4) must divide prompts (6)"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, capsys):
    try:
        rc = main([*argv, "--out", str(tmp_path)])
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert err.strip().count("\n") == 0, err
    assert not any(tmp_path.iterdir())  # nothing was started


def test_cli_subprocess_help_and_error():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "sims.bandit", "--help"], capture_output=True, text=True, env=env)
    assert out.returncode == 0
    for flag in ["--scheme", "--preset", "--out", "--seeds", "--passes", "--lr", "--kl-coef", "--eps-high", "--n"]:
        assert flag in out.stdout
    bad = subprocess.run([sys.executable, "-m", "sims.bandit", "--seeds", "0"], capture_output=True, text=True, env=env)
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "python -m sims.bandit: error: seeds must be an integer >= 1, got 0"
    )


def test_killed_run_leaves_every_finished_step(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sims.bandit", "--scheme", "dgpo", "--steps", "100000", "--out", str(tmp_path), *TINY]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "bandit-default-dgpo" / "metrics.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not log.exists() or log.read_text().count("\n") < 5):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    rows = read_metrics(log.parent)
    assert len(rows) >= 5
    assert [r["step"] for r in rows] == list(range(len(rows)))
    assert all("reward/mean" in r["metrics"] and "weight/prob_max" in r["metrics"] for r in rows)
    assert run_status(log.parent) == "crashed"
