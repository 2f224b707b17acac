"""Synthetic tasks with exact verifiers: each task samples ``(prompt, answer)`` pairs and scores completions.

Every prompt of one task and difficulty has the same number of characters, so a batch of prompts needs no
padding (the rollout relies on that). ``reward(prompt, completion)`` is 1.0 for a fully correct completion and
0.0 otherwise (malformed completions included), like nanochat's ``Task.reward``.

* ``addition``: ``"472+359="`` -> ``"831"``; difficulty = digits per operand.
* ``sort``: ``"S4,1,3="`` -> ``"1,3,4"``; difficulty = list length (digits 0-9).
* ``countdown``: ``"C3,5,7>22="`` -> any expression over ``+ - *`` that uses each given number at most once
  and evaluates to the target, e.g. ``"3*5+7"`` or ``"5*3+7"`` (many answers are right); difficulty = how many
  numbers are given. The sampled answer used for the warm start is one valid expression.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

ALPHABET = "0123456789+-*,=>SC"
"""Every character a task can put in a prompt or an answer."""

_EXPR_RE = re.compile(r"^\d+([+\-*]\d+)*$")


@dataclass(frozen=True)
class Task:
    """A task family at one difficulty; ``max_new_tokens`` bounds a completion (the answer plus EOS)."""

    name: str
    difficulty: int

    def __post_init__(self):
        if self.name not in TASKS:
            raise ValueError(f"unknown task {self.name!r}; valid: {', '.join(TASKS)}")
        lo, hi = DIFFICULTY[self.name]
        if not lo <= self.difficulty <= hi:
            raise ValueError(f"task {self.name!r}: difficulty must be in [{lo}, {hi}], got {self.difficulty}")

    @property
    def max_new_tokens(self) -> int:
        d = self.difficulty
        answer = {"addition": d + 1, "sort": 2 * d - 1, "countdown": 2 * d + 1}[self.name]
        return answer + 1  # + EOS

    def sample(self, rng: np.random.Generator) -> tuple[str, str]:
        """One ``(prompt, reference answer)`` pair."""
        return TASKS[self.name](rng, self.difficulty)

    def batch(self, rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
        return [self.sample(rng) for _ in range(n)]

    def reward(self, prompt: str, completion: str) -> float:
        """1.0 if ``completion`` is a correct answer to ``prompt``, else 0.0 (malformed counts as wrong)."""
        return float(VERIFIERS[self.name](prompt, completion.strip()))


def _addition(rng: np.random.Generator, d: int) -> tuple[str, str]:
    a, b = (int(rng.integers(10 ** (d - 1), 10**d)) for _ in range(2))
    return f"{a}+{b}=", str(a + b)


def _sort(rng: np.random.Generator, d: int) -> tuple[str, str]:
    xs = [int(x) for x in rng.integers(0, 10, size=d)]
    return "S" + ",".join(map(str, xs)) + "=", ",".join(map(str, sorted(xs)))


def _countdown(rng: np.random.Generator, d: int) -> tuple[str, str]:
    # Build the target from a random expression over the numbers so that every prompt has an answer;
    # the target is kept in [10, 99] so that every prompt has the same length.
    while True:
        xs = [int(x) for x in rng.integers(1, 10, size=d)]
        ops = [str(rng.choice(["+", "-", "*"])) for _ in range(d - 1)]
        expr = str(xs[0]) + "".join(op + str(x) for op, x in zip(ops, xs[1:], strict=True))
        target = eval(expr)  # noqa: S307 (digits and + - * only, built above)
        if 10 <= target <= 99:
            return "C" + ",".join(map(str, xs)) + f">{target}=", expr


def _check_addition(prompt: str, completion: str) -> bool:
    a, b = prompt.rstrip("=").split("+")
    return completion.isdigit() and int(completion) == int(a) + int(b)


def _check_sort(prompt: str, completion: str) -> bool:
    xs = prompt[1:].rstrip("=").split(",")
    return completion == ",".join(sorted(xs, key=int))


def _check_countdown(prompt: str, completion: str) -> bool:
    numbers, target = prompt[1:].rstrip("=").split(">")
    if not _EXPR_RE.match(completion) or len(completion) > 40:
        return False
    used = Counter(re.findall(r"\d+", completion))
    if used - Counter(numbers.split(",")):  # a number not given, or given fewer times than used
        return False
    return eval(completion) == int(target)  # noqa: S307 (matched ^\d+([+\-*]\d+)*$ above)


TASKS = {"addition": _addition, "sort": _sort, "countdown": _countdown}
VERIFIERS = {"addition": _check_addition, "sort": _check_sort, "countdown": _check_countdown}
DIFFICULTY = {"addition": (1, 6), "sort": (2, 8), "countdown": (2, 4)}
"""Valid difficulty range per task (inclusive)."""


def available_tasks() -> list[str]:
    return list(TASKS)
