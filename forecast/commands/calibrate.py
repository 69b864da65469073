"""Calibrate the bottom-up model on history, then forecast from the posterior.

The largest run known at the end of each year from --since to the base year (2024) is
observed through the model run backwards (supply-driven compute; the caps of the coming
build-out did not bind the past), with a Student-t error. NUTS samples the posterior of
every uncertain prior's score; the record informs the priors that shape past compute and
leaves the others as they were. The posterior worlds then go through the same model as
'forecast run': one world per posterior draw (--chains x --draws); --samples sets the
worlds of the uncalibrated forecast it is compared with.

The new folder is a run folder of the calibrated forecast (samples.nc, tables, plots: so
'forecast plot' and 'forecast report --from' read it) plus calibration.md and
calibration.csv (prior against posterior of every prior, the fit to each observed year,
NUTS diagnostics), posterior.nc (the NUTS fit as ArviZ InferenceData), prior_posterior and
calibrated_fan plots (the forecast before and after calibration), and comparison.csv.
"""

from __future__ import annotations

import shlex
import warnings
from dataclasses import replace

import pandas as pd
from matplotlib.figure import Figure

from outputs import write_run
from outputs.compare_plots import plot_compare_fan, plot_fitted_history, plot_prior_posterior
from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.plots import save_figure
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text
from priors import load_prior_set

from ..api import run
from ..calibrate import DEFAULT_SINCE, Calibration, CalibrationWarning, calibrate
from ..compare import compare as compare_forecasts
from ..compare import probability_table
from ..report import HEADLINE_YEARS
from .common import (
    add_forecast_options,
    add_output_options,
    check_forecast_options,
    parse_formats,
    positive_int,
)
from .compare import percent_table

HELP = "condition the bottom-up priors on the record of frontier runs (NUTS) and forecast again"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("calibration")
    group.add_argument("--since", type=int, default=DEFAULT_SINCE, metavar="YEAR",
                       help=f"first year of the record observed (default {DEFAULT_SINCE}); the last is 2024")
    group.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                       help="NUTS draws (and warmup iterations) per chain (default 1000)")
    group.add_argument("--chains", type=positive_int, default=4, metavar="N", help="NUTS chains (default 4)")
    add_forecast_options(parser)
    add_output_options(parser)


def _sig(value: float) -> str:
    return f"{value:.3g}"


def prior_posterior_display(calibration: Calibration, *, moved_only: bool) -> pd.DataFrame:
    """Prior and posterior 90% intervals (median in the middle), as text cells."""
    table = calibration.prior_posterior()
    if moved_only:
        table = table.loc[list(calibration.moved)]

    def interval(row, which):
        return f"{_sig(row[f'{which}_50%'])} ({_sig(row[f'{which}_5%'])} to {_sig(row[f'{which}_95%'])})"

    return pd.DataFrame({
        "unit": table["unit"],
        "prior: median (90%)": [interval(r, "prior") for _, r in table.iterrows()],
        "posterior: median (90%)": [interval(r, "posterior") for _, r in table.iterrows()],
        "shift (sd)": table["shift"].round(2),
        "sd ratio": table["sd_ratio"].round(2),
        "moved": ["yes" if m else "" for m in table["moved"]],
    }, index=table.index)


def fitted_display(calibration: Calibration) -> pd.DataFrame:
    fitted = calibration.fitted()
    return pd.DataFrame({
        "largest run known": fitted["model"],
        "log10 FLOP": fitted["log10_compute"].round(2),
        "fitted median": fitted["fitted_50%"].round(2),
        "fitted 90%": [f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(fitted["fitted_5%"], fitted["fitted_95%"])],
    }, index=fitted.index)


def diagnostics_line(calibration: Calibration, *, chains: int, draws: int) -> str:
    d = calibration.diagnostics
    line = (f"NUTS {chains} chains x {draws} draws: max r_hat {d.max_rhat:.3f}, min bulk ESS "
            f"{d.min_ess_bulk:.0f}, min tail ESS {d.min_ess_tail:.0f}, divergences {d.divergences}")
    problems = calibration.problems()
    return line + (f"  -- UNRELIABLE: {'; '.join(problems)}" if problems else "")


def calibration_markdown(calibration: Calibration, comparison, *, args, image: str) -> str:
    headline = [y for y in HEADLINE_YEARS if y in comparison["year"].values]
    return "\n".join([
        f"# {calibration.priors.name} calibrated on the record, {calibration.years_observed}", "",
        diagnostics_line(calibration, chains=args.chains, draws=args.draws), "",
        "## The record against the fitted model", "",
        to_markdown(fitted_display(calibration)), "",
        "## Prior against posterior", "",
        "Shift: posterior mean of the prior's standard-normal score (0 under the prior); sd "
        "ratio: its posterior sd (1 under the prior).", "",
        to_markdown(prior_posterior_display(calibration, moved_only=False)), "",
        f"![prior against posterior](prior_posterior.{image})", "",
        "## The forecast before and after", "",
        to_markdown(percent_table(comparison, headline), index=False), "",
        f"![before and after](calibrated_fan.{image})", "",
    ])


def reproduce_command(args) -> str:
    """The command line that draws the same calibrated worlds again."""
    parts = ["forecast", "calibrate"]
    if args.priors:
        parts += ["--priors", str(args.priors)]
    for override in args.overrides:
        parts += ["--set", override]
    parts += ["--since", str(args.since), "--chains", str(args.chains), "--draws", str(args.draws),
              "--seed", str(args.seed), "--years", args.years]
    if args.thresholds:
        parts += ["--thresholds", args.thresholds]
    return shlex.join(parts)


def main(args) -> int:
    formats = parse_formats(args.format)
    check_forecast_options(args)
    target = check_target(args.out, force=args.force) if args.out else None
    prior_set = load_prior_set(args.priors, overrides=args.overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)  # diagnostics_line says it, once
        calibration = calibrate(prior_set, since=args.since, chains=args.chains, draws=args.draws,
                                warmup=args.draws, seed=args.seed)
    after = calibration.forecast(years=args.years, thresholds=args.thresholds, seed=args.seed)
    after = replace(after, metadata={**after.metadata, "command": reproduce_command(args)})
    before = run(prior_set, samples=args.samples, seed=args.seed, years=args.years,
                 thresholds=args.thresholds, label=f"{prior_set.name} (prior)")
    comparison = compare_forecasts([before, after])
    observed = calibration.observed["log10_compute"].to_dict()

    target = target or new_folder_name(f"calibrated-{prior_set.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_run(after, staging, formats=formats)
        calibration.idata.to_netcdf(str(staging / "posterior.nc"), engine="h5netcdf")
        calibration.prior_posterior().to_csv(staging / "calibration.csv", float_format="%.6g")
        probability_table(comparison).to_csv(staging / "comparison.csv", float_format="%.6g")
        (staging / "calibration.md").write_text(
            calibration_markdown(calibration, comparison, args=args, image=formats[0]), encoding="utf-8")
        with plot_style():
            figure = Figure()
            ax = plot_compare_fan(comparison, ax=figure.add_subplot(), observed=observed)
            plot_fitted_history(calibration, ax=ax)
            save_figure(figure, staging, "calibrated_fan", formats=formats)
            names = calibration.moved or calibration.priors.latent_names
            columns, rows = min(3, len(names)), -(-len(names) // 3)
            figure = Figure(figsize=(2.3 * columns, 1.9 * rows + 0.3))
            plot_prior_posterior(calibration, names=names, axes=figure.subplots(rows, columns, squeeze=False))
            figure.suptitle("What the record says: prior against posterior")
            save_figure(figure, staging, "prior_posterior", formats=formats)

    print(diagnostics_line(calibration, chains=args.chains, draws=args.draws))
    print(f"\nThe record {calibration.years_observed} against the fitted model (log10 FLOP)\n")
    print(to_text(fitted_display(calibration)))
    print("\nPriors the record moved\n")
    moved = prior_posterior_display(calibration, moved_only=True)
    print(to_text(moved) if len(moved) else "(none: the record is as the priors expect)")
    print("\nP(a run >= threshold by year), before and after\n")
    headline = [y for y in HEADLINE_YEARS if y in comparison["year"].values]
    print(to_text(percent_table(comparison, headline), index=False))
    print(f"\nwrote {target}/")
    for path in sorted(target.iterdir()):
        print(f"  {path.name}")
    return 0
