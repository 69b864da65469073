"""CRPS, baselines, and backtests that never see the future."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import forecast.history.backtest as backtest
from forecast.history.backtest import (
    crps_dataarray,
    crps_normal,
    crps_samples,
    forecast_quantiles,
    run_backtest,
    summarize_backtest,
)
from forecast.history.trend_fit import TrendFitWarning

pytestmark = pytest.mark.filterwarnings(f"ignore::{TrendFitWarning.__module__}.TrendFitWarning")

# CRPS(N(0, 1), 0) = 2 phi(0) - 1/sqrt(pi) = 2/sqrt(2 pi) - 1/sqrt(pi)
CRPS_STD_NORMAL_AT_0 = 2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi)  # 0.2336949...


# --- CRPS -------------------------------------------------------------------------------------


def test_crps_normal_standard_at_zero():
    assert CRPS_STD_NORMAL_AT_0 == pytest.approx(0.23369497, abs=1e-8)
    assert float(crps_normal(0.0, 1.0, 0.0)) == pytest.approx(CRPS_STD_NORMAL_AT_0, abs=1e-12)


def test_crps_normal_scales_with_sigma_and_shifts_with_mu():
    # CRPS(N(mu, s), y) = s * CRPS(N(0, 1), (y - mu) / s)
    assert float(crps_normal(5.0, 2.0, 5.0)) == pytest.approx(2 * CRPS_STD_NORMAL_AT_0)


def test_crps_normal_point_limit_is_absolute_error():
    np.testing.assert_allclose(crps_normal([1.0, 1.0], [0.0, 0.0], [3.0, -1.0]), [2.0, 2.0])


def test_crps_normal_rejects_negative_sigma():
    with pytest.raises(ValueError, match="sigma"):
        crps_normal(0.0, -1.0, 0.0)


def test_crps_samples_two_point_by_hand():
    # X uniform on {0, 1}, y = 0: E|X - y| = 1/2, E|X - X'| = (0 + 1 + 1 + 0) / 4 = 1/2
    assert float(crps_samples([0.0, 1.0], 0.0)) == pytest.approx(0.5 - 0.25)
    # fair version: E|X - X'| over the n(n-1) = 2 distinct pairs = 1
    assert float(crps_samples([0.0, 1.0], 0.0, fair=True)) == pytest.approx(0.0)


def test_crps_samples_point_mass_is_absolute_error():
    assert float(crps_samples([3.0], 1.0)) == pytest.approx(2.0)


def test_crps_samples_matches_closed_form_normal():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200_000)
    # Monte Carlo sd of the estimate is ~1e-3 at this size
    assert float(crps_samples(x, 0.0)) == pytest.approx(CRPS_STD_NORMAL_AT_0, abs=5e-3)
    for y in (-1.0, 0.5, 2.0):
        assert float(crps_samples(x, y)) == pytest.approx(float(crps_normal(0, 1, y)), abs=5e-3)


def test_crps_samples_vectorizes_over_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50_000, 3))  # draws on axis 0, three forecasts
    y = np.array([0.0, 1.0, -2.0])
    got = crps_samples(x, y, axis=0)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, crps_normal(0.0, 1.0, y), atol=1e-2)
    np.testing.assert_allclose(got, crps_samples(x.T, y, axis=-1))


def test_crps_dataarray_reduces_by_name():
    draws = xr.DataArray(
        np.array([[0.0, 3.0], [1.0, 3.0]]), dims=("sample", "year"), coords={"year": [2030, 2031]}
    )
    observed = xr.DataArray([0.0, 1.0], dims="year", coords={"year": [2030, 2031]})
    got = crps_dataarray(draws, observed)
    assert got.dims == ("year",)
    xr.testing.assert_allclose(
        got, xr.DataArray([0.25, 2.0], dims="year", coords={"year": [2030, 2031]})
    )
    with pytest.raises(ValueError, match="no dimension 'draw'"):
        crps_dataarray(draws, observed, dim="draw")


def test_forecast_quantiles_dims():
    ds = xr.Dataset(
        {"log10_training_compute": (("sample", "year"), np.arange(10.0).reshape(5, 2))},
        coords={"year": [2026, 2027]},
    )
    q = forecast_quantiles(ds, probs=(0.5,))
    assert q.dims == ("quantile", "year")
    np.testing.assert_allclose(q.sel(quantile=0.5), [4.0, 5.0])


# --- backtest on a record small enough to work out by hand -------------------------------------
#
# Frontier before 2016: 1e18 (2013-01-01), 10**19.5 (2014-01-01), 1e20 (2015-01-01);
# the 2016 run (2016-06-01) is 1e22. Cutoff 2016, forecasting the end of 2016 (t = 2017.0).
#
# last_value_4x: 20 + log10(4) * (2017 - 2016) = 20.60206;  CRPS = |20.60206 - 22| = 1.39794
# ols_line on x = t - 2020 = (-7, -6, -5), y = (18, 19.5, 20):
#   slope = sum(dx dy) / sum(dx^2) = ((-1)(-7/6) + 0 + (1)(5/6)) / 2 = 1
#   mean y = 57.5 / 3 = 19.1667 at x = -6, so mu(2017) = 19.1667 + 1 * (-3 + 6) = 22.1667
#   residuals (-1/6, 1/3, -1/6): sd = sqrt((1/36 + 1/9 + 1/36) / 1) = sqrt(1/6) = 0.408248

SETTINGS = dict(cutoffs=(2016,), last_year=2016, seed=0, chains=2, draws=200, warmup=200)


def _hand_runs():
    return pd.DataFrame(
        {
            "model": ["a", "b", "c", "d"],
            "date": pd.to_datetime(["2013-01-01", "2014-01-01", "2015-01-01", "2016-06-01"]),
            "training_compute_flop": [1e18, 10**19.5, 1e20, 1e22],
        }
    )


@pytest.fixture(scope="module")
def captured():
    """Run the backtest on the clean and on a poisoned record, recording what each fit saw."""
    seen = []
    real_fit = backtest.fit_trend

    def spy(runs, **kwargs):
        seen.append((kwargs["cutoff"], pd.to_datetime(runs["date"]).max(), len(runs)))
        return real_fit(runs, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(backtest, "fit_trend", spy)
    try:
        clean = run_backtest(_hand_runs(), **SETTINGS)
        poisoned_runs = _hand_runs()
        # the future changes wildly: the 2016 run is 1e40, and a new 1e35 run appears
        poisoned_runs.loc[3, "training_compute_flop"] = 1e40
        poisoned_runs.loc[4] = ["z", pd.Timestamp("2016-01-01"), 1e35]
        poisoned = run_backtest(poisoned_runs, **SETTINGS)
    finally:
        mp.undo()
    return clean, poisoned, seen


def test_backtest_fits_see_only_pre_cutoff_runs(captured):
    _, _, seen = captured
    assert len(seen) == 2
    for cutoff, last_date, n in seen:
        assert cutoff == 2016
        assert last_date < pd.Timestamp("2016-01-01")
        assert n == 3


def test_backtest_forecasts_ignore_poisoned_future(captured):
    clean, poisoned, _ = captured
    cols = ["method", "cutoff", "year", "median", "lo50", "hi50", "lo90", "hi90"]
    pd.testing.assert_frame_equal(clean.scores[cols], poisoned.scores[cols])
    # ... while the observations did change, so the poison reached the scoring
    assert poisoned.scores["observed"].iloc[0] == pytest.approx(40.0)


def test_last_value_baseline_by_hand(captured):
    clean, _, _ = captured
    row = clean.scores.set_index("method").loc["last_value_4x"]
    assert row["observed"] == pytest.approx(22.0)
    assert row["median"] == pytest.approx(20.60206, abs=1e-5)
    assert row["crps"] == pytest.approx(1.39794, abs=1e-5)
    assert not row["in90"]


def test_ols_baseline_by_hand(captured):
    clean, _, _ = captured
    row = clean.scores.set_index("method").loc["ols_line"]
    sd = math.sqrt(1 / 6)
    mu = 57.5 / 3 + 3.0
    assert row["median"] == pytest.approx(mu, abs=1e-9)
    assert row["lo90"] == pytest.approx(mu - 1.6448536 * sd, abs=1e-6)
    assert row["hi50"] == pytest.approx(mu + 0.6744898 * sd, abs=1e-6)
    assert row["crps"] == pytest.approx(float(crps_normal(mu, sd, 22.0)), abs=1e-12)
    assert row["in50"] and row["in90"]  # 22.0 is 0.41 sd below the mean


def test_backtest_tables_layout(captured):
    clean, _, _ = captured
    assert set(clean.scores["method"]) == {"trend", "last_value_4x", "ols_line"}
    for col in ("observed", "median", "lo50", "hi50", "lo90", "hi90", "crps", "error"):
        assert col in clean.scores.columns
    assert (clean.scores["lo90"] <= clean.scores["lo50"]).all()
    assert (clean.scores["hi50"] <= clean.scores["hi90"]).all()
    assert clean.summary.index.names == ["method", "cutoff"]
    assert set(clean.fans["prob"]) == set(backtest.FAN_PROBS)
    assert clean.diagnostics.index.tolist() == [2016]


def test_summarize_backtest_by_hand():
    scores = pd.DataFrame(
        {
            "method": ["m", "m", "m"],
            "cutoff": [2020, 2020, 2020],
            "crps": [0.1, 0.2, 0.6],
            "in50": [True, False, False],
            "in90": [True, True, False],
            "error": [-0.5, 0.1, 0.3],
        }
    )
    row = summarize_backtest(scores).loc[("m", 2020)]
    assert row["mean_crps"] == pytest.approx(0.3)
    assert row["coverage50"] == pytest.approx(1 / 3)
    assert row["coverage90"] == pytest.approx(2 / 3)
    assert row["median_abs_error"] == pytest.approx(0.3)
    assert row["mean_error"] == pytest.approx(-0.1 / 3)


def test_backtest_refuses_years_beyond_the_record():
    with pytest.raises(ValueError, match="beyond the record"):
        run_backtest(_hand_runs(), cutoffs=(2016,), last_year=2030)


def test_cli_backtest_writes_table_and_fans(tmp_path, capsys):
    from outputs.cli import main as cli

    out = tmp_path / "bt"
    assert cli(["backtest", "--cutoffs", "2022", "--draws", "150", "--chains", "2", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"backtest.csv", "backtest.md", "backtest.png"}
    scores = pd.read_csv(out / "backtest.csv")
    assert set(scores["cutoff"]) == {2022}
    assert set(scores["year"]) == {2022, 2023, 2024, 2025}
    printed = capsys.readouterr().out
    assert "Pooled over cutoffs" in printed and "last value x4/yr" in printed and "least-squares line" in printed


@pytest.mark.parametrize("argv", [["--cutoffs", "2030"], ["--cutoffs", "20x2"], ["--last-year", "2040"]],
                         ids=["cutoff-after-last-year", "not-a-year", "beyond-record"])
def test_cli_backtest_bad_input_exits_2(argv, tmp_path, capsys):
    from outputs.cli import main as cli

    out = tmp_path / "bt"
    assert cli(["backtest", *argv, "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()
