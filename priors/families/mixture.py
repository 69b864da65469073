"""Mixtures: the quantile function by bisection on the mixture's CDF or survival function,
with the implicit-function derivative NUTS needs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from priors.families.base import Family
from priors.families.numeric import bisect, normal_pdf, phi, score_from_tails

def _mixture_tail(tails: tuple, leaves, x, sign):
    """``sum_i w_i F_i(x)`` for sign +1, ``sum_i w_i S_i(x)`` for sign -1: the mixture's CDF
    or survival function, a sum of positive terms each to relative precision."""
    weights, parts = leaves
    weights = jnp.asarray(weights)
    return sum(weights[i] * tail(part, x, sign) for i, (tail, part) in enumerate(zip(tails, parts)))


@dataclass(frozen=True)
class _MixtureKernel:
    """The static part of a mixture's quantile function: its components' kernels and tail
    kernels (hashable, equal for mixtures of the same shape)."""

    kernels: tuple
    tails: tuple

    def __call__(self, leaves, z):
        return _mixture_quantile(self, leaves, jnp.asarray(z))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _mixture_quantile(kernel, leaves, z):
    return _mixture_quantile_compiled(kernel, leaves, z)


# compiled once per mixture shape (the loop would otherwise be traced again at every eager call)
@functools.partial(jax.jit, static_argnums=0)
def _mixture_quantile_compiled(kernel, leaves, z):
    # The quantile lies between the smallest and the largest component quantile at the same
    # score (there every component's CDF is <= u, there every one is >= u). Bisect on the
    # CDF in the lower half and on the survival function in the upper half, both to
    # relative precision, down to adjacent floats.
    parts = leaves[1]
    quantiles = jnp.stack([k(part, z) for k, part in zip(kernel.kernels, parts)])
    upper = z > 0
    sign = jnp.where(upper, -1.0, 1.0)
    target = phi(sign * z)

    def at_or_above(x):
        tail = _mixture_tail(kernel.tails, leaves, x, sign)
        return jnp.where(upper, tail <= target, tail >= target)

    return bisect(at_or_above, quantiles.min(axis=0), quantiles.max(axis=0))


@_mixture_quantile.defjvp
def _mixture_quantile_jvp(kernel, primals, tangents):
    # the implicit function tail(x, leaves) = Phi(sign z), differentiated: a NUTS fit over
    # z gets dx/dz = phi(z) / f(x) instead of the zero slope of a bisection
    leaves, z = primals
    d_leaves, dz = tangents
    x = _mixture_quantile(kernel, leaves, z)
    sign = jnp.where(z > 0, -1.0, 1.0)

    def tail(values, at):
        return _mixture_tail(kernel.tails, values, at, sign)

    _, by_leaves = jax.jvp(lambda values: tail(values, x), (leaves,), (d_leaves,))
    _, slope = jax.jvp(lambda at: tail(leaves, at), (x,), (jnp.ones_like(x),))
    ok = jnp.isfinite(slope) & (slope != 0)
    dx = jnp.where(ok, (sign * normal_pdf(z) * dz - by_leaves) / jnp.where(ok, slope, 1.0), 0.0)
    # On a point mass (a fixed component) the quantile is flat in z: it moves only with the
    # mass, that is with the flat component quantile that sits there.
    jump = jnp.abs(tail(leaves, x) - tail(leaves, jnp.nextafter(x, -jnp.inf)))
    on_atom = jump > 1e-9 * phi(sign * z)

    def quantiles(values, at):
        return jnp.stack([k(part, at) for k, part in zip(kernel.kernels, values[1])])

    at_z, d_quantiles = jax.jvp(lambda values: quantiles(values, z), (leaves,), (d_leaves,))
    _, flat = jax.jvp(lambda at: quantiles(leaves, at), (z,), (jnp.ones_like(z),))
    there = (at_z == x) & (flat == 0)
    d_atom = jnp.sum(jnp.where(there, d_quantiles, 0.0), axis=0) / jnp.maximum(there.sum(axis=0), 1)
    return x, jnp.where(on_atom, d_atom, dx)


@dataclass(frozen=True)
class _MixtureScore:
    """Normal score of a mixture: from its CDF or its survival function, whichever is smaller."""

    tails: tuple

    def __call__(self, leaves, x):
        x = jnp.asarray(x)
        return score_from_tails(_mixture_tail(self.tails, leaves, x, 1.0),
                                 _mixture_tail(self.tails, leaves, x, -1.0))


@dataclass(frozen=True)
class Mixture(Family):
    """``sum_i w_i F_i``: component i with probability ``weights[i]`` (they sum to 1)."""

    weights: tuple[float, ...]
    components: tuple[Family, ...]
    kind: ClassVar[str] = "mixture"
    compiled: ClassVar[bool] = True

    @property
    def log_scale(self) -> bool:
        return all(c.log_scale for c in self.components) or super().log_scale

    def leaves(self):
        return (np.asarray(self.weights, dtype=float), tuple(c.leaves() for c in self.components))

    @property
    def static_kernel(self):
        return _MixtureKernel(tuple(c.static_kernel for c in self.components),
                              tuple(c.static_tail for c in self.components))

    @property
    def static_score(self):
        return _MixtureScore(tuple(c.static_tail for c in self.components))

    def describe(self):
        parts = ", ".join(f"{w:.4g} {c.describe()}" for w, c in zip(self.weights, self.components))
        return f"mixture({parts})"
