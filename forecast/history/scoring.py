"""Proper scoring of forecasts against outcomes: CRPS and interval coverage.

The kernels the backtest (:mod:`forecast.history.backtest`) scores with, kept apart from
running it so that any sample or normal forecast can be scored the same way:

- :func:`crps_samples` / :func:`crps_dataarray`: CRPS of a sample forecast (energy form,
  exact for the empirical distribution, optionally the "fair" estimator),
- :func:`crps_normal`: closed-form CRPS of a normal forecast (point-forecast limit at
  ``sigma = 0``),
- :func:`summarize_backtest`: a scores table aggregated to mean CRPS, 50%/90% interval
  coverage and median errors.

CRPS is in the units of the forecast (here log10 FLOP); lower is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

__all__ = [
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


# --- coverage and means -----------------------------------------------------------------


def summarize_backtest(scores: pd.DataFrame, *, by=("method", "cutoff")) -> pd.DataFrame:
    """Aggregate a scores table: mean CRPS, interval coverage and median errors.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`forecast.history.backtest.BacktestResult.scores`: one row per forecast
        with at least ``crps``, ``in50``, ``in90``, ``error`` and the ``by`` columns.
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
