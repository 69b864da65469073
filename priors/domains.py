"""Domains a model declares for its parameters; a prior must stay inside its parameter's.

Contracts are data: a model lists ``{name: Domain}`` and the prior set checks every family's
support against it, so a normal prior on a chip count is refused before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True

    def contains(self, low: float, high: float) -> bool:
        """Whether the closed interval [low, high] of a support lies in this domain."""
        above = low > self.low if self.low_open else low >= self.low
        below = high < self.high if self.high_open else high <= self.high
        return above and below

    def __str__(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{self.name} {left}{self.low:g}, {self.high:g}{right}"


REAL = Domain("real")
POSITIVE = Domain("positive", 0.0)
NON_NEGATIVE = Domain("non-negative", 0.0, low_open=False)
FRACTION = Domain("a fraction in", 0.0, 1.0, high_open=False)
UNIT_INTERVAL = Domain("in", 0.0, 1.0, low_open=False, high_open=False)
