"""The families with a closed form: fixed, normal, lognormal, uniform, loguniform, and beta
(a table of its quantile function, inverted exactly)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from scipy import special

from priors.families.base import Family, elementwise
from priors.families.numeric import Z_MAX, phi, score_from_tails


@dataclass(frozen=True)
class Fixed(Family):
    """A point mass: the value is known (or assumed) exactly."""

    value: float
    kind: ClassVar[str] = "fixed"

    @property
    def is_fixed(self) -> bool:
        return True

    def leaves(self):
        return (self.value,)

    @staticmethod
    def kernel(leaves, z):
        return jnp.zeros_like(z) + leaves[0]

    @staticmethod
    def score_kernel(leaves, x):
        return jnp.where(x >= leaves[0], jnp.inf, -jnp.inf)

    @staticmethod
    def tail_kernel(leaves, x, sign):
        return jnp.where((x >= leaves[0]) == (sign > 0), 1.0, 0.0)

    def describe(self):
        return f"fixed {self.value:.4g}"


@dataclass(frozen=True)
class Normal(Family):
    mu: float
    sigma: float
    kind: ClassVar[str] = "normal"

    def leaves(self):
        return (self.mu, self.sigma)

    @staticmethod
    @elementwise
    def kernel(leaves, z):
        mu, sigma = leaves
        return mu + sigma * z

    @staticmethod
    def score_kernel(leaves, x):
        mu, sigma = leaves
        return (x - mu) / sigma

    def describe(self):
        return f"normal(mu={self.mu:.4g}, sigma={self.sigma:.4g})"


@dataclass(frozen=True)
class LogNormal(Family):
    """log(X) ~ Normal(mu, sigma)."""

    mu: float
    sigma: float
    kind: ClassVar[str] = "lognormal"

    def leaves(self):
        return (self.mu, self.sigma)

    @staticmethod
    @elementwise
    def kernel(leaves, z):
        mu, sigma = leaves
        return jnp.exp(mu + sigma * z)

    @staticmethod
    def score_kernel(leaves, x):
        mu, sigma = leaves
        positive = x > 0
        return jnp.where(positive, (jnp.log(jnp.where(positive, x, 1.0)) - mu) / sigma, -jnp.inf)

    def describe(self):
        return f"lognormal(median={math.exp(self.mu):.4g}, sigma={self.sigma:.4g})"


@dataclass(frozen=True)
class Uniform(Family):
    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def leaves(self):
        return (self.low, self.high)

    @staticmethod
    @elementwise
    def kernel(leaves, z):
        low, high = leaves
        return low + (high - low) * phi(z)

    @staticmethod
    def score_kernel(leaves, x):
        low, high = leaves
        return score_from_tails((x - low) / (high - low), (high - x) / (high - low))

    @staticmethod
    def tail_kernel(leaves, x, sign):
        low, high = leaves
        return jnp.clip(jnp.where(sign > 0, x - low, high - x) / (high - low), 0.0, 1.0)

    def describe(self):
        return f"uniform({self.low:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class LogUniform(Family):
    low: float
    high: float
    kind: ClassVar[str] = "loguniform"

    def leaves(self):
        return (math.log(self.low), math.log(self.high))

    @staticmethod
    @elementwise
    def kernel(leaves, z):
        log_low, log_high = leaves
        return jnp.exp(log_low + (log_high - log_low) * phi(z))

    @staticmethod
    def score_kernel(leaves, x):
        log_low, log_high = leaves
        positive = x > 0
        log_x = jnp.log(jnp.where(positive, x, 1.0))
        width = log_high - log_low
        score = score_from_tails((log_x - log_low) / width, (log_high - log_x) / width)
        return jnp.where(positive, score, -jnp.inf)

    @staticmethod
    def tail_kernel(leaves, x, sign):
        log_low, log_high = leaves
        positive = x > 0
        log_x = jnp.log(jnp.where(positive, x, 1.0))
        share = jnp.where(sign > 0, log_x - log_low, log_high - log_x) / (log_high - log_low)
        return jnp.where(positive, jnp.clip(share, 0.0, 1.0), jnp.where(sign > 0, 0.0, 1.0))

    def describe(self):
        return f"loguniform({self.low:.4g}, {self.high:.4g})"


#: Standard-normal scores at which the beta quantile function is tabulated. Linear
#: interpolation in z is smooth (x(z) has no kinks) and the ends reach Phi(-9) ~ 1e-19.
BETA_Z_GRID = np.linspace(-Z_MAX, Z_MAX, 4097)
#: Its step, 9/2048: exact in binary, and so is every grid point.
BETA_Z_STEP = 2 * Z_MAX / (len(BETA_Z_GRID) - 1)


@functools.lru_cache(maxsize=64)
def _beta_table(alpha: float, beta: float) -> np.ndarray:
    # NumPyro's Beta.icdf needs tensorflow-probability; scipy inverts the CDF once, here.
    return special.betaincinv(alpha, beta, special.ndtr(BETA_Z_GRID))


@dataclass(frozen=True)
class Beta(Family):
    alpha: float
    beta: float
    kind: ClassVar[str] = "beta"

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def leaves(self):
        return (_beta_table(self.alpha, self.beta),)

    @staticmethod
    def kernel(leaves, z):
        # jnp.interp(z, BETA_Z_GRID, table), with the cell found by arithmetic on the
        # uniform grid instead of a binary search (a 13-step loop on CPU)
        table = jnp.asarray(leaves[0])
        z = jnp.clip(z, -Z_MAX, Z_MAX)
        cell = jnp.clip(jnp.floor((z + Z_MAX) / BETA_Z_STEP).astype(int), 0, len(BETA_Z_GRID) - 2)
        left = table[cell]
        return left + ((z - (cell * BETA_Z_STEP - Z_MAX)) / BETA_Z_STEP) * (table[cell + 1] - left)

    @staticmethod
    def score_kernel(leaves, x):
        # the exact inverse of the interpolated table (not scipy's beta CDF), so that
        # to_normal(from_normal(z)) == z; a flat stretch of the table (underflow at a far
        # tail) counts to its right end, as F(x) = P(X <= x) must
        table = jnp.asarray(leaves[0])
        cell = jnp.clip(jnp.searchsorted(table, x, side="right") - 1, 0, len(BETA_Z_GRID) - 2)
        left, right = table[cell], table[cell + 1]
        width = jnp.where(right > left, right - left, 1.0)
        score = cell * BETA_Z_STEP - Z_MAX + BETA_Z_STEP * (x - left) / width
        score = jnp.where(x >= table[-1], Z_MAX, score)  # the top, flat there or not
        return jnp.where(x < table[0], -jnp.inf, jnp.where(x > table[-1], jnp.inf, score))

    def describe(self):
        return f"beta(alpha={self.alpha:.4g}, beta={self.beta:.4g})"
