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
    assert 10 ** float(world["log10_cluster_capex_usd"]) == pytest.approx(5e4 * 4e4, rel=1e-9)
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


def test_duration_stops_at_its_ceiling():
    world = run_world(year=2034, duration_growth=2.0)  # 120 * 2**10 days before the ceiling
    assert float(world["duration_days"]) == pytest.approx(365.0)
    world = run_world(year=2034, duration_growth=2.0, duration_days_max=270.0)
    assert float(world["duration_days"]) == pytest.approx(270.0)


def test_power_and_capital_stop_growing_at_their_ceilings():
    # in 2030 the power limit would be 0.2 GW x 3^6 = 146 GW; held at 5 GW: 5e9 / 1000 W = 5e6 chips
    world = run_world(year=2030, chips_base=1e12, power_limit_gw_base=0.2, power_limit_growth=3.0,
                      power_limit_gw_max=5.0)
    assert 10 ** float(world["log10_chips"]) == pytest.approx(5e6, rel=1e-9)
    assert 10 ** float(world["log10_power_gw"]) == pytest.approx(5.0, rel=1e-9)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "power"
    # $1e10 x 2^6 = $6.4e11 held at $2e11, at $4e4 a chip: 5e6 chips
    world = run_world(year=2030, chips_base=1e12, capex_limit_usd_base=1e10, capex_limit_growth=2.0,
                      capex_limit_usd_max=2e11, capex_per_chip_base=4e4)
    assert 10 ** float(world["log10_chips"]) == pytest.approx(5e6, rel=1e-9)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "funding"


@pytest.mark.parametrize("epochs, effective, by_hand", [(15, 10.20, 3.82e28), (5, 4.52, 5.65e27)],
                         ids=["15-epochs", "5-epochs"])
def test_repetition_penalty_lowers_the_data_wall(epochs, effective, by_hand):
    # D_eff = U (1 + R* (1 - exp(-(E - 1) / R*))), R* = 15.4; C = 6 D_eff D_raw / 60
    unique = 5e13
    d_eff = unique * (1 + 15.4 * (1 - math.exp(-(epochs - 1) / 15.4)))
    assert d_eff / unique == pytest.approx(effective, abs=0.005)
    world = run_world(chips_base=1e9, text_tokens_base=unique, max_epochs=epochs,
                      tokens_per_param_ref=60, repetition_decay=15.4)
    assert compute_of(world) == pytest.approx(6 * d_eff * unique * epochs / 60, rel=1e-9)
    assert compute_of(world) == pytest.approx(by_hand, rel=0.002)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "data"
    # derived: the model's own epochs and Muennighoff's worth of them
    e = float(world["epochs"])
    assert float(world["data_efficiency"]) == pytest.approx((1 + 15.4 * (1 - math.exp(-(e - 1) / 15.4))) / e, rel=1e-9)


def test_tokens_beyond_text_add_to_the_unique_data():
    # 4e13 text + 1e13 other = 5e13 unique tokens: the 5-epoch wall of 5e13 text alone
    world = run_world(chips_base=1e9, text_tokens_base=4e13, other_tokens_base=1e13, max_epochs=5,
                      tokens_per_param_ref=60)
    assert compute_of(world) == pytest.approx(6 * (5e13 * 5) ** 2 / 60, rel=1e-9)


LATENCY = dict(tokens_per_param_ref=40, tokens_per_param_slope=math.log10(1.15), layer_latency_s=1e-4,
               critical_batch_tokens_ref=1.6e7, critical_batch_exponent=0.24)


def test_latency_wall():
    # 120 days of steps of L layers at 1e-4 s: ln C = (ln T - k) / (2/3 + s/3 - b), by hand
    s, b = math.log10(1.15), 0.24
    a = math.log(40) - s * math.log(4e25)
    k = (a / 3 - 2 / 3 * math.log(6) - math.log(1.6e7) + b * math.log(4e25) + math.log(126)
         - math.log(4.05e11) / 3 + math.log(1e-4))
    by_hand = math.exp((math.log(120 * SECONDS_PER_DAY) - k) / (2 / 3 + s / 3 - b))
    world = run_world(chips_base=1e12, **LATENCY)
    assert 10 ** float(world["log10_latency_compute"]) == pytest.approx(by_hand, rel=1e-9)
    assert compute_of(world) == pytest.approx(1.27e32, rel=0.005)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "latency"
    # the steps it takes fill the run exactly: D / B steps of L layers at tau
    n = math.sqrt(by_hand / (6 * 40 * (by_hand / 4e25) ** s))
    steps = 40 * (by_hand / 4e25) ** s * n / (1.6e7 * (by_hand / 4e25) ** b)
    layers = 126 * (n / 4.05e11) ** (1 / 3)
    assert steps * layers * 1e-4 == pytest.approx(120 * SECONDS_PER_DAY, rel=1e-9)


def test_llama_3_405b_steps():
    # 3.8e25 FLOP at ratio 40 (+15%/10x) and batch 1.6e7 at 4e25 (exponent 0.24): ~1M steps
    chips = 3.8e25 / (1e15 * 0.4 * 120 * SECONDS_PER_DAY)
    world = run_world(chips_base=chips, **LATENCY)
    n, d = 10 ** float(world["log10_params"]), 10 ** float(world["log10_tokens"])
    assert n == pytest.approx(3.98e11, rel=0.005) and d == pytest.approx(1.59e13, rel=0.005)
    steps = d / (1.6e7 * (3.8e25 / 4e25) ** 0.24)
    assert round(steps, -5) == 1.0e6  # "about 1M minibatches"
    assert CONSTRAINTS[int(world["binding_constraint"])] == "supply"  # the wall is far away


def test_post_training_adds_to_pretraining_and_to_the_run_days():
    world = run_world(post_training_fraction_base=0.5, post_training_fraction_max=2.0)
    pretraining = 1e5 * 1e15 * 0.4 * 120 * SECONDS_PER_DAY
    assert 10 ** float(world["log10_pretraining_compute"]) == pytest.approx(pretraining, rel=1e-9)
    assert compute_of(world) == pytest.approx(1.5 * pretraining, rel=1e-9)
    assert compute_of(world) == pytest.approx(6.22e26, rel=0.001)
    assert float(world["run_days"]) == pytest.approx(180.0, rel=1e-9)
    # grown 2x a year from 0.5, held at its ceiling 1.5 in 2026
    world = run_world(year=2026, post_training_fraction_base=0.5, post_training_fraction_growth=2.0,
                      post_training_fraction_max=1.5)
    assert float(world["post_training_fraction"]) == pytest.approx(1.5, rel=1e-12)


def test_what_the_run_costs_and_draws():
    # 50K H100 for 120 days at $2 a chip-hour: $288M ("$300 million")
    world = run_world(chips_base=5e4)
    assert 10 ** float(world["log10_run_cost_usd"]) == pytest.approx(5e4 * 24 * 120 * 2.0, rel=1e-9)
    assert within_seed_rounding(10 ** float(world["log10_run_cost_usd"]), 3e8)
    # 100K H100 at 1500 W for 120 days: 150 MW, 432 GWh
    world = run_world(watts_per_chip_base=1500.0)
    assert 10 ** float(world["log10_power_gw"]) == pytest.approx(0.15, rel=1e-9)
    assert 10 ** float(world["log10_energy_gwh"]) == pytest.approx(432.0, rel=1e-9)


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
        # v2: ceilings, tokens beyond text, the latency wall, post-training, the chip-hour price
        duration_days_max=rng.uniform(150, 400, n), power_limit_gw_max=log_uniform(1, 100),
        capex_limit_usd_max=log_uniform(5e10, 5e12), other_tokens_base=log_uniform(1e11, 1e14),
        other_tokens_growth=log_uniform(1, 3), layer_latency_s=log_uniform(1e-5, 1e-2),
        critical_batch_tokens_ref=log_uniform(4e6, 6e7), critical_batch_exponent=rng.uniform(0.1, 0.8, n),
        post_training_fraction_base=np.where(rng.uniform(size=n) < 0.1, 0.0, log_uniform(1e-3, 1)),
        post_training_fraction_growth=log_uniform(1, 3), post_training_fraction_max=log_uniform(0.1, 5),
        chip_hour_usd_base=log_uniform(1, 5), chip_hour_usd_growth=log_uniform(0.9, 1.4),
        # v3: a run on part of its system, a soft data wall
        run_share=rng.uniform(0.2, 1.0, n), data_wall_softness=np.where(rng.uniform(size=n) < 0.2, 0.0,
                                                                         rng.uniform(0, 1, n)),
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
    assert set(PARAMETERS) == set(world) | {"epoch_worth_floor"}


def test_epochs_from_the_worth_of_the_last_epoch_agree_with_numpy():
    # v3: no max_epochs; E = 1 + R* ln(1 / m) from epoch_worth_floor m
    years = np.arange(2024, 2036)
    world = random_worlds(2000, seed=4)
    del world["max_epochs"]
    world["epoch_worth_floor"] = np.random.default_rng(1).uniform(0.2, 0.9, 2000)
    ours = world_compute(world, years)
    ref = numpy_world_compute(world, years)
    np.testing.assert_allclose(10 ** np.asarray(ours["log10_data_compute"]), ref["data_compute"], rtol=1e-5)


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


#: What puts v2's new terms out of the way: v1 is one prior set away.
V1 = {"duration_days_max": "365", "power_limit_gw_max": "1e12", "capex_limit_usd_max": "1e33",
      "other_tokens_base": "1", "other_tokens_growth": "1", "repetition_decay": "1e15",
      "critical_batch_exponent": "1", "post_training_fraction_base": "0",
      "post_training_fraction_max": "0"}


def v1_log10_compute(s, years):
    """v1's model (docs/model.md before v2), written out here in NumPy: min of hardware and
    the data wall C = 6 D^2 / r(C), with a 365-day run and no ceilings."""
    p = {k: s[k].values[:, None] for k in s.data_vars if s[k].dims == ("sample",)}
    t = np.asarray(years, dtype=float) - 2024 - p["lag_years"]
    watts = p["watts_per_chip_base"] * p["watts_per_chip_growth"] ** t
    chips = np.minimum.reduce([
        p["chips_base"] * p["chip_growth"] ** t,
        p["power_limit_gw_base"] * p["power_limit_growth"] ** t * 1e9 / watts,
        p["capex_limit_usd_base"] * p["capex_limit_growth"] ** t / (p["capex_per_chip_base"] * p["capex_per_chip_growth"] ** t),
    ])
    flops = p["chip_flops_base"] * p["chip_flops_growth"] ** t * np.where(years >= p["low_precision_year"], p["low_precision_gain"], 1.0)
    days = np.minimum(p["duration_days_base"] * p["duration_growth"] ** t, 365.0)
    hardware = chips * flops * p["mfu"] * days * SECONDS_PER_DAY
    tokens = p["text_tokens_base"] * p["text_tokens_growth"] ** t * p["max_epochs"]
    slope = np.maximum(1 + p["tokens_per_param_slope"], 0.05) - 1
    ratio_ref = p["tokens_per_param_scale"] * p["tokens_per_param_ref"]
    data = (6 * tokens**2 * 4e25**slope / ratio_ref) ** (1 / (1 + slope))
    return np.log10(np.minimum(hardware, data))


def test_v1_is_one_prior_set_away():
    years = list(range(2025, 2036))
    result = forecast.run("v2", overrides=V1, samples=3000, seed=4, years=years)  # one lab, max_epochs drawn
    np.testing.assert_allclose(result.log10_compute.values, v1_log10_compute(result.samples, years), rtol=1e-12)
    assert not (result.samples["binding_constraint"] == CONSTRAINTS.index("latency")).any()


def test_a_ceiling_below_its_base_binds_from_the_start():
    # 0.5 GW wanted in 2024, held at 0.05 GW: 0.05e9 W / 1000 W a chip = 5e4 chips
    world = run_world(chips_base=1e9, power_limit_gw_base=0.5, power_limit_gw_max=0.05)
    assert 10 ** float(world["log10_chips"]) == pytest.approx(5e4, rel=1e-9)
    assert CONSTRAINTS[int(world["binding_constraint"])] == "power"
