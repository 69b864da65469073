"""Fitting the trend model with NUTS: diagnostics, posterior predictive, LOO comparison.

:func:`fit_trend` fits :func:`models.trend.trend_model` (or the hinge variant) to the
frontier series and returns a :class:`TrendFit`: the ArviZ ``InferenceData``, the
convergence diagnostics, and :meth:`TrendFit.predict`, which draws the frontier's log10
FLOP in calendar years as an ``xarray.Dataset`` with dims ``(sample, year)`` and variable
``log10_training_compute``, the same layout as the bottom-up forecast.

Which point of a calendar year a forecast means: by default the *end* of the year
(``year_fraction=1.0``, i.e. decimal year ``y + 1``). That matches what the backtests score
against, the largest run known by 31 December of ``y`` (:func:`forecast.record.frontier.yearly_frontier`),
and the bottom-up quantity, the largest run finished in year ``y``. Pass
``year_fraction=0.5`` for mid-year.

Chains run with ``chain_method="vectorized"`` by default: on CPU, ``"parallel"`` needs one
XLA device per chain (a global flag this module does not set), and on 2 cores vectorized
was measured faster than sequential for this model (see ``bench/trend_nuts.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import jax
import numpy as np
import pandas as pd
import xarray as xr
from numpyro.infer import MCMC, NUTS, Predictive

from forecast.arviz_loader import arviz
from forecast.evaluation.nuts import NutsDiagnostics, nuts_diagnostics
from forecast.record.frontier import frontier_series, runs_before
from forecast.record.runs import decimal_year
from models.trend import HingePriors, TrendPriors, hinge_trend_model, trend_model
from priors.precision import float64

az = arviz()

__all__ = [
    "TrendFit",
    "TrendFitWarning",
    "rank_trend_models",
    "fit_trend",
]

CHAIN_METHODS = ("vectorized", "sequential", "parallel")
_LINE_PARAMS = ("intercept", "slope", "sigma", "nu")
_HINGE_PARAMS = _LINE_PARAMS + ("slope_change", "hinge_year")


class TrendFitWarning(UserWarning):
    """A trend fit whose sampler did not converge well enough to trust."""


@dataclass(frozen=True)
class TrendFit:
    """A fitted trend model.

    Attributes
    ----------
    idata : arviz.InferenceData
        Posterior, sample_stats, observed_data, log_likelihood (dims ``chain``, ``draw``,
        ``run``).
    diagnostics : NutsDiagnostics
    hinge : bool
        Whether the hinge variant was fitted.
    priors : TrendPriors
        The priors used (``HingePriors`` for the hinge variant).
    data : pandas.DataFrame
        The rows the model saw (``model``, ``date``, ``year_frac``, ``log10_compute``).
    cutoff : int or None
        Runs on or after 1 January of this year were excluded; ``None`` if none were.
    """

    idata: az.InferenceData = field(repr=False)
    diagnostics: NutsDiagnostics
    hinge: bool
    priors: TrendPriors
    data: pd.DataFrame = field(repr=False)
    cutoff: int | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return _HINGE_PARAMS if self.hinge else _LINE_PARAMS

    def posterior_samples(self) -> dict[str, np.ndarray]:
        """Parameter draws flattened over chains: ``{name: array (chain * draw,)}``."""
        post = self.idata.posterior
        return {
            name: post[name].stack(sample=("chain", "draw")).transpose("sample").to_numpy()
            for name in self.param_names
        }

    def warn_if_unreliable(
        self, *, rhat_max: float = 1.01, ess_min: float = 400.0, stacklevel: int = 2
    ) -> list[str]:
        """Warn (:class:`TrendFitWarning`) when r_hat, ESS or divergences fail.

        Returns the list of problems found (empty when the fit passes), so callers can
        also record them; the warning is emitted regardless.
        """
        found = self.diagnostics.problems(rhat_max=rhat_max, ess_min=ess_min)
        if found:
            label = "hinge" if self.hinge else "straight"
            where = "" if self.cutoff is None else f", cutoff {self.cutoff}"
            warnings.warn(
                f"UNRELIABLE trend fit ({label}{where}): " + "; ".join(found)
                + ". Draw more samples or reparametrize before using this posterior.",
                TrendFitWarning,
                stacklevel=stacklevel,
            )
        return found

    @float64
    def predict(
        self,
        years,
        *,
        seed: int,
        year_fraction: float = 1.0,
    ) -> xr.Dataset:
        """Posterior predictive of the frontier's log10 training compute per calendar year.

        Parameters
        ----------
        years : sequence of int
            Calendar years to forecast.
        seed : int
            Seed of the predictive draws (the observation noise).
        year_fraction : float
            Point of each year the forecast is for: 1.0 (default) is the end of the year
            (decimal year ``y + 1``), 0.5 mid-year, 0.0 its start.

        Returns
        -------
        xarray.Dataset
            Dims ``(sample, year)``, ``sample`` = chain x draw. Variables
            ``log10_training_compute`` (posterior predictive, with Student-t noise) and
            ``log10_trend`` (the fitted line alone). Attrs record method, year_fraction,
            cutoff and hinge.
        """
        years = np.asarray(years)
        if years.ndim != 1 or years.size == 0:
            raise ValueError(f"years must be a non-empty 1-D sequence, got shape {years.shape}")
        if not np.all(np.equal(np.round(years), years)):
            raise ValueError(f"years must be whole calendar years, got {years}")
        if not 0.0 <= year_fraction <= 1.0:
            raise ValueError(f"year_fraction must lie in [0, 1], got {year_fraction}")
        years = years.astype(int)
        t = years.astype(float) + float(year_fraction)
        model = hinge_trend_model if self.hinge else trend_model
        predictive = Predictive(
            model,
            posterior_samples=self.posterior_samples(),
            return_sites=["mu", "log10_compute"],
        )
        draws = predictive(jax.random.PRNGKey(seed), t, priors=self.priors)
        n_samples = draws["mu"].shape[0]
        coords = {"sample": np.arange(n_samples), "year": years}
        return xr.Dataset(
            {
                "log10_training_compute": (
                    ("sample", "year"),
                    np.asarray(draws["log10_compute"], dtype=float),
                ),
                "log10_trend": (("sample", "year"), np.asarray(draws["mu"], dtype=float)),
            },
            coords=coords,
            attrs={
                "method": "trend_hinge" if self.hinge else "trend",
                "year_fraction": float(year_fraction),
                "cutoff": -1 if self.cutoff is None else int(self.cutoff),
                "hinge": int(self.hinge),
            },
        )


def _training_rows(runs: pd.DataFrame, cutoff, frontier_only: bool) -> pd.DataFrame:
    if cutoff is not None:
        runs = runs_before(runs, cutoff)
    if runs.empty:
        raise ValueError(f"no runs before the cutoff {cutoff}: nothing to fit")
    if frontier_only:
        rows = frontier_series(runs)
    else:
        rows = runs.sort_values("date", kind="stable").reset_index(drop=True)
        rows["year_frac"] = decimal_year(rows["date"])
        rows["log10_compute"] = np.log10(rows["training_compute_flop"].to_numpy(dtype=float))
    if len(rows) < 2:
        raise ValueError(
            f"only {len(rows)} run(s) to fit (cutoff {cutoff}); the trend needs at least 2"
        )
    return rows


@float64
def fit_trend(
    runs_or_series: pd.DataFrame,
    *,
    cutoff: int | None = None,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
    hinge: bool = False,
    priors: TrendPriors | None = None,
    frontier_only: bool = True,
    chain_method: str = "vectorized",
    target_accept: float = 0.9,
    check: bool = True,
) -> TrendFit:
    """Fit the trend model to the frontier with NUTS.

    Parameters
    ----------
    runs_or_series : pandas.DataFrame
        Runs from :func:`forecast.record.runs.load_runs` or a frontier series from
        :func:`forecast.record.frontier.frontier_series` (taking the frontier of a frontier
        changes nothing).
    cutoff : int, optional
        Fit only on runs published before 1 January of this year (backtests).
    chains, draws, warmup : int
        NUTS chains, kept draws per chain, and warmup iterations per chain.
    seed : int
        Seed of the sampler.
    hinge : bool
        Fit :func:`models.trend.hinge_trend_model` instead of the straight line.
    priors : TrendPriors, optional
        Defaults to ``TrendPriors()`` (``HingePriors()`` with ``hinge=True``).
    frontier_only : bool
        Fit the record-setting runs only (default, as the model spec says); ``False``
        fits every row given.
    chain_method : {"vectorized", "sequential", "parallel"}
        How NUTS runs several chains; "parallel" needs as many JAX devices as chains.
    target_accept : float
        NUTS target acceptance probability.
    check : bool
        Call :meth:`TrendFit.warn_if_unreliable` before returning (default). Set False
        only when the caller checks the diagnostics itself.

    Returns
    -------
    TrendFit
    """
    for name, value in (("chains", chains), ("draws", draws), ("warmup", warmup)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if chain_method not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, got {chain_method!r}")
    if not 0.0 < target_accept < 1.0:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}")
    if priors is None:
        priors = HingePriors() if hinge else TrendPriors()
    if hinge and not isinstance(priors, HingePriors):
        raise ValueError("hinge=True needs HingePriors")

    rows = _training_rows(runs_or_series, cutoff, frontier_only)
    t = rows["year_frac"].to_numpy(dtype=float)
    y = rows["log10_compute"].to_numpy(dtype=float)
    model = hinge_trend_model if hinge else trend_model

    mcmc = MCMC(
        NUTS(model, target_accept_prob=target_accept),
        num_warmup=int(warmup),
        num_samples=int(draws),
        num_chains=int(chains),
        chain_method=chain_method,
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed), t, y, priors=priors)
    idata = az.from_numpyro(
        mcmc,
        coords={"run": rows["model"].to_numpy()},
        dims={"mu": ["run"], "log10_compute": ["run"]},
    )
    names = _HINGE_PARAMS if hinge else _LINE_PARAMS
    fit = TrendFit(
        idata=idata,
        diagnostics=nuts_diagnostics(idata, names),
        hinge=hinge,
        priors=priors,
        data=rows.loc[:, ["model", "date", "year_frac", "log10_compute"]].copy(),
        cutoff=None if cutoff is None else int(cutoff),
    )
    if check:
        fit.warn_if_unreliable(stacklevel=3)
    return fit


def rank_trend_models(
    runs_or_series: pd.DataFrame,
    *,
    cutoff: int | None = None,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """LOO comparison of the straight and the hinged trend on the same data.

    Both models are fitted with :func:`fit_trend` (same data, cutoff and seed) and ranked
    with ``arviz.compare`` (PSIS-LOO, log score). ArviZ warns on its own when Pareto k
    values make LOO unreliable; those warnings are left to surface.

    Returns
    -------
    pandas.DataFrame
        ``arviz.compare`` table indexed by ``"straight"`` and ``"hinge"`` (elpd_loo, p_loo,
        elpd_diff, weight, se, dse, warning).
    """
    fits = {
        label: fit_trend(
            runs_or_series,
            cutoff=cutoff,
            chains=chains,
            draws=draws,
            warmup=warmup,
            seed=seed,
            hinge=hinge,
        )
        for label, hinge in (("straight", False), ("hinge", True))
    }
    return az.compare({label: fit.idata for label, fit in fits.items()}, ic="loo")
