"""DGPO Lab core: every RLVR policy-loss clipping scheme as one tested loss, with its gradient weights.

>>> import dgpo
>>> s = dgpo.make("dgpo", eps_low=0.2, eps_high=0.2, n=1, m=2)
>>> loss, metrics = dgpo.policy_loss(s, log_prob, old_log_prob, advantages, mask)
"""

from dgpo import schemes as _schemes  # noqa: F401  (registers every scheme)
from dgpo.advantages import available_estimators, group_advantages
from dgpo.aggregate import aggregate, aggregation_weights, available_aggregations
from dgpo.curves import ProbCurve, ProbGrid, RatioCurve, log_grid, prob_curve, prob_grid, ratio_curve, ratio_grid
from dgpo.loss import policy_loss
from dgpo.metrics import entropy_from_logits, kl_estimate, masked_mean, policy_metrics
from dgpo.scheme import (
    LOG_RATIO_CLAMP,
    Scheme,
    available_schemes,
    hyperparameters,
    make,
    regions,
    register,
    scheme_class,
)

__all__ = [
    "LOG_RATIO_CLAMP",
    "ProbCurve",
    "ProbGrid",
    "RatioCurve",
    "Scheme",
    "aggregate",
    "aggregation_weights",
    "available_aggregations",
    "available_estimators",
    "available_schemes",
    "entropy_from_logits",
    "group_advantages",
    "hyperparameters",
    "kl_estimate",
    "log_grid",
    "make",
    "masked_mean",
    "policy_loss",
    "policy_metrics",
    "prob_curve",
    "prob_grid",
    "ratio_curve",
    "ratio_grid",
    "register",
    "regions",
    "scheme_class",
]
