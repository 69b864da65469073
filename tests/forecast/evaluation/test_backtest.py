"""Baselines, and backtests that never see the future (CRPS itself: test_scoring.py)."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import forecast.evaluation.backtest as backtest
from forecast.evaluation.backtest import forecast_quantiles, run_backtest
from forecast.evaluation.scoring import crps_normal
from forecast.evaluation.trend_fit import TrendFitWarning

pytestmark = pytest.mark.filterwarnings(f"ignore::{TrendFitWarning.__module__}.TrendFitWarning")


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
# last_value: the last record, 20 at 2015.0, grown at the least-squares slope of the three
#   pre-cutoff records (1 OOM/yr, below) to t = 2017.0: 20 + 1 * 2 = 22; CRPS = |22 - 22| = 0
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
            "revisions": ["", "", "", ""],
            "published": pd.to_datetime(["2013-01-01", "2014-01-01", "2015-01-01", "2016-06-01"]),
        }
    )


def _poisoned_runs():
    """The hand record with the future changed wildly: the 2016 run is 1e40 and moved to
    March, a new 1e35 run appears on 2016-01-01, and run c is revised to 1e25 in June 2016
    (its 1e20 kept as the value public until then)."""
    runs = _hand_runs()
    runs.loc[3, ["date", "published", "training_compute_flop"]] = [
        pd.Timestamp("2016-03-01"), pd.Timestamp("2016-03-01"), 1e40]
    runs.loc[2, ["training_compute_flop", "revisions", "published"]] = [
        1e25, "1e20 from 2015-01-01", pd.Timestamp("2016-06-01")]
    runs.loc[4] = ["z", pd.Timestamp("2016-01-01"), 1e35, "", pd.Timestamp("2016-01-01")]
    return runs


@pytest.fixture(scope="module")
def captured():
    """Run the backtest on the clean and on a poisoned record, recording what each fit saw."""
    seen = []
    real_fit = backtest.fit_trend

    def spy(runs, **kwargs):
        seen.append((kwargs["cutoff"], pd.to_datetime(runs["date"]).max(), len(runs),
                     float(runs["training_compute_flop"].max()), kwargs["priors"]))
        return real_fit(runs, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(backtest, "fit_trend", spy)
    try:
        clean = run_backtest(_hand_runs(), **SETTINGS)
        poisoned = run_backtest(_poisoned_runs(), **SETTINGS)
    finally:
        mp.undo()
    return clean, poisoned, seen


def test_backtest_fits_see_only_pre_cutoff_runs(captured):
    _, _, seen = captured
    assert len(seen) == 2
    for cutoff, last_date, n, largest, _ in seen:
        assert cutoff == 2016
        assert last_date < pd.Timestamp("2016-01-01")
        assert n == 3
        assert largest == pytest.approx(1e20)  # run c as known then, not its 1e25 revision
    assert seen[0][4] == seen[1][4]  # the same priors


def test_backtest_forecasts_ignore_poisoned_future(captured):
    clean, poisoned, _ = captured
    cols = ["method", "cutoff", "year", "median", "lo50", "hi50", "lo90", "hi90"]
    pd.testing.assert_frame_equal(clean.scores[cols], poisoned.scores[cols])
    # ... while the observations did change, so the poison reached the scoring
    assert poisoned.scores["observed"].iloc[0] == pytest.approx(40.0)


def test_last_value_baseline_by_hand(captured):
    clean, _, _ = captured
    row = clean.scores.set_index("method").loc["last_value"]
    assert row["observed"] == pytest.approx(22.0)
    assert row["median"] == pytest.approx(22.0, abs=1e-9)
    assert row["crps"] == pytest.approx(0.0, abs=1e-9)


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
    assert set(clean.scores["method"]) == {"trend", "last_value", "ols_line"}
    for col in ("observed", "median", "lo50", "hi50", "lo90", "hi90", "crps", "error"):
        assert col in clean.scores.columns
    assert (clean.scores["lo90"] <= clean.scores["lo50"]).all()
    assert (clean.scores["hi50"] <= clean.scores["hi90"]).all()
    assert clean.summary.index.names == ["method", "cutoff"]
    assert set(clean.fans["prob"]) == set(backtest.FAN_PROBS)
    assert clean.diagnostics.index.tolist() == [2016]


def test_backtest_refuses_a_cutoff_with_nothing_known_before_it():
    with pytest.raises(ValueError, match="no run was published before 2013-01-01"):
        run_backtest(_hand_runs(), cutoffs=(2013,), last_year=2016)


def test_backtest_refuses_years_beyond_the_record():
    with pytest.raises(ValueError, match="beyond the record"):
        run_backtest(_hand_runs(), cutoffs=(2016,), last_year=2030)


def test_cli_backtest_writes_table_and_fans(tmp_path, capsys):
    from outputs.cli import main as cli

    out = tmp_path / "bt"
    assert cli(["backtest", "--cutoffs", "2022", "--draws", "150", "--chains", "2", "--samples", "2000",
                "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"backtest.csv", "backtest.md", "backtest.png",
                                              "backtest_calibration.png"}
    scores = pd.read_csv(out / "backtest.csv")
    assert set(scores["cutoff"]) == {2022}
    assert set(scores["year"]) == {2022, 2023, 2024, 2025}
    assert set(scores["method"]) == {"trend", "last_value", "ols_line", "bottom_up"}  # 2022 has a hindcast
    printed = capsys.readouterr().out
    assert "bottom-up model (hindcast)" in printed and "Pareto k" in printed
    assert "Pooled over cutoffs" in printed and "last value x fitted growth" in printed and "least-squares line" in printed


@pytest.mark.parametrize("argv", [["--cutoffs", "2030"], ["--cutoffs", "20x2"], ["--last-year", "2040"],
                                  ["--cutoffs", "2012"], ["--cutoffs", "2016,2016"], ["--cutoffs", ","]],
                         ids=["cutoff-after-last-year", "not-a-year", "beyond-record", "empty-before-cutoff",
                              "repeated", "none"])
def test_cli_backtest_bad_input_exits_2(argv, tmp_path, capsys):
    from outputs.cli import main as cli

    out = tmp_path / "bt"
    assert cli(["backtest", *argv, "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


# --- the record as it was known at each cutoff ---------------------------------------------------


def test_known_at_cutoff_reads_values_public_then():
    runs = pd.DataFrame(
        {
            "model": ["early", "revised", "late"],
            "date": pd.to_datetime(["2014-01-01", "2015-06-01", "2015-06-01"]),
            "training_compute_flop": [1e18, 1e21, 1e22],
            # revised: 1e20 when published, 1e21 from 2016-03-01; late: first public in 2016
            "revisions": ["", "1e20 from 2015-06-01", ""],
            "published": pd.to_datetime(["2014-01-01", "2016-03-01", "2016-02-01"]),
        }
    )
    seen = backtest.known_at_cutoff(runs, 2016)
    assert seen["model"].tolist() == ["early", "revised"]
    assert seen.set_index("model").loc["revised", "training_compute_flop"] == pytest.approx(1e20)
    later = backtest.known_at_cutoff(runs, 2017)
    assert later.set_index("model")["training_compute_flop"].to_dict() == {
        "early": 1e18, "revised": 1e21, "late": 1e22}


@pytest.mark.parametrize("cutoff, slope", [
    (2016, math.log10(2) / 2),          # Moore 1975 only
    (2018, math.log10(2) / 2),          # AI and Compute came out in May 2018
    (2020, math.log10(2) * 12 / 3.4),   # AI and Compute: 3.4-month doubling
    (2022, math.log10(2) * 12 / 3.4),   # Sevilla et al. came out in February 2022
    (2023, math.log10(2) * 12 / 10),    # Sevilla et al.: 10-month doubling
    (2025, math.log10(4.5)),            # Epoch AI, May 2024: 4-5x a year
])
def test_trend_slope_prior_is_the_growth_published_before_the_cutoff(cutoff, slope):
    series = pd.DataFrame({"year_frac": [2010.0, 2014.5], "log10_compute": [18.0, 20.0]})
    priors = backtest.trend_priors_before(series, cutoff)
    assert priors.slope_loc == pytest.approx(slope)
    # centred on the last record known (1e20 at 2014.5) carried to 2020 at that slope
    assert priors.intercept_loc == pytest.approx(20.0 + slope * 5.5)


# --- a record drawn from a known model -------------------------------------------------------------
#
# One run a year, on 20 December, log10 C = 20 + 0.5 (t - 2000) + N(0, 0.1): a straight line
# with normal scatter, the least-squares line's own model (the trend assumes a line too, with
# Student-t scatter and priors; the last value is a point forecast). Every run is a new record
# (checked below: a step of 0.5 OOM against noise differences of sd 0.14), so the largest run
# known at the end of a year is that year's run, what the line methods forecast. The
# least-squares line should score best on CRPS and on the log score, the point baseline worse
# beyond bootstrap error, and both line methods' 50% and 90% intervals should cover about half
# and nine tenths of the outcomes.


@pytest.fixture(scope="module")
def synthetic():
    from forecast.record.frontier import frontier_series

    rng = np.random.default_rng(11)
    dates = pd.to_datetime([f"{y}-12-20" for y in range(1996, 2026)])
    t = dates.year + (dates.day_of_year - 1) / 365.0
    log10 = 20 + 0.5 * (t - 2000) + rng.normal(0.0, 0.1, len(t))
    runs = pd.DataFrame({"model": [f"m{y}" for y in dates.year], "date": dates,
                         "training_compute_flop": 10.0**log10})
    assert len(frontier_series(runs)) == len(runs)  # every run a record
    # the bottom-up hindcast's priors are of the real world, not of this one: left out
    return run_backtest(runs, cutoffs=(2008, 2012, 2016, 2020), last_year=2025, seed=0, chains=2,
                        draws=300, warmup=300, bottom_up=False)


def test_synthetic_record_the_generating_model_wins(synthetic):
    for score in ("crps", "log_score"):
        assert synthetic.ranking[score].index[0] == "ols_line", score
    # the point baseline is worse in at least 95% of the bootstrap replicates
    assert synthetic.ranking["crps"].loc["last_value", "diff_lo"] > 0.0
    # the correct predictive's expected CRPS is 0.1 / sqrt(pi) = 0.056 (plus parameter
    # uncertainty); a point forecast off by N(0, 0.1 sqrt 2) expects 0.1 sqrt(2) sqrt(2 / pi) = 0.113
    assert synthetic.ranking["crps"].loc["ols_line", "mean"] < 0.08 < synthetic.ranking["crps"].loc["last_value", "mean"]


@pytest.mark.parametrize("method", ["ols_line", "trend"])
def test_synthetic_record_line_intervals_cover(synthetic, method):
    rows = synthetic.scores[synthetic.scores["method"] == method]
    n = len(rows)
    assert n == 18 + 14 + 10 + 6
    for level, column in ((0.5, "in50"), (0.9, "in90")):
        # binomial error, widened by 3: the cases of one cutoff share one fit
        tolerance = 3 * math.sqrt(level * (1 - level) / n)
        assert abs(rows[column].mean() - level) < tolerance, column


def test_a_method_scored_at_some_cutoffs_is_ranked_on_those_cutoffs_only():
    # trend and last_value at 2018 and 2020, bottom_up at 2020 only: the pooled ranking
    # leaves bottom_up out (it lacks the 2018 cases); a second one ranks all three on 2020's
    rows = []
    for cutoff, crps in ((2018, {"trend": 1.0, "last_value": 3.0}),
                         (2020, {"trend": 2.0, "last_value": 1.0, "bottom_up": 0.5})):
        for method, value in crps.items():
            for year, extra in ((cutoff, 0.0), (cutoff + 1, 1.0)):
                rows.append({"method": method, "cutoff": cutoff, "year": year, "crps": value + extra,
                             "log_score": -(value + extra)})
    ranking = backtest.rankings(pd.DataFrame(rows), seed=0)
    assert set(ranking["crps"].index) == {"trend", "last_value"}
    assert ranking["crps"]["n"].iloc[0] == 4
    # trend: (1 + 2 + 2 + 3) / 4 = 2.0; last_value: (3 + 4 + 1 + 2) / 4 = 2.5
    assert ranking["crps"].loc["trend", "mean"] == pytest.approx(2.0)
    assert ranking["crps"].loc["last_value", "mean"] == pytest.approx(2.5)
    shared = ranking["crps_hindcast"]
    assert list(shared.index) == ["bottom_up", "last_value", "trend"]  # best first
    assert shared["n"].iloc[0] == 2
    # on 2020's two cases: bottom_up (0.5 + 1.5) / 2, last_value (1 + 2) / 2, trend (2 + 3) / 2
    assert shared["mean"].tolist() == pytest.approx([1.0, 1.5, 2.5])
    assert list(ranking["log_score_hindcast"].index)[0] == "bottom_up"  # higher is better there


def test_no_second_ranking_when_every_method_has_every_cutoff():
    rows = [{"method": m, "cutoff": c, "year": c, "crps": 1.0 + i, "log_score": -1.0 - i}
            for c in (2018, 2020) for i, m in enumerate(("trend", "bottom_up"))]
    assert set(backtest.rankings(pd.DataFrame(rows), seed=0)) == {"crps", "log_score"}
