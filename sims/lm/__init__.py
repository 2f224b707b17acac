"""Small-LM lab: RLVR on a tiny transformers model with any clipping scheme (``python -m sims.lm --help``)."""

from sims.lm.config import LMConfig, parse_hp
from sims.lm.tasks import Task, available_tasks
from sims.lm.train import train

__all__ = ["LMConfig", "Task", "available_tasks", "parse_hp", "train"]
