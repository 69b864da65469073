"""Backtests of the trend model against what happened, with CRPS and two baselines.

For each cutoff year ``c`` the trend model is fitted on runs published before 1 January of
``c`` only, and forecasts the frontier at the end of each year ``c .. last_year`` (the same
``year_fraction`` convention as :meth:`forecast.trend_fit.TrendFit.predict`). Each forecast
is scored against the largest run known by 31 December of that year
(:func:`forecast.history.yearly_frontier`), in log10 FLOP:

- CRPS (lower is better; for a point forecast it is the absolute error),
- whether the observation fell in the central 50% and 90% intervals,
- the error of the median (forecast minus observed, in orders of magnitude).

Baselines, scored in the same table:

- ``last_value_4x``: the largest run known at the cutoff, grown by a fixed factor per year
  (4x by default) from 1 January of the cutoff year. A point forecast.
- ``ols_line``: a least-squares line through the same frontier series the trend model sees,
  with a normal predictive whose sd is the residual sd (ddof 2), so CRPS is defined.

The scoring kernels (CRPS, coverage summaries) live in :mod:`forecast.history.scoring`;
they are re-exported here. No plotting here: :func:`forecast_quantiles` and
:attr:`BacktestResult.fans` hold what a fan plot in ``outputs/`` needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from forecast.history.record import frontier_series, record_as_known, runs_before, yearly_frontier
from forecast.history.scoring import (
    crps_dataarray,
    crps_normal,
    crps_samples,
    summarize_backtest,
)
from forecast.history.trend_fit import fit_trend

__all__ = [
    "FAN_PROBS",
    "METHODS",
    "METHOD_LABELS",
    "BacktestResult",
    "crps_dataarray",
    "crps_normal",
    "crps_samples",
    "forecast_quantiles",
    "run_backtest",
    "summarize_backtest",
]

METHODS = ("trend", "trend_hinge", "last_value_4x", "ols_line")
#: How tables, plots and the README name each method.
METHOD_LABELS = {
    "trend": "trend",
    "trend_hinge": "trend (hinged)",
    "last_value_4x": "last value x4/yr",
    "ols_line": "least-squares line",
}
FAN_PROBS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
_SCORE_PROBS = {"lo90": 0.05, "lo50": 0.25, "median": 0.5, "hi50": 0.75, "hi90": 0.95}
#: Every probability a method's quantiles are computed at: the score columns and the fans.
_QUANTILE_PROBS = sorted(set(_SCORE_PROBS.values()) | set(FAN_PROBS))


# --- quantiles for fans ------------------------------------------------------------------


def forecast_quantiles(
    forecast: xr.Dataset,
    *,
    probs=FAN_PROBS,
    variable: str = "log10_training_compute",
    dim: str = "sample",
) -> xr.DataArray:
    """Per-year quantiles of a sample forecast: what a fan plot draws.

    Works for any Dataset with a ``sample`` dimension (the trend's posterior predictive or
    the bottom-up forecast).

    Returns
    -------
    xarray.DataArray
        Dims ``(quantile, <other dims>)``, attrs ``probs``.
    """
    if variable not in forecast:
        raise ValueError(f"forecast has no variable {variable!r}")
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 1 or np.any((probs <= 0) | (probs >= 1)):
        raise ValueError(f"probs must be a 1-D sequence inside (0, 1), got {probs}")
    out = forecast[variable].quantile(probs, dim=dim)
    out.attrs["probs"] = tuple(float(p) for p in probs)
    return out


# --- the backtest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every method, cutoff and year, plus what fan plots need.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per (method, cutoff, year): ``observed``, ``median``, ``lo50``, ``hi50``,
        ``lo90``, ``hi90``, ``crps``, ``in50``, ``in90``, ``error`` (median - observed),
        ``n_train`` (frontier runs the method saw), ``last_train_date``.
    summary : pandas.DataFrame
        :func:`summarize_backtest` of ``scores`` by method and cutoff.
    fans : pandas.DataFrame
        Long table (method, cutoff, year, prob, log10_compute) of forecast quantiles at
        :data:`FAN_PROBS`.
    observed : pandas.DataFrame
        The yearly frontier the forecasts were scored against.
    diagnostics : pandas.DataFrame
        Per cutoff, the trend fit's max r_hat, min ESS and divergences.
    settings : dict
        ``cutoffs``, ``last_year``, ``seed``, ``chains``, ``draws`` of the run.
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    fans: pd.DataFrame = field(repr=False)
    observed: pd.DataFrame = field(repr=False)
    diagnostics: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)


def _rows(method, cutoff, years, observed, quantiles, crps, n_train, last_date):
    frame = pd.DataFrame(
        {
            "method": method,
            "cutoff": int(cutoff),
            "year": years,
            "observed": observed,
            **{name: quantiles[p] for name, p in _SCORE_PROBS.items()},
            "crps": crps,
            "n_train": n_train,
            "last_train_date": last_date,
        }
    )
    frame["in50"] = (frame["observed"] >= frame["lo50"]) & (frame["observed"] <= frame["hi50"])
    frame["in90"] = (frame["observed"] >= frame["lo90"]) & (frame["observed"] <= frame["hi90"])
    frame["error"] = frame["median"] - frame["observed"]
    return frame


def _fan_rows(method, cutoff, years, quantiles):
    return pd.DataFrame(
        [
            {"method": method, "cutoff": int(cutoff), "year": int(y), "prob": float(p),
             "log10_compute": float(quantiles[p][i])}
            for p in FAN_PROBS
            for i, y in enumerate(years)
        ]
    )


@dataclass(frozen=True)
class _Cutoff:
    """What every method sees at one cutoff, and what its forecasts are scored against."""

    cutoff: int
    seen: pd.DataFrame  # runs published before 1 January of the cutoff year
    series: pd.DataFrame  # their frontier series
    years: np.ndarray  # years forecast, cutoff .. last_year
    t: np.ndarray  # the point of each year forecast (years + year_fraction)
    observed: np.ndarray  # the yearly frontier in those years, log10 FLOP

    @property
    def n_train(self) -> int:
        return len(self.series)

    @property
    def last_date(self):
        return self.series["date"].iloc[-1]


def _check_settings(runs, cutoffs, last_year, growth_per_year) -> tuple[int, ...]:
    """Validate :func:`run_backtest`'s settings; returns the cutoffs as ints."""
    cutoffs = tuple(int(c) for c in cutoffs)
    if not cutoffs:
        raise ValueError("cutoffs is empty")
    if len(set(cutoffs)) != len(cutoffs):
        raise ValueError(f"cutoffs repeat: {cutoffs}")
    last_record_year = int(pd.to_datetime(runs["date"]).dt.year.max())
    if last_year > last_record_year:
        raise ValueError(
            f"last_year {last_year} lies beyond the record (last run in {last_record_year}): "
            "nothing to score against"
        )
    if max(cutoffs) > last_year:
        raise ValueError(f"cutoff {max(cutoffs)} is after last_year {last_year}")
    if not growth_per_year > 0:
        raise ValueError(f"growth_per_year must be positive, got {growth_per_year}")
    return cutoffs


def known_at_cutoff(runs: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """The record as it was known on 31 December before ``cutoff``: what a forecaster had.

    Only rows public by that day (:func:`forecast.history.record.record_as_known`: a row
    whose estimate was published later is left out; a row revised later reads the value
    public then) and dated before 1 January of ``cutoff``.
    """
    as_of = pd.Timestamp(year=int(cutoff) - 1, month=12, day=31)
    return runs_before(record_as_known(runs, as_of), cutoff)


def _at_cutoff(runs, observed_table, cutoff, last_year, year_fraction) -> _Cutoff:
    """The record as known at ``cutoff``, and the years to forecast and score."""
    seen = known_at_cutoff(runs, cutoff)
    if seen.empty:
        raise ValueError(f"cutoff {cutoff}: no run was published before {cutoff}-01-01")
    years = np.arange(cutoff, last_year + 1)
    return _Cutoff(
        cutoff=cutoff,
        seen=seen,
        series=frontier_series(seen),
        years=years,
        t=years + float(year_fraction),
        observed=observed_table.loc[years, "log10_compute"].to_numpy(dtype=float),
    )


def _trend_forecast(c: _Cutoff, *, seed, chains, draws, warmup, hinge, year_fraction,
                    chain_method):
    """Trend model fitted on the pre-cutoff runs only: quantiles, CRPS, fit diagnostics."""
    fit = fit_trend(
        c.seen,
        cutoff=c.cutoff,
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
        hinge=hinge,
        chain_method=chain_method,
    )
    d = fit.diagnostics
    diag_row = {"cutoff": c.cutoff, "n_train": c.n_train, "max_rhat": d.max_rhat,
                "min_ess_bulk": d.min_ess_bulk, "min_ess_tail": d.min_ess_tail,
                "divergences": d.divergences}
    pred = fit.predict(c.years, seed=seed, year_fraction=year_fraction)
    draws_arr = pred["log10_training_compute"].transpose("year", "sample").to_numpy()
    qs = np.quantile(draws_arr, _QUANTILE_PROBS, axis=1)
    quantiles = {p: qs[i] for i, p in enumerate(_QUANTILE_PROBS)}
    return quantiles, crps_samples(draws_arr, c.observed, axis=1), diag_row


def _last_value_forecast(c: _Cutoff, growth_per_year: float):
    """Baseline: last value at the cutoff, fixed growth from 1 January of the cutoff year.

    A point forecast, so every quantile is the point and the CRPS is the absolute error.
    """
    last_value = float(np.log10(c.seen["training_compute_flop"].max()))
    point = last_value + np.log10(growth_per_year) * (c.t - c.cutoff)
    quantiles = {p: point for p in _QUANTILE_PROBS}
    return quantiles, np.abs(point - c.observed)


def _ols_line_forecast(c: _Cutoff):
    """Baseline: least-squares line with a normal predictive (residual sd, ddof 2)."""
    x = c.series["year_frac"].to_numpy(dtype=float)
    yv = c.series["log10_compute"].to_numpy(dtype=float)
    if len(x) < 3:
        raise ValueError(
            f"cutoff {c.cutoff}: only {len(x)} frontier runs; the OLS baseline needs 3"
        )
    slope, intercept = np.polyfit(x - 2020.0, yv, 1)
    resid = yv - (intercept + slope * (x - 2020.0))
    sd = float(np.sqrt(np.sum(resid**2) / (len(x) - 2)))
    mu = intercept + slope * (c.t - 2020.0)
    quantiles = {p: mu + sd * stats.norm.ppf(p) for p in _QUANTILE_PROBS}
    return quantiles, crps_normal(mu, sd, c.observed)


def run_backtest(
    runs: pd.DataFrame,
    *,
    cutoffs=(2016, 2018, 2020, 2022),
    last_year: int = 2025,
    seed: int = 0,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    hinge: bool = False,
    growth_per_year: float = 4.0,
    year_fraction: float = 1.0,
    chain_method: str = "vectorized",
) -> BacktestResult:
    """Fit at each cutoff, forecast the following years, score against what happened.

    Parameters
    ----------
    runs : pandas.DataFrame
        The full record (:func:`forecast.history.load_runs`). Each cutoff's methods see
        only the runs published before 1 January of the cutoff year.
    cutoffs : sequence of int
        Cutoff years; each forecasts years ``cutoff .. last_year``.
    last_year : int
        Last year scored; must not lie beyond the record.
    seed : int
        Seed of the NUTS fits and predictive draws (the same for every cutoff).
    chains, draws, warmup : int
        NUTS settings for the trend fits.
    hinge : bool
        Backtest the hinged trend instead of the straight one.
    growth_per_year : float
        Yearly growth factor of the ``last_value_4x`` baseline.
    year_fraction : float
        Point of each year forecast (1.0 = year end, matching the scoring target).
    chain_method : str
        Passed to :func:`forecast.trend_fit.fit_trend`.

    Returns
    -------
    BacktestResult
    """
    cutoffs = _check_settings(runs, cutoffs, last_year, growth_per_year)
    observed_table = yearly_frontier(runs, first_year=min(cutoffs), last_year=last_year)
    score_frames, fan_frames, diag_rows = [], [], []

    def add(method, c, quantiles, crps):
        score_frames.append(_rows(method, c.cutoff, c.years, c.observed, quantiles, crps,
                                  c.n_train, c.last_date))
        fan_frames.append(_fan_rows(method, c.cutoff, c.years, quantiles))

    for cutoff in sorted(cutoffs):
        c = _at_cutoff(runs, observed_table, cutoff, last_year, year_fraction)
        quantiles, crps, diag_row = _trend_forecast(
            c, seed=seed, chains=chains, draws=draws, warmup=warmup, hinge=hinge,
            year_fraction=year_fraction, chain_method=chain_method,
        )
        diag_rows.append(diag_row)
        add("trend_hinge" if hinge else "trend", c, quantiles, crps)
        add("last_value_4x", c, *_last_value_forecast(c, growth_per_year))
        add("ols_line", c, *_ols_line_forecast(c))

    scores = pd.concat(score_frames, ignore_index=True)
    return BacktestResult(
        scores=scores,
        summary=summarize_backtest(scores),
        fans=pd.concat(fan_frames, ignore_index=True),
        observed=observed_table,
        diagnostics=pd.DataFrame(diag_rows).set_index("cutoff"),
        settings=dict(cutoffs=list(cutoffs), last_year=int(last_year), seed=int(seed),
                      chains=int(chains), draws=int(draws)),
    )
