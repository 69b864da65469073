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

No plotting here: :func:`forecast_quantiles` and :attr:`BacktestResult.fans` hold what a fan
plot in ``outputs/`` needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from forecast.history.record import frontier_series, runs_before, yearly_frontier
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


# --- CRPS ------------------------------------------------------------------------------------


def _crps_kernel(x: np.ndarray, y: np.ndarray, fair: bool) -> np.ndarray:
    """CRPS of samples on the last axis of ``x`` against ``y`` (shape ``x.shape[:-1]``)."""
    n = x.shape[-1]
    spread_to_obs = np.mean(np.abs(x - y[..., None]), axis=-1)
    xs = np.sort(x, axis=-1)
    # sum_{i,j} |x_i - x_j| = 2 sum_i (2i - n - 1) x_(i), i = 1..n, on sorted samples
    weights = 2.0 * np.arange(1, n + 1) - n - 1.0
    pair_sum = 2.0 * np.sum(weights * xs, axis=-1)
    pairs = n * (n - 1) if fair else n * n
    return spread_to_obs - 0.5 * pair_sum / pairs


def crps_samples(samples, observed, *, axis: int = -1, fair: bool = False) -> np.ndarray:
    """Continuous ranked probability score of a sample forecast (energy form).

    ``CRPS = E|X - y| - E|X - X'| / 2`` with ``X, X'`` independent draws of the forecast,
    computed exactly for the empirical distribution of the samples in O(n log n).

    Parameters
    ----------
    samples : array-like
        Forecast draws; the draws run along ``axis``.
    observed : array-like
        Observations, broadcastable to ``samples`` without ``axis``.
    axis : int
        Axis of ``samples`` holding the draws.
    fair : bool
        Use the unbiased ("fair") estimator of ``E|X - X'|``, dividing by ``n (n - 1)``
        instead of ``n^2``. Default False: the CRPS of the empirical distribution.

    Returns
    -------
    numpy.ndarray
        CRPS per forecast, in the units of the samples (here log10 FLOP).
    """
    x = np.moveaxis(np.asarray(samples, dtype=float), axis, -1)
    if x.shape[-1] == 0:
        raise ValueError("samples has no draws along the given axis")
    if fair and x.shape[-1] < 2:
        raise ValueError("the fair CRPS needs at least 2 draws")
    y = np.broadcast_to(np.asarray(observed, dtype=float), x.shape[:-1])
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("samples and observed must be finite")
    return _crps_kernel(x, y, fair)


def crps_dataarray(
    samples: xr.DataArray, observed, *, dim: str = "sample", fair: bool = False
) -> xr.DataArray:
    """:func:`crps_samples` on labelled data, reducing over the named dimension ``dim``.

    Parameters
    ----------
    samples : xarray.DataArray
        Forecast draws with dimension ``dim``.
    observed : xarray.DataArray or scalar
        Observations, aligned with ``samples`` by dimension name (without ``dim``).
    dim : str
        Name of the draws' dimension.
    fair : bool
        As in :func:`crps_samples`.

    Returns
    -------
    xarray.DataArray
        CRPS with the dims of ``samples`` less ``dim``.
    """
    if not isinstance(samples, xr.DataArray):
        raise ValueError("samples must be an xarray.DataArray; use crps_samples for arrays")
    if dim not in samples.dims:
        raise ValueError(f"samples has no dimension {dim!r}; its dims are {samples.dims}")
    return xr.apply_ufunc(
        crps_samples,
        samples,
        observed,
        input_core_dims=[[dim], []],
        kwargs={"axis": -1, "fair": fair},
    )


def crps_normal(mu, sigma, y) -> np.ndarray:
    """Closed-form CRPS of a normal forecast ``N(mu, sigma^2)`` at observation ``y``.

    ``sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with ``z = (y - mu) / sigma``
    (Gneiting & Raftery 2007). ``sigma = 0`` gives the point-forecast limit ``|y - mu|``.

    Parameters
    ----------
    mu, sigma, y : array-like
        Broadcastable; ``sigma >= 0``.

    Returns
    -------
    numpy.ndarray
    """
    mu, sigma, y = np.broadcast_arrays(
        np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float), np.asarray(y, dtype=float)
    )
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("sigma must be finite and non-negative")
    point = sigma == 0
    safe = np.where(point, 1.0, sigma)
    z = (y - mu) / safe
    value = safe * (z * (2.0 * stats.norm.cdf(z) - 1.0) + 2.0 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    return np.where(point, np.abs(y - mu), value)


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


def summarize_backtest(scores: pd.DataFrame, *, by=("method", "cutoff")) -> pd.DataFrame:
    """Aggregate a scores table: mean CRPS, interval coverage and median errors.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`BacktestResult.scores`.
    by : sequence of str
        Grouping columns; ``("method",)`` pools the cutoffs.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``: ``n``, ``mean_crps``, ``coverage50``, ``coverage90``,
        ``median_abs_error`` and ``mean_error`` (OOM, forecast median minus observed).
    """
    missing = [c for c in (*by, "crps", "in50", "in90", "error") if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks column(s) {missing}")
    grouped = scores.groupby(list(by), sort=True)
    return pd.DataFrame(
        {
            "n": grouped["crps"].size(),
            "mean_crps": grouped["crps"].mean(),
            "coverage50": grouped["in50"].mean(),
            "coverage90": grouped["in90"].mean(),
            "median_abs_error": grouped["error"].apply(lambda e: float(np.median(np.abs(e)))),
            "mean_error": grouped["error"].mean(),
        }
    )


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

    observed_table = yearly_frontier(runs, first_year=min(cutoffs), last_year=last_year)
    score_frames, fan_frames, diag_rows = [], [], []
    for cutoff in sorted(cutoffs):
        seen = runs_before(runs, cutoff)
        if seen.empty:
            raise ValueError(f"no runs before cutoff {cutoff}")
        series = frontier_series(seen)
        n_train = len(series)
        last_date = series["date"].iloc[-1]
        years = np.arange(cutoff, last_year + 1)
        t = years + float(year_fraction)
        observed = observed_table.loc[years, "log10_compute"].to_numpy(dtype=float)

        # trend model: the fit receives only the pre-cutoff runs
        fit = fit_trend(
            seen,
            cutoff=cutoff,
            chains=chains,
            draws=draws,
            warmup=warmup,
            seed=seed,
            hinge=hinge,
            chain_method=chain_method,
        )
        d = fit.diagnostics
        diag_rows.append(
            {"cutoff": cutoff, "n_train": n_train, "max_rhat": d.max_rhat,
             "min_ess_bulk": d.min_ess_bulk, "min_ess_tail": d.min_ess_tail,
             "divergences": d.divergences}
        )
        pred = fit.predict(years, seed=seed, year_fraction=year_fraction)
        draws_arr = pred["log10_training_compute"].transpose("year", "sample").to_numpy()
        probs = sorted(set(_SCORE_PROBS.values()) | set(FAN_PROBS))
        qs = np.quantile(draws_arr, probs, axis=1)
        quantiles = {p: qs[i] for i, p in enumerate(probs)}
        method = "trend_hinge" if hinge else "trend"
        score_frames.append(
            _rows(method, cutoff, years, observed, quantiles,
                  crps_samples(draws_arr, observed, axis=1), n_train, last_date)
        )
        fan_frames.append(_fan_rows(method, cutoff, years, quantiles))

        # baseline 1: last value at the cutoff, fixed growth from 1 January of the cutoff
        last_value = float(np.log10(seen["training_compute_flop"].max()))
        point = last_value + np.log10(growth_per_year) * (t - cutoff)
        quantiles = {p: point for p in probs}
        score_frames.append(
            _rows("last_value_4x", cutoff, years, observed, quantiles,
                  np.abs(point - observed), n_train, last_date)
        )
        fan_frames.append(_fan_rows("last_value_4x", cutoff, years, quantiles))

        # baseline 2: least-squares line with a normal predictive (residual sd, ddof 2)
        x = series["year_frac"].to_numpy(dtype=float)
        yv = series["log10_compute"].to_numpy(dtype=float)
        if len(x) < 3:
            raise ValueError(
                f"cutoff {cutoff}: only {len(x)} frontier runs; the OLS baseline needs 3"
            )
        slope, intercept = np.polyfit(x - 2020.0, yv, 1)
        resid = yv - (intercept + slope * (x - 2020.0))
        sd = float(np.sqrt(np.sum(resid**2) / (len(x) - 2)))
        mu = intercept + slope * (t - 2020.0)
        quantiles = {p: mu + sd * stats.norm.ppf(p) for p in probs}
        score_frames.append(
            _rows("ols_line", cutoff, years, observed, quantiles,
                  crps_normal(mu, sd, observed), n_train, last_date)
        )
        fan_frames.append(_fan_rows("ols_line", cutoff, years, quantiles))

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

