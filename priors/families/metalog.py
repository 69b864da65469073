"""Keelin's metalog through k quantiles, optionally bounded (log- and logit-metalogs)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf, log_ndtr
from scipy import special

from priors.families.base import Family
from priors.families.numeric import Z_MAX

def _metalog_terms(logit, centred, n_terms: int, xp=jnp) -> list:
    """Keelin's metalog basis at ``L = ln(y / (1 - y))`` and ``c = y - 1/2``:
    1, L, cL, c, c^2, c^2 L, c^3, c^3 L, ... (the first ``n_terms``)."""
    terms = [xp.ones_like(logit), logit, centred * logit, centred]
    power = centred
    for j in range(5, n_terms + 1):
        if j % 2:
            power = power * centred
            terms.append(power)
        else:
            terms.append(power * logit)
    return terms[:n_terms]


def _metalog_slope_terms(logit, centred, spread, n_terms: int) -> list:
    """``y (1 - y) d/dy`` of each basis term, with ``spread = y (1 - y)`` (NumPy): bounded
    in both tails, where ``spread * L`` goes to 0."""
    terms = [np.zeros_like(logit), np.ones_like(logit), spread * logit + centred, spread]
    for j in range(5, n_terms + 1):
        n = (j - 1) // 2 if j % 2 else j // 2 - 1
        if j % 2:
            terms.append(n * centred ** (n - 1) * spread)
        else:
            terms.append(n * centred ** (n - 1) * spread * logit + centred**n)
    return terms[:n_terms]


def _metalog_bounds(lower, upper) -> str:
    return {(False, False): "none", (True, False): "lower", (False, True): "upper",
            (True, True): "both"}[(lower is not None, upper is not None)]


@functools.lru_cache(maxsize=256)
def metalog_coefficients(percents: tuple, values: tuple, lower=None, upper=None) -> np.ndarray:
    """The k coefficients of the k-term metalog through k quantiles (``percents`` in (0, 100),
    ascending): the basis at the k probabilities times the coefficients is the values,
    transformed by ``ln(x - lower)``, ``-ln(upper - x)`` or ``ln((x - lower) / (upper - x))``
    when bounded. Solved exactly (one step of iterative refinement); read-only."""
    y = np.asarray(percents, dtype=float) / 100
    basis = np.stack(_metalog_terms(np.log(y) - np.log1p(-y), y - 0.5, len(y), np), axis=-1)
    x = np.asarray(values, dtype=float)
    target = {
        "none": lambda: x,
        "lower": lambda: np.log(x - lower),
        "upper": lambda: -np.log(upper - x),
        "both": lambda: np.log(x - lower) - np.log(upper - x),
    }[_metalog_bounds(lower, upper)]()
    coefficients = np.linalg.solve(basis, target)
    coefficients = coefficients + np.linalg.solve(basis, target - basis @ coefficients)
    coefficients.flags.writeable = False
    return coefficients


#: Normal scores at which a metalog's slope is checked: every 0.005 on [-Z_MAX, Z_MAX].
_METALOG_CHECK_Z = np.linspace(-Z_MAX, Z_MAX, 3601)


def metalog_not_increasing_at(coefficients) -> float | None:
    """The normal score at which a metalog's quantile function is least increasing, where it
    is not increasing there (-/+inf: only in the limit of a tail); None when it increases
    everywhere. The log- and logit-metalogs increase exactly where their metalog does."""
    a = np.asarray(coefficients, dtype=float)
    z = _METALOG_CHECK_Z
    terms = _metalog_slope_terms(special.log_ndtr(z) - special.log_ndtr(-z),
                                 0.5 * special.erf(z * math.sqrt(0.5)),
                                 special.ndtr(z) * special.ndtr(-z), len(a))
    slope = np.stack(terms, axis=-1) @ a
    if slope.min() <= 0:
        return float(z[np.argmin(slope)])
    # beyond the grid, y (1 - y) M'(y) tends to a2 + a3 c + a6 c^2 + a8 c^3 + ... at c = -/+ 1/2
    for score, centred in ((-math.inf, -0.5), (math.inf, 0.5)):
        tail = _metalog_slope_terms(np.zeros(1), np.full(1, centred), np.zeros(1), len(a))
        if float(np.stack(tail, axis=-1)[0] @ a) <= 0:
            return score
    return None


@dataclass(frozen=True)
class _MetalogKernel:
    """The metalog quantile function; ``bounds`` (none, lower, upper, both) is its static part."""

    bounds: str

    def __call__(self, leaves, z):
        a = jnp.asarray(leaves[0])
        z = jnp.asarray(z)
        # ln(y / (1 - y)) at y = Phi(z), from z itself: finite and accurate at |z| = 9
        logit = log_ndtr(z) - log_ndtr(-z)
        centred = 0.5 * erf(z * math.sqrt(0.5))
        m = sum(a[j] * term for j, term in enumerate(_metalog_terms(logit, centred, a.shape[-1])))
        if self.bounds == "lower":
            return leaves[1] + jnp.exp(m)
        if self.bounds == "upper":
            return leaves[1] - jnp.exp(-m)
        if self.bounds == "both":
            low, high = leaves[1], leaves[2]
            # each side from its own end, so that neither end rounds away
            return jnp.where(m < 0, low + (high - low) * jax.nn.sigmoid(m),
                             high - (high - low) * jax.nn.sigmoid(-m))
        return m


@dataclass(frozen=True)
class Metalog(Family):
    """Keelin's (2016) metalog through k quantiles: k terms, hitting each quantile exactly.

    ``lower`` and/or ``upper`` make it a log-metalog (semi-bounded) or a logit-metalog
    (bounded). Its CDF has no closed form: ``to_normal`` inverts the kernel by bisection.
    """

    percents: tuple[float, ...]
    values: tuple[float, ...]
    lower: float | None = None
    upper: float | None = None
    kind: ClassVar[str] = "metalog"
    compiled: ClassVar[bool] = True

    @property
    def bounds(self) -> str:
        return _metalog_bounds(self.lower, self.upper)

    @property
    def coefficients(self) -> np.ndarray:
        return metalog_coefficients(self.percents, self.values, self.lower, self.upper)

    def leaves(self):
        return (self.coefficients, *(b for b in (self.lower, self.upper) if b is not None))

    @property
    def static_kernel(self):
        return _MetalogKernel(self.bounds)

    def describe(self):
        parts = [f"{p:g}%: {v:.4g}" for p, v in zip(self.percents, self.values)]
        parts += [f"{name} {b:.4g}" for name, b in (("lower", self.lower), ("upper", self.upper))
                  if b is not None]
        return f"metalog({', '.join(parts)})"
