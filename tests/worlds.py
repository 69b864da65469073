"""Point-mass worlds for exact tests: every prior fixed, nothing grows, only supply binds.

The neutral world is v1's model inside v2: ceilings out of reach, almost no tokens beyond
text, repetition free (R* = 1e15), no latency wall (a batch exponent above 2/3 puts it out of
the model), no post-training; a chip-hour costs $2."""

from __future__ import annotations

from models import PARAMETERS
from priors import Fixed, Prior, PriorSet

#: A neutral world: nothing grows, no cap binds but supply, data is plentiful, no 8-bit.
NEUTRAL_WORLD = {
    "lag_years": 0.0,
    "chips_base": 1e5,
    "chip_growth": 1.0,
    "chip_flops_base": 1e15,
    "chip_flops_growth": 1.0,
    "low_precision_year": 9999.0,
    "low_precision_gain": 1.0,
    "mfu": 0.4,
    "duration_days_base": 120.0,
    "duration_growth": 1.0,
    "duration_days_max": 365.0,
    "watts_per_chip_base": 1000.0,
    "watts_per_chip_growth": 1.0,
    "power_limit_gw_base": 1e9,
    "power_limit_growth": 1.0,
    "power_limit_gw_max": 1e12,
    "capex_per_chip_base": 1.0,
    "capex_per_chip_growth": 1.0,
    "capex_limit_usd_base": 1e30,
    "capex_limit_growth": 1.0,
    "capex_limit_usd_max": 1e33,
    "text_tokens_base": 1e20,
    "text_tokens_growth": 1.0,
    "other_tokens_base": 1.0,
    "other_tokens_growth": 1.0,
    "max_epochs": 1.0,
    "repetition_decay": 1e15,
    "tokens_per_param_ref": 40.0,
    "tokens_per_param_slope": 0.0,
    "tokens_per_param_scale": 1.0,
    "layer_latency_s": 1e-4,
    "critical_batch_tokens_ref": 1.6e7,
    "critical_batch_exponent": 1.0,
    "post_training_fraction_base": 0.0,
    "post_training_fraction_growth": 1.0,
    "post_training_fraction_max": 0.0,
    "chip_hour_usd_base": 2.0,
    "chip_hour_usd_growth": 1.0,
    "run_share": 1.0,
    "data_wall_softness": 0.0,
    "disclosure_probability": 1.0,
    "disclosure_delay_months": 0.0,
    "estimate_sd_dex": 0.15,
}
# keep the neutral world complete (it names max_epochs, the alternative of epoch_worth_floor)
if set(NEUTRAL_WORLD) | {"epoch_worth_floor"} != set(PARAMETERS):
    raise RuntimeError("NEUTRAL_WORLD must name every model parameter")


def point_mass_priors(**values) -> PriorSet:
    """A prior set of fixed values: the neutral world with ``values`` changed."""
    world = {**NEUTRAL_WORLD, **values}
    if "epoch_worth_floor" in values:  # the epochs derived from it (v3), not given (v2)
        del world["max_epochs"]
    priors = tuple(
        Prior(name=name, spec=repr(value), family=Fixed(float(value)), origin="test")
        for name, value in world.items()
    )
    return PriorSet(name="point-mass", priors=priors, source="test")
