"""The small-LM RL loop on a minuscule CPU config: metrics, warm-start cache, local model dirs, resume, CLI errors.

Run: pytest tests/test_lm_train.py -q   (each run is a few optimizer steps of a 1-layer, width-32 model)
"""

import json
import math
import shutil

import pytest
import torch

from sims.lm import LMConfig, train
from sims.lm.__main__ import main
from sims.lm.model import build_model
from sims.lm.tokenizer import char_tokenizer
from sims.lm.train import greedy_accuracy
from sims.runstore import read_metrics, run_status

# 60 warm-start steps make 1-digit addition right now and then, so groups have reward variance and gradients
TINY = dict(task="addition", difficulty=1, layers=1, width=32, heads=2, sft_steps=60, sft_lr=1e-2, sft_batch=16,
            prompts_per_step=4, group_size=4, minibatches=2, passes=2, eval_prompts=8, steps=3, save_every=2,
            lr=1e-3, samples_per_step=2)  # fmt: skip
DOCUMENTED = {
    "reward/mean", "reward/std", "reward/accuracy", "reward/frac_zero_std", "entropy/mean", "kl/old_new_k1",
    "kl/old_new_k3", "kl/ref_k3", "clip/low_frac", "clip/high_frac", "clip/region_frac", "ratio/min", "ratio/mean",
    "ratio/max", "weight/log_mean", "weight/log_max", "weight/prob_max", "loss/policy", "grad_norm",
    "response/length_mean", "perf/step_s", "perf/tokens_per_s", "perf/gen_tokens_per_s", "perf/train_tokens_per_s",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_three_step_run_logs_finite_documented_metrics(tmp_path):
    run = train(LMConfig(**TINY), tmp_path)
    rows = read_metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert run_status(run) == "finished"
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "lm" and config["scheme"] == "dgpo" and config["device_used"] == "cpu"
    for row in rows:
        m = row["metrics"]
        assert set(m) == DOCUMENTED
        assert all(v is not None and math.isfinite(v) for v in m.values()), m
        assert m["reward/accuracy"] == m["reward/mean"]  # rewards are 0/1
        assert m["clip/region_frac"] == pytest.approx(m["clip/low_frac"] + m["clip/high_frac"])
        assert 0 <= m["clip/low_frac"] <= 1 and 0 <= m["clip/high_frac"] <= 1
        assert m["ratio/min"] <= m["ratio/mean"] + 1e-12 and m["ratio/mean"] <= m["ratio/max"] + 1e-12
        assert m["kl/old_new_k3"] >= 0 and m["kl/ref_k3"] >= 0 and m["entropy/mean"] > 0
        assert 1 <= m["response/length_mean"] <= 3  # 1-digit addition: up to 2 digits + EOS
    # step 1 samples from the reference policy itself, so its KL to the reference is exactly 0; later it is not
    assert rows[0]["metrics"]["kl/ref_k3"] == 0.0
    assert rows[2]["metrics"]["kl/ref_k3"] > 0.0
    # some group had reward variance, and with 2 passes x 2 minibatches later updates see moved weights
    assert any(0 < r["metrics"]["reward/mean"] < 1 for r in rows)
    assert any(r["metrics"]["ratio/max"] > 1.0 > r["metrics"]["ratio/min"] for r in rows)
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert [s["step"] for s in samples] == [1, 1, 2, 2, 3, 3]  # first completion of each of the 2 prompts
    from sims.lm.tasks import Task

    assert all(Task("addition", 1).reward(s["prompt"], s["completion"]) == s["reward"] for s in samples)
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-000002", "checkpoint-000003"]
    summary = json.loads((run / "summary.json").read_text())
    assert 0 <= summary["eval_accuracy_before"] <= 1 and 0 <= summary["eval_accuracy_after"] <= 1


def test_one_pass_one_minibatch_is_on_policy_so_nothing_clips(tmp_path):
    run = train(LMConfig(**{**TINY, "passes": 1, "minibatches": 1, "scheme": "ppo", "steps": 2}), tmp_path)
    for row in read_metrics(run):
        m = row["metrics"]
        assert m["ratio/min"] == pytest.approx(1.0, abs=1e-6) and m["ratio/max"] == pytest.approx(1.0, abs=1e-6)
        assert m["clip/region_frac"] == 0.0


def test_warm_start_cache_is_reused(tmp_path):
    first = json.loads((train(LMConfig(**{**TINY, "eval_prompts": 0}), tmp_path) / "summary.json").read_text())
    second = json.loads((train(LMConfig(**{**TINY, "eval_prompts": 0}), tmp_path) / "summary.json").read_text())
    other = json.loads(
        (train(LMConfig(**{**TINY, "seed": 1, "eval_prompts": 0}), tmp_path) / "summary.json").read_text()
    )
    assert (first["warm_start_reused"], second["warm_start_reused"], other["warm_start_reused"]) == (False, True, False)
    assert first["warm_start_cache"] == second["warm_start_cache"] != other["warm_start_cache"]
    assert len(list((tmp_path / ".lm-cache").iterdir())) == 2


def test_local_model_directory_is_loaded(tmp_path):
    tok = char_tokenizer()
    model = build_model(tok, family="llama", layers=1, width=32, heads=2, seed=7).eval()
    model.save_pretrained(tmp_path / "tiny")
    tok.save_pretrained(tmp_path / "tiny")
    from sims.lm.tasks import Task

    expected = greedy_accuracy(model, tok, Task("addition", 1), 8, seed=0)
    run = train(LMConfig(**{**TINY, "steps": 1}, model_dir=str(tmp_path / "tiny")), tmp_path / "runs")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["model_dir"] == str(tmp_path / "tiny") and "warm_start_cache" not in summary
    assert summary["eval_accuracy_before"] == expected
    assert not (tmp_path / "runs" / ".lm-cache").exists()  # no warm start was trained
    assert read_metrics(run)[0]["metrics"]["kl/ref_k3"] == 0.0


def _strip(rows):
    return [(r["step"], {k: v for k, v in r["metrics"].items() if not k.startswith("perf/")}) for r in rows]


def test_resume_gives_the_same_metrics_as_an_uninterrupted_run(tmp_path):
    full = train(LMConfig(**{**TINY, "steps": 4}), tmp_path, name="full")
    killed = train(LMConfig(**{**TINY, "steps": 3}), tmp_path, name="killed")
    # simulate a kill after step 3 was logged but before its checkpoint landed
    shutil.rmtree(killed / "checkpoint-000003")
    assert main(["--resume", str(killed), "--steps", "4", "--quiet"]) == 0
    assert _strip(read_metrics(killed)) == _strip(read_metrics(full))
    samples = [json.loads(line)["step"] for line in (killed / "samples.jsonl").read_text().splitlines()]
    assert samples == [1, 1, 2, 2, 3, 3, 4, 4]  # step 3 was trimmed and logged again, once
    assert run_status(killed) == "finished"
    assert json.loads((killed / "summary.json").read_text())["warm_start_reused"]  # from tmp_path/.lm-cache


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "steps must be >= 1, got 0"),
        (["--scheme", "nope"], "unknown scheme"),
        (["--hp", "eps_high"], "expected NAME=VALUE"),
        (["--hp", "eps_high=wide"], "'wide' is not a number"),
        (["--group-size", "1"], "group_size must be >= 2"),
        (["--width", "30", "--heads", "4"], "heads (4) must divide width (30)"),
        (["--model", "/no/such/dir"], "no such model directory"),
        (["--resume", "/no/such/run"], "not a run folder"),
    ],
)
def test_cli_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sims.lm: error:") and message in err and "\n" not in err


def test_cli_cuda_without_a_gpu(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same answer on a GPU machine
    assert main(["--device", "cuda", "--out", str(tmp_path), "--quiet", *_tiny_flags()]) == 2
    assert "CUDA is not available on this machine; use --device cpu" in capsys.readouterr().err


def test_cli_bad_flag_value_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--steps", "many"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid int value: 'many'" in err and "\n" not in err


def test_cli_tokenizer_that_cannot_encode_the_task(tmp_path, capsys):
    tok = char_tokenizer(alphabet="0123456789+=")
    build_model(tok, family="qwen2", layers=1, width=32, heads=2, seed=0).save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    assert main(["--model", str(tmp_path / "m"), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "cannot encode the task characters" in capsys.readouterr().err


def test_cli_model_directory_without_a_tokenizer(tmp_path, capsys):
    build_model(char_tokenizer(), family="qwen2", layers=1, width=32, heads=2, seed=0).save_pretrained(tmp_path / "m")
    assert main(["--model", str(tmp_path / "m"), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "no tokenizer saved there; save one with tokenizer.save_pretrained" in capsys.readouterr().err


def test_cli_resume_refuses_new_config_flags(tmp_path, capsys):
    run = train(LMConfig(**{**TINY, "steps": 2, "eval_prompts": 0}), tmp_path)
    assert main(["--resume", str(run), "--scheme", "ppo", "--quiet"]) == 2
    assert "drop --scheme" in capsys.readouterr().err


def _tiny_flags():
    return [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
