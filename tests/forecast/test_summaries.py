"""The summary kernels (forecast.summaries), by hand and reduced by dimension name."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.summaries import (
    best_so_far,
    reach_probability,
    reached,
    running_max,
    weighted_quantile,
    weighted_quantile_kernel,
)


# --- weighted quantiles -------------------------------------------------------------------


def test_weighted_quantiles_of_a_tiny_array_by_hand():
    values = np.array([3.0, 1.0, 2.0])
    weights = np.array([0.5, 0.2, 0.3])
    # sorted 1 (0.2), 2 (0.3), 3 (0.5): cumulative 0.2, 0.5, 1.0
    # q = 0.1 -> 1; q = 0.2 -> 1 (reached exactly); 0.21 -> 2; 0.5 -> 2; 0.51 -> 3; 1 -> 3
    got = weighted_quantile_kernel(values, weights, [0.0, 0.1, 0.2, 0.21, 0.5, 0.51, 1.0])
    assert got.tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    # weights need not sum to 1: the same quantiles at ten times the weights
    assert weighted_quantile_kernel(values, 10 * weights, 0.5) == 2.0


def test_a_world_of_weight_zero_counts_for_nothing():
    # without the weight-0 world at 0.0, the two others split the mass: the median is 5
    got = weighted_quantile_kernel([0.0, 5.0, 9.0], [0.0, 1.0, 1.0], [0.0, 0.5, 0.51])
    assert got.tolist() == [5.0, 5.0, 9.0]
    assert np.isnan(weighted_quantile_kernel([1.0, 2.0], [0.0, 0.0], 0.5))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_equal_weights_are_numpys_inverted_cdf_along_any_axis(axis):
    x = np.random.default_rng(0).normal(size=(5, 8, 3))
    probs = [0.0, 0.05, 0.25, 0.5, 0.6, 0.95, 1.0]
    got = weighted_quantile_kernel(x, np.ones_like(x), probs, axis=axis)
    np.testing.assert_array_equal(got, np.quantile(x, probs, axis=axis, method="inverted_cdf"))
    # and 1-D weights along the axis broadcast over the others
    ones = np.ones(x.shape[axis])
    np.testing.assert_array_equal(weighted_quantile_kernel(x, ones, probs, axis=axis), got)


def test_weighted_quantiles_are_numpys_weighted_inverted_cdf():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(4, 50)), rng.uniform(size=(4, 50))
    probs = [0.1, 0.5, 0.9]
    np.testing.assert_array_equal(weighted_quantile_kernel(x, w, probs, axis=1),
                                  np.quantile(x, probs, axis=1, method="inverted_cdf", weights=w))


def test_weighted_quantile_reduces_by_dimension_name():
    # (sample, lab, year) = (3, 2, 1), written out so each reduction can be read off
    values = xr.DataArray([[[1.0], [10.0]], [[2.0], [30.0]], [[3.0], [20.0]]], dims=("sample", "lab", "year"),
                          coords={"lab": ["a", "b"], "year": [2030]})
    weights = xr.DataArray([0.6, 0.3, 0.1], dims="sample")
    over_samples = weighted_quantile(values, [0.5, 0.7], weights=weights, dim="sample")
    assert over_samples.dims == ("quantile", "lab", "year")
    # lab a: 1 (0.6) holds the median; 0.7 needs 2 (0.9). lab b: 10 (0.6), then 20 (0.1), 30 (0.3)
    assert over_samples.sel(year=2030).values.tolist() == [[1.0, 10.0], [2.0, 20.0]]
    over_labs = weighted_quantile(values, 0.5, dim="lab")  # equal weights, the lower of two
    assert over_labs.dims == ("sample", "year")
    assert over_labs.values.ravel().tolist() == [1.0, 2.0, 3.0]


# --- running maximum and reach ------------------------------------------------------------


def test_best_so_far_runs_along_the_axis_it_is_given():
    x = np.array([[1.0, 3.0, 2.0], [5.0, 4.0, 6.0]])
    assert best_so_far(x, axis=1).tolist() == [[1.0, 3.0, 3.0], [5.0, 5.0, 6.0]]
    assert best_so_far(x, axis=0).tolist() == [[1.0, 3.0, 2.0], [5.0, 4.0, 6.0]]


def test_best_so_far_of_worlds_labs_and_years_carries_a_nan_forward_and_keeps_its_input():
    """A chunk's (world, lab, year) array, a position at a time: a NaN stays from where it
    comes along the axis (as ``np.maximum.accumulate`` keeps it), and the input is not written."""
    x = np.array([[[1.0, np.nan, 0.0], [2.0, 1.0, 3.0]]])
    kept = x.copy()
    np.testing.assert_array_equal(best_so_far(x, axis=2), [[[1.0, np.nan, np.nan], [2.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(best_so_far(x, axis=1), [[[1.0, np.nan, 0.0], [2.0, np.nan, 3.0]]])
    np.testing.assert_array_equal(x, kept)


def test_running_max_and_reach_keep_a_lab_dim_and_the_frontier_is_the_max_over_labs():
    # one world, two labs, three years; lab a leads, then lab b
    lab = xr.DataArray([[[26.0, 25.0, 25.5], [24.0, 27.0, 26.0]]], dims=("sample", "lab", "year"),
                       coords={"lab": ["a", "b"], "year": [2025, 2026, 2027]})
    best = running_max(lab)
    assert best.dims == ("sample", "lab", "year")
    assert best.sel(lab="a").values.tolist() == [[26.0, 26.0, 26.0]]
    assert best.sel(lab="b").values.tolist() == [[24.0, 27.0, 27.0]]
    hits = reached(lab, [1e26])
    assert hits.dims == ("sample", "lab", "threshold", "year")
    assert hits.sel(lab="b").values.ravel().tolist() == [False, True, True]
    frontier = reach_probability(lab.max("lab"), [1e26, 1e27])["probability"]
    assert frontier.values.tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]


def test_running_max_takes_the_years_in_order_whatever_the_order_given():
    x = xr.DataArray([[3.0, 1.0, 2.0]], dims=("sample", "year"), coords={"year": [2027, 2025, 2026]})
    # by year: 2025 -> 1, 2026 -> 2, 2027 -> 3: the running max is 1, 2, 3
    assert running_max(x).values.tolist() == [[1.0, 2.0, 3.0]]


def test_weighted_reach_and_its_standard_error_by_hand():
    x = xr.DataArray([[26.0], [27.5], [28.0]], dims=("sample", "year"), coords={"year": [2030]})
    w = xr.DataArray([0.5, 0.25, 0.25], dims="sample")
    out = reach_probability(x, [1e27], weights=w)
    # worlds 1 and 2 reach 1e27: p = 0.5; sum w^2 (I - p)^2 = 0.25 * 0.25 + 2 * 0.0625 * 0.25
    assert out["probability"].item() == pytest.approx(0.5)
    assert out["mcse"].item() == pytest.approx(np.sqrt(0.0625 + 0.03125))
    # equal weights: the unweighted proportion and its binomial standard error
    plain = reach_probability(x, [1e27])
    equal = reach_probability(x, [1e27], weights=xr.ones_like(x.isel(year=0, drop=True)))
    assert equal["probability"].item() == pytest.approx(plain["probability"].item())
    assert plain["mcse"].item() == pytest.approx(np.sqrt(2 / 3 * 1 / 3 / 3))
