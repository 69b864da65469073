"""Which assumption decides the forecast: Sobol' indices, a tornado and prior swaps.

Global: first- and total-order Sobol' indices of every uncertain prior on three outputs
(log10 training compute in the target year, the year of the first run at or above the
threshold, and whether such a run happened by the target year), from one vectorized model
evaluation of a Saltelli design with (k + 2) * N worlds; and the total-order index of each
prior on log10 compute in every forecast year. One at a time: each prior pinned at its 5th
and 95th percentile, the others random with the same seed. Swaps: --swap NAME=SPEC and
--swap-file FILE report how every headline number changes.

The new folder holds sensitivity.md (the report), sobol.csv, sobol_by_year.csv, tornado.csv,
swaps.csv (with --swap), sensitivity.nc (every table as labelled data) and the plots.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from outputs.folder import check_target, new_folder_name, staged_folder
from outputs.plots import save_figure

from ..sensitivity import (
    DEFAULT_N_BASE,
    DEFAULT_SWAP_SAMPLES,
    DEFAULT_TARGET_YEAR,
    DEFAULT_THRESHOLD,
    OUTPUTS,
    SensitivityResult,
    check_n_base,
    check_target_year,
    parse_threshold,
    sensitivity,
)
from ..settings import DEFAULT_SEED, parse_years
from .common import add_output_options, parse_formats, positive_int

HELP = "which prior decides the forecast: Sobol' indices, tornado, prior swaps"

_SHORT = {"log10_compute": "log10 C", "crossing_year": "crossing year", "reached": "reached"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("priors")
    group.add_argument("--priors", metavar="FILE", default=None,
                       help="prior file, or a built-in set: default, moe, no_fp8, power_wall, "
                            "fast_buildout, data_wall (default: default)")
    group.add_argument("--set", metavar="NAME=SPEC", action="append", default=[], dest="overrides",
                       help="override one prior before the analysis, e.g. --set mfu=0.45")
    group = parser.add_argument_group("sensitivity")
    group.add_argument("--years", default="2025:2035", metavar="START:END",
                       help="forecast years, inclusive (default 2025:2035)")
    group.add_argument("--target-year", default=str(DEFAULT_TARGET_YEAR), metavar="YEAR",
                       help=f"year of the headline outputs (default {DEFAULT_TARGET_YEAR})")
    group.add_argument("--threshold", default=f"{DEFAULT_THRESHOLD:g}", metavar="FLOP",
                       help=f"FLOP threshold of the crossing year and 'reached' (default {DEFAULT_THRESHOLD:g})")
    group.add_argument("--n-base", type=positive_int, default=DEFAULT_N_BASE, metavar="N",
                       help=f"base rows of the Saltelli design, a power of two (default {DEFAULT_N_BASE}); "
                            "the model runs (k + 2) * N worlds")
    group.add_argument("--samples", type=positive_int, default=DEFAULT_SWAP_SAMPLES, metavar="N",
                       help=f"worlds per tornado bar end and per swap (default {DEFAULT_SWAP_SAMPLES:,})")
    group.add_argument("--bootstrap", type=positive_int, default=500, metavar="R",
                       help="bootstrap resamples of the Sobol' intervals (default 500)")
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    group.add_argument("--swap", metavar="NAME=SPEC", action="append", default=[],
                       help='compare with one prior replaced, e.g. --swap max_epochs="lognormal 1 to 5" (repeatable)')
    group.add_argument("--swap-file", metavar="FILE", action="append", default=[],
                       help="compare with every prior a file defines swapped in (a file or a built-in "
                            "scenario such as power_wall; repeatable)")
    group.add_argument("--no-tornado", dest="tornado", action="store_false",
                       help="skip the one-at-a-time runs")
    add_output_options(parser)


def main(args) -> int:
    # Everything that can be refused is refused before any model runs.
    formats = parse_formats(args.format)
    years = parse_years(args.years)
    target_year = check_target_year(args.target_year, years)
    threshold = parse_threshold(args.threshold)
    check_n_base(args.n_base)
    target = check_target(args.out, force=args.force) if args.out else None

    result = sensitivity(
        args.priors, overrides=args.overrides, years=years, target_year=target_year,
        threshold=threshold, n_base=args.n_base, samples=args.samples, seed=args.seed,
        swaps=args.swap, swap_files=args.swap_file, n_bootstrap=args.bootstrap,
        with_tornado=args.tornado,
    )
    target = target or new_folder_name(f"sensitivity-{result.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        write_sensitivity(result, staging, formats=formats)
    print(terminal_report(result))
    print(f"\nwrote {target}/")
    for path in sorted(target.iterdir()):
        print(f"  {path.name}")
    return 0


# --------------------------------------------------------------------------- tables


def markdown_table(frame: pd.DataFrame, *, floatfmt: str = ".3f", index: bool = True) -> str:
    """A GitHub Markdown table, numbers written with ``floatfmt``.

    Uses the project's ``outputs.tables.to_markdown`` where it exists (pandas' own
    ``to_markdown`` needs ``tabulate``, not a dependency), else a minimal local one.
    """
    frame = frame.reset_index() if index else frame

    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            if not math.isfinite(value):
                return ""
            return format(value, floatfmt) if abs(value) < 1e6 else f"{value:.3g}"
        return str(value)

    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    text = frame.map(cell) if hasattr(frame, "map") else frame.applymap(cell)
    try:
        from outputs.tables import to_markdown
    except ImportError:
        header = [str(c) for c in frame.columns]
        rule = ["---:" if is_num else ":---" for is_num in numeric]
        rows = [[c.replace("|", "\\|") for c in row] for row in text.itertuples(index=False)]
        return "\n".join("| " + " | ".join(r) + " |" for r in [header, rule, *rows])
    return to_markdown(text, index=False)


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


def _notes(result: SensitivityResult) -> list[str]:
    s = result.settings
    never = float(result.sobol.attrs["never_crossed"])
    last = int(result.sobol.attrs["never_crossed_year"])
    notes = [
        f"Worlds that never reach {result.threshold:.3g} FLOP by {last - 1} "
        f"({never:.1%} of the design) are given the crossing year {last}, one past the last year.",
        f"Sobol': Saltelli design of {result.sobol.attrs['n_evaluations']:,} worlds "
        f"(n_base {s['n_base']}, {result.sobol.sizes['prior']} uncertain priors), scrambled Sobol' points, "
        f"first order by Saltelli (2010), total order by Jansen (1999), "
        f"{result.sobol.attrs['confidence']:.0%} bootstrap percentile intervals ({s['n_bootstrap']} resamples).",
    ]
    if result.tornado is not None:
        notes.append(
            f"Tornado and swaps: {s['samples']:,} worlds each, the same scores for every prior that is "
            "not pinned or swapped (common random numbers), seed {seed}.".format(seed=s["seed"])
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


def report_markdown(result: SensitivityResult, *, images: dict[str, str] | None = None) -> str:
    """The ``sensitivity.md`` report: settings, tables, notes and the plots."""
    images = images or {}
    s = result.settings
    year, thr = result.target_year, result.threshold
    parts = [
        f"# Sensitivity of the forecast to its priors: {result.priors.name}",
        "",
        f"Target year {year}, threshold {thr:.3g} FLOP, years {s['years'][0]}..{s['years'][-1]}, "
        f"seed {s['seed']}. Prior file: `{result.priors.source}`.",
        "",
        "## Global (Sobol') indices",
        "",
        f"Outputs: **log10 C** = log10 training compute in {year}; **crossing year** = year of the "
        f"first run >= {thr:.3g} FLOP; **reached** = 1 if such a run happened by {year}. "
        "S1: first order (the share of variance a prior explains alone); ST: total order (alone "
        "and through interactions). Most influential on log10 C first.",
        "",
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
        parts += [
            "## One prior at a time (tornado)",
            "",
            f"Each prior pinned at its {q[0]:.0%} and {q[1]:.0%} percentile, the others random. "
            f"Unpinned: median log10 C in {year} = {float(result.tornado['base_median']):.3f}, "
            f"P(>= {thr:.3g} by {year}) = {float(result.tornado['base_probability']):.3f}. "
            "Widest first.",
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
            f"P(run >= {thr:.3g} FLOP by year):",
            "",
            markdown_table(_swap_wide(result, "probability")),
            "",
        ]
    parts += ["## Notes", "", *[f"- {n}" for n in _notes(result)], ""]
    return "\n".join(parts)


def terminal_report(result: SensitivityResult, *, top: int = 10) -> str:
    """A short plain-text summary for the terminal."""
    year, thr = result.target_year, result.threshold
    sobol = result.sobol_table().head(top)
    cols = {f"{_SHORT[o]} {i}": sobol[f"{o} {i}"] for o in OUTPUTS for i in ("S1", "ST")}
    lines = [
        f"Sensitivity of {result.priors.name}: target year {year}, threshold {thr:.3g} FLOP",
        "",
        f"Sobol' indices (top {min(top, len(result.sobol_table()))} by ST on log10 C in {year}):",
        pd.DataFrame(cols).to_string(float_format=lambda v: f"{v:6.3f}"),
        "",
        *_interaction_lines(result),
    ]
    if result.tornado is not None:
        table = result.tornado_table().head(top)
        lines += [
            "",
            f"Tornado (5th..95th percentile pins; unpinned median {float(result.tornado['base_median']):.2f}, "
            f"P {float(result.tornado['base_probability']):.3f}):",
            table[["median at low", "median at high", "P at low", "P at high"]].to_string(
                float_format=lambda v: f"{v:7.3f}"
            ),
        ]
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


# --------------------------------------------------------------------------- files


def write_sensitivity(result: SensitivityResult, folder: Path | str, *, formats=("png",)) -> list[Path]:
    """Write tables, data, plots and ``sensitivity.md`` into ``folder`` (which must exist)."""
    import matplotlib.pyplot as plt

    from outputs.sensitivity_plots import (
        plot_sensitivity_by_year,
        plot_sobol,
        plot_tornado,
        sensitivity_plot_style,
    )

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
    drawings = {f"sobol_{o}": (plot_sobol, {"output": o}) for o in OUTPUTS}
    drawings["sensitivity_by_year"] = (plot_sensitivity_by_year, {})
    if result.tornado is not None:
        drawings["tornado_median"] = (plot_tornado, {"metric": "median"})
        drawings["tornado_probability"] = (plot_tornado, {"metric": "probability"})
    with sensitivity_plot_style():
        for name, (plot, kwargs) in drawings.items():
            ax = plot(result, **kwargs)
            fig = ax.figure
            if fig.get_layout_engine() is None:  # the project style lays out by itself
                fig.tight_layout()
            written += save_figure(fig, folder, name, formats=formats)
            images[name] = f"{name}.{formats[0]}"
            plt.close(fig)

    report = folder / "sensitivity.md"
    report.write_text(report_markdown(result, images=images), encoding="utf-8")
    written.append(report)
    return written
