"""Print a prior set as a table: name, distribution, 5th/50th/95th percentile, unit, source."""

from __future__ import annotations

from outputs import format_correlations, format_prior_table
from outputs.commands.common import add_prior_options, prior_set_from_args

HELP = "print the priors (distribution, percentiles, unit, source) and their correlations"


def add_arguments(parser) -> None:
    add_prior_options(parser)
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")


def main(args) -> int:
    from models import PARAMETERS

    prior_set = prior_set_from_args(args).validate(PARAMETERS)
    print(format_prior_table(prior_set, markdown=args.markdown))
    correlations = format_correlations(prior_set, markdown=args.markdown)
    if correlations:
        print("\n" + correlations)
    return 0
