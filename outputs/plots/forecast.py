"""Plots of a forecast: the fan chart, the timeline and the binding constraints.

Each ``plot_<thing>(result, *, ax=None, ...)`` takes a :class:`forecast.ForecastResult` (or
the path of a saved run folder / NetCDF file), draws on ``ax`` (a new figure when None) and
returns the axes. Options for a drawn element come as their own dict, defaults filled in
with ``setdefault``. No matplotlib setting changes at import: wrap calls in
:func:`outputs.plot_style` for the project's look. :func:`save_plots` does that, drawing on
plain :class:`matplotlib.figure.Figure` objects (no pyplot, no display needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from forecast import ForecastResult, load
from forecast.headline import flop_label

from outputs.style import (
    BAND_COLOR,
    MEDIAN_COLOR,
    REFERENCE_POINTS,
    constraint_color,
    log10_flop_formatter,
    log10_flop_locator,
    plot_style,
    threshold_color,
)

__all__ = ["PLOTS", "as_result", "caption", "plot_constraints", "plot_fan", "plot_timeline", "save_figure", "save_plots"]

_CAPTION_COLOR = "#666666"


def as_result(result: ForecastResult | str | Path) -> ForecastResult:
    """A result as is; a run folder or NetCDF path through :func:`forecast.load`."""
    if isinstance(result, ForecastResult):
        return result
    if isinstance(result, (str, Path)):
        return load(result)
    raise TypeError(f"expected a ForecastResult, a run folder or a NetCDF path, got {type(result).__name__}")


def caption(result: ForecastResult) -> str:
    """``prior set: default · 2,000 worlds · seed 2024``."""
    return f"prior set: {result.name} · {result.n_samples:,} worlds · seed {result.seed}"


def _new_axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _add_caption(ax, result: ForecastResult, text: str | None) -> None:
    if text is False:
        return
    # Below the x label, aligned with the axes' left edge; constrained layout makes room.
    ax.annotate(
        caption(result) if text is None or text is True else text,
        xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -3),
        textcoords="offset points", ha="left", va="top", fontsize="small", color=_CAPTION_COLOR,
    )


def _year_axis(ax, years) -> None:
    ax.set_xlabel("year the run finishes")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlim(min(years) - 0.3, max(years) + 0.3)


def plot_fan(
    result: ForecastResult | str | Path,
    *,
    ax=None,
    thresholds: bool | Iterable[float] = True,
    reference: bool = True,
    interval: str = "eti",
    caption: str | bool | None = None,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
    threshold_kwargs: Mapping | None = None,
    reference_kwargs: Mapping | None = None,
):
    """Training compute of the largest run by year: median, 50% and 90% bands.

    Parameters
    ----------
    result
        A forecast, or the path of a run folder or its ``samples.nc``.
    ax
        Axes to draw on; a new figure when None.
    thresholds
        Draw the result's thresholds (True), none (False), or these FLOP values, as
        horizontal lines; only those inside the drawn range are shown.
    reference
        Mark the seeds' estimates for 2024 (~1e26 on 30K-H100 systems, 4e26 on 100K H100).
    interval
        ``"eti"`` (equal-tailed, default) or ``"hdi"`` (highest density) bands.
    caption
        The line under the plot: None for prior set, samples and seed; a string; or False.
    median_kwargs, band_kwargs, threshold_kwargs, reference_kwargs
        Passed to ``plot``, ``fill_between``, ``axhline`` and ``scatter``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if interval not in ("eti", "hdi"):
        raise ValueError(f"interval must be 'eti' or 'hdi', got {interval!r}")
    result = as_result(result)
    ax = _new_axes(ax)
    years = result.years.astype(float)
    table = result.intervals
    median_kwargs = dict(median_kwargs or {})
    median_kwargs.setdefault("color", MEDIAN_COLOR)
    median_kwargs.setdefault("label", "median")
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("color", BAND_COLOR)
    band_kwargs.setdefault("linewidth", 0)

    alpha = band_kwargs.pop("alpha", 0.2)  # the 50% band is drawn over the 90% one: darker
    for prob in (0.9, 0.5):
        bounds = table[interval].sel(prob=prob)
        ax.fill_between(
            years, bounds.sel(bound="lower").values, bounds.sel(bound="upper").values,
            alpha=alpha, label=f"{prob:.0%} interval", **band_kwargs,
        )
    ax.plot(years, table["median"].values, **median_kwargs)

    low = float(table[interval].sel(prob=0.9, bound="lower").min())
    high = float(table[interval].sel(prob=0.9, bound="upper").max())
    if reference:
        reference_kwargs = dict(reference_kwargs or {})
        reference_kwargs.setdefault("color", "#222222")
        reference_kwargs.setdefault("marker", "D")
        reference_kwargs.setdefault("s", 18)
        reference_kwargs.setdefault("zorder", 5)
        points = REFERENCE_POINTS
        ax.scatter([p["year"] for p in points], [p["log10_flop"] for p in points],
                   label="seed estimates (2024)", **reference_kwargs)
        for point in points:
            ax.annotate(point["label"].split(":")[0], (point["year"], point["log10_flop"]),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=6.5,
                        color="#444444",
                        bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
        low = min(low, min(p["log10_flop"] for p in points))
    bottom, top = np.floor(low - 0.2), np.ceil(high + 0.2)

    chosen = result.thresholds if thresholds is True else (() if thresholds is False else tuple(thresholds))
    threshold_kwargs = dict(threshold_kwargs or {})
    threshold_kwargs.setdefault("linestyle", (0, (4, 3)))
    threshold_kwargs.setdefault("linewidth", 0.9)
    for threshold in chosen:
        level = np.log10(threshold)
        if not bottom <= level <= top:
            continue
        ax.axhline(level, color=threshold_color(threshold), **threshold_kwargs)
        ax.annotate(f"{flop_label(threshold)} FLOP", (1, level), xycoords=("axes fraction", "data"),
                    xytext=(-2, 2), textcoords="offset points", ha="right", va="bottom",
                    fontsize=7, color=threshold_color(threshold))

    first_x = min(years.min(), 2024.0) if reference else years.min()
    ax.set_xlim(first_x - 0.4, years.max() + 0.4)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("year the run finishes")
    ax.set_ylim(bottom, top)
    ax.yaxis.set_major_locator(log10_flop_locator())
    ax.yaxis.set_major_formatter(log10_flop_formatter())
    ax.set_ylabel("training compute of the largest run (FLOP)")
    ax.set_title("Largest training run by year")
    ax.legend(loc="upper left")
    _add_caption(ax, result, caption)
    return ax


def plot_timeline(
    result: ForecastResult | str | Path,
    *,
    ax=None,
    thresholds: Iterable[float] | None = None,
    error: bool = True,
    caption: str | bool | None = None,
    line_kwargs: Mapping | None = None,
    error_kwargs: Mapping | None = None,
):
    """P(a run of at least each threshold has happened by each year), one curve per threshold.

    Parameters
    ----------
    result
        A forecast, or the path of a run folder or its ``samples.nc``.
    ax
        Axes to draw on; a new figure when None.
    thresholds
        A subset of the result's thresholds; all by default.
    error
        Shade the 90% Monte Carlo interval of each curve (thin at usual sample counts).
    caption
        The line under the plot: None for prior set, samples and seed; a string; or False.
    line_kwargs, error_kwargs
        Passed to ``plot`` and ``fill_between``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    result = as_result(result)
    ax = _new_axes(ax)
    timeline = result.timeline
    chosen = result.thresholds if thresholds is None else tuple(thresholds)
    missing = [t for t in chosen if t not in timeline["threshold"].values]
    if missing:
        raise ValueError(f"thresholds not in this result: {', '.join(flop_label(t) for t in missing)}")
    line_kwargs = dict(line_kwargs or {})
    line_kwargs.setdefault("marker", "o")
    error_kwargs = dict(error_kwargs or {})
    error_kwargs.setdefault("alpha", 0.2)
    error_kwargs.setdefault("linewidth", 0)
    years = result.years.astype(float)
    for threshold in chosen:
        row = timeline.sel(threshold=threshold)
        color = threshold_color(threshold)
        p = row["probability"].values
        if error:
            half = 1.645 * row["mcse"].values
            ax.fill_between(years, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), color=color,
                            **error_kwargs)
        ax.plot(years, p, color=color, label=f"≥ {flop_label(threshold)} FLOP", **line_kwargs)
    _year_axis(ax, years)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("probability, by that year")
    ax.set_title("When is each threshold first reached?")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _add_caption(ax, result, caption)
    return ax


def plot_constraints(
    result: ForecastResult | str | Path,
    *,
    ax=None,
    caption: str | bool | None = None,
    stack_kwargs: Mapping | None = None,
):
    """Share of worlds whose largest run is bound by supply, power, funding or data, by year.

    Parameters
    ----------
    result
        A forecast, or the path of a run folder or its ``samples.nc``.
    ax
        Axes to draw on; a new figure when None.
    caption
        The line under the plot: None for prior set, samples and seed; a string; or False.
    stack_kwargs
        Passed to ``stackplot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    result = as_result(result)
    ax = _new_axes(ax)
    shares = result.constraint_shares
    names = [str(c) for c in shares["constraint"].values]
    stack_kwargs = dict(stack_kwargs or {})
    stack_kwargs.setdefault("colors", [constraint_color(c) for c in names])
    stack_kwargs.setdefault("alpha", 0.85)
    stack_kwargs.setdefault("linewidth", 0.5)
    stack_kwargs.setdefault("edgecolor", "white")
    years = result.years.astype(float)
    ax.stackplot(years, shares.transpose("constraint", "year").values, labels=names, **stack_kwargs)
    _year_axis(ax, years)
    if len(years) > 1:  # one year keeps the margins _year_axis gave it
        ax.set_xlim(years.min(), years.max())
    ax.set_ylim(0, 1)
    ax.grid(False)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("share of worlds")
    ax.set_title("What limits the largest run?")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _add_caption(ax, result, caption)
    return ax


#: Plot kinds by name, for ``forecast plot --kind`` and the report.
PLOTS: dict[str, Callable] = {
    "fan": plot_fan,
    "timeline": plot_timeline,
    "constraints": plot_constraints,
}


def save_plots(
    result: ForecastResult | str | Path,
    folder: str | Path,
    *,
    kinds: Iterable[str] | None = None,
    formats: Iterable[str] = ("png",),
) -> list[Path]:
    """Draw each plot kind in the project style and write ``<kind>.<format>`` into ``folder``.

    Returns the written paths. Figures are plain :class:`~matplotlib.figure.Figure` objects,
    so no window opens and nothing is left in pyplot's figure list.
    """
    result = as_result(result)
    folder = Path(folder)
    kinds = tuple(PLOTS) if kinds is None else tuple(kinds)
    unknown = [k for k in kinds if k not in PLOTS]
    if unknown:
        raise ValueError(f"unknown plot kind(s) {', '.join(unknown)}; use {', '.join(PLOTS)}")
    written = []
    with plot_style():
        for kind in kinds:
            figure = Figure()
            PLOTS[kind](result, ax=figure.add_subplot())
            written += save_figure(figure, folder, kind, formats=formats)
    return written


#: Metadata that would put the time into a file: left out, so the same plot gives the same bytes.
_NO_TIMESTAMP = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(figure: Figure, folder: str | Path, stem: str, *, formats: Iterable[str] = ("png",)) -> list[Path]:
    """Write ``figure`` as ``<stem>.<format>`` into ``folder`` for each format; the paths."""
    paths = []
    for fmt in formats:
        path = Path(folder) / f"{stem}.{fmt}"
        figure.savefig(path, format=fmt, metadata=_NO_TIMESTAMP[fmt])
        paths.append(path)
    return paths
