"""Outputs: tables, plots, run folders and reports of a :class:`forecast.ForecastResult`.

Layering: ``priors`` <- ``models`` <- ``forecast`` <- ``outputs``; nothing here is imported by
the layers below. No matplotlib setting changes at import; the project's style is applied
with :func:`plot_style` (the writers here do so themselves).
"""

from __future__ import annotations

from pathlib import Path

from .plots import PLOTS, as_result, caption, plot_constraints, plot_fan, plot_timeline, save_plots
from .report import SECTION_FILES, Section, find_sections, report_markdown, write_report
from .style import (
    CONSTRAINT_COLORS,
    THRESHOLD_COLORS,
    constraint_color,
    plot_style,
    threshold_color,
)
from .tables import (
    crossing_display,
    crossing_table,
    format_prior_table,
    format_terminal_table,
    per_year_table,
    prior_table,
    shares_table,
    timeline_table,
    to_markdown,
    to_text,
    write_tables,
)

__all__ = [
    "CONSTRAINT_COLORS", "PLOTS", "THRESHOLD_COLORS", "as_result", "caption", "constraint_color",
    "crossing_display", "crossing_table", "format_prior_table", "format_terminal_table",
    "per_year_table", "plot_constraints", "plot_fan", "plot_style", "plot_timeline",
    "prior_table", "save_plots", "shares_table", "threshold_color", "timeline_table",
    "to_markdown", "to_text", "write_run", "write_tables", "SECTION_FILES", "Section",
    "find_sections", "report_markdown", "write_report",
]


def write_run(result, folder: str | Path, *, formats=("png",)) -> list[Path]:
    """Write a forecast's files into an existing (staging) folder.

    ``samples.nc`` (every world; :func:`forecast.load` reads it back), ``summary.csv`` and
    ``summary.md`` (per-year table), ``timeline.csv``, ``crossing.csv``, ``priors.csv`` and
    ``priors.md``, and the plots ``fan``, ``timeline``, ``constraints`` in each format.

    Returns
    -------
    list of pathlib.Path
        The files written, in that order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the output folder must exist (see outputs.folder.staged_folder)")
    written = [result.to_netcdf(folder / "samples.nc")]
    written += write_tables(result, folder)
    written += save_plots(result, folder, formats=tuple(formats))
    return written
