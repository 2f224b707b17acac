"""Plug-ins that run the core schemes inside training engines; each imports its engine, so import them directly.

* ``dgpo.integrations.trl``: ``DGPOConfig`` / ``DGPOTrainer`` on top of TRL's ``GRPOConfig`` / ``GRPOTrainer``.
* ``dgpo.integrations.verl``: registers the core schemes with verl's ``register_policy_loss``
  (advertised through the ``verl.plugins`` entry point).

This package imports nothing itself, so ``import dgpo`` never pulls in TRL or verl. Guide: docs/scale.md.
"""
