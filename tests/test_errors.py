"""Bad input raises ValueError with a message that names the problem and the fix."""

from __future__ import annotations

import pytest
import torch

import dgpo

X = torch.log(torch.tensor([[0.5, 0.2], [0.3, 0.9]]))
ADV = torch.tensor([[1.0], [-1.0]])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"old_log_prob": X[:, :1]}, r"old_log_prob has shape \(2, 1\).*must match"),
        ({"advantages": torch.ones(3)}, r"advantages of shape \(3,\) do not broadcast.*advantages\[:, None\]"),
        ({"log_prob": X.clone().fill_(float("nan"))}, "log_prob holds NaN or inf"),
        ({"old_log_prob": torch.full((2, 2), float("inf"))}, "old_log_prob holds NaN or inf"),
        ({"log_prob": X + 1.0}, r"log_prob holds values above 0 .*pass log_softmax outputs"),
        ({"advantages": torch.tensor([[float("nan")], [1.0]])}, "advantages hold NaN"),
        ({"mask": torch.ones(3, 2)}, r"mask has shape \(3, 2\)"),
        ({"mask": torch.full((2, 2), 2.0)}, "mask must hold only 0 and 1"),
        ({"log_prob": X.long()}, "log_prob must be a floating-point tensor"),
    ],
)
def test_token_input_errors(kwargs, match):
    args = {"log_prob": X, "old_log_prob": X - 0.1, "advantages": ADV, "mask": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        dgpo.make("dgpo").token_loss(**args)


def test_rounding_above_zero_is_tolerated():
    x = torch.tensor([[1e-5, -0.1]])
    assert torch.isfinite(dgpo.make("ppo").token_loss(x, x, torch.ones(1, 2))).all()


def test_empty_mask_and_unknown_aggregation():
    with pytest.raises(ValueError, match="empty mask"):
        dgpo.policy_loss(dgpo.make("ppo"), X, X, ADV, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="unknown aggregation 'mean'; valid: token-mean"):
        dgpo.policy_loss(dgpo.make("ppo"), X, X, ADV, torch.ones(2, 2), agg="mean")
    with pytest.raises(ValueError, match="needs a \\(sequences, tokens\\) mask"):
        dgpo.aggregate(torch.ones(4), torch.ones(4), "seq-mean-token-mean")


def test_unknown_scheme_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown scheme 'dgp'; valid schemes: pg, ppo, cispo, gppo, aspo, sapo"):
        dgpo.make("dgp")


def test_unknown_hyperparameter_lists_valid_ones():
    msg = "unknown hyper-parameter.* epsilon for scheme 'dgpo'; valid: eps_low, eps_high, n, m"
    with pytest.raises(ValueError, match=msg):
        dgpo.make("dgpo", epsilon=0.2)
    with pytest.raises(ValueError, match="valid: \\(none\\)"):
        dgpo.make("pg", eps_low=0.1)


@pytest.mark.parametrize(
    "name,hp,match",
    [
        ("dgpo", {"eps_low": 1.0}, r"eps_low must be in \[0.0, 1.0\), got 1.0"),
        ("dgpo", {"eps_low": -0.1}, r"eps_low must be in \[0.0, 1.0\)"),
        ("ppo", {"eps_high": -0.01}, r"eps_high must be in \[0.0, inf\)"),
        ("dgpo", {"n": -1}, r"n must be in \[0.0, inf\)"),
        ("dgpo", {"m": 0}, r"m must be in \(0.0, inf\)"),
        ("ppo", {"dual_clip": 1.0}, r"dual_clip must be in \(1.0, inf\)"),
        ("gppo", {"dual_clip": 0.5}, r"dual_clip must be in \(1.0, inf\)"),
        ("sapo", {"tau_pos": 0.0}, r"tau_pos must be in \(0.0, inf\)"),
        ("sapo", {"tau_neg": -1.0}, r"tau_neg must be in \(0.0, inf\)"),
        ("aspo", {"c_pos": 0.0}, r"c_pos must be in \(0.0, inf\)"),
        ("aspo", {"c_neg": -2.0}, r"c_neg must be in \(0.0, inf\)"),
        ("cpgd", {"drift_coef": -0.1}, r"drift_coef must be in \[0.0, inf\)"),
        ("ppo", {"eps_low": None}, "eps_low must be a number, got None"),
        ("ppo", {"eps_low": "0.2"}, "eps_low must be a number, got str"),
        ("dgpo", {"n": float("nan")}, "n must be finite"),
        ("gppo", {"beta1": True}, "beta1 must be a number, got bool"),
    ],
)
def test_out_of_range_hyperparameters(name, hp, match):
    with pytest.raises(ValueError, match=match):
        dgpo.make(name, **hp)


def test_schemes_are_frozen_and_hashable():
    a, b = dgpo.make("dgpo", n=2), dgpo.make("dgpo", n=2)
    assert a == b and hash(a) == hash(b) and a != dgpo.make("dgpo", n=1)
    with pytest.raises(AttributeError):
        a.n = 3


def test_weight_input_errors():
    s = dgpo.make("ppo")
    with pytest.raises(ValueError, match="ratio must be >= 0"):
        s.weight(torch.tensor([-1.0]), torch.tensor(1.0))
    with pytest.raises(ValueError, match="prob must be probabilities"):
        s.prob_weight(torch.tensor([1.5]), torch.tensor(0.5), torch.tensor(1.0))
    with pytest.raises(ValueError, match="old_prob must be > 0"):
        s.prob_weight(torch.tensor([0.5]), torch.tensor(0.0), torch.tensor(1.0))


def test_advantage_errors():
    with pytest.raises(ValueError, match="G >= 2"):
        dgpo.group_advantages(torch.ones(3, 1))
    with pytest.raises(ValueError, match="unknown estimator 'ppo'; valid: grpo, drgrpo, rloo"):
        dgpo.group_advantages(torch.ones(3, 2), estimator="ppo")
    with pytest.raises(ValueError, match="rewards hold NaN"):
        dgpo.group_advantages(torch.tensor([[1.0, float("nan")]]))
