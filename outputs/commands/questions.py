"""Our probability for each open forecasting question on training compute in
forecast/history/data/questions.csv: its source, resolution rule and close date, the true
probability and the published one (what it resolves on). One run answers them all; nothing
is written."""

from __future__ import annotations

HELP = "our probability for each open forecasting question on training compute"


def add_arguments(parser) -> None:
    from outputs.commands.common import add_forecast_options

    add_forecast_options(parser, scale=False, keep=False, thresholds=False)


def main(args) -> int:
    raise SystemExit("not yet")
