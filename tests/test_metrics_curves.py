"""Metric definitions against hand counts, KL estimators against exact KL, entropy against a naive sum,
and the weight curves against the scheme they evaluate."""

from __future__ import annotations

import math

import pytest
import torch

import dgpo


def test_policy_metrics_match_hand_counts():
    #            r:   0.5 (LN)  0.5 (LP)  1.0      1.5 (HP)  1.5 (HN)  padding
    ratio = torch.tensor([[0.5, 0.5, 1.0], [1.5, 1.5, 9.0]], dtype=torch.float64)
    old = torch.log(torch.full((2, 3), 0.1, dtype=torch.float64))
    x = old + torch.log(ratio)
    adv = torch.tensor([[-1.0, 1.0, 1.0], [1.0, -1.0, 1.0]], dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    m = dgpo.policy_metrics(dgpo.make("gppo"), x, old, adv, mask)
    assert float(m["clip/low_frac"]) == pytest.approx(1 / 5)
    assert float(m["clip/high_frac"]) == pytest.approx(1 / 5)
    assert float(m["clip/region_frac"]) == pytest.approx(2 / 5)
    assert float(m["ratio/min"]) == pytest.approx(0.5)
    assert float(m["ratio/max"]) == pytest.approx(1.5)  # the padded 9.0 is ignored
    assert float(m["ratio/mean"]) == pytest.approx(5.0 / 5)
    # GPPO w_log: LN 0.8, LP 0.5, IN 1.0, HP 1.2, HN 1.5
    assert float(m["weight/log_mean"]) == pytest.approx((0.8 + 0.5 + 1.0 + 1.2 + 1.5) / 5)
    assert float(m["weight/log_max"]) == pytest.approx(1.5)
    # w_prob = w_log / pi with pi = r * 0.1: LN 0.8/0.05 = 16 is the largest
    assert float(m["weight/prob_max"]) == pytest.approx(16.0)
    k1 = [-math.log(r) for r in (0.5, 0.5, 1.0, 1.5, 1.5)]
    k3 = [r - 1 - math.log(r) for r in (0.5, 0.5, 1.0, 1.5, 1.5)]
    assert float(m["kl/old_new_k1"]) == pytest.approx(sum(k1) / 5)
    assert float(m["kl/old_new_k3"]) == pytest.approx(sum(k3) / 5)


def test_weight_prob_max_does_not_overflow_in_float32():
    x = torch.tensor([-92.0], dtype=torch.float32)
    m = dgpo.policy_metrics(dgpo.make("gppo"), x, torch.tensor([-1.0]), torch.tensor([-1.0]))
    assert math.isfinite(float(m["weight/prob_max"])) and float(m["weight/prob_max"]) > 1e39


def test_kl_estimators_against_exact_kl_on_small_categoricals():
    gen = torch.Generator().manual_seed(5)
    for _ in range(5):
        p = torch.softmax(torch.randn(6, generator=gen, dtype=torch.float64), 0)
        q = torch.softmax(torch.randn(6, generator=gen, dtype=torch.float64), 0)
        exact = float((p * (p.log() - q.log())).sum())
        # k1 and k3 are unbiased: their expectation under p is KL(p || q) exactly
        for kind in ("k1", "k3"):
            expectation = float((p * dgpo.kl_estimate(p.log(), q.log(), kind)).sum())
            assert expectation == pytest.approx(exact, rel=1e-10)
        # Monte Carlo with samples from p agrees within sampling error
        idx = torch.multinomial(p, 200_000, replacement=True, generator=gen)
        mc = float(dgpo.kl_estimate(p.log()[idx], q.log()[idx], "k3").mean())
        assert mc == pytest.approx(exact, rel=0.05, abs=5e-3)
    # k2 is biased but second-order accurate for nearby distributions
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    q = torch.tensor([0.49, 0.31, 0.2], dtype=torch.float64)
    exact = float((p * (p.log() - q.log())).sum())
    k2 = float((p * dgpo.kl_estimate(p.log(), q.log(), "k2")).sum())
    assert k2 == pytest.approx(exact, rel=0.05)
    with pytest.raises(ValueError, match="unknown KL estimator 'k4'"):
        dgpo.kl_estimate(p, q, "k4")


def test_entropy_from_logits_against_naive_sum():
    gen = torch.Generator().manual_seed(7)
    logits = torch.randn(3, 4, 11, generator=gen) * 5
    p = torch.softmax(logits.double(), -1)
    naive = -(p * p.log()).sum(-1)
    torch.testing.assert_close(dgpo.entropy_from_logits(logits).double(), naive, rtol=1e-5, atol=1e-6)
    assert float(dgpo.entropy_from_logits(torch.zeros(8))) == pytest.approx(math.log(8))
    big = torch.tensor([1e4, 0.0, -1e4])  # no NaN for saturated logits
    assert float(dgpo.entropy_from_logits(big)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", dgpo.available_schemes())
def test_curves_evaluate_the_scheme(name):
    s = dgpo.make(name)
    c = dgpo.ratio_curve(s)
    assert c.ratio.shape == c.w_log_pos.shape == c.w_log_neg.shape
    torch.testing.assert_close(c.w_log_pos, s.weight(c.ratio, torch.tensor(1.0, dtype=torch.float64)))
    torch.testing.assert_close(c.w_log_neg, s.weight(c.ratio, torch.tensor(-1.0, dtype=torch.float64)))
    pc = dgpo.prob_curve(s, 0.01, -1)
    torch.testing.assert_close(pc.w_prob, s.prob_weight(pc.prob, torch.tensor(0.01), torch.tensor(-1.0)))
    g = dgpo.prob_grid(s, 1)
    assert g.w_prob.shape == (g.old_prob.numel(), g.prob.numel())
    i, j = 37, 101
    want = s.prob_weight(g.prob[j : j + 1], g.old_prob[i], torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(g.w_prob[i, j : j + 1], want)
    assert not torch.isnan(g.w_prob).any()


def test_curve_argument_errors():
    with pytest.raises(ValueError, match="sign must be"):
        dgpo.prob_curve(dgpo.make("ppo"), 0.1, 0)
    with pytest.raises(ValueError, match="probability grid"):
        dgpo.log_grid(0.0, 1.0)
