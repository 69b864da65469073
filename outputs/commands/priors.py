"""Print a prior set as a table: name, distribution, 5th/50th/95th percentile, unit, source."""

from __future__ import annotations

from outputs import format_prior_table
from priors import load_prior_set

HELP = "print the priors (distribution, percentiles, unit, source)"


def add_arguments(parser) -> None:
    parser.add_argument("--priors", metavar="FILE", default=None,
                        help="prior file or built-in set (default: default)")
    parser.add_argument("--set", metavar="NAME=SPEC", action="append", default=[], dest="overrides",
                        help="override one prior, as for 'forecast run'")
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")


def main(args) -> int:
    from models import PARAMETERS

    prior_set = load_prior_set(args.priors, overrides=args.overrides).validate(PARAMETERS)
    print(format_prior_table(prior_set, markdown=args.markdown))
    return 0
