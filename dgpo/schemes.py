"""Every clipping scheme, each one decorated definition of its gradient weight.

Notation: ``r = pi / pi_old``, ``A`` the advantage, ``sg`` stop-gradient. Regions: IN ``1-eps_low <= r <= 1+eps_high``;
LN (left boundary) ``r < 1-eps_low, A < 0``; HP (right boundary) ``r > 1+eps_high, A > 0``; LP/HN the reverse
boundaries. ``w_log`` is the weight on ``A * grad(log pi)``; ``w_prob = w_log / pi``.
Formulas and sources: docs/schemes.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from dgpo.checks import check_number
from dgpo.scheme import Scheme, check_dual_clip, check_eps, const, log_or_neg_inf, regions, register

NEG_INF = float("-inf")


def _ratio_tilde(scheme, log_ratio: Tensor, advantages: Tensor, left: float, right: float) -> Tensor:
    """``r`` with constants at LN/HP (and at the dual-clip zone): the forward value of clipped surrogates."""
    ln, hp = regions(scheme, log_ratio, advantages)
    r = torch.exp(log_ratio)
    r = torch.where(ln, const(left, r), torch.where(hp, const(right, r), r))
    c = getattr(scheme, "dual_clip", None)
    if c is not None:
        r = torch.where((advantages < 0) & (log_ratio > math.log(c)), const(c, r), r)
    return r


def _drop_dual(scheme, log_w: Tensor, log_ratio: Tensor, advantages: Tensor) -> Tensor:
    if scheme.dual_clip is None:
        return log_w
    return torch.where((advantages < 0) & (log_ratio > math.log(scheme.dual_clip)), NEG_INF, log_w)


@register("pg")
@dataclass(frozen=True)
class PG(Scheme):
    """Unclipped importance-sampled policy gradient, the reference: ``J = r A``, ``w_log = r`` everywhere."""

    title = "Policy gradient (no clipping)"
    paper = "Williams 1992; importance sampling as in PPO, arXiv:1707.06347"

    @property
    def bounds(self):
        return (None, None)

    def log_weight(self, log_ratio, advantages):
        return log_ratio + torch.zeros_like(advantages)


@register("ppo")
@dataclass(frozen=True)
class PPO(Scheme):
    """PPO / GRPO hard clip: ``J = min(r A, clip(r, 1-eps_low, 1+eps_high) A)``.

    ``w_log = r`` inside, 0 at LN and HP (a jump); with ``dual_clip = c`` also 0 for ``A < 0, r > c``
    (Ye et al., arXiv:1912.09729). GRPO is this loss with group advantages (arXiv:2402.03300); DAPO's
    clip-higher is ``eps_high = 0.28`` (arXiv:2503.14476).
    """

    title = "PPO / GRPO hard clip"
    paper = "arXiv:1707.06347 (PPO), arXiv:2402.03300 (GRPO), arXiv:2503.14476 (DAPO clip-higher)"
    eps_low: float = 0.2
    """Lower clip width: LN tokens (r < 1 - eps_low, A < 0) get no gradient."""
    eps_high: float = 0.2
    """Upper clip width: HP tokens (r > 1 + eps_high, A > 0) get no gradient. DAPO: 0.28."""
    dual_clip: float | None = None
    """Dual-clip constant c > 1: negative tokens with r > c get no gradient (verl uses 3.0). None = off."""

    def validate(self):
        check_eps(self)
        check_dual_clip(self)

    def log_weight(self, log_ratio, advantages):
        ln, hp = regions(self, log_ratio, advantages)
        log_w = torch.where(ln | hp, NEG_INF, log_ratio)
        return _drop_dual(self, log_w, log_ratio, advantages)

    def surrogate(self, log_ratio, advantages, log_prob):
        lo, hi = self.bounds
        return advantages * _ratio_tilde(self, log_ratio, advantages, lo, hi)


@register("cispo")
@dataclass(frozen=True)
class CISPO(Scheme):
    """CISPO (MiniMax-M1): ``J = sg(clip(r, 1-eps_low, 1+eps_high)) A log pi``; ``w_log = clip(r)`` everywhere.

    Tokens are never dropped. With a finite ``eps_low``, ``w_prob = (1-eps_low)/pi`` diverges as ``pi -> 0``
    at LN; ``eps_low=None`` removes the lower bound (the paper's setting): ``w_log = min(r, 1+eps_high)``.
    ``eps_high`` is relative here (verl); TRL's CISPO ``epsilon_high`` is an absolute cap on r.
    """

    title = "CISPO (clipped IS-weight policy optimization)"
    paper = "arXiv:2506.13585"
    eps_low: float | None = 0.2
    """Lower bound of the IS weight, 1 - eps_low; None = no lower bound (the MiniMax recipe)."""
    eps_high: float = 0.2
    """Upper bound of the IS weight, 1 + eps_high."""

    def validate(self):
        check_eps(self, allow_no_low=True)

    def log_weight(self, log_ratio, advantages):
        lo, hi = self.bounds
        low = None if lo is None else math.log(lo)
        return log_ratio.clamp(min=low, max=math.log(hi)) + torch.zeros_like(advantages)

    def surrogate(self, log_ratio, advantages, log_prob):
        return advantages * torch.exp(self.log_weight(log_ratio, advantages)) * log_prob


@register("gppo")
@dataclass(frozen=True)
class GPPO(Scheme):
    """GPPO (Klear-Reasoner) and CE-GPPO: hard clip's forward value, gradient kept at the boundaries.

    LN tokens use ``beta1 (1-eps_low) r / sg(r)``, HP tokens ``beta2 (1+eps_high) r / sg(r)``: ``w_log = r``
    inside, ``beta1 (1-eps_low)`` at LN (so ``w_prob`` grows like ``1/pi``), ``beta2 (1+eps_high)`` at HP.
    ``beta != 1`` is CE-GPPO (arXiv:2509.20712). Dual clip as in PPO.
    """

    title = "GPPO / CE-GPPO (gradient-preserving clip)"
    paper = "arXiv:2508.07629 (GPPO), arXiv:2509.20712 (CE-GPPO)"
    eps_low: float = 0.2
    """Left boundary at r = 1 - eps_low."""
    eps_high: float = 0.2
    """Right boundary at r = 1 + eps_high."""
    beta1: float = 1.0
    """Scale of the LN gradient weight (CE-GPPO; 1 = GPPO)."""
    beta2: float = 1.0
    """Scale of the HP gradient weight (CE-GPPO; 1 = GPPO)."""
    dual_clip: float | None = None
    """Dual-clip constant c > 1 (the Klear recipe uses 10). None = off."""

    def validate(self):
        check_eps(self)
        check_number("beta1", self.beta1, low=0.0)
        check_number("beta2", self.beta2, low=0.0)
        check_dual_clip(self)

    def log_weight(self, log_ratio, advantages):
        lo, hi = self.bounds
        ln, hp = regions(self, log_ratio, advantages)
        log_w = torch.where(ln, log_or_neg_inf(self.beta1 * lo), log_ratio)
        log_w = torch.where(hp, log_or_neg_inf(self.beta2 * hi), log_w)
        return _drop_dual(self, log_w, log_ratio, advantages)

    def surrogate(self, log_ratio, advantages, log_prob):
        lo, hi = self.bounds
        return advantages * _ratio_tilde(self, log_ratio, advantages, self.beta1 * lo, self.beta2 * hi)


@register("aspo")
@dataclass(frozen=True)
class ASPO(Scheme):
    """ASPO (Archer2.0): flipped IS ratio for positive tokens, soft dual clips on both signs.

    ``A > 0``: ``w_log = 1/r``, capped at ``c_pos`` (for ``r < 1/c_pos``), 0 beyond ``1+eps_high``.
    ``A < 0``: ``w_log = r``, 0 below ``1-eps_low``, the constant ``c_neg`` once ``r > c_neg``.
    The released recipe also widens eps for high-entropy tokens; that needs entropies and is not modelled.
    """

    title = "ASPO (asymmetric importance sampling)"
    paper = "arXiv:2510.06062"
    eps_low: float = 0.2
    """Left boundary for negative tokens at r = 1 - eps_low."""
    eps_high: float = 0.2
    """Right boundary for positive tokens at r = 1 + eps_high."""
    c_pos: float = 3.0
    """Cap on the flipped weight 1/r of positive tokens."""
    c_neg: float = 3.0
    """Soft dual clip of negative tokens: w_log = c_neg once r > c_neg."""

    def validate(self):
        check_eps(self)
        check_number("c_pos", self.c_pos, low=0.0, low_open=True)
        check_number("c_neg", self.c_neg, low=0.0, low_open=True)

    def log_weight(self, log_ratio, advantages):
        ln, hp = regions(self, log_ratio, advantages)
        pos = (-log_ratio).clamp(max=math.log(self.c_pos))
        neg = log_ratio.clamp(max=math.log(self.c_neg))
        log_w = torch.where(advantages > 0, pos, neg)
        return torch.where(ln | hp, NEG_INF, log_w)

    def surrogate(self, log_ratio, advantages, log_prob):
        lo, hi = self.bounds
        r = torch.exp(log_ratio)
        neg = torch.where(r > self.c_neg, self.c_neg * log_prob, torch.clamp(r, min=lo))
        p = torch.clamp(r, max=hi)
        pos = torch.where(1.0 / p > self.c_pos, self.c_pos * log_prob, 1.0 / p)
        return advantages * torch.where(advantages > 0, pos, neg)


@register("sapo")
@dataclass(frozen=True)
class SAPO(Scheme):
    """SAPO (Qwen): a smooth gate instead of a clip: ``J = A (4/tau) sigmoid(tau (r - 1))``.

    ``w_log = 4 s (1 - s) r`` with ``s = sigmoid(tau (r - 1))``, ``tau = tau_pos`` if ``A > 0`` else ``tau_neg``;
    equal to 1 at ``r = 1``, smooth, no boundary.
    """

    title = "SAPO (soft adaptive gate)"
    paper = "arXiv:2511.20347"
    tau_pos: float = 1.0
    """Gate temperature for positive advantages."""
    tau_neg: float = 1.05
    """Gate temperature for negative advantages."""

    def validate(self):
        check_number("tau_pos", self.tau_pos, low=0.0, low_open=True)
        check_number("tau_neg", self.tau_neg, low=0.0, low_open=True)

    @property
    def bounds(self):
        return (None, None)

    def _tau(self, advantages):
        # two Python scalars in torch.where would build a float32 tensor: keep the advantages' dtype
        return torch.where(
            advantages > 0, torch.full_like(advantages, self.tau_pos), torch.full_like(advantages, self.tau_neg)
        )

    def log_weight(self, log_ratio, advantages):
        z = self._tau(advantages) * torch.expm1(log_ratio)
        return math.log(4.0) + F.logsigmoid(z) + F.logsigmoid(-z) + log_ratio

    def surrogate(self, log_ratio, advantages, log_prob):
        tau = self._tau(advantages)
        return advantages * 4.0 / tau * torch.sigmoid(tau * torch.expm1(log_ratio))


@register("cpgd")
@dataclass(frozen=True)
class CPGD(Scheme):
    """CPGD: clipped *log*-ratio policy gradient plus a policy-drift regulariser.

    ``J = min(A log r, A clip(log r, log(1-eps_low), log(1+eps_high)))``: ``w_log = 1`` (no ratio factor) inside,
    0 at LN and HP. Drift: ``drift_coef * k3`` of ``KL(pi_old || pi)`` with gradient ``-drift_coef *
    min(r - 1, drift_cap) * grad log pi`` on the ascent direction (restoring towards ``pi_old``).
    """

    title = "CPGD (clipped policy gradient + policy drift)"
    paper = "arXiv:2505.12504"
    eps_low: float = 0.2
    """Lower clip of the log-ratio at log(1 - eps_low)."""
    eps_high: float = 0.2
    """Upper clip of the log-ratio at log(1 + eps_high)."""
    drift_coef: float = 0.01
    """Weight of the policy-drift KL(pi_old || pi) term."""
    drift_cap: float = 2.0
    """Cap on r - 1 in the drift gradient."""

    def validate(self):
        check_eps(self)
        check_number("drift_coef", self.drift_coef, low=0.0)
        check_number("drift_cap", self.drift_cap, low=0.0, low_open=True)

    def log_weight(self, log_ratio, advantages):
        ln, hp = regions(self, log_ratio, advantages)
        return torch.where(ln | hp, NEG_INF, torch.zeros_like(log_ratio + advantages))

    def surrogate(self, log_ratio, advantages, log_prob):
        lo, hi = self.bounds
        clipped = torch.where(advantages > 0, log_ratio.clamp(max=math.log(hi)), log_ratio.clamp(min=math.log(lo)))
        return advantages * clipped

    def drift(self, log_ratio):
        r_minus_1 = torch.expm1(log_ratio)
        value = self.drift_coef * (r_minus_1 - log_ratio)
        return value, -self.drift_coef * r_minus_1.clamp(max=self.drift_cap)


@register("dgpo")
@dataclass(frozen=True)
class DGPO(Scheme):
    """DGPO: decoupled, continuous decay of the probability-gradient weight at both boundaries.

    ``w_log = r`` inside; ``r^(n+1) / (1-eps_low)^n`` at LN, so ``w_prob ∝ pi^n -> 0``;
    ``(1+eps_high)^(1/m) r^(1-1/m)`` at HP, so ``w_prob ∝ pi^(-1/m)``. Continuous at both boundaries;
    no dual clip (as the official code). n = 0 is no left clip, n -> inf hard clip; m = 1 is GPPO's constant,
    m -> inf no right clip. Recommended n=1, m=2 (n=2, m=2 for ~1.5B models).
    """

    title = "DGPO (decoupled gradient policy optimization)"
    paper = "arXiv:2603.14389"
    eps_low: float = 0.2
    """Left boundary at r = 1 - eps_low (verl clip_ratio_low)."""
    eps_high: float = 0.2
    """Right boundary at r = 1 + eps_high (verl clip_ratio_high)."""
    n: float = 1.0
    """Left decay exponent: w_prob ∝ pi^n at LN (official dgpo_n)."""
    m: float = 2.0
    """Right decay root: w_prob ∝ pi^(-1/m) at HP (official dgpo_m)."""

    def validate(self):
        check_eps(self)
        check_number("n", self.n, low=0.0)
        check_number("m", self.m, low=0.0, low_open=True)

    def log_weight(self, log_ratio, advantages):
        lo, hi = self.bounds
        ln, hp = regions(self, log_ratio, advantages)
        left = (self.n + 1.0) * log_ratio - self.n * math.log(lo)
        right = math.log(hi) / self.m + (1.0 - 1.0 / self.m) * log_ratio
        return torch.where(ln, left, torch.where(hp, right, log_ratio))

    def surrogate(self, log_ratio, advantages, log_prob):
        return advantages * torch.exp(self.log_weight(log_ratio, advantages))
