"""Plots for write-ups.

The rule every plot follows:

* ``plot_<thing>(data, *, ax=None, ...) -> Axes``: the data first (a
  :class:`forecast.ForecastResult`, a comparison Dataset, a sweep grid, ...), drawn on ``ax``
  (the axes of a new constrained-layout figure when None), the axes returned. A plot that lays
  out several axes (:func:`plot_resources`, :func:`plot_prior_densities`,
  :func:`outputs.plots.backtest.plot_backtest`, ...) takes ``fig=`` instead (an empty figure;
  a new one when None) and returns the figure.
* Plots never read a file: the record of frontier runs and the published forecasts come in as
  tables (``record=``, ``published=``; None draws none), loaded by the caller with
  :func:`forecast.record.runs.load_runs` and :func:`forecast.record.published.load_published`.
* Options for a drawn element come as their own dict (``median_kwargs``, ...), defaults filled
  in with ``setdefault``. No matplotlib setting changes at import: wrap calls in
  :func:`outputs.plot_style` for the project's look (the ``save_*`` functions do).
* What several plot modules share lives in :mod:`outputs.plots.axes` (caption, legend under
  the axes, year axis, as-of line, saving) and :mod:`outputs.plots.marks` (record, reference
  and published marks), under public names: no module uses another's private helpers.
"""

from outputs.plots.axes import caption, save_figure
from outputs.plots.fan import plot_fan
from outputs.plots.forecast import PLOT_FIGURES, PLOTS, default_kinds, draw_plot, save_plots
from outputs.plots.priors import (
    plot_correlations,
    plot_prior_densities,
    plot_prior_predictive,
    prior_density,
    save_prior_plots,
)
from outputs.plots.resources import plot_resources
from outputs.plots.timeline import plot_constraints, plot_timeline

__all__ = ["PLOTS", "PLOT_FIGURES", "caption", "default_kinds", "draw_plot", "plot_constraints",
           "plot_correlations", "plot_fan", "plot_prior_densities", "plot_prior_predictive", "plot_resources",
           "plot_timeline", "prior_density", "save_figure", "save_plots", "save_prior_plots"]
