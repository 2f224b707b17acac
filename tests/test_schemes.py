"""Every scheme's autograd gradient against its documented closed form, literal values at hand-computed
points, DGPO's continuity, and the pi -> 0 limits that are DGPO's point."""

from __future__ import annotations

import math

import pytest
import torch

import dgpo
from tests.closed_form import drift, kinks, w_log

# (scheme, hyper-parameters): defaults plus the variants whose regions differ.
CASES = [
    ("pg", {}),
    ("ppo", {}),
    ("ppo", {"eps_high": 0.28, "dual_clip": 3.0}),
    ("cispo", {}),
    ("cispo", {"eps_low": None, "eps_high": 0.3}),
    ("gppo", {}),
    ("gppo", {"beta1": 0.75, "beta2": 1.5, "dual_clip": 10.0}),
    ("aspo", {}),
    ("aspo", {"c_pos": 2.0, "c_neg": 1.5}),
    ("sapo", {}),
    ("sapo", {"tau_pos": 3.0, "tau_neg": 0.5}),
    ("cpgd", {}),
    ("cpgd", {"drift_coef": 0.5, "drift_cap": 0.5}),
    ("dgpo", {}),
    ("dgpo", {"n": 2, "m": 2}),
    ("dgpo", {"eps_low": 0.1, "eps_high": 0.28, "n": 0.5, "m": 3.0}),
]


def _full(name, hp):
    return {**dgpo.hyperparameters(name), **hp}


@pytest.mark.parametrize("name,hp", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_autograd_gradient_equals_closed_form(name, hp):
    gen = torch.Generator().manual_seed(0)
    n_pts = 3000
    old = -torch.rand(n_pts, generator=gen, dtype=torch.float64) * 12  # pi_old in [6e-6, 1]
    log_r = (torch.rand(n_pts, generator=gen, dtype=torch.float64) * 2 - 1) * 3  # r in [0.05, 20]
    log_r = torch.minimum(log_r, -old)  # keep pi = r * pi_old <= 1
    adv = torch.randn(n_pts, generator=gen, dtype=torch.float64) * 2
    x = (old + log_r).requires_grad_()
    scheme = dgpo.make(name, **hp)
    (grad,) = torch.autograd.grad(scheme.token_loss(x, old, adv).sum(), x)
    full = _full(name, hp)
    checked = 0
    for i in range(n_pts):
        r, a = math.exp(float(log_r[i])), float(adv[i])
        if min(abs(r - k) for k in kinks(name, full)) < 1e-6:
            continue
        expected = a * w_log(name, full, r, a) + drift(name, full, r)
        assert -float(grad[i]) == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, r, a)
        checked += 1
    assert checked > n_pts * 0.99


@pytest.mark.parametrize("name,hp", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_weight_and_prob_weight_equal_closed_form(name, hp):
    full = _full(name, hp)
    scheme = dgpo.make(name, **hp)
    ratios = [0.01, 0.3, 0.79, 0.85, 1.0, 1.1, 1.25, 2.0, 5.0, 50.0]
    for sign in (1.0, -1.0):
        got = scheme.weight(torch.tensor(ratios, dtype=torch.float64), torch.tensor(sign, dtype=torch.float64))
        assert got.tolist() == pytest.approx([w_log(name, full, r, sign) for r in ratios], rel=1e-12)
        old_prob = 0.01
        probs = torch.tensor([r * old_prob for r in ratios], dtype=torch.float64)
        got_p = scheme.prob_weight(probs, torch.tensor(old_prob, dtype=torch.float64), torch.tensor(sign))
        want_p = [w_log(name, full, r, sign) / (r * old_prob) for r in ratios]
        assert got_p.tolist() == pytest.approx(want_p, rel=1e-12)


# Reference table (schemes.md, "Numerical illustration"): w_prob at pi_old = 0.01, A < 0, eps = 0.2.
PI = [5e-3, 1e-3, 1e-4, 1e-6]
# Entries are as printed there (rounded to the digits shown); the test rounds ours the same way.
REFERENCE = {
    ("ppo", ()): ["0", "0", "0", "0"],
    ("cispo", ()): ["160", "800", "8e3", "8e5"],
    ("cispo", (("eps_low", None),)): ["100", "100", "100", "100"],
    ("gppo", ()): ["160", "800", "8e3", "8e5"],
    ("gppo", (("beta1", 0.75),)): ["120", "600", "6e3", "6e5"],
    ("sapo", ()): ["93.4", "80.6", "77.2", "76.8"],
    ("cpgd", ()): ["0", "0", "0", "0"],
    ("dgpo", ()): ["62.5", "12.5", "1.25", "0.0125"],
    ("dgpo", (("n", 2),)): ["39.1", "1.56", "0.0156", "1.6e-6"],
}


def _digits(text: str) -> int:
    mantissa = text.split("e")[0].replace(".", "").lstrip("0")
    return max(len(mantissa), 1)


@pytest.mark.parametrize("key", list(REFERENCE), ids=[f"{k[0]}{dict(k[1])}" for k in REFERENCE])
def test_reference_table_of_prob_weights(key):
    name, hp = key
    s = dgpo.make(name, **dict(hp))
    got = s.prob_weight(torch.tensor(PI, dtype=torch.float64), torch.tensor(0.01), torch.tensor(-1.0))
    for value, printed in zip(got.tolist(), REFERENCE[key], strict=True):
        assert float(f"{value:.{_digits(printed)}g}") == float(printed)


def test_dgpo_literal_weights_at_hand_computed_points():
    s = dgpo.make("dgpo", eps_low=0.2, eps_high=0.2, n=1, m=2)
    pos = s.weight(torch.tensor([2.0, 10.0, 100.0], dtype=torch.float64), torch.tensor(1.0))
    assert pos.tolist() == pytest.approx([math.sqrt(2.4), math.sqrt(12.0), math.sqrt(120.0)], rel=1e-12)
    assert pos.tolist() == pytest.approx([1.549, 3.464, 10.954], abs=1e-3)
    neg = s.weight(torch.tensor([0.5, 0.1, 0.01], dtype=torch.float64), torch.tensor(-1.0))
    assert neg.tolist() == pytest.approx([0.3125, 0.0125, 1.25e-4], rel=1e-12)


@pytest.mark.parametrize("hp", [{}, {"n": 2, "m": 2}, {"eps_low": 0.1, "eps_high": 0.28, "n": 3.5, "m": 0.5}])
def test_dgpo_is_continuous_at_both_boundaries(hp):
    s = dgpo.make("dgpo", **hp)
    lo, hi = s.bounds
    for edge, sign in ((lo, -1.0), (hi, 1.0)):
        r = torch.tensor([edge * (1 - 1e-9), edge, edge * (1 + 1e-9)], dtype=torch.float64)
        w = s.weight(r, torch.tensor(sign))
        assert w.tolist() == pytest.approx([edge] * 3, rel=1e-8)


def test_hard_and_soft_clips_jump_where_documented():
    ppo, gppo = dgpo.make("ppo"), dgpo.make("gppo", beta1=0.5)
    just_below = torch.tensor([0.8 - 1e-9], dtype=torch.float64)
    assert float(ppo.weight(just_below, torch.tensor(-1.0))) == 0.0
    assert float(gppo.weight(just_below, torch.tensor(-1.0))) == pytest.approx(0.4)
    assert float(gppo.weight(torch.tensor([0.8]), torch.tensor(-1.0))) == pytest.approx(0.8)


def test_prob_weight_limits_as_pi_goes_to_zero():
    """DGPO's point: soft clipping's w_prob diverges like 1/pi at LN, DGPO's decays like pi^n."""
    probs = torch.tensor([1e-10, 1e-50, 1e-200, 1e-300], dtype=torch.float64)
    old, neg = torch.tensor(0.01, dtype=torch.float64), torch.tensor(-1.0, dtype=torch.float64)
    for name, hp in (("gppo", {}), ("cispo", {})):
        w = dgpo.make(name, **hp).prob_weight(probs, old, neg)
        assert (w[1:] / w[:-1] > 1e30).all() and float(w[-1]) > 1e290
    for n in (1, 2):
        w = dgpo.make("dgpo", n=n).prob_weight(probs, old, neg)
        assert float(w[-1]) < 1e-290 and (w[1:] <= w[:-1]).all() and float(w[0]) > 1e-30
    zero = torch.tensor([0.0], dtype=torch.float64)  # evaluated at the smallest normal float64
    assert float(dgpo.make("dgpo").prob_weight(zero, old, neg)) < 1e-300
    assert float(dgpo.make("dgpo", n=0).prob_weight(zero, old, neg)) == pytest.approx(100.0)
    assert float(dgpo.make("gppo").prob_weight(zero, old, neg)) > 1e300
    assert float(dgpo.make("ppo").prob_weight(zero, old, neg)) == 0.0
    # bounded schemes: the CISPO recipe without a lower bound stays at 1/pi_old, SAPO tends to 4 s(1-s)/pi_old
    assert dgpo.make("cispo", eps_low=None).prob_weight(probs, old, neg).tolist() == pytest.approx([100.0] * 4)
    tau = 1.05
    limit = 4 / (1 + math.exp(-tau)) * (1 - 1 / (1 + math.exp(-tau))) / 0.01
    assert float(dgpo.make("sapo").prob_weight(probs, old, neg)[-1]) == pytest.approx(limit, rel=1e-9)


def test_ppo_forward_value_is_the_clipped_surrogate():
    gen = torch.Generator().manual_seed(1)
    x_old = -torch.rand(500, generator=gen, dtype=torch.float64) * 5
    log_r = (torch.rand(500, generator=gen, dtype=torch.float64) - 0.5) * 2
    x = torch.minimum(x_old + log_r, torch.zeros(()))
    adv = torch.randn(500, generator=gen, dtype=torch.float64)
    r = torch.exp(x - x_old)
    want = -torch.minimum(r * adv, r.clamp(0.8, 1.28) * adv)
    got = dgpo.make("ppo", eps_high=0.28).token_loss(x, x_old, adv)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    tau = torch.where(adv > 0, torch.full_like(adv, 1.0), torch.full_like(adv, 1.05))
    want_sapo = -adv * 4 / tau * torch.sigmoid(tau * (r - 1))
    torch.testing.assert_close(dgpo.make("sapo").token_loss(x, x_old, adv), want_sapo, rtol=1e-12, atol=1e-12)


def test_single_pass_means_ratio_one_and_every_scheme_is_the_policy_gradient():
    """With one pass (old = current) r == 1 and every scheme's ascent is A * grad log pi (CPGD: also)."""
    x = torch.log(torch.tensor([0.001, 0.2, 0.9], dtype=torch.float64)).requires_grad_()
    adv = torch.tensor([-1.5, 0.3, 2.0], dtype=torch.float64)
    for name in dgpo.available_schemes():
        (g,) = torch.autograd.grad(dgpo.make(name).token_loss(x, x.detach(), adv).sum(), x)
        want = adv if name != "aspo" else adv  # ASPO's 1/r is also 1 at r = 1
        torch.testing.assert_close(-g, want, rtol=1e-12, atol=1e-12)
