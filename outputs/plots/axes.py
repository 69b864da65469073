"""What every plot module shares: new axes, the caption and the legend under the axes, the
year axis, the as-of line, and saving a figure.

Every name here is public: a plot module imports what it uses from here, never another plot
module's private helpers.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import PercentFormatter
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from matplotlib.transforms import ScaledTranslation

from forecast import ForecastResult
from forecast.conditioning import day_end
from outputs.folder import write_files

__all__ = ["CAPTION_COLOR", "COLUMN_SPACING", "HANDLE_LENGTH", "RECORD_COLOR", "add_caption",
           "as_of_position", "below_xaxis", "caption", "figure_files", "figure_title",
           "legend_and_caption", "legend_below", "legend_columns", "mark_as_of", "new_axes",
           "png_bytes", "points", "result_as_of", "save_figure", "share_axis", "year_axis",
           "years_after"]

#: The grey of the line under a plot.
CAPTION_COLOR = "#666666"
#: The near-black of the record of frontier runs (line, markers, reference marks).
RECORD_COLOR = "#222222"
#: Legend handles' length and the space between legend columns, in font sizes.
HANDLE_LENGTH, COLUMN_SPACING = 1.8, 1.5


def caption(result: ForecastResult) -> str:
    """``prior set: default · 2,000 worlds · seed 2024`` and ``· conditioned on the record
    as published by 2026-12-06`` for a conditioned forecast, ``· prior, not conditioned on
    the record`` for any other."""
    text = f"prior set: {result.name} · {result.n_samples:,} worlds · seed {result.seed}"
    conditioned = result.metadata.get("conditioned_on")
    return f"{text} · conditioned on {conditioned}" if conditioned else f"{text} · prior, not conditioned on the record"


def new_axes(ax, *, figsize: tuple[float, float] | None = None):
    """``ax``, or the axes of a new figure that lays itself out (legends outside included)."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def add_caption(ax, result: ForecastResult | None, text: str | bool | None, *, below=None) -> None:
    """The grey line under the plot: one per axes (a later call replaces the earlier one).

    ``text``: a string, False for none, or None (True) for :func:`caption` of ``result``. It
    hangs under ``below`` (an artist such as a legend under the axes), else under the x label.
    """
    old = getattr(ax, "_forecast_caption", None)
    if old is not None and old in ax.texts:  # not when the axes were cleared since
        old.remove()
    ax._forecast_caption = None
    if text is False:
        return
    # Aligned with the axes' left edge; constrained layout makes room; wrapped to the width
    # of a figure (about 11 characters an inch in small type)
    text = caption(result) if text is None or text is True else text
    width = max(int(ax.figure.get_figwidth() * 12), 60)
    text = "\n".join(textwrap.fill(line, width) for line in str(text).split("\n"))
    ax._forecast_caption = ax.annotate(
        text,
        xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label if below is None else below),
        xytext=(0, -3),
        textcoords="offset points", ha="left", va="top", fontsize="small", color=CAPTION_COLOR,
        gid="caption",
    )


def points(size) -> float:
    """A font size (a number or a name such as ``"small"``) in points."""
    return FontProperties(size=size).get_size_in_points()


def below_xaxis(ax) -> float:
    """Points from the axes' bottom edge to just under its x label (tick labels horizontal)."""
    tick = ax.xaxis.get_major_ticks()[0]
    depth = tick.get_tick_padding() + tick.get_pad() + 1.25 * tick.label1.get_fontsize()
    if ax.get_xlabel():
        depth += ax.xaxis.labelpad + 1.25 * ax.xaxis.label.get_fontsize()
    return depth + 2


def legend_columns(ax, labels, fontsize: float) -> int:
    """As many legend columns as the labels' estimated widths fit across the axes."""
    # From the axes' left edge to the figure's right edge, less a margin.
    width = (1 - ax.get_position().x0) * ax.figure.get_figwidth() * 72 * 0.95
    width = min(width, ax.get_position().width * ax.figure.get_figwidth() * 72 * 1.15)
    entries = [(HANDLE_LENGTH + 0.8) * fontsize + 0.55 * fontsize * len(label) for label in labels]
    for ncols in range(len(labels), 1, -1):
        columns = [max(entries[c::ncols]) for c in range(ncols)]
        if sum(columns) + (ncols - 1) * COLUMN_SPACING * fontsize <= width:
            return ncols
    return 1


def legend_below(ax, handles, labels, *, ncols: int | None = None):
    """A legend under the x label, left-aligned with the axes, read row by row.

    Outside the axes, so no line of the plot runs through it; a figure with a layout engine
    (constrained layout, the project style's default) makes room for it.
    """
    fontsize = points(plt.rcParams["legend.fontsize"])
    ncols = ncols or legend_columns(ax, labels, fontsize)
    ncols = max(1, min(ncols, len(labels)))
    # matplotlib fills a legend column by column: reorder so it reads row by row.
    order = [i for c in range(ncols) for i in range(c, len(labels), ncols)]
    offset = ScaledTranslation(0, -below_xaxis(ax) / 72, ax.figure.dpi_scale_trans)
    return ax.legend(
        [handles[i] for i in order], [labels[i] for i in order], loc="upper left", ncols=ncols,
        bbox_to_anchor=(0, 0), bbox_transform=ax.transAxes + offset, borderaxespad=0,
        handlelength=HANDLE_LENGTH, columnspacing=COLUMN_SPACING,
    )


def legend_and_caption(ax, result: ForecastResult | None, text: str | bool | None, handles, labels, *,
                       ncols: int | None = None) -> None:
    """The legend under the axes (:func:`legend_below`) and the caption under the legend."""
    legend = legend_below(ax, handles, labels, ncols=ncols)
    add_caption(ax, result, text, below=legend)


def year_axis(ax, years=None, *, limits: tuple[float, float] | None = None) -> None:
    """Years along x, integer ticks; shown from ``limits``, else the years with a margin."""
    ax.set_xlabel("year the run finishes")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(*(limits if limits is not None else (min(years) - 0.3, max(years) + 0.3)))


def share_axis(ax, label: str, limits: tuple[float, float]) -> None:
    """Shares along y, as percentages."""
    ax.set_ylim(*limits)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel(label)


# --- the as-of date ---------------------------------------------------------------------------


def result_as_of(result: ForecastResult | None) -> dt.date | None:
    """The date a forecast was conditioned on (its ``as_of`` metadata), or None."""
    text = str((result.metadata if result is not None else {}).get("as_of") or "none")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def as_of_position(as_of: dt.date) -> float:
    """The as-of date on a year axis: the end of its day as a decimal year."""
    return day_end(as_of)


def years_after(years, as_of: dt.date | None):
    """The mask of ``years`` that end after ``as_of`` (all of them without one; never none)."""
    years = np.asarray(years, dtype=float)
    if as_of is None:
        return np.ones(years.shape, bool)
    mask = years + 1 > as_of_position(as_of) + 1e-9
    return mask if mask.any() else np.ones(years.shape, bool)


def mark_as_of(ax, as_of: dt.date | None, *, label: bool = True, below: float | None = None) -> None:
    """A dotted vertical line at the as-of date on a year axis, named at its top; the
    record is known to its left, the forecast lies to its right. ``below``: a y value (in
    data units) that a line runs along at the top of the axes, such as a probability axis's
    100%: the name hangs under it instead of striking through it."""
    if as_of is None:
        return
    x = as_of_position(as_of)
    ax.axvline(x, color="#555555", linestyle=":", linewidth=1.0, zorder=2.5, gid="as-of")
    if label:  # on the side with more room (the axes' limits are set by now)
        left, right = ax.get_xlim()
        room_left = (x - left) > (right - x)
        top = (1, "axes fraction") if below is None else (below, "data")
        ax.annotate(f"as of {as_of.day} {as_of:%b %Y}", (x, top[0]), xycoords=("data", top[1]),
                    xytext=(-3 if room_left else 3, -3 if below is None else -6), textcoords="offset points",
                    ha="right" if room_left else "left", va="top", fontsize=6.5, color="#444444",
                    zorder=6, gid="as-of-label",
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])


# --- saving -------------------------------------------------------------------------------------

#: Metadata that would put the time into a file: left out, so the same plot gives the same bytes.
NO_TIMESTAMP = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def figure_title(figure: Figure) -> str:
    """The title a reader sees on ``figure``, one line: its suptitle (a subfigure's
    included), else the titles of its first titled axes, ``""`` when it has none."""
    figures = [figure, *getattr(figure, "subfigs", [])]
    for fig in figures:
        suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
        if suptitle.strip():
            return " ".join(suptitle.split())
    for ax in figure.get_axes():
        text = " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t.strip())
        if text.strip():
            return " ".join(text.split())
    return ""


def save_figure(figure: Figure, folder: str | Path, stem: str, *, formats: Iterable[str] = ("png",)) -> list[Path]:
    """Write ``figure`` as ``<stem>.<format>`` into ``folder`` for each format
    (:func:`figure_files`); the paths."""
    return write_files(folder, figure_files(figure, stem, formats=formats))


def figure_files(figure: Figure, stem: str, *, formats: Iterable[str] = ("png",)) -> dict[str, bytes]:
    """The files of ``figure``, ``{"<stem>.<format>": bytes}`` for each format, as
    :func:`save_figure` writes them. Each file records the figure's title
    (:func:`figure_title`) in its metadata (``Title``). A PNG is drawn once
    (:func:`png_bytes`), other formats through ``savefig``."""
    files = {}
    title = figure_title(figure)
    for fmt in formats:
        metadata = {**NO_TIMESTAMP[fmt], **({"Title": title} if title else {})}
        if fmt == "png":
            files[f"{stem}.{fmt}"] = png_bytes(figure, metadata=metadata)
        else:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, metadata=metadata)
            files[f"{stem}.{fmt}"] = buffer.getvalue()
    return files


def png_bytes(figure: Figure, *, metadata: dict | None = None) -> bytes:
    """The PNG of ``figure.savefig(..., format="png")``, pixel for pixel, drawn once and
    encoded in half the time.

    ``savefig`` of a figure with a layout engine (constrained layout, the project style's
    default) draws it twice: once, rendering nothing, to run the layout, then again to
    render with the layout turned off. Drawing on an Agg canvas at the ``savefig.dpi`` runs
    the layout at the start of the one draw that renders, which is what the second draw
    sees: the same pixels for ~10% less time. An opaque figure (all of the project's) is
    then written as RGB, not RGBA (its alpha is 255 everywhere), at zlib level
    :data:`PNG_COMPRESS_LEVEL`: the PNG encoder's time halves (~0.3 -> ~0.15 s for a run
    folder's five plots) and the files are no larger (3% smaller in all). The metadata are
    savefig's (``Software``, ``dpi``, and ``metadata``). Only ``savefig.bbox: standard``
    and an opaque ``savefig`` (the project's) are drawn so; a ``tight`` box or
    ``savefig.transparent`` goes through ``savefig``.
    """
    if mpl.rcParams["savefig.bbox"] not in (None, "standard") or mpl.rcParams["savefig.transparent"]:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata=metadata)
        return buffer.getvalue()
    dpi = mpl.rcParams["savefig.dpi"]
    dpi = figure.dpi if dpi == "figure" else dpi
    colors = {prop: mpl.rcParams[f"savefig.{prop}"] for prop in ("facecolor", "edgecolor")}
    colors = {prop: color for prop, color in colors.items() if not (isinstance(color, str) and color == "auto")}
    canvas, kept = figure.canvas, {"dpi": figure.dpi, "facecolor": figure.get_facecolor(),
                                   "edgecolor": figure.get_edgecolor()}
    try:
        figure.set(dpi=dpi, **colors)
        agg = FigureCanvasAgg(figure)
        agg.draw()
        rgba = np.asarray(agg.buffer_rgba())
    finally:
        figure.set(**kept)
        figure.set_canvas(canvas)
    image = Image.fromarray(rgba[..., :3] if (rgba[..., 3] == 255).all() else rgba)
    info = PngInfo()
    for key, value in {"Software": f"Matplotlib version{mpl.__version__}, https://matplotlib.org/",
                       **(metadata or {})}.items():
        if value is not None:
            info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="png", pnginfo=info, dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


#: zlib level of the PNG files (savefig's is Pillow's default, 6): 3 takes half the time,
#: and written as RGB the files are about the size of savefig's RGBA at level 6.
PNG_COMPRESS_LEVEL = 3
