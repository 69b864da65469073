"""The files of a backtest: backtest.csv, backtest.md, the fans against what happened
(backtest.<format>) and the calibration figure (backtest_calibration.<format>: PIT histogram
and reliability); and its tables for the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from forecast.evaluation.backtest import (
    METHOD_LABELS,
    PUBLISHED_GROWTH,
    BacktestResult,
    summarize_backtest,
)
from outputs.plots.axes import save_figure
from outputs.plots.backtest import backtest_figsize, plot_backtest, plot_pit, plot_reliability
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text

__all__ = ["backtest_markdown", "backtest_text", "pooled_table", "ranking_table", "summary_table",
           "write_backtest"]


def _labels(methods: pd.Series) -> pd.Series:
    """Method names as the README and the plots write them (``last value x fitted growth``)."""
    return methods.map(lambda m: METHOD_LABELS.get(m, m))


def _score_columns(s: pd.DataFrame) -> dict:
    return {
        "years": s["n"].astype(int),
        "CRPS": s["mean_crps"].round(3),
        "log score": s["mean_log_score"].round(2),
        "cover 50%": s["coverage50"].round(2),
        "cover 90%": s["coverage90"].round(2),
        "median |err| (OOM)": s["median_abs_error"].round(2),
        "mean err (OOM)": s["mean_error"].round(2),
    }


def summary_table(result: BacktestResult) -> pd.DataFrame:
    """method x cutoff: CRPS, 50%/90% coverage, median |error| and mean error (OOM)."""
    s = result.summary.reset_index()
    return pd.DataFrame({"method": _labels(s["method"]), "cutoff": s["cutoff"].astype(int), **_score_columns(s)})


def pooled_table(result: BacktestResult) -> pd.DataFrame:
    """The same scores per method, pooled over the cutoffs."""
    s = summarize_backtest(result.scores, by=("method",)).reset_index()
    return pd.DataFrame({"method": _labels(s["method"]), **_score_columns(s)})


def _ranking_name(result: BacktestResult, key: str) -> str:
    """``CRPS``, ``log score``, or for the rankings on the hindcast's cutoffs only
    ``CRPS, cutoffs 2020, 2022``."""
    name = "CRPS" if key.startswith("crps") else "log score"
    if key.endswith("_hindcast"):
        cutoffs = sorted(set(result.scores.loc[result.scores["method"] == "bottom_up", "cutoff"]))
        name += ", cutoff" + ("s " if len(cutoffs) > 1 else " ") + ", ".join(str(int(c)) for c in cutoffs)
    return name


def ranking_table(result: BacktestResult) -> pd.DataFrame:
    """The pooled ranking by CRPS and by log score, each mean with its 90% bootstrap
    interval and the paired difference to the best: over every cutoff for the methods
    scored at all of them, and over the hindcast's cutoffs for every method."""
    rows = []
    for score, ranked in result.ranking.items():
        name = _ranking_name(result, score)
        for method, r in ranked.iterrows():
            rows.append({
                "score": name,
                "method": METHOD_LABELS.get(method, method),
                "cases": int(r["n"]),
                "mean": round(float(r["mean"]), 3),
                "90% interval": f"{r['lo']:.3f} to {r['hi']:.3f}",
                "minus best": round(float(r["diff_to_best"]), 3),
                "90% interval of the difference": f"{r['diff_lo']:.3f} to {r['diff_hi']:.3f}",
                "P(best)": round(float(r["p_best"]), 2),
            })
    return pd.DataFrame(rows)


def _sources_table(result: BacktestResult) -> pd.DataFrame:
    d = result.diagnostics.reset_index()
    return pd.DataFrame({
        "cutoff": d["cutoff"].astype(int),
        "rows known": d["n_known"].astype(int),
        "records fitted": d["n_train"].astype(int),
        "slope prior (OOM/yr)": d["slope_prior"].round(2),
        "from": d["slope_source"],
    })


def _settings_line(result: BacktestResult) -> str:
    s = result.settings
    cutoffs = ", ".join(str(c) for c in s["cutoffs"])
    hindcast = ""
    if (result.scores["method"] == "bottom_up").any():
        hindcast = f"; bottom-up hindcasts of {s['samples']:,} worlds"
    return (f"Cutoffs {cutoffs}; scored to {s['last_year']}; NUTS {s['chains']} chain(s) x "
            f"{s['draws']} draws{hindcast}; seed {s['seed']}.")


def backtest_markdown(result: BacktestResult, *, plot_name: str | None,
                      calibration_name: str | None = None) -> str:
    """The text of backtest.md: settings, what each cutoff knew, the score tables, the
    pooled ranking, the trend fits' diagnostics and the figures."""
    diag = result.diagnostics.drop(columns=["slope_source", "slope_prior", "n_known"]).reset_index().round(3)
    sources = "\n".join(f"- {g.published.date()}: {g.source}" for g in PUBLISHED_GROWTH)
    lines = [
        "# Backtest of the trend model, two baselines and the bottom-up hindcast",
        "",
        f"{_settings_line(result)} Each cutoff sees the record as it was known on 31 December "
        "before it (rows public by then, with the values public then); forecasts are scored "
        "against the current record. CRPS in log10 FLOP (lower is better); log score is the "
        "log predictive density at the outcome (higher is better; none for a point forecast); "
        "coverage is the share of scored years inside the central interval; errors are forecast "
        "median minus realized, in orders of magnitude.",
        "",
        "## What each cutoff knew",
        "",
        to_markdown(_sources_table(result), index=False),
        "",
        "The trend's slope prior is the latest growth rate published before the cutoff:",
        "",
        sources,
        "",
        "## Pooled ranking, with bootstrap intervals",
        "",
        "Cases (cutoff, year) resampled with replacement, the same draw for every method. "
        "Years scored from several cutoffs are not independent, so the intervals are, if "
        "anything, too narrow. The bottom-up hindcast runs only at the cutoffs with a "
        "hindcast prior file; it is ranked with every other method on those cutoffs' cases.",
        "",
        to_markdown(ranking_table(result), index=False),
        "",
        "## By method and cutoff",
        "",
        to_markdown(summary_table(result), index=False),
        "",
        "## Pooled over cutoffs",
        "",
        to_markdown(pooled_table(result), index=False),
        "",
        "## Fit diagnostics (trend: NUTS; bottom-up hindcast: Pareto k and ESS of its "
        "importance weights)",
        "",
        to_markdown(diag, index=False),
        "",
    ]
    if plot_name:
        lines += ["## Forecast fans against the realized frontier", "", f"![backtest fans]({plot_name})", ""]
    if calibration_name:
        lines += ["## Calibration: PIT histogram and reliability", "",
                  f"![backtest calibration]({calibration_name})", ""]
    return "\n".join(lines)


def backtest_text(result: BacktestResult, *, problems=()) -> str:
    """The score tables, the pooled ranking and the fits' diagnostics, for the terminal."""
    d = result.diagnostics
    lines = [
        "Backtest: mean CRPS (log10 FLOP), log score, interval coverage, median error (OOM)", "",
        to_text(summary_table(result), index=False), "",
        "Pooled over cutoffs", "",
        to_text(pooled_table(result), index=False), "",
        "Pooled ranking (90% bootstrap intervals over the scored cases)", "",
        to_text(ranking_table(result), index=False), "",
        f"trend fits: max r_hat {float(d['max_rhat'].max()):.3f}, "
        f"min bulk ESS {float(d['min_ess_bulk'].min()):.0f}, divergences {int(d['divergences'].sum())}",
    ]
    if "hindcast_k" in d.columns:
        ran = d.dropna(subset=["hindcast_k"])
        lines.append("bottom-up hindcasts: " + "; ".join(
            f"{int(cutoff)}: Pareto k {r['hindcast_k']:.2f}, ESS {r['hindcast_ess']:.0f}" for cutoff, r in ran.iterrows()))
    lines += [f"warning: {problem}" for problem in problems]
    return "\n".join(lines)


def write_backtest(result: BacktestResult, folder: str | Path, *, formats=("png",)) -> list[Path]:
    """Write backtest.csv, the backtest figure and backtest.md into an existing folder."""
    folder = Path(folder)
    csv = folder / "backtest.csv"
    result.scores.to_csv(csv, index=False)
    cutoffs = result.settings["cutoffs"]
    with plot_style():
        # a grid of two columns, a row per two cutoffs, not a strip of them
        figure = Figure(figsize=backtest_figsize(len(cutoffs)), layout="constrained")
        plot_backtest(result, fig=figure)
        figure.suptitle("Backtest: forecast fans (median, 90% band) against the realized frontier")
        written = save_figure(figure, folder, "backtest", formats=formats)
        calibration = Figure(figsize=(8.0, 3.6), layout="constrained")
        pit_ax, reliability_ax = calibration.subplots(1, 2)
        plot_pit(result, ax=pit_ax)
        plot_reliability(result, ax=reliability_ax)
        calibration.suptitle("Backtest: how well calibrated each method was, pooled over cutoffs")
        written += save_figure(calibration, folder, "backtest_calibration", formats=formats)
    md = folder / "backtest.md"
    md.write_text(backtest_markdown(result, plot_name=f"backtest.{formats[0]}",
                                    calibration_name=f"backtest_calibration.{formats[0]}"),
                  encoding="utf-8")
    return [csv, *written, md]
