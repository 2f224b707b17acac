"""The scheme protocol and registry.

A clipping scheme is a frozen, validated dataclass of hyper-parameters that defines, once, the weight its
gradient puts on ``A * grad(log pi)`` as a function of the log-ratio ``log r = log pi - log pi_old`` and the
advantage ``A`` (``log_weight``). Everything else derives from it:

* ``token_loss``: a per-token loss whose autograd gradient is exactly ``-A * w_log`` (plus a drift term for
  CPGD), with the forward value of the scheme's published surrogate;
* ``weight`` / ``prob_weight``: ``w_log`` and ``w_prob = w_log / pi`` for curves and metrics.

Weights are computed in log space on detached tensors, and the only term that carries a gradient is linear in
``log pi``. So no branch of an unselected token can overflow into the backward pass: the released DGPO code's
``torch.where`` over an ``exp`` returns NaN gradients (0 * inf) for extreme unselected tokens; this cannot.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
from torch import Tensor

from dgpo.checks import check_number, check_token_inputs, require

# Log-ratios are clamped here inside ``token_loss`` (verl clamps at 20): e^80 is still finite in float32.
LOG_RATIO_CLAMP = 80.0

_REGISTRY: dict[str, type[Scheme]] = {}


def register(name: str):
    """Class decorator: add a ``Scheme`` subclass to the registry under ``name``."""

    def deco(cls: type[Scheme]) -> type[Scheme]:
        require(name not in _REGISTRY, f"scheme {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available_schemes() -> list[str]:
    """Names accepted by ``make``, in registration order."""
    return list(_REGISTRY)


def scheme_class(name: str) -> type[Scheme]:
    """The registered class for ``name``; ``ValueError`` listing the valid names otherwise."""
    require(
        name in _REGISTRY,
        f"unknown scheme {name!r}; valid schemes: {', '.join(_REGISTRY)}",
    )
    return _REGISTRY[name]


def hyperparameters(name: str) -> dict[str, object]:
    """The hyper-parameters of scheme ``name`` with their defaults."""
    return {f.name: f.default for f in dataclasses.fields(scheme_class(name))}


def make(name: str, **hparams) -> Scheme:
    """Build the scheme ``name`` with keyword hyper-parameters; unknown names or values raise ``ValueError``.

    >>> make("dgpo", eps_low=0.2, eps_high=0.2, n=1, m=2)
    DGPO(eps_low=0.2, eps_high=0.2, n=1, m=2)
    """
    cls = scheme_class(name)
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(hparams) - set(valid))
    require(
        not unknown,
        f"unknown hyper-parameter(s) {', '.join(unknown)} for scheme {name!r}; "
        f"valid: {', '.join(valid) if valid else '(none)'}",
    )
    return cls(**hparams)


@dataclasses.dataclass(frozen=True)
class Scheme:
    """Base class of every clipping scheme (see the module docstring)."""

    name: ClassVar[str] = "scheme"
    title: ClassVar[str] = ""
    """Human-readable name, e.g. 'PPO / GRPO hard clip'."""
    paper: ClassVar[str] = ""
    """Reference, e.g. 'arXiv:2603.14389'."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Range checks of the hyper-parameters (override; raise ``ValueError``)."""

    # -- the single source of truth -----------------------------------------------------------------
    def log_weight(self, log_ratio: Tensor, advantages: Tensor) -> Tensor:
        """``log w_log(r, A)``; ``-inf`` where the scheme drops the gradient. Inputs broadcast."""
        raise NotImplementedError

    def surrogate(self, log_ratio: Tensor, advantages: Tensor, log_prob: Tensor) -> Tensor:
        """Forward value of the per-token objective ``J`` (maximised), as the published code reports it."""
        return advantages * torch.exp(log_ratio)

    def drift(self, log_ratio: Tensor) -> tuple[Tensor, Tensor] | None:
        """Optional term that does not scale with ``A``: (loss value, its ascent coefficient on grad log pi)."""
        return None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """Ratio bounds ``(1 - eps_low, 1 + eps_high)`` of the trust region; None where a side has none."""
        lo = getattr(self, "eps_low", None)
        hi = getattr(self, "eps_high", None)
        return (None if lo is None else 1.0 - lo, None if hi is None else 1.0 + hi)

    # -- derived ----------------------------------------------------------------------------------------
    def weight(self, ratio: Tensor, advantages: Tensor) -> Tensor:
        """``w_log``: the weight the gradient puts on ``A * grad(log pi)`` at ratio ``r = pi / pi_old``."""
        ratio = torch.as_tensor(ratio)
        if not ratio.is_floating_point():
            ratio = ratio.double()
        advantages = torch.as_tensor(advantages, dtype=ratio.dtype, device=ratio.device)
        require(not bool(torch.isnan(ratio).any()), "ratio holds NaN")
        require(bool((ratio >= 0).all()), "ratio must be >= 0 (it is pi / pi_old)")
        return torch.exp(self.log_weight(torch.log(ratio), advantages))

    def prob_weight(self, prob: Tensor, old_prob: Tensor, advantages: Tensor) -> Tensor:
        """``w_prob = w_log / pi``: the weight on ``A * grad(pi)``, computed in log space so that its limits hold."""
        prob = torch.as_tensor(prob)
        if not prob.is_floating_point():
            prob = prob.double()
        old_prob = torch.as_tensor(old_prob, dtype=prob.dtype, device=prob.device)
        advantages = torch.as_tensor(advantages, dtype=prob.dtype, device=prob.device)
        for name, p in (("prob", prob), ("old_prob", old_prob)):
            require(bool(((p >= 0) & (p <= 1)).all()), f"{name} must be probabilities in [0, 1]")
        require(bool((old_prob > 0).all()), "old_prob must be > 0 (a sampled token had probability > 0)")
        # pi = 0 is evaluated at the smallest normal number: log-space limits stay right instead of -inf - -inf.
        log_p = torch.log(prob.clamp(min=torch.finfo(prob.dtype).tiny))
        return torch.exp(self.log_weight(log_p - torch.log(old_prob), advantages) - log_p)

    def token_loss(
        self, log_prob: Tensor, old_log_prob: Tensor, advantages: Tensor, mask: Tensor | None = None
    ) -> Tensor:
        """Per-token loss to minimise, same shape as ``log_prob``; zero where ``mask`` is 0.

        ``-d loss / d log_prob = A * w_log(r, A) + drift``; gradients flow through ``log_prob`` only.
        Half-precision inputs are computed in float32.
        """
        mask = check_token_inputs(log_prob, old_log_prob, advantages, mask)
        x = log_prob if log_prob.dtype in (torch.float32, torch.float64) else log_prob.float()
        old = old_log_prob.detach().to(x.dtype)
        adv = torch.broadcast_to(advantages.detach().to(x.dtype), x.shape)
        if mask is not None:  # padding may hold anything: make it harmless before any arithmetic
            x, old, adv = (torch.where(mask, t, torch.zeros_like(t)) for t in (x, old, adv))
        with torch.no_grad():
            log_ratio = (x - old).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
            ascent = adv * torch.exp(self.log_weight(log_ratio, adv))
            value = -self.surrogate(log_ratio, adv, x)
            extra = self.drift(log_ratio)
            if extra is not None:
                value = value + extra[0]
                ascent = ascent + extra[1]
        loss = value - ascent * (x - x.detach())
        return loss if mask is None else torch.where(mask, loss, torch.zeros_like(loss))


# -- helpers for scheme definitions ---------------------------------------------------------------------
def check_eps(scheme, *, allow_no_low: bool = False) -> None:
    """Standard checks: eps_low in [0, 1) (None allowed where a scheme has no lower bound), eps_high >= 0."""
    check_number("eps_low", scheme.eps_low, low=0.0, high=1.0, high_open=True, allow_none=allow_no_low)
    check_number("eps_high", scheme.eps_high, low=0.0)


def check_dual_clip(scheme) -> None:
    check_number("dual_clip", scheme.dual_clip, low=1.0, low_open=True, allow_none=True)


def regions(scheme, log_ratio: Tensor, advantages: Tensor) -> tuple[Tensor, Tensor]:
    """Boolean masks of the left boundary LN (r < 1-eps_low, A < 0) and right boundary HP (r > 1+eps_high, A > 0)."""
    lo, hi = scheme.bounds
    none = torch.zeros(torch.broadcast_shapes(log_ratio.shape, advantages.shape), dtype=torch.bool)
    left = (log_ratio < math.log(lo)) & (advantages < 0) if lo is not None else none.to(log_ratio.device)
    right = (log_ratio > math.log(hi)) & (advantages > 0) if hi is not None else none.to(log_ratio.device)
    return left, right


def const(value: float, like: Tensor) -> Tensor:
    """A tensor of ``value`` shaped like ``like``; ``log(0)`` is ``-inf`` on purpose."""
    return torch.full_like(like, value)


def log_or_neg_inf(value: float) -> float:
    return math.log(value) if value > 0 else float("-inf")
