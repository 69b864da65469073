"""Plots of several forecasts side by side, and of a calibration's prior against posterior.

``plot_compare_fan`` and ``plot_compare_timeline`` take the Dataset of
:func:`forecast.compare.compare`; ``plot_fitted_history`` and ``plot_prior_posterior`` take a
:class:`forecast.evaluation.calibrate.Calibration`. Same contract as :mod:`outputs.plots`:
axes in (a new figure when None), axes out (``plot_prior_posterior``, several panels: a
figure in, the figure out), options per drawn element as their own dict; wrap calls in
:func:`outputs.plot_style` for the project's look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter
from matplotlib.transforms import ScaledTranslation

from outputs.plots.axes import RECORD_COLOR, add_caption, below_xaxis, mark_as_of, new_axes, year_axis
from outputs.plots.marks import RECORD_YEARS, draw_published_marks, place_published_labels, record_points
from outputs.style import log10_flop_formatter, log10_flop_locator, method_color
from outputs.text import flop_label, format_number, prior_label

__all__ = ["OUTLIER_GAP", "compare_ylim", "draw_fitted_history", "plot_compare_fan", "plot_compare_timeline",
           "plot_fitted_history", "plot_prior_posterior"]


def _default_caption(comparison: xr.Dataset) -> str:
    names = [str(n) for n in comparison["forecast"].values]
    samples = np.atleast_1d(comparison.attrs.get("samples", []))
    if len(samples) == len(names):
        return " · ".join(f"{n}: {int(s):,} worlds" for n, s in zip(names, samples))
    return " · ".join(names)


#: Decades between one forecast's 90% band edge and the next before the farther one counts
#: as an outlier that the y range leaves out (see :func:`compare_ylim`).
OUTLIER_GAP = 2.0


def _outliers(edges: Mapping[str, float], gap: float, *, upward: bool) -> set[str]:
    """Forecasts whose band edge lies past the first gap of more than ``gap`` decades, going
    outward (up for the top edges, down for the bottom ones); at least one forecast stays."""
    order = sorted(edges, key=edges.get, reverse=not upward)
    for index in range(1, len(order)):
        step = edges[order[index]] - edges[order[index - 1]]
        if (step if upward else -step) > gap:
            return set(order[index:])
    return set()


def compare_ylim(comparison: xr.Dataset, *, gap: float = OUTLIER_GAP):
    """``((bottom, top), clipped)``: the y range of the compare fan chart, in log10 FLOP.

    The rule: the range holds the 90% bands of every forecast, except a forecast whose band
    reaches more than ``gap`` decades (a factor of 100 by default) beyond the bands of all
    the others (the trend, whose band runs to ~1e35 FLOP by 2035, against bottom-up bands
    that end near 1e30). Such a forecast's band *and* median are clipped at the edge.
    ``clipped`` maps each clipped forecast to ``"top"``, ``"bottom"`` or ``"both"``.
    """
    names = [str(n) for n in comparison["forecast"].values]
    lower = comparison["interval"].sel(bound="lower")
    upper = comparison["interval"].sel(bound="upper")
    tops = {n: float(upper.sel(forecast=n).max()) for n in names}
    bottoms = {n: float(lower.sel(forecast=n).min()) for n in names}
    high = _outliers(tops, gap, upward=True)
    low = _outliers(bottoms, gap, upward=False)
    top = max(v for n, v in tops.items() if n not in high)
    bottom = min(v for n, v in bottoms.items() if n not in low)
    clipped = {n: ("both" if n in high and n in low else "top" if n in high else "bottom")
               for n in names if n in high | low}
    return (float(np.floor(bottom - 0.2)), float(np.ceil(top + 0.2))), clipped


def _clip_note(comparison: xr.Dataset, name: str, side: str) -> str:
    """``trend …: 90% band continues to 3e35 FLOP by 2035 (median 8e33)``."""
    one = comparison.sel(forecast=name)
    years = comparison["year"].values
    if side == "bottom":
        band = one["interval"].sel(bound="lower").values
        at = int(np.argmin(band))
        return f"↓ {name}: 90% band continues down to {_flop(band[at])} FLOP in {int(years[at])}"
    band = one["interval"].sel(bound="upper").values
    at = int(np.argmax(band))
    return (f"↑ {name}: 90% band continues to {_flop(band[at])} FLOP by {int(years[at])} "
            f"(median {_flop(float(one['median'].values[at]))})")


def _flop(log10: float) -> str:
    return flop_label(float(f"{10 ** float(log10):.1g}"))


def _mark_clipped(ax, comparison, clipped, colors, limits) -> list[str]:
    """Up (down) triangles on the top (bottom) edge over each year a clipped forecast's
    median leaves the range, and a note inside the top (bottom) edge; the notes' texts."""
    years = comparison["year"].values.astype(float)
    bottom, top = limits
    notes = {"top": [], "bottom": []}
    for name, how in clipped.items():
        median = comparison["median"].sel(forecast=name).values
        for side in ("top", "bottom") if how == "both" else (how,):
            beyond = median > top if side == "top" else median < bottom
            if beyond.any():
                ax.plot(years[beyond], np.full(beyond.sum(), top if side == "top" else bottom),
                        linestyle="none", marker="^" if side == "top" else "v", markersize=5,
                        color=colors[name], clip_on=False, zorder=6, gid="clipped-marker")
            notes[side].append((name, _clip_note(comparison, name, side)))
    texts = []
    for side, entries in notes.items():
        for row, (name, text) in enumerate(entries):
            offset = -4 - 11 * row if side == "top" else 4 + 11 * row
            ax.annotate(text, (0.99, 1 if side == "top" else 0), xycoords="axes fraction",
                        xytext=(0, offset), textcoords="offset points", ha="right",
                        va="top" if side == "top" else "bottom", fontsize=7, color=colors[name],
                        gid="clipped", zorder=7,
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                              "alpha": 0.85})
            texts.append(text)
    return texts


def _comparison_as_of(comparison: xr.Dataset) -> dt.date | None:
    """The date every forecast of a comparison was conditioned on, or None."""
    text = str(comparison.attrs.get("as_of") or "none")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _legend_under(ax, handles, labels):
    """The legend under the x label (clear of the published forecasts' labels), in two
    columns read down, the forecasts first, when there are more than three entries."""
    offset = ScaledTranslation(0, -below_xaxis(ax) / 72, ax.figure.dpi_scale_trans)
    return ax.legend(handles, labels, loc="upper left", ncols=2 if len(labels) > 3 else 1,
                     bbox_to_anchor=(0, 0), bbox_transform=ax.transAxes + offset, borderaxespad=0,
                     fontsize="small")


def plot_compare_fan(
    comparison: xr.Dataset,
    *,
    ax=None,
    record=None,
    published=None,
    observed: Mapping[int, float] | None = None,
    history=None,
    clip: bool = True,
    ylim: tuple[float, float] | None = None,
    caption: str | bool | None = None,
    median_kwargs: Mapping | None = None,
    band_kwargs: Mapping | None = None,
    observed_kwargs: Mapping | None = None,
    published_kwargs: Mapping | None = None,
):
    """Median and 90% band of log10 compute of each forecast, on one fan chart.

    Parameters
    ----------
    comparison
        :func:`forecast.compare.compare` output.
    ax
        Axes to draw on; a new figure when None.
    record
        Without ``observed``: the record of frontier runs (a table as
        :func:`forecast.record.runs.load_runs` returns it) whose largest run by year to draw
        (as published by the comparison's ``as_of``, when it has one) over the years before
        the forecasts; and, where the comparison holds a hindcast
        (``attrs["record_through"]``), over its years too, through the year the record was
        checked: what happened. None: no record.
    published
        Published forecasts (a table as :func:`forecast.record.published.load_published`
        returns it) to mark where their year lies in the chart's range, as
        :func:`outputs.plots.fan.plot_fan` does; None for none.
    observed
        ``{year: log10 FLOP}`` of realized runs (the record) to mark as points.
    history
        A :class:`forecast.evaluation.calibrate.Calibration` whose fitted history to draw
        (:func:`draw_fitted_history`), in the one legend.
    clip
        Keep the y range on the forecasts that agree (:func:`compare_ylim`): a forecast whose
        band runs far beyond all the others is cut at the edge, with a triangle on the edge
        over each year its median leaves the range and a note of how far its band goes.
        False: the range holds every band.
    ylim
        The y range in log10 FLOP, overriding the rule (bands beyond it are still marked).
    caption
        The line under the plot: None for the forecasts and their sample counts; a string;
        or False.
    median_kwargs, band_kwargs, observed_kwargs, published_kwargs
        Passed to ``plot``, ``fill_between``, ``scatter`` and ``plot`` (one call per
        published forecast).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    years = comparison["year"].values.astype(float)
    names = [str(n) for n in comparison["forecast"].values]
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("alpha", 0.07)  # light, so overlapping bands stay light (and outlined)
    band_kwargs.setdefault("linewidth", 0)
    limits, clipped = compare_ylim(comparison, gap=OUTLIER_GAP if clip else np.inf)
    if ylim is not None:
        limits = (float(ylim[0]), float(ylim[1]))
        upper = comparison["interval"].sel(bound="upper").max("year")
        lower = comparison["interval"].sel(bound="lower").min("year")
        clipped = {}
        for n in names:
            high, low = float(upper.sel(forecast=n)) > limits[1], float(lower.sel(forecast=n)) < limits[0]
            if high or low:
                clipped[n] = "both" if high and low else "top" if high else "bottom"
    colors, handles, labels = {}, [], []
    for index, name in enumerate(names):
        one = comparison.sel(forecast=name)
        color = colors[name] = method_color(name, index)
        lower, upper = one["interval"].sel(bound="lower").values, one["interval"].sel(bound="upper").values
        ax.fill_between(years, lower, upper, color=color, **band_kwargs)
        for edge in (lower, upper):  # outlined, so overlapping bands stay apart
            ax.plot(years, edge, color=color, linewidth=1.0, alpha=0.9, linestyle=(0, (4, 2)))
        line = {"color": color, **(median_kwargs or {})}
        label = line.pop("label", name)
        (handle,) = ax.plot(years, one["median"].values, **line)
        handles.append(handle)
        labels.append(label + (" (cut at the edge)" if name in clipped else ""))
    as_of = _comparison_as_of(comparison)
    record_drawn = []
    if not observed and record is not None:
        end = int(years.min()) if as_of is None else max(int(years.min()), as_of.year)
        if "record_through" in comparison.attrs:  # a hindcast: what happened, over its years too
            end = max(end, int(comparison.attrs["record_through"]))
        record_years, record_values = record_points(record, int(years.min()) - RECORD_YEARS, end, as_of=as_of)
        if len(record_years):
            (line,) = ax.plot(record_years, record_values, color=RECORD_COLOR, marker="o", markersize=3.5,
                              linewidth=0.8, zorder=4, gid="record")
            handles.append(line)
            labels.append("largest run known (record)" if as_of is None
                          else f"largest run published by {as_of.isoformat()}")
            record_drawn = list(record_years)
            if ylim is None:
                limits = (min(limits[0], float(np.floor(record_values.min() - 0.2))), limits[1])
    if history is not None:
        handles.append(draw_fitted_history(ax, history))
        labels.append(handles[-1].get_label())
    if observed:
        points = {"color": "#222222", "marker": "D", "s": 16, "zorder": 5, "label": "largest run known",
                  **(observed_kwargs or {})}
        handles.append(ax.scatter(list(observed), list(observed.values()), **points))
        labels.append(points["label"])
        if ylim is None:
            values = list(observed.values())
            limits = (min(limits[0], float(np.floor(min(values) - 0.2))),
                      max(limits[1], float(np.ceil(max(values) + 0.2))))
    first = min([years.min(), *list(observed or []), *record_drawn])
    state = {"xlim": (first - 0.4, years.max() + 0.4), "ylim": limits, "drawn": set(), "shared": []}
    if published is not None:  # the fan chart's own helpers: same markers, legend and labels
        draw_published_marks(ax, state, published, published_kwargs)
        if ylim is None:
            limits = state["ylim"]
    for handle, label in state["shared"]:
        handles.append(handle)
        labels.append(label)
    ax.set_xlim(*state["xlim"])
    ax.set_ylim(*limits)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("year the run finishes")
    ax.yaxis.set_major_locator(log10_flop_locator())
    ax.yaxis.set_major_formatter(log10_flop_formatter())
    ax.set_ylabel("training compute of the largest run (FLOP)")
    ax.set_title("Largest training run by year, compared")
    mark_as_of(ax, as_of)
    ax._compare_clipped = _mark_clipped(ax, comparison, clipped, colors, limits)
    legend = _legend_under(ax, handles, labels)
    if caption is None or caption is True:
        conditioned = np.atleast_1d(comparison.attrs.get("conditioned", [])).astype(bool)
        caption = "solid: median; dashed: 90% band · " + _default_caption(comparison)
        if len(conditioned) and not conditioned.any():
            caption += " · priors only, none conditioned on the record"
        elif len(conditioned) and conditioned.all() and as_of is not None:
            caption += f" · each conditioned on the record as published by {as_of.isoformat()}"
    add_caption(ax, None, caption, below=legend)
    place_published_labels(ax, state)
    return ax


def plot_compare_timeline(
    comparison: xr.Dataset,
    *,
    threshold: float,
    ax=None,
    error: bool = True,
    legend: bool = True,
    as_of_label: bool = True,
    line_kwargs: Mapping | None = None,
    error_kwargs: Mapping | None = None,
):
    """P(a run >= ``threshold`` by each year), one curve per forecast; a dotted line at the
    comparison's as-of date, when it has one.

    Parameters
    ----------
    comparison
        :func:`forecast.compare.compare` output.
    threshold
        One of the comparison's thresholds, in FLOP.
    error
        Shade the 90% Monte Carlo interval of each curve.
    legend
        Draw the legend (off for all but one panel of a grid).
    as_of_label
        Name the as-of date at its line (off for all but one panel of a grid).
    line_kwargs, error_kwargs
        Passed to ``plot`` and ``fill_between``.

    Returns
    -------
    matplotlib.axes.Axes
    """
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
        color = method_color(str(name), index)
        p = rows["probability"].sel(forecast=name).values
        if error:
            half = 1.645 * rows["mcse"].sel(forecast=name).values
            ax.fill_between(years, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), color=color,
                            **error_kwargs)
        ax.plot(years, p, **{"color": color, "marker": "o", "markersize": 3, "label": str(name),
                             **(line_kwargs or {})})
    year_axis(ax, years)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("probability, by that year")
    mark_as_of(ax, _comparison_as_of(comparison), label=as_of_label, below=1.0)
    ax.set_title(f"≥ {flop_label(threshold)} FLOP")
    if legend:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def draw_fitted_history(ax, calibration, *, color: str | None = None, band_kwargs: Mapping | None = None):
    """The calibrated model's frontier over the observed years on ``ax``: posterior median
    and 90% band; the median line (its label names it, for a legend)."""
    fitted = calibration.fitted_frontier()
    years = fitted.index.to_numpy(dtype=float)
    color = color or method_color("calibrated")
    band_kwargs = {"color": color, "alpha": 0.15, "linewidth": 0, **(band_kwargs or {})}
    ax.fill_between(years, fitted["fitted_5%"], fitted["fitted_95%"], **band_kwargs)
    (line,) = ax.plot(years, fitted["fitted_50%"], color=color, linestyle=(0, (1, 1.5)),
                      label="calibrated model over the record it saw (median, 90% band)")
    return line


def plot_fitted_history(calibration, *, ax=None, color: str | None = None, band_kwargs: Mapping | None = None,
                        legend: bool = True):
    """The calibrated model's frontier over the observed years: posterior median and 90% band
    (:func:`draw_fitted_history`), with a legend unless ``legend`` is False.

    Drawn over a fan chart (:func:`plot_compare_fan` takes it as ``history=`` and puts it in
    its one legend), it shows how well the posterior worlds reproduce the record they were
    conditioned on. Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots()
    draw_fitted_history(ax, calibration, color=color, band_kwargs=band_kwargs)
    if legend:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def _is_log_scale(calibration, name: str) -> bool:
    return calibration.prior_of(name).family.log_scale


def plot_prior_posterior(
    calibration,
    *,
    names=None,
    fig: Figure | None = None,
    prior_kwargs: Mapping | None = None,
    posterior_kwargs: Mapping | None = None,
) -> Figure:
    """Prior against posterior of each prior the record moved, one small panel each, in a
    grid of up to three columns.

    Parameters
    ----------
    calibration
        A :class:`forecast.evaluation.calibrate.Calibration`.
    names
        Priors to draw; those that moved by default (all uncertain ones if none moved).
    fig
        An empty figure to lay the panels out on; a new pyplot figure (2.3 x 1.9 inches a
        panel) when None.
    prior_kwargs, posterior_kwargs
        Passed to ``hist`` for the prior and the posterior draws.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes are the panels, in the order of ``names``.
    """
    names = list(names or calibration.moved or calibration.priors.latent_names)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    if fig is None:
        fig = plt.figure(figsize=(2.3 * columns, 1.9 * rows))
    axes = np.ravel(fig.subplots(rows, columns, squeeze=False))
    prior, posterior = calibration.values(posterior=False), calibration.values(posterior=True)
    prior_kwargs = {"color": "#999999", "histtype": "stepfilled", "alpha": 0.5, "label": "prior",
                    **(prior_kwargs or {})}
    posterior_kwargs = {"color": method_color("calibrated"), "histtype": "step", "linewidth": 1.4,
                        "label": "posterior", **(posterior_kwargs or {})}
    for ax, name in zip(axes, names):
        before, after = prior[name].values, posterior[name].values
        both = np.concatenate([before, after])
        if _is_log_scale(calibration, name):
            bins = np.geomspace(both.min(), both.max(), 40)
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_number(value)))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            bins = np.linspace(both.min(), both.max(), 40)
        # share of draws per bin (not a density): comparable on log-spaced bins too
        ax.hist(before, bins=bins, weights=np.full(len(before), 1 / len(before)), **prior_kwargs)
        ax.hist(after, bins=bins, weights=np.full(len(after), 1 / len(after)), **posterior_kwargs)
        unit = calibration.prior_of(name).unit
        ax.set_title(prior_label(name), fontsize="small")
        ax.set_xlabel(unit, fontsize="small")
        ax.set_yticks([])
        ax.grid(False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(loc="upper right", fontsize="x-small")
    return fig
