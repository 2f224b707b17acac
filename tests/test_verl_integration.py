"""The verl plug-in against the real verl, in its own venv (.venv-verl, made by `make verl-venv`).

verl pins versions that differ from ours, so tests/verl_check.py runs inside that venv and prints JSON: what
`import verl` registered, and loss + gradient of every plug-in loss, fetched with verl's `get_policy_loss_fn` and
called with verl's own actor config, next to the core's on the same float64 tensors.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERL_PYTHON = Path(os.environ.get("DGPO_VERL_PYTHON", ROOT / ".venv-verl" / "bin" / "python"))
OURS = ("dgpo", "cpgd", "gppo", "aspo", "cispo_bounded", "cispo_one_sided", "pg")
# verl 0.9.1's own losses: none of ours among them.
VERLS_OWN = (
    "vanilla",
    "dppo_tv",
    "dppo_kl",
    "gspo",
    "sapo",
    "gpg",
    "clip_cov",
    "kl_cov",
    "geo_mean",
    "dro",
    "cispo",
    "bypass_mode",
)

pytestmark = pytest.mark.slow


def _run(mode: str, **env: str) -> dict:
    # PYTHONPATH: the checkout under test, whatever checkout the cached venv's editable install points at.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "VERL_LOGGING_LEVEL": "WARN", **env}
    proc = subprocess.run(
        [str(VERL_PYTHON), str(ROOT / "tests" / "verl_check.py"), mode],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, f"verl_check.py {mode} failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def results():
    """Three verl processes, concurrently (each pays verl's import once); "full" runs with the default env."""
    if not VERL_PYTHON.exists():
        pytest.fail(f"{VERL_PYTHON} is missing: run `make verl-venv` (or `make test`, which creates it) first")
    runs = {
        "no_plugins": ("registry", {"VERL_USE_EXTERNAL_PLUGINS": "none"}),
        "external_modules": (
            "registry",
            {"VERL_USE_EXTERNAL_PLUGINS": "none", "VERL_USE_EXTERNAL_MODULES": "dgpo.integrations.verl"},
        ),
        "full": ("full", {}),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {key: pool.submit(_run, mode, **env) for key, (mode, env) in runs.items()}
        return {key: f.result() for key, f in futures.items()}


def test_versions(results):
    assert results["full"]["verl"] == "0.9.1"
    assert results["full"]["torch"].startswith("2.13.0")


def test_verl_alone_lacks_our_losses(results):
    registered = results["no_plugins"]["registered"]
    assert not results["no_plugins"]["plugin_module_loaded"]
    assert set(VERLS_OWN) <= set(registered)
    assert not set(OURS) & set(registered), registered


@pytest.mark.parametrize("route", ["full", "external_modules"])  # entry point (default env), env variable
def test_import_verl_registers_every_loss(results, route):
    assert results[route]["plugin_module_loaded"]
    assert set(OURS) <= set(results[route]["registered"])
    assert set(VERLS_OWN) <= set(results[route]["registered"])  # verl's own losses are untouched


def test_every_plugin_loss_equals_the_core_in_loss_and_gradient(results):
    rows = results["full"]["rows"]
    print("\ncase | agg | verl loss | core loss | |loss diff| | max |grad diff| | clip frac")
    for r in rows:
        print(
            f"{r['case']} | {r['agg']} | {r['verl_loss']:.9f} | {r['core_loss']:.9f} | "
            f"{r['loss_abs_diff']:.1e} | {r['grad_max_abs_diff']:.1e} | {r['core_clipfrac']}"
        )
    modes = {r["case"].split()[0] for r in rows if not r["case"].startswith("reference")}
    assert modes == set(OURS)
    assert len(rows) == 8 * 4 + 3 + 2 + 2
    for r in rows:
        # verl's seq-mean-token-mean divides by (count + 1e-8): a relative difference of ~1e-9 is expected.
        assert r["loss_abs_diff"] <= 1e-7 * max(1.0, abs(r["core_loss"])), r
        assert r["grad_max_abs_diff"] <= 1e-8, r
        assert r["grad_max_abs"] > 1e-3, r  # the gradient is not trivially zero
    # The batch reaches the boundaries, so the clipped branches were compared, not just r inside the region.
    clipped = [r for r in rows if r["case"].startswith(("dgpo", "gppo", "aspo", "cpgd", "cispo"))]
    assert all(r["core_clipfrac"] > 0.1 for r in clipped)
    vanilla = next(r for r in rows if "verl vanilla" in r["case"])
    assert vanilla["verl_clipfrac"] == pytest.approx(
        vanilla["core_clipfrac"], abs=1e-6
    )  # same tokens (verl counts in float32)


def test_dgpo_settings_fail_with_the_fix_in_the_message(results):
    errors = results["full"]["errors"]
    assert "needs actor_rollout_ref.actor.policy_loss.dgpo_n" in errors["missing"]
    assert "policy_loss._target_=dgpo.integrations.verl.DGPOPolicyLossConfig" in errors["missing"]
    assert "n must be in [0.0, inf), got -1.0" in errors["invalid"]
    assert "eps_low must be in [0.0, 1.0), got 1.5" in errors["bad_eps"]
    # Why the _target_ switch is documented: verl's own PolicyLossConfig rejects the official key.
    assert "PolicyLossConfig" in errors["without_target"]
