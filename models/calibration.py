"""The bottom-up model conditioned on history: which growth rates explain the frontier record?

Before the base year the model runs backwards (``t < 0``): chips, FLOP/s per chip and run
length shrink by their growth rates. Power, money and data did not bind the frontier runs
of the past (they are caps on a build-out that happens after the base year, and running
their growth backwards would invent caps that never were), so a past year's compute is the
supply-driven hardware compute alone: :func:`log10_supply_compute`.

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
import numpyro
import numpyro.distributions as dist

from models.bottom_up import (
    BASE_YEAR,
    PARAMETERS,
    SECONDS_PER_DAY,
    _log_growth,
    log_duration_days,
    log_flops_per_chip,
)

__all__ = ["OBSERVATION_NU", "SIGMA_SCALE", "calibration_model", "log10_supply_compute"]

#: Degrees of freedom of the Student-t error: heavy enough tails that one odd record
#: (AlphaGo Zero's 2017 run, far above the language-model trend) cannot drag the fit.
OBSERVATION_NU = 4.0
#: ``sigma ~ HalfNormal(SIGMA_SCALE)``: how far, in orders of magnitude, the largest run of a
#: year may sit from what the growth rates say (half an OOM is a 3x miss either way).
SIGMA_SCALE = 0.5


def log10_supply_compute(params: Mapping, years, *, base_year: float = BASE_YEAR):
    """log10 FLOP of the largest run of each year when only chip supply limits it.

    ``chips_base * chip_growth^t`` chips at the FLOP/s, utilization and run length of
    MODEL.md's hardware equations; shape ``batch + (n_years,)``.
    """
    p = {name: jnp.asarray(params[name])[..., None] for name in PARAMETERS}
    years = jnp.asarray(years, dtype=float)
    t = years - base_year - p["lag_years"]
    log_chips = _log_growth(jnp.log(p["chips_base"]), p["chip_growth"], t)
    log_compute = (
        log_chips
        + log_flops_per_chip(p, t, years)
        + jnp.log(p["mfu"])
        + log_duration_days(p, t)
        + math.log(SECONDS_PER_DAY)
    )
    return log_compute / math.log(10.0)


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
    ``z`` (one score per uncertain prior), ``sigma`` (OOM), deterministic ``log10_history``
    (the model's compute in each observed year) and ``log10_compute`` (the observation).
    """
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([priors.n_latent]).to_event(1))
    params = priors.values_from_normal(z)
    mu = numpyro.deterministic("log10_history", log10_supply_compute(params, years, base_year=base_year))
    sigma = numpyro.sample("sigma", dist.HalfNormal(sigma_scale))
    with numpyro.plate("years", mu.shape[-1]):
        numpyro.sample("log10_compute", dist.StudentT(nu, mu, sigma), obs=log10_observed)
