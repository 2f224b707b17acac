"""CLI: ``python -m sims.lm --task addition --scheme dgpo --steps 200 --sft-steps 300 --out runs/``.

Writes a run folder under ``--out`` (config.json, metrics.jsonl, samples.jsonl, summary.json, checkpoints).
``--resume RUN_DIR`` continues a killed run from its newest checkpoint. Bad input exits with status 2 and one
line on stderr; SIGTERM (the app's Stop) ends the run as ``stopped``.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from pathlib import Path

from sims.fielddocs import field_docs
from sims.lm.config import LMConfig, parse_hp

_FLAGS = {f.name: f for f in dataclasses.fields(LMConfig) if f.name not in ("scheme_hp", "model_dir")}


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message; keep it to one line
        self.exit(2, f"sims.lm: error: {message} (see python -m sims.lm --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(prog="python -m sims.lm", description=__doc__.split("\n\n")[0])
    for name, field in _FLAGS.items():
        kind = {"int": int, "float": float, "str": str}[str(field.type).split(" ")[0]]
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=None,
                       help=f"{field_docs(LMConfig)[name]} (default {field.default})")  # fmt: skip
    p.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE",
                   help="scheme hyper-parameter, repeatable: --hp eps_high=0.28 --hp n=2")  # fmt: skip
    p.add_argument("--model", default=None, metavar="DIR", help="local Hugging Face model directory to start from")
    p.add_argument("--out", default=None, help="run store root (default: $DGPO_RUNS_DIR or runs/)")
    p.add_argument("--name", default=None, help="run folder name (made unique)")
    p.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue RUN_DIR from its newest checkpoint")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest for the tiny model)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def config_from_args(args) -> LMConfig:
    given = {name: getattr(args, name) for name in _FLAGS if getattr(args, name) is not None}
    if args.resume:
        from sims.runstore import read_json

        run_dir = Path(args.resume)
        if not (run_dir / "config.json").is_file():
            raise ValueError(f"--resume {args.resume}: not a run folder (no config.json)")
        extra = (
            sorted(set(given) - {"steps", "device"}) + (["hp"] if args.hp else []) + (["model"] if args.model else [])
        )
        if extra:
            raise ValueError(f"--resume takes the config from {run_dir}/config.json; drop --{', --'.join(extra)}")
        stored = read_json(run_dir / "config.json")
        if stored.get("kind") != "lm":
            raise ValueError(f"--resume {args.resume}: not an LM run (kind {stored.get('kind')!r})")
        return LMConfig.from_dict({**stored, **given})
    scheme = given.get("scheme", LMConfig.scheme)
    return LMConfig(**given, scheme_hp=parse_hp(scheme, args.hp), model_dir=args.model)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads < 1:
        print("sims.lm: error: --threads must be >= 1", file=sys.stderr)
        return 2
    try:
        cfg = config_from_args(args)
        import torch

        from sims.lm.train import train
        from sims.runstore import DEFAULT_ROOT

        torch.set_num_threads(args.threads)
        # The app's Stop sends SIGTERM: turn it into KeyboardInterrupt so the run is closed as "stopped".
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        out = Path(args.out) if args.out else DEFAULT_ROOT
        run_dir = train(cfg, out, name=args.name, resume=args.resume, progress=not args.quiet)
    except ValueError as e:
        print(f"sims.lm: error: {e}", file=sys.stderr)
        return 2
    print(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
