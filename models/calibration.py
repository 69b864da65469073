"""The bottom-up model conditioned on history: which growth rates explain the frontier record?

Before the base year the model runs backwards (``t < 0``): chips, FLOP/s per chip and run
length shrink by their growth rates. Power, money and data did not bind the frontier runs
of the past (they are caps on a build-out that happens after the base year, and running
their growth backwards would invent caps that never were), so a past year's compute is the
supply-driven hardware compute alone: :func:`log10_supply_compute`. The ceilings of v2
(power, capital, run length) are left out for the same reason, and so are the latency wall
and post-training: the record's runs are far below the one, and its estimates are mostly
of pretraining.

:func:`calibration_model` samples the same standard-normal scores ``z`` as
:func:`models.bottom_up.bottom_up_model` (MODEL.md, "How worlds are drawn": NUTS samples
the well-conditioned ``z``, not the raw growth rates) and observes the record of past
years with a Student-t error. Its posterior scores go through the unchanged bottom-up model
to give the calibrated forecast. No I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from models.bottom_up import (
    BASE_YEAR,
    SECONDS_PER_DAY,
    _log_growth,
    log_flops_per_chip,
    world_compute,
)

__all__ = [
    "OBSERVATION_NU", "SIGMA_SCALE", "SUPPLY_PARAMETERS", "calibration_model", "log10_observed_compute",
    "log10_supply_compute",
]

#: The priors the past's supply-driven compute depends on; every other prior (caps, ceilings,
#: data, latency, post-training, cost) leaves the calibration model untouched.
SUPPLY_PARAMETERS = (
    "lag_years", "chips_base", "chip_growth", "chip_flops_base", "chip_flops_growth",
    "low_precision_year", "low_precision_gain", "mfu", "duration_days_base", "duration_growth",
)

#: Degrees of freedom of the Student-t error: heavy enough tails that one odd record
#: (AlphaGo Zero's 2017 run, far above the language-model trend) cannot drag the fit.
OBSERVATION_NU = 4.0
#: ``sigma ~ HalfNormal(SIGMA_SCALE)``: how far, in orders of magnitude, the largest run of a
#: year may sit from what the growth rates say (half an OOM is a 3x miss either way).
SIGMA_SCALE = 0.5


def log10_supply_compute(params: Mapping, years, *, base_year: float = BASE_YEAR):
    """log10 FLOP of the largest run of each year when only chip supply limits it.

    ``chips_base * chip_growth^t`` chips at the FLOP/s, utilization and run length of the
    hardware equations (the run length grown without its ceiling); shape ``batch + (n_years,)``.
    """
    p = {name: jnp.asarray(params[name])[..., None] for name in SUPPLY_PARAMETERS}
    years = jnp.asarray(years, dtype=float)
    t = years - base_year - p["lag_years"]
    log_chips = _log_growth(jnp.log(p["chips_base"]), p["chip_growth"], t)
    log_compute = (
        log_chips
        + log_flops_per_chip(p, t, years)
        + jnp.log(p["mfu"])
        + _log_growth(jnp.log(p["duration_days_base"]), p["duration_growth"], t)
        + math.log(SECONDS_PER_DAY)
    )
    return log_compute / math.log(10.0)


def log10_observed_compute(params: Mapping, years, *, base_year: float = BASE_YEAR):
    """The model's largest run of each observed year: the supply-driven compute up to the
    base year (the model run backwards), the full forward model with its caps after it
    (:func:`models.bottom_up.world_compute`). Static in ``years``: a record that ends by the
    base year never evaluates the forward model."""
    years_np = np.asarray(years, dtype=float)
    past = log10_supply_compute(params, years, base_year=base_year)
    if not np.any(years_np > base_year):
        return past
    ahead = world_compute(params, years, base_year=base_year)["log10_training_compute"]
    return jnp.where(jnp.asarray(years_np > base_year), ahead, past)


def calibration_model(
    priors,
    years,
    log10_observed=None,
    *,
    base_year: float = BASE_YEAR,
    nu: float = OBSERVATION_NU,
    sigma_scale: float = SIGMA_SCALE,
):
    """NumPyro model: prior scores ``z`` -> supply-driven compute in past years -> the record.

    Parameters
    ----------
    priors
        A :class:`~priors.PriorSet` or its ``transform()``.
    years
        The past calendar years observed, shape ``(n,)``.
    log10_observed
        log10 FLOP of the largest run known by the end of each year; ``None`` samples it
        (prior predictive), so one function serves simulation and fit.

    Sites
    -----
    ``z`` (one independent score per uncertain prior: NUTS samples the copula's ``e``, and
    the transform joins correlated priors), ``sigma`` (OOM), deterministic ``log10_history``
    (the model's compute in each observed year) and ``log10_compute`` (the observation).
    """
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([priors.n_latent]).to_event(1))
    params = priors.values_from_normal(z)
    mu = numpyro.deterministic("log10_history", log10_observed_compute(params, years, base_year=base_year))
    sigma = numpyro.sample("sigma", dist.HalfNormal(sigma_scale))
    with numpyro.plate("years", mu.shape[-1]):
        numpyro.sample("log10_compute", dist.StudentT(nu, mu, sigma), obs=log10_observed)
