"""The bottom-up model calibrated on history: NUTS over the prior scores, then the forecast.

:func:`calibrate` conditions :func:`models.calibration.calibration_model` on the largest run
known at the end of each past year (:func:`forecast.history.yearly_frontier`) and samples the
posterior of the standard-normal scores ``z`` of every uncertain prior. The data speak only
to the priors that shape past compute (chip counts, FLOP/s, utilization, run length and
their growth, the lag); the others keep their prior, which the table of
:meth:`Calibration.prior_posterior` shows. :meth:`Calibration.forecast` pushes the
posterior scores through the same compiled bottom-up model as ``forecast run``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import arviz as az
import jax
import numpy as np
import pandas as pd
import xarray as xr
from numpyro.infer import MCMC, NUTS

from forecast._normal import root_key, standard_normal
from forecast.engine import push_worlds, to_dataset
from forecast.history.nuts import NutsDiagnostics, nuts_diagnostics
from forecast.history.record import load_runs, yearly_frontier
from forecast.result import ForecastResult, run
from forecast.settings import DEFAULT_SAMPLES, check_seed, parse_thresholds, parse_years
from models import BASE_YEAR, PARAMETERS
from models.calibration import calibration_model
from priors import InputError, PriorSet, load_prior_set
from priors._precision import float64

__all__ = [
    "DEFAULT_SINCE", "MOVED_SD_RATIO", "MOVED_SHIFT", "Calibration", "CalibrationWarning",
    "calibrate", "observed_frontier",
]

#: First year observed by default: from 2016 the record is runs on large accelerator
#: clusters, the world the bottom-up model describes.
DEFAULT_SINCE = 2016
#: A prior "moved" when the posterior mean of its score left 0 by this many prior sds ...
MOVED_SHIFT = 0.2
#: ... or its posterior sd shrank below this fraction of the prior's.
MOVED_SD_RATIO = 0.8
_PERCENTILES = (0.05, 0.5, 0.95)


class CalibrationWarning(UserWarning):
    """A calibration whose sampler did not converge well enough to trust."""


def observed_frontier(runs: pd.DataFrame, *, since: int, until: int) -> pd.DataFrame:
    """The largest run known at the end of each year ``since..until``: what calibration observes.

    Raises :class:`priors.InputError` for a range the record does not cover.
    """
    first_record = int(pd.to_datetime(runs["date"]).dt.year.min())
    last_record = int(pd.to_datetime(runs["date"]).dt.year.max())
    if since < first_record:
        raise InputError(f"--since: {since} is before the record starts ({first_record})")
    if until > last_record:
        raise InputError(f"calibrate: the record ends in {last_record}, before the last year observed ({until})")
    if until - since < 1:
        raise InputError(f"--since: {since} leaves fewer than two years to observe (up to {until})")
    return yearly_frontier(runs, first_year=since, last_year=until)


@dataclass(frozen=True)
class Calibration:
    """The posterior of the prior scores given the frontier record.

    Attributes
    ----------
    priors
        The prior set that was calibrated.
    observed
        The observed years: ``log10_compute`` and ``model`` (the run holding the record).
    idata
        ArviZ InferenceData of the NUTS fit: ``posterior`` (``z`` with dim ``prior``,
        ``sigma``, ``log10_history`` with dim ``year``), ``sample_stats``, ``observed_data``.
    diagnostics
        r_hat, ESS and divergences over ``z`` and ``sigma``.
    base_year
        Year the growth is counted from.
    """

    priors: PriorSet
    observed: pd.DataFrame = field(repr=False)
    idata: az.InferenceData = field(repr=False)
    diagnostics: NutsDiagnostics
    base_year: float = BASE_YEAR

    @property
    def years_observed(self) -> str:
        years = self.observed.index
        return f"{years.min()}-{years.max()}"

    def posterior_scores(self) -> np.ndarray:
        """Posterior draws of the site ``z``, chains flattened: ``(chain * draw, n_latent)``.

        These are the independent scores ``e`` of the Gaussian copula; the model joins
        correlated priors itself (``PriorSet.values_from_normal``)."""
        z = self.idata.posterior["z"].stack(sample=("chain", "draw")).transpose("sample", "prior")
        return z.to_numpy()

    @float64
    def values(self, *, posterior: bool) -> xr.Dataset:
        """Each uncertain prior's value in the posterior draws, or in as many prior draws.

        The prior draws are the engine's draws of seed 0 (:func:`forecast._normal.standard_normal`),
        so tables and plots repeat exactly.
        """
        z = self.posterior_scores()
        if not posterior:
            z = np.asarray(standard_normal(root_key(0), z.shape[::-1])).T
        values = self.priors.values_from_normal(z)
        return xr.Dataset(
            {name: ("sample", np.asarray(values[name])) for name in self.priors.latent_names},
            coords={"sample": np.arange(len(z))},
        )

    def prior_posterior(self) -> pd.DataFrame:
        """Per uncertain prior: prior and posterior 5/50/95th percentiles, and whether it moved.

        ``shift`` is the posterior mean of the prior's score (0 under the prior, in prior
        sds) and ``sd_ratio`` its posterior sd (1 under the prior): the data moved the
        prior when ``|shift| > MOVED_SHIFT`` or ``sd_ratio < MOVED_SD_RATIO``.
        """
        z = self.idata.posterior["z"]
        shift = z.mean(("chain", "draw")).to_series()
        sd_ratio = z.std(("chain", "draw")).to_series()
        posterior = self.values(posterior=True)
        rows = []
        for name in self.priors.latent_names:
            prior = self.priors[name]
            before = prior.family.ppf(_PERCENTILES)
            after = np.quantile(posterior[name].to_numpy(), _PERCENTILES)
            rows.append({
                "prior": name, "unit": prior.unit,
                "prior_5%": before[0], "prior_50%": before[1], "prior_95%": before[2],
                "posterior_5%": after[0], "posterior_50%": after[1], "posterior_95%": after[2],
                "shift": shift[name], "sd_ratio": sd_ratio[name],
                "moved": bool(abs(shift[name]) > MOVED_SHIFT or sd_ratio[name] < MOVED_SD_RATIO),
            })
        return pd.DataFrame(rows).set_index("prior")

    @property
    def moved(self) -> tuple[str, ...]:
        """The priors the record moved, most moved first."""
        table = self.prior_posterior()
        table = table[table["moved"]]
        order = (table["shift"].abs() + (1 - table["sd_ratio"])).sort_values(ascending=False)
        return tuple(order.index)

    def fitted(self) -> pd.DataFrame:
        """Observed log10 compute per year beside the posterior median and 90% interval."""
        history = self.idata.posterior["log10_history"]
        q = history.quantile(list(_PERCENTILES), dim=("chain", "draw"))
        table = self.observed[["model", "log10_compute"]].copy()
        for p, label in zip(_PERCENTILES, ("fitted_5%", "fitted_50%", "fitted_95%")):
            table[label] = q.sel(quantile=p).to_numpy()
        return table

    def forecast(self, *, years=None, thresholds=None, seed: int = 0) -> ForecastResult:
        """The bottom-up forecast of the posterior worlds (one world per posterior draw)."""
        years = parse_years(years)
        worlds = push_worlds(self.priors, self.posterior_scores(), years=years, base_year=self.base_year)
        samples = to_dataset(worlds, self.priors, years)
        return ForecastResult(
            samples=samples,
            priors=self.priors,
            thresholds=parse_thresholds(thresholds),
            seed=seed,
            label=f"{self.priors.name}, calibrated on {self.years_observed}",
            metadata={"calibrated_on": self.years_observed},
        )

    def problems(self) -> list[str]:
        return self.diagnostics.problems()


@float64
def one_system(prior_set: PriorSet) -> PriorSet:
    """The prior set as the calibration model reads it: one largest system (model v2's
    calibration, on the frontier record), so several labs become one, with their common
    priors; a :class:`CalibrationWarning` says so."""
    if len(prior_set.labs) == 1:
        return prior_set
    warnings.warn(f"calibrate fits one largest system to the frontier record: the {len(prior_set.labs)} labs "
                  "of the prior set are taken as one, with their common priors (forecast run conditions "
                  "the labs on the record by lab)", CalibrationWarning, stacklevel=3)
    return prior_set.with_labs(1)


def calibrate(
    priors: PriorSet | str | None = None,
    runs: pd.DataFrame | None = None,
    *,
    since: int = DEFAULT_SINCE,
    until: int | None = None,
    base_year: float = BASE_YEAR,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
    target_accept: float = 0.9,
) -> Calibration:
    """Condition a prior set on the frontier record with NUTS.

    Parameters
    ----------
    priors
        A prior set, a prior file or a built-in set's name; ``None`` for the default.
    runs
        The record (:func:`forecast.history.load_runs`); the shipped one by default.
    since, until
        Years observed: the largest run known by the end of each. ``until`` defaults to the
        base year (the last year the model runs backwards). Later years are observed through
        the forward model with its caps (:func:`models.calibration.log10_observed_compute`).
    chains, draws, warmup, seed, target_accept
        NUTS settings (chains run vectorized).

    Warns
    -----
    CalibrationWarning
        When r_hat, ESS or divergences fail the usual thresholds; never silently.
    """
    prior_set = one_system(priors if isinstance(priors, PriorSet) else load_prior_set(priors))
    prior_set.validate(PARAMETERS)
    seed = check_seed(seed)
    if prior_set.n_latent == 0:
        raise InputError(f"{prior_set.source or prior_set.name}: every prior is fixed; nothing to calibrate")
    runs = load_runs() if runs is None else runs
    until = int(base_year) if until is None else int(until)
    observed = observed_frontier(runs, since=int(since), until=until)

    years = observed.index.to_numpy(dtype=float)
    mcmc = MCMC(
        NUTS(calibration_model, target_accept_prob=target_accept),
        num_warmup=int(warmup), num_samples=int(draws), num_chains=int(chains),
        chain_method="vectorized", progress_bar=False,
    )
    mcmc.run(
        jax.random.PRNGKey(seed), prior_set.transform(), years,
        observed["log10_compute"].to_numpy(dtype=float), base_year=float(base_year),
    )
    idata = az.from_numpyro(
        mcmc,
        coords={"prior": list(prior_set.latent_names), "year": observed.index.to_numpy()},
        dims={"z": ["prior"], "log10_history": ["year"], "log10_compute": ["year"]},
    )
    result = Calibration(
        priors=prior_set, observed=observed, idata=idata,
        diagnostics=nuts_diagnostics(idata, ("z", "sigma")), base_year=float(base_year),
    )
    found = result.problems()
    if found:
        warnings.warn(
            f"UNRELIABLE calibration of {prior_set.name!r}: " + "; ".join(found)
            + ". Draw more samples (--draws) before using this posterior.",
            CalibrationWarning, stacklevel=2,
        )
    return result


@dataclass(frozen=True)
class CalibratedForecast:
    """A calibration, the forecast of its posterior worlds, and the prior forecast beside it."""

    calibration: Calibration
    before: ForecastResult
    after: ForecastResult
    comparison: xr.Dataset = field(repr=False)


def calibrated_forecast(
    priors: PriorSet | str | None = None,
    *,
    overrides=None,
    runs: pd.DataFrame | None = None,
    since: int = DEFAULT_SINCE,
    until: int | None = None,
    chains: int = 4,
    draws: int = 1000,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    years=None,
    thresholds=None,
) -> CalibratedForecast:
    """Calibrate a prior set on the record, forecast from the posterior, and compare with the
    uncalibrated forecast of ``samples`` worlds (``forecast calibrate``).

    The calibration's own warning is left to the caller's report: the diagnostics travel
    with the result (:meth:`Calibration.problems`).
    """
    from forecast.compare import compare

    prior_set = one_system(priors if isinstance(priors, PriorSet) else load_prior_set(priors))
    prior_set = prior_set.with_overrides(overrides)
    parse_years(years), parse_thresholds(thresholds)  # refused before any fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        calibration = calibrate(prior_set, runs, since=since, until=until, chains=chains, draws=draws, warmup=draws,
                                seed=seed)
    after = calibration.forecast(years=years, thresholds=thresholds, seed=seed)
    before = run(prior_set, samples=samples, seed=seed, years=years, thresholds=thresholds,
                 label=f"{prior_set.name} (prior)")
    return CalibratedForecast(calibration, before, after, compare([before, after]))
