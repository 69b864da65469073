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

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.special import erf, erfc, log_ndtr, ndtri
from scipy import special, stats

from priors.precision import float64

#: Standard-normal score of the 95th percentile: a 90% interval is mu -/+ Z95 * sigma.
Z95 = float(stats.norm.ppf(0.95))
#: Scores are clipped to +/- Z_MAX (Phi(-9) ~ 1e-19, beyond any float64 normal draw), so
#: the values at +/- Z_MAX bound every value the engine can meet, whatever samples z.
Z_MAX = 9.0


def _phi(z):
    """Standard-normal CDF, as 0.5 erfc(-z / sqrt 2).

    As accurate as ``jax.scipy.special.ndtr`` (2e-15 relative against scipy on [-9, 9]) and
    about 5x faster on CPU, where ndtr evaluates both erf and erfc.
    """
    return 0.5 * erfc(z * -math.sqrt(0.5))


def _call(kernel, leaves, values):
    return kernel(leaves, values)


_compiled_call = jax.jit(_call, static_argnums=0)


@functools.partial(jax.jit, static_argnums=0)
def _compiled_quantile(kernel, leaves, u):
    """:meth:`Family.quantile` as one compiled program per kernel and shape."""
    return kernel(leaves, ndtri(jnp.clip(u, jnp.finfo(u.dtype).tiny, 1.0 - jnp.finfo(u.dtype).epsneg)))


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
        low, high = np.asarray(_compiled_call(self.static_kernel, self.leaves(), jnp.array([-Z_MAX, Z_MAX])),
                               dtype=float)
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
        return closed_form if closed_form is not None else _BisectedScore(self.static_kernel)

    #: ``tail_kernel(leaves, x, sign)``: the CDF at ``x`` where ``sign`` is +1, the survival
    #: function where it is -1, each to relative precision (a mixture compares these); where
    #: a family has none, ``Phi(sign * score)``.
    tail_kernel: ClassVar = None

    @property
    def static_tail(self):
        closed_form = type(self).tail_kernel
        return closed_form if closed_form is not None else _TailFromScore(self.static_score)

    #: Whether ``from_normal`` and ``to_normal`` run as one compiled program (once per
    #: shape, whatever the numbers) rather than op by op: for the long composite kernels.
    compiled: ClassVar[bool] = False

    @float64
    def from_normal(self, z):
        """Quantile function at ``Phi(z)``, vectorized JAX."""
        call = _compiled_call if self.compiled else _call
        return call(self.static_kernel, self.leaves(), jnp.asarray(z, dtype=float))

    @float64
    def to_normal(self, x):
        """The normal score of values ``x``, ``Phi^-1(F(x))``, vectorized JAX: -inf below the
        values the family takes, +inf above them (``F`` counts ``X <= x``)."""
        call = _compiled_call if self.compiled else _call
        return call(self.static_score, self.leaves(), jnp.asarray(x, dtype=float))

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
        family and shape (op by op, a first table of the default's 118 priors took 3.5 s)."""
        return np.asarray(_compiled_quantile(self.static_kernel, self.leaves(), jnp.asarray(q, dtype=float)),
                          dtype=float)

    def describe(self) -> str:
        raise NotImplementedError


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
    def kernel(leaves, z):
        low, high = leaves
        return low + (high - low) * _phi(z)

    @staticmethod
    def score_kernel(leaves, x):
        low, high = leaves
        return _score_from_tails((x - low) / (high - low), (high - x) / (high - low))

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
    def kernel(leaves, z):
        log_low, log_high = leaves
        return jnp.exp(log_low + (log_high - log_low) * _phi(z))

    @staticmethod
    def score_kernel(leaves, x):
        log_low, log_high = leaves
        positive = x > 0
        log_x = jnp.log(jnp.where(positive, x, 1.0))
        width = log_high - log_low
        score = _score_from_tails((log_x - log_low) / width, (log_high - log_x) / width)
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
_BETA_Z_GRID = np.linspace(-Z_MAX, Z_MAX, 4097)
#: Its step, 9/2048: exact in binary, and so is every grid point.
_BETA_Z_STEP = 2 * Z_MAX / (len(_BETA_Z_GRID) - 1)


@functools.lru_cache(maxsize=64)
def _beta_table(alpha: float, beta: float) -> np.ndarray:
    # NumPyro's Beta.icdf needs tensorflow-probability; scipy inverts the CDF once, here.
    return special.betaincinv(alpha, beta, special.ndtr(_BETA_Z_GRID))


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
        # jnp.interp(z, _BETA_Z_GRID, table), with the cell found by arithmetic on the
        # uniform grid instead of a binary search (a 13-step loop on CPU)
        table = jnp.asarray(leaves[0])
        z = jnp.clip(z, -Z_MAX, Z_MAX)
        cell = jnp.clip(jnp.floor((z + Z_MAX) / _BETA_Z_STEP).astype(int), 0, len(_BETA_Z_GRID) - 2)
        left = table[cell]
        return left + ((z - (cell * _BETA_Z_STEP - Z_MAX)) / _BETA_Z_STEP) * (table[cell + 1] - left)

    @staticmethod
    def score_kernel(leaves, x):
        # the exact inverse of the interpolated table (not scipy's beta CDF), so that
        # to_normal(from_normal(z)) == z; a flat stretch of the table (underflow at a far
        # tail) counts to its right end, as F(x) = P(X <= x) must
        table = jnp.asarray(leaves[0])
        cell = jnp.clip(jnp.searchsorted(table, x, side="right") - 1, 0, len(_BETA_Z_GRID) - 2)
        left, right = table[cell], table[cell + 1]
        width = jnp.where(right > left, right - left, 1.0)
        score = cell * _BETA_Z_STEP - Z_MAX + _BETA_Z_STEP * (x - left) / width
        score = jnp.where(x >= table[-1], Z_MAX, score)  # the top, flat there or not
        return jnp.where(x < table[0], -jnp.inf, jnp.where(x > table[-1], jnp.inf, score))

    def describe(self):
        return f"beta(alpha={self.alpha:.4g}, beta={self.beta:.4g})"


# -- shared by the shapes below ---------------------------------------------------------

#: Probabilities below this are turned into a score of -/+ 37 (ndtri(1e-300) = -37.05), not
#: -/+ inf, so that every branch of a ``jnp.where`` stays differentiable.
_TINY = 1e-300
#: How far in z a quantile function without a closed-form CDF is inverted: Phi(-37) ~ 6e-300.
_Z_FAR = 37.0


def _normal_pdf(z):
    return jnp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _score_from_tails(lower, upper):
    """The normal score of a value with CDF ``lower`` and survival function ``upper`` (the
    two sum to 1), taken from the smaller of the two, so that both tails keep relative
    precision; -inf where ``lower <= 0``, +inf where ``upper <= 0``. Safe to differentiate:
    neither branch of the ``where`` evaluates ``ndtri`` at 0 or 1."""
    from_lower = lower <= upper
    score = ndtri(jnp.clip(jnp.where(from_lower, lower, upper), _TINY, 0.5))
    score = jnp.where(from_lower, score, -score)
    return jnp.where(lower <= 0, -jnp.inf, jnp.where(upper <= 0, jnp.inf, score))


@dataclass(frozen=True)
class _TailFromScore:
    """A tail kernel from a score kernel: ``Phi(sign * score)``."""

    score: object

    def __call__(self, leaves, x, sign):
        return _phi(sign * self.score(leaves, x))


def _bisect(at_or_above, low, high):
    """The smallest float in ``(low, high]`` at which ``at_or_above`` holds, elementwise,
    given that it fails at ``low``, holds at ``high`` and switches once in between.

    Bisects the floats themselves: their bit patterns, mapped to integers in the order of
    the floats, are halved, so the bracket closes on two adjacent floats after one step per
    bit (64 in float64), whatever the magnitude and sign of the values.
    """
    dtype = low.dtype
    itype = jnp.int64 if dtype == jnp.float64 else jnp.int32
    floor = jnp.asarray(jnp.iinfo(itype).min, dtype=itype)

    def key(x):  # monotone: -0.0 and 0.0 both map to 0, negative floats below
        bits = lax.bitcast_convert_type(x, itype)
        return jnp.where(bits < 0, floor - bits, bits)

    def value(k):
        return lax.bitcast_convert_type(jnp.where(k < 0, floor - k, k), dtype)

    def step(_, bracket):
        lo, hi = bracket
        mid = (lo >> 1) + (hi >> 1) + (lo & hi & 1)  # floor((lo + hi) / 2) without overflow
        above = at_or_above(value(mid))
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    _, high_key = lax.fori_loop(0, jnp.iinfo(itype).bits, step, (key(low), key(high)))
    return value(high_key)


@dataclass(frozen=True)
class _BisectedScore:
    """``to_normal`` of a family without a closed-form CDF: its kernel inverted by bisection
    in z over ``[-_Z_FAR, _Z_FAR]`` (a hashable value, like every static kernel)."""

    kernel: object

    def __call__(self, leaves, x):
        return _bisected_score(self.kernel, leaves, jnp.asarray(x))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _bisected_score(kernel, leaves, x):
    return _bisected_score_compiled(kernel, leaves, x)


# compiled once per kernel shape (the loop would otherwise be traced again at every eager call)
@functools.partial(jax.jit, static_argnums=0)
def _bisected_score_compiled(kernel, leaves, x):
    low = jnp.full(jnp.shape(x), -_Z_FAR, dtype=x.dtype)
    score = _bisect(lambda z: kernel(leaves, z) > x, low, -low)
    return jnp.where(kernel(leaves, low) > x, -jnp.inf,
                     jnp.where(kernel(leaves, -low) <= x, jnp.inf, score))


@_bisected_score.defjvp
def _bisected_score_jvp(kernel, primals, tangents):
    # the implicit function kernel(leaves, s) = x: ds = (dx - dQ/dleaves dleaves) / (dQ/dz)
    leaves, x = primals
    d_leaves, dx = tangents
    score = _bisected_score(kernel, leaves, x)
    at = jnp.where(jnp.isfinite(score), score, 0.0)
    _, by_leaves = jax.jvp(lambda values: kernel(values, at), (leaves,), (d_leaves,))
    _, slope = jax.jvp(lambda z: kernel(leaves, z), (at,), (jnp.ones_like(at),))
    ok = jnp.isfinite(score) & (slope > 0)
    return score, jnp.where(ok, (dx - by_leaves) / jnp.where(ok, slope, 1.0), 0.0)


# -- metalog -----------------------------------------------------------------------------

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


# -- truncation --------------------------------------------------------------------------

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
        inner = _score_from_tails(below + mass * _phi(z), above + mass * _phi(-z))
        return jnp.clip(self.base(base_leaves, inner), low, high)


@dataclass(frozen=True)
class _TruncatedScore:
    """Normal score of a truncated family, from the base's score."""

    base: object

    def __call__(self, leaves, x):
        base_leaves, below, above, mass, low, high = leaves
        x = jnp.asarray(x)
        score = self.base(base_leaves, x)
        inside = _score_from_tails((_phi(score) - below) / mass, (_phi(-score) - above) / mass)
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


# -- mixture -----------------------------------------------------------------------------

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
    target = _phi(sign * z)

    def at_or_above(x):
        tail = _mixture_tail(kernel.tails, leaves, x, sign)
        return jnp.where(upper, tail <= target, tail >= target)

    return _bisect(at_or_above, quantiles.min(axis=0), quantiles.max(axis=0))


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
    dx = jnp.where(ok, (sign * _normal_pdf(z) * dz - by_leaves) / jnp.where(ok, slope, 1.0), 0.0)
    # On a point mass (a fixed component) the quantile is flat in z: it moves only with the
    # mass, that is with the flat component quantile that sits there.
    jump = jnp.abs(tail(leaves, x) - tail(leaves, jnp.nextafter(x, -jnp.inf)))
    on_atom = jump > 1e-9 * _phi(sign * z)

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
        return _score_from_tails(_mixture_tail(self.tails, leaves, x, 1.0),
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


FAMILIES: dict[str, type[Family]] = {
    cls.kind: cls
    for cls in (Fixed, Normal, LogNormal, Uniform, LogUniform, Beta, Metalog, Mixture, Truncated)
}
