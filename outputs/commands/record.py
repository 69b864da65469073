"""Print the frontier of training compute by year: for each calendar year, the largest run
known by the end of that year, its model, organization, training compute (FLOP), Epoch AI's
confidence label and the source of the number.

The record shipped with the package holds the most recent public estimate of each run,
cited. --record FILE merges your own CSV over it (same columns; epoch_confidence,
includes_post_training and revisions may be omitted): a row with the same model name
replaces the shipped one, new names are added. The same --record works with 'forecast
backtest' and 'forecast calibrate'.
"""

from __future__ import annotations

import pandas as pd

from forecast.history.record import frontier_by_year, load_record
from outputs.commands.common import add_record_option
from outputs.tables import to_markdown, to_text

HELP = "print the largest training run known at the end of each year, with its source"


def add_arguments(parser) -> None:
    add_record_option(parser)
    parser.add_argument("--markdown", action="store_true", help="print Markdown instead of plain text")


def _display(table: pd.DataFrame, *, with_source: bool) -> pd.DataFrame:
    shown = pd.DataFrame(
        {
            "FLOP": [f"{v:.3g}" for v in table["training_compute_flop"]],
            "log10": [f"{v:.2f}" for v in table["log10_compute"]],
            "model": table["model"],
            "organization": table["organization"],
            "published": [d.strftime("%Y-%m-%d") for d in pd.to_datetime(table["date"])],
            "Epoch confidence": [c or "-" for c in table["epoch_confidence"]],
            "new": ["*" if n else "" for n in table["new_record"]],
        },
        index=table.index,
    )
    if with_source:
        shown["source"] = table["source"]
    return shown


def format_frontier(table: pd.DataFrame, *, markdown: bool = False, origin: str = "") -> str:
    """The frontier by year as plain text (sources listed below the table) or Markdown."""
    intro = ("Largest training run known by the end of each year"
             + (f" ({origin})" if origin else "")
             + "; * = a new record set that year; Epoch confidence '-' = not an Epoch AI estimate")
    if markdown:
        return f"{intro}.\n\n{to_markdown(_display(table, with_source=True))}"
    sources = "\n".join(f"  {year}  {row['model']}: {row['source']}"
                        for year, row in table.iterrows() if row["new_record"])
    return f"{intro}:\n\n{to_text(_display(table, with_source=False))}\n\nsources:\n{sources}"


def main(args) -> int:
    runs = load_record(args.record)
    origin = f"shipped record with {args.record} merged over it" if args.record else "shipped record"
    print(format_frontier(frontier_by_year(runs), markdown=args.markdown, origin=origin))
    return 0
