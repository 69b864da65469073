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
from outputs.plots.priors import (
    plot_correlations,
    plot_prior_densities,
    plot_prior_predictive,
    prior_density,
    save_prior_plots,
)

__all__ = ["PLOTS", "PLOT_FIGURES", "as_result", "caption", "default_kinds", "plot_constraints",
           "plot_correlations", "plot_fan", "plot_prior_densities", "plot_prior_predictive", "plot_resources",
           "plot_timeline", "prior_density", "save_figure", "save_plots", "save_prior_plots"]
