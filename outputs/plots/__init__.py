"""Plots for write-ups: each takes a result and an axes and returns the axes."""

from outputs.plots.forecast import (
    PLOT_FIGURES,
    PLOTS,
    as_result,
    caption,
    default_kinds,
    plot_constraints,
    plot_fan,
    plot_resources,
    plot_timeline,
    save_figure,
    save_plots,
)

__all__ = ["PLOTS", "PLOT_FIGURES", "as_result", "caption", "default_kinds", "plot_constraints", "plot_fan",
           "plot_resources", "plot_timeline", "save_figure", "save_plots"]
