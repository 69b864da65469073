"""Standard-normal scores for the Monte Carlo: ``standard_normal(key, shape)``, float64.

Every plain Monte Carlo draw of the package goes through :func:`standard_normal` (the
engine's chunks, the tornado and swap runs of the sensitivity analysis, the prior draws a
calibration is compared with), so one seed means the same worlds everywhere.

``jax.random.normal`` on CPU spends half the time of an engine chunk in float64 erfinv.
Instead: ThreeFry random bits -> a tail probability ``u`` -> Wichura's AS241 (PPND16)
inverse normal CDF, whose three rational functions are accurate to about 1e-16 relative,
with a vectorized fdlibm log. Against scipy's ndtri the scores agree to about 1e-15
relative (tests/forecast/test_normal.py). Measured end to end, see bench/normal.py.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["standard_normal"]

#: XLA options of these compiled calls: 512-bit vectors on CPUs that have them.
_CPU_OPTIONS = {"xla_cpu_prefer_vector_width": 512}

# jax.random.normal spends half the time of a chunk on CPU (float64 erfinv). Instead: random
# bits -> a tail probability u -> Wichura's AS241 (PPND16) inverse normal CDF, whose three
# rational functions are accurate to about 1e-16 relative. Against scipy's ndtri the scores
# agree to 1.1e-15 relative (tests/test_engine.py).

#: AS241 numerator and denominator coefficients, lowest degree first: the centre
#: (|u - 1/2| <= 0.425, in r = 0.180625 - q^2), the near tail (s = sqrt(-log u) <= 5, in
#: s - 1.6) and the far tail (in s - 5).
_AS241_CENTRE = (
    (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
     4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3),
    (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
     2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3),
)
_AS241_NEAR = (
    (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
     1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4),
    (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
     1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9),
)
_AS241_FAR = (
    (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
     2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7),
    (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
     7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15),
)


def _rational(coefficients, x):
    """p(x) / q(x) by Horner's rule, coefficients lowest degree first."""
    numerator, denominator = (functools.reduce(lambda acc, c: acc * x + c, reversed(cs)) for cs in coefficients)
    return numerator / denominator


#: fdlibm's log: ln 2 split in two, and the minimax series in s^2, s = f / (2 + f).
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
       1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)


def _log(x):
    """Natural log of positive, normal float64 ``x`` to within 1 ulp (fdlibm's e_log.c).

    XLA's float64 log on CPU is a scalar call (~4 ns a value); this vectorizes (~1 ns).
    """
    bits = jax.lax.bitcast_convert_type(x, jnp.uint64)
    # x = 2^k * m with m in [sqrt(2)/2, sqrt(2)): shift the exponent so the split falls there
    high = (bits >> 32) + (0x3FF00000 - 0x3FE6A09E)
    k = (high >> 20).astype(jnp.int64) - 0x3FF
    high = (high & 0x000FFFFF) + 0x3FE6A09E
    m = jax.lax.bitcast_convert_type((high << 32) | (bits & 0xFFFFFFFF), jnp.float64)
    f = m - 1.0
    half_f2 = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = w * (_LG[1] + w * (_LG[3] + w * _LG[5])) + z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    dk = k.astype(jnp.float64)
    return s * (half_f2 + r) + dk * _LN2_LO - half_f2 + f + dk * _LN2_HI


def _normal_from_bits(bits):
    """Standard-normal scores from uint64 random bits, by the inverse normal CDF.

    The top 52 bits give the smaller tail probability ``u = (k + 1/2) 2^-53`` in (0, 1/2),
    the next bit the side: ``z = -/+ Phi^-1(u)``. So ``P(z <= x)`` is ``Phi(x)`` on a grid
    of step 2^-53 (|z| <= 8.3), with full relative precision deep in both tails.
    """
    u = ((bits >> 12).astype(jnp.float64) + 0.5) * 2.0**-53
    upper = ((bits >> 11) & 1) == 1
    q = 0.5 - u
    s = jnp.sqrt(-_log(u))
    magnitude = jnp.where(
        q <= 0.425,
        q * _rational(_AS241_CENTRE, 0.180625 - q * q),
        jnp.where(s <= 5.0, _rational(_AS241_NEAR, s - 1.6), _rational(_AS241_FAR, s - 5.0)),
    )
    return jnp.where(upper, magnitude, -magnitude)


@functools.partial(jax.jit, static_argnames=("shape",), compiler_options=_CPU_OPTIONS)
def _random_bits(key_data, shape: tuple[int, ...]):
    """uint64 bits from XLA's ThreeFry generator keyed by a key's raw data.

    About twice as fast on CPU as the Philox that "rbg" keys use, and the same on every backend.
    """
    _, bits = jax.lax.rng_bit_generator(key_data, shape, jnp.uint64, algorithm=jax.lax.RandomAlgorithm.RNG_THREE_FRY)
    return bits


_normal_scores = jax.jit(_normal_from_bits, compiler_options=_CPU_OPTIONS)


def standard_normal(key, shape: tuple[int, ...]):
    """I.i.d. standard-normal scores of ``shape`` (float64) from an "rbg" key or its raw data.

    Two compiled calls: fused, XLA recomputes the generator in both of the loops it splits
    AS241 into, which costs half as much again. Call inside ``jax.enable_x64(True)``.
    """
    if jnp.issubdtype(getattr(key, "dtype", None), jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return _normal_scores(_random_bits(key, tuple(int(n) for n in shape)))
