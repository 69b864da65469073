"""Print a prior set as a table: name, distribution, 5th/50th/95th percentile, unit, source.

With --plot, also write a new folder (default: priors-<prior set>-<time> here) with
priors.png (each prior's density, its percentiles and source), correlations.png (the rank
correlations of the correlated priors; not written when every prior is independent) and
prior_predictive.png (the largest run of 2030 in a forecast from the priors alone, --samples
worlds). An existing --out is replaced only with --force.
"""

from __future__ import annotations

import sys

from forecast.settings import DEFAULT_SEED, RunSettings
from outputs.commands.common import (
    add_output_options,
    add_prior_options,
    parse_formats,
    positive_int,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder
from priors import InputError


#: Worlds of the prior-predictive forecast of --plot.
PLOT_SAMPLES = 20_000


def add_arguments(parser) -> None:
    add_prior_options(parser)
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")
    plots = parser.add_argument_group("plots")
    plots.add_argument("--plot", action="store_true",
                       help="also write priors.png, correlations.png and prior_predictive.png "
                            "to a new folder")
    plots.add_argument("--samples", type=positive_int, default=None, metavar="N",
                       help=f"worlds of the prior-predictive forecast "
                            f"(default {PLOT_SAMPLES:,}; with --plot)")
    plots.add_argument("--seed", type=int, default=None,
                       help=f"random seed of that forecast (default {DEFAULT_SEED}; with --plot)")
    add_output_options(parser)


def _check_plot_options(args) -> None:
    """Options that only --plot uses are refused without it, rather than ignored."""
    given = [flag for flag, value in (("--out", args.out), ("--force", args.force or None),
                                      ("--samples", args.samples), ("--seed", args.seed),
                                      ("--format", None if args.format == "png" else args.format))
             if value is not None]
    if given and not args.plot:
        raise InputError(f"{given[0]}: only with --plot")


def main(args) -> int:
    from forecast.result import run_settings
    from models import PARAMETERS
    from outputs import format_correlations, format_prior_table
    from outputs.plots.priors import correlated_blocks, save_prior_plots

    _check_plot_options(args)
    formats = parse_formats(args.format) if args.plot else ()
    target = check_target(args.out, force=args.force) if args.plot and args.out else None
    # the prior forecast, every world kept: the plot's histogram and probabilities read them
    settings = RunSettings.from_args(args, samples=args.samples or PLOT_SAMPLES, as_of=None, keep="all")
    prior_set = settings.prior_set().validate(PARAMETERS)
    print(format_prior_table(prior_set, markdown=args.markdown))
    correlations = format_correlations(prior_set, markdown=args.markdown)
    if correlations:
        print("\n" + correlations)
    if not args.plot:
        return 0
    result = run_settings(settings, prior_set=prior_set, progress=sys.stderr.isatty())
    target = target or new_folder_name(f"priors-{prior_set.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        save_prior_plots(prior_set, result, staging, formats=formats)
    if not correlated_blocks(prior_set):
        print("\nNo rank correlations: every prior is independent, so correlations.png is not written.")
    print_written(target)
    return 0
