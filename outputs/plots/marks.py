"""Marks that several charts of compute by year share: the record of frontier runs, the
essays' reference estimates and the published forecasts, each labelled.

The record and the published forecasts come in as tables (the caller loads them with
:func:`forecast.record.runs.load_runs` and :func:`forecast.record.published.load_published`):
no plot reads a file. What a chart drew is kept in a ``state`` dict on its axes, so that a
second forecast on the same axes composes (the record and marks are drawn once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
from matplotlib import patheffects
from matplotlib.lines import Line2D

from forecast.record.frontier import record_as_known, yearly_frontier
from outputs.plots.axes import RECORD_COLOR, points
from outputs.style import REFERENCE_POINTS

__all__ = ["PUBLISHED_STYLES", "RECORD_YEARS", "draw_published_marks", "draw_record", "draw_reference_points",
           "place_published_labels", "record_points"]

#: Years of the record drawn before a forecast's first year on the fan chart.
RECORD_YEARS = 7


def record_points(record, first_year: int, last_year: int, *, as_of: dt.date | None = None):
    """``(years, log10 FLOP)`` of the largest run of ``record`` (a table of runs, as
    :func:`forecast.record.runs.load_runs` returns it) known by the end of each year in
    ``first_year..last_year`` (empty arrays where it holds none of them); with ``as_of``, the
    record as it was published by that date."""
    frontier = yearly_frontier(record if as_of is None else record_as_known(record, as_of))
    frontier = frontier.loc[(frontier.index >= first_year) & (frontier.index <= last_year)]
    return frontier.index.to_numpy(dtype=float), frontier["log10_compute"].to_numpy(dtype=float)


def draw_record(ax, state, record, first: int, record_kwargs: Mapping | None, *,
                as_of: dt.date | None = None, last: int | None = None) -> list:
    """The record over the :data:`RECORD_YEARS` years up to ``first`` (to the as-of year
    with ``as_of``: the record as published by then, and hollow marks for the records set
    by runs published after it, up to ``last``), entered in ``state``: ``[(left, low)]``,
    the lower-left corner it needs in view, or ``[]`` when there is none."""
    end = first if as_of is None else max(first, as_of.year)
    record_years, record_values = record_points(record, first - RECORD_YEARS, end, as_of=as_of)
    if not len(record_years):
        return []
    record_kwargs = dict(record_kwargs or {})
    record_kwargs.setdefault("color", RECORD_COLOR)
    record_kwargs.setdefault("marker", "o")
    record_kwargs.setdefault("markersize", 3.5)
    record_kwargs.setdefault("linewidth", 0.8)
    record_kwargs.setdefault("zorder", 4)
    record_kwargs.setdefault("gid", "record")
    (line,) = ax.plot(record_years, record_values, **record_kwargs)
    name = "largest run known (record)" if as_of is None else f"largest run published by {as_of.isoformat()}"
    state["shared"].append((line, name))
    state["drawn"].add("record")
    if as_of is not None:
        later_years, later_values = record_points(record, first - RECORD_YEARS, last if last is not None else end)
        known = dict(zip(record_years, record_values))
        new = [(y, v) for y, v in zip(later_years, later_values) if y not in known or v > known[y] + 1e-9]
        if new:
            marks = ax.scatter(*zip(*new), marker="o", s=16, facecolor="white", edgecolor=RECORD_COLOR,
                               linewidth=0.9, zorder=4, gid="record-later")
            state["shared"].append((marks, f"record published after {as_of.isoformat()}"))
    return [(float(record_years.min()) - 0.5, float(record_values.min()))]


def draw_reference_points(ax, state, reference_kwargs: Mapping | None) -> list:
    """The essays' estimates of 2024 systems, marked and labelled, entered in ``state``:
    ``[(left, low)]``, the lower-left corner they need in view."""
    reference_kwargs = dict(reference_kwargs or {})
    reference_kwargs.setdefault("color", RECORD_COLOR)
    reference_kwargs.setdefault("marker", "D")
    reference_kwargs.setdefault("facecolor", "white")
    reference_kwargs.setdefault("linewidth", 1.0)
    reference_kwargs.setdefault("s", 18)
    reference_kwargs.setdefault("zorder", 5)
    if "color" in reference_kwargs and "edgecolor" not in reference_kwargs:
        reference_kwargs["edgecolor"] = reference_kwargs.pop("color")
    marked = REFERENCE_POINTS
    marks = ax.scatter([p["year"] for p in marked], [p["log10_flop"] for p in marked], **reference_kwargs)
    state["shared"].append((marks, "hardware estimates for 2024 systems"))
    state["drawn"].add("reference")
    for point in marked:
        # Left of the marker: the forecast starts to its right.
        ax.annotate(point["short"], (point["year"], point["log10_flop"]),
                    xytext=(-6, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=6.5, color="#444444")
    return [(min(p["year"] for p in marked) - 0.6, min(p["log10_flop"] for p in marked))]


# Published forecasts: one marker per kind, Okabe-Ito colours (colour-blind safe) told apart
# by shape as well; black edges keep them clear of the blue bands.
PUBLISHED_STYLES = {
    "median": {"marker": "o", "color": "#009E73", "label": "published: median"},
    "feasible_upper_bound": {"marker": "v", "color": "#D55E00", "label": "published: feasible upper bound"},
    "scenario": {"marker": "s", "color": "#E69F00", "label": "published: scenario"},
    "projection": {"marker": "P", "color": "#CC79A7", "label": "published: projection"},
}
_PUBLISHED_FONTSIZE = 6.5
_PUBLISHED_LABEL_COLOR = "#333333"
#: Points from a marker's centre up to its label's baseline: a threshold line through the
#: marker (forecasts are often round numbers such as 1e28) passes under the text.
_LABEL_RAISE = 1.5


def draw_published_marks(ax, state, published, published_kwargs: Mapping | None) -> None:
    """A marker per published forecast of the table ``published`` (as
    :func:`forecast.record.published.load_published` returns it) whose year lies in the
    chart's x range (``state["xlim"]``) and that is not on the axes yet, one legend entry per
    kind drawn; raises the top of ``state["ylim"]`` to show them. Labels come later
    (:func:`place_published_labels`), once the limits are set."""
    left, right = state["xlim"]
    drawn = state.setdefault("published", {})
    published_kwargs = dict(published_kwargs or {})
    for row in published.itertuples(index=False):
        key = (row.source, int(row.year), float(row.flop))
        if key in drawn or not left <= row.year <= right:
            continue
        style = PUBLISHED_STYLES[row.kind]
        kwargs = dict(published_kwargs)
        kwargs.setdefault("marker", style["marker"])
        kwargs.setdefault("markerfacecolor", style["color"])
        kwargs.setdefault("markeredgecolor", "black")
        kwargs.setdefault("markeredgewidth", 0.6)
        kwargs.setdefault("markersize", 5.5)
        kwargs.setdefault("linestyle", "none")
        kwargs.setdefault("zorder", 6)
        kwargs.setdefault("gid", "published")
        (mark,) = ax.plot([float(row.year)], [float(row.log10_flop)], **kwargs)
        drawn[key] = {"mark": mark, "label": None, "text": row.source}
        if f"published:{row.kind}" not in state["drawn"]:
            state["drawn"].add(f"published:{row.kind}")
            handle = Line2D([], [], linestyle="none", marker=kwargs["marker"],
                            markerfacecolor=kwargs["markerfacecolor"],
                            markeredgecolor=kwargs["markeredgecolor"],
                            markeredgewidth=kwargs["markeredgewidth"], markersize=kwargs["markersize"])
            state["shared"].append((handle, style["label"]))
        bottom, top = state["ylim"]
        state["ylim"] = (min(bottom, float(np.floor(row.log10_flop - 0.2))),
                         max(top, float(np.ceil(row.log10_flop + 0.2))))


def place_published_labels(ax, state) -> None:
    """The short name of each published forecast beside its marker, in small type with a
    white halo, its baseline just above the marker's centre (so a threshold line through the
    marker passes under it): left of the marker, in
    the open space above the fan where forecasts run ahead of it (right of the marker when
    there is no room), pushed apart vertically where two would overlap. Called again after
    each forecast on the axes, it places them all afresh."""
    drawn = state.get("published") or {}
    if not drawn:
        return
    fontsize = points(_PUBLISHED_FONTSIZE)
    gap, pad = 1.3 * fontsize, 5.0  # points between label lines (a line of text is ~1.2 font sizes tall); marker to label
    to_points = 72 / ax.figure.dpi
    axes_left = ax.get_window_extent().x0 * to_points
    entries = []
    for entry in drawn.values():
        if entry["label"] is not None and entry["label"] in ax.texts:
            entry["label"].remove()
        x, y = (float(v[0]) for v in entry["mark"].get_data())
        px, py = (v * to_points for v in ax.transData.transform((x, y)))
        width = 0.55 * fontsize * len(entry["text"])
        right = px - pad - width < axes_left + 2
        x0, x1 = (px + pad, px + pad + width) if right else (px - pad - width, px - pad)
        entries.append({"entry": entry, "x": x, "y": y, "py": py, "x0": x0, "x1": x1,
                        "right": right})
    placed = []
    for item in sorted(entries, key=lambda e: e["py"]):
        level = item["py"]
        for other in placed:  # stack above any earlier label it would overlap
            if item["x0"] < other["x1"] and other["x0"] < item["x1"] and level < other["level"] + gap:
                level = other["level"] + gap
        item["level"] = level
        placed.append(item)
        shift = level - item["py"]
        item["entry"]["label"] = ax.annotate(
            item["entry"]["text"], (item["x"], item["y"]),
            xytext=(pad if item["right"] else -pad, shift + _LABEL_RAISE), textcoords="offset points",
            ha="left" if item["right"] else "right", va="baseline",
            fontsize=_PUBLISHED_FONTSIZE, color=_PUBLISHED_LABEL_COLOR, zorder=7,
            gid="published-label",
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
        )
