"""Condition the bottom-up model on the record with NUTS, then forecast from the posterior.

The record as published by --as-of (default: the date it was last checked) is read by lab
and year exactly as 'forecast run' reads it, and NUTS samples the same likelihood (every
lab's largest run of each year up to the as-of date: a public estimate with its error, a
lower bound, or no row yet, through the disclosure priors) over the scores of every
uncertain prior, every lab kept. 'forecast run' weighs prior worlds by that likelihood
(importance sampling); this samples it, for when the weights are too uneven (Pareto k above
0.7). The record informs the priors that shape the observed years' runs and leaves the
others as they were. The posterior worlds then go through the same model as
'forecast run': one world per posterior draw (--chains x --draws); --samples sets the
worlds of the prior forecast it is compared with.

The new folder is a run folder of the calibrated forecast (samples.nc, tables, plots: so
'forecast plot' and 'forecast report --from' read it) plus calibration.md and
calibration.csv (prior against posterior of every prior, the fit to each observed year,
NUTS diagnostics), posterior.nc (the NUTS fit as ArviZ InferenceData), prior_posterior and
calibrated_fan plots (the forecast before and after calibration), and comparison.csv.
"""

from __future__ import annotations

from dataclasses import replace

from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    forecast_settings,
    parse_formats,
    positive_int,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder


def add_arguments(parser) -> None:
    group = parser.add_argument_group("calibration")
    group.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                       help="NUTS draws (and warmup iterations) per chain (default 1000)")
    group.add_argument("--chains", type=positive_int, default=4, metavar="N", help="NUTS chains (default 4)")
    group.add_argument("--as-of", default="record", metavar="DATE|YEAR",
                       help="condition on the record as published by DATE (YYYY-MM-DD; a YEAR is its "
                            "last day; default: the date the record was last checked), as forecast run does")
    add_forecast_options(parser, conditioning=False, scale=False)
    add_output_options(parser)


def main(args) -> int:
    from forecast.evaluation.calibrate import calibrated_forecast
    from outputs.write.calibration import calibration_text, write_calibration

    formats = parse_formats(args.format)
    settings = forecast_settings(args)  # with --as-of: refused where no forecast year is observed
    runs = settings.runs() if settings.record else None  # refused before any fit
    target = check_target(args.out, force=args.force) if args.out else None
    result = calibrated_forecast(
        settings.prior_set(), runs=runs, as_of=settings.as_of, chains=args.chains, draws=args.draws,
        samples=settings.samples, seed=settings.seed, years=settings.years, thresholds=settings.thresholds,
    )
    command = settings.command("calibrate", extra=["--chains", str(args.chains), "--draws", str(args.draws)])
    after = replace(result.after, metadata={**result.after.metadata, "command": command})
    result = replace(result, after=after)
    target = target or new_folder_name(f"calibrated-{result.after.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_calibration(result, staging, formats=formats)
    print(calibration_text(result))
    print_written(target)
    return 0
