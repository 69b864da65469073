"""A family restricted to an interval, in normal scores so that both tails keep precision."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
from scipy import special

from priors.families.base import Family
from priors.families.numeric import phi, score_from_tails

@functools.lru_cache(maxsize=256)
def truncation_window(base: Family, low: float, high: float) -> tuple[float, float, float]:
    """``(F(low), 1 - F(high), F(high) - F(low))`` of ``base``, each to relative precision:
    from the normal scores of the bounds, the mass from whichever tail holds the window."""
    z_low = -math.inf if low == -math.inf else float(base.to_normal(low))
    z_high = math.inf if high == math.inf else float(base.to_normal(high))
    below, above = float(special.ndtr(z_low)), float(special.ndtr(-z_high))
    if z_high <= 0:
        mass = special.ndtr(z_high) - below
    elif z_low >= 0:
        mass = special.ndtr(-z_low) - above
    else:
        mass = 1.0 - below - above
    return below, above, float(mass)


@dataclass(frozen=True)
class _TruncatedKernel:
    """Quantile of a truncated family: the base at ``F(low) + Phi(z) (F(high) - F(low))``,
    done in normal scores, from the upper tail where that is nearer."""

    base: object

    def __call__(self, leaves, z):
        base_leaves, below, above, mass, low, high = leaves
        z = jnp.asarray(z)
        inner = score_from_tails(below + mass * phi(z), above + mass * phi(-z))
        return jnp.clip(self.base(base_leaves, inner), low, high)


@dataclass(frozen=True)
class _TruncatedScore:
    """Normal score of a truncated family, from the base's score."""

    base: object

    def __call__(self, leaves, x):
        base_leaves, below, above, mass, low, high = leaves
        x = jnp.asarray(x)
        score = self.base(base_leaves, x)
        inside = score_from_tails((phi(score) - below) / mass, (phi(-score) - above) / mass)
        return jnp.where(x < low, -jnp.inf, jnp.where(x >= high, jnp.inf, inside))


@dataclass(frozen=True)
class _TruncatedTail:
    """CDF or survival function of a truncated family, from the base's."""

    base: object

    def __call__(self, leaves, x, sign):
        base_leaves, below, above, mass, low, high = leaves
        x = jnp.asarray(x)
        cdf = sign > 0
        inside = (self.base(base_leaves, x, sign) - jnp.where(cdf, below, above)) / mass
        # below low: F = 0 and S = 1; at or above high: F = 1 and S = 0
        outside = jnp.where((x < low) != cdf, 1.0, 0.0)
        return jnp.where((x < low) | (x >= high), outside, jnp.clip(inside, 0.0, 1.0))


@dataclass(frozen=True)
class Truncated(Family):
    """``base`` restricted to ``[low, high]`` (either may be infinite): its quantile is
    ``Q(F(low) + u (F(high) - F(low)))``."""

    base: Family
    low: float = -math.inf
    high: float = math.inf
    kind: ClassVar[str] = "truncated"
    compiled: ClassVar[bool] = True

    @property
    def log_scale(self) -> bool:
        return self.base.log_scale

    @property
    def is_fixed(self) -> bool:
        return self.base.is_fixed

    @property
    def window(self) -> tuple[float, float, float]:
        """``(F(low), 1 - F(high), F(high) - F(low))`` of the base distribution."""
        return truncation_window(self.base, self.low, self.high)

    def leaves(self):
        return (self.base.leaves(), *self.window, self.low, self.high)

    @property
    def static_kernel(self):
        return _TruncatedKernel(self.base.static_kernel)

    @property
    def static_score(self):
        return _TruncatedScore(self.base.static_score)

    @property
    def static_tail(self):
        return _TruncatedTail(self.base.static_tail)

    def describe(self):
        low = "" if self.low == -math.inf else f"{self.low:.4g}"
        high = "" if self.high == math.inf else f"{self.high:.4g}"
        return f"{self.base.describe()} truncated to {low}..{high}"
