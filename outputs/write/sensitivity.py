"""The files of a sensitivity analysis: sensitivity.md, the CSV tables, sensitivity.nc, plots;
and its short summary for the terminal."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecast.sensitivity.analysis import SensitivityResult
from forecast.sensitivity.worlds import OUTPUTS
from outputs.plots.axes import save_figure
from outputs.plots.sensitivity import (
    plot_sensitivity_by_year,
    plot_sobol,
    plot_tornado,
)
from outputs.style import plot_style
from outputs.tables import to_markdown
from outputs.text import flop_label
from priors import PriorSet

__all__ = ["sensitivity_markdown", "sensitivity_text", "write_sensitivity"]

_SHORT = {"log10_compute": "log10 C", "crossing_year": "crossing year", "reached": "reached"}

def markdown_table(frame: pd.DataFrame, *, floatfmt: str = ".3f", index: bool = True) -> str:
    """A Markdown table, numbers written with ``floatfmt`` (large ones in 3 significant digits)."""
    frame = frame.reset_index() if index else frame

    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            if not math.isfinite(value):
                return ""
            return format(value, floatfmt) if abs(value) < 1e6 else flop_label(value, 3)
        return str(value)

    return to_markdown(frame.map(cell), index=False)


def _sobol_summary(result: SensitivityResult) -> pd.DataFrame:
    """S1 and ST of every output, with intervals as 'value [low, high]' text."""
    full = result.sobol_table()
    out = pd.DataFrame({"spec": full["spec"]}, index=full.index)
    for output in OUTPUTS:
        for index in ("S1", "ST"):
            v, lo, hi = (full[f"{output} {index}{s}"] for s in ("", " lower", " upper"))
            out[f"{_SHORT[output]} {index}"] = [f"{a:.3f} [{b:.2f}, {c:.2f}]" for a, b, c in zip(v, lo, hi)]
    return out


def _interaction_lines(result: SensitivityResult) -> list[str]:
    lines = []
    sobol = result.sobol
    for output in OUTPUTS:
        part = sobol.sel(output=output)
        lo, hi = part["sum_S1_ci"].values
        note = " (constant: every world agrees, indices set to 0)" if bool(part["zero_variance"]) else ""
        lines.append(
            f"{_SHORT[output]}: sum of first-order indices {float(part['sum_S1']):.3f} "
            f"[{lo:.2f}, {hi:.2f}], so interactions carry {1 - float(part['sum_S1']):.3f} of the variance{note}"
        )
    return lines


def _pairs_text(priors: PriorSet, members) -> str:
    """The rank correlations among ``members``, as ``a ~ b 0.6``."""
    members = set(members)
    pairs = [c for c in priors.correlations if c.first in members and c.second in members]
    return ", ".join(f"{c.first} ~ {c.second} {c.rank:+g}" for c in pairs)


def _group_lines(result: SensitivityResult) -> list[str]:
    """Why and how correlated priors are grouped, and each group's correlations (empty for
    a result without groups)."""
    groups = {label: members for label, members in result.groups.items() if len(members) > 1}
    if not groups:
        return []
    lines = [
        ("**Correlated priors are attributed as a group.** Sobol' indices of single priors "
         "assume independent priors; with rank-correlated priors a prior's index would mix its "
         "own effect with its partners'. Each block of correlated priors is therefore one group, "
         "sampled jointly, with one first- and one total-order index (Jacques et al. 2006); the "
         "priors of different groups, and the independent priors, are independent, so these "
         "indices are exact. Groups (Spearman rank correlations):"),
        "",
    ]
    lines += [f"- {label}: {_pairs_text(result.priors, members)}" for label, members in groups.items()]
    return [*lines, ""]


def _conditional_pins(result: SensitivityResult) -> bool:
    ds = result.tornado
    return ds is not None and "moves_with" in ds.coords and bool(any(ds["moves_with"].values))


def _notes(result: SensitivityResult) -> list[str]:
    s = result.settings
    never = float(result.sobol.attrs["never_crossed"])
    last = int(result.sobol.attrs["never_crossed_year"])
    sizes = [len(m) for m in result.groups.values()]
    n_groups = sum(size > 1 for size in sizes)
    inputs = (f"{sum(sizes)} uncertain priors as {len(sizes)} inputs: {n_groups} group(s) of "
              f"correlated priors sampled jointly and {len(sizes) - n_groups} independent priors"
              if result.grouped else f"{len(sizes)} uncertain priors")
    notes = [
        (f"Worlds that never reach {flop_label(result.threshold)} FLOP by {last - 1} "
         f"({never:.1%} of the design) are given the crossing year {last}, one past the last year."),
        (f"Sobol': Saltelli design of {result.sobol.attrs['n_evaluations']:,} worlds "
         f"(n_base {s['n_base']}, {inputs}), scrambled Sobol' points, "
         f"first order by Saltelli (2010), total order by Jansen (1999), "
         f"{result.sobol.attrs['confidence']:.0%} bootstrap percentile intervals ({s['n_bootstrap']} resamples)."),
    ]
    if result.tornado is not None or result.swaps is not None:
        shared = ("the same correlated scores for every prior that is not pinned, conditioned or swapped"
                  if result.priors.correlations else
                  "the same scores for every prior that is not pinned or swapped")
        notes.append(
            f"Tornado and swaps: {s['samples']:,} worlds each, {shared} (common random numbers), "
            f"seed {s['seed']}."
        )
    if s.get("as_of") is not None and (result.tornado is not None or result.swaps is not None):
        pinned = [t for t in (result.tornado, result.swaps) if t is not None]
        worst = max(float(t.attrs.get("pareto_k_max", float("nan"))) for t in pinned)
        notes.append(
            f"The tornado and the swaps weigh their worlds by the record of runs known to {s['as_of']} "
            f"(Pareto-smoothed importance weights, as forecast run conditions a forecast; largest "
            f"Pareto k {worst:.2f}); the Sobol' indices are those of the prior forecast."
        )
    if result.swaps is not None and result.priors.correlations:
        notes.append(
            "A swap that pins a correlated prior to a value drops its rank correlations; its "
            "partners keep their values world by world."
        )
    return notes


def _tornado_display(result: SensitivityResult) -> pd.DataFrame:
    """The tornado table with prior values in 4 significant digits (they span 1e-2..1e14)."""
    table = result.tornado_table()
    for column in ("low value", "high value"):
        table[column] = [f"{v:.4g}" for v in table[column]]
    return table


def _swap_wide(result: SensitivityResult, variable: str) -> pd.DataFrame:
    ds = result.swaps
    frame = ds[variable].to_pandas()
    base = ds[f"base_{variable}"].to_pandas().rename("base")
    delta = ds[f"delta_{variable}"].to_pandas()
    rows = {"base": base}
    for swap in frame.index:
        rows[swap] = frame.loc[swap]
        rows[f"  change ({swap})"] = delta.loc[swap]
    return pd.DataFrame(rows).T.rename_axis("priors")


def sensitivity_markdown(result: SensitivityResult, *, images: dict[str, str] | None = None) -> str:
    """The ``sensitivity.md`` report: settings, tables, notes and the plots."""
    images = images or {}
    s = result.settings
    year, thr = result.target_year, result.threshold
    parts = [
        f"# Sensitivity of the forecast to its priors: {result.priors.name}",
        "",
        (f"Target year {year}, threshold {flop_label(thr)} FLOP, years {s['years'][0]}..{s['years'][-1]}, "
         f"seed {s['seed']}. Prior file: `{result.priors.source}`."),
        "",
        "## Global (Sobol') indices",
        "",
        (f"Outputs: **log10 C** = log10 training compute in {year}; **crossing year** = year of the "
         f"first run >= {flop_label(thr)} FLOP; **reached** = 1 if such a run happened by {year}. "
         "S1: first order (the share of variance a prior explains alone); ST: total order (alone "
         "and through interactions). Most influential on log10 C first."),
        "",
        *_group_lines(result),
        markdown_table(_sobol_summary(result)),
        "",
        *[f"- {line}" for line in _interaction_lines(result)],
        "",
    ]
    for key in ("sobol_log10_compute", "sobol_crossing_year", "sobol_reached"):
        if key in images:
            parts += [f"![{key}]({images[key]})", ""]
    parts += [
        "## Total-order index on log10 compute, by year",
        "",
        markdown_table(result.by_year_table(), floatfmt=".2f"),
        "",
    ]
    if "sensitivity_by_year" in images:
        parts += [f"![by year]({images['sensitivity_by_year']})", ""]
    if result.tornado is not None:
        q = result.tornado["quantile"].values
        conditional = (
            " Pinning a correlated prior moves its partners as the copula implies (conditional), "
            "so its bar includes theirs (the column *moves with* names them)."
            if _conditional_pins(result) else ""
        )
        parts += [
            "## One prior at a time (tornado)",
            "",
            (f"Each prior pinned at its {q[0]:.0%} and {q[1]:.0%} percentile, the others random. "
             f"Unpinned: median log10 C in {year} = {float(result.tornado['base_median']):.3f}, "
             f"P(>= {flop_label(thr)} by {year}) = {float(result.tornado['base_probability']):.3f}. "
             f"Widest first.{conditional}"),
            "",
            markdown_table(_tornado_display(result), floatfmt=".3f"),
            "",
        ]
        for key in ("tornado_median", "tornado_probability"):
            if key in images:
                parts += [f"![{key}]({images[key]})", ""]
    if result.swaps is not None:
        parts += ["## Prior swaps", ""]
        for label, changed in zip(result.swaps["swap"].values, result.swaps["changed"].values):
            parts.append(f"- `{label}`: {changed}")
        parts += [
            "",
            "Median log10 training compute by year:",
            "",
            markdown_table(_swap_wide(result, "median")),
            "",
            f"P(run >= {flop_label(thr)} FLOP by year):",
            "",
            markdown_table(_swap_wide(result, "probability")),
            "",
        ]
    parts += ["## Notes", "", *[f"- {n}" for n in _notes(result)], ""]
    return "\n".join(parts)


def sensitivity_text(result: SensitivityResult, *, top: int = 10) -> str:
    """A short plain-text summary for the terminal."""
    year, thr = result.target_year, result.threshold
    sobol = result.sobol_table().head(top)
    cols = {f"{_SHORT[o]} {i}": sobol[f"{o} {i}"] for o in OUTPUTS for i in ("S1", "ST")}
    groups = result.groups
    short = {label: f"{members[0]} + {len(members) - 1} correlated" for label, members in groups.items()
             if len(members) > 2}
    lines = [
        f"Sensitivity of {result.priors.name}: target year {year}, threshold {flop_label(thr)} FLOP",
        "",
        f"Sobol' indices (top {min(top, len(result.sobol_table()))} by ST on log10 C in {year}):",
        pd.DataFrame(cols).rename(index=short).to_string(float_format=lambda v: f"{v:6.3f}"),
        "",
        *_interaction_lines(result),
    ]
    if result.grouped:
        lines += ["Correlated priors are attributed as a group (one joint index per correlation block): "
                  + "; ".join(label for label, members in groups.items() if len(members) > 1) + "."]
    if result.tornado is not None:
        table = result.tornado_table().head(top)
        lines += [
            "",
            (f"Tornado (5th..95th percentile pins; unpinned median {float(result.tornado['base_median']):.2f}, "
             f"P {float(result.tornado['base_probability']):.3f}):"),
            table[["median at low", "median at high", "P at low", "P at high"]].to_string(
                float_format=lambda v: f"{v:7.3f}"
            ),
        ]
        if _conditional_pins(result):
            lines.append("Pinning a correlated prior moves its partners as the copula implies "
                         "(conditional), so its bar includes theirs.")
    if result.swaps is not None:
        at = result.swaps.sel(year=year)
        lines += ["", f"Swaps, in {year}:"]
        for swap in at["swap"].values:
            row = at.sel(swap=swap)
            lines.append(
                f"  {swap}: median {float(row['base_median']):.2f} -> {float(row['median']):.2f} "
                f"({float(row['delta_median']):+.2f}), P {float(row['base_probability']):.3f} -> "
                f"{float(row['probability']):.3f} ({float(row['delta_probability']):+.3f})"
            )
    lines += ["", *_notes(result)[:1]]
    return "\n".join(lines)




def write_sensitivity(result: SensitivityResult, folder: Path | str, *, formats=("png",)) -> list[Path]:
    """Write tables, data, plots and ``sensitivity.md`` into ``folder`` (which must exist)."""
    folder = Path(folder)
    written = []

    def save_csv(frame: pd.DataFrame, name: str, index: bool = True):
        path = folder / name
        frame.to_csv(path, index=index, float_format="%.6g")
        written.append(path)

    save_csv(result.sobol_table(), "sobol.csv")
    save_csv(result.by_year_table(), "sobol_by_year.csv")
    if result.tornado is not None:
        save_csv(result.tornado_table(), "tornado.csv")
    if result.swaps is not None:
        save_csv(result.swap_table(), "swaps.csv", index=False)

    nc = folder / "sensitivity.nc"
    groups = {"sobol": result.sobol, "by_year": result.by_year, "tornado": result.tornado,
              "swaps": result.swaps}
    mode = "w"
    for group, ds in groups.items():
        if ds is not None:
            ds.to_netcdf(nc, group=group, mode=mode, engine="h5netcdf")
            mode = "a"
    written.append(nc)

    images: dict[str, str] = {}
    drawings = {f"sobol_{o}": (plot_sobol, {"output": o, "top": 24}) for o in OUTPUTS}  # figures to paste
    drawings["sensitivity_by_year"] = (plot_sensitivity_by_year, {"top": 24})  # a figure to paste
    if result.tornado is not None:
        drawings["tornado_median"] = (plot_tornado, {"metric": "median"})
        drawings["tornado_probability"] = (plot_tornado, {"metric": "probability"})
    with plot_style():
        for name, (plot, kwargs) in drawings.items():
            ax = plot(result, **kwargs)
            fig = ax.figure
            if fig.get_layout_engine() is None:  # the project style lays out by itself
                fig.tight_layout()
            written += save_figure(fig, folder, name, formats=formats)
            images[name] = f"{name}.{formats[0]}"
            plt.close(fig)

    report = folder / "sensitivity.md"
    report.write_text(sensitivity_markdown(result, images=images), encoding="utf-8")
    written.append(report)
    return written
