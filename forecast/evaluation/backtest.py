"""Backtests of the trend model, two baselines and the bottom-up hindcast against what
happened, with proper scores.

For each cutoff year ``c`` every method sees the record **as it was known** on 31 December
of ``c - 1`` (:func:`known_at_cutoff`): only rows public by then, each with the value public
then (AlphaGo Zero reads 3.4e23 at the 2018 cutoff, its value until Epoch AI revised it to
6.5e20). Each method forecasts the frontier at the end of each year ``c .. last_year`` (the
``year_fraction`` convention of :meth:`forecast.evaluation.trend_fit.TrendFit.predict`); the forecast
is scored against the **current** record: the largest current public estimate of a run
published by 31 December of that year (:func:`forecast.record.frontier.yearly_frontier`), in log10
FLOP.

Nothing a method uses comes from after the cutoff:

- ``trend``: the Student-t trend fitted with NUTS, its priors built by
  :func:`trend_priors_before`: the slope prior is the latest growth rate published before
  the cutoff (:data:`PUBLISHED_GROWTH`, each with its date and source), the intercept prior
  is centred on the last record known at the cutoff;
- ``last_value``: the last record known at the cutoff grown from its date at the growth
  fitted by least squares to the pre-cutoff frontier. A point forecast;
- ``ols_line``: the same least-squares line with a normal predictive whose sd is the
  residual sd (ddof 2);
- ``bottom_up``: at the cutoffs with a hindcast prior file (``priors/hindcasts/``, every
  source dated before the cutoff), the v3 bottom-up model run from the base year
  ``cutoff - 1`` and conditioned on the record as known at the cutoff
  (:mod:`forecast.evaluation.hindcast`). It forecasts what the backtest scores: the largest
  public estimate of a run finished by the end of each year, as of the date the current
  record was checked.

The scoring kernels (CRPS, coverage summaries) live in :mod:`forecast.evaluation.scoring`;
they are re-exported here. No plotting here: :func:`forecast_quantiles` and
:attr:`BacktestResult.fans` hold what a fan plot in ``outputs/`` needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from forecast.evaluation.hindcast import DEFAULT_SAMPLES, hindcast, hindcast_cutoffs
from forecast.record.frontier import frontier_series, record_as_known, runs_before, yearly_frontier
from forecast.record.runs import record_checked_date
from forecast.evaluation.scoring import (
    bootstrap_ranking,
    coverage_curve,
    crps_dataarray,
    crps_normal,
    crps_samples,
    log_score_normal,
    pit_normal,
    student_t_mixture_scores,
    summarize_backtest,
)
from forecast.evaluation.trend_fit import fit_trend
from models.trend import HingePriors, TrendPriors

__all__ = [
    "FAN_PROBS",
    "METHODS",
    "METHOD_LABELS",
    "PUBLISHED_GROWTH",
    "BacktestResult",
    "PublishedGrowth",
    "bootstrap_ranking",
    "coverage_curve",
    "crps_dataarray",
    "crps_normal",
    "crps_samples",
    "forecast_quantiles",
    "known_at_cutoff",
    "published_growth_before",
    "rankings",
    "run_backtest",
    "trend_priors_before",
    "summarize_backtest",
]

METHODS = ("trend", "trend_hinge", "last_value", "ols_line", "bottom_up")
#: How tables, plots and the README name each method.
METHOD_LABELS = {
    "trend": "trend",
    "trend_hinge": "trend (hinged)",
    "last_value": "last value x fitted growth",
    "ols_line": "least-squares line",
    "bottom_up": "bottom-up model (hindcast)",
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


# --- what was known before each cutoff -------------------------------------------------------


@dataclass(frozen=True)
class PublishedGrowth:
    """A growth rate of the largest training runs as published on a date, with its source."""

    published: pd.Timestamp
    slope: float  # orders of magnitude per year
    slope_scale: float  # sd of the trend's slope prior when this is the latest source
    source: str


#: Growth rates published before each cutoff, oldest first. The trend's slope prior at a
#: cutoff is the latest one published by 31 December before it; nothing later is used.
PUBLISHED_GROWTH = (
    PublishedGrowth(
        pd.Timestamp("1975-12-01"), float(np.log10(2.0) / 2.0), 0.5,
        "Moore 1975, Progress in digital integrated electronics, IEDM: transistor counts double "
        "every two years (0.15 OOM/yr; no growth of ML training runs had been published, so the "
        "slope prior is wide, sd 0.5 OOM/yr)",
    ),
    PublishedGrowth(
        pd.Timestamp("2018-05-16"), float(np.log10(2.0) * 12 / 3.4), 0.3,
        "Amodei & Hernandez 2018, AI and Compute, OpenAI blog: the largest training runs doubled "
        "every 3.4 months since 2012 (1.06 OOM/yr)",
    ),
    PublishedGrowth(
        pd.Timestamp("2022-02-11"), float(np.log10(2.0) * 12 / 10), 0.3,
        "Sevilla et al. 2022, Compute Trends Across Three Eras of Machine Learning, "
        "arXiv:2202.05924: large-scale models double every 10 months (0.36 OOM/yr)",
    ),
    PublishedGrowth(
        pd.Timestamp("2024-05-28"), float(np.log10(4.5)), 0.3,
        "Epoch AI 2024, Training compute of frontier AI models grows by 4-5x per year "
        "(4.5x: 0.65 OOM/yr)",
    ),
)


def published_growth_before(cutoff: int) -> PublishedGrowth:
    """The latest :data:`PUBLISHED_GROWTH` entry published by 31 December before ``cutoff``."""
    as_of = pd.Timestamp(year=int(cutoff) - 1, month=12, day=31)
    known = [g for g in PUBLISHED_GROWTH if g.published <= as_of]
    if not known:
        raise ValueError(f"cutoff {cutoff}: no published growth rate before it")
    return known[-1]


def trend_priors_before(series: pd.DataFrame, cutoff: int, *, hinge: bool = False) -> TrendPriors:
    """The trend's priors from what was known before ``cutoff`` only.

    - slope: ``Normal(g, sd)`` with ``g`` the latest growth published before the cutoff
      (:func:`published_growth_before`; Epoch's 2024 estimate is used only from 2025 on);
    - intercept: centred on the last record of the pre-cutoff frontier ``series``, carried
      to 2020 at ``g`` (:meth:`models.trend.TrendPriors.anchored`), so no prior is pinned
      at a run published later (the shipped default centres it on GPT-3, 2020);
    - sigma and nu: the defaults (weakly informative, not fitted to the record).

    The hinge variant keeps the default hinge year prior (2018, centred where Epoch AI
    later reported a slowdown: hindsight; the hinge is not part of the default backtest).
    """
    growth = published_growth_before(cutoff)
    last = series.iloc[-1]
    cls = HingePriors if hinge else TrendPriors
    return cls.anchored(float(last["log10_compute"]), float(last["year_frac"]),
                        slope_loc=growth.slope, slope_scale=growth.slope_scale)


# --- the backtest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every method, cutoff and year, plus what fan plots need.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per (method, cutoff, year): ``observed``, ``median``, ``lo50``, ``hi50``,
        ``lo90``, ``hi90``, ``crps``, ``log_score`` (NaN for a point forecast), ``pit``
        (the forecast's CDF at the outcome), ``in50``, ``in90``, ``error`` (median - observed),
        ``n_train`` (frontier runs the method saw), ``last_train_date``.
    summary : pandas.DataFrame
        :func:`summarize_backtest` of ``scores`` by method and cutoff.
    fans : pandas.DataFrame
        Long table (method, cutoff, year, prob, log10_compute) of forecast quantiles at
        :data:`FAN_PROBS`.
    observed : pandas.DataFrame
        The yearly frontier the forecasts were scored against.
    diagnostics : pandas.DataFrame
        Per cutoff: rows of the record known then (``n_known``), the trend's slope prior
        (``slope_prior``, OOM/yr, and ``slope_source``), the trend fit's max r_hat, min
        ESS and divergences; where the bottom-up hindcast ran, the Pareto ``k`` and the
        effective sample size of its importance weights (``hindcast_k``, ``hindcast_ess``).
    known : pandas.DataFrame
        Per cutoff, the frontier series the methods saw (``cutoff, model, date,
        year_frac, log10_compute``: record-setting runs of the record as known then).
    ranking : dict of pandas.DataFrame
        :func:`forecast.evaluation.scoring.bootstrap_ranking` of the pooled cases by ``crps``
        (every method scored at every cutoff) and by ``log_score`` (those of them with a
        predictive density); where the bottom-up hindcast ran at some cutoffs only, also
        ``crps_hindcast`` and ``log_score_hindcast``: every method on the cases of the
        cutoffs with a hindcast.
    settings : dict
        ``cutoffs``, ``last_year``, ``seed``, ``chains``, ``draws`` and ``samples`` (worlds
        of each hindcast) of the run.
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    fans: pd.DataFrame = field(repr=False)
    observed: pd.DataFrame = field(repr=False)
    diagnostics: pd.DataFrame = field(repr=False)
    ranking: dict = field(default_factory=dict, repr=False)
    known: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    settings: dict = field(default_factory=dict)


def _rows(method, cutoff, years, observed, scored, n_train, last_date):
    quantiles, crps, log_score, pit = scored
    frame = pd.DataFrame(
        {
            "method": method,
            "cutoff": int(cutoff),
            "year": years,
            "observed": observed,
            **{name: quantiles[p] for name, p in _SCORE_PROBS.items()},
            "crps": crps,
            "log_score": log_score,
            "pit": pit,
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


def _check_settings(runs, cutoffs, last_year) -> tuple[int, ...]:
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
    return cutoffs


def known_at_cutoff(runs: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """The record as it was known on 31 December before ``cutoff``: what a forecaster had.

    Only rows public by that day (:func:`forecast.record.frontier.record_as_known`: a row
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


def _sample_quantiles(draws: np.ndarray, axis: int) -> dict[float, np.ndarray]:
    """Quantiles of a sample forecast's ``draws`` over ``axis`` (its draws) at every
    probability a method is scored and drawn at (numpy's, linear between draws, as
    :func:`forecast_quantiles`)."""
    qs = np.quantile(draws, _QUANTILE_PROBS, axis=axis)
    return {p: qs[i] for i, p in enumerate(_QUANTILE_PROBS)}


def _trend_forecast(c: _Cutoff, *, seed, chains, draws, warmup, hinge, year_fraction,
                    chain_method):
    """Trend model fitted on the pre-cutoff runs only: quantiles, CRPS, fit diagnostics."""
    fit = fit_trend(
        c.seen,
        cutoff=c.cutoff,
        priors=trend_priors_before(c.series, c.cutoff, hinge=hinge),
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
        hinge=hinge,
        chain_method=chain_method,
    )
    d = fit.diagnostics
    diag_row = {"cutoff": c.cutoff, "n_known": len(c.seen), "n_train": c.n_train,
                "slope_prior": fit.priors.slope_loc,
                "slope_source": published_growth_before(c.cutoff).source.split(",")[0],
                "max_rhat": d.max_rhat,
                "min_ess_bulk": d.min_ess_bulk, "min_ess_tail": d.min_ess_tail,
                "divergences": d.divergences}
    pred = fit.predict(c.years, seed=seed, year_fraction=year_fraction)
    draws_arr = pred["log10_training_compute"].transpose("year", "sample").to_numpy()
    quantiles = _sample_quantiles(draws_arr, axis=1)
    post = fit.posterior_samples()  # same draw order as the predictive's samples
    log_score, pit = student_t_mixture_scores(
        post["nu"], pred["log10_trend"].transpose("sample", "year").to_numpy(), post["sigma"], c.observed)
    return (quantiles, crps_samples(draws_arr, c.observed, axis=1), log_score, pit), diag_row


def _fitted_line(c: _Cutoff):
    """Least-squares line through the pre-cutoff frontier: (slope, intercept at 2020, sd)."""
    x = c.series["year_frac"].to_numpy(dtype=float)
    yv = c.series["log10_compute"].to_numpy(dtype=float)
    if len(x) < 3:
        raise ValueError(
            f"cutoff {c.cutoff}: only {len(x)} frontier runs known; the baselines need 3"
        )
    slope, intercept = np.polyfit(x - 2020.0, yv, 1)
    resid = yv - (intercept + slope * (x - 2020.0))
    return float(slope), float(intercept), float(np.sqrt(np.sum(resid**2) / (len(x) - 2)))


def _last_value_forecast(c: _Cutoff):
    """Baseline: the last record known at the cutoff, grown from its date at the growth
    fitted (least squares) to the pre-cutoff frontier; no growth rate from later years.

    A point forecast, so every quantile is the point and the CRPS is the absolute error.
    """
    slope, _, _ = _fitted_line(c)
    last = c.series.iloc[-1]
    point = float(last["log10_compute"]) + slope * (c.t - float(last["year_frac"]))
    quantiles = {p: point for p in _QUANTILE_PROBS}
    return (quantiles, np.abs(point - c.observed), log_score_normal(point, 0.0, c.observed),
            pit_normal(point, 0.0, c.observed))


def _ols_line_forecast(c: _Cutoff):
    """Baseline: least-squares line with a normal predictive (residual sd, ddof 2)."""
    slope, intercept, sd = _fitted_line(c)
    mu = intercept + slope * (c.t - 2020.0)
    quantiles = {p: mu + sd * stats.norm.ppf(p) for p in _QUANTILE_PROBS}
    return (quantiles, crps_normal(mu, sd, c.observed), log_score_normal(mu, sd, c.observed),
            pit_normal(mu, sd, c.observed))


def _bottom_up_forecast(c: _Cutoff, *, resolved, samples, seed):
    """The bottom-up hindcast at ``c`` (:func:`forecast.evaluation.hindcast.hindcast`):
    quantiles and CRPS from its draws of the published frontier, PIT and log score from
    its mixture CDF and density; and its diagnostics."""
    hc = hindcast(c.seen, c.cutoff, last_year=int(c.years[-1]), resolved=resolved, samples=samples,
                  seed=seed)
    quantiles = _sample_quantiles(hc.draws, axis=0)
    pit, density = hc.cdf_density(c.observed)
    with np.errstate(divide="ignore"):
        log_score = np.log(density)
    return ((quantiles, crps_samples(hc.draws.T, c.observed, axis=1), log_score, pit),
            {"hindcast_k": hc.pareto_k, "hindcast_ess": hc.ess})


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
    year_fraction: float = 1.0,
    chain_method: str = "vectorized",
    bottom_up: bool = True,
    samples: int = DEFAULT_SAMPLES,
) -> BacktestResult:
    """Fit at each cutoff, forecast the following years, score against what happened.

    Parameters
    ----------
    runs : pandas.DataFrame
        The full record (:func:`forecast.record.runs.load_runs`). Each cutoff's methods see
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
    year_fraction : float
        Point of each year forecast (1.0 = year end, matching the scoring target).
    chain_method : str
        Passed to :func:`forecast.evaluation.trend_fit.fit_trend`.
    bottom_up : bool
        Also score the bottom-up hindcast at the cutoffs that have a hindcast prior file
        (:func:`forecast.evaluation.hindcast.hindcast_cutoffs`).
    samples : int
        Worlds each hindcast draws (before its conditioning resamples them).

    Returns
    -------
    BacktestResult
    """
    cutoffs = _check_settings(runs, cutoffs, last_year)
    observed_table = yearly_frontier(runs, first_year=min(cutoffs), last_year=last_year)
    score_frames, fan_frames, diag_rows, known_frames = [], [], [], []

    def add(method, c, scored):
        score_frames.append(_rows(method, c.cutoff, c.years, c.observed, scored,
                                  c.n_train, c.last_date))
        fan_frames.append(_fan_rows(method, c.cutoff, c.years, scored[0]))

    for cutoff in sorted(cutoffs):
        c = _at_cutoff(runs, observed_table, cutoff, last_year, year_fraction)
        known_frames.append(c.series.loc[:, ["model", "date", "year_frac", "log10_compute"]]
                            .assign(cutoff=c.cutoff))
        scored, diag_row = _trend_forecast(
            c, seed=seed, chains=chains, draws=draws, warmup=warmup, hinge=hinge,
            year_fraction=year_fraction, chain_method=chain_method,
        )
        add("trend_hinge" if hinge else "trend", c, scored)
        add("last_value", c, _last_value_forecast(c))
        add("ols_line", c, _ols_line_forecast(c))
        if bottom_up and cutoff in hindcast_cutoffs():
            scored, hindcast_diag = _bottom_up_forecast(c, resolved=record_checked_date(runs),
                                                        samples=samples, seed=seed)
            diag_row.update(hindcast_diag)
            add("bottom_up", c, scored)
        diag_rows.append(diag_row)

    scores = pd.concat(score_frames, ignore_index=True)
    ranking = rankings(scores, seed=seed)
    return BacktestResult(
        scores=scores,
        summary=summarize_backtest(scores),
        fans=pd.concat(fan_frames, ignore_index=True),
        observed=observed_table,
        diagnostics=pd.DataFrame(diag_rows).set_index("cutoff"),
        ranking=ranking,
        known=pd.concat(known_frames, ignore_index=True),
        settings=dict(cutoffs=list(cutoffs), last_year=int(last_year), seed=int(seed),
                      chains=int(chains), draws=int(draws), samples=int(samples)),
    )


def rankings(scores: pd.DataFrame, *, seed: int) -> dict:
    """The pooled rankings (:attr:`BacktestResult.ranking`): every case, by CRPS and log
    score, of the methods scored at every cutoff; and, where a method (the bottom-up
    hindcast) was scored at some cutoffs only, every method on the cases of those cutoffs."""
    ranking = {"crps": bootstrap_ranking(scores, score="crps", seed=seed)}
    if scores["log_score"].notna().any():
        ranking["log_score"] = bootstrap_ranking(scores, score="log_score", lower_is_better=False, seed=seed)
    partial = scores[scores["method"] == "bottom_up"]
    if len(partial) and set(partial["cutoff"]) != set(scores["cutoff"]):
        shared = scores[scores["cutoff"].isin(set(partial["cutoff"]))]
        ranking["crps_hindcast"] = bootstrap_ranking(shared, score="crps", seed=seed)
        ranking["log_score_hindcast"] = bootstrap_ranking(shared, score="log_score", lower_is_better=False,
                                                          seed=seed)
    return ranking
