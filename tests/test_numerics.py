"""Losses and gradients stay finite for extreme ratios and tiny probabilities, in float32 and float64, for every
scheme and every token (selected by a region or not), and the released DGPO expression's NaN is a regression."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dgpo

DTYPES = [torch.float32, torch.float64]
VARIANTS = [(name, {}) for name in dgpo.available_schemes()] + [
    ("dgpo", {"n": 8, "m": 0.25}),
    ("ppo", {"dual_clip": 3.0}),
    ("cispo", {"eps_low": None}),
    ("gppo", {"beta1": 0.5, "dual_clip": 10.0}),
]


def _grid(dtype):
    """Every combination of log pi_old in [-92, 0], log-ratio in [-80, 80], and A of both signs and zero."""
    old = torch.tensor([-92.0, -60.0, -20.0, -1e-6, 0.0], dtype=torch.float64)
    lr = torch.tensor([-80.0, -30.0, -0.5, 0.0, 0.3, 30.0, 80.0], dtype=torch.float64)
    adv = torch.tensor([-5.0, 0.0, 3.0], dtype=torch.float64)
    o, r, a = torch.meshgrid(old, lr, adv, indexing="ij")
    x = o + r
    keep = (x <= 0) & (x >= -92)  # valid log-probs only
    return x[keep].to(dtype), o[keep].to(dtype), a[keep].to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,hp", VARIANTS, ids=[f"{n}{hp}" for n, hp in VARIANTS])
def test_loss_and_gradient_finite_on_extreme_grid(name, hp, dtype):
    x, old, adv = _grid(dtype)
    x = x.clone().requires_grad_()
    s = dgpo.make(name, **hp)
    per_token = s.token_loss(x, old, adv)
    (grad,) = torch.autograd.grad(per_token.sum(), x)
    assert torch.isfinite(per_token).all() and torch.isfinite(grad).all()
    loss, metrics = dgpo.policy_loss(s, x, old, adv)
    (g2,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(g2).all()
    for key in ("ratio/max", "weight/log_max", "kl/old_new_k3", "loss/policy"):
        assert torch.isfinite(metrics[key]), key


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(dgpo.available_schemes()),
    old=st.floats(-92, 0),
    log_ratio=st.floats(-80, 80),
    adv=st.floats(-50, 50),
    f64=st.booleans(),
)
def test_any_token_has_finite_loss_and_exact_gradient(name, old, log_ratio, adv, f64):
    x_val = min(old + log_ratio, 0.0)
    if x_val < -92:
        x_val = -92.0
    dtype = torch.float64 if f64 else torch.float32
    x = torch.tensor([x_val], dtype=dtype, requires_grad=True)
    o = torch.tensor([old], dtype=dtype)
    a = torch.tensor([adv], dtype=dtype)
    s = dgpo.make(name)
    loss = s.token_loss(x, o, a)
    (g,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(g).all()
    with torch.no_grad():
        lr = (x - o).clamp(-dgpo.LOG_RATIO_CLAMP, dgpo.LOG_RATIO_CLAMP)
        ascent = a * torch.exp(s.log_weight(lr, a))
        extra = s.drift(lr)
        if extra is not None:
            ascent = ascent + extra[1]
    torch.testing.assert_close(-g, ascent)


def released_dgpo_loss(log_prob, old_log_prob, adv, eps_low=0.2, eps_high=0.2, n=1, m=2):
    """The released DGPO expression (DGPO-RL compute_policy_loss, ratio_mode 'dgpo'), restated:
    both boundary branches are evaluated for every token and selected with torch.where."""
    ratio = torch.exp(log_prob - old_log_prob)
    left = (ratio < 1 - eps_low) & (adv < 0)
    right = (ratio > 1 + eps_high) & (adv > 0)
    left_ratio = torch.exp(log_prob + n * log_prob.detach() - (n + 1) * old_log_prob) / (1 - eps_low) ** n
    right_ratio = torch.exp(log_prob + math.log(1 + eps_high) / m - (m - 1) / m * old_log_prob - log_prob.detach() / m)
    r_tilde = torch.where(left, left_ratio, torch.where(right, right_ratio, ratio))
    return -adv * r_tilde


def test_released_dgpo_expression_gives_nan_gradient_where_ours_is_exact():
    """A positive token far right of the trust region (log r = 80): the unselected left branch overflows
    (exp(160) = inf in float32) and torch.where's backward multiplies its zero by inf."""
    old = torch.tensor([-80.5, -1.0], dtype=torch.float32)
    x_released = torch.tensor([-0.5, -1.2], dtype=torch.float32, requires_grad=True)
    adv = torch.tensor([1.0, -1.0], dtype=torch.float32)
    (g_released,) = torch.autograd.grad(released_dgpo_loss(x_released, old, adv).sum(), x_released)
    assert torch.isnan(g_released[0]), "the released expression was expected to give NaN here"
    assert torch.isfinite(g_released[1])

    x = x_released.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(dgpo.make("dgpo").token_loss(x, old, adv).sum(), x)
    assert torch.isfinite(g).all()
    # HP: w_log = (1.2)^(1/2) r^(1/2) with log r = 80 -> ascent = A * sqrt(1.2) * e^40
    assert float(-g[0]) == pytest.approx(math.sqrt(1.2) * math.exp(40.0), rel=1e-5)
    # where both are finite they agree (the inside token gets r)
    assert float(g[1]) == pytest.approx(float(g_released[1]), rel=1e-6)


def test_half_precision_inputs_are_computed_in_float32():
    x = torch.log(torch.tensor([0.01, 0.5], dtype=torch.bfloat16)).requires_grad_()
    old = torch.log(torch.tensor([0.02, 0.4], dtype=torch.bfloat16))
    loss = dgpo.make("dgpo").token_loss(x, old, torch.tensor([-1.0, 1.0], dtype=torch.bfloat16))
    assert loss.dtype == torch.float32
    (g,) = torch.autograd.grad(loss.sum(), x)
    assert g.dtype == torch.bfloat16 and torch.isfinite(g).all()


def test_masked_padding_with_garbage_is_harmless():
    x = torch.tensor([[-0.5, float("nan")], [-0.1, 5.0]], requires_grad=True)
    old = torch.tensor([[-0.4, float("-inf")], [-0.2, 3.0]])
    mask = torch.tensor([[1, 0], [1, 0]])
    adv = torch.tensor([[1.0], [-1.0]])
    loss, _ = dgpo.policy_loss(dgpo.make("gppo"), x, old, adv, mask)
    (g,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(g).all()
    assert g[:, 1].tolist() == [0.0, 0.0]
