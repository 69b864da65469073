"""How well would each way of forecasting have done? Backtests of the trend model, two
baselines and the bottom-up model on the shipped record of frontier training runs (--record
FILE merges your own runs over it).

At each cutoff year every method sees the record as it was known on 31 December before it:
the rows public by then, with the values public then (later revisions are not seen). The
trend model is fitted (NUTS) with priors from that time (its slope prior is the latest growth
rate published before the cutoff); the baselines are the last record grown at the growth
fitted to the pre-cutoff frontier (a point forecast) and a least-squares line with a normal
predictive. At the cutoffs with a hindcast prior file (priors/hindcasts/2020.toml and
2022.toml, every source dated before the cutoff), the bottom-up model runs from the year
before the cutoff, conditioned on the record as known then, and forecasts the largest public
estimate (--samples worlds). Each forecasts the largest run of each year from the cutoff to --last-year, scored
against the current record: CRPS in log10 FLOP (lower is better), log score (higher is
better), the share of years inside the 50% and 90% intervals, and the errors in orders of
magnitude; a pooled ranking with bootstrap intervals says whether a difference is real.

The new folder holds backtest.csv (every method, cutoff and year, with PITs), backtest.md
(the tables and diagnostics), backtest.<format> (forecast fans against the realized points)
and backtest_calibration.<format> (PIT histogram and reliability).
"""

from __future__ import annotations

import argparse
import warnings

from forecast.evaluation.hindcast import DEFAULT_SAMPLES
from outputs.commands.common import (
    add_output_options,
    add_record_option,
    parse_formats,
    positive_int,
    print_written,
)
from outputs.folder import check_target, new_folder_name, staged_folder
from priors import InputError


DEFAULT_CUTOFFS = "2016,2018,2020,2022"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backtest")
    group.add_argument("--cutoffs", default=DEFAULT_CUTOFFS, metavar="Y1,Y2",
                       help=f"cutoff years, comma-separated (default {DEFAULT_CUTOFFS})")
    group.add_argument("--last-year", default="2025", metavar="YEAR",
                       help="last year scored (default 2025)")
    group.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                       help="NUTS draws (and warmup iterations) per chain (default 1000)")
    group.add_argument("--chains", type=positive_int, default=4, metavar="N",
                       help="NUTS chains (default 4)")
    group.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES, metavar="N",
                       help=f"worlds of each bottom-up hindcast (default {DEFAULT_SAMPLES:,})")
    group.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_record_option(group)
    add_output_options(parser)


def _year(text: str, option: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"{option}: {text.strip()!r} is not a whole year (e.g. 2020)") from None


def parse_cutoffs(text: str, *, last_year: int, first_year: int) -> tuple[int, ...]:
    """``"2016,2018"`` -> (2016, 2018); refuse repeats and years outside the record."""
    items = [item for item in text.split(",") if item.strip()]
    if not items:
        raise InputError("--cutoffs: no years given; e.g. --cutoffs 2016,2018,2020,2022")
    cutoffs = tuple(_year(item, "--cutoffs") for item in items)
    if len(set(cutoffs)) != len(cutoffs):
        raise InputError(f"--cutoffs: years repeat in {text!r}")
    late = [c for c in cutoffs if c > last_year]
    if late:
        raise InputError(f"--cutoffs: {late[0]} is after the last year scored ({last_year}); "
                         "use cutoffs up to --last-year")
    early = [c for c in cutoffs if c <= first_year + 2]
    if early:
        raise InputError(f"--cutoffs: {early[0]} leaves too few runs to fit (the record starts in "
                         f"{first_year}); use cutoffs after {first_year + 2}")
    return tuple(sorted(cutoffs))


def main(args) -> int:
    import pandas as pd

    from forecast.evaluation.backtest import run_backtest
    from forecast.record.runs import load_record
    from outputs.write.backtest import backtest_text, write_backtest

    # Everything that can be refused is refused before any fit runs.
    formats = parse_formats(args.format)
    runs = load_record(args.record)
    last_year = _year(args.last_year, "--last-year")
    record_first = int(pd.to_datetime(runs["date"]).dt.year.min())
    record_last = int(pd.to_datetime(runs["date"]).dt.year.max())
    if last_year > record_last:
        raise InputError(f"--last-year: {last_year} lies beyond the record (last run in {record_last})")
    cutoffs = parse_cutoffs(args.cutoffs, last_year=last_year, first_year=record_first)
    target = check_target(args.out, force=args.force) if args.out else None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = run_backtest(runs, cutoffs=cutoffs, last_year=last_year, seed=args.seed,
                                  chains=args.chains, draws=args.draws, warmup=args.draws,
                                  samples=args.samples)
        except ValueError as err:
            raise InputError(f"backtest: {err}") from None
    problems = sorted({str(w.message) for w in caught if "Warning" in type(w.message).__name__
                       or isinstance(w.message, UserWarning)})

    target = target or new_folder_name("backtest")
    with staged_folder(target, force=args.force) as staging:
        write_backtest(result, staging, formats=formats)
    print(backtest_text(result, problems=problems))
    print_written(target)
    return 0
