"""A bandit run in a background thread, for a UI that polls it (the thread never touches the UI).

The worker appends each step's per-seed values under a lock; ``snapshot()`` copies what is there so far.
``stop()`` sets an event that the runner checks before every step, so a stop lands within one step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import dgpo
from sims.bandit.config import BanditConfig
from sims.bandit.run import run_schemes, set_threads
from sims.bandit.sim import BanditSim


@dataclass
class Snapshot:
    """What a job has produced so far (copies, safe to use from any thread)."""

    state: str
    """'running', 'stopping' (stop asked, the step in flight ends), 'finished', 'stopped' or 'crashed'."""
    steps_done: int
    steps_total: int
    per_seed: dict[str, dict[str, np.ndarray]]
    """scheme -> metric -> (steps_done, S)."""
    answers: dict[str, np.ndarray]
    """scheme -> (steps_done, S, K) probabilities of prompt 0's answers."""
    paths: list[Path]
    error: str | None
    elapsed_s: float


@dataclass
class BanditJob:
    """Runs ``schemes`` on ``cfg`` into ``root`` in a daemon thread as soon as it is built."""

    cfg: BanditConfig
    schemes: list[dgpo.Scheme]
    root: Path
    preset: str = "custom"
    name: str = "bandit-ui"
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _rows: dict = field(default_factory=dict, init=False)
    _answers: dict = field(default_factory=dict, init=False)
    _state: str = field(default="running", init=False)
    _paths: list = field(default_factory=list, init=False)
    _error: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Roles of prompt 0's answers for the per-answer view: (S, K) masks of correct and of the most likely wrong.
        probe = BanditSim(self.cfg, self.schemes[0])
        self.correct = probe.correct[:, 0, :].numpy()
        prior = np.where(self.correct, -np.inf, probe.prior[:, 0, :].numpy())
        self.top_wrong = prior.argmax(-1)
        self.seeds = probe.seeds.numpy()
        self._rows = {s.name: {} for s in self.schemes}
        self._answers = {s.name: [] for s in self.schemes}
        self._t0 = time.time()
        self._thread = threading.Thread(target=self._work, name=f"bandit-{self.name}", daemon=True)
        self._thread.start()

    def _on_step(self, scheme: str, step: int, metrics: dict[str, np.ndarray], answers: np.ndarray) -> None:
        with self._lock:
            for k, v in metrics.items():
                self._rows[scheme].setdefault(k, []).append(v)
            self._answers[scheme].append(answers)

    def _work(self) -> None:
        set_threads()
        try:
            paths = run_schemes(
                self.cfg,
                self.schemes,
                self.root,
                preset=self.preset,
                name=self.name,
                stop=self._stop,
                on_step=self._on_step,
            )
            with self._lock:
                self._paths = paths
                self._state = "stopped" if self._stop.is_set() and self._done() < self.cfg.steps else "finished"
        except Exception as e:  # reported to the UI, which shows it; the run folders say "crashed"
            with self._lock:
                self._state, self._error = "crashed", f"{type(e).__name__}: {e}"
        self._elapsed = time.time() - self._t0

    def _done(self) -> int:
        return min((len(a) for a in self._answers.values()), default=0)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def snapshot(self) -> Snapshot:
        with self._lock:
            n = self._done()
            per_seed = {s: {k: np.stack(v[:n]) for k, v in m.items()} for s, m in self._rows.items() if n}
            answers = {s: np.stack(a[:n]) for s, a in self._answers.items() if n}
            state = "running" if self._thread.is_alive() and self._state == "running" else self._state
            if state == "running" and self._stop.is_set():
                state = "stopping"
            return Snapshot(
                state=state,
                steps_done=n,
                steps_total=self.cfg.steps,
                per_seed=per_seed,
                answers=answers,
                paths=list(self._paths),
                error=self._error,
                elapsed_s=getattr(self, "_elapsed", time.time() - self._t0),
            )
