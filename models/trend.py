"""The trend model: a straight (or hinged) line through log10 frontier compute.

``log10 C(t) ~ StudentT(nu, a + b (t - 2020), sigma)``, with ``t`` the decimal year of a
run. The line arithmetic (:func:`linear_trend`, :func:`hinge_trend`) is plain JAX; the
NumPyro models (:func:`trend_model`, :func:`hinge_trend_model`) only sample and call it.

Observed data come last and default to ``None``, so one function serves prior predictive,
fit and forecast: with ``log10_compute=None`` the site ``log10_compute`` is sampled, which is
how :mod:`forecast.evaluation.trend_fit` draws the posterior predictive at future years. The line
itself leaves through ``numpyro.deterministic("mu", ...)``.

No I/O, no printing, no global configuration: precision is whatever JAX is set to.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

__all__ = [
    "REFERENCE_YEAR",
    "TrendPriors",
    "HingePriors",
    "hinge_trend",
    "hinge_trend_model",
    "linear_trend",
    "trend_model",
]

REFERENCE_YEAR = 2020.0
"""The intercept ``a`` is log10 frontier compute at the start of this year."""


def _check_positive(obj, names):
    for name in names:
        value = getattr(obj, name)
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {value}")


@dataclass(frozen=True, kw_only=True)
class TrendPriors:
    """Hyper-parameters of the straight-line priors (weakly informative defaults).

    Parameters
    ----------
    intercept_loc, intercept_scale : float
        ``a ~ Normal(loc, scale)``: log10 FLOP of the frontier at 2020.0. GPT-3 (2020) was
        3.1e23 FLOP, log10 23.5; scale 1.5 allows a 30x miss either way at 1 sd.
    slope_loc, slope_scale : float
        ``b ~ Normal(loc, scale)`` in orders of magnitude per year; 0.6 is about 4x/yr.
    sigma_scale : float
        ``sigma ~ HalfNormal(scale)``, scatter around the line in OOM.
    nu_concentration, nu_rate : float
        ``nu ~ Gamma(concentration, rate)``, Student-t degrees of freedom (mean 20 by
        default: near-normal unless the data insist on heavy tails).
    """

    intercept_loc: float = 23.5
    intercept_scale: float = 1.5
    slope_loc: float = 0.6
    slope_scale: float = 0.3
    sigma_scale: float = 1.0
    nu_concentration: float = 2.0
    nu_rate: float = 0.1

    def __post_init__(self) -> None:
        _check_positive(
            self, ("intercept_scale", "slope_scale", "sigma_scale", "nu_concentration", "nu_rate")
        )
        if not np.isfinite(self.intercept_loc) or not np.isfinite(self.slope_loc):
            raise ValueError("intercept_loc and slope_loc must be finite")

    @classmethod
    def anchored(
        cls,
        log10_value: float,
        t: float,
        *,
        slope_loc: float,
        slope_scale: float,
        scale_at_anchor: float = 1.5,
        **others,
    ) -> "TrendPriors":
        """Priors whose line passes near a known point, with a given slope prior.

        The intercept (log10 FLOP at 2020.0) is centred on ``log10_value`` carried from
        decimal year ``t`` to 2020 at ``slope_loc``:
        ``intercept_loc = log10_value + slope_loc * (2020 - t)``, and its scale grows with
        that distance as the slope's uncertainty does:
        ``intercept_scale = hypot(scale_at_anchor, slope_scale * (2020 - t))``. Backtests
        anchor on the last record before a cutoff, so no prior leans on a later run.
        """
        distance = REFERENCE_YEAR - float(t)
        return cls(
            intercept_loc=float(log10_value) + float(slope_loc) * distance,
            intercept_scale=float(np.hypot(scale_at_anchor, float(slope_scale) * distance)),
            slope_loc=float(slope_loc),
            slope_scale=float(slope_scale),
            **others,
        )


@dataclass(frozen=True, kw_only=True)
class HingePriors(TrendPriors):
    """Straight-line priors plus the hinge: a change of slope at an uncertain year.

    Parameters
    ----------
    hinge_year_loc, hinge_year_scale : float
        ``k ~ Normal(loc, scale)``, the year the slope changes. Epoch AI reported a
        slowdown of the frontier around 2018; the default is centred there, 3 years wide.
    slope_change_scale : float
        ``delta ~ Normal(0, scale)``: the slope after the hinge is ``b + delta``.
    hinge_smoothness : float
        Width in years of the softplus that rounds the corner, so NUTS sees a smooth
        gradient in ``k``. Fixed, not sampled.
    Other fields as in :class:`TrendPriors`.
    """

    hinge_year_loc: float = 2018.0
    hinge_year_scale: float = 3.0
    slope_change_scale: float = 0.3
    hinge_smoothness: float = 0.25

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(self, ("hinge_year_scale", "slope_change_scale", "hinge_smoothness"))


def linear_trend(t, intercept, slope):
    """``intercept + slope * (t - 2020)``: log10 FLOP of the trend line at decimal year t."""
    return intercept + slope * (t - REFERENCE_YEAR)


def hinge_trend(t, intercept, slope, slope_change, hinge_year, smoothness):
    """Line whose slope goes from ``slope`` to ``slope + slope_change`` around ``hinge_year``.

    The corner is a softplus of width ``smoothness`` years:
    ``smoothness * log(1 + exp((t - hinge_year) / smoothness))``, which tends to
    ``max(t - hinge_year, 0)`` as the width goes to zero.
    """
    ramp = smoothness * jnp.logaddexp(0.0, (t - hinge_year) / smoothness)
    return linear_trend(t, intercept, slope) + slope_change * ramp


def _as_years(t):
    t = jnp.asarray(t)
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D array of decimal years, got shape {t.shape}")
    return t


def _check_obs(t, log10_compute):
    if log10_compute is None:
        return None
    obs = jnp.asarray(log10_compute)
    if obs.shape != t.shape:
        raise ValueError(
            f"log10_compute has shape {obs.shape} but t has shape {t.shape}; one value per year"
        )
    return obs


def _observe(t, mu, nu, sigma, log10_compute):
    with numpyro.plate("runs", t.shape[0]):
        numpyro.sample("log10_compute", dist.StudentT(nu, mu, sigma), obs=log10_compute)


def _line_priors(priors: TrendPriors):
    intercept = numpyro.sample(
        "intercept", dist.Normal(priors.intercept_loc, priors.intercept_scale)
    )
    slope = numpyro.sample("slope", dist.Normal(priors.slope_loc, priors.slope_scale))
    sigma = numpyro.sample("sigma", dist.HalfNormal(priors.sigma_scale))
    nu = numpyro.sample("nu", dist.Gamma(priors.nu_concentration, priors.nu_rate))
    return intercept, slope, sigma, nu


def trend_model(t, log10_compute=None, *, priors: TrendPriors | None = None):
    """Straight-line Student-t trend of log10 frontier training compute.

    Parameters
    ----------
    t : array-like, shape (n,)
        Decimal years of the runs (fit) or of the forecast points (predict).
    log10_compute : array-like, shape (n,), optional
        Observed log10 FLOP; ``None`` samples it (prior/posterior predictive).
    priors : TrendPriors, optional
        Prior hyper-parameters; defaults to ``TrendPriors()``.

    Sites
    -----
    ``intercept`` (log10 FLOP at 2020.0), ``slope`` (OOM/yr), ``sigma``, ``nu``,
    deterministic ``mu`` (the line at ``t``) and ``log10_compute`` (the observation).
    """
    priors = TrendPriors() if priors is None else priors
    t = _as_years(t)
    obs = _check_obs(t, log10_compute)
    intercept, slope, sigma, nu = _line_priors(priors)
    mu = numpyro.deterministic("mu", linear_trend(t, intercept, slope))
    _observe(t, mu, nu, sigma, obs)


def hinge_trend_model(t, log10_compute=None, *, priors: HingePriors | None = None):
    """Trend whose slope changes at an uncertain year (see :func:`hinge_trend`).

    Parameters
    ----------
    t, log10_compute
        As in :func:`trend_model`.
    priors : HingePriors, optional
        Prior hyper-parameters; defaults to ``HingePriors()``.

    Sites
    -----
    Those of :func:`trend_model` plus ``slope_change`` (OOM/yr added after the hinge) and
    ``hinge_year``. ``slope`` is the slope *before* the hinge.
    """
    priors = HingePriors() if priors is None else priors
    if not isinstance(priors, HingePriors):
        raise ValueError("hinge_trend_model needs HingePriors (they carry the hinge's priors)")
    t = _as_years(t)
    obs = _check_obs(t, log10_compute)
    intercept, slope, sigma, nu = _line_priors(priors)
    slope_change = numpyro.sample("slope_change", dist.Normal(0.0, priors.slope_change_scale))
    hinge_year = numpyro.sample(
        "hinge_year", dist.Normal(priors.hinge_year_loc, priors.hinge_year_scale)
    )
    mu = numpyro.deterministic(
        "mu",
        hinge_trend(t, intercept, slope, slope_change, hinge_year, priors.hinge_smoothness),
    )
    _observe(t, mu, nu, sigma, obs)
