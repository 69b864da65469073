"""The compare fan chart: published forecasts, a y range kept on the forecasts that agree,
and one line per forecast saying what it assumes."""

from __future__ import annotations

from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.compare import compare
from forecast.record.published import load_published
from forecast.record.runs import load_runs
from outputs.plots.compare import compare_ylim, plot_compare_fan
from outputs.write.comparison import (
    BOTTOM_UP,
    CALIBRATED,
    TREND,
    assumption_line,
    comparison_assumptions,
    comparison_markdown,
    comparison_text,
    with_assumptions,
    write_comparison,
)
from priors import PriorSet

PUBLISHED = pd.DataFrame([
    {"source": "Someone 2028", "year": 2028, "flop": 1e28, "log10_flop": 28.0, "kind": "scenario"},
    {"source": "Other bound", "year": 2030, "flop": 2e29, "log10_flop": np.log10(2e29),
     "kind": "feasible_upper_bound"},
])


@pytest.fixture(scope="module")
def trend_like(small_run):
    """A wide, fast-growing forecast shaped like the trend's: the small run's log10 compute
    spread 3x about 26 and climbing a decade a year faster, with no priors."""
    log = small_run.samples["log10_training_compute"]
    steps = log["year"] - log["year"].min()
    wide = (26 + 3 * (log - 26) + 1.0 * steps).assign_attrs(log.attrs)
    samples = small_run.samples[["log10_training_compute"]].assign(log10_training_compute=wide)
    return replace(small_run, samples=samples, priors=PriorSet(name="trend", priors=()),
                   label="trend, NUTS fit to the record", metadata={}, tally=None)


@pytest.fixture(scope="module")
def comparison(small_run, trend_like):
    return compare([small_run, trend_like])


def _published_marks(ax):
    return [line for line in ax.lines if line.get_gid() == "published"]


def test_published_forecasts_drawn_and_labelled(comparison):
    ax = plot_compare_fan(comparison, published=PUBLISHED)
    assert len(_published_marks(ax)) == 2
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "published-label"]
    assert sorted(labels) == ["Other bound", "Someone 2028"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "published: scenario" in legend and "published: feasible upper bound" in legend


def test_published_forecasts_absent_when_off(comparison):
    ax = plot_compare_fan(comparison)
    assert _published_marks(ax) == []
    assert not [t for t in ax.texts if t.get_gid() == "published-label"]


def test_the_shipped_published_forecasts_are_drawn(comparison):
    ax = plot_compare_fan(comparison, published=load_published())  # the caller reads the file
    assert _published_marks(ax)


def test_ylim_leaves_out_the_outlying_band_and_marks_it(comparison):
    default = comparison.sel(forecast="default")
    trend = comparison.sel(forecast="trend, NUTS fit to the record")
    (bottom, top), clipped = compare_ylim(comparison)
    assert clipped == {"trend, NUTS fit to the record": "top"}
    assert top >= float(default["interval"].sel(bound="upper").max())
    assert top < float(trend["interval"].sel(bound="upper").max()) - 2
    ax = plot_compare_fan(comparison)
    assert ax.get_ylim() == pytest.approx((bottom, top))
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "clipped"]
    assert len(notes) == 1 and notes[0].startswith("↑ trend") and "continues to" in notes[0]
    assert [line for line in ax.lines if line.get_gid() == "clipped-marker"]  # the median leaves too
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("trend" in label and "cut at the edge" in label for label in legend)


def test_each_method_has_its_own_colour_and_none_is_a_published_markers(comparison):
    from outputs.plots.marks import PUBLISHED_STYLES, record_points
    from outputs.style import METHOD_COLORS
    published = {style["color"].lower() for style in PUBLISHED_STYLES.values()}
    assert not published & {c.lower() for c in METHOD_COLORS.values()}
    assert len(set(METHOD_COLORS.values())) == len(METHOD_COLORS)
    ax = plot_compare_fan(comparison, record=load_runs())
    legend = dict(zip([t.get_text() for t in ax.get_legend().get_texts()], ax.get_legend().legend_handles))
    assert legend["default"].get_color() == METHOD_COLORS["default"]
    assert legend["trend, NUTS fit to the record (cut at the edge)"].get_color() == METHOD_COLORS["trend"]
    # the record is drawn, the years before the forecasts
    (record,) = [line for line in ax.lines if line.get_gid() == "record"]
    years, values = record_points(load_runs(), int(comparison["year"].min()) - 7, int(comparison["year"].min()))
    np.testing.assert_allclose(record.get_ydata(), values)
    assert "largest run known (record)" in legend


def test_no_clipping_when_asked_or_when_forecasts_agree(comparison, small_run):
    ax = plot_compare_fan(comparison, clip=False)
    assert ax.get_ylim()[1] >= float(comparison["interval"].max())
    assert not [t for t in ax.texts if t.get_gid() == "clipped"]
    plt.close("all")
    alike = compare([small_run, replace(small_run, label="again")])
    assert compare_ylim(alike)[1] == {}


def test_assumption_lines():
    assert assumption_line("default") == BOTTOM_UP
    assert assumption_line("trend, NUTS fit to the record") == TREND
    assert "hinge" in assumption_line("trend (hinged), NUTS fit to the record")
    assert assumption_line("default, calibrated on 2012-2024",
                           {"calibrated_on": "2012-2024"}).startswith(CALIBRATED)
    conditioned = assumption_line("default", {"conditioned_on": "the record to 2024"})
    assert conditioned.startswith(BOTTOM_UP) and "the record to 2024" in conditioned
    assert assumption_line("trend_scenario", has_priors=True) == BOTTOM_UP  # a prior file so named


def test_assumptions_in_the_report_text(comparison, small_run, trend_like, tmp_path):
    conditioned = replace(small_run, label="default | record", metadata={"conditioned_on": "the record to 2024"})
    tagged = with_assumptions(compare([small_run, trend_like, conditioned]), [small_run, trend_like, conditioned])
    lines = comparison_assumptions(tagged)
    assert lines["default | record"].endswith("the record to 2024")
    for text in (comparison_text(tagged), comparison_markdown(tagged)):
        assert f"default: {BOTTOM_UP}" in text
        assert f"trend, NUTS fit to the record: {TREND}" in text
        assert "the record to 2024" in text
    # untagged comparisons read the method from the names
    assert f"trend, NUTS fit to the record: {TREND}" in comparison_text(comparison)
    written = write_comparison(tagged, tmp_path)
    assert "the record to 2024" in (tmp_path / "comparison.md").read_text(encoding="utf-8")
    assert {p.name for p in written} >= {"comparison.nc", "compare_fan.png"}
    assert comparison_assumptions(xr.load_dataset(tmp_path / "comparison.nc")) == lines


def test_the_timeline_grid_marks_the_as_of_date_on_every_panel_and_names_it_once(comparison):
    from outputs.write.comparison import _timeline_grid

    dated = comparison.assign_attrs(as_of="2026-12-06")
    figure = _timeline_grid(dated)
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.lines]
    assert len(panels) == dated.sizes["threshold"]
    # 6 December 2026 as a year: 2026 and 341 days of 365
    for ax in panels:
        (line,) = [line for line in ax.lines if line.get_gid() == "as-of"]
        assert line.get_xdata()[0] == pytest.approx(2026 + 341 / 365, abs=1 / 365)
    labels = [text.get_text() for ax in panels for text in ax.texts if text.get_gid() == "as-of-label"]
    assert labels == ["as of 6 Dec 2026"]
    undated = _timeline_grid(comparison.assign_attrs(as_of="none"))
    assert not any(line.get_gid() == "as-of" for ax in undated.axes for line in ax.lines)
