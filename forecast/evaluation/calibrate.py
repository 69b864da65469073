"""The bottom-up model conditioned on the record with NUTS, then the forecast.

:func:`calibrate` samples :func:`models.calibration.calibration_model`: the bottom-up model's
own scores (``z`` of every uncertain prior, ``z_lab_year`` of every uncertain lab-year
prior) given the record as published by the as-of date, through the likelihood that
``forecast run --as-of`` weighs worlds by (:func:`models.evidence.record_log_likelihood`,
with the :class:`~models.evidence.Evidence` of :func:`forecast.conditioning.evidence_of`:
the same record, labs, years and date). The two are one conditioning computed two ways:
importance weights over prior worlds (reliable while the Pareto k stays below 0.7) and a
Markov chain over the posterior (reliable while r_hat, ESS and divergences pass). The record
informs the priors that shape 2025's and 2026's runs by lab and the disclosure priors; the
others keep their prior, which the table of :meth:`Calibration.prior_posterior` shows.
:meth:`Calibration.forecast` pushes the posterior scores through the same compiled
bottom-up model as ``forecast run``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field

import jax
import numpy as np
import pandas as pd
import xarray as xr
from numpyro.infer import MCMC, NUTS

from forecast.arviz_loader import arviz
from forecast._normal import root_key, standard_normal
from forecast.engine import push_worlds, to_dataset
from forecast.conditioning import evidence_of, record_as_of
from forecast.evaluation.nuts import NutsDiagnostics, nuts_diagnostics
from forecast.result import ForecastResult, run
from forecast.settings import DEFAULT_SAMPLES, check_seed, parse_as_of, parse_thresholds, parse_years
from models import BASE_YEAR, PARAMETERS
from models.calibration import calibration_model
from models.evidence import LAB_TARGET, TARGET
from priors import InputError, PriorSet, load_prior_set
from priors.precision import float64

az = arviz()

__all__ = [
    "MAX_TREE_DEPTH", "MOVED_SD_RATIO", "MOVED_SHIFT", "Calibration", "CalibrationWarning", "calibrate",
]

#: A prior "moved" when the posterior mean of its score left 0 by this many prior sds ...
MOVED_SHIFT = 0.2
#: ... or its posterior sd shrank below this fraction of the prior's.
MOVED_SD_RATIO = 0.8
#: NUTS's deepest tree (2^depth - 1 steps a draw): the model's kinks (caps that switch, the
#: year 8-bit training arrives) keep the step size small, and deeper trees cost time for
#: little more ESS; the diagnostics say when the chains did not mix.
MAX_TREE_DEPTH = 8
_PERCENTILES = (0.05, 0.5, 0.95)


class CalibrationWarning(UserWarning):
    """A calibration whose sampler did not converge well enough to trust."""


@dataclass(frozen=True)
class Calibration:
    """The posterior of the bottom-up model's scores given the record as published by a date.

    Attributes
    ----------
    priors
        The prior set that was calibrated.
    observed
        The observations (:func:`forecast.conditioning.evidence_of`): one row each,
        ``lab``, ``year``, ``model``, ``kind`` (``estimate``, ``bound``, ``frontier bound``,
        ``none``), ``log10_compute`` and ``sd``.
    idata
        ArviZ InferenceData of the NUTS fit: ``posterior`` (``z`` with dim ``prior``,
        ``z_lab_year`` with dims ``lab_year_prior`` and ``year`` where a lab-year prior is
        uncertain, ``log10_training_compute`` with dim ``year`` and, with several labs,
        ``log10_lab_training_compute`` with dims ``lab`` and ``year``), ``sample_stats``.
    diagnostics
        r_hat, ESS and divergences over the scores.
    years
        The forecast years the model ran over (``z_lab_year``'s years).
    as_of
        The date the record was read as published by.
    notes
        What the reading of the record dropped or treated specially, in words.
    base_year
        Year the growth is counted from.
    """

    priors: PriorSet
    observed: pd.DataFrame = field(repr=False)
    idata: az.InferenceData = field(repr=False)
    diagnostics: NutsDiagnostics
    years: tuple[int, ...]
    as_of: dt.date
    notes: tuple[str, ...] = ()
    base_year: float = BASE_YEAR

    @property
    def conditioned_on(self) -> str:
        """``the record as published by 2026-12-06``: what the posterior is conditioned on."""
        return f"the record as published by {self.as_of.isoformat()}"

    def posterior_scores(self) -> np.ndarray:
        """Posterior draws of the site ``z``, chains flattened: ``(chain * draw, n_latent)``.

        These are the independent scores ``e`` of the Gaussian copula; the model joins
        correlated priors itself (``PriorSet.values_from_normal``)."""
        z = self.idata.posterior["z"].stack(sample=("chain", "draw")).transpose("sample", "prior")
        return z.to_numpy()

    def posterior_lab_year_scores(self) -> np.ndarray | None:
        """Posterior draws of ``z_lab_year``: ``(chain * draw, n_lab_year, years)``; None where
        no lab-year prior is uncertain."""
        if "z_lab_year" not in self.idata.posterior:
            return None
        z = self.idata.posterior["z_lab_year"].stack(sample=("chain", "draw"))
        return z.transpose("sample", "lab_year_prior", "year").to_numpy()

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

    def prior_of(self, column_name: str):
        """The :class:`~priors.Prior` a column is drawn from (``chips_base[xai]``: xai's)."""
        return {c[0]: c[3] for c in self.priors.columns}[column_name]

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
            prior = self.prior_of(name)
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
        """Each row of the record the posterior saw (estimates and bounds) beside the posterior
        median and 90% interval of the run it speaks to: its lab's largest run of its year, or
        (a frontier bound) the largest run of all."""
        rows = self.observed[self.observed["kind"] != "none"].reset_index(drop=True)
        posterior = self.idata.posterior
        quantiles = []
        for _, row in rows.iterrows():
            if row["kind"] == "frontier bound" or LAB_TARGET not in posterior:
                draws = posterior[TARGET].sel(year=row["year"])
            else:
                draws = posterior[LAB_TARGET].sel(lab=row["lab"], year=row["year"])
            quantiles.append(np.quantile(draws.to_numpy().ravel(), _PERCENTILES))
        quantiles = np.reshape(quantiles, (len(rows), len(_PERCENTILES)))
        table = rows[["lab", "year", "model", "kind", "log10_compute"]].copy()
        for i, label in enumerate(("fitted_5%", "fitted_50%", "fitted_95%")):
            table[label] = quantiles[:, i]
        return table

    def fitted_frontier(self) -> pd.DataFrame:
        """Per observed year: the largest row of the record (``model``, ``log10_compute``) and
        the posterior median and 90% interval of the largest run of all."""
        rows = self.observed[self.observed["kind"] != "none"]
        years = sorted(int(y) for y in self.observed["year"].unique())
        largest = rows.sort_values("log10_compute", ascending=False).drop_duplicates("year").set_index("year")
        q = self.idata.posterior[TARGET].sel(year=years).quantile(list(_PERCENTILES), dim=("chain", "draw"))
        table = pd.DataFrame({"model": largest["model"].reindex(years),
                              "log10_compute": largest["log10_compute"].reindex(years)},
                             index=pd.Index(years, name="year"))
        for p, label in zip(_PERCENTILES, ("fitted_5%", "fitted_50%", "fitted_95%")):
            table[label] = q.sel(quantile=p).to_numpy()
        return table

    def forecast(self, *, years=None, thresholds=None, seed: int = 0) -> ForecastResult:
        """The bottom-up forecast of the posterior worlds (one world per posterior draw).

        ``years``: the calibration's by default. A year it did not run over takes the prior's
        lab-year scores (seeded by ``seed``: the record says nothing of a year after the
        as-of date); one up to the as-of date is refused.
        """
        years = self.years if years is None else tuple(int(y) for y in parse_years(years))
        early = [y for y in years if y not in self.years and y <= self.as_of.year]
        if early:  # the record of that year was not observed
            raise InputError(f"years: {early[0]} was not among the calibration's years "
                             f"({self.years[0]}..{self.years[-1]}) but is on or before the as-of date "
                             f"{self.as_of.isoformat()}; calibrate with these years")
        z_lab_year = self.posterior_lab_year_scores()
        if z_lab_year is not None:
            z_lab_year = self._lab_year_scores(z_lab_year, years, seed)
        worlds = push_worlds(self.priors, self.posterior_scores(), years=years, base_year=self.base_year,
                             z_lab_year=z_lab_year)
        samples = to_dataset(worlds, self.priors, years)
        return ForecastResult(
            samples=samples,
            priors=self.priors,
            thresholds=parse_thresholds(thresholds),
            seed=seed,
            label=f"{self.priors.name}, calibrated on {self.conditioned_on}",
            metadata={"calibrated_on": self.conditioned_on, "as_of": self.as_of.isoformat()},
        )

    def _lab_year_scores(self, posterior: np.ndarray, years, seed: int) -> np.ndarray:
        """The posterior lab-year scores for ``years``: the calibration's where it ran over
        the year, fresh standard-normal ones (the prior, seeded) after the as-of date."""
        index = {y: i for i, y in enumerate(self.years)}
        fresh = np.asarray(standard_normal(root_key(seed), (posterior.shape[0], posterior.shape[1], len(years))))
        return np.stack([posterior[:, :, index[y]] if y in index else fresh[:, :, i]
                         for i, y in enumerate(years)], axis=-1)

    def problems(self) -> list[str]:
        return self.diagnostics.problems()


def lab_year_rows(prior_set: PriorSet) -> list[str]:
    """The names of ``z_lab_year``'s rows: each uncertain lab-year prior of each lab
    (``run_share[openai]``), in the transform's order."""
    return [f"{name}[{lab}]" for name in prior_set.lab_year_priors for lab in prior_set.labs.names
            if not prior_set.for_lab(name, lab).is_fixed]


@float64
def calibrate(
    priors: PriorSet | str | None = None,
    runs: pd.DataFrame | None = None,
    *,
    as_of="record",
    years=None,
    base_year: float = BASE_YEAR,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
    target_accept: float = 0.9,
    max_tree_depth: int = MAX_TREE_DEPTH,
) -> Calibration:
    """Condition a prior set on the record with NUTS: the likelihood ``forecast run`` weighs
    worlds by, for the same labs, years and as-of date.

    Parameters
    ----------
    priors
        A prior set, a prior file or a built-in set's name; ``None`` for the default.
    runs
        The record (:func:`forecast.record.runs.load_runs`); the shipped one by default.
    as_of
        The date the record is read as published by: a date, a year (its last day), or
        ``"record"`` (the record's checked date, as ``forecast run``'s default).
    years
        The forecast years the model runs over (the evidence's year axis); default 2025..2035.
    chains, draws, warmup, seed, target_accept, max_tree_depth
        NUTS settings (chains run vectorized).

    Warns
    -----
    CalibrationWarning
        When r_hat, ESS or divergences fail the usual thresholds; never silently.
    """
    prior_set = priors if isinstance(priors, PriorSet) else load_prior_set(priors)
    prior_set.validate(PARAMETERS)
    seed = check_seed(seed)
    if prior_set.n_latent == 0:
        raise InputError(f"{prior_set.source or prior_set.name}: every prior is fixed; nothing to calibrate")
    date = parse_as_of(as_of, base_year=base_year)
    if date is None:
        raise InputError("as_of: calibrate conditions on the record; 'none' leaves nothing to condition on "
                         "(forecast run --as-of none is the prior forecast)")
    years = tuple(int(y) for y in parse_years(years))
    known, date = record_as_of(runs, date)
    labs = prior_set.labs.names
    evidence, observed, notes = evidence_of(known, labs, years, date)
    if evidence.empty:
        raise InputError(f"as_of: nothing to condition on: the record as published by {date.isoformat()} "
                         f"has no observation of the labs {', '.join(labs)} in the forecast years "
                         f"{years[0]}..{years[-1]}")
    mcmc = MCMC(
        NUTS(calibration_model, target_accept_prob=target_accept, max_tree_depth=int(max_tree_depth)),
        num_warmup=int(warmup), num_samples=int(draws), num_chains=int(chains),
        chain_method="vectorized", progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed), prior_set.transform(), np.asarray(years, dtype=float), evidence,
             base_year=float(base_year))
    coords = {"prior": list(prior_set.latent_names), "year": list(years), "lab": list(labs),
              "lab_year_prior": lab_year_rows(prior_set)}
    dims = {"z": ["prior"], "z_lab_year": ["lab_year_prior", "year"], TARGET: ["year"], LAB_TARGET: ["lab", "year"]}
    idata = az.from_numpyro(mcmc, coords=coords, dims=dims)
    scores = ("z", "z_lab_year") if "z_lab_year" in idata.posterior else ("z",)
    result = Calibration(
        priors=prior_set, observed=observed, idata=idata, diagnostics=nuts_diagnostics(idata, scores),
        years=years, as_of=date, notes=notes, base_year=float(base_year),
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
    as_of="record",
    chains: int = 4,
    draws: int = 1000,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    years=None,
    thresholds=None,
) -> CalibratedForecast:
    """Calibrate a prior set on the record, forecast from the posterior, and compare with the
    prior forecast of ``samples`` worlds (``forecast calibrate``).

    The calibration's own warning is left to the caller's report: the diagnostics travel
    with the result (:meth:`Calibration.problems`).
    """
    from forecast.compare import compare

    prior_set = priors if isinstance(priors, PriorSet) else load_prior_set(priors)
    prior_set = prior_set.with_overrides(overrides)
    parse_years(years), parse_thresholds(thresholds)  # refused before any fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        calibration = calibrate(prior_set, runs, as_of=as_of, years=years, chains=chains, draws=draws,
                                warmup=draws, seed=seed)
    after = calibration.forecast(thresholds=thresholds, seed=seed)
    before = run(prior_set, samples=samples, seed=seed, years=years, thresholds=thresholds,
                 label=f"{prior_set.name} (prior)")
    return CalibratedForecast(calibration, before, after, compare([before, after]))
