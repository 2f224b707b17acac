"""What the dashboard says about each scheme: its gradient weight as LaTeX and its behaviour at the boundaries.

Text only (no numbers are computed from it): every plotted or tabulated number comes from ``dgpo``. The formulas
restate the docstrings of dgpo/schemes.py in the notation of docs/schemes.md: ``r = pi / pi_old``; ``w_log`` is the
weight on ``A * grad log pi`` and ``w_prob = w_log / pi`` the weight on ``A * grad pi``. LN is the left boundary
(``r < 1 - eps_low, A < 0``), HP the right one (``r > 1 + eps_high, A > 0``).
"""

from __future__ import annotations

from typing import NamedTuple

import dgpo
from sims.fielddocs import field_docs as _field_docs


class SchemeNote(NamedTuple):
    kind: str
    """'reference', 'hard clip', 'soft clip', 'smooth gate' or 'decay'."""
    latex: str
    """``w_log(r, A)`` as a LaTeX cases block."""
    left: str
    """What happens at LN (a rare token with A < 0 whose probability keeps falling)."""
    right: str
    """What happens at HP (a token with A > 0 whose probability already rose past 1 + eps_high)."""


NOTES: dict[str, SchemeNote] = {
    "pg": SchemeNote(
        "reference",
        r"w_{\log}(r, A) = r \ \text{everywhere} \qquad (J = rA)",
        "No boundary: w_prob = 1/pi_old however far pi falls.",
        "No boundary: the weight keeps growing with r.",
    ),
    "ppo": SchemeNote(
        "hard clip",
        r"w_{\log} = \begin{cases} 0 & r < 1-\varepsilon_l,\ A<0 \ \text{(LN)} \\"
        r" 0 & r > 1+\varepsilon_h,\ A>0 \ \text{(HP)} \\ r & \text{otherwise} \end{cases}",
        "The gradient is dropped (weight jumps from 1-eps_low to 0): a falling negative token gets no more push.",
        "The gradient is dropped (jump from 1+eps_high to 0): the token can no longer be reinforced.",
    ),
    "cispo": SchemeNote(
        "soft clip",
        r"\begin{gathered} w_{\log} = \operatorname{clip}(r,\ 1-\varepsilon_l,\ 1+\varepsilon_h) \\"
        r" J = \operatorname{sg}(\operatorname{clip}(r))\,A\log\pi \end{gathered}",
        "Weight stays 1-eps_low, so w_prob = (1-eps_low)/pi grows like 1/pi as pi -> 0 (no lower bound: 1/pi_old).",
        "Weight stays 1+eps_high: the token keeps a gradient, capped.",
    ),
    "gppo": SchemeNote(
        "soft clip",
        r"w_{\log} = \begin{cases} \beta_1 (1-\varepsilon_l) & \text{LN} \\"
        r" \beta_2 (1+\varepsilon_h) & \text{HP} \\ r & \text{otherwise} \end{cases}",
        "Weight beta1(1-eps_low) is kept, so w_prob grows like 1/pi: rare negative tokens are pushed ever harder.",
        "Weight beta2(1+eps_high) is kept: a constant push on already-boosted tokens.",
    ),
    "aspo": SchemeNote(
        "hard clip",
        r"w_{\log} = \begin{cases} \min(1/r,\ c_{pos}) & A>0,\ r \le 1+\varepsilon_h \\ 0 & \text{LN or HP} \\"
        r" \min(r,\ c_{neg}) & A<0,\ r \ge 1-\varepsilon_l \end{cases}",
        "Dropped, as PPO. But for A > 0 below the left edge (LP) w_prob = c_pos/pi diverges.",
        "Dropped, as PPO; inside, positive tokens are weighted by the flipped ratio 1/r.",
    ),
    "sapo": SchemeNote(
        "smooth gate",
        r"\begin{gathered} w_{\log} = 4\,\sigma(1-\sigma)\,r,\quad \sigma = \sigma\big(\tau(r-1)\big) \\"
        r" \tau = \tau_{pos}\ (A>0),\quad \tau_{neg}\ (A<0) \end{gathered}",
        "No boundary: the gate fades smoothly; w_prob stays bounded (about 0.77/pi_old as pi -> 0).",
        "No boundary: the weight decays exponentially in r.",
    ),
    "cpgd": SchemeNote(
        "hard clip",
        r"\begin{gathered} w_{\log} = \begin{cases} 0 & \text{LN or HP} \\ 1 & \text{otherwise} \end{cases} \\"
        r" \text{plus drift: } -\alpha \min(r-1,\ \text{cap}) \end{gathered}",
        "Dropped (jump from 1 to 0); no ratio factor inside. The drift term pulls pi back towards pi_old.",
        "Dropped (jump from 1 to 0).",
    ),
    "dgpo": SchemeNote(
        "decay",
        r"w_{\log} = \begin{cases} r^{\,n+1} / (1-\varepsilon_l)^{n} & \text{LN} \\"
        r" (1+\varepsilon_h)^{1/m}\, r^{\,1-1/m} & \text{HP} \\ r & \text{otherwise} \end{cases}",
        "Continuous, then decays: w_prob ∝ pi^n -> 0, so a vanishing negative token is pushed ever less.",
        "Continuous, then grows only like pi^(-1/m) in w_prob: softer than GPPO (m = 1), unlike PPO not zero.",
    ),
}

INTRO = """
Every scheme here multiplies a token's policy gradient `A · ∇log π` by a **weight** `w_log` that depends on the
ratio `r = π / π_old`. Inside the trust region `1-ε_low ≤ r ≤ 1+ε_high` they all agree (`w_log = r`, except CPGD's 1
and ASPO's flipped `1/r` for `A > 0`). They differ at the two **boundaries**:

* **Hard clipping** (PPO/GRPO, ASPO, CPGD) drops the gradient: the weight jumps to 0.
* **Soft clipping** (CISPO, GPPO) keeps a constant `w_log`, so the weight on `∇π`, `w_prob = w_log / π`, grows like
  `1/π`: a rare negative token whose probability falls is pushed ever harder.
* **DGPO** keeps the weight continuous at the boundary and then *decays* it: `w_prob ∝ π^n` at the left boundary,
  `∝ π^(-1/m)` at the right one.
"""


def field_docs(name: str) -> dict[str, str]:
    """The attribute docstring of each hyper-parameter of scheme ``name`` (the string under the field in
    dgpo/schemes.py), for widget help texts: read from the source, so it never drifts from the core."""
    return _field_docs(dgpo.scheme_class(name))
