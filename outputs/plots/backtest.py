"""Plots of a backtest: forecast fans of each method against the realized frontier.

``plot_backtest(backtest_result, *, ax=None)`` follows the project's plot contract: data in,
axes out, a new figure when ``ax`` is None, options per drawn element as their own dict.
Wrap calls in :func:`outputs.plot_style` for the project's look.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from forecast.history.backtest import METHOD_LABELS
from outputs.style import METHOD_COLORS, log10_flop_formatter, log10_flop_locator, method_color

__all__ = ["METHOD_COLORS", "backtest_axes", "backtest_figsize", "backtest_grid", "method_color",
           "plot_backtest"]

# One colour per method, as in every other plot (outputs.style.METHOD_COLORS).


def backtest_grid(n_panels: int) -> tuple[int, int]:
    """Rows and columns of the backtest panels: two columns (one for a single cutoff)."""
    columns = 1 if n_panels == 1 else 2
    return -(-n_panels // columns), columns


def backtest_figsize(n_panels: int) -> tuple[float, float]:
    """A figure about a blog column wide, a row of panels per two cutoffs, room for the legend."""
    rows, columns = backtest_grid(n_panels)
    return (7.0 if columns > 1 else 4.5), 2.5 * rows + 1.0


def backtest_axes(figure, n_panels: int):
    """One axes per cutoff on ``figure``, in a grid of two columns sharing both axes; the
    cells of an incomplete last row are removed."""
    rows, columns = backtest_grid(n_panels)
    grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    for spare in grid[n_panels:]:
        spare.remove()
    # the bottom panel of each column shows its x tick labels
    for axis in grid[max(0, n_panels - columns):n_panels]:
        axis.xaxis.set_tick_params(labelbottom=True)
    return grid[:n_panels]


def _fan(fans, method, cutoff, prob):
    rows = fans[(fans["method"] == method) & (fans["cutoff"] == cutoff) & np.isclose(fans["prob"], prob)]
    rows = rows.sort_values("year")
    return rows["year"].to_numpy(dtype=float), rows["log10_compute"].to_numpy(dtype=float)


def plot_backtest(
    backtest_result,
    *,
    ax=None,
    methods=None,
    band_kwargs: Mapping | None = None,
    median_kwargs: Mapping | None = None,
    observed_kwargs: Mapping | None = None,
):
    """Forecast fans of every method and cutoff against the realized frontier.

    One panel per cutoff (a grid of two columns when it makes the figure); each method draws
    its median and 90% band (the point baselines only a line), the realized yearly frontier
    is drawn as points. The legend goes under the grid on a constrained-layout figure.

    Parameters
    ----------
    backtest_result : forecast.backtest.BacktestResult
        What :func:`forecast.backtest.run_backtest` returned.
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        One axes per cutoff (a single axes is accepted when there is one cutoff); a new
        figure when None.
    methods : sequence of str, optional
        Methods to draw; all in the result by default.
    band_kwargs, median_kwargs, observed_kwargs
        Passed to ``fill_between``, ``plot`` and ``scatter``.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One axes per cutoff, in cutoff order.
    """
    fans = backtest_result.fans
    cutoffs = sorted(int(c) for c in fans["cutoff"].unique())
    chosen = list(dict.fromkeys(fans["method"])) if methods is None else list(methods)
    unknown = [m for m in chosen if m not in set(fans["method"])]
    if unknown:
        raise ValueError(f"methods not in this backtest: {unknown}")
    if ax is None:
        fig = plt.figure(figsize=backtest_figsize(len(cutoffs)), layout="constrained")
        axes = backtest_axes(fig, len(cutoffs))
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != len(cutoffs):
            raise ValueError(f"need one axes per cutoff ({len(cutoffs)}), got {len(axes)}")
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("alpha", 0.18)
    band_kwargs.setdefault("linewidth", 0)
    median_kwargs = dict(median_kwargs or {})
    median_kwargs.setdefault("linewidth", 1.4)
    observed_kwargs = dict(observed_kwargs or {})
    observed_kwargs.setdefault("color", "#222222")
    observed_kwargs.setdefault("marker", "o")
    observed_kwargs.setdefault("s", 16)
    observed_kwargs.setdefault("zorder", 5)
    observed = backtest_result.observed
    obs_years = np.asarray(observed.index, dtype=float)
    obs_values = observed["log10_compute"].to_numpy(dtype=float)

    for axis, cutoff in zip(axes, cutoffs):
        for i, method in enumerate(chosen):
            color = method_color(method, i)
            years, lo = _fan(fans, method, cutoff, 0.05)
            _, hi = _fan(fans, method, cutoff, 0.95)
            _, med = _fan(fans, method, cutoff, 0.5)
            if not np.allclose(lo, hi):
                axis.fill_between(years, lo, hi, color=color, **band_kwargs)
            axis.plot(years, med, color=color, label=METHOD_LABELS.get(method, method), **median_kwargs)
        axis.scatter(obs_years, obs_values, label="realized frontier", **observed_kwargs)
        axis.axvline(cutoff - 0.5, color="#999999", linewidth=0.8, linestyle=(0, (3, 3)))
        axis.set_title(f"cutoff {cutoff}", fontsize="medium")
        axis.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        axis.yaxis.set_major_locator(log10_flop_locator())
        axis.yaxis.set_major_formatter(log10_flop_formatter())
    for axis in axes:  # labels on the outer panels only, when the panels form a grid
        spec = axis.get_subplotspec()
        if axis.xaxis.get_major_ticks()[0].label1.get_visible():
            axis.set_xlabel("year")
        if spec is None or spec.is_first_col():
            axis.set_ylabel("largest run (FLOP)")
    _legend(axes)
    return np.asarray(axes, dtype=object)


def _legend(axes) -> None:
    """One legend for all panels: under the grid when the figure lays itself out, else beside
    the last panel."""
    handles, labels = axes[0].get_legend_handles_labels()
    figure = axes[0].figure
    engine = figure.get_layout_engine()
    if engine is not None and type(engine).__name__ == "ConstrainedLayoutEngine" and len(axes) > 1:
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5),
                      fontsize="small", frameon=False)
    else:
        axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
