"""Plots of several forecasts side by side, and of a calibration's prior against posterior.

``plot_compare_fan`` and ``plot_compare_timeline`` take the Dataset of
:func:`forecast.compare.compare` (or the path of its ``comparison.nc``);
``plot_prior_posterior`` takes a :class:`forecast.calibrate.Calibration`. Same contract as
:mod:`outputs.plots`: axes in (a new figure when None), axes out, options per drawn element
as their own dict; wrap calls in :func:`outputs.plot_style` for the project's look.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from outputs.plots.forecast import _add_caption, _year_axis
from outputs.style import forecast_color, log10_flop_formatter, log10_flop_locator
from outputs.text import flop_label

__all__ = ["plot_compare_fan", "plot_compare_timeline", "plot_fitted_history", "plot_prior_posterior"]

def _as_comparison(comparison: xr.Dataset | str | Path) -> xr.Dataset:
    if isinstance(comparison, xr.Dataset):
        return comparison
    if isinstance(comparison, (str, Path)):
        return xr.load_dataset(comparison)
    raise TypeError(f"expected a comparison Dataset or its NetCDF path, got {type(comparison).__name__}")


def _default_caption(comparison: xr.Dataset) -> str:
    names = [str(n) for n in comparison["forecast"].values]
    samples = np.atleast_1d(comparison.attrs.get("samples", []))
    if len(samples) == len(names):
        return " · ".join(f"{n}: {int(s):,} worlds" for n, s in zip(names, samples))
    return " · ".join(names)


def plot_compare_fan(
    comparison: xr.Dataset | str | Path,
    *,
    ax=None,
    observed: Mapping[int, float] | None = None,
    caption: str | bool | None = None,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
    observed_kwargs: Mapping | None = None,
):
    """Median and 90% band of log10 compute of each forecast, on one fan chart.

    Parameters
    ----------
    comparison
        :func:`forecast.compare.compare` output, or the path of its NetCDF file.
    ax
        Axes to draw on; a new figure when None.
    observed
        ``{year: log10 FLOP}`` of realized runs (the record) to mark as points.
    caption
        The line under the plot: None for the forecasts and their sample counts; a string;
        or False.
    median_kwargs, band_kwargs, observed_kwargs
        Passed to ``plot``, ``fill_between`` and ``scatter``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    comparison = _as_comparison(comparison)
    if ax is None:
        _, ax = plt.subplots()
    years = comparison["year"].values.astype(float)
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("alpha", 0.15)
    band_kwargs.setdefault("linewidth", 0)
    for index, name in enumerate(comparison["forecast"].values):
        one = comparison.sel(forecast=name)
        color = forecast_color(index)
        lower, upper = one["interval"].sel(bound="lower").values, one["interval"].sel(bound="upper").values
        ax.fill_between(years, lower, upper, color=color, **band_kwargs)
        for edge in (lower, upper):  # outlined, so overlapping bands stay apart
            ax.plot(years, edge, color=color, linewidth=0.6, alpha=0.7)
        line = {"color": color, "label": f"{name}: median, 90% band", **(median_kwargs or {})}
        ax.plot(years, one["median"].values, **line)
    if observed:
        points = {"color": "#222222", "marker": "D", "s": 16, "zorder": 5, "label": "largest run known",
                  **(observed_kwargs or {})}
        ax.scatter(list(observed), list(observed.values()), **points)
    first = min([years.min(), *list(observed or [])])
    ax.set_xlim(first - 0.4, years.max() + 0.4)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("year the run finishes")
    ax.yaxis.set_major_locator(log10_flop_locator())
    ax.yaxis.set_major_formatter(log10_flop_formatter())
    ax.set_ylabel("training compute of the largest run (FLOP)")
    ax.set_title("Largest training run by year, compared")
    ax.legend(loc="upper left", fontsize="small")
    _add_caption(ax, None, _default_caption(comparison) if caption is None or caption is True else caption)
    return ax


def plot_compare_timeline(
    comparison: xr.Dataset | str | Path,
    *,
    threshold: float,
    ax=None,
    error: bool = True,
    legend: bool = True,
    line_kwargs: Mapping | None = None,
    error_kwargs: Mapping | None = None,
):
    """P(a run >= ``threshold`` by each year), one curve per forecast.

    Parameters
    ----------
    comparison
        :func:`forecast.compare.compare` output, or the path of its NetCDF file.
    threshold
        One of the comparison's thresholds, in FLOP.
    error
        Shade the 90% Monte Carlo interval of each curve.
    legend
        Draw the legend (off for all but one panel of a grid).
    line_kwargs, error_kwargs
        Passed to ``plot`` and ``fill_between``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    comparison = _as_comparison(comparison)
    if threshold not in comparison["threshold"].values:
        raise ValueError(f"threshold {flop_label(threshold)} is not in this comparison")
    if ax is None:
        _, ax = plt.subplots()
    years = comparison["year"].values.astype(float)
    rows = comparison.sel(threshold=threshold)
    error_kwargs = dict(error_kwargs or {})
    error_kwargs.setdefault("alpha", 0.2)
    error_kwargs.setdefault("linewidth", 0)
    for index, name in enumerate(comparison["forecast"].values):
        color = forecast_color(index)
        p = rows["probability"].sel(forecast=name).values
        if error:
            half = 1.645 * rows["mcse"].sel(forecast=name).values
            ax.fill_between(years, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), color=color,
                            **error_kwargs)
        ax.plot(years, p, **{"color": color, "marker": "o", "markersize": 3, "label": str(name),
                             **(line_kwargs or {})})
    _year_axis(ax, years)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("probability, by that year")
    ax.set_title(f"≥ {flop_label(threshold)} FLOP")
    if legend:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_fitted_history(calibration, *, ax=None, color: str | None = None, band_kwargs: Mapping | None = None):
    """The calibrated model over the observed years: posterior median and 90% band.

    Drawn over a fan chart (after :func:`plot_compare_fan` with ``observed=``), it shows how
    well the posterior worlds reproduce the record they were conditioned on.
    """
    if ax is None:
        _, ax = plt.subplots()
    fitted = calibration.fitted()
    years = fitted.index.to_numpy(dtype=float)
    color = color or forecast_color(1)
    band_kwargs = {"color": color, "alpha": 0.15, "linewidth": 0, **(band_kwargs or {})}
    ax.fill_between(years, fitted["fitted_5%"], fitted["fitted_95%"], **band_kwargs)
    ax.plot(years, fitted["fitted_50%"], color=color, linestyle=(0, (3, 2)),
            label="calibrated model on the record it saw")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _is_log_scale(calibration, name: str) -> bool:
    return calibration.priors[name].family.log_scale


def plot_prior_posterior(
    calibration,
    *,
    names=None,
    axes=None,
    prior_kwargs: Mapping | None = None,
    posterior_kwargs: Mapping | None = None,
):
    """Prior against posterior of each prior the record moved, one small panel each.

    Parameters
    ----------
    calibration
        A :class:`forecast.calibrate.Calibration`.
    names
        Priors to draw; those that moved by default (all uncertain ones if none moved).
    axes
        A sequence of at least ``len(names)`` axes; a new figure when None.
    prior_kwargs, posterior_kwargs
        Passed to ``hist`` for the prior and the posterior draws.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    names = list(names or calibration.moved or calibration.priors.latent_names)
    if axes is None:
        columns = min(3, len(names))
        rows = -(-len(names) // columns)
        _, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 1.9 * rows), squeeze=False)
    axes = np.ravel(axes)
    if len(axes) < len(names):
        raise ValueError(f"{len(names)} priors to draw but only {len(axes)} axes")
    prior, posterior = calibration.values(posterior=False), calibration.values(posterior=True)
    prior_kwargs = {"color": "#999999", "histtype": "stepfilled", "alpha": 0.5, "label": "prior",
                    **(prior_kwargs or {})}
    posterior_kwargs = {"color": forecast_color(1), "histtype": "step", "linewidth": 1.4,
                        "label": "posterior", **(posterior_kwargs or {})}
    for ax, name in zip(axes, names):
        before, after = prior[name].values, posterior[name].values
        both = np.concatenate([before, after])
        if _is_log_scale(calibration, name):
            bins = np.geomspace(both.min(), both.max(), 40)
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:.3g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            bins = np.linspace(both.min(), both.max(), 40)
        # share of draws per bin (not a density): comparable on log-spaced bins too
        ax.hist(before, bins=bins, weights=np.full(len(before), 1 / len(before)), **prior_kwargs)
        ax.hist(after, bins=bins, weights=np.full(len(after), 1 / len(after)), **posterior_kwargs)
        unit = calibration.priors[name].unit
        ax.set_title(name, fontsize="small")
        ax.set_xlabel(unit, fontsize="small")
        ax.set_yticks([])
        ax.grid(False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(loc="upper right", fontsize="x-small")
    return axes
