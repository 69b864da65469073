"""The run folder of ``forecast run``: samples.nc, the tables and the plots of one forecast."""

from __future__ import annotations

from pathlib import Path

from forecast.record.published import load_published
from forecast.record.runs import load_runs
from outputs.folder import write_files, write_via_memory
from outputs.tables import write_tables

__all__ = ["run_plots", "submit_plots", "write_run"]


def write_run(result, folder: str | Path, *, formats=("png",), plots=None) -> list[Path]:
    """Write a forecast's files into an existing (staging) folder.

    ``samples.nc`` (every world; :func:`forecast.load` reads it back), ``summary.csv`` and
    ``summary.md`` (per-year table), ``timeline.csv``, ``crossing.csv``, ``priors.csv`` and
    ``priors.md``, with several labs ``labs.csv`` and ``lab_counts.csv``, and the plots ``fan``,
    ``timeline``, ``constraints``, ``resources`` (and ``labs``: who gets there first) in each
    format (:func:`run_plots`; none where ``formats`` is empty). ``plots``: a
    :class:`~outputs.write.plot_process.PlotProcess` that draws them meanwhile, while this
    process writes the rest (handed ``result`` here, unless :func:`submit_plots` handed it
    its summaries already); None (or a process that could not draw them): they are drawn
    here, after the rest.

    Returns
    -------
    list of pathlib.Path
        The files written, in that order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the output folder must exist (see outputs.folder.staged_folder)")
    formats = tuple(formats)
    submit_plots(plots, result, formats=formats)
    # in memory first: HDF5 crashes on a disk that fills while it writes
    written = [write_via_memory(result.to_netcdf, folder / "samples.nc", size=int(result.samples.nbytes))]
    written += write_tables(result, folder)
    if not formats:  # no plot: matplotlib is not even imported
        return written
    files = plots.files() if plots is not None else None
    if files is None:  # no drawing process, or one that could not draw them: drawn here
        files = run_plots(result, formats=formats)
    return written + write_files(folder, files)


def submit_plots(plots, result, *, formats=("png",)) -> None:
    """Hand ``result`` to the drawing process ``plots`` (None: nothing to do) for its run
    folder's plots, unless it has a result already. The
    plots read the summaries only, so a result whose kept worlds are not computed yet will
    do (:func:`forecast.result.run_settings`' ``on_summaries``): they are drawn while the
    command computes the kept worlds."""
    if plots is not None and not plots.submitted:
        plots.submit(result, formats=tuple(formats))


def run_plots(result, *, formats=("png",), kinds=None) -> dict[str, bytes]:
    """The plots of a run folder, ``{"<name>.<format>": bytes}``: those of
    :func:`outputs.plots.forecast.run_plot_files` (only ``kinds``, where given), with the
    record of frontier runs and the published forecasts on the fan chart."""
    from outputs.plots.forecast import run_plot_files  # matplotlib: only where the plots are drawn

    return run_plot_files(result, record=load_runs(), published=load_published(), formats=formats, kinds=kinds)
