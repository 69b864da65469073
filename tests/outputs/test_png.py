"""A PNG drawn once and written as RGB (outputs.plots.axes.png_bytes): the pixels and the
metadata of savefig's PNG, in a smaller file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from outputs.plots.axes import png_bytes, save_figure
from outputs.plots.forecast import draw_plot
from outputs.style import plot_style


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


def test_savefig_transparent_is_savefig_s_png():
    """With ``savefig.transparent`` set, an opaque figure's PNG is transparent, as savefig
    writes it (png_bytes leaves it to savefig)."""
    import matplotlib as mpl

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([0, 1])
    with mpl.rc_context({"savefig.transparent": True}):
        with Image.open(io.BytesIO(png_bytes(figure))) as image:
            assert image.mode == "RGBA" and np.asarray(image)[0, 0, 3] == 0


def test_save_figure_writes_a_png_and_an_svg_with_the_title(small_run, tmp_path):
    with plot_style():
        figure = Figure(layout="constrained")
        draw_plot("timeline", small_run, figure)
        written = save_figure(figure, tmp_path, "timeline", formats=("png", "svg"))
    assert [p.name for p in written] == ["timeline.png", "timeline.svg"]
    with Image.open(written[0]) as image:
        assert image.info["Title"] == "When is each threshold first reached?"
        assert image.size == (1400, 880)  # 7 x 4.4 inches at savefig.dpi 200
    assert "When is each threshold first reached?" in written[1].read_text()
