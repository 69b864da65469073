"""What the largest run takes by year: power, capital, cost and energy, four panels on one
figure (``plot_resources(result, *, fig=None) -> Figure``)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from forecast import ForecastResult
from outputs.plots.axes import (
    COLUMN_SPACING,
    HANDLE_LENGTH,
    add_caption,
    legend_columns,
    mark_as_of,
    points,
    result_as_of,
    year_axis,
)
from outputs.plots.fan import add_fan, draw_interval_table, fan_caption, fan_labels
from outputs.tables import RESOURCES, quantity_label
from priors import InputError

__all__ = ["RESOURCES_FIGSIZE", "RESOURCE_PANELS", "has_resources", "plot_resources"]

#: The panels of :func:`plot_resources`, in order: (column of :data:`outputs.tables.RESOURCES`,
#: title).
RESOURCE_PANELS = (
    ("power_gw", "Power of the training system"),
    ("cluster_capex_usd", "Capital cost of the cluster"),
    ("cost_usd", "Cost of the run (chip-hours × price)"),
    ("energy_gwh", "Energy the run uses"),
)
#: Size of the 2x2 figure of :func:`plot_resources` (inches): the blog's column width.
RESOURCES_FIGSIZE = (7.0, 5.8)


def has_resources(result: ForecastResult) -> bool:
    """Whether ``result`` holds the samples of every panel (a forecast saved before the model
    recorded power, capital, cost and energy does not)."""
    return all(RESOURCES[c][0] in result.samples for c, _ in RESOURCE_PANELS)


def _resource_grid(figure: Figure):
    """A 2x2 grid of panels sharing the years, and under it, across both columns, an
    axes-less row for the legend and the caption (so that they never squeeze a column)."""
    grid = figure.add_gridspec(3, 2, height_ratios=(1, 1, 1e-3))
    panels = [figure.add_subplot(grid[row, column]) for row in (0, 1) for column in (0, 1)]
    for panel in panels[1:]:
        panel.sharex(panels[0])
    for panel in panels[:2]:
        panel.tick_params(labelbottom=False)
    key = figure.add_subplot(grid[2, :])
    key.set_axis_off()
    return panels, key


def _resource_axes(fig: Figure | None):
    """The figure, its four panels and the axes that holds the legend: those an earlier call
    drew on ``fig``, else a new grid on ``fig`` (a new pyplot figure of
    :data:`RESOURCES_FIGSIZE` when None)."""
    if fig is None:
        fig = plt.figure(figsize=RESOURCES_FIGSIZE, layout="constrained")
    earlier = getattr(fig, "_forecast_resource_axes", None)
    if earlier is not None and all(ax in fig.axes for ax in (*earlier[0], earlier[1])):
        return fig, *earlier
    panels, key = _resource_grid(fig)
    fig._forecast_resource_axes = (panels, key)
    return fig, panels, key


def _resource_state(panel) -> dict:
    """What earlier :func:`plot_resources` calls drew on these panels (kept on the first)."""
    state = getattr(panel, "_forecast_resources", None)
    if state is not None and not all(fan["entries"][0][0] in panel.lines for fan in state["fans"]):
        state = None  # the axes were cleared since
    if state is None:
        state = {"fans": [], "shared": []}
        panel._forecast_resources = state
    return state


def _resource_legend(key, state, result: ForecastResult) -> None:
    """The legend and the caption, in the row under the panels."""
    handles, labels = fan_labels(state)
    ncols = min(3, legend_columns(key, labels, points(plt.rcParams["legend.fontsize"])))
    legend = key.legend(handles, labels, loc="upper left", ncols=ncols, bbox_to_anchor=(0, 1),
                        borderaxespad=0, handlelength=HANDLE_LENGTH, columnspacing=COLUMN_SPACING)
    add_caption(key, result, fan_caption(state), below=legend)


def _log_quantity_axis(ax, unit: str) -> None:
    """A log y axis labelled in the unit's words (``1 GW``, ``$10bn``, ``100 GWh``): ticks at
    powers of ten, or at 1-2-5 steps when the axis spans under two decades."""
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    subs = (1.0,) if np.log10(high / low) >= 2 else (1.0, 2.0, 5.0)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: quantity_label(value, unit, digits=3)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _label_last_median(ax, years, table, unit: str, color) -> None:
    """The median of the last year in words (``5.4 GW``), right of the axes at its height."""
    value = 10.0 ** float(table["median"].values[-1])
    ax.annotate(quantity_label(value, unit), (1, value), xycoords=("axes fraction", "data"),
                xytext=(3, 0), textcoords="offset points", ha="left", va="center", fontsize=7.5,
                color=color, gid="last-median")


def plot_resources(
    result: ForecastResult,
    *,
    fig: Figure | None = None,
    interval: str = "eti",
    title: str | bool = "What the largest run takes",
    caption: str | bool | None = None,
    labels: bool = True,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
) -> Figure:
    """What the largest run takes by year, four panels: the power of its training system
    (GW), the capital cost of its cluster (USD), the cost of the run (chip-hours x price,
    USD) and the energy it uses (GWh). Each panel: median over worlds, 50% and 90% bands
    (equal-tailed by default), on a log axis; the last year's median is written at the end
    of its line.

    Call it again with the returned figure to overlay another forecast, as with
    :func:`outputs.plots.fan.plot_fan`: the legend names each forecast's entries and the one
    caption lists them all.

    Parameters
    ----------
    result
        A forecast (one saved before the model recorded these quantities has none:
        :class:`priors.InputError`).
    fig
        An empty :class:`~matplotlib.figure.Figure` (best with constrained layout) to lay
        the 2x2 grid out on, with the legend under it, or a figure this function drew on
        before; a new pyplot figure of :data:`RESOURCES_FIGSIZE` when None.
    interval
        ``"eti"`` (equal-tailed, default) or ``"hdi"`` (highest density) bands.
    title
        The figure's title (``suptitle``); False for none.
    caption
        The line under the legend: None for prior set, samples and seed; a string; or False.
    labels
        Write each panel's last median at the end of its line.
    median_kwargs, band_kwargs
        Passed to ``plot`` and ``fill_between`` in every panel. An ``alpha`` in
        ``band_kwargs`` is that of the 90% band; the 50% band is darker.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its first four axes are the panels, in the order above.
    """
    if interval not in ("eti", "hdi"):
        raise ValueError(f"interval must be 'eti' or 'hdi', got {interval!r}")
    missing = [RESOURCES[c][0] for c, _ in RESOURCE_PANELS if RESOURCES[c][0] not in result.samples]
    if missing:
        raise InputError(f"this forecast has no {', '.join(missing)} (saved by an older model version?)")
    fig, panels, key = _resource_axes(fig)
    state = _resource_state(panels[0])
    index = len(state["fans"])
    years = result.years.astype(float)
    median_kwargs = dict(median_kwargs or {})
    if len(years) == 1:  # no line to draw: a mark
        median_kwargs.setdefault("marker", "o")
    entries = None
    for ax, (column, panel_title) in zip(panels, RESOURCE_PANELS):
        variable, unit, _, _ = RESOURCES[column]
        table = result.interval_table(variable)
        drawn, _ = draw_interval_table(ax, years, table, interval, index, median_kwargs, band_kwargs,
                                       scale=lambda values: 10.0 ** values)
        entries = entries or drawn  # the first panel's: an earlier call is found by them
        if labels:
            _label_last_median(ax, years, table, unit, drawn[0][0].get_color())
        ax.autoscale_view()
        _log_quantity_axis(ax, unit)
        year_axis(ax, years)
        if index == 0:
            mark_as_of(ax, result_as_of(result), label=ax is panels[0])
        if not ax.xaxis.get_tick_params()["labelbottom"]:  # a panel over another: no year label
            ax.set_xlabel("")
        ax.set_title(panel_title, fontweight="normal")
    add_fan(state, result, caption, entries)
    _resource_legend(key, state, result)
    if title is not False:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold",
                     fontsize=points(plt.rcParams["axes.titlesize"]) + 1.5)
    return fig
