"""Calibrate the bottom-up model on history, then forecast from the posterior.

The largest run known at the end of each year from --since to the base year (2024) is
observed through the model run backwards (supply-driven compute; the caps of the coming
build-out did not bind the past), with a Student-t error. NUTS samples the posterior of
every uncertain prior's score; the record informs the priors that shape past compute and
leaves the others as they were. The posterior worlds then go through the same model as
'forecast run': one world per posterior draw (--chains x --draws); --samples sets the
worlds of the uncalibrated forecast it is compared with.

The new folder is a run folder of the calibrated forecast (samples.nc, tables, plots: so
'forecast plot' and 'forecast report --from' read it) plus calibration.md and
calibration.csv (prior against posterior of every prior, the fit to each observed year,
NUTS diagnostics), posterior.nc (the NUTS fit as ArviZ InferenceData), prior_posterior and
calibrated_fan plots (the forecast before and after calibration), and comparison.csv.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

from forecast.history.calibrate import (
    DEFAULT_SINCE,
    calibrated_forecast,
)
from forecast.history.record import load_record
from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    check_forecast_options,
    parse_formats,
    positive_int,
    print_written,
    prior_set_from_args,
)
from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.write.calibration import calibration_text, write_calibration


def add_arguments(parser) -> None:
    group = parser.add_argument_group("calibration")
    group.add_argument("--since", type=int, default=DEFAULT_SINCE, metavar="YEAR",
                       help=f"first year of the record observed (default {DEFAULT_SINCE}); the last is --as-of")
    group.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                       help="NUTS draws (and warmup iterations) per chain (default 1000)")
    group.add_argument("--chains", type=positive_int, default=4, metavar="N", help="NUTS chains (default 4)")
    group.add_argument("--as-of", type=int, default=None, metavar="YEAR",
                       help="last year of the record observed (default: the base year, 2024); later "
                            "years are observed through the forward model with its caps")
    add_forecast_options(parser, conditioning=False, scale=False)
    add_output_options(parser)


def reproduce_command(args) -> str:
    """The command line that draws the same calibrated worlds again."""
    parts = ["forecast", "calibrate"]
    if args.priors:
        parts += ["--priors", str(args.priors)]
    for override in args.overrides:
        parts += ["--set", override]
    for pair in args.correlate:
        parts += ["--correlate", pair]
    if args.repair_correlations:
        parts.append("--repair-correlations")
    if getattr(args, "record", None):
        parts += ["--record", str(args.record)]
    if args.as_of is not None:
        parts += ["--as-of", str(args.as_of)]
    parts += ["--since", str(args.since), "--chains", str(args.chains), "--draws", str(args.draws),
              "--seed", str(args.seed), "--years", args.years]
    if args.thresholds:
        parts += ["--thresholds", args.thresholds]
    return shlex.join(parts)


def main(args) -> int:
    formats = parse_formats(args.format)
    check_forecast_options(args)
    runs = load_record(args.record) if args.record else None  # refused before any fit
    target = check_target(args.out, force=args.force) if args.out else None
    result = calibrated_forecast(
        prior_set_from_args(args), runs=runs, since=args.since, until=args.as_of, chains=args.chains,
        draws=args.draws,
        samples=args.samples, seed=args.seed, years=args.years, thresholds=args.thresholds,
    )
    after = replace(result.after, metadata={**result.after.metadata, "command": reproduce_command(args)})
    result = replace(result, after=after)
    target = target or new_folder_name(f"calibrated-{result.after.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_calibration(result, staging, formats=formats)
    print(calibration_text(result))
    print_written(target)
    return 0
