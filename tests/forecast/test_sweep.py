"""forecast.sweep: grids of pinned priors, equal to runs with the same override, one compile."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from jax import monitoring

import forecast
from forecast.settings import RunSettings
from forecast.sweep import crossings, grid_axes, parse_vary, sweep
from priors import InputError

#: Small and shared: every test of this file compiles the same structure once.
SMALL = RunSettings(samples=2000, seed=7, years="2025:2035")
QUESTION = {"threshold": 1e28, "year": 2028}
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@pytest.fixture(scope="module")
def curve():
    """One prior (log-scale), conditioned on the record, with the baseline run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sweep(SMALL, ["chip_growth=1.2:4:4"], **QUESTION)


def test_grid_spec_spacing_and_rounding(default_priors):
    log = parse_vary("chip_growth=1.5:3.5:5", default_priors)
    assert log.log_scale and log.values[0] == 1.5 and log.values[-1] == 3.5
    assert np.allclose(np.diff(np.log(log.values)), math.log(3.5 / 1.5) / 4, rtol=0, atol=2e-5)
    linear = parse_vary("mfu=0.2:0.6:5", default_priors)
    assert not linear.log_scale and linear.values == (0.2, 0.3, 0.4, 0.5, 0.6)
    assert all(float(f"{v:.6g}") == v for v in log.values)  # what --set reads back exactly
    assert linear.unit == default_priors["mfu"].unit
    p05, _, p95 = log.quantiles
    expected = default_priors["chip_growth"].family.ppf([0.05, 0.95])  # the prior's own interval
    assert p05 == pytest.approx(expected[0], rel=1e-6) and p95 == pytest.approx(expected[1], rel=1e-6)


@pytest.mark.parametrize(
    "vary, words",
    [
        (["chip_groth=1:2:3"], "did you mean 'chip_growth'"),
        (["chip_growth=1:2:1"], "N >= 2"),
        (["chip_growth=1:2:x"], "whole number"),
        (["chip_growth=1:2"], "NAME=LO:HI:N"),
        (["chip_growth=2:1:3"], "LO must be below HI"),
        (["chip_growth=0:2:3"], "domain"),
        (["mfu=0.5:1.5:3"], "domain"),
        (["chip_growth=a:2:3"], "not a number"),
        (["chip_growth=1:2:3", "mfu=0.3:0.5:3", "lag_years=0:1:3"], "at most 2"),
        (["chip_growth=1:2:3", "chip_growth=1:3:3"], "varied twice"),
        ([], "one or two"),
    ],
)
def test_bad_grids_are_one_line_errors(default_priors, vary, words):
    with pytest.raises(InputError) as err:
        grid_axes(vary, default_priors)
    message = str(err.value)
    assert message.startswith("--vary") and words in message and "\n" not in message


def test_a_grid_point_is_the_run_with_that_override(curve, default_priors):
    """Each grid point: exactly forecast.run with the prior pinned (same seed, worlds,
    conditioning), and the dims are named after the varied prior."""
    assert curve["probability"].dims == ("chip_growth",)
    value = float(curve["chip_growth"][1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = forecast.run(default_priors, overrides=[f"chip_growth={value!r}"], samples=2000, seed=7,
                              years="2025:2035", as_of="record")
    reach = single.timeline.sel(threshold=1e28, year=2028)
    assert float(curve["probability"][1]) == float(reach["probability"])
    assert float(curve["mcse"][1]) == float(reach["mcse"])
    assert float(curve["pareto_k"][1]) == single.metadata["pareto_k"]
    assert curve.attrs["as_of"] == str(single.metadata["as_of"])
    assert curve.attrs["samples"] == 2000 and curve.attrs["seed"] == 7


def test_more_chip_growth_never_lowers_the_probability(curve):
    """Same worlds at every point, and compute grows with the chip count: monotone (up to
    the conditioning's resampling, within two Monte Carlo errors)."""
    p, se = curve["probability"].values, curve["mcse"].values
    assert np.all(np.diff(p) >= -2 * np.hypot(se[1:], se[:-1]))
    assert p[-1] - p[0] > 0.3
    assert 0 < curve.attrs["baseline_probability"] < 1


def test_the_grid_reuses_one_compiled_model():
    """A sweep over new values of a prior already swept compiles nothing: the pinned
    numbers are traced leaves, not part of the compiled program."""
    settings = SMALL.replace(as_of=None)
    events = []

    def count(name, _secs, **_kw):
        if name == _COMPILE_EVENT:
            events.append(name)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sweep(settings, ["chip_growth=1.5:3.5:2"], baseline=False, **QUESTION)  # compiles chip_growth pinned (if not done yet)
        monitoring.register_event_duration_secs_listener(count)
        try:
            grid = sweep(settings, ["chip_growth=1.1:5:4"], baseline=False, **QUESTION)
        finally:
            monitoring.unregister_event_duration_listener(count)
    assert events == [], f"{len(events)} compilations for a sweep of 4 new values"
    assert grid["probability"].shape == (4,) and np.all(np.isfinite(grid["probability"]))


def test_two_priors_make_a_grid_named_after_them():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = sweep(SMALL.replace(as_of=None), ["mfu=0.2:0.6:2", "chip_growth=1.2:4:3"], baseline=False,
                     **QUESTION)
    assert grid["probability"].dims == ("mfu", "chip_growth")
    assert grid["probability"].shape == (2, 3) and "pareto_k" not in grid
    assert grid["chip_growth"].attrs["spacing"] == "log" and grid["mfu"].attrs["spacing"] == "linear"
    assert np.all(grid["probability"].diff("mfu") >= 0)
    assert grid.attrs["as_of"] == "none" and math.isnan(grid.attrs["baseline_probability"])


def test_year_outside_years_and_set_conflicts_are_refused():
    with pytest.raises(InputError, match="^year: 2036 is outside"):
        sweep(SMALL, ["mfu=0.2:0.6:2"], **dict(QUESTION, year=2036))
    with pytest.raises(InputError, match="both varied and set"):
        sweep(SMALL.replace(overrides=("mfu=0.4",)), ["mfu=0.2:0.6:2"], **QUESTION)


def test_crossings_interpolate_in_the_prior_scale(curve):
    line = curve["probability"].copy(data=[0.0, 0.4, 0.6, 1.0])
    (at,) = crossings(line, 0.5)
    lo, hi = (float(v) for v in curve["chip_growth"][1:3])
    assert at == pytest.approx(math.sqrt(lo * hi))  # midway on the log scale
    assert crossings(line.copy(data=[0.6, 0.7, 0.8, 0.9]), 0.5) == []


def test_a_lab_correlation_grid_point_is_the_run_at_that_correlation(default_priors):
    """--vary lab_correlation=LO:HI:N: each point is forecast.run with --lab-correlation set
    (the rank correlation between labs is a setting of the prior set, not a prior)."""
    small = dict(samples=2000, seed=7, years="2025:2035", as_of=None)
    grid = sweep(RunSettings(**small), ["lab_correlation=0:0.8:3"], baseline=False, **QUESTION)
    assert grid["probability"].dims == ("lab_correlation",)
    assert list(grid["lab_correlation"].values) == [0.0, 0.4, 0.8]
    assert grid["lab_correlation"].attrs["varies"] == "setting"
    single = forecast.run(default_priors, lab_correlation=0.4, **small)
    reach = single.timeline.sel(threshold=1e28, year=2028)
    assert float(grid["probability"][1]) == float(reach["probability"])


@pytest.mark.parametrize("vary, words", [("lab_correlation=0:1:3", "[0, 1)"), ("lab_correlation=-0.2:0.5:3", "[0, 1)"),
                                         ("lab_correlation=0:x:3", "not a number")])
def test_bad_lab_correlation_grids_are_one_line_errors(default_priors, vary, words):
    with pytest.raises(InputError) as err:
        grid_axes([vary], default_priors)
    assert str(err.value).startswith("--vary") and words in str(err.value)


def test_one_lab_has_no_correlation_to_vary(default_priors):
    with pytest.raises(InputError, match="one lab"):
        grid_axes(["lab_correlation=0:0.5:3"], default_priors.with_labs(1))
