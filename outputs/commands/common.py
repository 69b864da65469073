"""Options shared by the subcommands that run or write a forecast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.cluster import SCHEDULER_ENV
from forecast.settings import DEFAULT_KEEP, DEFAULT_SAMPLES, DEFAULT_SEED, RunSettings, default_years_text, disk_needed
from priors import InputError, builtin_prior_files

if TYPE_CHECKING:  # the engine is imported where a forecast is run or read: --help needs no JAX
    from forecast.result import ForecastResult


def positive_int(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except (ValueError, OverflowError):  # OverflowError: 1e400 is inf
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def add_prior_options(group) -> None:
    """--priors, --set, --correlate and --repair-correlations: the prior set of a command."""
    group.add_argument("--priors", metavar="FILE", default=None,
                       help=f"prior file, or a built-in set: {', '.join(builtin_prior_files())} (default: default)")
    group.add_argument("--set", metavar="NAME=SPEC", action="append", default=[], dest="overrides",
                       help='override one prior, e.g. --set mfu=0.45 --set chip_growth="lognormal 1.5 to 3"')
    group.add_argument("--correlate", metavar="A,B=RANK", action="append", default=[],
                       help="rank-correlate two priors (Spearman, 0 removes a pair), "
                            "e.g. --correlate chip_growth,power_limit_growth=0.6 (repeatable)")
    group.add_argument("--labs", metavar="N", default=None,
                       help="N identical labs in place of the prior file's (their common priors; "
                            "1: one largest system, as in model v2)")
    group.add_argument("--lab-correlation", metavar="R", default=None,
                       help="rank correlation of a lab-scoped prior between two labs, in [0, 1) "
                            "(default: the prior file's)")
    group.add_argument("--repair-correlations", action="store_true",
                       help="replace correlations that cannot hold together by the nearest valid "
                            "ones, and print what changed (default: refuse them)")


def add_record_option(parser) -> None:
    """--record FILE: a user's CSV of runs merged over the shipped record."""
    parser.add_argument("--record", metavar="FILE", default=None,
                        help="CSV of runs merged over the shipped record (same columns; a row with "
                             "the same model name replaces the shipped one)")


def add_forecast_options(parser: argparse.ArgumentParser, *, prior_options: bool = True,
                         conditioning: bool = True, scale: bool = True, keep: bool = True,
                         thresholds: bool = True, samples: int = DEFAULT_SAMPLES,
                         samples_help: str = "number of Monte Carlo worlds") -> None:
    """The prior options (unless ``prior_options`` is False), --samples (default
    ``samples``), --seed, --years, --thresholds (unless ``thresholds`` is False), --record,
    (unless ``scale`` is False) --scheduler and (unless ``keep`` is also False) --keep, and
    (unless ``conditioning`` is False) --as-of."""
    group = parser.add_argument_group("forecast")
    if prior_options:
        add_prior_options(group)
    group.add_argument("--samples", type=positive_int, default=samples, metavar="N",
                       help=f"{samples_help} (default {samples:,})")
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    group.add_argument("--years", default=default_years_text(), metavar="START:END",
                       help=f"forecast years, inclusive (default {default_years_text()})")
    if thresholds:
        group.add_argument("--thresholds", default=None, metavar="T1,T2",
                           help="FLOP thresholds for the timeline (default 1e26,1e27,1e28,1e29,1e30)")
    add_record_option(group)
    if scale and keep:
        group.add_argument("--keep", default=str(DEFAULT_KEEP), metavar="N|all",
                           help=f"worlds to keep in samples.nc (default {DEFAULT_KEEP:,}; every summary "
                                "uses all --samples worlds, streamed)")
    if scale:
        group.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV) or None, metavar="ADDRESS",
                           help="run the chunks on a Dask distributed cluster, e.g. tcp://host:8786 "
                                f"(default: ${SCHEDULER_ENV}, else this machine); same numbers")
    if conditioning:
        group.add_argument("--as-of", default="record", metavar="DATE|YEAR|none",
                           help="condition the worlds on the record as published by DATE "
                                "(YYYY-MM-DD; a YEAR is its last day; default: the date the record "
                                "was last checked; none: the prior forecast)")


def forecast_settings(args: argparse.Namespace, **changes) -> RunSettings:
    """The settings of the command line, refused before any work where bad: each value, and
    an --as-of (with --years) that leaves no forecast year to condition on (the run would be
    called conditioned with weights that say nothing)."""
    settings = RunSettings.from_args(args, **changes)
    settings.conditioning()
    return settings


def result_from_settings(settings: RunSettings, *, on_summaries=None) -> ForecastResult:
    """The forecast of ``settings``, checked for non-finite numbers (``on_summaries``: as
    :func:`forecast.result.run_settings`)."""
    from forecast.result import run_settings
    from outputs.checks import check_finite

    return check_finite(run_settings(settings, progress=sys.stderr.isatty(), on_summaries=on_summaries))


def check_output(args: argparse.Namespace, settings: RunSettings, *, prefix: str) -> Path | None:
    """Refuse, before any work, an output folder that cannot take the run's files: the
    ``--out`` folder, or the current folder where the new folder would go (it must be
    writable and have room for samples.nc and the plots)."""
    from outputs.folder import FOLDER_MARGIN, check_target, new_folder_name

    need = disk_needed(settings.keep, n_years=len(settings.years), n_priors=40) + FOLDER_MARGIN
    if args.out:
        return check_target(args.out, force=args.force, need=need)
    check_target(new_folder_name(prefix), force=False, need=need)
    return None


def load_forecast(source, *, flag: str) -> ForecastResult:
    """:func:`forecast.load`, with a damaged file refused in one line naming it."""
    from forecast.result import load

    try:
        return load(source)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 -- h5py/netCDF raise anything on a damaged file
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{flag}{source}: cannot read this forecast file (damaged or not "
                         f"written by forecast run?): {reason}") from None


def add_output_options(parser: argparse.ArgumentParser, *, formats: str = "png",
                       plots_optional: bool = False) -> None:
    """--out, --force, --format (``plots_optional``: ``--format none`` draws no plot)."""
    group = parser.add_argument_group("output")
    group.add_argument("--out", metavar="DIR", default=None,
                       help="output folder (default: a new folder named after the run and time)")
    group.add_argument("--force", action="store_true", help="replace --out if it exists")
    group.add_argument("--format", default=formats, metavar="png,svg,pdf" + ("|none" if plots_optional else ""),
                       help=f"image formats of the plots (default {formats})"
                            + ("; none: no plots, only the samples and tables (quicker where a script "
                               "reads the numbers)" if plots_optional else ""))


def parse_formats(text: str, *, none: bool = False) -> tuple[str, ...]:
    """The image formats of ``--format``; with ``none`` (a command whose plots are optional),
    ``none`` gives no format: no plot is drawn."""
    if none and text.strip().lower() == "none":
        return ()
    formats = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise InputError(f"--format: unknown image format(s) {', '.join(bad) or '(none)'}; use png, svg, pdf"
                         + (", or none" if none else ""))
    return formats


def print_written(target) -> None:
    """``wrote TARGET/`` and the files in it, one per line."""
    print(f"\nwrote {target}/")
    for path in sorted(target.iterdir()):
        print(f"  {path.name}")
