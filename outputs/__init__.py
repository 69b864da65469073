"""Outputs: tables, plots, run folders and reports of a :class:`forecast.ForecastResult`.

Layering: ``priors`` <- ``models`` <- ``forecast`` <- ``outputs``; nothing here is imported by
the layers below. No matplotlib setting changes at import; the project's style is applied
with :func:`plot_style` (the writers here do so themselves).
"""

from __future__ import annotations

from outputs.plots.forecast import (
    PLOTS,
    as_result,
    caption,
    plot_constraints,
    plot_fan,
    plot_resources,
    plot_timeline,
    save_plots,
)
from outputs.style import (
    CONSTRAINT_COLORS,
    THRESHOLD_COLORS,
    constraint_color,
    plot_style,
    threshold_color,
)
from outputs.tables import (
    crossing_display,
    crossing_table,
    format_correlations,
    format_prior_table,
    format_terminal_table,
    per_year_table,
    prior_table,
    resources_table,
    shares_table,
    timeline_table,
    to_markdown,
    to_text,
    write_tables,
)
from outputs.write.report import (
    SECTION_FILES,
    Section,
    find_sections,
    report_markdown,
    write_report,
)
from outputs.write.run import write_run

__all__ = [
    "CONSTRAINT_COLORS", "PLOTS", "THRESHOLD_COLORS", "as_result", "caption", "constraint_color",
    "crossing_display", "crossing_table", "format_correlations", "format_prior_table", "format_terminal_table",
    "per_year_table", "plot_constraints", "plot_fan", "plot_resources", "plot_style", "plot_timeline",
    "prior_table", "resources_table", "save_plots", "shares_table", "threshold_color", "timeline_table",
    "to_markdown", "to_text", "write_run", "write_tables", "SECTION_FILES", "Section",
    "find_sections", "report_markdown", "write_report",
]
