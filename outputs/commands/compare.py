"""Compare two or more forecasts on one fan chart, one timeline plot and one table.

Each SOURCE is a built-in prior set (default or a scenario: see 'forecast run --help'),
a prior file (.toml), a saved run (folder or samples.nc), 'trend' or
'trend:hinge' (the NUTS fit to the record of frontier runs), or 'calibrated' /
'calibrated:PRIORS' (that prior set calibrated on history, as 'forecast calibrate' does).

    forecast compare default power_wall trend calibrated

The new folder holds comparison.csv (P(>= threshold by year), one column per forecast),
comparison.md, comparison.nc (every number, dims forecast/threshold/year), compare_fan and
compare_timeline plots.
"""

from __future__ import annotations

from forecast.compare import SOURCE_HELP, compare, forecast_from_source, source_kind
from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    forecast_settings,
    parse_formats,
    positive_int,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder
from priors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("sources", metavar="SOURCE", nargs="+", help=SOURCE_HELP)
    add_forecast_options(parser, prior_options=False, scale=False)
    parser.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                        help="NUTS draws per chain (4 chains) for trend and calibrated (default 1000)")
    add_output_options(parser)


def main(args) -> int:
    from outputs.write.comparison import comparison_text, with_assumptions, write_comparison

    formats = parse_formats(args.format)
    settings = forecast_settings(args)
    if len(args.sources) < 2:
        raise InputError("compare: give at least two forecasts (e.g. forecast compare default trend)")
    for source in args.sources:
        source_kind(source)
    target = check_target(args.out, force=args.force) if args.out else None
    record = settings.runs() if settings.record else None
    results = [
        forecast_from_source(source, settings=settings, draws=args.draws, record=record)
        for source in args.sources
    ]
    comparison = with_assumptions(compare(results, thresholds=settings.thresholds), results)
    target = target or new_folder_name("compare")
    with staged_folder(target, force=args.force) as staging:
        write_comparison(comparison, staging, formats=formats)
    print(comparison_text(comparison))
    print_written(target)
    return 0
