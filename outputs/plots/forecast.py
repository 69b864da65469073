"""The plots of one forecast by name (``forecast plot --kind``, the run folder, the report,
the app), :func:`drawn_plots`, which draws them, :func:`save_plots`, which writes them, and
:func:`run_plot_files`, the plots of a run folder.

The charts themselves live in :mod:`outputs.plots.fan`, :mod:`outputs.plots.timeline` and
:mod:`outputs.plots.resources`. No matplotlib setting changes at import: :func:`drawn_plots`
and :func:`run_plot_files` apply the project's look (:func:`outputs.plot_style`), drawing on plain
:class:`matplotlib.figure.Figure` objects (no pyplot, no display needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from matplotlib.figure import Figure

from forecast import ForecastResult
from outputs.folder import write_files
from outputs.plots.axes import figure_files
from outputs.plots.fan import plot_fan
from outputs.plots.labs import plot_labs
from outputs.plots.resources import RESOURCES_FIGSIZE, has_resources, plot_resources
from outputs.plots.timeline import plot_constraints, plot_timeline
from outputs.style import plot_style

__all__ = ["PLOTS", "PLOT_FIGURES", "default_kinds", "draw_plot", "drawn_plots", "run_plot_files",
           "run_plot_kinds", "save_plots"]

#: Plot kinds by name, for ``forecast plot --kind`` and the report.
PLOTS: dict[str, Callable] = {
    "fan": plot_fan,
    "timeline": plot_timeline,
    "constraints": plot_constraints,
    "resources": plot_resources,
}

#: Kinds that lay out a figure of several axes, with the figure's size: their function takes
#: ``fig`` instead of ``ax``.
PLOT_FIGURES: dict[str, tuple[float, float]] = {
    "resources": RESOURCES_FIGSIZE,
}

#: Kinds that draw the record of frontier runs and the published forecasts.
_WITH_RECORD = frozenset({"fan"})


def draw_plot(kind: str, result: ForecastResult, figure: Figure, *, record=None, published=None, **options):
    """Draw the plot ``kind`` of ``result`` on the empty ``figure``: on one new axes, or laid
    out over the figure for the kinds of :data:`PLOT_FIGURES`. ``record`` and ``published``
    (tables, as :func:`forecast.record.runs.load_runs` and
    :func:`forecast.record.published.load_published` return them) go to the kinds that draw
    them; ``options`` to the plot function."""
    if kind in _WITH_RECORD:
        options = {"record": record, "published": published, **options}
    if kind in PLOT_FIGURES:
        return PLOTS[kind](result, fig=figure, **options)
    return PLOTS[kind](result, ax=figure.add_subplot(), **options)


def save_plots(
    result: ForecastResult,
    folder: str | Path,
    *,
    record=None,
    published=None,
    kinds: Iterable[str] | None = None,
    formats: Iterable[str] = ("png",),
) -> list[Path]:
    """Draw each plot kind in the project style and write ``<kind>.<format>`` into ``folder``
    (:func:`drawn_plots`); the written paths."""
    return write_files(folder, drawn_plots(result, record=record, published=published, kinds=kinds, formats=formats))


def drawn_plots(
    result: ForecastResult,
    *,
    record=None,
    published=None,
    kinds: Iterable[str] | None = None,
    formats: Iterable[str] = ("png",),
) -> dict[str, bytes]:
    """Each plot kind drawn in the project style: ``{"<kind>.<format>": bytes}``.

    ``record`` and ``published``: the record of frontier runs and the published forecasts to
    draw on the fan chart (tables the caller loaded; None draws none). ``kinds``: all of
    :data:`PLOTS` by default (less ``resources`` for a forecast saved before the model
    recorded them). Figures are plain :class:`~matplotlib.figure.Figure` objects, so no
    window opens and nothing is left in pyplot's figure list; the kinds of
    :data:`PLOT_FIGURES` lay out their own figure.
    """
    kinds = default_kinds(result) if kinds is None else tuple(kinds)
    unknown = [k for k in kinds if k not in PLOTS]
    if unknown:
        raise ValueError(f"unknown plot kind(s) {', '.join(unknown)}; use {', '.join(PLOTS)}")
    files = {}
    with plot_style():
        for kind in kinds:
            figure = Figure(figsize=PLOT_FIGURES.get(kind), layout="constrained")
            draw_plot(kind, result, figure, record=record, published=published)
            files |= figure_files(figure, kind, formats=formats)
    return files


def run_plot_kinds(result: ForecastResult) -> tuple[str, ...]:
    """The plots of a run folder (``forecast run``): :func:`default_kinds`, then, with several
    labs, ``labs`` (who gets there first)."""
    return default_kinds(result) + (("labs",) if len(result.labs) > 1 else ())


def run_plot_files(result: ForecastResult, *, record=None, published=None,
                   formats: Iterable[str] = ("png",), kinds: Iterable[str] | None = None) -> dict[str, bytes]:
    """The plots of a run folder, ``{"<name>.<format>": bytes}``: those of
    :func:`run_plot_kinds` (only those among ``kinds``, where given), in that order, drawn
    by :func:`drawn_plots` (``record`` and ``published`` on the fan chart, as there)."""
    formats = tuple(formats)
    wanted = None if kinds is None else set(kinds)
    kinds = [k for k in run_plot_kinds(result) if wanted is None or k in wanted]
    files = drawn_plots(result, record=record, published=published, formats=formats,
                        kinds=[k for k in kinds if k != "labs"])
    if "labs" in kinds:
        with plot_style():
            figure = Figure(figsize=(8, 4.2), layout="constrained")
            if plot_labs(result, ax=figure.add_subplot()) is not None:  # None: no lab summary to draw
                files |= figure_files(figure, "labs", formats=formats)
    return files


def default_kinds(result: ForecastResult) -> tuple[str, ...]:
    """The kinds of :data:`PLOTS` that ``result`` has the samples for: all of them, less
    ``resources`` for a forecast saved before the model recorded power, capital, cost, energy."""
    return tuple(k for k in PLOTS if k != "resources" or has_resources(result))
