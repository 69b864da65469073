"""The bottom-up model against the seeds' own figures, and against an independent NumPy model.

Each reference case (MODEL.md, "Reference numbers") runs through the real engine
(``forecast.run``) with point-mass priors, lag 0 and growth 1. The expected value is worked
out by hand in the test from the case's inputs; the seed's rounded figure is checked at the
precision its rounding implies.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import forecast
from models import CONSTRAINTS, OUTPUT_UNITS, PARAMETERS, world_compute
from tests.numpy_model import numpy_log_world_compute, numpy_world_compute
from tests.worlds import NEUTRAL_WORLD, point_mass_priors

#: The model arithmetic is called directly here: in float64, as the engine calls it.
pytestmark = pytest.mark.usefixtures("float64")

SECONDS_PER_DAY = 86400.0


def run_world(year=2024, **values):
    """One point-mass world through the whole engine; its outputs in the given year."""
    result = forecast.run(point_mass_priors(**values), samples=1, years=[year], seed=0)
    return result.samples.isel(sample=0).sel(year=year)


def compute_of(world) -> float:
    return 10 ** float(world["log10_training_compute"])


def within_seed_rounding(value: float, quoted: float, significant: int = 1) -> bool:
    """True if ``value`` rounds to the seed's figure at its number of significant digits."""
    exponent = math.floor(math.log10(quoted))
    half_unit = 0.5 * 10 ** (exponent - significant + 1)
    return abs(value - quoted) <= half_unit


@pytest.mark.parametrize(
    "chips, days, quoted",
    [(3e4, 120, 1e26), (1e5, 120, 4e26), (2e3, 30, 2e24)],
    ids=["30K-H100-4-months", "100K-H100-4-months", "2000-H100-one-month"],
)
def test_cluster_compute(chips, days, quoted):
    world = run_world(chips_base=chips, duration_days_base=days)
    by_hand = chips * 1e15 * 0.4 * days * SECONDS_PER_DAY
    assert compute_of(world) == pytest.approx(by_hand, rel=1e-9)
    assert within_seed_rounding(compute_of(world), quoted)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "supply"


def test_deepseek_v3_fp8():
    # 2.8e6 H800-hours at 1e15 FLOP/s with the 1.4x of FP8 ("1.4x more compute per H800")
    chips = 2048
    world = run_world(
        chips_base=chips, duration_days_base=2.8e6 / chips / 24,
        low_precision_year=2024, low_precision_gain=1.4,
    )
    by_hand = 2.8e6 * 3600 * 1.4e15 * 0.4
    assert by_hand == pytest.approx(5.6448e24)
    assert compute_of(world) == pytest.approx(by_hand, rel=1e-9)
    assert within_seed_rounding(compute_of(world), 6e24)  # "about 6e24"


@pytest.mark.parametrize("epochs, quoted", [(5, 6e27), (15, 5e28)], ids=["5-epochs", "15-epochs"])
def test_data_wall(epochs, quoted):
    world = run_world(
        chips_base=1e9, text_tokens_base=5e13, max_epochs=epochs, tokens_per_param_ref=60,
    )
    tokens = 5e13 * epochs
    by_hand = 6 * tokens**2 / 60  # C = 6 N D with N = D / 60
    assert compute_of(world) == pytest.approx(by_hand, rel=1e-9)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "data"
    assert float(world["epochs"]) == pytest.approx(epochs, rel=1e-9)
    # the seed's "6e27" and "5e28" are 6.25e27 and 5.6e28 rounded down to one digit
    assert abs(math.log10(compute_of(world) / quoted)) < math.log10(1.15)


@pytest.mark.parametrize("compute, quoted", [(6e23, 30), (6e27, 55), (5e28, 60)])
def test_tokens_per_param_scaling(compute, quoted):
    # hardware sets C exactly; Llama 3: 40 tokens/param at 4e25, +15% per 10x
    chips = compute / (1e15 * 0.4 * 120 * SECONDS_PER_DAY)
    world = run_world(chips_base=chips, tokens_per_param_slope=math.log10(1.15))
    by_hand = 40 * 1.15 ** math.log10(compute / 4e25)
    ratio = 10 ** float(world["log10_tokens_per_param"])
    assert ratio == pytest.approx(by_hand, rel=1e-9)
    assert round(ratio / 5) * 5 == quoted  # the seed rounds to 30, 55, 60
    params, tokens = 10 ** float(world["log10_params"]), 10 ** float(world["log10_tokens"])
    assert 6 * params * tokens == pytest.approx(compute, rel=1e-9)
    assert tokens / params == pytest.approx(by_hand, rel=1e-9)


def test_trn2_against_h100():
    trn2 = run_world(chips_base=4e5, chip_flops_base=0.65e15)
    h100 = run_world(chips_base=2.5e5)
    cluster = {k: 10 ** float(w["log10_chips"] + w["log10_flops_per_chip"]) for k, w in (("trn2", trn2), ("h100", h100))}
    assert cluster["trn2"] == pytest.approx(2.6e20, rel=1e-9)
    assert cluster["h100"] == pytest.approx(2.5e20, rel=1e-9)


def test_caps_set_the_chip_count_and_name_the_binding_constraint():
    # 1e5 chips wanted; 0.05 GW at 1000 W/chip allows 5e4; $3e9 at $4e4/chip allows 7.5e4
    world = run_world(power_limit_gw_base=0.05, capex_limit_usd_base=3e9, capex_per_chip_base=4e4)
    assert 10 ** float(world["log10_chips"]) == pytest.approx(5e4, rel=1e-9)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "power"
    assert 10 ** float(world["log10_power_gw"]) == pytest.approx(0.05, rel=1e-9)
    assert 10 ** float(world["log10_capex_usd"]) == pytest.approx(5e4 * 4e4, rel=1e-9)
    world = run_world(capex_limit_usd_base=3e9, capex_per_chip_base=4e4)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "funding"
    assert 10 ** float(world["log10_chips"]) == pytest.approx(7.5e4, rel=1e-9)


def test_growth_counts_from_the_system_year_and_fp8_from_the_calendar_year():
    # run in 2027 on a system that stood 1 year earlier: t = 2027 - 2024 - 1 = 2
    world = run_world(
        year=2027, lag_years=1.0, chip_growth=3.0, chip_flops_growth=1.5, duration_growth=1.2,
        low_precision_year=2027, low_precision_gain=2.0,
    )
    by_hand = 1e5 * 3.0**2 * 1e15 * 1.5**2 * 2.0 * 0.4 * 120 * 1.2**2 * SECONDS_PER_DAY
    assert compute_of(world) == pytest.approx(by_hand, rel=1e-9)


def test_duration_is_capped_at_a_year():
    world = run_world(year=2034, duration_growth=2.0)  # 120 * 2**10 days before the cap
    assert float(world["duration_days"]) == pytest.approx(365.0)


def test_data_efficiency_follows_muennighoff():
    # 15 epochs with R* = 15.4: (1 + 15.4 (1 - exp(-14 / 15.4))) / 15
    world = run_world(chips_base=1e9, text_tokens_base=5e13, max_epochs=15, tokens_per_param_ref=60,
                      repetition_decay=15.4)
    by_hand = (1 + 15.4 * (1 - math.exp(-14 / 15.4))) / 15
    assert float(world["data_efficiency"]) == pytest.approx(by_hand, rel=1e-9)
    assert 10 ** float(world["log10_effective_compute"]) == pytest.approx(compute_of(world) * by_hand, rel=1e-9)


def random_worlds(n: int, seed: int) -> dict:
    """Worlds spread widely around the default priors (independent of the priors module)."""
    rng = np.random.default_rng(seed)
    world = {name: np.full(n, value) for name, value in NEUTRAL_WORLD.items()}
    log_uniform = lambda lo, hi: np.exp(rng.uniform(np.log(lo), np.log(hi), n))  # noqa: E731
    world.update(
        lag_years=rng.uniform(0, 2, n), chips_base=log_uniform(1e4, 1e6), chip_growth=log_uniform(1, 5),
        chip_flops_growth=log_uniform(1, 2), low_precision_year=rng.uniform(2020, 2035, n),
        low_precision_gain=rng.uniform(1, 2.5, n), mfu=rng.uniform(0.1, 0.7, n),
        duration_days_base=log_uniform(20, 400), duration_growth=log_uniform(0.8, 1.5),
        watts_per_chip_base=log_uniform(700, 3000), watts_per_chip_growth=log_uniform(0.9, 1.3),
        power_limit_gw_base=log_uniform(0.02, 2), power_limit_growth=log_uniform(1, 6),
        capex_per_chip_base=log_uniform(1e4, 1e5), capex_per_chip_growth=log_uniform(0.9, 1.5),
        capex_limit_usd_base=log_uniform(1e9, 1e11), capex_limit_growth=log_uniform(1, 5),
        text_tokens_base=log_uniform(1e13, 5e14), text_tokens_growth=log_uniform(1, 1.3),
        max_epochs=log_uniform(1, 30), repetition_decay=log_uniform(3, 60),
        tokens_per_param_ref=log_uniform(10, 100), tokens_per_param_slope=rng.normal(0.06, 0.05, n),
        tokens_per_param_scale=log_uniform(0.1, 2),
    )
    return world


def test_jax_model_agrees_with_independent_numpy_model():
    years = np.arange(2020, 2041)
    world = random_worlds(4000, seed=3)
    jax_out = world_compute(world, years)
    ref = numpy_world_compute(world, years)
    for name, reference in ref.items():
        if name in ("chips_cap", "binding_constraint"):
            agree = np.mean(np.asarray(jax_out[name]) == reference)
            assert agree > 0.9999, name  # ties within rounding may pick either
            continue
        key = name if name in jax_out else f"log10_{name}"
        ours = np.asarray(jax_out[key])
        ours = 10**ours if key.startswith("log10_") else ours
        np.testing.assert_allclose(ours, reference, rtol=1e-5, err_msg=name)
    assert set(PARAMETERS) == set(world)


def test_log_space_numpy_baseline_returns_the_engine_outputs():
    # the baseline of bench/engine.py: same names, same log10 scale, same numbers
    years = np.arange(2020, 2041)
    world = random_worlds(4000, seed=5)
    engine = world_compute(world, years)
    baseline = numpy_log_world_compute(world, years)
    assert list(baseline) == list(OUTPUT_UNITS)
    for name, value in baseline.items():
        assert value.dtype == engine[name].dtype, name
        if name in ("chips_cap", "binding_constraint"):
            assert np.mean(value == np.asarray(engine[name])) > 0.9999, name
        else:
            np.testing.assert_allclose(value, engine[name], rtol=1e-12, atol=1e-12, err_msg=name)
