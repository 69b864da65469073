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

from forecast._normal import root_key, standard_normal
from forecast.settings import check_samples, check_seed, parse_years
from models import BASE_YEAR, CONSTRAINTS, OUTPUT_UNITS, PARAMETERS, bottom_up_model
from priors import PriorSet
from priors._precision import float64

#: Worlds per compiled call: large enough to keep the vector units busy, small enough that
#: one chunk of every output fits in memory on a laptop (2**16 x 11 years x 22 outputs).
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


@jax.jit
def _chunk_key(root, chunk):
    """The key of chunk ``chunk`` of a run, in a call of its own (eager ``fold_in`` costs ms)."""
    return jax.random.fold_in(root, chunk)


def _draw_and_push(transform, root, chunk: int, *, n_worlds: int, years: tuple[int, ...], base_year: float):
    """Plain Monte Carlo for chunk ``chunk`` of a run: i.i.d. normal scores, then the model.

    Two compiled calls, not one: fused into the model, the scores are recomputed inside
    the consumers of ``z`` by XLA on CPU, which makes a chunk 3-4x slower.
    """
    z_by_prior = standard_normal(_chunk_key(root, chunk), (transform.n_latent, n_worlds))
    return _push(transform, z_by_prior, years=years, base_year=base_year)


@float64
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
    years = parse_years(years)
    samples = check_samples(samples, n_years=len(years), n_priors=len(priors))
    seed = check_seed(seed)
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


@float64
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
