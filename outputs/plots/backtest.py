"""Plots of a backtest: forecast fans of each method against the realized frontier, and how
well calibrated each method is.

``plot_backtest(backtest_result, *, fig=None) -> Figure`` draws the fans, a panel per cutoff;
``plot_pit`` the histogram of
the PITs (the forecast's CDF at each outcome: flat for a calibrated forecast, U-shaped for
one too narrow, piled at one end for one biased); ``plot_reliability`` the share of outcomes
inside each central interval against its nominal probability (on the diagonal for a
calibrated forecast). Each follows the project's plot contract: data in, axes out (a figure
for the panels of ``plot_backtest``), a new figure when ``ax`` (``fig``) is None, options per
drawn element as their own dict. Wrap calls in
:func:`outputs.plot_style` for the project's look.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from forecast.evaluation.backtest import METHOD_LABELS, coverage_curve
from outputs.style import METHOD_COLORS, log10_flop_formatter, log10_flop_locator, method_color

__all__ = ["METHOD_COLORS", "backtest_axes", "backtest_figsize", "backtest_grid", "method_color",
           "plot_backtest", "plot_pit", "plot_reliability"]

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
    fig: Figure | None = None,
    methods=None,
    band_kwargs: Mapping | None = None,
    median_kwargs: Mapping | None = None,
    observed_kwargs: Mapping | None = None,
    known_kwargs: Mapping | None = None,
) -> Figure:
    """Forecast fans of every method and cutoff against the realized frontier.

    One panel per cutoff (a grid of two columns when it makes the figure); each method draws
    its median and 90% band (the point baselines only a line), the realized yearly frontier
    is drawn as points, and the records the methods saw (the record as known at the cutoff,
    with the values public then) as open circles. The legend goes under the grid on a
    constrained-layout figure.

    Parameters
    ----------
    backtest_result : forecast.evaluation.backtest.BacktestResult
        What :func:`forecast.evaluation.backtest.run_backtest` returned.
    fig : matplotlib.figure.Figure, optional
        An empty figure to lay the panels out on (:func:`backtest_axes`; best with
        constrained layout, sized by :func:`backtest_figsize`); a new pyplot figure when None.
    methods : sequence of str, optional
        Methods to draw; all in the result by default.
    band_kwargs, median_kwargs, observed_kwargs, known_kwargs
        Passed to ``fill_between``, ``plot``, ``scatter`` (realized) and ``scatter`` (known).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes are the panels, one per cutoff, in cutoff order.
    """
    fans = backtest_result.fans
    cutoffs = sorted(int(c) for c in fans["cutoff"].unique())
    chosen = list(dict.fromkeys(fans["method"])) if methods is None else list(methods)
    unknown = [m for m in chosen if m not in set(fans["method"])]
    if unknown:
        raise ValueError(f"methods not in this backtest: {unknown}")
    if fig is None:
        fig = plt.figure(figsize=backtest_figsize(len(cutoffs)), layout="constrained")
    axes = backtest_axes(fig, len(cutoffs))
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
    known_kwargs = dict(known_kwargs or {})
    known_kwargs.setdefault("facecolors", "none")
    known_kwargs.setdefault("edgecolors", "#222222")
    known_kwargs.setdefault("marker", "o")
    known_kwargs.setdefault("s", 22)
    known_kwargs.setdefault("linewidths", 0.9)
    known_kwargs.setdefault("zorder", 6)
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
        axis.scatter(obs_years, obs_values, label="realized frontier (current record)", **observed_kwargs)
        known = getattr(backtest_result, "known", None)
        if known is not None and len(known):
            seen = known[known["cutoff"] == cutoff]
            # at the year each record counts for, as the realized frontier is drawn
            axis.scatter(np.floor(seen["year_frac"]), seen["log10_compute"], label="records as known at the cutoff",
                         **known_kwargs)
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
    return fig


def _legend(axes) -> None:
    """One legend for all panels: under the grid when the figure lays itself out, else beside
    the last panel."""
    handles, labels = axes[0].get_legend_handles_labels()
    figure = axes[0].figure
    engine = figure.get_layout_engine()
    if engine is not None and type(engine).__name__ == "ConstrainedLayoutEngine" and len(axes) > 1:
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3),
                      fontsize="small", frameon=False)
    else:
        axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")


def _methods(scores, methods):
    present = list(dict.fromkeys(scores["method"]))
    chosen = present if methods is None else list(methods)
    unknown = [m for m in chosen if m not in present]
    if unknown:
        raise ValueError(f"methods not in this backtest: {unknown}")
    return chosen


def plot_pit(backtest_result, *, ax=None, methods=None, bins: int = 10,
             hist_kwargs: Mapping | None = None, uniform_kwargs: Mapping | None = None):
    """Histogram of each probabilistic method's PITs, pooled over cutoffs and years.

    A calibrated forecast's PITs are uniform: the bars lie near 1 (density). Point forecasts
    (no ``log_score``) are left out: their PIT is 0 or 1. The number of cases is in the
    legend, since with a few dozen the bars are noisy.

    Returns
    -------
    matplotlib.axes.Axes
    """
    scores = backtest_result.scores
    probabilistic = set(scores.loc[scores["log_score"].notna(), "method"])
    chosen = [m for m in _methods(scores, methods) if m in probabilistic]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    hist_kwargs = dict(hist_kwargs or {})
    hist_kwargs.setdefault("histtype", "step")
    hist_kwargs.setdefault("linewidth", 1.6)
    uniform_kwargs = dict(uniform_kwargs or {})
    uniform_kwargs.setdefault("color", "#999999")
    uniform_kwargs.setdefault("linewidth", 0.8)
    uniform_kwargs.setdefault("linestyle", (0, (3, 3)))
    edges = np.linspace(0.0, 1.0, bins + 1)
    for i, method in enumerate(chosen):
        pit = scores.loc[scores["method"] == method, "pit"].to_numpy(dtype=float)
        ax.hist(pit, bins=edges, density=True, color=method_color(method, i),
                label=f"{METHOD_LABELS.get(method, method)} ({len(pit)})", **hist_kwargs)
    ax.axhline(1.0, label="calibrated", **uniform_kwargs)
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT: forecast probability below the outcome")
    ax.set_ylabel("density")
    ax.set_title("PIT histogram", fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="upper center")
    return ax


def plot_reliability(backtest_result, *, ax=None, methods=None, levels=np.linspace(0.1, 0.9, 9),
                     line_kwargs: Mapping | None = None, band_kwargs: Mapping | None = None):
    """Share of outcomes inside each central interval against the interval's probability.

    On the diagonal for a calibrated forecast; below it, intervals too narrow or off centre.
    The grey band is where a calibrated forecast's share would fall 90% of the time by
    chance alone (binomial, as if the cases were independent, which cases of one cutoff are
    not).

    Returns
    -------
    matplotlib.axes.Axes
    """
    scores = backtest_result.scores
    chosen = _methods(scores, methods)
    levels = np.asarray(levels, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    line_kwargs = dict(line_kwargs or {})
    line_kwargs.setdefault("linewidth", 1.6)
    line_kwargs.setdefault("marker", "o")
    line_kwargs.setdefault("markersize", 3)
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("color", "#dddddd")
    band_kwargs.setdefault("linewidth", 0)
    n = int(scores.groupby("method").size().min())
    half = 1.645 * np.sqrt(levels * (1 - levels) / n)
    ax.fill_between(levels, np.clip(levels - half, 0, 1), np.clip(levels + half, 0, 1),
                    label=f"chance, {n} cases", **band_kwargs)
    ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=(0, (3, 3)))
    for i, method in enumerate(chosen):
        pit = scores.loc[scores["method"] == method, "pit"].to_numpy(dtype=float)
        ax.plot(levels, coverage_curve(pit, levels), color=method_color(method, i),
                label=METHOD_LABELS.get(method, method), **line_kwargs)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("central interval (nominal probability)")
    ax.set_ylabel("share of outcomes inside")
    ax.set_title("Reliability of the intervals", fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax
