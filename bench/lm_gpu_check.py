"""The CUDA path of the LM lab (bf16 autocast), checked on a GPU machine (not part of `make test`, which is CPU-only):

PYTHONPATH=. .venv/bin/python -m pytest bench/lm_gpu_check.py -q
"""

import json
import math

import pytest
import torch

from sims.lm import LMConfig, train
from sims.runstore import read_metrics
from tests.test_lm_train import TINY


def test_cuda_run_is_finite_and_close_to_cpu(tmp_path):
    assert torch.cuda.is_available(), "this check needs a CUDA GPU; on CPU-only machines run `make test` instead"
    cuda = train(LMConfig(**{**TINY, "device": "cuda"}), tmp_path, name="cuda")
    cpu = train(LMConfig(**{**TINY, "device": "cpu"}), tmp_path, name="cpu")
    assert json.loads((cuda / "config.json").read_text())["device_used"] == "cuda"
    rows_gpu, rows_cpu = read_metrics(cuda), read_metrics(cpu)
    assert all(v is not None and math.isfinite(v) for r in rows_gpu for v in r["metrics"].values())
    # the CPU run reuses the warm start the CUDA run cached (same key), so step 1 starts from the same weights;
    # it samples with the same CPU generator from probabilities that differ only by bf16 rounding
    h_gpu, h_cpu = rows_gpu[0]["metrics"]["entropy/mean"], rows_cpu[0]["metrics"]["entropy/mean"]
    assert h_gpu == pytest.approx(h_cpu, rel=0.05)
    assert json.loads((cpu / "summary.json").read_text())["warm_start_reused"]
