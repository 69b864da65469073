"""The files of a calibrated forecast: a run folder plus calibration.md/.csv, posterior.nc,
comparison.csv and the before/after plots; and its summary for the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from forecast.evaluation.calibrate import CalibratedForecast, Calibration
from forecast.record.published import load_published
from outputs.plots.axes import save_figure
from outputs.plots.compare import plot_compare_fan, plot_prior_posterior
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text
from outputs.write.comparison import percent_table, probability_table
from outputs.text import format_number
from outputs.write.run import write_run

__all__ = ["calibration_markdown", "calibration_text", "diagnostics_line", "write_calibration"]


#: Most panels of prior_posterior.png: five rows of three.
_MOST_PANELS = 15


def _sig(value: float) -> str:
    return format_number(value)


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
    """Each row of the record beside the posterior of the run it speaks to."""
    fitted = calibration.fitted()
    return pd.DataFrame({
        "run": fitted["model"].to_numpy(),
        "reads as": fitted["kind"].to_numpy(),
        "log10 FLOP": fitted["log10_compute"].round(2).to_numpy(),
        "fitted median": fitted["fitted_50%"].round(2).to_numpy(),
        "fitted 90%": [f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(fitted["fitted_5%"], fitted["fitted_95%"])],
    }, index=pd.Index([f"{lab or 'frontier'} {year}" for lab, year in zip(fitted["lab"], fitted["year"])],
                      name="lab-year"))


def diagnostics_line(calibration: Calibration) -> str:
    """``NUTS 4 chains x 1000 draws: max r_hat ...``, with UNRELIABLE and why when it is."""
    d = calibration.diagnostics
    sizes = calibration.idata.posterior.sizes
    line = (f"NUTS {sizes['chain']} chains x {sizes['draw']} draws: max r_hat {d.max_rhat:.3f}, "
            f"min bulk ESS {d.min_ess_bulk:.0f}, min tail ESS {d.min_ess_tail:.0f}, "
            f"divergences {d.divergences}")
    problems = calibration.problems()
    return line + (f"  -- UNRELIABLE: {'; '.join(problems)}" if problems else "")


def calibration_markdown(result: CalibratedForecast, *, image_format: str = "png") -> str:
    calibration = result.calibration
    return "\n".join([
        f"# {calibration.priors.name} calibrated on {calibration.conditioned_on}", "",
        diagnostics_line(calibration), "",
        "NUTS samples the likelihood `forecast run --as-of` weighs its worlds by (the same record, "
        "labs and date): the two should agree within their Monte Carlo errors.", "",
        "## The record against the fitted model", "",
        "Each row of the record (an estimate of its lab's largest run of the year, or a lower "
        "bound) beside the posterior of that run, log10 FLOP.", "",
        to_markdown(fitted_display(calibration)), "",
        *[f"- {note}" for note in calibration.notes], *([""] if calibration.notes else []),
        "## Prior against posterior", "",
        "Shift: posterior mean of the prior's standard-normal score (0 under the prior); sd "
        "ratio: its posterior sd (1 under the prior).", "",
        to_markdown(prior_posterior_display(calibration, moved_only=False)), "",
        f"![prior against posterior](prior_posterior.{image_format})", "",
        "## The forecast before and after", "",
        to_markdown(percent_table(result.comparison), index=False), "",
        f"![before and after](calibrated_fan.{image_format})", "",
    ])


def calibration_text(result: CalibratedForecast) -> str:
    calibration = result.calibration
    moved = prior_posterior_display(calibration, moved_only=True)
    return "\n".join([
        diagnostics_line(calibration), "",
        f"{calibration.conditioned_on.capitalize()} against the fitted model (log10 FLOP)", "",
        to_text(fitted_display(calibration)), "",
        "Priors the record moved", "",
        to_text(moved) if len(moved) else "(none: the record is as the priors expect)", "",
        "P(a run >= threshold by year), before and after", "",
        to_text(percent_table(result.comparison), index=False),
    ])


def _plots(result: CalibratedForecast, folder: Path, formats) -> list[Path]:
    calibration = result.calibration
    observed = calibration.fitted_frontier()["log10_compute"].dropna().to_dict()
    with plot_style():
        figure = Figure()
        plot_compare_fan(result.comparison, ax=figure.add_subplot(), observed=observed, history=calibration,
                         published=load_published())
        written = save_figure(figure, folder, "calibrated_fan", formats=formats)
        moved = calibration.moved
        if moved:
            candidates = list(moved)
        else:  # none moved past the thresholds: those that moved most
            table = calibration.prior_posterior()
            candidates = list((table["shift"].abs() + (1 - table["sd_ratio"])).sort_values(ascending=False).index)
        names = candidates[:_MOST_PANELS]  # a figure of at most 2400 px
        columns, rows = min(3, len(names)), -(-len(names) // 3)
        figure = Figure(figsize=(2.3 * columns, 1.9 * rows + 0.5), layout="constrained")
        plot_prior_posterior(calibration, names=names, fig=figure)
        shown = f" (the {len(names)} it moved most, of {len(candidates)})" if len(names) < len(candidates) else ""
        figure.suptitle(f"What the record says: prior against posterior{shown}")
        written += save_figure(figure, folder, "prior_posterior", formats=formats)
    return written


def write_calibration(result: CalibratedForecast, folder: str | Path, *, formats=("png",)) -> list[Path]:
    """The calibrated run's folder (as ``forecast run`` writes it) plus the calibration's files."""
    folder = Path(folder)
    written = write_run(result.after, folder, formats=formats)
    files = {name: folder / name for name in ("posterior.nc", "calibration.csv", "comparison.csv", "calibration.md")}
    result.calibration.idata.to_netcdf(str(files["posterior.nc"]), engine="h5netcdf")
    result.calibration.prior_posterior().to_csv(files["calibration.csv"], float_format="%.6g")
    probability_table(result.comparison).to_csv(files["comparison.csv"], float_format="%.6g")
    files["calibration.md"].write_text(calibration_markdown(result, image_format=formats[0]), encoding="utf-8")
    return written + list(files.values()) + _plots(result, folder, formats)
