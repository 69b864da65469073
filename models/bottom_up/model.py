"""The NumPyro model of one world (docs/model.md, v3): standard-normal scores are its only
sample sites; every prior value and output of the arithmetic (``models.bottom_up.compute``)
is a deterministic site."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from models.bottom_up.compute import BASE_YEAR, world_sites


def bottom_up_model(priors, years, *, base_year: float = BASE_YEAR):
    """NumPyro model of one world: standard-normal scores -> prior values -> compute by year.

    ``priors`` is a :class:`~priors.PriorSet` or its ``transform()`` (a pytree whose numbers
    can be traced, so one compiled model serves every prior set of the same shape).

    The sample sites are ``z``: one independent standard-normal score per uncertain
    column (MODEL.md "How worlds are drawn"; a lab-scoped prior has one column per lab),
    and, where a lab-year prior is uncertain, ``z_lab_year`` (one score per lab-year
    column and year); the transform joins correlated priors through their Gaussian copula.
    With several labs the outputs are those of :func:`lab_world_compute`. Conditioning ``z`` on a design (Sobol, Latin hypercube) or
    letting NUTS sample it reuses this one model. Each prior value and each output of
    :func:`world_compute` is recorded as a deterministic site.
    """
    transform = priors.transform() if hasattr(priors, "priors") else priors
    years = jnp.asarray(years, dtype=float)
    z, z_lab_year = latent_scores(transform, years.shape[0])
    values, lab_year, outputs = world_sites(transform, z, z_lab_year, years, base_year=base_year)
    for name, value in values.items():
        numpyro.deterministic(name, value)
    for name, value in lab_year.items():
        numpyro.deterministic(name, value)
    for name, value in outputs.items():
        numpyro.deterministic(name, value)


def latent_scores(transform, n_years: int):
    """The sample sites of a world: ``z`` (``transform.n_latent`` standard-normal scores) and,
    where a lab-year prior is uncertain, ``z_lab_year`` (``(transform.n_lab_year, n_years)``;
    else None). Every model of a world (:func:`bottom_up_model`, the calibration) samples
    these and nothing else."""
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([transform.n_latent]).to_event(1))
    z_lab_year = None
    if transform.n_lab_year:
        z_lab_year = numpyro.sample(
            "z_lab_year", dist.Normal(0.0, 1.0).expand([transform.n_lab_year, n_years]).to_event(2))
    return z, z_lab_year
