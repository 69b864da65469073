"""The run folder of ``forecast run``: samples.nc, the tables and the plots of one forecast."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from matplotlib.figure import Figure

from forecast.record.published import load_published
from forecast.record.runs import load_runs
from forecast.stream import TARGET
from outputs.folder import write_via_memory
from outputs.plots.axes import figure_files, write_files
from outputs.plots.forecast import default_kinds, draw_plots
from outputs.plots.labs import plot_labs
from outputs.plots.resources import RESOURCE_PANELS
from outputs.style import plot_style
from outputs.tables import RESOURCES, write_tables
from outputs.write.worker import PlotWorker, WorkerLost

__all__ = ["run_plot_files", "summaries_only", "write_run"]


def write_run(result, folder: str | Path, *, formats=("png",), worker: PlotWorker | None = None) -> list[Path]:
    """Write a forecast's files into an existing (staging) folder.

    ``samples.nc`` (every world; :func:`forecast.load` reads it back), ``summary.csv`` and
    ``summary.md`` (per-year table), ``timeline.csv``, ``crossing.csv``, ``priors.csv`` and
    ``priors.md``, with several labs ``labs.csv`` and ``lab_counts.csv``, and the plots ``fan``,
    ``timeline``, ``constraints``, ``resources`` (and ``labs``: who gets there first) in each format.

    ``worker``: a :class:`~outputs.write.worker.PlotWorker` that draws the plots (from the
    result without its worlds: :func:`summaries_only`) while this process writes samples.nc
    and the tables; the files are the same, written here. Without one, or for a result whose
    summaries need its worlds, or if the worker dies, the plots are drawn here.

    Returns
    -------
    list of pathlib.Path
        The files written, in that order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the output folder must exist (see outputs.folder.staged_folder)")
    formats = tuple(formats)
    light = summaries_only(result) if worker is not None else None
    if light is not None:
        try:
            worker.submit(run_plot_files, light, formats)
        except WorkerLost:
            light = None
    # in memory first: HDF5 crashes on a disk that fills while it writes
    written = [write_via_memory(result.to_netcdf, folder / "samples.nc", size=int(result.samples.nbytes))]
    written += write_tables(result, folder)
    files = None
    if light is not None:
        try:
            files = worker.result()
        except WorkerLost:
            files = None
    if files is None:
        files = run_plot_files(result, formats)
    return written + write_files(folder, files)


def run_plot_files(result, formats=("png",)) -> list[tuple[str, bytes]]:
    """The plots of a run folder, drawn but not written: ``(name, bytes)`` pairs in order
    (:func:`outputs.plots.forecast.draw_plots`, and ``labs`` for a forecast of several labs)."""
    formats = tuple(formats)
    files = draw_plots(result, record=load_runs(), published=load_published(), formats=formats)
    if len(result.labs) > 1:  # who gets there first
        with plot_style():
            figure = Figure(figsize=(8, 4.2), layout="constrained")
            if plot_labs(result, ax=figure.add_subplot()) is not None:  # None: no lab summary to draw
                files += figure_files(figure, "labs", formats=formats)
    return files


def summaries_only(result):
    """``result`` without its worlds (a few MB to send to the plot worker, not hundreds),
    when every summary the plots draw comes from its tally (the statistics streamed over
    every world); None when one needs the worlds."""
    if result.tally is None:
        return None
    streamed = set(result.tally["quantity"].values)
    needed = {TARGET}
    if "resources" in default_kinds(result):
        needed |= {RESOURCES[column][0] for column, _ in RESOURCE_PANELS}
    if not needed <= streamed or (len(result.labs) > 1 and "lead" not in result.tally):
        return None
    return dataclasses.replace(result, samples=result.samples.isel(sample=slice(0, 0)))
