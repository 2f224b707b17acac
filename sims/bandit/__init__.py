"""The RLVR bandit lab: a vectorized simulator that runs every clipping scheme on the same seeds.

>>> from sims.bandit import BanditSim, preset
>>> import dgpo
>>> sim = BanditSim(preset("rare-correct", seeds=8), dgpo.make("dgpo"))
>>> metrics = sim.step()  # {name: (8,) tensor}, names as in docs/metrics.md
"""

from sims.bandit.config import PRESETS, BanditConfig, preset
from sims.bandit.sim import BanditSim

__all__ = ["PRESETS", "BanditConfig", "BanditSim", "preset"]
