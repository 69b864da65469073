"""Monte Carlo over the priors: push worlds through the bottom-up model, in compiled chunks.

A design of worlds is a matrix of standard-normal scores ``z`` (one row a world, one column
an uncertain prior; MODEL.md "How worlds are drawn"). Plain Monte Carlo draws ``z`` i.i.d.
inside the compiled call; Sobol or Latin-hypercube designs pass their own ``z``. Either way
NumPyro's ``Predictive`` runs the one bottom-up model, vectorized over the chunk and
jit-compiled once per (prior-set structure, years, chunk size): the priors' numbers are
traced, so new intervals or pinned values reuse the compiled code.
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


@functools.partial(jax.jit, static_argnames=("years", "base_year"))
def _push(transform, z, *, years: tuple[int, ...], base_year: float):
    """Every site of the bottom-up model for the worlds ``z``; compiled once per structure."""
    sites = list(transform.names) + list(OUTPUT_UNITS)
    predictive = Predictive(bottom_up_model, posterior_samples={"z": z}, return_sites=sites, parallel=True)
    # Nothing is left to sample once z is given, so the key is never used.
    return predictive(
        jax.random.PRNGKey(0), transform, np.asarray(years, dtype=float), base_year=base_year
    )


@functools.partial(jax.jit, static_argnames=("n_worlds", "n_latent"))
def _draw_scores(key, *, n_worlds: int, n_latent: int):
    return jax.random.normal(key, (n_worlds, n_latent))


def _draw_and_push(transform, key, *, n_worlds: int, years: tuple[int, ...], base_year: float):
    """Plain Monte Carlo: i.i.d. normal scores, then the model.

    Two compiled calls, not one: fused into the model, the generator is re-run inside
    each consumer of z by XLA on CPU, which doubled the time per chunk.
    """
    z = _draw_scores(key, n_worlds=n_worlds, n_latent=transform.n_latent)
    return _push(transform, z, years=years, base_year=base_year)


def root_key(seed: int):
    """The key all worlds of a run derive from.

    XLA's RngBitGenerator ("rbg") draws the 1e5-1e6 x 25 normal scores about 3x faster than
    threefry on CPU; same seed, same numbers on a given backend.
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
    transform = priors.transform()
    root = root_key(seed)
    n_chunks = math.ceil(samples / chunk)
    parts = []
    for index in tqdm(range(n_chunks), desc="worlds", unit="chunk", disable=not progress or n_chunks == 1):
        key = jax.random.fold_in(root, index)
        out = _draw_and_push(transform, key, n_worlds=chunk, years=years, base_year=float(base_year))
        parts.append(jax.device_get(out))
    arrays = {name: np.concatenate([p[name] for p in parts])[:samples] for name in parts[0]}
    return to_dataset(arrays, priors, years)


def push_worlds(priors: PriorSet, z, *, years, base_year: float = BASE_YEAR) -> dict:
    """Model outputs for a given design of standard-normal scores ``z`` (n_worlds, n_latent).

    The entry point for designed experiments (Sobol, Latin hypercube, copulas): the same
    compiled model as :func:`simulate`, arrays in, arrays out.
    """
    priors.validate(PARAMETERS)
    out = _push(
        priors.transform(), jnp.asarray(z, dtype=float),
        years=tuple(int(y) for y in years), base_year=float(base_year),
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
