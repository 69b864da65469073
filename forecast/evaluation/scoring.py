"""Proper scoring of forecasts against outcomes: CRPS and interval coverage.

The kernels the backtest (:mod:`forecast.evaluation.backtest`) scores with, kept apart from
running it so that any sample or normal forecast can be scored the same way:

- :func:`crps_samples` / :func:`crps_dataarray`: CRPS of a sample forecast (energy form,
  exact for the empirical distribution, optionally the "fair" estimator),
- :func:`crps_normal`: closed-form CRPS of a normal forecast (point-forecast limit at
  ``sigma = 0``),
- :func:`log_score_normal`, :func:`pit_normal`, :func:`student_t_mixture_scores`: the log
  score (log predictive density at the outcome; higher is better) and the probability
  integral transform (the forecast's CDF at the outcome) of normal forecasts and of the
  trend's posterior predictive, a mixture of Student-t draws,
- :func:`summarize_backtest`: a scores table aggregated to mean CRPS, mean log score,
  50%/90% interval coverage and errors,
- :func:`coverage_curve`: the share of outcomes inside each central interval, from the PITs
  (what a reliability plot draws),
- :func:`bootstrap_ranking`: a pooled ranking of methods with bootstrap intervals, so a
  reader sees whether a difference is real.

CRPS is in the units of the forecast (here log10 FLOP); lower is better. The log score is in
nats per log10 FLOP; a point forecast has none (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special, stats

__all__ = [
    "bootstrap_ranking",
    "coverage_curve",
    "log_score_normal",
    "pit_normal",
    "student_t_mixture_scores",
    "crps_dataarray",
    "crps_normal",
    "crps_samples",
    "summarize_backtest",
]


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


# --- log score and PIT ------------------------------------------------------------------------


def log_score_normal(mu, sigma, y) -> np.ndarray:
    """Log density of ``N(mu, sigma^2)`` at ``y`` (natural log); NaN where ``sigma = 0``
    (a point forecast has no density)."""
    mu, sigma, y = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (mu, sigma, y)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sigma > 0, stats.norm.logpdf(y, mu, np.where(sigma > 0, sigma, 1.0)), np.nan)


def pit_normal(mu, sigma, y) -> np.ndarray:
    """``P(X <= y)`` for ``X ~ N(mu, sigma^2)``; a point forecast (``sigma = 0``) gives 0 below
    the point, 1 above and 1/2 on it."""
    mu, sigma, y = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (mu, sigma, y)))
    point = 0.5 * (np.sign(y - mu) + 1.0)
    return np.where(sigma > 0, stats.norm.cdf(y, mu, np.where(sigma > 0, sigma, 1.0)), point)


def student_t_mixture_scores(nu, mu, sigma, y) -> tuple[np.ndarray, np.ndarray]:
    """Log score and PIT of an equal-weight mixture of Student-t forecasts, exactly.

    The trend's posterior predictive at a year is ``(1/S) sum_s t(nu_s, mu_s, sigma_s)``
    over its ``S`` posterior draws; its density and CDF at the outcome are the means over
    draws (the log of the mean density by log-sum-exp).

    Parameters
    ----------
    nu, sigma : array-like, shape (S,)
        Degrees of freedom and scale of each draw.
    mu : array-like, shape (S, Y)
        Location of each draw at each of ``Y`` forecast points.
    y : array-like, shape (Y,)
        Outcomes.

    Returns
    -------
    (log_score, pit) : two arrays of shape (Y,)
    """
    nu = np.asarray(nu, dtype=float)[:, None]
    sigma = np.asarray(sigma, dtype=float)[:, None]
    mu = np.asarray(mu, dtype=float)
    y = np.asarray(y, dtype=float)[None, :]
    if mu.ndim != 2 or mu.shape[0] != nu.shape[0] or mu.shape[1] != y.shape[1]:
        raise ValueError(f"mu must have shape (draws, points) = ({nu.shape[0]}, {y.shape[1]}), got {mu.shape}")
    logpdf = stats.t.logpdf(y, nu, loc=mu, scale=sigma)
    log_score = special.logsumexp(logpdf, axis=0) - np.log(mu.shape[0])
    pit = np.mean(stats.t.cdf(y, nu, loc=mu, scale=sigma), axis=0)
    return log_score, pit


# --- coverage and means -----------------------------------------------------------------


def summarize_backtest(scores: pd.DataFrame, *, by=("method", "cutoff")) -> pd.DataFrame:
    """Aggregate a scores table: mean CRPS, interval coverage and median errors.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`forecast.evaluation.backtest.BacktestResult.scores`: one row per forecast
        with at least ``crps``, ``in50``, ``in90``, ``error`` and the ``by`` columns.
    by : sequence of str
        Grouping columns; ``("method",)`` pools the cutoffs.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``: ``n``, ``mean_crps``, ``mean_log_score`` (NaN where a row has
        none: a point forecast), ``coverage50``, ``coverage90``, ``median_abs_error`` and
        ``mean_error`` (OOM, forecast median minus observed).
    """
    missing = [c for c in (*by, "crps", "in50", "in90", "error") if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks column(s) {missing}")
    grouped = scores.groupby(list(by), sort=True)
    return pd.DataFrame(
        {
            "n": grouped["crps"].size(),
            "mean_crps": grouped["crps"].mean(),
            "mean_log_score": (grouped["log_score"].agg(lambda v: float(np.mean(v)))
                               if "log_score" in scores.columns else np.nan),
            "coverage50": grouped["in50"].mean(),
            "coverage90": grouped["in90"].mean(),
            "median_abs_error": grouped["error"].apply(lambda e: float(np.median(np.abs(e)))),
            "mean_error": grouped["error"].mean(),
        }
    )


def coverage_curve(pit, levels=np.linspace(0.1, 0.9, 9)) -> np.ndarray:
    """Share of outcomes inside the central interval of each nominal ``level``, from their
    PITs: an outcome lies inside the central ``level`` interval when
    ``|PIT - 1/2| <= level / 2``. A calibrated forecast gives ``levels`` back (within
    binomial error)."""
    pit = np.asarray(pit, dtype=float)
    levels = np.asarray(levels, dtype=float)
    if pit.size == 0:
        raise ValueError("no PITs to take a coverage curve of")
    return np.mean(np.abs(pit[:, None] - 0.5) <= levels[None, :] / 2 + 1e-12, axis=0)


def bootstrap_ranking(
    scores: pd.DataFrame,
    *,
    score: str = "crps",
    lower_is_better: bool = True,
    n_boot: int = 2000,
    seed: int = 0,
    interval: float = 0.9,
) -> pd.DataFrame:
    """Pool every method's score over the scored cases and rank them, with bootstrap
    uncertainty.

    A case is one (cutoff, year) every method scored. Each bootstrap replicate draws the
    cases with replacement, the same draw for every method, so differences between methods
    keep their pairing. Cases from different cutoffs that score the same year are not
    independent (one surprise in a year counts once per cutoff), so the intervals are, if
    anything, too narrow.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per (method, cutoff, year) with the column ``score``.
    score : str
        The column to pool (``crps``, ``log_score``); methods with NaN in it are left out.
    lower_is_better : bool
        True for CRPS, False for the log score.
    n_boot : int
        Bootstrap replicates.
    seed : int
        Seed of the resampling.
    interval : float
        Central probability of the reported intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``method``, best first: ``n`` (cases), ``mean``, ``lo`` / ``hi`` (the
        bootstrap interval of the mean), ``diff_to_best`` with ``diff_lo`` / ``diff_hi``
        (this method minus the best, paired) and ``p_best`` (the share of replicates in
        which the method is best).
    """
    missing = [c for c in ("method", "cutoff", "year", score) if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks column(s) {missing}")
    table = scores.pivot_table(index=["cutoff", "year"], columns="method", values=score, aggfunc="first")
    table = table.dropna(axis=1, how="any")
    if table.empty or table.shape[1] == 0:
        raise ValueError(f"no method has a {score!r} for every case")
    values = table.to_numpy(dtype=float)  # (cases, methods)
    n = values.shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(int(n_boot), n))
    boot = values[idx].mean(axis=1)  # (n_boot, methods)
    sign = 1.0 if lower_is_better else -1.0
    means = values.mean(axis=0)
    best = int(np.argmin(sign * means))
    diffs = boot - boot[:, [best]]
    tail = (1.0 - interval) / 2
    winners = np.argmin(sign * boot, axis=1)
    out = pd.DataFrame(
        {
            "n": n,
            "mean": means,
            "lo": np.quantile(boot, tail, axis=0),
            "hi": np.quantile(boot, 1 - tail, axis=0),
            "diff_to_best": means - means[best],
            "diff_lo": np.quantile(diffs, tail, axis=0),
            "diff_hi": np.quantile(diffs, 1 - tail, axis=0),
            "p_best": np.bincount(winners, minlength=values.shape[1]) / len(winners),
        },
        index=pd.Index(table.columns, name="method"),
    )
    return out.sort_values("mean", ascending=lower_is_better)
