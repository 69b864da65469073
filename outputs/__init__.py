"""Outputs: tables, plots, run folders and reports of a :class:`forecast.ForecastResult`.

Layering: ``priors`` <- ``models`` <- ``forecast`` <- ``outputs``; nothing here is imported by
the layers below. No matplotlib setting changes at import; the project's style is applied
with :func:`plot_style` (the writers here do so themselves).
"""

from __future__ import annotations

from priors.lazy import lazy_exports

#: Each public name and the module it comes from: imported on first use (PEP 562), so that
#: ``import outputs.cli`` loads neither the engine nor matplotlib and the command line
#: handles Ctrl-C from its first line.
_LAZY = {
    "PLOTS": "outputs.plots.forecast",
    "caption": "outputs.plots.axes",
    "plot_constraints": "outputs.plots.timeline",
    "plot_fan": "outputs.plots.fan",
    "plot_resources": "outputs.plots.resources",
    "plot_timeline": "outputs.plots.timeline",
    "save_plots": "outputs.plots.forecast",
    "CONSTRAINT_COLORS": "outputs.style",
    "THRESHOLD_COLORS": "outputs.style",
    "constraint_color": "outputs.style",
    "plot_style": "outputs.style",
    "threshold_color": "outputs.style",
    "crossing_display": "outputs.tables",
    "crossing_table": "outputs.tables",
    "format_correlations": "outputs.tables",
    "format_prior_table": "outputs.tables",
    "format_terminal_table": "outputs.tables",
    "per_year_table": "outputs.tables",
    "prior_table": "outputs.tables",
    "resources_table": "outputs.tables",
    "shares_table": "outputs.tables",
    "timeline_table": "outputs.tables",
    "to_markdown": "outputs.tables",
    "to_text": "outputs.tables",
    "write_tables": "outputs.tables",
    "SECTION_FILES": "outputs.write.report",
    "Section": "outputs.write.report",
    "find_sections": "outputs.write.report",
    "report_markdown": "outputs.write.report",
    "write_report": "outputs.write.report",
    "write_run": "outputs.write.run",
}

__all__ = [
    "CONSTRAINT_COLORS", "PLOTS", "THRESHOLD_COLORS", "caption", "constraint_color",
    "crossing_display", "crossing_table", "format_correlations", "format_prior_table", "format_terminal_table",
    "per_year_table", "plot_constraints", "plot_fan", "plot_resources", "plot_style", "plot_timeline",
    "prior_table", "resources_table", "save_plots", "shares_table", "threshold_color", "timeline_table",
    "to_markdown", "to_text", "write_run", "write_tables", "SECTION_FILES", "Section",
    "find_sections", "report_markdown", "write_report",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
