"""The page's subprocess handle: flags round-trip, Stop ends a live run within a second as "stopped",
a failing run reports the CLI's one-line reason. Run: pytest tests/test_lm_job.py -q"""

import time

from sims.lm import LMConfig
from sims.lm.__main__ import build_parser, config_from_args
from sims.lm.job import cli_args, launch, lm_runs, read_rows, read_samples
from sims.runstore import run_status


def test_cli_args_round_trip():
    cfg = LMConfig(task="countdown", difficulty=3, scheme="gppo", scheme_hp=(("beta1", 0.5), ("dual_clip", None)),
                   steps=7, lr=1e-4, width=64, kl_coef=0.05, device="cpu", model_dir="/some/dir")  # fmt: skip
    args = cli_args(cfg)
    assert "--task=countdown" in args and "--hp=dual_clip=none" in args and "--model=/some/dir" in args
    assert "--passes=2" not in args  # defaults are left out
    assert config_from_args(build_parser().parse_args(args)) == cfg


def test_stop_ends_a_live_run_within_a_second(tmp_path):
    cfg = LMConfig(task="addition", difficulty=1, layers=1, width=32, heads=2, sft_steps=5, sft_batch=8,
                   prompts_per_step=2, group_size=4, steps=100_000, eval_prompts=0, save_every=10**6)  # fmt: skip
    job = launch(cfg, tmp_path, name="stop-me")
    deadline = time.time() + 120
    while len(read_rows(job.run_dir)) < 3 and time.time() < deadline:
        assert job.running, job.log_path.read_text()
        time.sleep(0.2)
    t0 = time.time()
    job.stop()
    assert time.time() - t0 < 1.2 and not job.running
    assert run_status(job.run_dir) == "stopped"  # SIGTERM closed the run; it did not need SIGKILL
    assert job.error() is None
    rows = read_rows(job.run_dir)
    assert [r["step"] for r in rows] == list(range(1, len(rows) + 1))  # whole lines only
    assert read_samples(job.run_dir, last=3)[0]["step"] == rows[-1]["step"]  # newest first
    assert lm_runs(tmp_path) == [job.run_dir]


def test_a_failing_run_reports_its_one_line_reason(tmp_path):
    job = launch(LMConfig(model_dir=str(tmp_path / "missing")), tmp_path)
    job.proc.wait(timeout=120)
    assert job.proc.returncode == 2
    assert job.error().startswith("sims.lm: error: --model") and "no such model directory" in job.error()
