"""Importers of verl JSONL, HF/TRL trainer_state.json and TensorBoard event files, on logs written here.

Run: python -m pytest tests/test_runs_importers.py -q
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sims.runs import importers, map_names, parse_path


def _verl_lines(n=5):
    return [
        json.dumps(
            {
                "step": s,
                "data": {
                    "actor/pg_clipfrac": 0.1 * s,
                    "actor/ppo_kl": 0.01 * s,
                    "actor/pg_clipfrac_lower": 0.5,  # dual-clip zone: not our clip/low_frac, kept as is
                    "critic/score/mean": float(s),
                    "timing_s/gen": 2.0,
                    "note": "text is skipped",
                },
            }
        )
        for s in range(1, n + 1)
    ]


def test_verl_jsonl_maps_names_and_keeps_the_rest(tmp_path):
    path = tmp_path / "exp.jsonl"
    path.write_text("\n".join(_verl_lines()) + "\n")
    imp = parse_path(path)
    assert imp.source == "verl"
    frame = imp.frame
    assert list(frame["step"]) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(frame["clip/region_frac"], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(frame["kl/old_new_k1"], [0.01, 0.02, 0.03, 0.04, 0.05])
    np.testing.assert_allclose(frame["reward/mean"], [1, 2, 3, 4, 5])
    assert "actor/pg_clipfrac_lower" in frame and "clip/low_frac" not in frame
    assert "timing_s/gen" in frame and "note" not in frame
    assert frame["wall_time"].isna().all()
    assert imp.renamed["clip/region_frac"] == "actor/pg_clipfrac"
    assert any("skipped 5 non-numeric" in w for w in imp.warnings)


def test_verl_jsonl_truncated_last_line_is_a_warning_naming_file_and_line(tmp_path):
    lines = _verl_lines(4)
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])  # the writer died mid-line 4
    imp = parse_path(path)
    assert list(imp.frame["step"]) == [1, 2, 3]
    assert any(str(path) in w and "line 4 is truncated" in w for w in imp.warnings)


def test_verl_jsonl_malformed_middle_line_is_an_error_naming_file_and_line(tmp_path):
    lines = _verl_lines(4)
    lines[1] = lines[1][:-3]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl: line 2 is not valid JSON"):
        parse_path(path)
    path.write_text('{"step": 1, "data": {"a": 1}}\n{"step": 2, "metrics": {"a": 1}}\n')
    with pytest.raises(ValueError, match=r"line 2 is not a verl file-logger row"):
        parse_path(path, "verl")
    path.write_text('{"step": "two", "data": {"a": 1}}\n')
    with pytest.raises(ValueError, match=r"line 1 has a non-integer step 'two'"):
        parse_path(path, "verl")


def _trainer_state():
    return {
        "global_step": 4,
        "train_batch_size": 8,
        "log_history": [
            {"step": 2, "loss": 0.5, "reward": 0.25, "clip_ratio/region_mean": 0.0, "learning_rate": 1e-6},
            {"step": 2, "eval_loss": 0.7},  # eval entry at the same step: merged
            {"step": 4, "loss": 0.25, "reward": 0.75, "clip_ratio/region_mean": 0.125, "kl": 0.01},
            {"step": 4, "train_runtime": 12.5, "train_samples_per_second": 3.0},
        ],
    }


def test_trainer_state_log_history(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(_trainer_state(), indent=2))
    imp = parse_path(tmp_path)  # the checkpoint folder works as well as the file
    assert imp.source == "trl"
    frame = imp.frame.set_index("step")
    assert list(frame.index) == [2, 4]
    assert frame.loc[2, "loss/policy"] == 0.5 and frame.loc[4, "loss/policy"] == 0.25
    assert frame.loc[4, "reward/mean"] == 0.75
    assert frame.loc[4, "clip/region_frac"] == 0.125
    assert frame.loc[4, "kl/ref_k3"] == 0.01
    assert frame.loc[2, "eval_loss"] == 0.7 and math.isnan(frame.loc[4, "eval_loss"])
    assert frame.loc[4, "train_runtime"] == 12.5
    assert imp.config == {"global_step": 4, "train_batch_size": 8}


def test_trainer_state_truncated_and_malformed(tmp_path):
    text = json.dumps(_trainer_state(), indent=2)
    path = tmp_path / "trainer_state.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"trainer_state\.json: malformed JSON at line \d+, column \d+"):
        parse_path(path)
    path.write_text(json.dumps({"global_step": 3}))
    with pytest.raises(ValueError, match="no 'log_history' list"):
        parse_path(path)
    path.write_text(json.dumps({"log_history": [{"loss": 1.0}]}))
    with pytest.raises(ValueError, match=r"log_history\[0\] has no integer 'step'"):
        parse_path(path)


def _write_events(logdir, n=12_000):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(logdir))
    for step in range(n):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
        if step % 10 == 0:
            writer.add_scalar("train/clip_ratio/high_mean", step / n, step)
            writer.add_scalar("custom/thing", 3.0, step)
    writer.close()
    (event_file,) = logdir.glob("events.out.tfevents.*")
    return event_file


@pytest.fixture(scope="module")
def event_file(tmp_path_factory):
    return _write_events(tmp_path_factory.mktemp("tb"))


def test_tensorboard_reads_every_point_and_maps_names(event_file):
    imp = parse_path(event_file.parent)
    assert imp.source == "tensorboard" and imp.warnings == []
    frame = imp.frame
    assert len(frame) == 12_000  # more than EventAccumulator's default 10,000 reservoir: nothing sampled away
    np.testing.assert_allclose(frame["loss/policy"], 1.0 / (np.arange(12_000) + 1), rtol=1e-6)  # float32 on disk
    high = frame["clip/high_frac"].dropna()
    assert len(high) == 1200 and high.iloc[-1] == pytest.approx(11_990 / 12_000, rel=1e-6)
    assert "custom/thing" in frame
    assert frame["wall_time"].notna().all() and frame["wall_time"].is_monotonic_increasing
    assert imp.renamed == {"loss/policy": "train/loss", "clip/high_frac": "train/clip_ratio/high_mean"}


def test_tensorboard_uploaded_files_and_truncation(event_file):
    data = event_file.read_bytes()
    full = importers.parse_files([("events.out.tfevents.1", data)])
    cut = importers.parse_files([("events.out.tfevents.1", data[: len(data) - 7])])  # writer killed mid-record
    assert len(cut.frame) >= len(full.frame) - 1 and cut.frame["step"].iloc[-1] >= 11_998
    assert len(cut.warnings) == 1 and "events.out.tfevents.1: record" in cut.warnings[0]
    assert "truncated" in cut.warnings[0]


def test_tensorboard_corrupt_or_foreign_files_are_errors(event_file):
    data = bytearray(event_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte in the middle
    with pytest.raises(ValueError, match=r"events\.out\.tfevents\.x: record \d+ at byte \d+ has a bad"):
        importers.parse_files([("events.out.tfevents.x", bytes(data))])
    with pytest.raises(ValueError, match="bad length checksum; this is not a TensorBoard event file"):
        importers.parse_files([("x", b"print('not executed')\n" * 4)], "tensorboard")


def test_format_detection_and_errors(tmp_path):
    assert importers.detect_format("events.out.tfevents.123.host", b"\x00") == "tensorboard"
    assert importers.detect_format("ckpt/trainer_state.json", b"{") == "trl"
    assert importers.detect_format("state.json", b'{\n  "log_history": []') == "trl"
    assert importers.detect_format("exp.jsonl", b'{"step": 1, "data": {}}') == "verl"
    with pytest.raises(ValueError, match="cannot tell the format"):
        importers.detect_format("weights.pkl", b"\x80\x04\x95")
    with pytest.raises(ValueError, match="no such file or directory"):
        parse_path(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        parse_path(tmp_path)
    with pytest.raises(ValueError, match="unknown format 'wandb'"):
        importers.parse_files([("a.jsonl", b"{}")], "wandb")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        importers.parse_files([("a.jsonl", b"\xff\xfe{")], "verl")


def test_upload_size_limit(monkeypatch):
    monkeypatch.setattr(importers, "MAX_IMPORT_BYTES", 10)
    with pytest.raises(ValueError, match=r"big\.jsonl: .* over the 0 MiB limit"):
        importers.parse_files([("big.jsonl", b"{" * 11)])


def test_name_mapping_does_not_take_a_name_twice():
    assert map_names(["loss", "loss/policy"], "trl") == {"loss": "loss", "loss/policy": "loss/policy"}
    assert map_names(["train/loss", "actor/pg_loss"], "tensorboard") == {
        "train/loss": "loss/policy",
        "actor/pg_loss": "actor/pg_loss",
    }
    with pytest.raises(ValueError, match="unknown log source"):
        map_names(["a"], "mlflow")
