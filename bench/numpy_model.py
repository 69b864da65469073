"""An independent NumPy implementation of the bottom-up model, written from MODEL.md.

It works in linear space (as the formulas are written), so it checks the engine's
log-space arithmetic rather than repeating it, and it is the baseline of bench/engine.py.
Valid for priors whose products stay inside float64 (the default priors do, by far).
"""

from __future__ import annotations

import numpy as np

C_REF = 4e25


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
