"""The bottom-up model (v2) in NumPy, written from MODEL.md: a cross-check and a baseline.

``numpy_world_compute`` works in linear space, as the formulas are written, so it checks
the engine's log-space arithmetic rather than repeating it (tests/models/test_bottom_up.py).
Valid for priors whose products stay inside float64 (the default priors do, by far).

``numpy_log_world_compute`` returns exactly what the engine returns (log10 for the
multiplicative outputs). It works in log space: products become sums and powers become
products, so it is also the faster way to get those outputs in NumPy (a little faster than
the linear formulas followed by log10). It is the baseline of bench/engine.py.

Both follow the engine in holding ``1 + tokens_per_param_slope`` at 0.05 or more, and in
reporting a latency wall that never binds (denominator ``2/3 + s/3 - b <= 0``), or binds only
past 1e100 FLOP, as 1e100 FLOP: no run comes near it, so it is "no wall".
"""

from __future__ import annotations

import numpy as np

C_REF = 4e25
_LOG_C_REF = np.log(C_REF)
_LOG_6 = np.log(6.0)

#: Llama 3 405B, the latency wall's reference model: parameters and layers.
N_REF = 4.05e11
LAYERS_REF = 126.0

#: The latency wall where it never binds: 1e100 FLOP (log10 100).
NO_WALL_LOG10 = 100.0

#: ``1 + tokens_per_param_slope`` is held at this or more (the data wall's exponent).
_MIN_ONE_PLUS_SLOPE = 0.05


def numpy_world_compute(p: dict, years, *, base_year: float = 2024.0) -> dict:
    """Outputs of MODEL.md for a batch of worlds (arrays of shape (n,)) and years; v3's
    ``run_share``, ``data_wall_softness`` and ``epoch_worth_floor`` where a world has them."""
    p = {k: np.asarray(v, dtype=float)[..., None] for k, v in p.items()}
    share = p.get("run_share", 1.0)
    softness = p.get("data_wall_softness", 0.0)
    if "max_epochs" not in p:  # the last epoch is worth epoch_worth_floor of a fresh one
        p["max_epochs"] = 1.0 + p["repetition_decay"] * np.log(1.0 / p["epoch_worth_floor"])
    years = np.asarray(years, dtype=float)
    t = years - base_year - p["lag_years"]

    def grown(base, growth):
        return p[base] * p[growth] ** t

    # hardware: chips under the power and funding caps, each limit under its ceiling
    supply = grown("chips_base", "chip_growth")
    watts = grown("watts_per_chip_base", "watts_per_chip_growth")
    power_limit = np.minimum(grown("power_limit_gw_base", "power_limit_growth"), p["power_limit_gw_max"])
    power_cap = power_limit * 1e9 / watts
    capex_per_chip = grown("capex_per_chip_base", "capex_per_chip_growth")
    capex_limit = np.minimum(grown("capex_limit_usd_base", "capex_limit_growth"), p["capex_limit_usd_max"])
    funding_cap = capex_limit / capex_per_chip
    chips = np.minimum(np.minimum(supply, power_cap), funding_cap)
    cap_index = np.argmin(np.stack([supply, power_cap, funding_cap]), axis=0)  # first on ties

    fp8 = np.where(years >= p["low_precision_year"], p["low_precision_gain"], 1.0)
    flops = grown("chip_flops_base", "chip_flops_growth") * fp8
    duration = np.minimum(grown("duration_days_base", "duration_growth"), p["duration_days_max"])
    hardware = chips * share * flops * p["mfu"] * duration * 86400.0

    # data wall: the model sized for the effective data, trained on all the raw tokens
    unique = grown("text_tokens_base", "text_tokens_growth") + grown("other_tokens_base", "other_tokens_growth")
    r_star = p["repetition_decay"]
    raw = unique * p["max_epochs"]
    effective = unique * (1.0 - r_star * np.expm1(-(np.maximum(p["max_epochs"], 1.0) - 1.0) / r_star))
    one_plus_slope = np.maximum(1.0 + p["tokens_per_param_slope"], _MIN_ONE_PLUS_SLOPE)
    slope = one_plus_slope - 1.0
    ratio_ref = p["tokens_per_param_scale"] * p["tokens_per_param_ref"]
    data = (6.0 * effective * raw * C_REF**slope / ratio_ref) ** (1.0 / one_plus_slope)

    # latency wall: (D / B) * L * tau = duration, closed form C = (T / K)^(1 / denominator)
    b = p["critical_batch_exponent"]
    denominator = 2.0 / 3.0 + slope / 3.0 - b
    k = (
        (ratio_ref / C_REF**slope) ** (1.0 / 3.0) * 6.0 ** (-2.0 / 3.0) / p["critical_batch_tokens_ref"]
        * C_REF**b * LAYERS_REF / N_REF ** (1.0 / 3.0) * p["layer_latency_s"]
    )
    binds = denominator > 0
    with np.errstate(over="ignore"):
        wall = (duration * 86400.0 / k) ** (1.0 / np.where(binds, denominator, 1.0))
    latency = np.minimum(np.where(binds, wall, np.inf), 10.0**NO_WALL_LOG10)

    available = np.minimum(hardware, latency)  # past the data wall, W (H / W)^s
    pretraining = np.where(available > data, data * (available / data) ** softness, available)
    binding = np.where(
        (data < hardware) & (data <= latency), 3, np.where((latency < hardware) & (latency < data), 4, cap_index)
    )
    post_fraction = np.minimum(
        grown("post_training_fraction_base", "post_training_fraction_growth"), p["post_training_fraction_max"]
    )
    training = pretraining * (1.0 + post_fraction)

    ratio = ratio_ref * (pretraining / C_REF) ** slope
    params = np.sqrt(pretraining / (6.0 * ratio))
    tokens = ratio * params
    epochs = tokens / unique
    e = np.maximum(epochs, 1.0)
    efficiency = (1.0 - r_star * np.expm1(-(e - 1.0) / r_star)) / e

    run_days = training / (chips * share * flops * p["mfu"] * 86400.0)
    return {
        "chips": chips,
        "chips_cap": cap_index,
        "flops_per_chip": flops,
        "duration_days": duration,
        "hardware_compute": hardware,
        "power_gw": chips * watts / 1e9,
        "cluster_capex_usd": chips * capex_per_chip,
        "data_compute": data,
        "latency_compute": latency,
        "pretraining_compute": pretraining,
        "post_training_fraction": post_fraction,
        "training_compute": training,
        "binding_constraint": binding,
        "params": params,
        "tokens": tokens,
        "tokens_per_param": ratio,
        "epochs": epochs,
        "data_efficiency": efficiency,
        "effective_compute": training * efficiency,
        "run_days": run_days,
        "run_cost_usd": chips * share * 24.0 * run_days * grown("chip_hour_usd_base", "chip_hour_usd_growth"),
        "energy_gwh": chips * share * watts / 1e9 * 24.0 * run_days,
    }


def numpy_log_world_compute(p: dict, years, *, base_year: float = 2024.0) -> dict:
    """The engine's outputs (same names, log10 where it gives log10) for a batch of worlds.

    Each prior is logged once per world, shape (n, 1); every yearly quantity is then a sum
    of those logs and ``t`` times a log growth, broadcast to (n, years). Priors that may be
    zero (``other_tokens_base``, ``post_training_fraction_base``) log to -inf, which the
    sums carry through to a zero.
    """
    with np.errstate(divide="ignore"):
        log = {k: np.log(np.asarray(v, dtype=float))[:, None] for k, v in p.items() if k not in _SIGNED}
    lag, fp8_year, slope, b = (np.asarray(p[k], dtype=float)[:, None] for k in _SIGNED)
    years = np.asarray(years, dtype=float)
    t = years - base_year - lag

    def grown(base, growth):
        return log[base] + t * log[growth]

    supply = grown("chips_base", "chip_growth")
    watts = grown("watts_per_chip_base", "watts_per_chip_growth")
    capex_per_chip = grown("capex_per_chip_base", "capex_per_chip_growth")
    power_limit = np.minimum(grown("power_limit_gw_base", "power_limit_growth"), log["power_limit_gw_max"])
    power_cap = power_limit + np.log(1e9) - watts
    capex_limit = np.minimum(grown("capex_limit_usd_base", "capex_limit_growth"), log["capex_limit_usd_max"])
    funding_cap = capex_limit - capex_per_chip
    chips = np.minimum(np.minimum(supply, power_cap), funding_cap)
    chips_cap = np.where(supply <= np.minimum(power_cap, funding_cap), 0, np.where(power_cap <= funding_cap, 1, 2))

    flops = grown("chip_flops_base", "chip_flops_growth") + np.where(years >= fp8_year, log["low_precision_gain"], 0.0)
    days = np.minimum(grown("duration_days_base", "duration_growth"), log["duration_days_max"])
    share = log.get("run_share", 0.0)  # log of the fraction of the system the run uses
    chip_rate = chips + share + flops + (log["mfu"] + np.log(86400.0))  # FLOP per day of the run's chips
    hardware = chip_rate + days

    unique = np.logaddexp(grown("text_tokens_base", "text_tokens_growth"), grown("other_tokens_base", "other_tokens_growth"))
    r_star = np.exp(log["repetition_decay"])
    if "max_epochs" not in log:  # v3: the last epoch is worth epoch_worth_floor of a fresh one
        log["max_epochs"] = np.log(1.0 - r_star * log["epoch_worth_floor"])
    max_epochs = np.exp(log["max_epochs"])
    log_worth = np.log1p(-r_star * np.expm1(-(np.maximum(max_epochs, 1.0) - 1.0) / r_star))  # D_eff / U
    one_plus_slope = np.maximum(1.0 + slope, _MIN_ONE_PLUS_SLOPE)
    s = one_plus_slope - 1.0
    log_ratio_ref = log["tokens_per_param_scale"] + log["tokens_per_param_ref"]
    data = (_LOG_6 + 2.0 * unique + log_worth + log["max_epochs"] - log_ratio_ref + s * _LOG_C_REF) / one_plus_slope

    a = log_ratio_ref - s * _LOG_C_REF
    k = (
        a / 3.0 - (2.0 / 3.0) * _LOG_6 - log["critical_batch_tokens_ref"] + b * _LOG_C_REF
        + np.log(LAYERS_REF) - np.log(N_REF) / 3.0 + log["layer_latency_s"]
    )
    denominator = 2.0 / 3.0 + s / 3.0 - b
    binds = denominator > 0
    wall = np.where(binds, (days + np.log(86400.0) - k) / np.where(binds, denominator, 1.0), np.inf)
    no_wall = wall >= NO_WALL_LOG10 * np.log(10.0)
    latency = np.where(no_wall, NO_WALL_LOG10 * np.log(10.0), wall)

    available = np.minimum(hardware, latency)
    softness = np.exp(log["data_wall_softness"]) if "data_wall_softness" in log else 0.0
    pretraining = np.where(available > data, data + softness * (available - data), available)
    binding = np.where(
        (data < hardware) & (data <= latency), 3, np.where((latency < hardware) & (latency < data), 4, chips_cap)
    )
    post_fraction = np.exp(
        np.minimum(grown("post_training_fraction_base", "post_training_fraction_growth"), log["post_training_fraction_max"])
    )
    training = pretraining + np.log1p(post_fraction)

    ratio = log_ratio_ref + s * (pretraining - _LOG_C_REF)
    params = 0.5 * (pretraining - _LOG_6 - ratio)
    tokens = ratio + params
    epochs = np.exp(tokens - unique)
    e = np.maximum(epochs, 1.0)
    efficiency = (1.0 - r_star * np.expm1(-(e - 1.0) / r_star)) / e

    run_days = training - chip_rate  # log of days
    hours = chips + share + np.log(24.0) + run_days  # log of chip-hours
    to_log10 = 1.0 / np.log(10.0)
    return {
        "log10_chips": chips * to_log10,
        "chips_cap": chips_cap.astype(np.int8),
        "log10_flops_per_chip": flops * to_log10,
        "duration_days": np.exp(days),
        "log10_hardware_compute": hardware * to_log10,
        "log10_power_gw": (chips + watts - np.log(1e9)) * to_log10,
        "log10_cluster_capex_usd": (chips + capex_per_chip) * to_log10,
        "log10_data_compute": data * to_log10,
        "log10_latency_compute": np.where(no_wall, NO_WALL_LOG10, latency * to_log10),
        "log10_pretraining_compute": pretraining * to_log10,
        "post_training_fraction": post_fraction,
        "log10_training_compute": training * to_log10,
        "binding_constraint": binding.astype(np.int8),
        "log10_params": params * to_log10,
        "log10_tokens": tokens * to_log10,
        "log10_tokens_per_param": ratio * to_log10,
        "epochs": epochs,
        "data_efficiency": efficiency,
        "log10_effective_compute": (training + np.log(efficiency)) * to_log10,
        "run_days": np.exp(run_days),
        "log10_run_cost_usd": (hours + grown("chip_hour_usd_base", "chip_hour_usd_growth")) * to_log10,
        "log10_energy_gwh": (hours + watts - np.log(1e9)) * to_log10,
    }


#: Priors that may be zero or negative: used as they are, not logged.
_SIGNED = ("lag_years", "low_precision_year", "tokens_per_param_slope", "critical_batch_exponent")
