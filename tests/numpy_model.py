"""The bottom-up model in NumPy, written from MODEL.md: a cross-check and a baseline.

``numpy_world_compute`` works in linear space, as the formulas are written, so it checks
the engine's log-space arithmetic rather than repeating it (tests/test_bottom_up.py).
Valid for priors whose products stay inside float64 (the default priors do, by far).

``numpy_log_world_compute`` returns exactly what the engine returns (log10 for the
multiplicative outputs). It works in log space: products become sums and powers become
products, so it is also the faster way to get those outputs in NumPy (a little faster than
the linear formulas followed by log10). It is the baseline of bench/engine.py.
"""

from __future__ import annotations

import numpy as np

C_REF = 4e25
_LOG_C_REF = np.log(C_REF)
_LOG_6 = np.log(6.0)


def numpy_world_compute(p: dict, years, *, base_year: float = 2024.0) -> dict:
    """Outputs of MODEL.md for a batch of worlds (arrays of shape (n,)) and years."""
    p = {k: np.asarray(v, dtype=float)[..., None] for k, v in p.items()}
    years = np.asarray(years, dtype=float)
    t = years - base_year - p["lag_years"]

    supply = p["chips_base"] * p["chip_growth"] ** t
    watts = p["watts_per_chip_base"] * p["watts_per_chip_growth"] ** t
    power_cap = p["power_limit_gw_base"] * p["power_limit_growth"] ** t * 1e9 / watts
    capex_per_chip = p["capex_per_chip_base"] * p["capex_per_chip_growth"] ** t
    funding_cap = p["capex_limit_usd_base"] * p["capex_limit_growth"] ** t / capex_per_chip
    chips = np.minimum(np.minimum(supply, power_cap), funding_cap)

    fp8 = np.where(years >= p["low_precision_year"], p["low_precision_gain"], 1.0)
    flops = p["chip_flops_base"] * p["chip_flops_growth"] ** t * fp8
    duration = np.minimum(p["duration_days_base"] * p["duration_growth"] ** t, 365.0)
    hardware = chips * flops * p["mfu"] * duration * 86400.0

    text = p["text_tokens_base"] * p["text_tokens_growth"] ** t
    trainable = text * p["max_epochs"]
    slope, ratio_ref = p["tokens_per_param_slope"], p["tokens_per_param_scale"] * p["tokens_per_param_ref"]
    data = (6.0 * trainable**2 * C_REF**slope / ratio_ref) ** (1.0 / (1.0 + slope))

    compute = np.minimum(hardware, data)
    ratio = ratio_ref * (compute / C_REF) ** slope
    params = np.sqrt(compute / (6.0 * ratio))
    tokens = ratio * params
    epochs = tokens / text
    e = np.maximum(epochs, 1.0)
    r_star = p["repetition_decay"]
    efficiency = (1.0 + r_star * (1.0 - np.exp(-(e - 1.0) / r_star))) / e

    cap_index = np.argmin(np.stack([supply, power_cap, funding_cap]), axis=0)
    return {
        "chips": chips,
        "chips_cap": cap_index,
        "flops_per_chip": flops,
        "duration_days": duration,
        "hardware_compute": hardware,
        "power_gw": chips * watts / 1e9,
        "capex_usd": chips * capex_per_chip,
        "data_compute": data,
        "training_compute": compute,
        "binding_constraint": np.where(data < hardware, 3, cap_index),
        "params": params,
        "tokens": tokens,
        "tokens_per_param": ratio,
        "epochs": epochs,
        "data_efficiency": efficiency,
        "effective_compute": compute * efficiency,
    }


def numpy_log_world_compute(p: dict, years, *, base_year: float = 2024.0) -> dict:
    """The engine's outputs (same names, log10 where it gives log10) for a batch of worlds.

    Each prior is logged once per world, shape (n, 1); every yearly quantity is then a sum
    of those logs and ``t`` times a log growth, broadcast to (n, years).
    """
    log = {k: np.log(np.asarray(v, dtype=float))[:, None] for k, v in p.items() if k not in _SIGNED}
    lag, fp8_year, slope = (np.asarray(p[k], dtype=float)[:, None] for k in _SIGNED)
    years = np.asarray(years, dtype=float)
    t = years - base_year - lag

    def grown(base, growth):
        return log[base] + t * log[growth]

    supply = grown("chips_base", "chip_growth")
    watts = grown("watts_per_chip_base", "watts_per_chip_growth")
    capex_per_chip = grown("capex_per_chip_base", "capex_per_chip_growth")
    power_cap = grown("power_limit_gw_base", "power_limit_growth") + np.log(1e9) - watts
    funding_cap = grown("capex_limit_usd_base", "capex_limit_growth") - capex_per_chip
    chips = np.minimum(np.minimum(supply, power_cap), funding_cap)
    chips_cap = np.where(supply <= np.minimum(power_cap, funding_cap), 0, np.where(power_cap <= funding_cap, 1, 2))

    flops = grown("chip_flops_base", "chip_flops_growth") + np.where(years >= fp8_year, log["low_precision_gain"], 0.0)
    days = np.minimum(grown("duration_days_base", "duration_growth"), np.log(365.0))
    hardware = chips + flops + (log["mfu"] + np.log(86400.0)) + days

    text = grown("text_tokens_base", "text_tokens_growth")
    one_plus_slope = np.maximum(1.0 + slope, 0.05)
    log_ratio_ref = log["tokens_per_param_scale"] + log["tokens_per_param_ref"]
    data = (_LOG_6 + 2.0 * (text + log["max_epochs"]) - log_ratio_ref + (one_plus_slope - 1.0) * _LOG_C_REF) / one_plus_slope

    compute = np.minimum(hardware, data)
    ratio = log_ratio_ref + (one_plus_slope - 1.0) * (compute - _LOG_C_REF)
    params = 0.5 * (compute - _LOG_6 - ratio)
    tokens = ratio + params
    epochs = np.exp(tokens - text)
    e = np.maximum(epochs, 1.0)
    r_star = np.exp(log["repetition_decay"])
    efficiency = (1.0 + r_star * -np.expm1(-(e - 1.0) / r_star)) / e

    to_log10 = 1.0 / np.log(10.0)
    return {
        "log10_chips": chips * to_log10,
        "chips_cap": chips_cap.astype(np.int8),
        "log10_flops_per_chip": flops * to_log10,
        "duration_days": np.exp(days),
        "log10_hardware_compute": hardware * to_log10,
        "log10_power_gw": (chips + watts - np.log(1e9)) * to_log10,
        "log10_capex_usd": (chips + capex_per_chip) * to_log10,
        "log10_data_compute": data * to_log10,
        "log10_training_compute": compute * to_log10,
        "binding_constraint": np.where(data < hardware, 3, chips_cap).astype(np.int8),
        "log10_params": params * to_log10,
        "log10_tokens": tokens * to_log10,
        "log10_tokens_per_param": ratio * to_log10,
        "epochs": epochs,
        "data_efficiency": efficiency,
        "log10_effective_compute": (compute + np.log(efficiency)) * to_log10,
    }


#: Priors that may be zero or negative: used as they are, not logged.
_SIGNED = ("lag_years", "low_precision_year", "tokens_per_param_slope")
