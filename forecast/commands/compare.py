"""Compare two or more forecasts on one fan chart, one timeline plot and one table.

Each SOURCE is a built-in prior set (default, moe, no_fp8, power_wall, fast_buildout,
data_wall), a prior file (.toml), a saved run (folder or samples.nc), 'trend' or
'trend:hinge' (the NUTS fit to the record of frontier runs), or 'calibrated' /
'calibrated:PRIORS' (that prior set calibrated on history, as 'forecast calibrate' does).

    forecast compare default power_wall trend calibrated

The new folder holds comparison.csv (P(>= threshold by year), one column per forecast),
comparison.md, comparison.nc (every number, dims forecast/threshold/year), compare_fan and
compare_timeline plots.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from outputs.compare_plots import plot_compare_fan, plot_compare_timeline
from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.plots import save_figure
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text
from priors import InputError

from ..compare import SOURCE_HELP, compare, forecast_from_source, probability_table, source_kind
from ..report import HEADLINE_YEARS, decimals_for, flop_label, format_percent
from .common import (
    add_forecast_options,
    add_output_options,
    check_forecast_options,
    parse_formats,
    positive_int,
)

HELP = "overlay two or more forecasts (prior sets, saved runs, trend, calibrated) and tabulate them"


def add_arguments(parser) -> None:
    parser.add_argument("sources", metavar="SOURCE", nargs="+", help=SOURCE_HELP)
    add_forecast_options(parser, prior_options=False)
    parser.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                        help="NUTS draws per chain (4 chains) for trend and calibrated (default 1000)")
    add_output_options(parser)


def percent_table(comparison, years) -> pd.DataFrame:
    """Probabilities as percentages, each with the digits its Monte Carlo error allows."""
    table = probability_table(comparison, years=years)
    mcse = probability_table(comparison.assign(probability=comparison["mcse"]), years=years)
    cells = [[format_percent(p, decimals_for(e)) for p, e in zip(row_p, row_e)]
             for row_p, row_e in zip(table.to_numpy(), mcse.to_numpy())]
    return pd.DataFrame(cells, index=table.index, columns=table.columns).reset_index()


def _flop(log10: float) -> str:
    return flop_label(float(f"{10 ** log10:.2g}"))


def intervals_table(comparison) -> pd.DataFrame:
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


def main(args) -> int:
    formats = parse_formats(args.format)
    check_forecast_options(args)
    if len(args.sources) < 2:
        raise InputError("compare: give at least two forecasts (e.g. forecast compare default trend)")
    for source in args.sources:
        source_kind(source)
    target = check_target(args.out, force=args.force) if args.out else None
    results = [
        forecast_from_source(source, samples=args.samples, seed=args.seed, years=args.years,
                             thresholds=args.thresholds, draws=args.draws)
        for source in args.sources
    ]
    comparison = compare(results, thresholds=args.thresholds)
    thresholds = comparison["threshold"].values
    headline = [y for y in HEADLINE_YEARS if y in comparison["year"].values] or list(comparison["year"].values)

    target = target or new_folder_name("compare")
    with staged_folder(target, force=args.force) as staging:
        comparison.to_netcdf(staging / "comparison.nc", engine="h5netcdf")
        probability_table(comparison).to_csv(staging / "comparison.csv", float_format="%.6g")
        (staging / "comparison.md").write_text(
            "\n".join([
                "# Forecasts compared", "",
                "P(a run of at least each threshold by each year), the Monte Carlo error setting "
                "the digits shown:", "",
                to_markdown(percent_table(comparison, headline), index=False), "",
                "Training compute of the largest run: median [90% interval], FLOP", "",
                to_markdown(intervals_table(comparison)), "",
                f"![fan chart](compare_fan.{formats[0]})", "",
                f"![timeline](compare_timeline.{formats[0]})", "",
            ]),
            encoding="utf-8",
        )
        with plot_style():
            figure = Figure()
            plot_compare_fan(comparison, ax=figure.add_subplot())
            save_figure(figure, staging, "compare_fan", formats=formats)

            columns = min(3, len(thresholds))
            rows = -(-len(thresholds) // columns)
            figure = Figure(figsize=(2.6 * columns + 0.4, 2.4 * rows + 0.8))
            axes = figure.subplots(rows, columns, squeeze=False, sharey=True).ravel()
            for index, (ax, threshold) in enumerate(zip(axes, thresholds)):
                plot_compare_timeline(comparison, threshold=threshold, ax=ax, legend=False)
                if index % columns:
                    ax.set_ylabel("")
            for ax in axes[len(thresholds):]:
                ax.set_visible(False)
            handles, labels = axes[0].get_legend_handles_labels()
            figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 2),
                          fontsize="small")
            figure.suptitle("P(a run of at least each size by that year)")
            save_figure(figure, staging, "compare_timeline", formats=formats)

    print("P(a run >= threshold by year)\n")
    print(to_text(percent_table(comparison, headline), index=False))
    print("\nMedian [90% interval] of training compute, FLOP\n")
    print(to_text(intervals_table(comparison)))
    print(f"\nwrote {target}/")
    for path in sorted(target.iterdir()):
        print(f"  {path.name}")
    return 0
