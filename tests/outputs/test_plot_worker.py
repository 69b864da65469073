"""The run folder's plots drawn in a second process (outputs.write.worker) and a PNG drawn
once (outputs.plots.axes.png_bytes): the same files (the same pixels as savefig's), the same
errors, nothing left running."""

from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import outputs.write.worker as worker_module
from outputs.cli import main
from outputs.plots.axes import png_bytes
from outputs.plots.forecast import draw_plot
from outputs.style import plot_style
from outputs.write.run import summaries_only, write_run
from outputs.write.worker import PlotWorker, WorkerLost, plot_worker
from priors import parse_spec


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix != ".nc"}


@pytest.mark.parametrize("kind", ["fan", "resources"])
def test_a_png_drawn_once_is_the_png_savefig_writes(small_run, kind):
    def drawn():  # a fresh figure each (matplotlib lays out a figure drawn before afresh)
        figure = Figure(figsize=(7.0, 5.8) if kind == "resources" else None, layout="constrained")
        draw_plot(kind, small_run, figure)
        return figure

    with plot_style():
        buffer = io.BytesIO()
        drawn().savefig(buffer, format="png", metadata={"Title": "t"})
        figure = drawn()
        data = png_bytes(figure, metadata={"Title": "t"})
        assert figure.dpi == 100 and figure.get_layout_engine() is not None  # as it was
    with Image.open(io.BytesIO(data)) as ours, Image.open(buffer) as theirs:
        assert ours.mode == "RGB" and theirs.mode == "RGBA"  # opaque: no alpha channel
        assert ours.info == theirs.info and ours.info["Title"] == "t"  # savefig's metadata and dpi
        assert np.array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs))  # the same pixels
    assert len(data) < len(buffer.getvalue())


def test_a_transparent_png_keeps_its_alpha():
    figure = Figure(figsize=(2, 1), facecolor="none")
    figure.add_subplot().plot([0, 1])
    with Image.open(io.BytesIO(png_bytes(figure))) as image:
        assert image.mode == "RGBA" and np.asarray(image)[0, 0, 3] == 0


def test_the_worker_draws_the_run_folder_from_the_summaries_alone(small_run, tmp_path):
    light = summaries_only(small_run)
    assert light.samples.sizes["sample"] == 0 and light.n_samples == small_run.n_samples == 4000
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    written = write_run(small_run, here)
    with plot_worker() as worker:
        assert [p.name for p in write_run(small_run, there, worker=worker)] == [p.name for p in written]
        assert worker._submitted  # drawn there, not here
    assert worker._process.poll() is not None  # and it has ended
    assert _files(there) == _files(here)
    assert {"fan.png", "timeline.png", "constraints.png", "resources.png", "labs.png"} <= set(_files(there))


def test_a_result_summarised_from_its_worlds_is_drawn_here(small_run):
    assert summaries_only(dataclasses.replace(small_run, tally=None)) is None


def test_a_dead_worker_leaves_the_plots_to_this_process(small_run, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    write_run(small_run, here)
    with plot_worker() as worker:
        worker._process.kill()  # it dies before its job comes
        worker._process.wait()
        write_run(small_run, there, worker=worker)
    assert _files(there) == _files(here)


def test_an_error_in_the_worker_is_raised_here_as_it_was():
    with pytest.raises(Exception) as here:
        parse_spec("bogus 1 2")
    with plot_worker() as worker:
        worker.submit(parse_spec, "bogus 1 2")
        with pytest.raises(type(here.value)) as there:
            worker.result()
    assert str(there.value) == str(here.value) and "bogus" in str(there.value)
    assert "in the plot worker" in there.value.__notes__[0]


def test_a_job_the_worker_cannot_take_is_left_to_this_process():
    with plot_worker() as worker:
        with pytest.raises(WorkerLost, match="does not pickle"):
            worker.submit(lambda: 1)  # a lambda does not pickle
    worker = PlotWorker(preload=("outputs.no_such_module",))
    worker.submit(parse_spec, "normal 0 1")
    with pytest.raises(WorkerLost, match="no_such_module"):
        worker.result()
    assert worker._process.poll() is not None


def test_warnings_of_the_worker_are_warned_here():
    worker = PlotWorker(preload=())
    worker.submit(warnings.warn, "drawn with a warning")
    with pytest.warns(UserWarning, match="drawn with a warning"):
        assert worker.result() is None


def test_a_large_run_draws_its_plots_in_a_worker_that_ends_with_it(tmp_path, monkeypatch):
    import outputs.commands.run

    started = []

    class Spy(PlotWorker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(worker_module, "PlotWorker", Spy)
    monkeypatch.setattr(outputs.commands.run, "DRAW_ASIDE_FROM", 300)  # this run counts as large
    assert main(["run", "--samples", "300", "--years", "2025:2028", "--out", str(tmp_path / "big")]) == 0
    assert main(["run", "--samples", "299", "--years", "2025:2028", "--out", str(tmp_path / "small")]) == 0
    (worker,) = started  # the second run drew its own
    assert worker._submitted and worker._process.poll() is not None
    assert {"fan.png", "resources.png"} <= set(_files(tmp_path / "big"))
