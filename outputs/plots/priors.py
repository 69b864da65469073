"""Plots of a prior set: what each prior says, which priors move together, and what the priors
alone imply for the headline numbers (``forecast priors --plot``).

* :func:`plot_prior_densities`: one small panel per uncertain prior, grouped by model block,
  each its density with the 5th, 50th and 95th percentiles marked and its source in small type.
* :func:`plot_correlations`: the Spearman rank correlations of the correlated priors.
* :func:`plot_prior_predictive`: the largest run of 2030 in a forecast from the priors alone.

Densities come from the quantile function alone (:func:`prior_density`), so every family
has one, a mixture or a metalog included. Each function returns a plain
:class:`~matplotlib.figure.Figure` (no pyplot); wrap calls in :func:`outputs.plot_style` for
the project's look. :func:`save_prior_plots` does that and writes the files.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator
from scipy import special

from forecast import ForecastResult
from forecast.summaries import reach_probability
from outputs.plots.forecast import legend_and_caption, save_figure
from outputs.style import (
    BAND_COLOR,
    MEDIAN_COLOR,
    log10_flop_formatter,
    log10_flop_locator,
    plot_style,
    threshold_color,
)
from outputs.text import flop_label, format_number, format_probability, prior_label
from priors import Family, Prior, PriorSet

__all__ = [
    "DENSITY_Z", "LOG_AXIS_RATIO", "PRIOR_GROUPS", "PRIOR_PLOTS", "correlated_blocks", "plot_correlations",
    "plot_prior_densities", "plot_prior_predictive", "prior_density", "prior_groups", "save_prior_plots",
    "uses_log_axis",
]

#: Normal scores at which a density is computed (step 0.005). Beyond +/- 6 lies 2e-9 of the
#: mass, and farther out the spacing of the values of a bounded family (a uniform near its
#: ends) falls below float64 resolution.
DENSITY_Z = np.linspace(-6.0, 6.0, 2401)

#: A panel has a log x axis when the prior's values are all positive and its 95th percentile
#: is at least this many times its 5th. (At 7.5, a lognormal on a linear axis is a spike in
#: the left quarter of its panel and a long empty tail.)
LOG_AXIS_RATIO = 7.0

#: Percentiles marked on each panel.
MARKED = (0.05, 0.5, 0.95)

#: The model's blocks (docs/model.md, section 4) and their priors, in panel order. A prior
#: of none of them (a parameter added later) goes under "Other".
PRIOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Hardware", ("lag_years", "chips_base", "chip_growth", "chip_flops_base", "chip_flops_growth",
                  "low_precision_year", "low_precision_gain", "mfu", "duration_days_base",
                  "duration_growth", "duration_days_max")),
    ("Power and funding", ("watts_per_chip_base", "watts_per_chip_growth", "power_limit_gw_base",
                           "power_limit_growth", "power_limit_gw_max", "capex_per_chip_base",
                           "capex_per_chip_growth", "capex_limit_usd_base", "capex_limit_growth",
                           "capex_limit_usd_max")),
    ("Data", ("text_tokens_base", "text_tokens_growth", "other_tokens_base", "other_tokens_growth",
              "max_epochs", "epoch_worth_floor", "repetition_decay", "tokens_per_param_ref", "tokens_per_param_slope", "tokens_per_param_scale")),
    ("Latency", ("layer_latency_s", "critical_batch_tokens_ref", "critical_batch_exponent")),
    ("Post-training", ("post_training_fraction_base", "post_training_fraction_growth",
                       "post_training_fraction_max")),
    ("Cost", ("chip_hour_usd_base", "chip_hour_usd_growth")),
    ("Labs, the soft data wall, what gets published", ("run_share", "data_wall_softness", "disclosure_probability",
                                                        "disclosure_delay_months", "estimate_sd_dex")),
)

_CAPTION_COLOR = "#666666"
_TEXT_COLOR = "#333333"
_ZERO_COLOR = "#999999"
#: Panels per row of :func:`plot_prior_densities`, and the height of a row (inches).
_COLUMNS = 4
_ROW_HEIGHT = 1.72
#: Lines of source under each panel, and characters per line at the panel width.
_SOURCE_LINES = 4
_SOURCE_WIDTH = 38
#: Longest prior name written at the full title size; longer ones get smaller type.
_TITLE_CHARS = 28


# --- numbers --------------------------------------------------------------------------------


# --- densities -------------------------------------------------------------------------------


def prior_density(family: Family, *, log10: bool = False, z: Sequence[float] | None = None):
    """``(values, density)`` of a prior, from its quantile function alone.

    With ``x(z) = family.from_normal(z)`` on a fine grid of standard-normal scores
    (:data:`DENSITY_Z` by default), the density at ``x(z)`` is ``phi(z) / x'(z)``: the
    slope ``x'(z)`` is taken by automatic differentiation (by central differences if the
    family's kernel cannot be differentiated). So every family has a density, those without
    a pdf (mixtures, metalogs, truncations) included.

    Parameters
    ----------
    family
        The prior's distribution (``prior.family``).
    log10
        Give ``log10 x`` and the density of ``log10 x`` (per decade) instead: the density of
        a log axis. Only for families whose values are all positive.
    z
        The normal scores to evaluate at, increasing.

    Returns
    -------
    values, density : numpy.ndarray
        Increasing values (``x`` or ``log10 x``) and the density there; ``inf`` where the
        family has a point mass (``x`` does not grow with ``z``).
    """
    z = np.asarray(DENSITY_Z if z is None else z, dtype=float)
    x, slope = _values_and_slope(family, z)
    if log10:
        slope = slope / (x * math.log(10))
        x = np.log10(x)
    with np.errstate(divide="ignore"):
        density = np.where(slope > 0, np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) / slope, np.inf)
    return x, density


def _values_and_slope(family: Family, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x(z)`` and ``dx/dz`` in float64."""
    with jax.enable_x64(True):
        try:
            x, slope = jax.jvp(family.from_normal, (jnp.asarray(z),), (jnp.ones_like(jnp.asarray(z)),))
            x, slope = np.asarray(x, dtype=float), np.asarray(slope, dtype=float)
        except Exception:  # noqa: BLE001 - a kernel JAX cannot differentiate: differences
            x, slope = None, None
        if slope is None or not np.all(np.isfinite(slope)):
            x = np.asarray(family.from_normal(jnp.asarray(z)), dtype=float)
            slope = np.gradient(x, z)
    return x, np.maximum(slope, 0.0)


def _atoms(family: Family, z: np.ndarray = DENSITY_Z, *, least: float = 1e-3) -> list[tuple[float, float]]:
    """``(value, mass)`` of each point mass of at least ``least`` (a mixture with a fixed
    component): a stretch of scores over which the value does not change."""
    x = np.asarray(family.from_normal(jnp.asarray(z)), dtype=float)
    flat = np.diff(x) <= 1e-12 * np.maximum(np.abs(x[:-1]), 1e-300)
    atoms, start = [], None
    for i, is_flat in enumerate([*flat, False]):
        if is_flat and start is None:
            start = i
        elif not is_flat and start is not None:
            mass = float(special.ndtr(z[i]) - special.ndtr(z[start]))
            if mass >= least:
                atoms.append((float(x[start]), mass))
            start = None
    return atoms


def uses_log_axis(family: Family) -> bool:
    """Whether a prior is drawn on a log axis: all its values are positive and its 95th
    percentile is at least :data:`LOG_AXIS_RATIO` times its 5th."""
    low, _ = family.value_range()
    if not low > 0:
        return False
    p05, p95 = family.ppf(np.array([0.05, 0.95]))
    return bool(p05 > 0 and p95 / p05 >= LOG_AXIS_RATIO * (1 - 1e-9))


# --- the panels of the priors ------------------------------------------------------------------


def prior_groups(prior_set: PriorSet) -> list[tuple[str, list[Prior]]]:
    """The uncertain priors by model block (:data:`PRIOR_GROUPS`), in the set's order within
    a block; blocks without priors are left out, priors of no block go under "Other"."""
    block_of = {name: block for block, names in PRIOR_GROUPS for name in names}
    blocks = [block for block, _ in PRIOR_GROUPS] + ["Other"]
    grouped: dict[str, list[Prior]] = {block: [] for block in blocks}
    for prior in prior_set:
        if not prior.is_fixed:
            grouped[block_of.get(prior.name, "Other")].append(prior)
    return [(block, priors) for block, priors in grouped.items() if priors]


def _view(family: Family, log: bool) -> tuple[float, float]:
    """The x range shown: the 0.2nd to 99.8th percentile with a margin (in log10 if ``log``),
    not below zero for a prior that is never negative."""
    low, high = family.ppf(np.array([0.002, 0.998]))
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low if high > low else max(abs(low), 1.0) * 0.1
    low, high = low - 0.06 * span, high + 0.06 * span
    if not log and family.value_range()[0] >= 0:
        low = max(low, 0.0)
    return low, high


def _source_text(prior: Prior) -> str:
    """The prior's source, wrapped to the panel and cut after :data:`_SOURCE_LINES` lines."""
    source = " ".join(str(prior.source).split())
    if not source:
        return "source: not given"
    lines = textwrap.wrap("source: " + source, _SOURCE_WIDTH, break_long_words=True)
    if len(lines) > _SOURCE_LINES:
        last = textwrap.shorten(" ".join(lines[_SOURCE_LINES - 1:]), _SOURCE_WIDTH - 1, placeholder="")
        lines = [*lines[:_SOURCE_LINES - 1], last.rstrip(" ,;:") + "…"]
    return "\n".join(lines)


def _value_axis(ax, log: bool, view: tuple[float, float], *, year: bool = False) -> None:
    """The x axis of a panel: values in the prior files' notation; a log axis in powers of
    ten (with 3, or 2 and 5, between when it spans few decades)."""
    formatter = FuncFormatter(lambda value, _pos: format_number(value, year=year))
    if log:
        ax.set_xscale("log")
        ax.set_xlim(10.0 ** view[0], 10.0 ** view[1])
        decades = view[1] - view[0]
        subs = (1.0,) if decades >= 2.5 else (1.0, 3.0) if decades >= 1.2 else (1.0, 2.0, 5.0)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=6))
        ax.xaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10), numticks=12))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(*view)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(formatter)


def _drawn_points(values: np.ndarray, view: tuple[float, float], *, most: int = 800) -> np.ndarray:
    """Indices of the points of a density curve to draw: those in ``view`` and one more on
    each side (the curve leaves the axes there), at most about ``most`` of them, the first and
    last kept (a bounded prior's ends)."""
    inside = np.flatnonzero((values >= view[0]) & (values <= view[1]))
    if not len(inside):
        return np.arange(len(values))
    first, last = max(inside[0] - 1, 0), min(inside[-1] + 1, len(values) - 1)
    step = max(1, math.ceil((last - first + 1) / most))
    return np.unique(np.r_[np.arange(first, last + 1, step), last])


def _draw_prior(ax, prior: Prior) -> None:
    """One panel: the density, the 90% interval shaded, the marks, the values, the source."""
    family = prior.family
    log = uses_log_axis(family)
    view = _view(family, log)
    values, density = prior_density(family, log10=log)
    finite = np.where(np.isfinite(density), density, np.nan)
    shown = (values >= view[0]) & (values <= view[1]) & np.isfinite(finite)
    # The peak of the shown curve, less a spike at an end (a beta with a shape below 1).
    central = shown & (np.abs(DENSITY_Z) <= 3.5)
    peak = float(np.nanmax(finite[central if central.any() else shown])) if shown.any() else 1.0
    drawn = _drawn_points(values, view)
    xs = 10.0 ** values[drawn] if log else values[drawn]
    ys = finite[drawn]
    # Closed at both ends: a bounded prior (a uniform) drops to zero at its bounds.
    xs_closed = np.concatenate([[xs[0]], xs, [xs[-1]]])
    ys_closed = np.concatenate([[0.0], ys, [0.0]])
    ax.fill_between(xs_closed, ys_closed, color=BAND_COLOR, alpha=0.12, linewidth=0)
    quantiles = family.ppf(np.asarray(MARKED))
    inner = (xs >= quantiles[0]) & (xs <= quantiles[-1])
    ax.fill_between(xs, ys, where=inner, color=BAND_COLOR, alpha=0.35, linewidth=0, interpolate=True)
    ax.plot(xs_closed, ys_closed, color=MEDIAN_COLOR, linewidth=1.0, gid="density")
    for q, value in zip(MARKED, quantiles):
        position = math.log10(value) if log else value
        height = float(np.interp(position, values, np.nan_to_num(finite, nan=peak, posinf=peak)))
        median = q == 0.5
        ax.plot([value, value], [0, min(height, peak * 1.15)], color=MEDIAN_COLOR,
                linewidth=1.2 if median else 0.8, linestyle="-" if median else (0, (2.5, 1.5)),
                gid=f"p{round(100 * q):02d}")
    for value, mass in _atoms(family):
        ax.plot([value, value], [0, peak * 1.1], color=MEDIAN_COLOR, linewidth=1.6, gid="atom")
        ax.plot([value], [peak * 1.1], "o", color=MEDIAN_COLOR, markersize=3)
        ax.annotate(f"{mass:.0%} at {format_number(value)}", (value, peak * 1.1), xytext=(3, 0),
                    textcoords="offset points", fontsize=6, va="center", color=_TEXT_COLOR)
    ax.set_ylim(0, peak * 1.32)
    year = prior.unit.strip().lower() == "year"
    _value_axis(ax, log, view, year=year)
    ax.yaxis.set_major_locator(NullLocator())
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="x", labelsize=6.5, pad=1.5, length=2.5)
    label = prior_label(prior.name)
    ax.set_title(label, fontsize=min(7.5, 7.5 * _TITLE_CHARS / max(len(label), 1)), loc="left", pad=2)
    marks = "  ".join(f"{round(100 * q)}%: {format_number(v, year=year)}" for q, v in zip(MARKED, quantiles))
    ax.text(0.0, 0.985, marks, transform=ax.transAxes, ha="left", va="top", fontsize=6, color=_TEXT_COLOR,
            gid="percentiles")
    ax.set_xlabel(f"{prior.name} · {_unit_label(prior.unit, log)}", fontsize=6, labelpad=1, color=_TEXT_COLOR)
    ax.annotate(_source_text(prior), xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label),
                xytext=(0, -1.5), textcoords="offset points", ha="left", va="top", fontsize=5.5,
                color=_CAPTION_COLOR, linespacing=1.1, gid="source")
    ax._forecast_prior = prior.name  # which prior a panel shows, for tests and callers


def _unit_label(unit: str, log: bool) -> str:
    unit = unit.strip()
    unit = "dimensionless" if unit in ("", "-") else unit
    return f"{unit}, log scale" if log else unit


def _fixed_note(prior_set: PriorSet) -> str:
    fixed = [p for p in prior_set if p.is_fixed]
    if not fixed:
        return "No prior is fixed."
    values = [f"{p.name} = {format_number(p.family.ppf(np.array([0.5]))[0], 4)}{' ' + p.unit if p.unit else ''}"
              for p in fixed]
    return "Fixed, not plotted: " + "; ".join(values) + "."


#: Tallest figure of prior panels (inches; 2400 px at the project's 200 dpi).
MAX_HEIGHT = 12.0


def _height(rows: Sequence[int]) -> float:
    """Inches of a figure of prior panels with these rows per block."""
    return 1.0 + _ROW_HEIGHT * sum(rows) + 0.3 * len(rows)


def prior_pages(prior_set: PriorSet, *, columns: int = _COLUMNS, max_height: float = MAX_HEIGHT) -> list[list[str]]:
    """The model blocks of :func:`prior_groups` packed, in order, into pages of at most
    ``max_height`` inches each (a block is never split): the block names of each page."""
    pages, page, rows = [], [], []
    for block, priors in prior_groups(prior_set):
        n = max(1, math.ceil(len(priors) / columns))
        if page and _height([*rows, n]) > max_height:
            pages.append(page)
            page, rows = [], []
        page.append(block)
        rows.append(n)
    return [*pages, page] if page else pages


def plot_prior_densities(prior_set: PriorSet, *, columns: int = _COLUMNS, figure: Figure | None = None,
                         title: str | bool | None = None, blocks: Sequence[str] | None = None) -> Figure:
    """Every uncertain prior of ``prior_set`` as a small panel, grouped by model block.

    Each panel shows the prior's density (computed from its quantile function by
    :func:`prior_density`, so for every family), its 90% interval shaded, the 5th and 95th
    percentiles dashed and the median solid, their values written at the top, the unit on
    the x axis and the source in small type under it. A prior whose values are positive and
    whose 95th percentile is at least :data:`LOG_AXIS_RATIO` times its 5th has a log x axis,
    with the density of ``log10 x``. Fixed priors are listed in a note at the bottom.

    Parameters
    ----------
    prior_set
        The priors.
    columns
        Panels per row.
    figure
        An empty figure to draw on (best with constrained layout); a new one, as tall as
        the panels need, when None.
    title
        The figure's title; None for ``The priors: <name>``, False for none.
    blocks
        Draw only these model blocks (a page of :func:`prior_pages`); all by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    groups = [g for g in prior_groups(prior_set) if blocks is None or g[0] in blocks]
    rows = [max(1, math.ceil(len(priors) / columns)) for _, priors in groups]
    if figure is None:
        height = _height(rows)
        figure = Figure(figsize=(7.0, height), layout="constrained")
    heights = [0.3] + [r * _ROW_HEIGHT + 0.3 for r in rows] + [0.3]
    key, *blocks, notes = figure.subfigures(len(groups) + 2, 1, height_ratios=heights, squeeze=False)[:, 0]
    key.text(0.0, 0.5, _KEY, ha="left", va="center", fontsize=7, color=_CAPTION_COLOR, gid="key")
    for subfigure, (block, priors), n_rows in zip(blocks, groups, rows):
        subfigure.suptitle(block, x=0.0, ha="left", fontsize=9, fontweight="bold", color=_TEXT_COLOR)
        axes = subfigure.subplots(n_rows, columns, squeeze=False).ravel()
        for ax, prior in zip(axes, priors):
            _draw_prior(ax, prior)
        for ax in axes[len(priors):]:  # the rest of the last row stays empty
            ax.remove()
    notes.text(0.0, 0.5, textwrap.fill(_fixed_note(prior_set), 130), ha="left", va="center",
               fontsize=7, color=_CAPTION_COLOR, gid="fixed")
    if title is not False:
        figure.suptitle(f"The priors: {prior_set.name}" if title is None or title is True else title,
                        x=0.0, ha="left", fontweight="bold", fontsize=11)
    return figure


#: How to read :func:`plot_prior_densities`, under its title.
_KEY = ("Each prior's density, computed from its quantile function. Shaded: its 90% interval, "
        "from the 5th to the 95th percentile (dashed);\nsolid line: the median. On a log axis, the "
        "density of log10 of the value. Under each panel: where the prior comes from.")


# --- correlations ------------------------------------------------------------------------------


def correlated_blocks(prior_set: PriorSet) -> list[tuple[str, ...]]:
    """The groups of priors joined by rank correlations within a lab (two or more priors each;
    the correlation between labs is the prior file's ``[labs] correlation``)."""
    return [block for block in prior_set.with_labs(1).correlation_blocks() if len(block) > 1]


def plot_correlations(prior_set: PriorSet, *, figure: Figure | None = None,
                      title: str | bool | None = None) -> Figure:
    """A heat map of the Spearman rank correlations of the correlated priors.

    Only the priors of correlated groups (:meth:`~priors.PriorSet.correlation_blocks` of two
    or more), group after group; each group outlined. A diverging colour map centred at
    zero, the correlation written in each cell (pairs not written are 0: independent).

    Raises
    ------
    ValueError
        When no two priors are correlated.
    """
    prior_set = prior_set.with_labs(1)  # the pairs written in the file: the copula within a lab
    blocks = correlated_blocks(prior_set)
    if not blocks:
        raise ValueError(f"the prior set {prior_set.name!r} has no rank correlations")
    names = [name for block in blocks for name in block]
    latent = list(prior_set.latent_names)
    index = [latent.index(name) for name in names]
    matrix = prior_set.rank_correlation()[np.ix_(index, index)]
    n = len(names)
    if figure is None:
        side = min(max(2.6 + 0.42 * n, 4.0), 9.0)
        figure = Figure(figsize=(7.0, side), layout="constrained")
    ax = figure.add_subplot()
    # The diagonal (each prior with itself) in grey, so that the eye goes to the pairs.
    shown = np.ma.masked_array(matrix, mask=np.eye(n, dtype=bool))
    cmap = mpl.colormaps["RdBu_r"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(shown, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    fontsize = float(np.clip(70 / n, 5, 8))
    group = [g for g, block in enumerate(blocks) for _ in block]
    for i in range(n):
        for j in range(n):
            value = float(matrix[i, j])
            if group[i] != group[j]:
                continue  # priors of different groups are independent: the cell is left blank
            if i == j:
                text, color = "1", _ZERO_COLOR
            elif abs(value) < 5e-4:
                text, color = "0", _ZERO_COLOR
            else:
                text = f"{value:.2f}".replace("-", "−")
                color = "white" if abs(value) >= 0.5 else _TEXT_COLOR
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=color)
    start = 0
    for block in blocks:
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), len(block), len(block), fill=False,
                               edgecolor="#222222", linewidth=1.6, gid="block"))
        start += len(block)
    ax.set_xticks(range(n), names, rotation=40, ha="right", rotation_mode="anchor", fontsize=fontsize)
    ax.set_yticks(range(n), names, fontsize=fontsize)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colorbar = figure.colorbar(image, ax=ax, shrink=0.75, aspect=25, pad=0.02)
    colorbar.set_label("Spearman rank correlation")
    colorbar.outline.set_visible(False)
    if title is not False:
        ax.set_title(f"Which priors move together: {prior_set.name}" if title is None or title is True
                     else title, loc="left")
    origins = sorted({Path(c.origin).name if c.origin.endswith(".toml") else c.origin
                      for c in prior_set.correlations if c.origin})
    others = len(prior_set.latent_names) - n
    note = (f"Outlined: groups of priors joined by rank correlations (Gaussian copula). Priors of "
            f"different groups, a pair shown as 0 and the {others} other uncertain priors are independent."
            + (f" Pairs as written in {', '.join(origins)}." if origins else ""))
    ax.set_xlabel(textwrap.fill(note, 88), fontsize=7, color=_CAPTION_COLOR, loc="left", labelpad=6)
    return figure


# --- the prior predictive ----------------------------------------------------------------------


def _probability_text(result: ForecastResult, threshold: float, year: int) -> str:
    """``P(a 1e28 FLOP run by 2028) = 61%``, digits as the Monte Carlo error allows."""
    if year not in {int(y) for y in result.years}:
        return f"P(a {flop_label(threshold)} FLOP run by {year}): {year} not forecast"
    reach = reach_probability(result.log10_compute, [threshold]).sel(threshold=threshold, year=year)
    shown = format_probability(float(reach["probability"]), float(reach["mcse"]), result.n_samples,
                               interval=False)
    return f"P(a {flop_label(threshold)} FLOP run by {year}) = {shown}"


def plot_prior_predictive(result: ForecastResult, *, year: int = 2030, figure: Figure | None = None,
                          thresholds: Iterable[float] = (1e26, 1e27, 1e28, 1e29, 1e30),
                          headlines: Iterable[tuple[float, int]] = ((1e28, 2028), (1e29, 2030)),
                          title: str | bool | None = None, caption: str | bool | None = None) -> Figure:
    """What the priors alone imply: the training compute of the largest run of ``year`` over
    the worlds of a forecast (a histogram of log10 FLOP), its median and 90% interval, the
    ``thresholds`` as reference lines and the probabilities of ``headlines`` (threshold, by
    year) in a box.

    Parameters
    ----------
    result
        A forecast drawn from the priors (:func:`forecast.run`), with ``year`` among its years.
    caption
        The line under the plot: None for prior set, samples and seed; a string; or False.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if year not in {int(y) for y in result.years}:
        raise ValueError(f"the forecast has no year {year} (years {result.years[0]}..{result.years[-1]})")
    values = np.asarray(result.log10_compute.sel(year=year).values, dtype=float)
    values = values[np.isfinite(values)]
    median = float(result.intervals["median"].sel(year=year))
    eti = result.intervals["eti"].sel(year=year, prob=0.9)
    low, high = (float(eti.sel(bound=b)) for b in ("lower", "upper"))
    thresholds = [float(t) for t in thresholds]
    levels = [math.log10(t) for t in thresholds]
    q_low, q_high = np.quantile(values, [0.001, 0.999])
    left = math.floor(min(q_low, *levels, low) - 0.3)
    right = math.ceil(max(q_high, *levels, high) + 0.3)
    if figure is None:
        figure = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = figure.add_subplot()
    bins = np.arange(left, right + 0.05, 0.1)
    counts, edges, bars = ax.hist(np.clip(values, left, right), bins=bins, density=True, color=BAND_COLOR,
                                  linewidth=0, gid="histogram")
    centres = (edges[:-1] + edges[1:]) / 2
    for bar, centre in zip(bars, centres):  # the 90% interval darker, as in the fan chart
        bar.set_alpha(0.75 if low <= centre <= high else 0.3)
    (median_line,) = ax.plot([median, median], [0, float(counts.max()) * 1.08], color=MEDIAN_COLOR,
                             linewidth=1.8, gid="median")
    for threshold, level in zip(thresholds, levels):
        color = threshold_color(threshold)
        ax.axvline(level, color=color, linewidth=0.9, linestyle=(0, (4, 2)), zorder=1,
                   gid=f"threshold-{flop_label(threshold)}")
        ax.annotate(f"{flop_label(threshold)} FLOP", (level, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(2, -1), textcoords="offset points", ha="left", va="top", fontsize=7.5,
                    color=color)
    ax.set_xlim(left, right)
    ax.set_ylim(0, float(counts.max()) * 1.25)
    ax.xaxis.set_major_locator(log10_flop_locator())
    ax.xaxis.set_major_formatter(log10_flop_formatter())
    ax.set_xlabel(f"training compute of the largest run in {year} (FLOP)")
    ax.set_ylabel("share of worlds per decade")
    ax.grid(False)
    # The probabilities on the side of the axes the worlds leave emptier.
    emptier_left = median > (left + right) / 2
    box = "\n".join(_probability_text(result, t, y) for t, y in headlines)
    ax.text(0.015 if emptier_left else 0.985, 0.87, box, transform=ax.transAxes,
            ha="left" if emptier_left else "right", va="top", fontsize=8, color=_TEXT_COLOR, zorder=5,
            gid="headlines",
            bbox={"boxstyle": "round,pad=0.45", "facecolor": "white", "edgecolor": "#bbbbbb"})
    if title is not False:
        default = f"What the priors alone imply: the largest run in {year}"
        ax.set_title(default if title is None or title is True else title)
    handles = [median_line, Patch(color=BAND_COLOR, alpha=0.75, linewidth=0),
               Patch(color=BAND_COLOR, alpha=0.3, linewidth=0)]
    labels = [f"median: {_flop(median)} FLOP", f"90% of worlds: {_flop(low)} to {_flop(high)} FLOP",
              "the other 10%"]
    legend_and_caption(ax, result, caption, handles, labels)
    return figure


def _flop(log10_value: float) -> str:
    """``5.8e28`` for log10 FLOP 28.76: two significant digits."""
    return flop_label(10.0 ** log10_value, 2)


# --- all three ---------------------------------------------------------------------------------

#: The files of ``forecast priors --plot``, by stem.
PRIOR_PLOTS = ("priors", "correlations", "prior_predictive")


def save_prior_plots(prior_set: PriorSet, result: ForecastResult | None, folder: str | Path, *,
                     formats: Iterable[str] = ("png",)) -> list[Path]:
    """Draw the prior plots in the project style and write ``<stem>.<format>`` into ``folder``:
    ``priors`` (``priors_2``, ... for the model blocks that do not fit a figure of
    :data:`MAX_HEIGHT`), ``correlations`` (only when some priors are correlated) and
    ``prior_predictive`` (only with a ``result``, a forecast from ``prior_set``).

    Returns the written paths.
    """
    formats = tuple(formats)
    written = []
    with plot_style():
        pages = prior_pages(prior_set)
        for number, blocks in enumerate(pages, 1):
            title = (f"The priors: {prior_set.name}" if len(pages) == 1 else
                     f"The priors: {prior_set.name} ({number} of {len(pages)}: {', '.join(blocks).lower()})")
            stem = "priors" if number == 1 else f"priors_{number}"
            written += save_figure(plot_prior_densities(prior_set, blocks=blocks, title=title), folder, stem,
                                   formats=formats)
        if correlated_blocks(prior_set):
            written += save_figure(plot_correlations(prior_set), folder, "correlations", formats=formats)
        if result is not None:
            figure = plot_prior_predictive(result)
            written += save_figure(figure, folder, "prior_predictive", formats=formats)
    return written
