"""Forecasts side by side: the comparison numbers, the trend as a forecast, the CLI, the plots."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

import forecast
from forecast.compare import compare, forecast_from_source, trend_result
from forecast.record.runs import load_runs
from forecast.evaluation.trend_fit import fit_trend
from forecast.stream import HIST_WIDTH
from outputs.cli import main as cli
from outputs.plots.compare import plot_compare_fan, plot_compare_timeline
from outputs.write.comparison import probability_table
from priors import InputError
from tests.figures import check_figures


@pytest.fixture(scope="module")
def two_forecasts():
    default = forecast.run(samples=3000, seed=3, thresholds="1e27,1e28")  # 2025-2035
    wall = forecast.run("power_wall", samples=2000, seed=4, years="2027:2035", thresholds="1e27,1e28")
    return default, wall


def _reach_by_hand(result, threshold, year):
    """Share of worlds whose largest run up to ``year`` is >= threshold, from the raw samples."""
    log10 = result.samples["log10_training_compute"]
    so_far = log10.sel(year=slice(None, year)).values.max(axis=1)
    return float(np.mean(so_far >= np.log10(threshold)))


def test_comparison_holds_each_forecasts_own_numbers(two_forecasts):
    default, wall = two_forecasts
    table = compare([default, wall])
    assert list(table["forecast"].values) == ["default", "power_wall"]
    assert list(table["year"].values) == list(range(2027, 2036))  # the years both cover
    assert dict(table["probability"].sizes) == {"forecast": 2, "threshold": 2, "year": 9}
    for result in (default, wall):
        for year in (2027, 2030):
            p = float(table["probability"].sel(forecast=result.name, threshold=1e28, year=year))
            assert p == pytest.approx(_reach_by_hand(result, 1e28, year), abs=1e-12)
    median = float(table["median"].sel(forecast="power_wall", year=2030))
    # the streamed median: within a histogram bin (and the spacing of the middle worlds)
    assert median == pytest.approx(float(np.median(wall.log10_compute.sel(year=2030))), abs=HIST_WIDTH + 2e-3)


def test_wall_years_start_late_so_reach_counts_only_its_own_years(two_forecasts):
    # power_wall starts in 2027: "reached by 2027" there is the 2027 run alone, as computed.
    _, wall = two_forecasts
    table = compare(list(two_forecasts))
    direct = float((wall.log10_compute.sel(year=2027) >= 27).mean())
    assert float(table["probability"].sel(forecast="power_wall", threshold=1e27, year=2027)) == pytest.approx(direct)


def test_probability_table_is_wide_by_forecast(two_forecasts):
    table = probability_table(compare(list(two_forecasts)), years=[2030])
    assert list(table.columns) == ["default", "power_wall"]
    assert list(table.index) == [("1e27", 2030), ("1e28", 2030)]


@pytest.mark.parametrize(
    "pick, match", [((0,), "at least two"), ((0, 0), "same name")], ids=["one", "duplicate"]
)
def test_bad_comparisons_are_refused(pick, match, two_forecasts):
    with pytest.raises(InputError, match=match):
        compare([two_forecasts[i] for i in pick])


def test_no_common_year_is_refused(two_forecasts):
    default, wall = two_forecasts
    early = dataclasses.replace(default, samples=default.samples.sel(year=[2025, 2026]))
    with pytest.raises(InputError, match="share no year"):
        compare([early, wall])


def test_trend_is_a_forecast_like_the_others():
    fit = fit_trend(load_runs(), chains=2, draws=200, warmup=200, seed=1, check=False)
    result = trend_result(fit, years="2025:2030", thresholds="1e27,1e28", seed=2)
    assert dict(result.log10_compute.sizes) == {"sample": 400, "year": 6}
    p = result.timeline["probability"]
    assert (p.diff("year") >= 0).all()
    # the median forecast sits on the fitted line at the end of each year (Student-t noise is symmetric)
    post = fit.posterior_samples()
    line_2030 = np.median(post["intercept"] + post["slope"] * (2031.0 - 2020.0))
    assert float(result.intervals["median"].sel(year=2030)) == pytest.approx(line_2030, abs=0.3)


def test_unknown_source_is_refused():
    with pytest.raises(InputError, match="not a forecast to compare"):
        forecast_from_source("no_such_set", samples=10, seed=0, years=None, thresholds=None)


def test_saved_run_is_a_source(tmp_path, two_forecasts):
    default, _ = two_forecasts
    path = default.to_netcdf(tmp_path / "samples.nc")
    again = forecast_from_source(str(path), samples=10, seed=0, years=None, thresholds=None)
    xr.testing.assert_allclose(again.timeline["probability"], default.timeline["probability"], atol=1e-6)


def test_plots_draw_every_forecast(two_forecasts):
    table = compare(list(two_forecasts))
    figure = Figure()
    ax = plot_compare_fan(table, ax=figure.add_subplot(), observed={2024: 25.7})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["default", "power_wall"]  # the caption says: solid median, dashed 90% band
    assert ax._forecast_caption.get_text().startswith("solid: median; dashed: 90% band")
    ax = plot_compare_timeline(table, threshold=1e28, ax=Figure().add_subplot())
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="not in this comparison"):
        plot_compare_timeline(table, threshold=1e29)


def test_cli_compare_writes_tables_plots_and_data(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = cli(["compare", "default", "no_fp8", "--samples", "2000",
                "--thresholds", "1e27,1e28", "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"comparison.nc", "comparison.csv", "comparison.md", "compare_fan.png",
                     "compare_timeline.png"}
    check_figures(out)
    csv = pd.read_csv(out / "comparison.csv")
    assert list(csv.columns) == ["threshold", "year", "default", "no_fp8"]
    # no 8-bit training can only lower the chance of a big run
    assert (csv["no_fp8"] <= csv["default"] + 0.05).all()
    data = xr.load_dataset(out / "comparison.nc")
    assert list(data["forecast"].values) == ["default", "no_fp8"]
    assert "no_fp8" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["compare", "default"], ["compare", "default", "nonsense"]],
                         ids=["one-source", "unknown-source"])
def test_cli_compare_bad_input_exits_2(argv, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert cli([*argv, "--samples", "500", "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


# --- the bottom-up hindcast of a backtest cutoff, against what happened ---------------------------


@pytest.fixture(scope="module")
def hindcasts():
    early = forecast_from_source("hindcast:2020", samples=2000, seed=1, years="2020:2026", thresholds="1e25,1e26")
    late = forecast_from_source("hindcast:2022", samples=2000, seed=1, years="2022:2026", thresholds="1e25,1e26")
    return early, late


def test_hindcast_is_a_source_and_compares(hindcasts):
    from forecast.record.runs import record_checked_date

    early, late = hindcasts
    assert early.name == "hindcast 2020" and list(early.years) == list(range(2020, 2027))
    table = compare([early, late])
    assert list(table["year"].values) == list(range(2022, 2027))
    assert table.attrs["record_through"] == record_checked_date().year
    # the draws are the largest public estimate by each year's end, so "reached by" is the year's own share
    draws = early.samples["log10_training_compute"]
    for year in (2022, 2025):
        p = float(table["probability"].sel(forecast="hindcast 2020", threshold=1e25, year=year))
        assert p == pytest.approx(float((draws.sel(year=year) >= 25.0).mean()), abs=1e-12)


def test_hindcast_chart_draws_the_record_over_its_years(hindcasts):
    from forecast.record.runs import load_runs

    ax = plot_compare_fan(compare(list(hindcasts)), record=load_runs())
    (record,) = [line for line in ax.get_lines() if line.get_gid() == "record"]
    drawn = set(np.asarray(record.get_xdata(), dtype=int).tolist())
    assert {2022, 2023, 2024, 2025} <= drawn  # what happened, over the forecast's years
    assert "hindcast 2020" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("source, years, match", [
    ("hindcast:2019", "2020:2026", "no such hindcast"),
    ("hindcast:x", "2020:2026", "no such hindcast"),
    ("hindcast:2020", "2025:2035", "--years must lie in 2020:"),
    ("hindcast:2022", "2020:2026", "--years must lie in 2022:"),
])
def test_bad_hindcast_sources_are_refused(source, years, match):
    with pytest.raises(InputError, match=match):
        forecast_from_source(source, samples=1000, seed=0, years=years, thresholds="1e25")
