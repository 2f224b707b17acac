"""CLI: run the listed schemes on identical seeds of the bandit, one run folder per scheme.

    python -m sims.bandit --scheme ppo,gppo,dgpo --steps 300 --seeds 64 --out runs/ --preset rare-correct

Every BanditConfig field is a flag (``--lr``, ``--passes``, ...) and every scheme hyper-parameter is a flag
(``--eps-high 0.28``, ``--n 2``) applied to each listed scheme that has it. A bad flag or value exits with
status 2 and a one-line reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from tqdm import tqdm

import dgpo
from sims.bandit.config import PRESETS, BanditConfig, preset
from sims.bandit.run import run_schemes, set_threads
from sims.fielddocs import field_docs
from sims.runstore import DEFAULT_ROOT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(2, f"python -m sims.bandit: error: {message} (see --help)\n")


def _scheme_fields() -> dict[str, list[str]]:
    """Hyper-parameter name -> schemes that have it."""
    owners: dict[str, list[str]] = {}
    for s in dgpo.available_schemes():
        for f in dataclasses.fields(dgpo.scheme_class(s)):
            owners.setdefault(f.name, []).append(s)
    return owners


def _hp_value(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m sims.bandit", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--scheme",
        default=None,
        help=f"comma-separated schemes (default ppo,gppo,dgpo): {', '.join(dgpo.available_schemes())}",
    )
    p.add_argument("--preset", default="default", help=f"starting config: {', '.join(PRESETS)} (flags override it)")
    p.add_argument("--out", default=str(DEFAULT_ROOT), help="runs root; one folder per scheme is created in it")
    p.add_argument("--name", default=None, help="run-name prefix (default bandit-<preset>)")
    p.add_argument("--config", default=None, help="rerun a saved run: path to its config.json (other flags override)")
    sim = p.add_argument_group("simulator (BanditConfig; default = the preset's value)")
    docs = field_docs(BanditConfig)
    for f in dataclasses.fields(BanditConfig):
        kind = type(f.default)
        sim.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=kind,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"{docs.get(f.name, '')} [default {f.default}]",
        )
    hp = p.add_argument_group("scheme hyper-parameters (applied to each listed scheme that has them)")
    for name, owners in _scheme_fields().items():
        doc = next(
            (
                f"({s}) {field_docs(dgpo.scheme_class(s))[name]}"
                for s in owners
                if name in field_docs(dgpo.scheme_class(s))
            ),
            "",
        )
        hp.add_argument(
            f"--{name.replace('_', '-')}",
            type=_hp_value,
            default=argparse.SUPPRESS,
            metavar="X",
            help=f"{doc} Schemes: {', '.join(owners)}.",
        )
    return p


def parse(argv: list[str] | None = None):
    """Parse argv into (BanditConfig, [schemes], preset name, args); ValueError on a bad value."""
    p = build_parser()
    args = p.parse_args(argv)
    saved = json.loads(Path(args.config).read_text()) if args.config else None
    preset_name = saved["preset"] if saved else args.preset
    base = dict(saved["bandit"]) if saved else {}
    sim_over = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(BanditConfig) if getattr(args, f.name) is not None
    }
    cfg = preset(preset_name, **{**base, **sim_over}) if not saved else BanditConfig(**{**base, **sim_over})
    names = [s.strip() for s in (args.scheme or (saved["scheme"] if saved else "ppo,gppo,dgpo")).split(",")]
    names = [n for n in names if n]
    if not names:
        raise ValueError("--scheme is empty; give e.g. --scheme ppo,dgpo")
    owners = _scheme_fields()
    given = {k: getattr(args, k) for k in owners if hasattr(args, k)}
    for k in given:
        if not set(owners[k]) & set(names):
            raise ValueError(
                f"--{k.replace('_', '-')} applies to none of {','.join(names)} (only to {', '.join(owners[k])})"
            )
    schemes = []
    for n in names:
        fields = {f.name for f in dataclasses.fields(dgpo.scheme_class(n))}
        hp = dict(saved["scheme_hp"]) if saved and saved["scheme"] == n else {}
        hp.update({k: v for k, v in given.items() if k in fields})
        hp = {k: (int(v) if isinstance(v, float) and v.is_integer() and k in ("n", "m") else v) for k, v in hp.items()}
        schemes.append(dgpo.make(n, **hp))
    return cfg, schemes, preset_name, args


def main(argv: list[str] | None = None) -> int:
    try:
        cfg, schemes, preset_name, args = parse(argv)
    except (ValueError, FileNotFoundError, KeyError, json.JSONDecodeError) as e:
        print(f"python -m sims.bandit: error: {e}", file=sys.stderr)
        return 2
    set_threads()
    bar = tqdm(total=cfg.steps, desc=f"{','.join(s.name for s in schemes)} x {cfg.seeds} seeds", unit="step")
    paths = run_schemes(
        cfg,
        schemes,
        args.out,
        preset=preset_name,
        name=args.name or f"bandit-{preset_name}",
        progress=lambda: bar.update(1),
    )
    bar.close()
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
