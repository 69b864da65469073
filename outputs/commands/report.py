"""Write a self-contained report folder: every plot, table and number, with its provenance.

Runs a forecast (the same options as 'forecast run') or reads one (--from RUN). The new
folder holds report.md and report.html (images inline: opens in a browser as one file), the
plots in PNG and SVG (PDF with --format pdf), headline.csv and the per-year tables,
samples.nc (every number in the report is computed from it) and metadata.json (settings,
prior file and SHA-256, versions, git commit: enough to draw the same worlds again).

Sections for sensitivity and backtest results are added when the run folder holds
sensitivity.md or backtest.md, or with --include FILE_OR_FOLDER.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from forecast.settings import DEFAULT_SAMPLES, DEFAULT_SEED, default_years_text
from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    check_output,
    forecast_settings,
    load_forecast,
    parse_formats,
    result_from_settings,
)
from outputs.commands.plot import check_not_source
from outputs.folder import check_target, new_folder_name, staged_folder
from priors import InputError


def add_arguments(parser) -> None:
    group = parser.add_argument_group("report")
    group.add_argument("--from", dest="from_run", metavar="RUN", default=None,
                       help="report on a saved forecast (run folder or samples.nc) instead of running one")
    group.add_argument("--include", metavar="PATH", action="append", default=[],
                       help="add a Markdown file as a section, or a folder's sensitivity.md / "
                            "backtest.md (repeatable)")
    add_forecast_options(parser)
    add_output_options(parser, formats="png,svg")


def _check_from(args) -> None:
    """With --from the worlds are given: only --thresholds may still change (it is cheap)."""
    given = [name for name, is_set in (
        ("--priors", args.priors is not None), ("--set", bool(args.overrides)),
        ("--correlate", bool(args.correlate)),
        ("--samples", args.samples != DEFAULT_SAMPLES), ("--seed", args.seed != DEFAULT_SEED),
        ("--years", args.years != default_years_text()),
        ("--as-of", args.as_of != "record"), ("--record", args.record is not None),
    ) if is_set]
    if given:
        raise InputError(f"--from reads a saved forecast; {', '.join(given)} cannot change it "
                         "(run without --from for new settings)")


def _include(paths) -> list:
    for path in paths:
        if not Path(path).exists():
            raise InputError(f"--include: {path}: no such file or folder")
    return [Path(p) for p in paths]


def main(args) -> int:
    from outputs.provenance import run_metadata
    from outputs.text import headline_sentences
    from outputs.write.report import check_same_priors, find_sections, write_report

    formats = parse_formats(args.format)
    settings = forecast_settings(args)
    sections = _include(args.include)
    if args.from_run:
        target = check_target(args.out, force=args.force) if args.out else None
        _check_from(args)
        source = Path(args.from_run)
        if target is not None:
            check_not_source(target, source)
        result = load_forecast(source, flag="--from: ")
        check_same_priors([source if source.is_dir() else source.parent], result.priors, label="source_run")
        check_same_priors(sections, result.priors)
        if args.thresholds is not None:
            result = replace(result, thresholds=settings.thresholds)
        sections = find_sections(source) + sections
        metadata = run_metadata(result, source_run=source)
    else:
        # refused before the forecast is run: the priors are known from the options
        check_same_priors(sections, settings.prior_set())
        target = check_output(args, settings, prefix="report")
        result = result_from_settings(settings)
        metadata = run_metadata(result, overrides=settings.overrides)
    target = target or new_folder_name(f"report-{result.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_report(result, staging, formats=formats, sections=sections, metadata=metadata)
    print("\n".join(headline_sentences(result)))
    print(f"\nwrote {target}/ (open report.html in a browser)")
    return 0
