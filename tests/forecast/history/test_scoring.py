"""CRPS and coverage summaries: the proper-scoring kernels of forecast.history.scoring."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.history import backtest, scoring
from forecast.history.scoring import crps_dataarray, crps_normal, crps_samples, summarize_backtest

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
