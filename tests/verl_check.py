"""Runs inside .venv-verl (driven by tests/test_verl_integration.py); prints one JSON object on stdout.

``registry``: what ``import verl`` registered (the plug-in arrives through the ``verl.plugins`` entry point or
``VERL_USE_EXTERNAL_MODULES``). ``full``: build verl's actor config the way it does (Hydra composes its
ppo_trainer.yaml with command-line overrides, then ``omega_conf_to_dataclass``), fetch each loss with
``get_policy_loss_fn``, call it as verl's ``ppo_loss`` does (bool mask) and compare loss and gradient with the
core on the same float64 tensors; also compare the core with verl's own ``vanilla``, ``cispo`` and ``sapo`` and
with a restatement of the released DGPO code.
"""

from __future__ import annotations

import json
import math
import os
import sys

import torch
import verl  # its import loads the plug-ins (entry point or VERL_USE_EXTERNAL_MODULES)
from verl.trainer.ppo.core_algos import POLICY_LOSS_REGISTRY, get_policy_loss_fn

TARGET = "actor_rollout_ref.actor.policy_loss._target_=dgpo.integrations.verl.DGPOPolicyLossConfig"
AGGS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def actor_config(*overrides: str):
    """verl's FSDP actor config from its own ppo_trainer.yaml and command-line overrides, as ``main_ppo`` + workers."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from verl.utils.config import omega_conf_to_dataclass

    if not GlobalHydra.instance().is_initialized():
        initialize_config_dir(
            config_dir=os.path.join(os.path.dirname(verl.__file__), "trainer/config"), version_base=None
        )
    base = ["actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2", "actor_rollout_ref.rollout.n=4"]
    cfg = compose(config_name="ppo_trainer", overrides=base + list(overrides))
    return omega_conf_to_dataclass(cfg.actor_rollout_ref.actor)


def batch(seed: int = 0, b: int = 6, t: int = 10):
    """float64 tensors with ratios spread over every region; every sequence keeps >= 3 tokens."""
    g = torch.Generator().manual_seed(seed)
    old = -3.0 * torch.rand(b, t, generator=g, dtype=torch.float64) - 0.05
    log_prob = (old + 0.7 * torch.randn(b, t, generator=g, dtype=torch.float64)).clamp(max=-1e-4)
    adv = torch.randn(b, 1, generator=g, dtype=torch.float64).expand(b, t).contiguous()
    lengths = torch.randint(3, t + 1, (b,), generator=g)
    mask = (torch.arange(t)[None, :] < lengths[:, None]).to(torch.float64)
    return old, log_prob, adv, mask


def loss_and_grad(fn, old, log_prob, adv, mask):
    x = log_prob.clone().requires_grad_(True)
    loss, metrics = fn(x)
    loss.backward()
    return loss.item(), x.grad, metrics


def compare(name, agg, verl_fn, core_fn, tensors):
    old, log_prob, adv, mask = tensors
    lv, gv, mv = loss_and_grad(verl_fn, old, log_prob, adv, mask)
    lc, gc, mc = loss_and_grad(core_fn, old, log_prob, adv, mask)
    return {
        "case": name,
        "agg": agg,
        "verl_loss": lv,
        "core_loss": lc,
        "loss_abs_diff": abs(lv - lc),
        "grad_max_abs_diff": (gv - gc).abs().max().item(),
        "grad_max_abs": gc.abs().max().item(),
        "verl_clipfrac": mv.get("actor/pg_clipfrac"),
        "core_clipfrac": float(mc["clip/region_frac"])
        if "clip/region_frac" in mc
        else mc.get("actor/clip/region_frac"),
    }


def official_dgpo_loss(old, x, adv, mask, eps_low, eps_high, n, m):
    """Restatement of the released DGPO code's ratio replacement (docs/schemes.md section 3.1), token-mean."""
    r = torch.exp(x - old)
    ln = (r < 1 - eps_low) & (adv < 0)
    hp = (r > 1 + eps_high) & (adv > 0)
    sg = x.detach()
    left = torch.exp(x + n * sg - (n + 1) * old) / (1 - eps_low) ** n
    right = torch.exp(x + math.log(1 + eps_high) / m - (m - 1) / m * old - sg / m)
    r_tilde = torch.where(ln, left, torch.where(hp, right, r))
    return (-adv * r_tilde * mask).sum() / mask.sum(), {}


def full() -> list[dict]:
    import dgpo
    from dgpo.integrations.verl import DGPOPolicyLossConfig

    tensors = batch()
    old, _, adv, mask = tensors
    cases = [
        (
            "dgpo",
            ["clip_ratio_high=0.28", "+policy_loss.dgpo_n=1", "+policy_loss.dgpo_m=2"],
            "dgpo",
            dict(eps_low=0.2, eps_high=0.28, n=1, m=2),
        ),
        ("dgpo", ["+policy_loss.dgpo_n=2", "+policy_loss.dgpo_m=2"], "dgpo", dict(n=2, m=2)),
        ("cpgd", ["+policy_loss.cpgd_drift_coef=0.05"], "cpgd", dict(drift_coef=0.05)),
        ("gppo", ["+policy_loss.gppo_beta1=0.75", "clip_ratio_c=10"], "gppo", dict(beta1=0.75, dual_clip=10.0)),
        ("aspo", ["+policy_loss.aspo_c_pos=2.5"], "aspo", dict(c_pos=2.5)),
        ("cispo_bounded", ["clip_ratio_low=0.3"], "cispo", dict(eps_low=0.3)),
        ("cispo_one_sided", ["clip_ratio_high=0.5"], "cispo", dict(eps_low=None, eps_high=0.5)),
        ("pg", [], "pg", {}),
    ]
    rows = []
    for mode, extra, core_name, hp in cases:
        over = [f"actor_rollout_ref.actor.policy_loss.loss_mode={mode}", TARGET]
        over += [("+" if e.startswith("+") else "") + "actor_rollout_ref.actor." + e.lstrip("+") for e in extra]
        cfg = actor_config(*over)
        assert isinstance(cfg.policy_loss, DGPOPolicyLossConfig), type(cfg.policy_loss)
        scheme = dgpo.make(core_name, **hp)
        for agg in AGGS:
            fn = get_policy_loss_fn(mode)
            rows.append(
                compare(
                    f"{mode} {' '.join(extra)}".strip(),
                    agg,
                    lambda x, fn=fn, agg=agg, cfg=cfg: fn(old, x, adv, mask.bool(), loss_agg_mode=agg, config=cfg),
                    lambda x, scheme=scheme, agg=agg: dgpo.policy_loss(scheme, x, old, adv, mask, agg=agg),
                    tensors,
                )
            )
    # References: verl's own implementations (independent code) against the core.
    refs = [
        ("vanilla", [], dgpo.make("ppo", dual_clip=3.0), "token-mean"),
        ("cispo", ["clip_ratio_low=0.3"], dgpo.make("cispo", eps_low=0.3), "token-mean"),
        ("sapo", [], dgpo.make("sapo"), "seq-mean-token-mean"),  # verl's sapo always uses seq-mean-token-mean
    ]
    for mode, extra, scheme, agg in refs:
        cfg = actor_config(
            f"actor_rollout_ref.actor.policy_loss.loss_mode={mode}", *["actor_rollout_ref.actor." + e for e in extra]
        )
        fn = get_policy_loss_fn(mode)
        rows.append(
            compare(
                f"reference: verl {mode} vs core {scheme.name}",
                agg,
                lambda x, fn=fn, agg=agg, cfg=cfg: fn(old, x, adv, mask.bool(), loss_agg_mode=agg, config=cfg),
                lambda x, scheme=scheme, agg=agg: dgpo.policy_loss(scheme, x, old, adv, mask, agg=agg),
                tensors,
            )
        )
    # Data-parallel aggregation: verl's workers fill global_batch_info; ours must aggregate exactly as verl's own cispo.
    for agg in ("token-mean", "seq-mean-token-sum"):
        mode_cfgs = {}
        for mode in ("cispo", "cispo_bounded"):
            over = [
                f"actor_rollout_ref.actor.policy_loss.loss_mode={mode}",
                "actor_rollout_ref.actor.clip_ratio_low=0.3",
            ]
            mode_cfgs[mode] = cfg = actor_config(*over)
            cfg.global_batch_info.update(dp_size=2, batch_num_tokens=97, global_batch_size=12, loss_scale_factor=None)
        rows.append(
            compare(
                "reference: dgpo-lab cispo_bounded vs verl cispo, dp_size=2 global batch",
                agg,
                lambda x, agg=agg, cfgs=mode_cfgs: get_policy_loss_fn("cispo")(
                    old, x, adv, mask.bool(), loss_agg_mode=agg, config=cfgs["cispo"]
                ),
                lambda x, agg=agg, cfgs=mode_cfgs: get_policy_loss_fn("cispo_bounded")(
                    old, x, adv, mask.bool(), loss_agg_mode=agg, config=cfgs["cispo_bounded"]
                ),
                tensors,
            )
        )
    for n, m in ((1, 2), (2, 2)):
        rows.append(
            compare(
                f"reference: released DGPO code n={n} m={m} vs core dgpo",
                "token-mean",
                lambda x, n=n, m=m: official_dgpo_loss(old, x, adv, mask, 0.2, 0.2, n, m),
                lambda x, n=n, m=m: dgpo.policy_loss(dgpo.make("dgpo", n=n, m=m), x, old, adv, mask),
                tensors,
            )
        )
    return rows


def errors() -> dict[str, str]:
    """The messages users see for a missing or invalid DGPO setting."""
    old, log_prob, adv, mask = batch()
    out = {}
    settings = {
        "missing": ["actor_rollout_ref.actor.policy_loss.loss_mode=dgpo"],
        "invalid": [
            "actor_rollout_ref.actor.policy_loss.loss_mode=dgpo",
            TARGET,
            "+actor_rollout_ref.actor.policy_loss.dgpo_n=-1",
            "+actor_rollout_ref.actor.policy_loss.dgpo_m=2",
        ],
        "bad_eps": [
            "actor_rollout_ref.actor.policy_loss.loss_mode=dgpo",
            TARGET,
            "actor_rollout_ref.actor.clip_ratio_low=1.5",
            "+actor_rollout_ref.actor.policy_loss.dgpo_n=1",
            "+actor_rollout_ref.actor.policy_loss.dgpo_m=2",
        ],
    }
    for key, over in settings.items():
        try:
            cfg = actor_config(*over)
            get_policy_loss_fn("dgpo")(old, log_prob, adv, mask, loss_agg_mode="token-mean", config=cfg)
            out[key] = "no error"
        except ValueError as e:
            out[key] = str(e)
    try:  # the official key without switching the dataclass: verl's own PolicyLossConfig refuses it
        actor_config(
            "actor_rollout_ref.actor.policy_loss.loss_mode=dgpo", "+actor_rollout_ref.actor.policy_loss.dgpo_n=1"
        )
        out["without_target"] = "no error"
    except Exception as e:  # noqa: BLE001  (Hydra wraps the TypeError)
        out["without_target"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
    return out


if __name__ == "__main__":
    result = {
        "verl": verl.__version__,
        "torch": torch.__version__,
        "registered": sorted(POLICY_LOSS_REGISTRY),
        "plugin_module_loaded": "dgpo.integrations.verl" in sys.modules,
    }
    if sys.argv[1:] == ["full"]:
        result["rows"] = full()
        result["errors"] = errors()
    print(json.dumps(result))
