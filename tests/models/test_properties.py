"""Properties that hold for every valid prior set (hypothesis draws the prior sets).

Each example compiles the model once for its prior set, so examples are few but wide:
every prior gets a random family and interval within its domain.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecast
from models import PARAMETERS
from priors import FRACTION, NON_NEGATIVE, POSITIVE, REAL, UNIT_INTERVAL

YEARS = range(2025, 2036)
THRESHOLDS = (1e24, 1e26, 1e28, 1e30, 1e32)


@st.composite
def positive_spec(draw, low_exp=-2.0, high_exp=12.0):
    lo = draw(st.floats(low_exp, high_exp))
    width = draw(st.floats(0.01, 3.0))
    kind = draw(st.sampled_from(["lognormal", "loguniform", "fixed"]))
    if kind == "fixed":
        return f"fixed {10**lo:.6g}"
    return f"{kind} {10**lo:.6g} to {10**(lo + width):.6g}"


@st.composite
def fraction_spec(draw):
    lo = draw(st.floats(0.02, 0.8))
    hi = draw(st.floats(lo + 0.05, 0.98))
    kind = draw(st.sampled_from(["beta", "uniform", "fixed"]))
    if kind == "fixed":
        return f"{lo:.4f}"
    if kind == "uniform":
        return f"uniform between {lo:.4f} and {hi:.4f}"
    return f"beta {lo:.4f} to {hi:.4f}"


@st.composite
def real_spec(draw, center=0.0, spread=2.0):
    lo = draw(st.floats(center - spread, center + spread))
    width = draw(st.floats(0.01, spread))
    kind = draw(st.sampled_from(["normal", "uniform", "fixed"]))
    if kind == "fixed":
        return f"{lo:.6g}"
    return f"{kind} {lo:.6g} to {lo + width:.6g}"


def growth_spec():
    return positive_spec(low_exp=-0.3, high_exp=0.6)  # 0.5x .. 4x a year (and 1e3 wider)


@st.composite
def prior_overrides(draw):
    specs = {}
    for name, domain in PARAMETERS.items():
        if name.endswith("growth"):
            specs[name] = draw(growth_spec())
        elif name == "low_precision_year":
            specs[name] = draw(real_spec(center=2028, spread=6))
        elif name == "tokens_per_param_slope":
            specs[name] = draw(real_spec(center=0.06, spread=0.3))
        elif domain is NON_NEGATIVE:
            specs[name] = draw(st.one_of(st.just("0"), positive_spec(low_exp=-3.0, high_exp=1.0)))
        elif domain is FRACTION or domain is UNIT_INTERVAL:
            specs[name] = draw(fraction_spec())
        elif domain is REAL:
            specs[name] = draw(real_spec(center=1.0, spread=2.0))
        else:
            assert domain is POSITIVE
            specs[name] = draw(positive_spec())
    return specs


FEW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FEW
@given(prior_overrides(), st.integers(0, 2**31 - 1))
def test_every_output_is_finite_and_below_its_caps(overrides, seed):
    result = forecast.run(overrides=overrides, samples=256, seed=seed, years=YEARS, thresholds=THRESHOLDS, labs=1)
    ds = result.samples
    for name, var in ds.data_vars.items():
        assert np.isfinite(var.values).all(), name
    pretraining = ds["log10_pretraining_compute"]
    for wall in ("log10_hardware_compute", "log10_latency_compute"):
        assert (pretraining <= ds[wall] + 1e-9).all(), wall
    # past the data wall W only W (H / W)^s counts: at most H, at least W
    available = np.minimum(ds["log10_hardware_compute"], ds["log10_latency_compute"])
    assert (pretraining >= np.minimum(available, ds["log10_data_compute"]) - 1e-9).all()
    assert (ds["log10_training_compute"] >= pretraining - 1e-12).all()
    assert (ds["data_efficiency"] <= 1 + 1e-12).all() and (ds["data_efficiency"] > 0).all()
    # power and money: the chips' draw and cost never exceed that year's limits, nor their ceilings
    t = ds["year"] - 2024 - ds["lag_years"]
    log10_power_limit = np.minimum(np.log10(ds["power_limit_gw_base"]) + t * np.log10(ds["power_limit_growth"]),
                                   np.log10(ds["power_limit_gw_max"]))
    log10_capex_limit = np.minimum(np.log10(ds["capex_limit_usd_base"]) + t * np.log10(ds["capex_limit_growth"]),
                                   np.log10(ds["capex_limit_usd_max"]))
    assert (ds["log10_power_gw"] <= log10_power_limit + 1e-9).all()
    assert (ds["log10_cluster_capex_usd"] <= log10_capex_limit + 1e-9).all()
    assert (ds["duration_days"] <= ds["duration_days_max"] * (1 + 1e-12)).all()
    # without post-training the run takes no longer than its pretraining time
    no_post = ds["post_training_fraction"] == 0
    assert (ds["run_days"].where(no_post) <= ds["duration_days"] * (1 + 1e-9)).where(no_post, True).all()
    # timeline probabilities are monotone in year and in threshold
    p = result.timeline["probability"].transpose("threshold", "year").values
    assert (np.diff(p, axis=1) >= 0).all()
    assert (np.diff(p, axis=0) <= 0).all()


@FEW
@given(prior_overrides(), st.integers(0, 2**31 - 2))
def test_same_seed_same_numbers_other_seed_other_numbers(overrides, seed):
    run = lambda s: forecast.run(overrides=overrides, samples=64, seed=s, years=YEARS, labs=2)  # noqa: E731
    first, again, other = run(seed), run(seed), run(seed + 1)
    np.testing.assert_array_equal(first.log10_compute.values, again.log10_compute.values)
    uncertain = any(not p.is_fixed for p in first.priors)
    if uncertain:
        assert not np.array_equal(first.log10_compute.values, other.log10_compute.values)


def test_monte_carlo_error_is_the_binomial_standard_error(small_run):
    p = small_run.timeline["probability"]
    expected = np.sqrt(p * (1 - p) / small_run.n_samples)
    np.testing.assert_allclose(small_run.timeline["mcse"], expected)
    assert float(small_run.timeline["mcse"].max()) <= 0.5 / math.sqrt(small_run.n_samples)


@FEW
@given(prior_overrides(), st.integers(0, 2**31 - 1), st.floats(1.0, 100.0), st.floats(1.01, 100.0))
def test_a_larger_repetition_decay_never_lowers_the_data_wall(overrides, seed, decay, factor):
    def wall(r_star):
        # one lab: with several, R* can change which lab leads, and the leader's wall with it
        run = forecast.run(overrides={**overrides, "repetition_decay": f"{r_star:.9g}"}, samples=64,
                           seed=seed, years=YEARS, labs=1)
        return run.samples["log10_data_compute"].values

    assert (wall(decay * factor) >= wall(decay) - 1e-12).all()
