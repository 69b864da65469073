"""Plots of a sweep (:func:`forecast.sweep.sweep`): what you would need to believe.

Two varied priors: a heat map of P(run >= threshold by year) with contours at 10, 50 and
90%, the priors' own medians and 90% intervals marked. One varied prior: the probability
as a curve with its 90% Monte Carlo band. Axes are in the priors' units, on a log scale
for priors stated on one. No matplotlib setting is changed at import: the caller applies
the project style (``plot_style()``).
"""

from __future__ import annotations

import math
import textwrap

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from forecast.headline import MC_INTERVAL, mc_half_width
from forecast.sweep import crossings
from outputs.plots.axes import CAPTION_COLOR
from outputs.style import BAND_COLOR, MEDIAN_COLOR
from outputs.text import flop_label, format_number, prior_label

__all__ = ["CONTOUR_LEVELS", "plot_sweep", "plot_sweep_curve", "plot_sweep_map", "sweep_caption", "sweep_title"]

#: Probabilities the heat map draws contours at.
CONTOUR_LEVELS = (0.1, 0.5, 0.9)
_CMAP = "viridis"
_PRIOR_COLOR = "#D55E00"
#: Characters per line of a title (the figure is 7 inches wide).
_TITLE_WIDTH = 64


def sweep_title(grid: xr.Dataset) -> str:
    """``Chance of a run of at least 1e28 FLOP by 2028``."""
    return f"Chance of a training run of at least {flop_label(grid.attrs['threshold'])} FLOP by {grid.attrs['year']}"


def question(grid: xr.Dataset) -> str:
    """``P(run >= 1e28 FLOP by 2028)`` (with a real >=)."""
    return f"P(run \u2265 {flop_label(grid.attrs['threshold'])} FLOP by {grid.attrs['year']})"


def sweep_caption(grid: xr.Dataset) -> str:
    """The grey line under a sweep: what is random, prior set, worlds, seed, conditioning."""
    text = (f"other priors drawn from their priors · prior set: {grid.attrs['prior_set']} · "
            f"{int(grid.attrs['samples']):,} worlds per point · seed {grid.attrs['seed']}")
    if grid.attrs.get("as_of", "none") != "none":
        text += f" · conditioned on {grid.attrs['conditioned_on']}"
    return text


def _number(value: float, _pos=None) -> str:
    """A tick label in the prior files' notation (:func:`outputs.text.format_number`)."""
    return format_number(value)


def axis_label(coord: xr.DataArray) -> str:
    """``growth of the chip count (x/yr)``: the prior in prose, with its unit."""
    unit = coord.attrs.get("units", "")
    name = prior_label(str(coord.name))
    return f"{name} ({unit})" if unit and unit not in name and unit not in ("fraction", "-") else name


def color_limits(p: np.ndarray) -> tuple[float, float]:
    """The colour scale of a heat map: the data's range widened to whole 10% steps."""
    low, high = float(np.nanmin(p)), float(np.nanmax(p))
    low, high = math.floor(low * 10 + 1e-9) / 10, math.ceil(high * 10 - 1e-9) / 10
    return (low, high) if high > low else (max(low - 0.1, 0.0), min(high + 0.1, 1.0))


def absent_levels(p: np.ndarray, levels=CONTOUR_LEVELS) -> str:
    """``no 10% contour: every point is above 10%`` for each level the data do not cross."""
    low, high = float(np.nanmin(p)), float(np.nanmax(p))
    above = [lv for lv in levels if low >= lv]
    below = [lv for lv in levels if high <= lv]
    if not above and not below:
        return ""
    missing = " or ".join(f"{lv:.0%}" for lv in sorted(above + below))
    notes = ([f"every point is at or above {max(above):.0%}"] if above else []) + (
        [f"every point is at or below {min(below):.0%}"] if below else [])
    return f"no {missing} contour: " + "; ".join(notes)


def _scale(axis, coord: xr.DataArray) -> None:
    """Log or linear value axis over the grid's range, ticks in the prior files' notation."""
    values = np.asarray(coord.values, dtype=float)
    low, high = float(values[0]), float(values[-1])
    set_scale = axis.axes.set_xscale if axis is axis.axes.xaxis else axis.axes.set_yscale
    if coord.attrs.get("spacing") == "log":
        set_scale("log")
        decades = math.log10(high / low)
        subs = (1.0,) if decades >= 2.5 else (1.0, 2.0, 5.0) if decades >= 1 else (
            (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0) if decades >= 0.3 else np.arange(1.0, 10.0, 0.25))
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
        axis.set_minor_locator(LogLocator(base=10, subs=np.arange(1.0, 10.0), numticks=12))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(_number))


def _edges(coord: xr.DataArray) -> np.ndarray:
    """Cell edges around the grid values: midpoints in the axis' scale, the ends mirrored."""
    values = np.asarray(coord.values, dtype=float)
    log = coord.attrs.get("spacing") == "log"
    u = np.log10(values) if log else values
    mid = (u[1:] + u[:-1]) / 2
    edges = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return 10**edges if log else edges


def _prior_interval(coord: xr.DataArray) -> tuple[float, float, float] | None:
    """The varied prior's own 5th, 50th and 95th percentile, or None if it was pinned."""
    values = tuple(float(coord.attrs.get(k, math.nan)) for k in ("prior_p05", "prior_p50", "prior_p95"))
    return values if all(math.isfinite(v) for v in values) else None


def _add_caption(ax, text: str) -> None:
    """The grey line under the figure (a figure label, so the layout makes room for it
    below rather than shrinking the axes to fit it beside a colour bar)."""
    ax.figure.supxlabel(textwrap.fill(text, 120), x=0.01, ha="left", fontsize="small", color=CAPTION_COLOR,
                        gid="caption")


def _contour_color(level: float, cmap) -> str:
    red, green, blue, _ = cmap(level)
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45 else "white"


def plot_sweep_map(grid: xr.Dataset, *, ax=None, caption: str | bool | None = None,
                   mesh_kwargs: dict | None = None, contour_kwargs: dict | None = None):
    """Heat map of the probability over two varied priors (first along x), contours at
    10/50/90% labelled in percent, a colour bar, the priors' medians and 90% intervals."""
    x_name, y_name = grid["probability"].dims
    x, y = grid[x_name], grid[y_name]
    p = grid["probability"].transpose(y_name, x_name).values
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 5.2), layout="constrained")
    cmap = mpl.colormaps[_CMAP]
    mesh_kwargs = dict(mesh_kwargs or {})
    mesh_kwargs.setdefault("cmap", cmap)
    vmin, vmax = color_limits(p)
    mesh_kwargs.setdefault("vmin", vmin)
    mesh_kwargs.setdefault("vmax", vmax)
    mesh_kwargs.setdefault("rasterized", True)
    mesh = ax.pcolormesh(_edges(x), _edges(y), p, shading="flat", **mesh_kwargs)
    _scale(ax.xaxis, x)
    _scale(ax.yaxis, y)
    ax.grid(False)
    levels = [lv for lv in CONTOUR_LEVELS if np.nanmin(p) < lv < np.nanmax(p)]
    if levels and min(p.shape) >= 2:
        contour_kwargs = dict(contour_kwargs or {})
        norm = mpl.colors.Normalize(mesh_kwargs["vmin"], mesh_kwargs["vmax"])
        contour_kwargs.setdefault("colors", [_contour_color(norm(lv), cmap) for lv in levels])
        contour_kwargs.setdefault("linewidths", [2.0 if lv == 0.5 else 1.2 for lv in levels])
        lines = ax.contour(x.values, y.values, p, levels=levels, **contour_kwargs)
        ax.clabel(lines, fmt={lv: f"{lv:.0%}" for lv in levels}, fontsize=8, inline=True, inline_spacing=4)
    handles = _mark_priors(ax, x, y)
    if handles:
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2,
                  fontsize="small", borderaxespad=0.2, handlelength=1.6)
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02, fraction=0.05)
    bar.set_label(question(grid))
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    norm = mesh.norm
    for lv in levels:
        bar.ax.axhline(lv, color=_contour_color(norm(lv), cmap), linewidth=2.0 if lv == 0.5 else 1.0)
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    base = float(grid.attrs.get("baseline_probability", math.nan))
    both_random = (f"; with both drawn from their priors instead, {base:.0%}" if math.isfinite(base) else "")
    subtitle = textwrap.fill(f"each cell: the two priors set to its values, the others drawn from "
                             f"their priors{both_random}", int(_TITLE_WIDTH * 1.4))
    ax.figure.suptitle(sweep_title(grid), x=0.01, ha="left", fontweight="bold")
    ax.set_title(subtitle, pad=18 if handles else 6, fontsize="small", fontweight="normal", loc="left")
    missing = absent_levels(p)
    if missing:
        ax.annotate(missing, (0.5, 0.01), xycoords="axes fraction", ha="center", va="bottom", fontsize="small",
                    color="#333333", gid="absent-contours",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    if caption is not False:
        _add_caption(ax, sweep_caption(grid) if caption in (None, True) else caption)
    return ax


def _mark_priors(ax, x: xr.DataArray, y: xr.DataArray) -> list:
    """The varied priors' medians (a cross) and 90% intervals (dashed box or lines)."""
    px, py = _prior_interval(x), _prior_interval(y)
    style = {"color": _PRIOR_COLOR, "linewidth": 1.2, "linestyle": (0, (4, 2))}
    handles = []
    if px and py:
        ax.add_patch(mpl.patches.Rectangle((px[0], py[0]), px[2] - px[0], py[2] - py[0], fill=False, **style))
        (marker,) = ax.plot([px[1]], [py[1]], marker="X", markersize=8, color=_PRIOR_COLOR,
                            markeredgecolor="white", linestyle="none")
        handles = [marker, mpl.patches.Patch(fill=False, edgecolor=_PRIOR_COLOR, linestyle="--")]
        marker.set_label("the priors' medians")
        handles[1].set_label("the priors' 90% intervals")
    elif px or py:
        interval, line = (px, ax.axvline) if px else (py, ax.axhline)
        for value in (interval[0], interval[2]):
            line(value, **style)
        median = line(interval[1], color=_PRIOR_COLOR, linewidth=1.6)
        handles = [median, mpl.lines.Line2D([], [], **style)]
        median.set_label(f"{prior_label((x if px else y).name)}: prior median")
        handles[1].set_label("its 90% interval")
    ax.set_xlim(_edges(x)[0], _edges(x)[-1])
    ax.set_ylim(_edges(y)[0], _edges(y)[-1])
    return handles


def plot_sweep_curve(grid: xr.Dataset, *, ax=None, caption: str | bool | None = None,
                     line_kwargs: dict | None = None, band_kwargs: dict | None = None):
    """The probability over one varied prior, with its 90% Monte Carlo band, the prior's
    own median and 90% interval, the forecast with the prior random, and the 50% crossing."""
    (name,) = grid["probability"].dims
    x = grid[name]
    p, se = grid["probability"].values, grid["mcse"].values
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    half = mc_half_width(se)
    band_kwargs = dict(band_kwargs or {})
    band_kwargs.setdefault("color", BAND_COLOR)
    band_kwargs.setdefault("alpha", 0.3)
    band_kwargs.setdefault("linewidth", 0)
    band_kwargs.setdefault("label", f"{MC_INTERVAL:.0%} Monte Carlo interval")
    ax.fill_between(x.values, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), **band_kwargs)
    line_kwargs = dict(line_kwargs or {})
    line_kwargs.setdefault("color", MEDIAN_COLOR)
    line_kwargs.setdefault("marker", "o" if len(p) <= 30 else None)
    line_kwargs.setdefault("markersize", 3)
    line_kwargs.setdefault("label", f"{prior_label(name)} set to each value, other priors drawn")
    ax.plot(x.values, p, **line_kwargs)
    interval = _prior_interval(x)
    if interval:
        ax.axvspan(interval[0], interval[2], color=_PRIOR_COLOR, alpha=0.08, linewidth=0,
                   label=f"the prior's 90% interval ({_number(interval[0])} to {_number(interval[2])})")
        ax.axvline(interval[1], color=_PRIOR_COLOR, linewidth=1.0, linestyle=(0, (4, 2)),
                   label=f"the prior's median ({_number(interval[1])})")
    base = float(grid.attrs.get("baseline_probability", math.nan))
    if math.isfinite(base):
        as_set = (f"{prior_label(name)} as the prior set has it, {x.attrs.get('prior_spec', '').split(' ')[0]}"
                  if x.attrs.get("varies") == "setting" else f"{prior_label(name)} drawn from its prior")
        ax.axhline(base, color="#555555", linewidth=1.0, linestyle=":", label=f"{as_set}: {base:.0%}")
    for value in crossings(grid["probability"], 0.5):
        ax.plot([value], [0.5], marker="o", markersize=6, color="white", markeredgecolor=MEDIAN_COLOR, zorder=5)
        ax.annotate(f"50% at {_number(value)}", (value, 0.5), xytext=(6, -12), textcoords="offset points",
                    fontsize="small", color=MEDIAN_COLOR)
    _scale(ax.xaxis, x)
    ax.set_xlim(float(x.values[0]), float(x.values[-1]))
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_locator(FixedLocator([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(question(grid))
    ax.set_title(textwrap.fill(sweep_title(grid) + f", by {prior_label(name)}", _TITLE_WIDTH))
    ax.legend(loc="best", fontsize="small")
    if caption is not False:
        _add_caption(ax, sweep_caption(grid) if caption in (None, True) else caption)
    return ax


def plot_sweep(grid: xr.Dataset, *, ax=None, **kwargs):
    """The heat map of a two-prior sweep, the curve of a one-prior sweep."""
    dims = grid["probability"].dims
    if len(dims) == 2:
        return plot_sweep_map(grid, ax=ax, **kwargs)
    if len(dims) == 1:
        return plot_sweep_curve(grid, ax=ax, **kwargs)
    raise ValueError(f"plot_sweep: expected a sweep over one or two priors, got dims {dims}")
