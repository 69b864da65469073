"""The fan chart: training compute of the largest run by year, median and 50% / 90% bands,
with the record, the essays' reference estimates, published forecasts and thresholds.

:func:`plot_fan` composes: called again on the same axes, it overlays another forecast.
Its helpers are public because :mod:`outputs.plots.resources` draws the same bands and
legend on its panels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from forecast import ForecastResult
from outputs.plots.axes import (
    caption as result_caption,
    legend_and_caption,
    mark_as_of,
    new_axes,
    result_as_of,
    year_axis,
    years_after,
)
from outputs.plots.marks import (
    draw_published_marks,
    draw_record,
    draw_reference_points,
    place_published_labels,
)
from outputs.style import (
    BAND_COLOR,
    MEDIAN_COLOR,
    forecast_color,
    log10_flop_formatter,
    log10_flop_locator,
    threshold_color,
)
from outputs.text import flop_label

__all__ = ["add_fan", "draw_interval_table", "fan_caption", "fan_labels", "plot_fan"]


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
    return draw_interval_table(ax, years[keep], result.intervals.isel(year=np.nonzero(keep)[0]), interval,
                               index, median_kwargs, band_kwargs)


def draw_interval_table(ax, years, table, interval: str, index: int,
                        median_kwargs: Mapping | None, band_kwargs: Mapping | None,
                        scale: Callable = lambda values: values):
    """The median, 50% and 90% bands of an :func:`forecast.summaries.interval_table`, each
    value through ``scale`` (``10 ** x`` for a log axis), in the colours of the ``index``-th
    forecast on the axes: legend entries and ``(low, high)``."""
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


def add_fan(state, result: ForecastResult, caption: str | bool | None, entries) -> None:
    """Enter a drawn forecast in ``state``: its name, legend entries and caption texts."""
    state["fans"].append({
        "name": result.name,
        "entries": entries,
        # a string or False as given; by default the full caption alone, a short one among several
        "caption": caption if isinstance(caption, str) or caption is False else None,
        "alone": result_caption(result),
        "among": f"{result.name}: {result.n_samples:,} worlds, seed {result.seed}",
    })


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


def _fan_axes(ax, state) -> None:
    """Limits, ticks, labels and title of the fan chart."""
    year_axis(ax, limits=state["xlim"])
    ax.set_ylim(*state["ylim"])
    ax.yaxis.set_major_locator(log10_flop_locator())
    ax.yaxis.set_major_formatter(log10_flop_formatter())
    ax.set_ylabel("training compute of the largest run (FLOP)")
    ax.set_title("Largest training run by year")


def fan_labels(state) -> tuple[list, list]:
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


def fan_caption(state) -> str | bool:
    """One caption for every forecast on the axes (False when all of them declined one)."""
    fans = state["fans"]
    key = "alone" if len(fans) == 1 else "among"
    texts = [fan[key] if fan["caption"] is None else fan["caption"]
             for fan in fans if fan["caption"] is not False]
    return "; ".join(texts) if texts else False


def _fan_legend(ax, state, result: ForecastResult) -> None:
    """The legend of every forecast on the axes, three columns when several, and their caption."""
    ncols = 3 if len(state["fans"]) > 1 else None
    legend_and_caption(ax, result, fan_caption(state), *fan_labels(state), ncols=ncols)


def plot_fan(
    result: ForecastResult,
    *,
    ax=None,
    record=None,
    published=None,
    thresholds: bool | Iterable[float] = True,
    reference: bool = True,
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
        A forecast.
    ax
        Axes to draw on; a new figure when None.
    record
        The record of frontier runs, a table as :func:`forecast.record.runs.load_runs`
        returns it, to draw: the largest run known by the end of each of the
        :data:`~outputs.plots.marks.RECORD_YEARS` years before the forecast's first year, and
        of that year (for a forecast conditioned as of a date, the record as published by
        then, and hollow marks for later records). None: no record.
    published
        Published forecasts, a table as :func:`forecast.record.published.load_published`
        returns it: those whose year lies in the chart's range get a marker per kind
        (:data:`~outputs.plots.marks.PUBLISHED_STYLES`), labelled with their ``source`` in
        small type. None: none.
    thresholds
        Draw the result's thresholds (True), none (False), or these FLOP values, as
        horizontal lines over the forecast years, labelled right of the axes; only those
        inside the drawn range are shown.
    reference
        Mark the seeds' estimates for 2024 (~1e26 on 30K-H100 systems, 4e26 on 100K H100).
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
    ax = new_axes(ax)
    state = _fan_state(ax)
    years = result.years.astype(float)
    index = len(state["fans"])
    as_of = result_as_of(result)
    entries, (low, high) = _draw_bands(ax, result, interval, index, median_kwargs, band_kwargs,
                                       before_as_of=before_as_of)
    add_fan(state, result, caption, entries)
    corners = [(float(years.min()) - 0.4, low)]  # lower-left corners to keep in view
    if record is not None and "record" not in state["drawn"]:
        corners += draw_record(ax, state, record, int(years.min()), record_kwargs, as_of=as_of,
                               last=int(years.max()))
    if reference and "reference" not in state["drawn"]:
        corners += draw_reference_points(ax, state, reference_kwargs)
    _grow_limits(state, corners, high, years)
    if published is not None:
        draw_published_marks(ax, state, published, published_kwargs)
    chosen = result.thresholds if thresholds is True else (() if thresholds is False else tuple(thresholds))
    _draw_thresholds(ax, state, chosen, threshold_kwargs)
    _fan_axes(ax, state)
    if as_of is not None and "as-of" not in state["drawn"]:
        mark_as_of(ax, as_of)
        state["drawn"].add("as-of")
    _fan_legend(ax, state, result)
    place_published_labels(ax, state)
    return ax
