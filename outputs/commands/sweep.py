"""What would you need to believe? Map P(run >= threshold by year) over pinned priors.

Each --vary NAME=LO:HI:N pins one prior at N values from LO to HI (log-spaced for a prior
stated on a log scale, linear otherwise) and leaves every other prior random, with the same
seed at every grid point: each grid point is exactly the forecast of `forecast run --set
NAME=VALUE` with the same --samples (20,000 by default here), --seed, --years and --as-of. One --vary draws the probability as a curve with its
Monte Carlo band; two draw a heat map with contours at 10, 50 and 90%.

    forecast sweep --vary chip_growth=1.5:3.5:21 --vary power_limit_gw_max=1:50:21 \\
        --threshold 1e28 --year 2028

The new folder holds sweep.csv (one row per grid point), sweep.nc (the grid as labelled
data, dims named after the varied priors), sweep.png and the priors used.
"""

from __future__ import annotations

import argparse
import sys

from forecast.settings import DEFAULT_TARGET_YEAR, DEFAULT_THRESHOLD, check_target_year, parse_threshold
from forecast.sweep import DEFAULT_SWEEP_SAMPLES, LAB_CORRELATION, MAX_AXES, check_not_set, grid_axes, sweep
from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    forecast_settings,
    parse_formats,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.text import flop_label
from priors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sweep")
    group.add_argument("--vary", metavar="NAME=LO:HI:N", action="append", default=[], required=True,
                       help=f"pin a prior at N values from LO to HI (N >= 2; log-spaced for priors on a "
                            f"log scale); once or twice (at most {MAX_AXES}), e.g. --vary chip_growth=1.5:3.5:21; "
                            f"--vary {LAB_CORRELATION}=0:0.9:10 varies the rank correlation between labs")
    group.add_argument("--threshold", default=flop_label(DEFAULT_THRESHOLD), metavar="FLOP",
                       help=f"FLOP threshold of the question (default {flop_label(DEFAULT_THRESHOLD)})")
    group.add_argument("--year", default=str(DEFAULT_TARGET_YEAR), metavar="YEAR",
                       help=f"a run at or above the threshold by this year, one of --years "
                            f"(default {DEFAULT_TARGET_YEAR})")
    group.add_argument("--no-baseline", dest="baseline", action="store_false",
                       help="skip the run with nothing pinned (the reference line and number)")
    # one threshold (--threshold) and no worlds saved (sweep.nc holds the grid)
    add_forecast_options(parser, thresholds=False, keep=False, samples=DEFAULT_SWEEP_SAMPLES,
                         samples_help="Monte Carlo worlds per grid point (forecast run --set NAME=VALUE "
                                      "with the same --samples draws a point's worlds)")
    add_output_options(parser)


def _year(text: str, years) -> int:
    try:
        return check_target_year(text, years)
    except InputError as err:
        raise InputError(str(err).replace("target_year:", "--year:", 1)) from None


def main(args) -> int:
    from outputs.write.sweep import sweep_text, write_sweep

    # Everything that can be refused is refused before any model runs.
    formats = parse_formats(args.format)
    settings = forecast_settings(args, keep=0)
    year = _year(args.year, settings.years)
    threshold = parse_threshold(args.threshold)
    priors = settings.prior_set()
    check_not_set(grid_axes(args.vary, priors), settings.overrides)
    target = check_target(args.out, force=args.force) if args.out else None

    grid = sweep(settings, args.vary, threshold=threshold, year=year, prior_set=priors, baseline=args.baseline,
                 progress=sys.stderr.isatty())
    target = target or new_folder_name(f"sweep-{priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_sweep(grid, staging, priors=priors, formats=formats)
    print(sweep_text(grid))
    print_written(target)
    return 0
