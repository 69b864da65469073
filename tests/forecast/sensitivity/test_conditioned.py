"""The tornado and the swaps weigh their worlds by the record, as forecast.run conditions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import forecast
from forecast.record.runs import load_runs
from forecast.sensitivity.local import tornado
from forecast.sensitivity.worlds import headline_numbers

YEARS = tuple(range(2025, 2029))


def test_weighted_headline_numbers_by_hand():
    log10 = xr.DataArray([[26.0, 27.0], [28.0, 28.5], [25.0, 26.0]], dims=("sample", "year"),
                         coords={"year": [2025, 2026]})
    weights = xr.DataArray([0.2, 0.5, 0.3], dims="sample")
    numbers = headline_numbers(log10, 1e27, weights)
    # P(>= 1e27 by 2026): worlds 0 and 1 -> 0.7; by 2025: world 1 -> 0.5
    assert numbers["probability"].values.tolist() == pytest.approx([0.5, 0.7])
    # weighted median of 2025: sorted 25 (0.3), 26 (0.2), 28 (0.5): the CDF reaches 0.5 at 26
    assert float(numbers["median"].sel(year=2025)) == 26.0


def test_the_conditioned_tornado_centres_on_the_conditioned_forecast(default_priors):
    runs = load_runs()
    plain = tornado(default_priors, years=YEARS, target_year=2028, threshold=1e28, samples=4000)
    weighed = tornado(default_priors, years=YEARS, target_year=2028, threshold=1e28, samples=4000,
                      conditioning=(runs, 2025))
    run = forecast.run(default_priors, samples=4000, seed=99, years=YEARS, as_of=2025)
    p_run = float(run.timeline["probability"].sel(threshold=1e28, year=2028))
    p_prior = float(forecast.run(default_priors, samples=4000, seed=99, years=YEARS).timeline["probability"]
                    .sel(threshold=1e28, year=2028))
    assert p_run - p_prior > 0.08  # the record moves this number: the test can tell the two apart
    se = math.sqrt(p_run * (1 - p_run) / run.metadata["ess"]) * math.sqrt(2)
    assert float(weighed["base_probability"]) == pytest.approx(p_run, abs=4 * se)
    assert float(plain["base_probability"]) == pytest.approx(p_prior, abs=0.05)
    assert weighed.attrs["as_of"] == "2025-12-31" and weighed.attrs["pareto_k_max"] < 0.7
