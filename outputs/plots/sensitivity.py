"""Plots of a :class:`forecast.sensitivity.SensitivityResult`: Sobol' bars, tornado, heat map.

Each ``plot_<thing>(result, *, ax=None, ...)`` draws on ``ax`` (a new figure when None) and
returns the axes; options for each drawn element come as their own dict, defaults filled in
with ``setdefault``. No matplotlib setting is changed at import: the project's plot style is
applied by the caller (``plot_style()``) around these calls.

Correlated priors: a Sobol' bar or heat-map row may be a group (``a + b + c``, wrapped over
lines), and the plots say so; a tornado bar of a correlated prior is marked ``*`` and a note
under the axis says that its pin moved its partners.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.ticker import FuncFormatter

from forecast.sensitivity.analysis import SensitivityResult
from forecast.sensitivity.worlds import GROUP_JOIN, OUTPUTS, group_members
from outputs.plots.axes import new_axes
from outputs.text import flop_label, format_percent, prior_label

__all__ = ["GROUP_NOTE", "TORNADO_NOTE", "plot_sensitivity_by_year", "plot_sobol", "plot_tornado"]

#: What a reader of a Sobol' plot or table with groups must know.
GROUP_NOTE = "correlated priors attributed as a group: one joint index"
#: What a reader of a tornado with correlated priors must know.
TORNADO_NOTE = ("* pinning a correlated prior moves its partners as the copula implies\n"
                "(conditional), so its bar includes theirs")
#: Characters per line of a wrapped group label.
_LABEL_WIDTH = 36
#: Characters of a bold title line over a 7-inch-wide bar chart, right of its labels.
_TITLE_WIDTH = 62
#: Width of a heat map's prior labels and colour bar, and of each year's column, in inches;
#: a title line fits about :data:`_TITLE_CHARS_PER_INCH` characters per inch of axes.
_HEAT_MARGIN_IN, _HEAT_YEAR_IN, _TITLE_CHARS_PER_INCH = 3.6, 0.5, 12

_OUTPUT_LABELS = {
    "log10_compute": "size of the largest run in {year}",
    "crossing_year": "year of the first run of at least {threshold} FLOP",
    "reached": "chance of a run of at least {threshold} FLOP by {year}",
}
#: A tornado row whose bar is narrower than this share of the widest, and than
#: :data:`_NO_EFFECT` in the metric's own unit, has no visible effect: it is left out.
_NO_EFFECT_SHARE = 0.02
_NO_EFFECT = {"median": 0.02, "probability": 0.001}
# Okabe-Ito, as the rest of the project's plots.
_S1_COLOR, _ST_COLOR = "#0072B2", "#E69F00"
_LOW_COLOR, _HIGH_COLOR = "#0072B2", "#D55E00"


def _output_label(result: SensitivityResult, output: str) -> str:
    return _OUTPUT_LABELS[output].format(year=result.target_year, threshold=flop_label(result.threshold))


def _wrap_label(label: str, width: int = _LABEL_WIDTH) -> str:
    """A ``prior`` label in prose (each prior as :func:`~outputs.text.prior_label` names
    it); a group ``a + b + c`` over lines of about ``width`` characters, broken after a
    ``+``."""
    members = [prior_label(member) for member in group_members(label)]
    lines, line = [], members[0]
    for member in members[1:]:
        if len(line) + len(GROUP_JOIN) + len(member) > width:
            lines.append(line + GROUP_JOIN.rstrip())
            line = member
        else:
            line += GROUP_JOIN + member
    return "\n".join([*lines, line])


def _wrap_title(lines, width: int) -> str:
    """Title ``lines``, each wrapped to ``width`` characters, so that no line runs past the
    axes (titles are centred on the axes, which sit right of the prior labels)."""
    return "\n".join(textwrap.fill(line, max(width, 30), break_on_hyphens=False) for line in lines)


def _row_positions(labels) -> tuple[np.ndarray, float]:
    """Centre of each row, rows as tall as their lines of label, and the total height in rows."""
    lines = np.array([str(label).count("\n") + 1 for label in labels], dtype=float)
    heights = 1.0 + 0.35 * (lines - 1)
    centres = np.cumsum(heights) - heights / 2 - 0.5
    return centres, float(heights.sum())


def _is_grouped(labels) -> bool:
    return any(GROUP_JOIN in str(label) for label in labels)


def plot_sobol(
    result: SensitivityResult,
    *,
    output: str = "log10_compute",
    top: int | None = None,
    ax=None,
    bar_kwargs: dict | None = None,
    errorbar_kwargs: dict | None = None,
):
    """First- and total-order indices of each prior for one output, with interval whiskers.

    Priors are sorted by total-order index, the largest on top; the title gives
    ``1 - sum S1``, the share of variance from interactions. A group of correlated priors is
    one bar pair, labelled with its priors, and the title says that such priors are
    attributed as a group.

    Parameters
    ----------
    output
        One of :data:`forecast.sensitivity.OUTPUTS`.
    top
        Show only the ``top`` most influential priors (all by default).
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    ds = result.sobol.sel(output=output)
    n_all = ds.sizes["prior"]
    order = np.argsort(-ds["ST"].values, kind="stable")[: top or None]
    ds = ds.isel(prior=order)
    labels = [_wrap_label(label) for label in ds["prior"].values]
    y, rows = _row_positions(labels)
    ax = new_axes(ax, figsize=(7.0, 1.0 + 0.32 * rows))
    bar_kwargs = dict(bar_kwargs or {})
    bar_kwargs.setdefault("height", 0.38)
    errorbar_kwargs = dict(errorbar_kwargs or {})
    errorbar_kwargs.setdefault("fmt", "none")
    errorbar_kwargs.setdefault("ecolor", "0.25")
    errorbar_kwargs.setdefault("elinewidth", 0.9)
    errorbar_kwargs.setdefault("capsize", 2)
    height = bar_kwargs["height"]
    for offset, index, color, label in ((-height / 2, "ST", _ST_COLOR, "total order"),
                                        (height / 2, "S1", _S1_COLOR, "first order")):
        values = ds[index].values
        ci = ds[f"{index}_ci"].transpose("prior", "bound").values
        ax.barh(y + offset, values, color=bar_kwargs.get("color", color), label=label,
                **{k: v for k, v in bar_kwargs.items() if k != "color"})
        err = np.abs(np.stack([values - ci[:, 0], ci[:, 1] - values]))
        ax.errorbar(values, y + offset, xerr=err, **errorbar_kwargs)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # most influential on top
    ax.axvline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel(f"Sobol' index ({ds.attrs.get('confidence', 0.9):.0%} bootstrap intervals)")
    interaction = 1.0 - float(ds["sum_S1"])
    shown = f"the {len(order)} largest of {n_all} · " if len(order) < n_all else ""
    lines = [f"What drives the {_output_label(result, output)}?",
             f"{shown}interactions (1 - sum S1): {interaction:.2f}"]
    if _is_grouped(ds["prior"].values):
        lines.append(GROUP_NOTE)
    ax.set_title(_wrap_title(lines, _TITLE_WIDTH))
    ax.legend(loc="lower right")
    return ax


def plot_tornado(
    result: SensitivityResult,
    *,
    metric: str = "median",
    top: int | None = None,
    ax=None,
    bar_kwargs: dict | None = None,
):
    """Each prior pinned at its low and high percentile: the shift of one headline number.

    Bars start at the unpinned value and end at the value with the prior pinned; widest on top.
    A correlated prior is marked ``*``: pinning it moves its partners as the copula implies
    (conditional), so its bar includes theirs, as a note under the axis says.

    Parameters
    ----------
    metric
        ``"median"`` (median log10 compute in the target year) or ``"probability"``
        (P(run >= threshold by the target year)).
    """
    if result.tornado is None:
        raise ValueError("this result has no tornado (run with with_tornado=True)")
    if metric not in ("median", "probability"):
        raise ValueError(f"metric must be 'median' or 'probability', got {metric!r}")
    ds = result.tornado
    width = ds[f"{metric}_width"].values
    visible = width >= max(_NO_EFFECT_SHARE * float(np.nanmax(width)), _NO_EFFECT[metric])
    if not visible.any():
        visible = width >= float(np.nanmax(width))
    hidden = int((~visible).sum())
    order = [i for i in np.argsort(-width, kind="stable") if visible[i]][: top or None]
    ds = ds.isel(prior=order)
    n = ds.sizes["prior"]
    base = float(ds[f"base_{metric}"])
    partners = ds["moves_with"].values if "moves_with" in ds.coords else [""] * n
    correlated = any(partners)
    own_figure = ax is None
    ax = new_axes(ax, figsize=(7.0, 1.6 + 0.3 * n + (0.35 if correlated else 0.0)))
    bar_kwargs = dict(bar_kwargs or {})
    bar_kwargs.setdefault("height", 0.7)
    y = np.arange(n)
    q_low, q_high = (float(q) for q in ds["quantile"].values)
    for pin, color, q in (("low", _LOW_COLOR, q_low), ("high", _HIGH_COLOR, q_high)):
        shift = ds[f"{metric}_shift"].sel(pin=pin).values
        ax.barh(y, shift, left=base, color=bar_kwargs.get("color", color),
                label=f"prior at its {100 * q:.0f}th percentile",
                **{k: v for k, v in bar_kwargs.items() if k != "color"})
    ax.axvline(base, color="0.2", linewidth=0.9)
    ax.set_yticks(y, [f"{prior_label(name)} *" if moved else prior_label(name)
                      for name, moved in zip(ds["prior"].values, partners)])
    ax.invert_yaxis()  # widest on top
    year, threshold = result.target_year, flop_label(result.threshold)
    if metric == "median":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: flop_label(10.0 ** value, 2)))
        xlabel = f"median largest run in {year}, FLOP (all priors drawn: {flop_label(10.0 ** base, 2)})"
        title = f"What moves the median largest run in {year}"
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{round(100 * value, 6):g}%"))
        xlabel = f"P(a run of at least {threshold} FLOP by {year}) (all priors drawn: {format_percent(base, 1)})"
        title = f"What moves the chance of a {threshold} FLOP run by {year}"
    notes = [f"one prior pinned at a time, the others drawn · {ds.attrs.get('samples', 0):,} worlds per bar end, "
             "same seed"]
    if hidden:
        notes.append(f"{hidden} prior{'s' if hidden > 1 else ''} with no visible effect left out")
    if correlated:
        notes.append(TORNADO_NOTE.replace("\n", " "))
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, fontsize="small", borderaxespad=0.2,
              frameon=False)
    ax.set_title(title, pad=20)
    caption = "\n".join(textwrap.fill(note, 100) for note in notes)
    if own_figure:  # under the figure; on a figure of the caller's, under the axis label
        ax.figure.supxlabel(caption, x=0.01, ha="left", fontsize="x-small", color="#666666", gid="caption")
    else:
        ax.set_xlabel(f"{xlabel}\n\n{caption}")
    return ax


def plot_sensitivity_by_year(
    result: SensitivityResult,
    *,
    top: int | None = None,
    ax=None,
    imshow_kwargs: dict | None = None,
    annotate: bool = True,
):
    """Heat map of each prior's total-order index on log10 compute, year by year.

    Rows are priors (or groups of correlated priors, attributed jointly), ordered by their
    largest index over the years (largest on top), so the shift from hardware- to data- or
    power-driven uncertainty reads down and across.
    """
    st = result.by_year["ST"].transpose("prior", "year")
    n_all = st.sizes["prior"]
    order = np.argsort(-st.max("year").values, kind="stable")[: top or None]
    st = st.isel(prior=order)
    values = np.clip(st.values, 0.0, 1.0)
    n_priors, n_years = values.shape
    labels = [_wrap_label(label) for label in st["prior"].values]
    # A label over several lines (a group of correlated priors) gets a row as tall as it
    # needs: its values are repeated over that many image rows, which read as one cell.
    spans = np.array([(label.count("\n") + 2) // 2 for label in labels])
    centres = np.cumsum(spans) - spans / 2 - 0.5
    n_rows = int(spans.sum())
    ax = new_axes(ax, figsize=(_HEAT_MARGIN_IN + _HEAT_YEAR_IN * n_years, 0.8 + 0.32 * n_rows))
    imshow_kwargs = dict(imshow_kwargs or {})
    imshow_kwargs.setdefault("cmap", "viridis")
    imshow_kwargs.setdefault("vmin", 0.0)
    # The scale ends at the largest index rounded up to the next 0.1, so the colours spread
    # over the values there are, not up to an index of 1 that no prior reaches.
    top_value = float(np.nanmax(values)) if values.size and np.isfinite(values).any() else 1.0
    imshow_kwargs.setdefault("vmax", min(1.0, max(0.1, np.ceil(round(top_value * 10, 9)) / 10)))
    imshow_kwargs.setdefault("aspect", "auto")
    image = ax.imshow(np.repeat(values, spans, axis=0), **imshow_kwargs)
    ax.grid(False)  # grid lines would strike through the numbers
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(n_years), [str(y) for y in st["year"].values], rotation=90)
    ax.set_yticks(centres, labels)
    if annotate:
        low, high = image.get_clim()
        for i in range(n_priors):
            for j in range(n_years):
                if values[i, j] >= 0.05:
                    # dark text on the bright (yellow-green) end of the map, white elsewhere
                    bright = (values[i, j] - low) / max(high - low, 1e-12) > 0.6
                    ax.text(j, centres[i], f"{values[i, j]:.2f}".lstrip("0"), ha="center", va="center",
                            fontsize=7, color="black" if bright else "white")
    colorbar = ax.figure.colorbar(image, ax=ax, label="total-order Sobol' index")
    colorbar.outline.set_visible(False)
    lines = ["What drives the uncertainty of the largest run, by year?"]
    if len(order) < n_all:
        lines.append(f"the {len(order)} largest of {n_all} priors")
    if _is_grouped(st["prior"].values):
        lines.append(GROUP_NOTE)
    ax.set_title(_wrap_title(lines, int(_TITLE_CHARS_PER_INCH * _HEAT_YEAR_IN * n_years)))
    return ax
