"""Distribution families of priors, each defined through its quantile function.

A world is a point in the unit cube, one coordinate per uncertain prior (MODEL.md, "How
worlds are drawn"). We carry that point as standard-normal scores ``z`` (``u = Phi(z)``)
rather than as ``u`` itself: ``z`` never saturates to exactly 0 or 1 in floating point, a
Gaussian copula is linear in ``z``, and NUTS samples ``z`` well. Every family therefore
implements ``from_normal(z)``, its quantile function composed with ``Phi``, in JAX.

Every family can also map a value back to its normal score, ``to_normal(x)`` (``Phi^-1`` of
its CDF, in JAX): a mixture inverts its quantile function with it, and a truncation finds
the scores of its bounds with it.

Families are frozen dataclasses of floats: hashable, so a prior set can key a compile cache.
"""

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from scipy import special

from priors import exported
from priors.precision import float64
from priors.families.numeric import Z_MAX, BisectedScore, TailFromScore

def elementwise(kernel):
    """Mark a family's quantile kernel as elementwise in its leaves: it reads each leaf as a
    number and broadcasts it with ``z``, so the columns of several priors of the family go
    through it as one block, their leaves stacked one row a prior
    (:meth:`priors.transform.WorldTransform.values_from_normal`): one operation of the
    compiled model instead of one a prior, the same arithmetic for every world."""
    kernel.elementwise = True
    return kernel


def _call(leaves, values, *, kernel):
    return kernel(leaves, values)


_compiled_call = jax.jit(_call, static_argnames=("kernel",))


#: :meth:`Family.value_range` and :meth:`Family.ppf` evaluate the kernel at blocks of this
#: many scores: one compiled program per kernel serves both (a program costs a command tens
#: of ms to trace and load from JAX's cache, and a run reads both of every family).
_PROBE = 8


def _values_at(family, z) -> np.ndarray:
    """``family``'s quantile function at the scores ``z``, in NumPy float64, through
    :func:`_compiled_call` on ``z`` padded to a multiple of :data:`_PROBE` (a kept program where
    the CLI keeps them: :mod:`priors.exported`)."""
    z = np.asarray(z, dtype=float).ravel()
    padded = np.zeros(max(_PROBE, -(-z.size // _PROBE) * _PROBE))
    padded[: z.size] = z
    values = exported.call("families._compiled_call", _compiled_call, (family.leaves(), padded),
                           static={"kernel": family.static_kernel})
    return np.asarray(values, dtype=float)[: z.size]


@dataclass(frozen=True)
class Family:
    """Base class: a one-dimensional distribution given by its quantile function."""

    kind: ClassVar[str] = ""

    @property
    def is_fixed(self) -> bool:
        return False

    @property
    def log_scale(self) -> bool:
        """Whether the prior is stated on a log scale (plots draw it on a log axis): its
        values are positive and its 95th percentile is over 10x its 5th, or it is a
        lognormal or loguniform."""
        if self.kind in ("lognormal", "loguniform"):
            return True
        if self.is_fixed or self.value_range()[0] <= 0:
            return False
        p05, p95 = self.ppf([0.05, 0.95])
        return bool(p95 > 10 * p05)


    @float64
    def value_range(self) -> tuple[float, float]:
        """Smallest and largest value any world can take: the quantiles at z = -/+ Z_MAX."""
        low, high = _values_at(self, [-Z_MAX, Z_MAX])
        return float(low), float(high)

    def leaves(self) -> tuple:
        """The numbers the quantile kernel needs; traced, so changing them never recompiles."""
        raise NotImplementedError

    @property
    def static_kernel(self):
        """The kernel as the static part of a compiled model: it must compare equal for
        equal structure, so that a new prior set of the same shape reuses the compiled code.
        Most families share their class's kernel; a composite family (a mixture) overrides
        this with a hashable value object."""
        return type(self).kernel

    @staticmethod
    def kernel(leaves: tuple, z):
        """Quantile function at ``Phi(z)`` from ``leaves``: pure JAX, vectorized."""
        raise NotImplementedError

    #: The inverse of ``kernel``, ``score_kernel(leaves, x) = Phi^-1(F(x))``, where a family
    #: has one in closed form; the others invert their kernel by bisection.
    score_kernel: ClassVar = None

    @property
    def static_score(self):
        """The normal-score kernel (``to_normal``) as a static value, like ``static_kernel``."""
        closed_form = type(self).score_kernel
        return closed_form if closed_form is not None else BisectedScore(self.static_kernel)

    #: ``tail_kernel(leaves, x, sign)``: the CDF at ``x`` where ``sign`` is +1, the survival
    #: function where it is -1, each to relative precision (a mixture compares these); where
    #: a family has none, ``Phi(sign * score)``.
    tail_kernel: ClassVar = None

    @property
    def static_tail(self):
        closed_form = type(self).tail_kernel
        return closed_form if closed_form is not None else TailFromScore(self.static_score)

    #: Whether ``from_normal`` and ``to_normal`` run as one compiled program (once per
    #: shape, whatever the numbers) rather than op by op: for the long composite kernels.
    compiled: ClassVar[bool] = False

    @float64
    def from_normal(self, z):
        """Quantile function at ``Phi(z)``, vectorized JAX."""
        call = _compiled_call if self.compiled else _call
        return call(self.leaves(), jnp.asarray(z, dtype=float), kernel=self.static_kernel)

    @float64
    def to_normal(self, x):
        """The normal score of values ``x``, ``Phi^-1(F(x))``, vectorized JAX: -inf below the
        values the family takes, +inf above them (``F`` counts ``X <= x``)."""
        call = _compiled_call if self.compiled else _call
        return call(self.leaves(), jnp.asarray(x, dtype=float), kernel=self.static_score)

    @float64
    def cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` in NumPy float64 (from ``to_normal``), for tables and validation."""
        return special.ndtr(np.asarray(self.to_normal(x), dtype=float))

    @float64
    def quantile(self, u):
        """Quantile function at probabilities ``u`` in (0, 1), vectorized JAX."""
        u = jnp.asarray(u)
        tiny = jnp.finfo(u.dtype if jnp.issubdtype(u.dtype, jnp.floating) else float).tiny
        return self.from_normal(ndtri(jnp.clip(u, tiny, 1.0 - jnp.finfo(float).epsneg)))

    @float64
    def ppf(self, q) -> np.ndarray:
        """Quantiles in NumPy float64, for tables and validation: one compiled call per
        kernel (op by op, a first table of the default's 118 priors took 3.5 s)."""
        q = np.asarray(q, dtype=float)
        z = special.ndtri(np.clip(q, np.finfo(float).tiny, 1.0 - np.finfo(float).epsneg))
        return _values_at(self, z).reshape(q.shape)

    def describe(self) -> str:
        raise NotImplementedError
