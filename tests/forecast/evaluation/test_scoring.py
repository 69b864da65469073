"""CRPS and coverage summaries: the proper-scoring kernels of forecast.evaluation.scoring."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.evaluation import backtest, scoring
from forecast.evaluation.scoring import crps_dataarray, crps_normal, crps_samples, summarize_backtest

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


# --- coverage and means -------------------------------------------------------------------


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


def test_backtest_reexports_the_scoring_names():
    for name in ("crps_dataarray", "crps_normal", "crps_samples", "summarize_backtest"):
        assert getattr(backtest, name) is getattr(scoring, name)


# --- log score, PIT, coverage curve, bootstrap ranking ------------------------------------------


def test_log_score_and_pit_of_a_normal_by_hand():
    # log phi(0) = -log(2 pi) / 2
    assert float(scoring.log_score_normal(0.0, 1.0, 0.0)) == pytest.approx(-0.5 * math.log(2 * math.pi))
    assert float(scoring.pit_normal(1.0, 2.0, 1.0)) == pytest.approx(0.5)
    # a point forecast has no density; its PIT is 0 below the point, 1 above, 1/2 on it
    assert np.isnan(scoring.log_score_normal(0.0, 0.0, 1.0))
    np.testing.assert_allclose(scoring.pit_normal(1.0, 0.0, [0.0, 1.0, 2.0]), [0.0, 0.5, 1.0])


def test_student_t_mixture_by_hand():
    # Two Cauchy draws (nu = 1, scale 1) at 0 and 2. Density of a Cauchy at distance d:
    # 1 / (pi (1 + d^2)); CDF at d: 1/2 + atan(d) / pi.
    # y = 1: both at distance 1: density 1 / (2 pi) each; CDFs 3/4 and 1/4.
    # y = 0: densities 1/pi and 1/(5 pi), mean 0.6/pi; CDFs 1/2 and 1/2 - atan(2)/pi.
    log_score, pit = scoring.student_t_mixture_scores([1.0, 1.0], [[0.0, 0.0], [2.0, 2.0]], [1.0, 1.0],
                                                      [1.0, 0.0])
    np.testing.assert_allclose(log_score, [math.log(1 / (2 * math.pi)), math.log(0.6 / math.pi)])
    np.testing.assert_allclose(pit, [0.5, (0.5 + 0.5 - math.atan(2) / math.pi) / 2])


def test_coverage_curve_by_hand():
    # inside the central 50% interval when |pit - 1/2| <= 0.25, the 90% one when <= 0.45
    pit = [0.5, 0.3, 0.94, 0.0]
    np.testing.assert_allclose(scoring.coverage_curve(pit, [0.5, 0.9]), [0.5, 0.75])


def test_bootstrap_ranking_pairs_the_cases():
    cases = [(c, y) for c in (2016, 2018) for y in range(2018, 2023)]
    rng = np.random.default_rng(3)
    base = rng.uniform(0.2, 2.0, len(cases))
    rows = []
    for (c, y), v in zip(cases, base):
        rows += [{"method": "a", "cutoff": c, "year": y, "crps": v},
                 {"method": "b", "cutoff": c, "year": y, "crps": v + 0.3},  # always 0.3 worse
                 {"method": "p", "cutoff": c, "year": y, "crps": np.nan}]   # no score: left out
    ranked = scoring.bootstrap_ranking(pd.DataFrame(rows), n_boot=500, seed=1)
    assert ranked.index.tolist() == ["a", "b"]
    # paired resampling: the difference is exactly 0.3 in every replicate
    assert ranked.loc["b", ["diff_to_best", "diff_lo", "diff_hi"]].tolist() == pytest.approx([0.3] * 3)
    assert ranked.loc["a", "p_best"] == 1.0
    assert ranked.loc["a", "mean"] == pytest.approx(base.mean())
    assert ranked.loc["a", "lo"] < base.mean() < ranked.loc["a", "hi"]


def test_the_true_forecast_scores_best_and_covers():
    """Outcomes drawn from N(0, 1): the forecast N(0, 1) beats a shifted, a too wide and a
    too narrow one on both scores, and its intervals cover within binomial error."""
    n = 4000
    y = np.random.default_rng(7).standard_normal(n)
    forecasts = {"true": (0.0, 1.0), "shifted": (0.5, 1.0), "wide": (0.0, 2.0), "narrow": (0.0, 0.5)}
    crps = {k: float(np.mean(crps_normal(m, s, y))) for k, (m, s) in forecasts.items()}
    logs = {k: float(np.mean(scoring.log_score_normal(m, s, y))) for k, (m, s) in forecasts.items()}
    assert min(crps, key=crps.get) == "true"
    assert max(logs, key=logs.get) == "true"
    levels = np.array([0.5, 0.9])
    covered = scoring.coverage_curve(scoring.pit_normal(0.0, 1.0, y), levels)
    tolerance = 4 * np.sqrt(levels * (1 - levels) / n)
    assert np.all(np.abs(covered - levels) < tolerance)
