"""The run folder of ``forecast run``: samples.nc, the tables and the plots of one forecast."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from forecast.record.published import load_published
from forecast.record.runs import load_runs
from outputs.folder import write_via_memory
from outputs.plots.axes import save_figure
from outputs.plots.forecast import save_plots
from outputs.plots.labs import plot_labs
from outputs.style import plot_style
from outputs.tables import write_tables

__all__ = ["write_run"]


def write_run(result, folder: str | Path, *, formats=("png",)) -> list[Path]:
    """Write a forecast's files into an existing (staging) folder.

    ``samples.nc`` (every world; :func:`forecast.load` reads it back), ``summary.csv`` and
    ``summary.md`` (per-year table), ``timeline.csv``, ``crossing.csv``, ``priors.csv`` and
    ``priors.md``, with several labs ``labs.csv`` and ``lab_counts.csv``, and the plots ``fan``,
    ``timeline``, ``constraints``, ``resources`` (and ``labs``: who gets there first) in each format.

    Returns
    -------
    list of pathlib.Path
        The files written, in that order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the output folder must exist (see outputs.folder.staged_folder)")
    # in memory first: HDF5 crashes on a disk that fills while it writes
    written = [write_via_memory(result.to_netcdf, folder / "samples.nc", size=int(result.samples.nbytes))]
    written += write_tables(result, folder)
    written += save_plots(result, folder, record=load_runs(), published=load_published(), formats=tuple(formats))
    if len(result.labs) > 1:  # who gets there first
        with plot_style():
            figure = Figure(figsize=(8, 4.2), layout="constrained")
            if plot_labs(result, ax=figure.add_subplot()) is not None:  # None: no lab summary to draw
                written += save_figure(figure, folder, "labs", formats=tuple(formats))
    return written
