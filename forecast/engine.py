"""Monte Carlo over the priors: push worlds through the bottom-up model, in compiled chunks.

A design of worlds is a matrix of standard-normal scores ``z`` (one row a world, one column
an uncertain prior; MODEL.md "How worlds are drawn"). Plain Monte Carlo draws ``z`` i.i.d.
in compiled calls of its own (random bits, then the inverse normal CDF); Sobol or
Latin-hypercube designs pass their own ``z``. Either way NumPyro's ``Predictive`` runs the
one bottom-up model, vectorized over the chunk and jit-compiled once per (prior-set
structure, years, chunk size): the priors' numbers are traced, so new intervals or pinned
values reuse the compiled code.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.infer import Predictive
from tqdm.auto import tqdm

from models import BASE_YEAR, CONSTRAINTS, OUTPUT_UNITS, PARAMETERS, bottom_up_model
from priors import InputError, PriorSet

#: Worlds per compiled call: large enough to keep the vector units busy, small enough that
#: one chunk of every output fits in memory on a laptop (2**16 x 11 years x 16 outputs).
CHUNK_SIZE = 2**16

#: XLA options for the engine's compiled calls (set per call, never as global flags):
#: 512-bit vectors on CPUs that have them. Ignored by other backends.
_CPU_OPTIONS = {"xla_cpu_prefer_vector_width": 512}
#: The model also takes min/max without NaN propagation: its scores are finite by
#: construction (clipped to +/- 9), so no NaN reaches a min or max. Together ~20% faster,
#: same numbers.
_MODEL_OPTIONS = {**_CPU_OPTIONS, "xla_cpu_enable_fast_min_max": True}


@functools.partial(jax.jit, static_argnames=("years", "base_year"), compiler_options=_MODEL_OPTIONS)
def _push(transform, z_by_prior, *, years: tuple[int, ...], base_year: float):
    """Every site of the bottom-up model for the worlds ``z_by_prior.T``; compiled once per structure.

    The scores come one row per prior, ``(n_latent, n_worlds)``: the model reads each prior's
    scores as a column of ``z``, and XLA fuses that slice into every consumer, so from a
    row-major ``z`` every column would be read through the whole of ``z``.
    """
    sites = list(transform.names) + list(OUTPUT_UNITS)
    z = z_by_prior.T
    predictive = Predictive(bottom_up_model, posterior_samples={"z": z}, return_sites=sites, parallel=True)
    # Nothing is left to sample once z is given, so the key is never used.
    return predictive(
        jax.random.PRNGKey(0), transform, np.asarray(years, dtype=float), base_year=base_year
    )


# -- standard-normal scores ---------------------------------------------------------------
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


@jax.jit
def _chunk_key(root, chunk):
    """The key of chunk ``chunk`` of a run: its own call, as XLA would otherwise recompute
    this hash for every number drawn with it (and eager ``fold_in`` costs 3 ms)."""
    return jax.random.key_data(jax.random.fold_in(root, chunk))


@functools.partial(jax.jit, static_argnames=("shape",), compiler_options=_CPU_OPTIONS)
def _random_bits(key, shape: tuple[int, ...]):
    """uint64 bits from XLA's ThreeFry generator keyed by ``key`` (a chunk key's data).

    About twice as fast on CPU as the Philox that "rbg" keys use, and the same on every backend.
    """
    _, bits = jax.lax.rng_bit_generator(key, shape, jnp.uint64, algorithm=jax.lax.RandomAlgorithm.RNG_THREE_FRY)
    return bits


_normal_scores = jax.jit(_normal_from_bits, compiler_options=_CPU_OPTIONS)


def _draw_scores(root, chunk: int, *, n_worlds: int, n_latent: int):
    """I.i.d. standard-normal scores, one row per prior: shape ``(n_latent, n_worlds)``.

    Two compiled calls: fused, XLA recomputes the generator in both of the loops it splits
    AS241 into, which costs half as much again.
    """
    return _normal_scores(_random_bits(_chunk_key(root, chunk), (n_latent, n_worlds)))


def _draw_and_push(transform, root, chunk: int, *, n_worlds: int, years: tuple[int, ...], base_year: float):
    """Plain Monte Carlo for chunk ``chunk`` of a run: i.i.d. normal scores, then the model.

    Two compiled calls, not one: fused into the model, the scores are recomputed inside
    the consumers of ``z`` by XLA on CPU, which makes a chunk 3-4x slower.
    """
    z_by_prior = _draw_scores(root, chunk, n_worlds=n_worlds, n_latent=transform.n_latent)
    return _push(transform, z_by_prior, years=years, base_year=base_year)


def root_key(seed: int):
    """The key all worlds of a run derive from (chunk ``i`` draws from ``fold_in(root, i)``).

    An "rbg" key: 128 bits to fold chunks into; same seed, same numbers.
    """
    return jax.random.key(seed, impl="rbg")


def check_settings(*, samples: int, years: tuple[int, ...]) -> None:
    """Refuse a sample count or year range that cannot give a forecast."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise InputError(f"--samples: the number of worlds must be a positive integer, got {samples!r}")
    if len(years) == 0:
        raise InputError("--years: the year range is empty (write START:END with START <= END)")
    if any(b <= a for a, b in zip(years, years[1:])):
        raise InputError("--years: years must increase")


def simulate(
    priors: PriorSet,
    *,
    years,
    samples: int,
    seed: int,
    base_year: float = BASE_YEAR,
    progress: bool = False,
) -> xr.Dataset:
    """Draw ``samples`` worlds and compute every model output for every year.

    The draw depends only on ``(priors, years, samples, seed)``: same seed, same numbers.

    Returns
    -------
    xarray.Dataset
        Dims ``sample`` and ``year``; one variable per prior (``sample``) and per model
        output (``sample, year``), each with its unit in ``attrs``.
    """
    years = tuple(int(y) for y in years)
    check_settings(samples=samples, years=years)
    priors.validate(PARAMETERS)
    chunk = min(samples, CHUNK_SIZE)
    transform = jax.device_put(priors.transform())  # numbers sent once, not every chunk
    root = root_key(seed)
    n_chunks = math.ceil(samples / chunk)
    arrays: dict[str, np.ndarray] = {}
    previous = None
    for index in tqdm(range(n_chunks), desc="worlds", unit="chunk", disable=not progress or n_chunks == 1):
        # dispatched asynchronously: this chunk runs while the previous one is copied out
        out = _draw_and_push(transform, root, index, n_worlds=chunk, years=years, base_year=float(base_year))
        if previous is not None:
            _copy_chunk(arrays, previous, (index - 1) * chunk, samples)
        previous = out
    _copy_chunk(arrays, previous, (n_chunks - 1) * chunk, samples)
    return to_dataset(arrays, priors, years)


def _copy_chunk(arrays: dict, out: dict, start: int, samples: int) -> None:
    """Copy one chunk's outputs into rows ``start:`` of the run's arrays (made on first use).

    Filling arrays made once, rather than concatenating the chunks at the end, halves the
    peak memory, and the chunk's buffers are freed for the next chunk to reuse.
    """
    for name, value in out.items():
        value = np.asarray(value)
        if name not in arrays:
            arrays[name] = np.empty((samples,) + value.shape[1:], value.dtype)
        rows = min(len(value), samples - start)
        arrays[name][start : start + rows] = value[:rows]


def push_worlds(priors: PriorSet, z, *, years, base_year: float = BASE_YEAR) -> dict:
    """Model outputs for a given design of standard-normal scores ``z`` (n_worlds, n_latent).

    The entry point for designed experiments (Sobol, Latin hypercube, copulas): the same
    compiled model as :func:`simulate`, arrays in, arrays out.
    """
    priors.validate(PARAMETERS)
    z_by_prior = jnp.asarray(z, dtype=float).T  # a transposed copy: one row per prior
    out = _push(
        priors.transform(), z_by_prior, years=tuple(int(y) for y in years), base_year=float(base_year),
    )
    return jax.device_get(out)


def to_dataset(arrays: dict, priors: PriorSet, years) -> xr.Dataset:
    """Label the raw arrays of one simulation: dims ``sample`` and ``year``, units, codes."""
    n = len(next(iter(arrays.values())))
    data_vars = {}
    for prior in priors:
        data_vars[prior.name] = xr.Variable(
            "sample", arrays[prior.name], {"units": prior.unit, "prior": prior.spec, "kind": "prior"}
        )
    for name, unit in OUTPUT_UNITS.items():
        attrs = {"units": unit, "kind": "output"}
        if name in ("binding_constraint", "chips_cap"):
            codes = CONSTRAINTS if name == "binding_constraint" else CONSTRAINTS[:3]
            attrs.update(flag_values=list(range(len(codes))), flag_meanings=" ".join(codes))
        data_vars[name] = xr.Variable(("sample", "year"), arrays[name], attrs)
    return xr.Dataset(
        data_vars,
        coords={"sample": np.arange(n), "year": np.asarray(years, dtype=int)},
        attrs={"prior_set": priors.name, "priors_sha256": priors.fingerprint()},
    )
