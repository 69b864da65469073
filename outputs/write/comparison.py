"""The files of a comparison of forecasts: comparison.csv/.md/.nc and the overlaid plots;
and its tables for the terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from forecast.headline import HEADLINE_YEARS
from forecast.record.published import load_published
from forecast.record.runs import load_runs
from outputs.plots.axes import save_figure
from outputs.plots.compare import plot_compare_fan, plot_compare_timeline
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text
from outputs.text import flop_label, format_probability

__all__ = [
    "assumption_line",
    "comparison_assumptions",
    "comparison_text",
    "headline_years_of",
    "intervals_table",
    "percent_table",
    "probability_table",
    "with_assumptions",
    "write_comparison",
]


def probability_table(comparison: xr.Dataset, *, years=None) -> pd.DataFrame:
    """P(a run >= threshold by year), one column per forecast, rows (threshold, year)."""
    p = comparison["probability"]
    if years is not None:
        p = p.sel(year=[y for y in years if y in p["year"].values])
    table = p.to_series().unstack("forecast")[list(comparison["forecast"].values)]
    table.index = table.index.set_levels(
        [flop_label(t) for t in table.index.levels[0]], level="threshold"
    )
    return table


def headline_years_of(comparison: xr.Dataset) -> list[int]:
    """The headline years the comparison covers (all its years when it covers none)."""
    years = [int(y) for y in comparison["year"].values]
    return [y for y in HEADLINE_YEARS if y in years] or years


def percent_table(comparison: xr.Dataset, years=None) -> pd.DataFrame:
    """Probabilities as ``forecast run`` prints them: the digits the Monte Carlo error allows,
    ``<0.2%`` (rule of three) where no world of a forecast crossed."""
    years = headline_years_of(comparison) if years is None else years
    table = probability_table(comparison, years=years)
    mcse = probability_table(comparison.assign(probability=comparison["mcse"]), years=years)
    worlds = dict(zip(comparison["forecast"].values, np.atleast_1d(comparison.attrs["samples"])))
    n = [int(worlds[name]) for name in table.columns]
    cells = [[format_probability(p, e, k, interval=False) for p, e, k in zip(row_p, row_e, n)]
             for row_p, row_e in zip(table.to_numpy(), mcse.to_numpy())]
    return pd.DataFrame(cells, index=table.index, columns=table.columns).reset_index()


def _flop(log10: float) -> str:
    return flop_label(10 ** log10, 2)


def intervals_table(comparison: xr.Dataset) -> pd.DataFrame:
    """Median [90% interval] of compute per year, one column per forecast."""
    def cell(median, low, high):
        return f"{_flop(median)} [{_flop(low)}, {_flop(high)}]"

    rows = {}
    for name in comparison["forecast"].values:
        one = comparison.sel(forecast=name)
        rows[str(name)] = [
            cell(m, lo, hi) for m, lo, hi in zip(
                one["median"].values, one["interval"].sel(bound="lower").values,
                one["interval"].sel(bound="upper").values)
        ]
    return pd.DataFrame(rows, index=comparison["year"].values).rename_axis("year")


BOTTOM_UP = "bottom-up: chips, power, money, data and latency caps from the priors"
TREND = "the record's log-linear trend (NUTS), no caps"
HINGED_TREND = "the record's log-linear trend with one hinge (NUTS), no caps"
CALIBRATED = "bottom-up priors conditioned on the record with NUTS"
HINDCAST = ("bottom-up model from the year before {cutoff}, priors from sources dated before it, "
            "worlds resampled given {observed}; the largest public estimate as of {resolved}")


def assumption_line(name: str, metadata=None, *, has_priors: bool | None = None) -> str:
    """What a forecast assumes, in one line, from its name (the label
    :mod:`forecast.compare` gives it) and, when known, its ``metadata``.

    ``trend…`` (no priors): the trend fit; ``calibrated_on`` in the metadata or
    ``…, calibrated on …`` in the name: the calibration; otherwise a bottom-up prior set,
    with what it was conditioned on when its metadata says (``conditioned_on``).
    """
    metadata = dict(metadata or {})
    name = str(name)
    if metadata.get("hindcast"):
        return HINDCAST.format(cutoff=metadata["hindcast"], observed=metadata.get("conditioned_on", "the record"),
                               resolved=metadata.get("resolved", "today"))
    base = name.partition(",")[0]
    if not has_priors and base in ("trend", "trend (hinged)"):
        return HINGED_TREND if base == "trend (hinged)" else TREND
    if "calibrated_on" in metadata or ", calibrated on " in name:
        observed = metadata.get("calibrated_on") or name.partition(", calibrated on ")[2]
        return CALIBRATED + (f" ({observed})" if observed else "")
    if metadata.get("conditioned_on"):
        return f"{BOTTOM_UP}, worlds resampled given {metadata['conditioned_on']}"
    return BOTTOM_UP


def with_assumptions(comparison: xr.Dataset, results) -> xr.Dataset:
    """``comparison`` with ``attrs["assumptions"]``, one line per forecast, from the results
    it was computed from (their metadata tells conditioned and calibrated runs apart); the
    tables and comparison.nc then carry them."""
    by_name = {r.name: r for r in results}
    lines = []
    for name in comparison["forecast"].values:
        result = by_name.get(str(name))
        lines.append(assumption_line(
            name, getattr(result, "metadata", None),
            has_priors=None if result is None else bool(result.priors.priors)))
    return comparison.assign_attrs(assumptions=lines)


def comparison_assumptions(comparison: xr.Dataset) -> dict[str, str]:
    """``{forecast: what it assumes}``: ``attrs["assumptions"]`` when there (see
    :func:`with_assumptions`), else read from the forecasts' names."""
    names = [str(n) for n in comparison["forecast"].values]
    given = [str(line) for line in np.atleast_1d(comparison.attrs.get("assumptions", []))]
    if len(given) == len(names):
        return dict(zip(names, given))
    return {name: assumption_line(name) for name in names}


def _assumption_lines(comparison: xr.Dataset, bullet: str) -> list[str]:
    return [f"{bullet}{name}: {line}" for name, line in comparison_assumptions(comparison).items()]


def comparison_markdown(comparison: xr.Dataset, *, image_format: str = "png") -> str:
    return "\n".join([
        "# Forecasts compared", "",
        "What each forecast assumes:", "",
        *_assumption_lines(comparison, "- "), "",
        ("P(a run of at least each threshold by each year), the Monte Carlo error setting "
         "the digits shown:"), "",
        to_markdown(percent_table(comparison), index=False), "",
        "Training compute of the largest run: median [90% interval], FLOP", "",
        to_markdown(intervals_table(comparison)), "",
        f"![fan chart](compare_fan.{image_format})", "",
        f"![timeline](compare_timeline.{image_format})", "",
    ])


def comparison_text(comparison: xr.Dataset) -> str:
    return "\n".join([
        "What each forecast assumes", "",
        *_assumption_lines(comparison, "  "), "",
        "P(a run >= threshold by year)", "",
        to_text(percent_table(comparison), index=False), "",
        "Median [90% interval] of training compute, FLOP", "",
        to_text(intervals_table(comparison)),
    ])


def _timeline_grid(comparison: xr.Dataset) -> Figure:
    thresholds = comparison["threshold"].values
    columns = min(3, len(thresholds))
    rows = -(-len(thresholds) // columns)
    figure = Figure(figsize=(2.6 * columns + 0.4, 2.4 * rows + 0.8))
    axes = figure.subplots(rows, columns, squeeze=False, sharey=True).ravel()
    for index, (ax, threshold) in enumerate(zip(axes, thresholds)):
        plot_compare_timeline(comparison, threshold=threshold, ax=ax, legend=False, as_of_label=index == 0)
        if index % columns:
            ax.set_ylabel("")
    for ax in axes[len(thresholds):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 2), fontsize="small")
    figure.suptitle("P(a run of at least each size by that year)")
    return figure


def write_comparison(comparison: xr.Dataset, folder: str | Path, *, formats=("png",)) -> list[Path]:
    """comparison.nc, comparison.csv, comparison.md and the compare_fan and compare_timeline plots."""
    folder = Path(folder)
    nc, csv, md = folder / "comparison.nc", folder / "comparison.csv", folder / "comparison.md"
    comparison.to_netcdf(nc, engine="h5netcdf")
    probability_table(comparison).to_csv(csv, float_format="%.6g")
    md.write_text(comparison_markdown(comparison, image_format=formats[0]), encoding="utf-8")
    written = [nc, csv, md]
    with plot_style():
        figure = Figure()
        plot_compare_fan(comparison, ax=figure.add_subplot(), record=load_runs(), published=load_published())
        written += save_figure(figure, folder, "compare_fan", formats=formats)
        written += save_figure(_timeline_grid(comparison), folder, "compare_timeline", formats=formats)
    return written
