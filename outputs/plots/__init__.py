"""Plots for write-ups: each takes a result and an axes and returns the axes."""

from outputs.plots.forecast import (
    PLOTS,
    as_result,
    caption,
    plot_constraints,
    plot_fan,
    plot_timeline,
    save_figure,
    save_plots,
)

__all__ = ["PLOTS", "as_result", "caption", "plot_constraints", "plot_fan", "plot_timeline",
           "save_figure", "save_plots"]
