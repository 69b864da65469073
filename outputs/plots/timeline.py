"""When each threshold is first reached, and what limits the largest run: two charts of
shares by year."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from forecast import ForecastResult
from outputs.plots.axes import legend_and_caption, mark_as_of, new_axes, result_as_of, share_axis, year_axis
from outputs.style import constraint_color, threshold_color
from outputs.text import flop_label

__all__ = ["plot_constraints", "plot_timeline"]


def _timeline_thresholds(result: ForecastResult, thresholds: Iterable[float] | None) -> tuple:
    """The thresholds asked for, all of the result's by default; an error for any it lacks."""
    chosen = result.thresholds if thresholds is None else tuple(thresholds)
    missing = [t for t in chosen if t not in result.timeline["threshold"].values]
    if missing:
        raise ValueError(f"thresholds not in this result: {', '.join(flop_label(t) for t in missing)}")
    return chosen


def _draw_timeline_curves(ax, result: ForecastResult, chosen, error: bool,
                          line_kwargs: Mapping | None, error_kwargs: Mapping | None) -> None:
    """A labelled probability curve per threshold, over its 90% Monte Carlo band if ``error``."""
    line_kwargs = dict(line_kwargs or {})
    line_kwargs.setdefault("marker", "o")
    error_kwargs = dict(error_kwargs or {})
    error_kwargs.setdefault("alpha", 0.2)
    error_kwargs.setdefault("linewidth", 0)
    years = result.years.astype(float)
    timeline = result.timeline
    for threshold in chosen:
        row = timeline.sel(threshold=threshold)
        color = threshold_color(threshold)
        p = row["probability"].values
        if error:
            half = 1.645 * row["mcse"].values
            ax.fill_between(years, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), color=color,
                            **error_kwargs)
        ax.plot(years, p, color=color, label=f"≥ {flop_label(threshold)} FLOP", **line_kwargs)


def plot_timeline(
    result: ForecastResult,
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
        A forecast.
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
    ax = new_axes(ax)
    chosen = _timeline_thresholds(result, thresholds)
    _draw_timeline_curves(ax, result, chosen, error, line_kwargs, error_kwargs)
    year_axis(ax, result.years.astype(float))
    share_axis(ax, "probability, by that year", (-0.02, 1.02))
    mark_as_of(ax, result_as_of(result), below=1.0)  # curves run along 100% at the top
    ax.set_title("When is each threshold first reached?")
    legend_and_caption(ax, result, caption, *ax.get_legend_handles_labels())
    return ax


def plot_constraints(
    result: ForecastResult,
    *,
    ax=None,
    caption: str | bool | None = None,
    stack_kwargs: Mapping | None = None,
):
    """Share of worlds whose largest run is bound by supply, power, funding, data or latency,
    by year.

    Parameters
    ----------
    result
        A forecast.
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
    ax = new_axes(ax)
    shares = result.constraint_shares
    names = [str(c) for c in shares["constraint"].values]
    stack_kwargs = dict(stack_kwargs or {})
    stack_kwargs.setdefault("colors", [constraint_color(c) for c in names])
    stack_kwargs.setdefault("alpha", 0.85)
    stack_kwargs.setdefault("linewidth", 0.5)
    stack_kwargs.setdefault("edgecolor", "white")
    years = result.years.astype(float)
    ax.stackplot(years, shares.transpose("constraint", "year").values, labels=names, **stack_kwargs)
    # From the first year to the last; one year keeps the margins of year_axis.
    year_axis(ax, years, limits=(years.min(), years.max()) if len(years) > 1 else None)
    ax.grid(False)
    share_axis(ax, "share of worlds", (0, 1))
    mark_as_of(ax, result_as_of(result))
    ax.set_title("What limits the largest run?")
    handles, labels = ax.get_legend_handles_labels()  # left to right as the stack goes up
    legend_and_caption(ax, result, caption, handles, labels)
    return ax
