"""How well would each way of forecasting have done? Backtests of the trend model and two
baselines on the shipped record of frontier training runs.

For each cutoff year the trend model is fitted (NUTS) on runs published before 1 January of
that year only, and forecasts the largest run of each year from the cutoff to --last-year;
the forecasts are scored against what happened: CRPS in log10 FLOP (lower is better), the
share of years inside the 50% and 90% intervals, and the median error in orders of
magnitude. Two baselines are scored in the same table: the last value grown 4x a year, and
a least-squares line.

The new folder holds backtest.csv (every method, cutoff and year), backtest.md (the summary
table and diagnostics) and backtest.<format> (forecast fans against the realized points).
"""

from __future__ import annotations

import argparse
import warnings

import pandas as pd
from matplotlib.figure import Figure

from outputs.backtest_plots import plot_backtest
from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.plots import save_figure
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text
from priors import InputError

from ..backtest import run_backtest, summarize_backtest
from ..history import load_runs
from .common import add_output_options, parse_formats, positive_int

HELP = "score the trend model and baselines on past cutoffs (CRPS, coverage, error)"

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
    group.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
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


def _score_columns(s: pd.DataFrame) -> dict:
    return {
        "years": s["n"].astype(int),
        "CRPS": s["mean_crps"].round(3),
        "cover 50%": s["coverage50"].round(2),
        "cover 90%": s["coverage90"].round(2),
        "median |err| (OOM)": s["median_abs_error"].round(2),
        "mean err (OOM)": s["mean_error"].round(2),
    }


def summary_table(result) -> pd.DataFrame:
    """method x cutoff: CRPS, 50%/90% coverage, median |error| and mean error (OOM)."""
    s = result.summary.reset_index()
    return pd.DataFrame({"method": s["method"], "cutoff": s["cutoff"].astype(int), **_score_columns(s)})


def pooled_table(result) -> pd.DataFrame:
    """The same scores per method, pooled over the cutoffs."""
    s = summarize_backtest(result.scores, by=("method",)).reset_index()
    return pd.DataFrame({"method": s["method"], **_score_columns(s)})


def backtest_markdown(result, *, args, plot_name: str | None) -> str:
    diag = result.diagnostics.reset_index().round(3)
    lines = [
        "# Backtest of the trend model and two baselines",
        "",
        f"Cutoffs {', '.join(str(c) for c in sorted(result.fans['cutoff'].unique()))}; "
        f"scored to {args.last_year}; NUTS {args.chains} chain(s) x {args.draws} draws; seed {args.seed}. "
        "CRPS in log10 FLOP (lower is better); coverage is the share of scored years inside "
        "the central interval; errors are forecast median minus realized, in orders of magnitude.",
        "",
        "## By method and cutoff",
        "",
        to_markdown(summary_table(result), index=False),
        "",
        "## Pooled over cutoffs",
        "",
        to_markdown(pooled_table(result), index=False),
        "",
        "## Trend fit diagnostics",
        "",
        to_markdown(diag, index=False),
        "",
    ]
    if plot_name:
        lines += ["## Forecast fans against the realized frontier", "", f"![backtest fans]({plot_name})", ""]
    return "\n".join(lines)


def main(args) -> int:
    # Everything that can be refused is refused before any fit runs.
    formats = parse_formats(args.format)
    runs = load_runs()
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
                                  chains=args.chains, draws=args.draws, warmup=args.draws)
        except ValueError as err:
            raise InputError(f"backtest: {err}") from None
    problems = sorted({str(w.message) for w in caught if "Warning" in type(w.message).__name__
                       or isinstance(w.message, UserWarning)})

    target = target or new_folder_name("backtest")
    with staged_folder(target, force=args.force) as staging:
        result.scores.to_csv(staging / "backtest.csv", index=False)
        with plot_style():
            figure = Figure(figsize=(3.2 * len(cutoffs) + 1.6, 3.8))
            axes = figure.subplots(1, len(cutoffs), sharey=True, squeeze=False)[0]
            plot_backtest(result, ax=axes)
            figure.suptitle("Backtest: forecast fans (median, 90% band) against the realized frontier")
            save_figure(figure, staging, "backtest", formats=formats)
        (staging / "backtest.md").write_text(
            backtest_markdown(result, args=args, plot_name=f"backtest.{formats[0]}"), encoding="utf-8")

    print("Backtest: mean CRPS (log10 FLOP), interval coverage, median error (OOM)\n")
    print(to_text(summary_table(result), index=False))
    print("\nPooled over cutoffs\n")
    print(to_text(pooled_table(result), index=False))
    d = result.diagnostics
    print(f"\ntrend fits: max r_hat {float(d['max_rhat'].max()):.3f}, "
          f"min bulk ESS {float(d['min_ess_bulk'].min()):.0f}, divergences {int(d['divergences'].sum())}")
    for problem in problems:
        print(f"warning: {problem}")
    print(f"\nwrote {target}/")
    for path in sorted(target.iterdir()):
        print(f"  {path.name}")
    return 0
