"""The plots as a reader sees them: what overlaps what, what the legend says, sizes and scales.

Each test draws a plot and inspects its artists (legend entries, text and line positions in
display units after a draw, colour limits, figure size) rather than comparing images.
"""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from PIL import Image

import forecast
from forecast.evaluation.backtest import BacktestResult, bootstrap_ranking, summarize_backtest
from forecast.record.frontier import yearly_frontier
from forecast.record.runs import load_runs
from outputs.plots.backtest import plot_backtest
from outputs.plots.forecast import (
    PLOTS,
    RESOURCE_PANELS,
    plot_constraints,
    plot_fan,
    plot_resources,
    plot_timeline,
    save_figure,
    save_plots,
)
from outputs.plots.forecast import caption as forecast_caption
from outputs.plots.sensitivity import plot_sensitivity_by_year
from outputs.style import REFERENCE_POINTS, plot_style
from outputs.tables import RESOURCES
from outputs.write.backtest import write_backtest
from outputs.write.run import write_run
from priors import InputError
from tests.streamed import assert_streamed_quantile


@pytest.fixture(scope="module")
def other_run():
    """A second, small forecast with another prior set, to overlay on the first."""
    return forecast.run("power_wall", samples=1000, seed=7)


def _drawn_fan(result, **kwargs):
    with plot_style():
        figure = Figure(layout="constrained")
        ax = plot_fan(result, ax=figure.add_subplot(), **kwargs)
        figure.draw_without_rendering()
    return ax


def _legend_labels(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _legend_handle(ax, label):
    legend = ax.get_legend()
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        if text.get_text() == label:
            return handle
    raise AssertionError(f"no legend entry {label!r} in {_legend_labels(ax)}")


def _threshold_segments(ax):
    """Display (x_start, x_end, y) of each horizontal threshold line drawn with axhline."""
    segments = []
    for line in ax.get_lines():
        if line.get_transform() != ax.get_yaxis_transform():
            continue
        (x0, x1), (y, _) = line.get_xdata(), line.get_ydata()
        start = ax.get_yaxis_transform().transform((x0, y))
        end = ax.get_yaxis_transform().transform((x1, y))
        segments.append((start[0], end[0], start[1]))
    return segments


def _crosses(bbox, segment) -> bool:
    x_start, x_end, y = segment
    return bbox.y0 < y < bbox.y1 and bbox.x0 < x_end and bbox.x1 > x_start


# --- the fan chart ------------------------------------------------------------------------


def test_fan_reference_labels_leave_the_first_band_clear(small_run):
    ax = _drawn_fan(small_run)
    first_year = float(small_run.years.min())
    band_start = ax.transData.transform((first_year, 0))[0]
    marks = {(p["year"], round(p["log10_flop"], 6)) for p in REFERENCE_POINTS}
    labels = [t for t in ax.texts if isinstance(getattr(t, "xy", None), tuple)
              and (t.xy[0], round(float(t.xy[1]), 6)) in marks]
    assert len(labels) == len(REFERENCE_POINTS)
    for label in labels:
        assert label.get_window_extent().x1 < band_start, label.get_text()


def test_fan_threshold_lines_miss_the_legend_and_the_labels(small_run):
    ax = _drawn_fan(small_run)
    segments = _threshold_segments(ax)
    assert len(segments) >= 3  # 1e26..1e29 lie in the default range
    legend = ax.get_legend().get_window_extent()
    labels = [t.get_window_extent() for t in ax.texts if t.get_text().endswith(" FLOP")]
    assert len(labels) == len(segments)
    for segment in segments:
        assert not _crosses(legend, segment)
        for label in labels:
            assert not _crosses(label, segment)
    # the labels sit at the right of the lines, not in the middle of the plot
    right_edge = ax.get_window_extent().x1
    assert all(label.x0 >= right_edge - 1 for label in labels)


def test_fan_band_swatches_differ_visibly(small_run):
    ax = _drawn_fan(small_run)

    def on_white(handle):
        red, green, blue, alpha = mcolors.to_rgba(handle.get_facecolor())
        return alpha * np.array([red, green, blue]) + (1 - alpha) * np.ones(3)

    inner = on_white(_legend_handle(ax, "50% interval"))
    outer = on_white(_legend_handle(ax, "90% interval"))
    assert np.abs(inner - outer).max() > 0.15
    assert inner.sum() < outer.sum()  # the 50% band is the darker one


def test_fan_draws_the_record_before_the_forecast(small_run):
    ax = _drawn_fan(small_run)
    assert "largest run known (record)" in _legend_labels(ax)
    first_year = int(small_run.years.min())
    (line,) = [line for line in ax.get_lines() if line.get_gid() == "record"]
    years, values = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    frontier = yearly_frontier(load_runs())
    assert years.max() <= first_year and years.min() <= 2018
    np.testing.assert_allclose(values, frontier.loc[years.astype(int), "log10_compute"].to_numpy())
    left, right = ax.get_xlim()
    assert left <= 2018 and right >= small_run.years.max()
    bottom, _ = ax.get_ylim()
    assert bottom <= values.min()

    plain = _drawn_fan(small_run, record=False)
    assert "largest run known (record)" not in _legend_labels(plain)
    assert plain.get_xlim()[0] > 2023


def test_two_fans_on_one_axes_compose(small_run, other_run):
    with plot_style():
        figure = Figure(layout="constrained")
        ax = figure.add_subplot()
        plot_fan(small_run, ax=ax)
        plot_fan(other_run, ax=ax)
        figure.draw_without_rendering()
    captions = [t for t in ax.texts if "worlds" in t.get_text()]
    assert len(captions) == 1
    assert small_run.name in captions[0].get_text() and other_run.name in captions[0].get_text()
    labels = _legend_labels(ax)
    assert len(labels) == len(set(labels))
    for name in (small_run.name, other_run.name):
        assert f"{name}: median" in labels and f"{name}: 90% interval" in labels
    assert labels.count("largest run known (record)") == 1
    assert labels.count("hardware estimates for 2024 systems") == 1
    levels = [segment[2] for segment in _threshold_segments(ax)]
    assert len(levels) == len(set(levels))  # each threshold once
    threshold_labels = [t.get_text() for t in ax.texts if t.get_text().endswith(" FLOP")]
    assert len(threshold_labels) == len(set(threshold_labels))
    # the two medians are told apart by colour
    medians = [_legend_handle(ax, f"{name}: median").get_color()
               for name in (small_run.name, other_run.name)]
    assert mcolors.to_hex(medians[0]) != mcolors.to_hex(medians[1])


# --- what the largest run takes ----------------------------------------------------------


def _drawn_resources(result, **kwargs):
    with plot_style():
        figure = Figure(figsize=(7.0, 5.8), layout="constrained")
        axes = plot_resources(result, figure=figure, **kwargs)
        figure.draw_without_rendering()
    return axes


def _tick_labels(ax) -> list[str]:
    low, high = ax.get_ylim()
    return [tick.label1.get_text() for tick in ax.yaxis.get_major_ticks()
            if low <= tick.get_loc() <= high and tick.label1.get_visible()]


def test_resources_are_four_log_panels_of_the_samples_medians(small_run):
    axes = _drawn_resources(small_run)
    assert len(axes) == 4
    units = {"GW": ("GW", "MW"), "USD": ("$",), "GWh": ("GWh", "TWh", "PWh")}
    for ax, (column, _) in zip(axes, RESOURCE_PANELS):
        variable, unit, _, _ = RESOURCES[column]
        assert ax.get_yscale() == "log", column
        (median,) = ax.get_lines()  # the bands are polygons: the one line is the median
        samples = small_run.samples[variable].transpose("sample", "year").values
        np.testing.assert_allclose(median.get_xdata(), small_run.years)
        assert_streamed_quantile(np.log10(median.get_ydata()), samples, 0.5)
        # the 90% band is in view
        low, high = ax.get_ylim()
        assert low <= 10.0 ** np.quantile(samples, 0.05, axis=0).min()
        assert high >= 10.0 ** np.quantile(samples, 0.95, axis=0).max()
        # ticks read as amounts in the unit's words (1 GW, $10bn, 100 GWh), at least two
        labels = _tick_labels(ax)
        assert len(labels) >= 2, (column, labels)
        assert all(any(word in label for word in units[unit]) for label in labels), labels
        assert not any("10^" in label or "e+" in label for label in labels), labels
    assert "1 GW" in _tick_labels(axes[0]) and "$100bn" in _tick_labels(axes[1])


def test_resources_have_one_legend_and_caption_under_even_columns(small_run):
    axes = _drawn_resources(small_run)
    figure = axes[0].figure
    legends = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    assert [t.get_text() for t in legends[0].get_texts()] == ["median", "50% interval", "90% interval"]
    captions = [t for ax in figure.axes for t in ax.texts if "worlds" in t.get_text()]
    assert len(captions) == 1 and captions[0].get_text() == forecast_caption(small_run)
    box = figure.bbox
    legend = legends[0].get_window_extent()
    caption = captions[0].get_window_extent()
    panels_bottom = min(ax.get_window_extent().y0 for ax in axes)
    assert box.x0 <= legend.x0 and legend.x1 <= box.x1 and legend.y1 < panels_bottom
    assert box.y0 <= caption.y0 and caption.y1 <= legend.y0 + 1
    # the legend squeezes neither column: the panels are as wide as each other
    widths = [ax.get_window_extent().width for ax in axes]
    assert max(widths) - min(widths) < 0.05 * max(widths)
    assert figure.get_suptitle() == "What the largest run takes"


def test_two_forecasts_of_resources_compose(small_run, other_run):
    with plot_style():
        axes = plot_resources(small_run, figure=Figure(layout="constrained"))
        plot_resources(other_run, axes=axes)
        axes[0].figure.draw_without_rendering()
    for ax in axes:
        colors = {mcolors.to_hex(line.get_color()) for line in ax.get_lines()}
        assert len(colors) == 2
    legends = [ax.get_legend() for ax in axes[0].figure.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert f"{small_run.name}: median" in labels and f"{other_run.name}: median" in labels
    captions = [t for ax in axes[0].figure.axes for t in ax.texts if "worlds" in t.get_text()]
    assert len(captions) == 1


def test_run_folder_has_the_resources_plot(small_run, tmp_path):
    assert "resources" in PLOTS
    written = write_run(small_run, tmp_path)
    assert tmp_path / "resources.png" in written
    with Image.open(tmp_path / "resources.png") as image:
        width, height = image.size
    assert width >= 1400 and 1 < width / height < 1.6  # a 2x2 grid at the blog's width


def test_a_forecast_without_resources_draws_the_other_plots(small_run, tmp_path):
    old = dataclasses.replace(small_run, samples=small_run.samples.drop_vars("log10_energy_gwh"))
    with pytest.raises(InputError, match="log10_energy_gwh"):
        plot_resources(old)
    written = save_plots(old, tmp_path)
    assert {p.name for p in written} == {"fan.png", "timeline.png", "constraints.png"}


# --- without the project style ----------------------------------------------------------


@pytest.mark.parametrize("plot", [plot_timeline, plot_fan, plot_constraints])
def test_legend_and_caption_fit_in_the_figure_without_the_style(plot, small_run):
    with mpl.rc_context(mpl.rcParamsDefault):
        ax = plot(small_run)
        figure = ax.figure
        figure.savefig(io.BytesIO(), format="png")  # default settings
        renderer = figure.canvas.get_renderer()
        box = figure.bbox
        legend = ax.get_legend().get_window_extent(renderer)
        assert box.x0 <= legend.x0 and legend.x1 <= box.x1, (legend, box)
        assert box.y0 <= legend.y0 and legend.y1 <= box.y1, (legend, box)
        (caption,) = [t for t in ax.texts if "worlds" in t.get_text()]
        extent = caption.get_window_extent(renderer)
        assert box.y0 <= extent.y0 and extent.x1 <= box.x1
        assert extent.y1 <= legend.y0 + 1  # under the legend, not over it


# --- sizes and formats -------------------------------------------------------------------


def test_style_renders_blog_sized_images_and_svg(small_run, tmp_path):
    with plot_style():
        width, height = mpl.rcParams["figure.figsize"]
        assert width >= 7 and height >= 4.2
        assert mpl.rcParams["savefig.dpi"] >= 200
    written = save_plots(small_run, tmp_path, kinds=("fan",), formats=("png", "svg"))
    assert [p.suffix for p in written] == [".png", ".svg"]
    with Image.open(tmp_path / "fan.png") as image:
        assert image.size[0] >= 1400 and image.size[1] >= 840
    root = ET.parse(tmp_path / "fan.svg").getroot()
    assert root.tag.endswith("svg")
    assert float(root.get("width").rstrip("pt")) >= 7 * 72 - 1


# --- the sensitivity heat map ------------------------------------------------------------


def _fake_sensitivity(top: float, priors=("a", "b", "c")):
    years = np.arange(2025, 2031)
    priors = list(priors)
    rng = np.random.default_rng(0)
    st = rng.uniform(0, top, size=(len(priors), len(years)))
    st[0, 2] = top
    by_year = xr.Dataset({"ST": (("prior", "year"), st)}, coords={"prior": priors, "year": years})

    class Result:
        pass

    result = Result()
    result.by_year = by_year
    return result


def test_heat_map_has_no_grid_and_a_scale_fitted_to_the_data():
    with plot_style():
        ax = plot_sensitivity_by_year(_fake_sensitivity(0.5))
        ax.figure.draw_without_rendering()
    assert not any(line.get_visible() for line in ax.get_xgridlines() + ax.get_ygridlines())
    (image,) = ax.get_images()
    low, high = image.get_clim()
    assert low == 0 and 0.5 <= high < 1
    assert high == pytest.approx(0.5)
    colorbar = image.colorbar
    assert colorbar is not None and colorbar.vmax == pytest.approx(0.5)


def test_heat_map_rows_are_named_in_prose_and_the_title_fits_its_width():
    result = _fake_sensitivity(0.5, priors=("chip_growth", "mfu + duration_days_max", "lag_years"))
    with plot_style():
        ax = plot_sensitivity_by_year(result)
        ax.figure.draw_without_rendering()
    labels = sorted(" ".join(tick.get_text().split()) for tick in ax.get_yticklabels())
    assert labels == ["growth of the chip count", "hardware utilisation (MFU) + longest run",
                      "lag behind the largest system"]
    figure_box = ax.figure.bbox
    title_box = ax.title.get_window_extent()
    assert figure_box.x0 <= title_box.x0 and title_box.x1 <= figure_box.x1


def test_heat_map_scale_rounds_up_to_the_next_tenth():
    ax = plot_sensitivity_by_year(_fake_sensitivity(0.43))
    assert ax.get_images()[0].get_clim()[1] == pytest.approx(0.5)


# --- the as-of mark -----------------------------------------------------------------------


def test_timeline_names_the_as_of_date_under_its_100_percent_line(small_run):
    with plot_style():
        ax = plot_timeline(_as_of(small_run, "2026-12-06"))
        ax.figure.canvas.draw()
    (label,) = [text for text in ax.texts if text.get_gid() == "as-of-label"]
    box = label.get_window_extent()
    full = ax.transData.transform((2030, 1.0))[1]  # where a curve at 100% runs
    points = ax.figure.dpi / 72
    # clear of a 100% curve's line and markers (half their height, 3 points, and a point more)
    assert box.y1 < full - 4 * points
    assert box.y0 > ax.transData.transform((2030, 0.5))[1]  # still at the top of the axes


# --- the backtest figure -----------------------------------------------------------------


_Z = {0.05: -1.645, 0.1: -1.28, 0.25: -0.67, 0.5: 0.0, 0.75: 0.67, 0.9: 1.28, 0.95: 1.645}


def _fake_backtest(cutoffs=(2016, 2018, 2020, 2022), last_year=2025):
    methods = ("trend", "last_value", "ols_line")
    fans, scores = [], []
    for method_index, method in enumerate(methods):
        for cutoff in cutoffs:
            for year in range(cutoff, last_year + 1):
                centre = 22 + 0.6 * (year - 2016) + 0.1 * method_index
                spread = 0.0 if method == "last_value" else 0.3 + 0.1 * (year - cutoff)
                for prob, z in _Z.items():
                    fans.append({"method": method, "cutoff": cutoff, "year": year, "prob": prob,
                                 "log10_compute": centre + z * spread})
                scores.append({"method": method, "cutoff": cutoff, "year": year, "crps": 0.5,
                               "log_score": np.nan if spread == 0 else -1.0,
                               "pit": (year % 10) / 10 + 0.05, "in50": True, "in90": True,
                               "error": 0.1})
    years = range(2016, last_year + 1)
    observed = pd.DataFrame({"log10_compute": [22 + 0.6 * (y - 2016) for y in years]},
                            index=pd.Index(years, name="year"))
    scores = pd.DataFrame(scores)
    diagnostics = pd.DataFrame({"cutoff": list(cutoffs), "n_known": 5, "n_train": 4, "slope_prior": 0.6,
                                "slope_source": "a source", "max_rhat": 1.0, "min_ess_bulk": 500.0,
                                "divergences": 0}).set_index("cutoff")
    return BacktestResult(
        scores=scores, summary=summarize_backtest(scores), fans=pd.DataFrame(fans),
        observed=observed, diagnostics=diagnostics,
        ranking={"crps": bootstrap_ranking(scores, n_boot=50)},
        settings={"cutoffs": list(cutoffs), "last_year": last_year, "seed": 0, "chains": 1,
                  "draws": 10},
    )


def test_backtest_of_four_cutoffs_is_a_grid_not_a_strip(tmp_path):
    result = _fake_backtest()
    axes = plot_backtest(result)
    assert len(axes) == 4
    width, height = axes[0].figure.get_size_inches()
    assert width / height < 2
    rows = {round(ax.get_position().y0, 3) for ax in axes}
    assert len(rows) == 2  # two rows of two

    written = write_backtest(result, tmp_path)
    png = [p for p in written if p.suffix == ".png"][0]
    with Image.open(png) as image:
        width, height = image.size
    assert width / height < 2 and width >= 1200


def test_backtest_legend_fits_its_figure():
    result = _fake_backtest()
    axes = plot_backtest(result)
    figure = axes[0].figure
    figure.savefig(io.BytesIO(), format="png")
    legends = figure.legends + [ax.get_legend() for ax in axes if ax.get_legend() is not None]
    assert len(legends) == 1
    extent, box = legends[0].get_window_extent(figure.canvas.get_renderer()), figure.bbox
    assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0


def test_save_figure_writes_svg(tmp_path, small_run):
    with plot_style():
        figure = Figure(layout="constrained")
        plot_timeline(small_run, ax=figure.add_subplot())
        (path,) = save_figure(figure, tmp_path, "timeline", formats=("svg",))
    text = path.read_text(encoding="utf-8")
    # no time stamp: the same plot gives the same bytes
    assert "<svg" in text and "<dc:date>" not in text


def _as_of(result, date: str):
    """The same forecast, read as conditioned on the record as of ``date``."""
    import dataclasses
    return dataclasses.replace(result, metadata={**result.metadata, "as_of": date})


def test_the_fan_marks_the_as_of_date_and_shows_the_record_before_it(small_run):
    # as of 2025-12-31 the year 2025 is over: it shows the record, the bands start at 2026;
    # the dotted line sits at the end of that day, 2026.0 on the year axis
    ax = _drawn_fan(_as_of(small_run, "2025-12-31"))
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "as-of"]
    assert line.get_xdata()[0] == pytest.approx(2026.0)
    band_x = np.concatenate([p.get_paths()[0].vertices[:, 0] for p in ax.collections
                             if p.get_paths() and type(p).__name__ in ("PolyCollection", "FillBetweenPolyCollection")])
    assert band_x.min() >= 2026.0 - 1e-9
    assert "largest run published by 2025-12-31" in _legend_labels(ax)
    # the shipped record was checked on 2026-12-06: nothing was published after its end
    latest = _drawn_fan(_as_of(small_run, "2026-12-31"))
    assert not any(label.startswith("record published after") for label in _legend_labels(latest))
    # as of mid-2024 the later records (the 2025 frontier runs, far above 2024's) are hollow marks
    earlier = _drawn_fan(_as_of(small_run, "2024-06-30"))
    assert "record published after 2024-06-30" in _legend_labels(earlier)
    assert not [ln for ln in _drawn_fan(small_run).get_lines() if ln.get_gid() == "as-of"]
