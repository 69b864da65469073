"""Which assumption decides the forecast: Sobol' indices, a tornado and prior swaps.

Global: first- and total-order Sobol' indices of every uncertain prior on three outputs
(log10 training compute in the target year, the year of the first run at or above the
threshold, and whether such a run happened by the target year), from one vectorized model
evaluation of a Saltelli design with (k + 2) * N worlds; and the total-order index of each
prior on log10 compute in every forecast year. One at a time: each prior pinned at its 5th
and 95th percentile, the others random with the same seed. Swaps: --swap NAME=SPEC and
--swap-file FILE report how every headline number changes.

Correlated priors (the prior file's pairs, or --correlate) are attributed as one group in
the Sobol' indices, and a pinned correlated prior moves its partners as the copula implies
(docs/sensitivity.md).

The tornado and the swaps weigh their worlds by the record of runs already known (--as-of,
as forecast run conditions a forecast); the Sobol' indices are those of the prior forecast.

The new folder holds sensitivity.md (the report), sobol.csv, sobol_by_year.csv, tornado.csv,
swaps.csv (with --swap), sensitivity.nc (every table as labelled data) and the plots.
"""

from __future__ import annotations

import argparse

from forecast.sensitivity.worlds import DEFAULT_N_BASE, DEFAULT_SWAP_SAMPLES
from forecast.settings import (
    DEFAULT_SEED,
    DEFAULT_TARGET_YEAR,
    DEFAULT_THRESHOLD,
    check_n_base,
    check_target_year,
    default_years_text,
    parse_threshold,
)
from outputs.commands.common import (
    add_output_options,
    add_prior_options,
    add_record_option,
    parse_formats,
    forecast_settings,
    positive_int,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("priors")
    add_prior_options(group)
    group = parser.add_argument_group("sensitivity")
    group.add_argument("--years", default=default_years_text(), metavar="START:END",
                       help=f"forecast years, inclusive (default {default_years_text()})")
    group.add_argument("--target-year", default=str(DEFAULT_TARGET_YEAR), metavar="YEAR",
                       help=f"year of the headline outputs (default {DEFAULT_TARGET_YEAR})")
    group.add_argument("--threshold", default=f"{DEFAULT_THRESHOLD:g}", metavar="FLOP",
                       help=f"FLOP threshold of the crossing year and 'reached' (default {DEFAULT_THRESHOLD:g})")
    group.add_argument("--n-base", type=positive_int, default=DEFAULT_N_BASE, metavar="N",
                       help=f"base rows of the Saltelli design, a power of two (default {DEFAULT_N_BASE}); "
                            "the model runs (k + 2) * N worlds")
    group.add_argument("--samples", type=positive_int, default=DEFAULT_SWAP_SAMPLES, metavar="N",
                       help=f"worlds per tornado bar end and per swap (default {DEFAULT_SWAP_SAMPLES:,})")
    group.add_argument("--bootstrap", type=positive_int, default=500, metavar="R",
                       help="bootstrap resamples of the Sobol' intervals (default 500)")
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    group.add_argument("--swap", metavar="NAME=SPEC", action="append", default=[],
                       help='compare with one prior replaced, e.g. --swap max_epochs="lognormal 1 to 5" (repeatable)')
    group.add_argument("--swap-file", metavar="FILE", action="append", default=[],
                       help="compare with every prior a file defines swapped in (a file or a built-in "
                            "scenario such as power_wall; repeatable)")
    group.add_argument("--no-tornado", dest="tornado", action="store_false",
                       help="skip the one-at-a-time runs")
    group.add_argument("--as-of", default="record", metavar="YEAR|none",
                       help="weigh the tornado's and the swaps' worlds by the record of runs known up to YEAR "
                            "(default: the last year the record covers; none: the prior forecast). "
                            "The Sobol' indices are those of the prior forecast")
    add_record_option(group)
    add_output_options(parser)


def main(args) -> int:
    from forecast.sensitivity.analysis import sensitivity
    from outputs.write.sensitivity import sensitivity_text, write_sensitivity

    # Everything that can be refused is refused before any model runs.
    formats = parse_formats(args.format)
    settings = forecast_settings(args)
    target_year = check_target_year(args.target_year, settings.years)
    threshold = parse_threshold(args.threshold)
    check_n_base(args.n_base)
    target = check_target(args.out, force=args.force) if args.out else None

    result = sensitivity(
        settings, target_year=target_year, threshold=threshold,
        n_base=args.n_base, swaps=args.swap, swap_files=args.swap_file, n_bootstrap=args.bootstrap,
        with_tornado=args.tornado,
    )
    target = target or new_folder_name(f"sensitivity-{result.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_sensitivity(result, staging, formats=formats)
    print(sensitivity_text(result))
    print_written(target)
    return 0
