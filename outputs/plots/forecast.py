"""Plots of a forecast: the fan chart, the timeline, the binding constraints and what the
largest run takes (power, capital, cost, energy).

Each ``plot_<thing>(result, *, ax=None, ...)`` takes a :class:`forecast.ForecastResult` (or
the path of a saved run folder / NetCDF file), draws on ``ax`` (a new figure when None) and
returns the axes (:func:`plot_resources`, four panels, takes and returns ``axes``, a
sequence of four). Options for a drawn element come as their own dict, defaults filled in
with ``setdefault``. No matplotlib setting changes at import: wrap calls in
:func:`outputs.plot_style` for the project's look. :func:`save_plots` does that, drawing on
plain :class:`matplotlib.figure.Figure` objects (no pyplot, no display needed).
"""

from __future__ import annotations

import datetime as dt
import functools
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter
from matplotlib.transforms import ScaledTranslation

from forecast import ForecastResult, load
from forecast.record.published import load_published
from forecast.conditioning import day_end
from forecast.record.frontier import record_as_known, yearly_frontier
from forecast.record.runs import load_runs
from outputs.style import (
    BAND_COLOR,
    MEDIAN_COLOR,
    REFERENCE_POINTS,
    constraint_color,
    forecast_color,
    log10_flop_formatter,
    log10_flop_locator,
    plot_style,
    threshold_color,
)
from outputs.tables import RESOURCES, quantity_label
from outputs.text import flop_label
from priors import InputError

__all__ = ["PLOTS", "PLOT_FIGURES", "as_result", "caption", "default_kinds", "legend_and_caption", "plot_constraints",
           "plot_fan", "plot_resources", "plot_timeline", "save_figure", "save_plots", "figure_title"]

_CAPTION_COLOR = "#666666"
_RECORD_COLOR = "#222222"
#: Years of the record drawn before a forecast's first year on the fan chart.
RECORD_YEARS = 7


def as_result(result: ForecastResult | str | Path) -> ForecastResult:
    """A result as is; a run folder or NetCDF path through :func:`forecast.load`."""
    if isinstance(result, ForecastResult):
        return result
    if isinstance(result, (str, Path)):
        return load(result)
    raise TypeError(f"expected a ForecastResult, a run folder or a NetCDF path, got {type(result).__name__}")


def caption(result: ForecastResult) -> str:
    """``prior set: default · 2,000 worlds · seed 2024`` and ``· conditioned on the record
    as published by 2026-12-06`` for a conditioned forecast, ``· prior, not conditioned on
    the record`` for any other."""
    text = f"prior set: {result.name} · {result.n_samples:,} worlds · seed {result.seed}"
    conditioned = result.metadata.get("conditioned_on")
    return f"{text} · conditioned on {conditioned}" if conditioned else f"{text} · prior, not conditioned on the record"


_result_caption = caption  # plot functions take a ``caption`` argument that hides the function


def _new_axes(ax):
    """``ax``, or the axes of a new figure that lays itself out (legends outside included)."""
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _add_caption(ax, result: ForecastResult | None, text: str | bool | None, *, below=None) -> None:
    """The grey line under the plot: one per axes (a later call replaces the earlier one).

    It hangs under ``below`` (an artist such as a legend under the axes), else under the x label.
    """
    old = getattr(ax, "_forecast_caption", None)
    if old is not None and old in ax.texts:  # not when the axes were cleared since
        old.remove()
    ax._forecast_caption = None
    if text is False:
        return
    # Aligned with the axes' left edge; constrained layout makes room; wrapped to the width
    # of a figure (about 11 characters an inch in small type)
    text = caption(result) if text is None or text is True else text
    width = max(int(ax.figure.get_figwidth() * 12), 60)
    text = "\n".join(textwrap.fill(line, width) for line in str(text).split("\n"))
    ax._forecast_caption = ax.annotate(
        text,
        xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label if below is None else below),
        xytext=(0, -3),
        textcoords="offset points", ha="left", va="top", fontsize="small", color=_CAPTION_COLOR,
        gid="caption",
    )


def _points(size) -> float:
    return FontProperties(size=size).get_size_in_points()


def _below_xaxis(ax) -> float:
    """Points from the axes' bottom edge to just under its x label (tick labels horizontal)."""
    tick = ax.xaxis.get_major_ticks()[0]
    depth = tick.get_tick_padding() + tick.get_pad() + 1.25 * tick.label1.get_fontsize()
    if ax.get_xlabel():
        depth += ax.xaxis.labelpad + 1.25 * ax.xaxis.label.get_fontsize()
    return depth + 2


_HANDLE_LENGTH, _COLUMN_SPACING = 1.8, 1.5  # in font sizes


def _legend_columns(ax, labels, fontsize: float) -> int:
    """As many legend columns as the labels' estimated widths fit across the axes."""
    # From the axes' left edge to the figure's right edge, less a margin.
    width = (1 - ax.get_position().x0) * ax.figure.get_figwidth() * 72 * 0.95
    width = min(width, ax.get_position().width * ax.figure.get_figwidth() * 72 * 1.15)
    entries = [(_HANDLE_LENGTH + 0.8) * fontsize + 0.55 * fontsize * len(label) for label in labels]
    for ncols in range(len(labels), 1, -1):
        columns = [max(entries[c::ncols]) for c in range(ncols)]
        if sum(columns) + (ncols - 1) * _COLUMN_SPACING * fontsize <= width:
            return ncols
    return 1


def _legend_below(ax, handles, labels, *, ncols: int | None = None):
    """A legend under the x label, left-aligned with the axes, read row by row.

    Outside the axes, so no line of the plot runs through it; a figure with a layout engine
    (constrained layout, the project style's default) makes room for it.
    """
    fontsize = _points(plt.rcParams["legend.fontsize"])
    ncols = ncols or _legend_columns(ax, labels, fontsize)
    ncols = max(1, min(ncols, len(labels)))
    # matplotlib fills a legend column by column: reorder so it reads row by row.
    order = [i for c in range(ncols) for i in range(c, len(labels), ncols)]
    offset = ScaledTranslation(0, -_below_xaxis(ax) / 72, ax.figure.dpi_scale_trans)
    return ax.legend(
        [handles[i] for i in order], [labels[i] for i in order], loc="upper left", ncols=ncols,
        bbox_to_anchor=(0, 0), bbox_transform=ax.transAxes + offset, borderaxespad=0,
        handlelength=_HANDLE_LENGTH, columnspacing=_COLUMN_SPACING,
    )

def legend_and_caption(ax, result: ForecastResult, text: str | bool | None, handles, labels, *,
                       ncols: int | None = None) -> None:
    """The legend under the axes (:func:`_legend_below`) and the caption under the legend."""
    legend = _legend_below(ax, handles, labels, ncols=ncols)
    _add_caption(ax, result, text, below=legend)


def _year_axis(ax, years=None, *, limits: tuple[float, float] | None = None) -> None:
    """Years along x, integer ticks; shown from ``limits``, else the years with a margin."""
    ax.set_xlabel("year the run finishes")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(*(limits if limits is not None else (min(years) - 0.3, max(years) + 0.3)))


def _share_axis(ax, label: str, limits: tuple[float, float]) -> None:
    """Shares along y, as percentages."""
    ax.set_ylim(*limits)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel(label)


# --- the fan chart: plot_fan and, above it, its helpers in the order it calls them ---------


def _fan_state(ax) -> dict:
    """What earlier :func:`plot_fan` calls drew on ``ax``, so that a later one composes."""
    state = getattr(ax, "_forecast_fans", None)
    if state is not None and not all(fan["entries"][0][0] in ax.lines for fan in state["fans"]):
        state = None  # the axes were cleared since: start afresh
    if state is None:
        state = {"fans": [], "shared": [], "drawn": set(), "thresholds": {},
                 "xlim": None, "ylim": None, "threshold_start": None}
        ax._forecast_fans = state
    return state


def _fan_styles(index: int, median_kwargs: Mapping | None, band_kwargs: Mapping | None):
    """``(median_kwargs, median_label, band_kwargs, alpha90)`` of the ``index``-th forecast
    on the axes: the first in the project's band colours, later ones in forecast colours."""
    median_kwargs = dict(median_kwargs or {})
    median_kwargs.setdefault("color", MEDIAN_COLOR if index == 0 else forecast_color(index))
    median_kwargs.setdefault("zorder", 3)
    median_label = median_kwargs.pop("label", "median")
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("color", BAND_COLOR if index == 0 else forecast_color(index))
    band_kwargs.setdefault("linewidth", 0)
    band_kwargs.pop("label", None)
    alpha90 = band_kwargs.pop("alpha", 0.2)
    return median_kwargs, median_label, band_kwargs, alpha90


def _draw_bands(ax, result: ForecastResult, interval: str, index: int,
                median_kwargs: Mapping | None, band_kwargs: Mapping | None, *, before_as_of: bool = False):
    """One forecast's median, 50% and 90% bands (over the years that end after its as-of
    date, unless ``before_as_of``): its legend entries and ``(low, high)``, the lowest and
    highest values of its 90% band."""
    years = result.years.astype(float)
    keep = np.ones(years.shape, bool) if before_as_of else years_after(years, result_as_of(result))
    return _draw_interval_table(ax, years[keep], result.intervals.isel(year=np.nonzero(keep)[0]), interval,
                                index, median_kwargs, band_kwargs)


def _draw_interval_table(ax, years, table, interval: str, index: int,
                         median_kwargs: Mapping | None, band_kwargs: Mapping | None,
                         scale: Callable = lambda values: values):
    """The median, 50% and 90% bands of an :func:`forecast.summaries.interval_table`, each
    value through ``scale`` (``10 ** x`` for a log axis): legend entries and ``(low, high)``."""
    median_kwargs, median_label, band_kwargs, alpha90 = _fan_styles(
        index, median_kwargs, band_kwargs)
    alpha50 = min(1.0, 2.5 * alpha90)
    # The 90% band as its two tails around the 50% band: each area has exactly the colour
    # of its legend swatch, the middle clearly darker.
    lo90, hi90 = (scale(table[interval].sel(prob=0.9, bound=b).values) for b in ("lower", "upper"))
    lo50, hi50 = (scale(table[interval].sel(prob=0.5, bound=b).values) for b in ("lower", "upper"))
    band90 = ax.fill_between(years, lo90, np.maximum(lo50, lo90), alpha=alpha90, **band_kwargs)
    ax.fill_between(years, np.minimum(hi50, hi90), hi90, alpha=alpha90, **band_kwargs)
    band50 = ax.fill_between(years, lo50, hi50, alpha=alpha50, **band_kwargs)
    (median,) = ax.plot(years, scale(table["median"].values), **median_kwargs)
    entries = [(median, median_label), (band50, "50% interval"), (band90, "90% interval")]
    return entries, (float(np.min(lo90)), float(np.max(hi90)))


def _add_fan(state, result: ForecastResult, caption: str | bool | None, entries) -> None:
    """Enter a drawn forecast in ``state``: its name, legend entries and caption texts."""
    state["fans"].append({
        "name": result.name,
        "entries": entries,
        # a string or False as given; by default the full caption alone, a short one among several
        "caption": caption if isinstance(caption, str) or caption is False else None,
        "alone": _result_caption(result),
        "among": f"{result.name}: {result.n_samples:,} worlds, seed {result.seed}",
    })


@functools.lru_cache(maxsize=1)
def _record_frontier():
    return yearly_frontier(load_runs())


@functools.lru_cache(maxsize=8)
def _record_frontier_as_of(as_of: dt.date):
    return yearly_frontier(record_as_known(load_runs(), as_of))


def record_points(first_year: int, last_year: int, *, as_of: dt.date | None = None):
    """``(years, log10 FLOP)`` of the largest run known by the end of each record year in
    ``first_year..last_year`` (empty arrays where the record holds none of them); with
    ``as_of``, the record as it was published by that date."""
    frontier = _record_frontier() if as_of is None else _record_frontier_as_of(as_of)
    frontier = frontier.loc[(frontier.index >= first_year) & (frontier.index <= last_year)]
    return frontier.index.to_numpy(dtype=float), frontier["log10_compute"].to_numpy(dtype=float)


def result_as_of(result: ForecastResult | None) -> dt.date | None:
    """The date a forecast was conditioned on (its ``as_of`` metadata), or None."""
    text = str((result.metadata if result is not None else {}).get("as_of") or "none")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def as_of_position(as_of: dt.date) -> float:
    """The as-of date on a year axis: the end of its day as a decimal year."""
    return day_end(as_of)


def years_after(years, as_of: dt.date | None):
    """The mask of ``years`` that end after ``as_of`` (all of them without one; never none)."""
    years = np.asarray(years, dtype=float)
    if as_of is None:
        return np.ones(years.shape, bool)
    mask = years + 1 > as_of_position(as_of) + 1e-9
    return mask if mask.any() else np.ones(years.shape, bool)


def mark_as_of(ax, as_of: dt.date | None, *, label: bool = True, below: float | None = None) -> None:
    """A dotted vertical line at the as-of date on a year axis, named at its top; the
    record is known to its left, the forecast lies to its right. ``below``: a y value (in
    data units) that a line runs along at the top of the axes, such as a probability axis's
    100%: the name hangs under it instead of striking through it."""
    if as_of is None:
        return
    x = as_of_position(as_of)
    ax.axvline(x, color="#555555", linestyle=":", linewidth=1.0, zorder=2.5, gid="as-of")
    if label:  # on the side with more room (the axes' limits are set by now)
        left, right = ax.get_xlim()
        room_left = (x - left) > (right - x)
        top = (1, "axes fraction") if below is None else (below, "data")
        ax.annotate(f"as of {as_of.day} {as_of:%b %Y}", (x, top[0]), xycoords=("data", top[1]),
                    xytext=(-3 if room_left else 3, -3 if below is None else -6), textcoords="offset points",
                    ha="right" if room_left else "left", va="top", fontsize=6.5, color="#444444",
                    zorder=6, gid="as-of-label",
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])


def _draw_record(ax, state, first: int, record_kwargs: Mapping | None, *,
                 as_of: dt.date | None = None, last: int | None = None) -> list:
    """The record over the :data:`RECORD_YEARS` years up to ``first`` (to the as-of year
    with ``as_of``: the record as published by then, and hollow marks for the records set
    by runs published after it, up to ``last``), entered in ``state``: ``[(left, low)]``,
    the lower-left corner it needs in view, or ``[]`` when there is none."""
    end = first if as_of is None else max(first, as_of.year)
    record_years, record_values = record_points(first - RECORD_YEARS, end, as_of=as_of)
    if not len(record_years):
        return []
    record_kwargs = dict(record_kwargs or {})
    record_kwargs.setdefault("color", _RECORD_COLOR)
    record_kwargs.setdefault("marker", "o")
    record_kwargs.setdefault("markersize", 3.5)
    record_kwargs.setdefault("linewidth", 0.8)
    record_kwargs.setdefault("zorder", 4)
    record_kwargs.setdefault("gid", "record")
    (line,) = ax.plot(record_years, record_values, **record_kwargs)
    name = "largest run known (record)" if as_of is None else f"largest run published by {as_of.isoformat()}"
    state["shared"].append((line, name))
    state["drawn"].add("record")
    if as_of is not None:
        later_years, later_values = record_points(first - RECORD_YEARS, last if last is not None else end)
        known = dict(zip(record_years, record_values))
        new = [(y, v) for y, v in zip(later_years, later_values) if y not in known or v > known[y] + 1e-9]
        if new:
            marks = ax.scatter(*zip(*new), marker="o", s=16, facecolor="white", edgecolor=_RECORD_COLOR,
                               linewidth=0.9, zorder=4, gid="record-later")
            state["shared"].append((marks, f"record published after {as_of.isoformat()}"))
    return [(float(record_years.min()) - 0.5, float(record_values.min()))]


def _draw_reference_points(ax, state, reference_kwargs: Mapping | None) -> list:
    """The essays' estimates of 2024 systems, marked and labelled, entered in ``state``:
    ``[(left, low)]``, the lower-left corner they need in view."""
    reference_kwargs = dict(reference_kwargs or {})
    reference_kwargs.setdefault("color", _RECORD_COLOR)
    reference_kwargs.setdefault("marker", "D")
    reference_kwargs.setdefault("facecolor", "white")
    reference_kwargs.setdefault("linewidth", 1.0)
    reference_kwargs.setdefault("s", 18)
    reference_kwargs.setdefault("zorder", 5)
    if "color" in reference_kwargs and "edgecolor" not in reference_kwargs:
        reference_kwargs["edgecolor"] = reference_kwargs.pop("color")
    points = REFERENCE_POINTS
    marks = ax.scatter([p["year"] for p in points], [p["log10_flop"] for p in points],
                       **reference_kwargs)
    state["shared"].append((marks, "hardware estimates for 2024 systems"))
    state["drawn"].add("reference")
    for point in points:
        # Left of the marker: the forecast starts to its right.
        ax.annotate(point["short"], (point["year"], point["log10_flop"]),
                    xytext=(-6, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=6.5, color="#444444")
    return [(min(p["year"] for p in points) - 0.6, min(p["log10_flop"] for p in points))]


def _grow_limits(state, corners, high: float, years) -> None:
    """Widen the limits in ``state`` to this forecast's ``years`` (x) and up to ``high`` (y),
    and down and left to each ``(left, low)`` corner; likewise the thresholds' start."""
    left = min(x for x, _ in corners)
    low = min(y for _, y in corners)
    right = float(years.max()) + 0.4
    bottom, top = float(np.floor(low - 0.2)), float(np.ceil(high + 0.2))
    if state["xlim"] is not None:  # an earlier forecast on these axes
        left, right = min(left, state["xlim"][0]), max(right, state["xlim"][1])
        bottom, top = min(bottom, state["ylim"][0]), max(top, state["ylim"][1])
    state["xlim"], state["ylim"] = (left, right), (bottom, top)
    start = float(years.min()) - 0.5
    if state["threshold_start"] is not None:
        start = min(start, state["threshold_start"])
    state["threshold_start"] = start


def _draw_thresholds(ax, state, chosen: Iterable[float], threshold_kwargs: Mapping | None) -> None:
    """A line per threshold inside the y limits and not on the axes yet, labelled right of
    the axes; every threshold line then runs over the forecast years only."""
    threshold_kwargs = dict(threshold_kwargs or {})
    threshold_kwargs.setdefault("linestyle", (0, (4, 3)))
    threshold_kwargs.setdefault("linewidth", 0.9)
    threshold_kwargs.setdefault("zorder", 2)
    (left, right), (bottom, top) = state["xlim"], state["ylim"]
    for threshold in chosen:
        level = float(np.log10(threshold))
        if not bottom <= level <= top or round(level, 6) in state["thresholds"]:
            continue
        line = ax.axhline(level, color=threshold_color(threshold), **threshold_kwargs)
        # Right of the axes, at the line's height: clear of the bands and of the legend.
        ax.annotate(f"{flop_label(threshold)} FLOP", (1, level), xycoords=("axes fraction", "data"),
                    xytext=(3, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=7, color=threshold_color(threshold))
        state["thresholds"][round(level, 6)] = line
    # Threshold lines run over the forecast years only, not through the record.
    fraction = float(np.clip((state["threshold_start"] - left) / (right - left), 0, 1))
    for line in state["thresholds"].values():
        line.set_xdata([fraction, 1])


# Published forecasts: one marker per kind, Okabe-Ito colours (colour-blind safe) told apart
# by shape as well; black edges keep them clear of the blue bands.
PUBLISHED_STYLES = {
    "median": {"marker": "o", "color": "#009E73", "label": "published: median"},
    "feasible_upper_bound": {"marker": "v", "color": "#D55E00", "label": "published: feasible upper bound"},
    "scenario": {"marker": "s", "color": "#E69F00", "label": "published: scenario"},
    "projection": {"marker": "P", "color": "#CC79A7", "label": "published: projection"},
}
_PUBLISHED_FONTSIZE = 6.5
_PUBLISHED_LABEL_COLOR = "#333333"
#: Points from a marker's centre up to its label's baseline: a threshold line through the
#: marker (forecasts are often round numbers such as 1e28) passes under the text.
_LABEL_RAISE = 1.5


@functools.lru_cache(maxsize=1)
def _default_published():
    return load_published()


def _published_table(published):
    """The published forecasts to draw: the file's (True) or the table given."""
    if published is True:
        return _default_published()
    return published


def _draw_published_marks(ax, state, published, published_kwargs: Mapping | None) -> None:
    """A marker per published forecast whose year lies in the chart's x range and that is not
    on the axes yet, one legend entry per kind drawn; raises the top of ``state["ylim"]`` to
    show them. Labels come later (:func:`_place_published_labels`), once the limits are set."""
    table = _published_table(published)
    left, right = state["xlim"]
    drawn = state.setdefault("published", {})
    published_kwargs = dict(published_kwargs or {})
    for row in table.itertuples(index=False):
        key = (row.source, int(row.year), float(row.flop))
        if key in drawn or not left <= row.year <= right:
            continue
        style = PUBLISHED_STYLES[row.kind]
        kwargs = dict(published_kwargs)
        kwargs.setdefault("marker", style["marker"])
        kwargs.setdefault("markerfacecolor", style["color"])
        kwargs.setdefault("markeredgecolor", "black")
        kwargs.setdefault("markeredgewidth", 0.6)
        kwargs.setdefault("markersize", 5.5)
        kwargs.setdefault("linestyle", "none")
        kwargs.setdefault("zorder", 6)
        kwargs.setdefault("gid", "published")
        (mark,) = ax.plot([float(row.year)], [float(row.log10_flop)], **kwargs)
        drawn[key] = {"mark": mark, "label": None, "text": row.source}
        if f"published:{row.kind}" not in state["drawn"]:
            state["drawn"].add(f"published:{row.kind}")
            handle = Line2D([], [], linestyle="none", marker=kwargs["marker"],
                            markerfacecolor=kwargs["markerfacecolor"],
                            markeredgecolor=kwargs["markeredgecolor"],
                            markeredgewidth=kwargs["markeredgewidth"], markersize=kwargs["markersize"])
            state["shared"].append((handle, style["label"]))
        bottom, top = state["ylim"]
        state["ylim"] = (min(bottom, float(np.floor(row.log10_flop - 0.2))),
                         max(top, float(np.ceil(row.log10_flop + 0.2))))


def _place_published_labels(ax, state) -> None:
    """The short name of each published forecast beside its marker, in small type with a
    white halo, its baseline just above the marker's centre (so a threshold line through the
    marker passes under it): left of the marker, in
    the open space above the fan where forecasts run ahead of it (right of the marker when
    there is no room), pushed apart vertically where two would overlap. Called again after
    each forecast on the axes, it places them all afresh."""
    drawn = state.get("published") or {}
    if not drawn:
        return
    fontsize = _points(_PUBLISHED_FONTSIZE)
    gap, pad = 1.3 * fontsize, 5.0  # points between label lines (a line of text is ~1.2 font sizes tall); marker to label
    to_points = 72 / ax.figure.dpi
    axes_left = ax.get_window_extent().x0 * to_points
    entries = []
    for entry in drawn.values():
        if entry["label"] is not None and entry["label"] in ax.texts:
            entry["label"].remove()
        x, y = (float(v[0]) for v in entry["mark"].get_data())
        px, py = (v * to_points for v in ax.transData.transform((x, y)))
        width = 0.55 * fontsize * len(entry["text"])
        right = px - pad - width < axes_left + 2
        x0, x1 = (px + pad, px + pad + width) if right else (px - pad - width, px - pad)
        entries.append({"entry": entry, "x": x, "y": y, "py": py, "x0": x0, "x1": x1,
                        "right": right})
    placed = []
    for item in sorted(entries, key=lambda e: e["py"]):
        level = item["py"]
        for other in placed:  # stack above any earlier label it would overlap
            if item["x0"] < other["x1"] and other["x0"] < item["x1"] and level < other["level"] + gap:
                level = other["level"] + gap
        item["level"] = level
        placed.append(item)
        shift = level - item["py"]
        item["entry"]["label"] = ax.annotate(
            item["entry"]["text"], (item["x"], item["y"]),
            xytext=(pad if item["right"] else -pad, shift + _LABEL_RAISE), textcoords="offset points",
            ha="left" if item["right"] else "right", va="baseline",
            fontsize=_PUBLISHED_FONTSIZE, color=_PUBLISHED_LABEL_COLOR, zorder=7,
            gid="published-label",
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
        )


def _fan_axes(ax, state) -> None:
    """Limits, ticks, labels and title of the fan chart."""
    _year_axis(ax, limits=state["xlim"])
    ax.set_ylim(*state["ylim"])
    ax.yaxis.set_major_locator(log10_flop_locator())
    ax.yaxis.set_major_formatter(log10_flop_formatter())
    ax.set_ylabel("training compute of the largest run (FLOP)")
    ax.set_title("Largest training run by year")


def _fan_labels(state) -> tuple[list, list]:
    """Legend handles and labels: each forecast's entries, named when there are several."""
    fans = state["fans"]
    names = [fan["name"] for fan in fans]
    handles, labels = [], []
    for index, fan in enumerate(fans):
        name = fan["name"] if names.count(fan["name"]) == 1 else f"{fan['name']} #{index + 1}"
        for handle, label in fan["entries"]:
            handles.append(handle)
            labels.append(label if len(fans) == 1 else f"{name}: {label}")
    for handle, label in state["shared"]:
        handles.append(handle)
        labels.append(label)
    return handles, labels


def _fan_caption(state) -> str | bool:
    """One caption for every forecast on the axes (False when all of them declined one)."""
    fans = state["fans"]
    key = "alone" if len(fans) == 1 else "among"
    texts = [fan[key] if fan["caption"] is None else fan["caption"]
             for fan in fans if fan["caption"] is not False]
    return "; ".join(texts) if texts else False


def _fan_legend(ax, state, result: ForecastResult) -> None:
    """The legend of every forecast on the axes, three columns when several, and their caption."""
    ncols = 3 if len(state["fans"]) > 1 else None
    legend_and_caption(ax, result, _fan_caption(state), *_fan_labels(state), ncols=ncols)


def plot_fan(
    result: ForecastResult | str | Path,
    *,
    ax=None,
    thresholds: bool | Iterable[float] = True,
    reference: bool = True,
    record: bool = True,
    published=True,
    interval: str = "eti",
    caption: str | bool | None = None,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
    threshold_kwargs: Mapping | None = None,
    reference_kwargs: Mapping | None = None,
    record_kwargs: Mapping | None = None,
    published_kwargs: Mapping | None = None,
    before_as_of: bool = False,
):
    """Training compute of the largest run by year: median, 50% and 90% bands.

    Call it again on the same axes to overlay another forecast: the legend then names each
    forecast's entries (``default: median``), the record, the reference marks and the
    thresholds are drawn once, and the one caption lists every forecast.

    Parameters
    ----------
    result
        A forecast, or the path of a run folder or its ``samples.nc``.
    ax
        Axes to draw on; a new figure when None.
    thresholds
        Draw the result's thresholds (True), none (False), or these FLOP values, as
        horizontal lines over the forecast years, labelled right of the axes; only those
        inside the drawn range are shown.
    reference
        Mark the seeds' estimates for 2024 (~1e26 on 30K-H100 systems, 4e26 on 100K H100).
    record
        Draw the record: the largest run known by the end of each of the
        :data:`RECORD_YEARS` years before the forecast's first year, and of that year.
    published
        Mark the published forecasts of :func:`forecast.record.published.load_published` whose year
        lies in the chart's range (True, the default), none (False), or the rows of a table
        of that form: a marker per kind (:data:`PUBLISHED_STYLES`), labelled with its
        ``source`` in small type.
    interval
        ``"eti"`` (equal-tailed, default) or ``"hdi"`` (highest density) bands.
    caption
        The line under the plot: None for prior set, samples and seed; a string; or False.
    median_kwargs, band_kwargs, threshold_kwargs, reference_kwargs, record_kwargs, published_kwargs
        Passed to ``plot``, ``fill_between``, ``axhline``, ``scatter``, ``plot`` and ``plot``
        (one call per published forecast). An
        ``alpha`` in ``band_kwargs`` is that of the 90% band; the 50% band is darker.
    before_as_of
        For a forecast conditioned on the record as of a date: also draw the bands of the
        years that ended by then (by default those years show the record only, as
        published by the date, and a dotted line marks the date).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if interval not in ("eti", "hdi"):
        raise ValueError(f"interval must be 'eti' or 'hdi', got {interval!r}")
    result = as_result(result)
    ax = _new_axes(ax)
    state = _fan_state(ax)
    years = result.years.astype(float)
    index = len(state["fans"])
    as_of = result_as_of(result)
    entries, (low, high) = _draw_bands(ax, result, interval, index, median_kwargs, band_kwargs,
                                       before_as_of=before_as_of)
    _add_fan(state, result, caption, entries)
    corners = [(float(years.min()) - 0.4, low)]  # lower-left corners to keep in view
    if record and "record" not in state["drawn"]:
        corners += _draw_record(ax, state, int(years.min()), record_kwargs, as_of=as_of, last=int(years.max()))
    if reference and "reference" not in state["drawn"]:
        corners += _draw_reference_points(ax, state, reference_kwargs)
    _grow_limits(state, corners, high, years)
    if published is not False:
        _draw_published_marks(ax, state, published, published_kwargs)
    chosen = result.thresholds if thresholds is True else (() if thresholds is False else tuple(thresholds))
    _draw_thresholds(ax, state, chosen, threshold_kwargs)
    _fan_axes(ax, state)
    if as_of is not None and "as-of" not in state["drawn"]:
        mark_as_of(ax, as_of)
        state["drawn"].add("as-of")
    _fan_legend(ax, state, result)
    _place_published_labels(ax, state)
    return ax


# --- the timeline and the constraints ------------------------------------------------------


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
    chosen = _timeline_thresholds(result, thresholds)
    _draw_timeline_curves(ax, result, chosen, error, line_kwargs, error_kwargs)
    _year_axis(ax, result.years.astype(float))
    _share_axis(ax, "probability, by that year", (-0.02, 1.02))
    mark_as_of(ax, result_as_of(result), below=1.0)  # curves run along 100% at the top
    ax.set_title("When is each threshold first reached?")
    legend_and_caption(ax, result, caption, *ax.get_legend_handles_labels())
    return ax


def plot_constraints(
    result: ForecastResult | str | Path,
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
    # From the first year to the last; one year keeps the margins of _year_axis.
    _year_axis(ax, years, limits=(years.min(), years.max()) if len(years) > 1 else None)
    ax.grid(False)
    _share_axis(ax, "share of worlds", (0, 1))
    mark_as_of(ax, result_as_of(result))
    ax.set_title("What limits the largest run?")
    handles, labels = ax.get_legend_handles_labels()  # left to right as the stack goes up
    legend_and_caption(ax, result, caption, handles, labels)
    return ax


# --- what the largest run takes --------------------------------------------------------------

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


def _resource_figure(figure=None):
    """A 2x2 grid of panels sharing the years, and under it, across both columns, an
    axes-less row for the legend and the caption (so that they never squeeze a column)."""
    if figure is None:
        figure = plt.figure(figsize=RESOURCES_FIGSIZE, layout="constrained")
    grid = figure.add_gridspec(3, 2, height_ratios=(1, 1, 1e-3))
    panels = [figure.add_subplot(grid[row, column]) for row in (0, 1) for column in (0, 1)]
    for panel in panels[1:]:
        panel.sharex(panels[0])
    for panel in panels[:2]:
        panel.tick_params(labelbottom=False)
    key = figure.add_subplot(grid[2, :])
    key.set_axis_off()
    return panels, key


def _resource_axes(axes, figure):
    """The four panels and the axes that holds the legend: the panels of a new figure (on
    ``figure`` when given), or ``axes`` (any sequence or array of four) with the legend under
    the third, or under the row an earlier call on them made."""
    if axes is None:
        panels, key = _resource_figure(figure)
        panels[0]._forecast_resources_key = key
        return panels, key
    panels = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(panels) != len(RESOURCE_PANELS):
        raise ValueError(f"plot_resources draws {len(RESOURCE_PANELS)} panels; got {len(panels)} axes")
    key = getattr(panels[0], "_forecast_resources_key", None)
    return panels, key if key is not None and key in key.figure.axes else None


def _resource_state(panel) -> dict:
    """What earlier :func:`plot_resources` calls drew on these panels (kept on the first)."""
    state = getattr(panel, "_forecast_resources", None)
    if state is not None and not all(fan["entries"][0][0] in panel.lines for fan in state["fans"]):
        state = None  # the axes were cleared since
    if state is None:
        state = {"fans": [], "shared": []}
        panel._forecast_resources = state
    return state


def _resource_legend(panels, key, state, result: ForecastResult) -> None:
    """The legend and the caption: in the row under the panels, else under the third panel."""
    handles, labels = _fan_labels(state)
    text = _fan_caption(state)
    if key is None:
        legend_and_caption(panels[2], result, text, handles, labels, ncols=3)
        return
    ncols = min(3, _legend_columns(key, labels, _points(plt.rcParams["legend.fontsize"])))
    legend = key.legend(handles, labels, loc="upper left", ncols=ncols, bbox_to_anchor=(0, 1),
                        borderaxespad=0, handlelength=_HANDLE_LENGTH, columnspacing=_COLUMN_SPACING)
    _add_caption(key, result, text, below=legend)


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
    result: ForecastResult | str | Path,
    *,
    axes=None,
    figure=None,
    interval: str = "eti",
    title: str | bool = "What the largest run takes",
    caption: str | bool | None = None,
    labels: bool = True,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
):
    """What the largest run takes by year, four panels: the power of its training system
    (GW), the capital cost of its cluster (USD), the cost of the run (chip-hours x price,
    USD) and the energy it uses (GWh). Each panel: median over worlds, 50% and 90% bands
    (equal-tailed by default), on a log axis; the last year's median is written at the end
    of its line.

    Call it again on the returned axes to overlay another forecast, as with :func:`plot_fan`:
    the legend names each forecast's entries and the one caption lists them all.

    Parameters
    ----------
    result
        A forecast, or the path of a run folder or its ``samples.nc`` (a forecast saved
        before the model recorded these quantities has none: :class:`priors.InputError`).
    axes
        Four axes to draw on, in the order above (a 2x2 array works); the legend and caption
        then go under the third. None: a new 2x2 grid with the legend under it.
    figure
        Where the new grid goes when ``axes`` is None: an empty
        :class:`~matplotlib.figure.Figure` (best with constrained layout); a new pyplot figure
        of :data:`RESOURCES_FIGSIZE` when None.
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
    list of matplotlib.axes.Axes
        The four panels, in the order above.
    """
    if interval not in ("eti", "hdi"):
        raise ValueError(f"interval must be 'eti' or 'hdi', got {interval!r}")
    result = as_result(result)
    missing = [RESOURCES[c][0] for c, _ in RESOURCE_PANELS if RESOURCES[c][0] not in result.samples]
    if missing:
        raise InputError(f"this forecast has no {', '.join(missing)} (saved by an older model version?)")
    panels, key = _resource_axes(axes, figure)
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
        drawn, _ = _draw_interval_table(ax, years, table, interval, index, median_kwargs, band_kwargs,
                                        scale=lambda values: 10.0 ** values)
        entries = entries or drawn  # the first panel's: an earlier call is found by them
        if labels:
            _label_last_median(ax, years, table, unit, drawn[0][0].get_color())
        ax.autoscale_view()
        _log_quantity_axis(ax, unit)
        _year_axis(ax, years)
        if index == 0:
            mark_as_of(ax, result_as_of(result), label=ax is panels[0])
        if not ax.xaxis.get_tick_params()["labelbottom"]:  # a panel over another: no year label
            ax.set_xlabel("")
        ax.set_title(panel_title, fontweight="normal")
    _add_fan(state, result, caption, entries)
    _resource_legend(panels, key, state, result)
    if title is not False:
        panels[0].figure.suptitle(title, x=0.01, ha="left", fontweight="bold",
                                  fontsize=_points(plt.rcParams["axes.titlesize"]) + 1.5)
    return panels


#: Plot kinds by name, for ``forecast plot --kind`` and the report.
PLOTS: dict[str, Callable] = {
    "fan": plot_fan,
    "timeline": plot_timeline,
    "constraints": plot_constraints,
    "resources": plot_resources,
}

#: Kinds that lay out a figure of several axes, with the figure's size: their function takes
#: ``figure`` (or ``axes``, all of them) instead of ``ax``.
PLOT_FIGURES: dict[str, tuple[float, float]] = {
    "resources": RESOURCES_FIGSIZE,
}


#: Metadata that would put the time into a file: left out, so the same plot gives the same bytes.
_NO_TIMESTAMP = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def figure_title(figure: Figure) -> str:
    """The title a reader sees on ``figure``, one line: its suptitle (a subfigure's
    included), else the titles of its first titled axes, ``""`` when it has none."""
    figures = [figure, *getattr(figure, "subfigs", [])]
    for fig in figures:
        text = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
        if text.strip():
            return " ".join(text.split())
    for ax in figure.get_axes():
        text = " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t.strip())
        if text.strip():
            return " ".join(text.split())
    return ""


def save_figure(figure: Figure, folder: str | Path, stem: str, *, formats: Iterable[str] = ("png",)) -> list[Path]:
    """Write ``figure`` as ``<stem>.<format>`` into ``folder`` for each format; the paths.
    Each file records the figure's title (:func:`figure_title`) in its metadata (``Title``)."""
    paths = []
    title = figure_title(figure)
    for fmt in formats:
        path = Path(folder) / f"{stem}.{fmt}"
        figure.savefig(path, format=fmt, metadata={**_NO_TIMESTAMP[fmt], **({"Title": title} if title else {})})
        paths.append(path)
    return paths


def save_plots(
    result: ForecastResult | str | Path,
    folder: str | Path,
    *,
    kinds: Iterable[str] | None = None,
    formats: Iterable[str] = ("png",),
) -> list[Path]:
    """Draw each plot kind in the project style and write ``<kind>.<format>`` into ``folder``.

    ``kinds``: all of :data:`PLOTS` by default (less ``resources`` for a forecast saved
    before the model recorded them). Returns the written paths. Figures are plain
    :class:`~matplotlib.figure.Figure` objects, so no window opens and nothing is left in
    pyplot's figure list; the kinds of :data:`PLOT_FIGURES` lay out their own figure.
    """
    result = as_result(result)
    folder = Path(folder)
    kinds = default_kinds(result) if kinds is None else tuple(kinds)
    unknown = [k for k in kinds if k not in PLOTS]
    if unknown:
        raise ValueError(f"unknown plot kind(s) {', '.join(unknown)}; use {', '.join(PLOTS)}")
    written = []
    with plot_style():
        for kind in kinds:
            if kind in PLOT_FIGURES:
                figure = Figure(figsize=PLOT_FIGURES[kind], layout="constrained")
                PLOTS[kind](result, figure=figure)
            else:
                figure = Figure(layout="constrained")
                PLOTS[kind](result, ax=figure.add_subplot())
            written += save_figure(figure, folder, kind, formats=formats)
    return written


def default_kinds(result: ForecastResult) -> tuple[str, ...]:
    """The kinds of :data:`PLOTS` that ``result`` has the samples for: all of them, less
    ``resources`` for a forecast saved before the model recorded power, capital, cost, energy."""
    has_resources = all(RESOURCES[c][0] in result.samples for c, _ in RESOURCE_PANELS)
    return tuple(k for k in PLOTS if k != "resources" or has_resources)
