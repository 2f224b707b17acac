"""DGPO Lab simulators: a vectorized RLVR bandit and a small-LM RLVR loop, both built on ``dgpo``."""
