"""The files of a backtest: backtest.csv, backtest.md and the fans against what happened;
and its tables for the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from forecast.history.backtest import METHOD_LABELS, BacktestResult, summarize_backtest
from outputs.plots.backtest import backtest_axes, backtest_figsize, plot_backtest
from outputs.plots.forecast import save_figure
from outputs.style import plot_style
from outputs.tables import to_markdown, to_text

__all__ = ["backtest_markdown", "backtest_text", "pooled_table", "summary_table", "write_backtest"]


def _labels(methods: pd.Series) -> pd.Series:
    """Method names as the README and the plots write them (``last value x fitted growth``)."""
    return methods.map(lambda m: METHOD_LABELS.get(m, m))


def _score_columns(s: pd.DataFrame) -> dict:
    return {
        "years": s["n"].astype(int),
        "CRPS": s["mean_crps"].round(3),
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


def _settings_line(result: BacktestResult) -> str:
    s = result.settings
    cutoffs = ", ".join(str(c) for c in s["cutoffs"])
    return (f"Cutoffs {cutoffs}; scored to {s['last_year']}; NUTS {s['chains']} chain(s) x "
            f"{s['draws']} draws; seed {s['seed']}.")


def backtest_markdown(result: BacktestResult, *, plot_name: str | None) -> str:
    """The text of backtest.md: settings, the score tables, the trend fits' diagnostics."""
    diag = result.diagnostics.reset_index().round(3)
    lines = [
        "# Backtest of the trend model and two baselines",
        "",
        f"{_settings_line(result)} CRPS in log10 FLOP (lower is better); coverage is the share "
        "of scored years inside the central interval; errors are forecast median minus "
        "realized, in orders of magnitude.",
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


def backtest_text(result: BacktestResult, *, problems=()) -> str:
    """The score tables and the fits' diagnostics, for the terminal."""
    d = result.diagnostics
    lines = [
        "Backtest: mean CRPS (log10 FLOP), interval coverage, median error (OOM)", "",
        to_text(summary_table(result), index=False), "",
        "Pooled over cutoffs", "",
        to_text(pooled_table(result), index=False), "",
        f"trend fits: max r_hat {float(d['max_rhat'].max()):.3f}, "
        f"min bulk ESS {float(d['min_ess_bulk'].min()):.0f}, divergences {int(d['divergences'].sum())}",
    ]
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
        plot_backtest(result, ax=backtest_axes(figure, len(cutoffs)))
        figure.suptitle("Backtest: forecast fans (median, 90% band) against the realized frontier")
        written = save_figure(figure, folder, "backtest", formats=formats)
    md = folder / "backtest.md"
    md.write_text(backtest_markdown(result, plot_name=f"backtest.{formats[0]}"), encoding="utf-8")
    return [csv, *written, md]
