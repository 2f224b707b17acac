"""Independent closed forms of every scheme's gradient weight, written per region from
../shared/reference/schemes.md in plain Python floats. The tests hold the library's autograd to these."""

from __future__ import annotations

import math


def w_log(name: str, hp: dict, r: float, a: float) -> float:
    """w_log(r, A) of scheme ``name`` with hyper-parameters ``hp`` (defaults filled in by the caller)."""
    el, eh = hp.get("eps_low", 0.2), hp.get("eps_high", 0.2)
    lo = None if el is None else 1 - el
    hi = 1 + eh
    left = lo is not None and r < lo and a < 0
    right = r > hi and a > 0
    dual = hp.get("dual_clip")
    in_dual = dual is not None and a < 0 and r > dual
    if name == "pg":
        return r
    if name == "ppo":
        return 0.0 if (left or right or in_dual) else r
    if name == "cispo":
        clipped = min(r, hi)
        return clipped if lo is None else max(clipped, lo)
    if name == "gppo":
        if in_dual:
            return 0.0
        return hp["beta1"] * lo if left else hp["beta2"] * hi if right else r
    if name == "aspo":
        if a > 0:
            return 0.0 if right else min(1 / r, hp["c_pos"])
        return 0.0 if left else min(r, hp["c_neg"])
    if name == "sapo":
        tau = hp["tau_pos"] if a > 0 else hp["tau_neg"]
        s = 1 / (1 + math.exp(-tau * (r - 1)))
        return 4 * s * (1 - s) * r
    if name == "cpgd":
        return 0.0 if (left or right) else 1.0
    if name == "dgpo":
        n, m = hp["n"], hp["m"]
        if left:
            return r ** (n + 1) / lo**n
        if right:
            return hi ** (1 / m) * r ** (1 - 1 / m)
        return r
    raise KeyError(name)


def drift(name: str, hp: dict, r: float) -> float:
    """The part of -d loss / d log pi that does not scale with A (CPGD only)."""
    if name == "cpgd":
        return -hp["drift_coef"] * min(r - 1, hp["drift_cap"])
    return 0.0


def kinks(name: str, hp: dict) -> list[float]:
    """Ratios where w_log may jump: points there are excluded from gradient comparisons."""
    pts = [1.0]
    if hp.get("eps_low") is not None:
        pts.append(1 - hp["eps_low"])
    if "eps_high" in hp:
        pts.append(1 + hp["eps_high"])
    for key in ("dual_clip", "c_neg"):
        if hp.get(key) is not None:
            pts.append(hp[key])
    if "c_pos" in hp:
        pts.append(1 / hp["c_pos"])
    if name == "cpgd":
        pts.append(1 + hp["drift_cap"])
    return pts
