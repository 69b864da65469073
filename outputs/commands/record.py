"""Print the frontier of training compute by year: for each calendar year, the largest run
known by the end of that year, its model, organization, training compute (FLOP), Epoch AI's
confidence label and the source of the number.

The record shipped with the package holds the most recent public estimate of each run,
cited, and the date it was last checked. --record FILE merges your own CSV over it (same
required columns; the optional ones, epoch_confidence to published, may be omitted): a row with the same model name
replaces the shipped one, new names are added. The same --record works with 'forecast
backtest' and 'forecast calibrate'.
"""

from __future__ import annotations

from outputs.commands.common import add_record_option


def add_arguments(parser) -> None:
    add_record_option(parser)
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")


def main(args) -> int:
    from forecast.record.frontier import frontier_by_year
    from forecast.record.runs import load_record, record_checked_date
    from outputs.tables import format_frontier

    runs = load_record(args.record)
    origin = f"shipped record with {args.record} merged over it" if args.record else "shipped record"
    origin += f", checked {record_checked_date(runs).isoformat()}"
    print(format_frontier(frontier_by_year(runs), markdown=args.markdown, origin=origin))
    return 0
