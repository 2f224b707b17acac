"""Aggregation modes against hand-written loops; advantage estimators loop-vs-vectorized and literal."""

from __future__ import annotations

import pytest
import torch

import dgpo


def _loop_aggregate(loss, mask, agg):
    rows = [(loss[i][mask[i] > 0].tolist()) for i in range(loss.shape[0])]
    if agg == "token-mean":
        flat = [v for row in rows for v in row]
        return sum(flat) / len(flat)
    seqs = [row for row in rows if row]
    if agg == "seq-mean-token-mean":
        return sum(sum(r) / len(r) for r in seqs) / len(seqs)
    if agg == "seq-mean-token-sum":
        return sum(sum(r) for r in seqs) / len(seqs)
    if agg == "seq-mean-token-sum-norm":
        return sum(sum(r) for r in rows) / (loss.shape[0] * loss.shape[1])
    raise KeyError(agg)


@pytest.mark.parametrize("agg", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"])
def test_aggregation_matches_loop_with_an_empty_row(agg):
    gen = torch.Generator().manual_seed(3)
    loss = torch.randn(5, 7, generator=gen, dtype=torch.float64)
    mask = (torch.rand(5, 7, generator=gen) > 0.4).double()
    mask[2] = 0  # a fully masked sequence
    assert float(dgpo.aggregate(loss, mask, agg)) == pytest.approx(_loop_aggregate(loss, mask, agg), rel=1e-12)


def test_aggregation_literal_values():
    loss = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    assert float(dgpo.aggregate(loss, mask, "token-mean")) == pytest.approx(10 / 4)
    assert float(dgpo.aggregate(loss, mask, "seq-mean-token-mean")) == pytest.approx((2 + 4) / 2)
    assert float(dgpo.aggregate(loss, mask, "seq-mean-token-sum")) == pytest.approx((6 + 4) / 2)
    assert float(dgpo.aggregate(loss, mask, "seq-mean-token-sum-norm")) == pytest.approx(10 / 6)


def test_token_mean_of_huge_values_does_not_overflow_float32():
    loss = torch.full((4096,), 3e37)
    assert float(dgpo.aggregate(loss, torch.ones(4096))) == pytest.approx(3e37, rel=1e-5)


def _loop_advantages(rewards, estimator, eps=1e-6):
    out = []
    for row in rewards.tolist():
        g = len(row)
        mean = sum(row) / g
        if all(v == row[0] for v in row):
            out.append([0.0] * g)
        elif estimator == "grpo":
            std = (sum((v - mean) ** 2 for v in row) / (g - 1)) ** 0.5
            out.append([(v - mean) / (std + eps) for v in row])
        elif estimator == "drgrpo":
            out.append([v - mean for v in row])
        else:
            out.append([v - (sum(row) - v) / (g - 1) for v in row])
    return out


@pytest.mark.parametrize("estimator", ["grpo", "drgrpo", "rloo"])
@pytest.mark.parametrize("groups,g", [(1, 2), (6, 4), (9, 16)])
def test_advantages_loop_vs_vectorized(estimator, groups, g):
    gen = torch.Generator().manual_seed(groups * 100 + g)
    rewards = (torch.rand(groups, g, generator=gen, dtype=torch.float64) > 0.5).double()
    rewards[0] = 1.0  # a zero-variance group
    got = dgpo.group_advantages(rewards, estimator=estimator)
    want = _loop_advantages(rewards, estimator)
    for got_row, want_row in zip(got.tolist(), want, strict=True):
        assert got_row == pytest.approx(want_row, rel=1e-12, abs=1e-15)
    assert got[0].tolist() == [0.0] * g


def test_zero_variance_groups_are_exactly_zero_not_nan():
    rewards = torch.tensor([[0.1, 0.1, 0.1], [0.7, 0.7, 0.7], [0.0, 1.0, 1.0]])
    adv = dgpo.group_advantages(rewards)
    assert adv[:2].tolist() == [[0.0] * 3] * 2
    # literal z-score: mean 2/3, unbiased std sqrt(1/3)
    s = (1 / 3) ** 0.5
    assert adv[2].tolist() == pytest.approx([(-2 / 3) / (s + 1e-6), (1 / 3) / (s + 1e-6), (1 / 3) / (s + 1e-6)])
