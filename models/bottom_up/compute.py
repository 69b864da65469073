"""The bottom-up model (docs/model.md, v3): what supply, power, money, data and latency allow
each lab each year, what post-training adds, what the largest run takes, and which lab runs it.

This module is the arithmetic, pure JAX; the NumPyro model that draws one world from a prior
set is ``models.bottom_up.model``. ``world_compute`` works in natural-log space, for any
batch of worlds (each parameter an array of shape ``batch``) and a vector of years; every
output has shape ``batch + (n_years,)``.

Multiplicative outputs are returned as log10 (``log10_training_compute`` ...): they cannot
overflow for any valid prior, and that is the scale every plot and probability uses.

``lab_world_compute`` runs the same arithmetic for each of several labs (lab-scoped
parameters carry a lab axis) and keeps the largest run of each year: the frontier
``C(y) = max_k C_k(y)``, with every output of the leading lab's run, each lab's compute and
which lab leads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax.numpy as jnp

from priors import FRACTION, NON_NEGATIVE, POSITIVE, REAL, UNIT_INTERVAL
from priors.labs import LAB, LAB_YEAR, scope

#: Calendar year that every growth term counts from (100K-H100 systems appeared in 2024).
BASE_YEAR = 2024
#: Compute at which ``tokens_per_param_ref`` is stated (Llama 3: 40 tokens/param at 4e25).
C_REF = 4e25
#: FLOP per parameter per token (the 6 N D convention).
FLOP_PER_PARAM_TOKEN = 6.0
SECONDS_PER_DAY = 86400.0
HOURS_PER_DAY = 24.0
#: Llama 3 405B: the depth of a model of N_REF parameters, at a fixed aspect ratio.
N_REF = 4.05e11
LAYERS_REF = 126.0
#: log10 FLOP reported for the latency wall where it never binds (its exponent is not positive).
NO_WALL_LOG10 = 100.0
#: Below this, 1 + slope makes the compute-optimal data equation ill-posed (a ratio that
#: falls as fast as compute grows); the slope is held there. Priors never reach it.
MIN_ONE_PLUS_SLOPE = 0.05

#: The model's parameters and the domain each prior must stay in (a contract, as data).
PARAMETERS = {
    "lag_years": REAL,
    "chips_base": POSITIVE,
    "chip_growth": POSITIVE,
    "chip_flops_base": POSITIVE,
    "chip_flops_growth": POSITIVE,
    "low_precision_year": REAL,
    "low_precision_gain": POSITIVE,
    "mfu": FRACTION,
    "duration_days_base": POSITIVE,
    "duration_growth": POSITIVE,
    "duration_days_max": POSITIVE,
    "watts_per_chip_base": POSITIVE,
    "watts_per_chip_growth": POSITIVE,
    "power_limit_gw_base": POSITIVE,
    "power_limit_growth": POSITIVE,
    "power_limit_gw_max": POSITIVE,
    "capex_per_chip_base": POSITIVE,
    "capex_per_chip_growth": POSITIVE,
    "capex_limit_usd_base": POSITIVE,
    "capex_limit_growth": POSITIVE,
    "capex_limit_usd_max": POSITIVE,
    "text_tokens_base": POSITIVE,
    "text_tokens_growth": POSITIVE,
    "other_tokens_base": POSITIVE,
    "other_tokens_growth": POSITIVE,
    "max_epochs": POSITIVE,            # or epoch_worth_floor (a prior set names one)
    "epoch_worth_floor": FRACTION,
    "repetition_decay": POSITIVE,
    "tokens_per_param_ref": POSITIVE,
    "tokens_per_param_slope": REAL,
    "tokens_per_param_scale": POSITIVE,
    "layer_latency_s": POSITIVE,
    "critical_batch_tokens_ref": POSITIVE,
    "critical_batch_exponent": REAL,
    "post_training_fraction_base": NON_NEGATIVE,
    "post_training_fraction_growth": POSITIVE,
    "post_training_fraction_max": NON_NEGATIVE,
    "chip_hour_usd_base": POSITIVE,
    "chip_hour_usd_growth": POSITIVE,
    "run_share": FRACTION,
    "data_wall_softness": UNIT_INTERVAL,
    # the observation model's (forecast.conditioning): named here so prior files are written once
    "disclosure_probability": UNIT_INTERVAL,
    "disclosure_delay_months": NON_NEGATIVE,
    "estimate_sd_dex": POSITIVE,
}

@dataclass(frozen=True, eq=False)
class Constraints:
    """What can bind a world's training compute, by name, and the integer code each has in
    the outputs ``binding_constraint`` and ``chips_cap`` (and so in saved files, whose
    ``flag_values``/``flag_meanings`` attributes name the codes).

    A constraint's code is its position in ``names``, which only ever grows at the end: a
    new constraint takes a new code, and code asks for a group by name (:attr:`chip_caps`),
    never for positions. Iterating gives the names in code order; ``CONSTRAINTS[code]`` is a
    code's name and ``CONSTRAINTS.index(name)`` its code.
    """

    #: Every constraint, in code order (append only: saved files hold the codes).
    names: tuple[str, ...]
    #: The caps on the chips of the largest system: the codes of ``chips_cap``.
    chip_caps: tuple[str, ...]
    #: The walls on what one run can use of the system: the data and the latency wall.
    walls: tuple[str, ...]

    def __post_init__(self):
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"constraint names must be unique, got {self.names}")
        if sorted(self.chip_caps + self.walls) != sorted(self.names):
            raise ValueError("every constraint is either a chip cap or a wall")

    def index(self, name: str) -> int:
        """The code of constraint ``name``."""
        return self.names.index(name)

    def __getitem__(self, code) -> str:
        if isinstance(code, slice):
            raise TypeError("constraints are asked for by name (CONSTRAINTS.chip_caps), not by position")
        return self.names[int(code)]

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name) -> bool:
        return name in self.names

    def flags(self, names=None) -> dict:
        """CF attributes naming the codes of ``names`` (every constraint by default)."""
        names = self.names if names is None else tuple(names)
        return {"flag_values": [self.index(n) for n in names], "flag_meanings": " ".join(names)}

    def unit(self, names=None) -> str:
        """``"code: 0=supply, 1=power, ..."``: the unit of an output holding ``names``' codes."""
        names = self.names if names is None else tuple(names)
        return "code: " + ", ".join(f"{self.index(n)}={n}" for n in names)


#: The constraints of the model. Saved files hold these codes (positions): never reorder.
CONSTRAINTS = Constraints(
    names=("supply", "power", "funding", "data", "latency"),
    chip_caps=("supply", "power", "funding"),
    walls=("data", "latency"),
)
#: Outputs that hold constraint codes, and the constraints each can hold.
CODED_OUTPUTS = {"chips_cap": CONSTRAINTS.chip_caps, "binding_constraint": CONSTRAINTS.names}

#: Unit of every output of ``world_compute``.
OUTPUT_UNITS = {
    "log10_chips": "log10 chips",
    "chips_cap": CONSTRAINTS.unit(CONSTRAINTS.chip_caps),
    "log10_flops_per_chip": "log10 FLOP/s",
    "duration_days": "days",
    "log10_hardware_compute": "log10 FLOP",
    "log10_power_gw": "log10 GW",
    "log10_cluster_capex_usd": "log10 USD",
    "log10_data_compute": "log10 FLOP",
    "log10_latency_compute": f"log10 FLOP ({NO_WALL_LOG10:g}: no wall)",
    "log10_pretraining_compute": "log10 FLOP",
    "post_training_fraction": "x pretraining",
    "log10_training_compute": "log10 FLOP",
    "binding_constraint": CONSTRAINTS.unit(),
    "log10_params": "log10 parameters",
    "log10_tokens": "log10 tokens",
    "log10_tokens_per_param": "log10 tokens/param",
    "epochs": "x",
    "data_efficiency": "fraction",
    "log10_effective_compute": "log10 FLOP",
    "run_days": "days",
    "log10_run_cost_usd": "log10 USD",
    "log10_energy_gwh": "log10 GWh",
}

#: Outputs per lab (``batch + (n_labs, n_years)``) and which lab ran the frontier run.
LAB_OUTPUT_UNITS = {
    "log10_lab_training_compute": "log10 FLOP",
    "leading_lab": "index of the lab with the largest run",
}

_LN10 = math.log(10.0)


def _log_growth(log_base, growth, t):
    """log(base * growth**t), for t of any sign."""
    return log_base + t * jnp.log(growth)


def _log_grown_to(p: Mapping, name: str, growth: str, t):
    """log min(``name_base`` * growth^t, ``name_max``): growth that stops at its ceiling."""
    return jnp.minimum(_log_growth(jnp.log(p[f"{name}_base"]), p[growth], t), jnp.log(p[f"{name}_max"]))


def chip_caps(p: Mapping, t):
    """Natural logs of the three caps on the chip count: supply, power and funding (each of
    the last two stops growing at its ceiling)."""
    log_watts = _log_growth(jnp.log(p["watts_per_chip_base"]), p["watts_per_chip_growth"], t)
    log_capex_per_chip = _log_growth(
        jnp.log(p["capex_per_chip_base"]), p["capex_per_chip_growth"], t
    )
    supply = _log_growth(jnp.log(p["chips_base"]), p["chip_growth"], t)
    power = (
        _log_grown_to(p, "power_limit_gw", "power_limit_growth", t)
        + jnp.log(1e9)
        - log_watts
    )
    funding = _log_grown_to(p, "capex_limit_usd", "capex_limit_growth", t) - log_capex_per_chip
    return supply, power, funding, log_watts, log_capex_per_chip


def log_flops_per_chip(p: Mapping, t, years):
    """Per-chip FLOP/s: growth counted at the system's time, 8-bit by calendar year."""
    low_precision = jnp.where(years >= p["low_precision_year"], jnp.log(p["low_precision_gain"]), 0.0)
    return _log_growth(jnp.log(p["chip_flops_base"]), p["chip_flops_growth"], t) + low_precision


def log_duration_days(p: Mapping, t):
    return _log_grown_to(p, "duration_days", "duration_growth", t)


def _one_plus_slope(p: Mapping):
    return jnp.maximum(1.0 + p["tokens_per_param_slope"], MIN_ONE_PLUS_SLOPE)


def log_tokens_per_param(p: Mapping, log_compute):
    """r(C) = scale * ref * (C / C_REF)^slope, as a natural log."""
    slope = _one_plus_slope(p) - 1.0
    log_ratio_ref = jnp.log(p["tokens_per_param_scale"]) + jnp.log(p["tokens_per_param_ref"])
    return log_ratio_ref + slope * (log_compute - math.log(C_REF))


def log_data_compute(p: Mapping, log_effective_tokens, log_raw_tokens):
    """The C that solves C = 6 D_eff D_raw / r(C): a model sized for the effective data,
    N = D_eff / r, trained on all D_raw tokens; where data, not hardware, runs out."""
    one_plus_slope = _one_plus_slope(p)
    log_ratio_ref = jnp.log(p["tokens_per_param_scale"]) + jnp.log(p["tokens_per_param_ref"])
    numerator = (
        math.log(FLOP_PER_PARAM_TOKEN)
        + log_effective_tokens
        + log_raw_tokens
        - log_ratio_ref
        + (one_plus_slope - 1.0) * math.log(C_REF)
    )
    return numerator / one_plus_slope


def log_repetition_worth(epochs, repetition_decay):
    """log(1 + R* (1 - exp(-(E - 1) / R*))), E = max(epochs, 1): what E passes over the unique
    data are worth, in unique passes (Muennighoff et al. 2023)."""
    e = jnp.maximum(epochs, 1.0)
    return jnp.log1p(repetition_decay * -jnp.expm1(-(e - 1.0) / repetition_decay))


def log_latency_compute(p: Mapping, log_seconds):
    """The largest C whose D / B optimizer steps of L layers at ``layer_latency_s`` each fit
    in the run: closed form, as every term is linear in ln C. ``NO_WALL_LOG10`` (in natural
    log) where the exponent is not positive and the wall never binds."""
    s = _one_plus_slope(p) - 1.0
    b = p["critical_batch_exponent"]
    a = jnp.log(p["tokens_per_param_scale"]) + jnp.log(p["tokens_per_param_ref"]) - s * math.log(C_REF)
    k = (
        a / 3.0
        - (2.0 / 3.0) * math.log(FLOP_PER_PARAM_TOKEN)
        - jnp.log(p["critical_batch_tokens_ref"])
        + b * math.log(C_REF)
        + math.log(LAYERS_REF)
        - math.log(N_REF) / 3.0
        + jnp.log(p["layer_latency_s"])
    )
    exponent = 2.0 / 3.0 + s / 3.0 - b
    no_wall = NO_WALL_LOG10 * _LN10
    wall = (log_seconds - k) / jnp.where(exponent > 0, exponent, 1.0)
    return jnp.where(exponent > 0, jnp.minimum(wall, no_wall), no_wall)


def data_efficiency(epochs, repetition_decay):
    """Value of E epochs of repeated data per token, relative to unique data (Muennighoff).

    U (1 + R* (1 - exp(-(E - 1) / R*))) / (U E), with E = max(epochs, 1).
    """
    e = jnp.maximum(epochs, 1.0)
    return (1.0 + repetition_decay * -jnp.expm1(-(e - 1.0) / repetition_decay)) / e


def _chips(p: Mapping, t):
    """log chips of the largest system and which cap set them (its code in :data:`CONSTRAINTS`)."""
    supply, power, funding, log_watts, log_capex_per_chip = chip_caps(p, t)
    log_chips = jnp.minimum(jnp.minimum(supply, power), funding)
    # first cap attaining the minimum (as argmin would), without stacking the three arrays
    code = CONSTRAINTS.index
    chips_cap = jnp.where(supply <= jnp.minimum(power, funding), code("supply"),
                          jnp.where(power <= funding, code("power"), code("funding")))
    return log_chips, chips_cap, log_watts, log_capex_per_chip


def max_epochs(p: Mapping):
    """Times the unique data is repeated: ``max_epochs`` where a prior set gives it (v2), else
    until one more epoch is worth less than ``epoch_worth_floor`` m of a fresh one:
    ``exp(-(E - 1) / R*) = m``, so ``E = 1 + R* ln(1 / m)`` (v3)."""
    if "max_epochs" in p:
        return p["max_epochs"]
    return 1.0 - p["repetition_decay"] * jnp.log(p["epoch_worth_floor"])


def soft_wall(log_available, log_wall, softness):
    """Compute that counts past the data wall W: H below it, ``W (H / W)^s`` above (in logs)."""
    past = log_available > log_wall
    return jnp.where(past, log_wall + softness * (log_available - log_wall), log_available)


def _walls(p: Mapping, t, log_hardware, log_days):
    """The data and latency walls, the pretraining compute under all three, and which binds:
    the data wall where the compute the system can give one run (under the latency wall)
    passes it, else the latency wall where it is below the hardware."""
    log_unique = jnp.logaddexp(
        _log_growth(jnp.log(p["text_tokens_base"]), p["text_tokens_growth"], t),
        _log_growth(jnp.log(p["other_tokens_base"]), p["other_tokens_growth"], t),
    )
    epochs = max_epochs(p)
    log_raw = log_unique + jnp.log(epochs)
    log_effective = log_unique + log_repetition_worth(epochs, p["repetition_decay"])
    log_data = log_data_compute(p, log_effective, log_raw)
    log_latency = log_latency_compute(p, log_days + math.log(SECONDS_PER_DAY))
    log_available = jnp.minimum(log_hardware, log_latency)
    log_pretraining = soft_wall(log_available, log_data, p.get("data_wall_softness", 0.0))
    wall = jnp.where(
        log_data < log_available, CONSTRAINTS.index("data"), CONSTRAINTS.index("latency")
    )
    walled = jnp.minimum(log_data, log_latency) < log_hardware
    return log_unique, log_data, log_latency, log_pretraining, walled, wall


def _log_post_training_fraction(p: Mapping, t):
    """log of post-training compute / pretraining compute: grown, then held at its ceiling."""
    grown = jnp.log(p["post_training_fraction_base"]) + t * jnp.log(p["post_training_fraction_growth"])
    return jnp.minimum(grown, jnp.log(p["post_training_fraction_max"]))


def world_compute(params: Mapping, years, *, base_year: float = BASE_YEAR) -> dict:
    """Every derived quantity of the model for a batch of worlds and a vector of years.

    Parameters
    ----------
    params
        One array (or scalar) per name of :data:`PARAMETERS`, all of one batch shape; a
        lab-year parameter (``run_share``) may also have a last axis of years.
    years
        Calendar years of the runs, shape ``(n_years,)``.
    base_year
        Year from which growth is counted.

    Returns
    -------
    dict
        The outputs listed in :data:`OUTPUT_UNITS`, each of shape ``batch + (n_years,)``.
    """
    # a year axis on every parameter but lab-year ones that have it already
    batch_ndim = jnp.ndim(params["lag_years"])
    p = {name: jnp.asarray(value) if scope(name) == LAB_YEAR and jnp.ndim(value) > batch_ndim
             else jnp.asarray(value)[..., None]
         for name, value in params.items() if name in PARAMETERS}
    return _outputs(p, jnp.asarray(years, dtype=float), base_year)


def _outputs(p: Mapping, years, base_year: float) -> dict:
    """:func:`world_compute` on parameters that broadcast against ``years``."""
    t = years - base_year - p["lag_years"]  # growth at the time the run's system stood

    log_chips, chips_cap, log_watts, log_capex_per_chip = _chips(p, t)
    log_flops = log_flops_per_chip(p, t, years)
    log_days = log_duration_days(p, t)
    log_share = jnp.log(p["run_share"]) if "run_share" in p else 0.0  # of the system, this run
    # FLOP a day of the chips the run uses
    log_chip_days = log_chips + log_share + log_flops + jnp.log(p["mfu"]) + math.log(SECONDS_PER_DAY)
    log_hardware = log_chip_days + log_days
    log_unique, log_data, log_latency, log_pre, walled, wall = _walls(p, t, log_hardware, log_days)
    binding = jnp.where(walled, wall, chips_cap)

    log_fraction = _log_post_training_fraction(p, t)
    log_compute = log_pre + jnp.log1p(jnp.exp(log_fraction))
    log_run_days = log_compute - log_chip_days
    log_chip_hours = log_chips + log_share + math.log(HOURS_PER_DAY) + log_run_days
    log_hour_usd = _log_growth(jnp.log(p["chip_hour_usd_base"]), p["chip_hour_usd_growth"], t)

    log_ratio = log_tokens_per_param(p, log_pre)
    log_params = 0.5 * (log_pre - math.log(FLOP_PER_PARAM_TOKEN) - log_ratio)
    log_tokens = log_ratio + log_params
    epochs = jnp.exp(log_tokens - log_unique)
    efficiency = data_efficiency(epochs, p["repetition_decay"])

    natural = {
        "log10_chips": log_chips,
        "log10_flops_per_chip": log_flops,
        "log10_hardware_compute": log_hardware,
        "log10_power_gw": log_chips + log_watts - math.log(1e9),
        "log10_cluster_capex_usd": log_chips + log_capex_per_chip,
        "log10_data_compute": log_data,
        "log10_latency_compute": log_latency,
        "log10_pretraining_compute": log_pre,
        "log10_training_compute": log_compute,
        "log10_params": log_params,
        "log10_tokens": log_tokens,
        "log10_tokens_per_param": log_ratio,
        "log10_effective_compute": log_compute + jnp.log(efficiency),
        "log10_run_cost_usd": log_chip_hours + log_hour_usd,
        "log10_energy_gwh": log_chip_hours + log_watts - math.log(1e9),
    }
    out = {name: value * (1.0 / _LN10) for name, value in natural.items()}
    out.update(
        chips_cap=chips_cap.astype(jnp.int8),
        duration_days=jnp.exp(log_days),
        binding_constraint=binding.astype(jnp.int8),
        post_training_fraction=jnp.exp(log_fraction),
        run_days=jnp.exp(log_run_days),
        epochs=epochs,
        data_efficiency=efficiency,
    )
    return {name: out[name] for name in OUTPUT_UNITS}


def lab_world_compute(params: Mapping, years, *, base_year: float = BASE_YEAR) -> dict:
    """The frontier of several labs: :func:`world_compute` per lab, then the largest run.

    ``params``: a shared parameter has shape ``batch``, a lab-scoped one ``batch + (labs,)``,
    a lab-year one ``batch + (labs, years)`` (:meth:`priors.transform.WorldTransform.model_params`).
    Returns the outputs of :data:`OUTPUT_UNITS` for the leading lab's run of each year
    (``batch + (years,)``; ``log10_training_compute`` is ``max_k C_k(y)``), and
    :data:`LAB_OUTPUT_UNITS`: every lab's compute (``batch + (labs, years)``) and the
    leading lab's index (the first of equals).
    """
    years = jnp.asarray(years, dtype=float)
    by_lab = {name: _lab_axes(name, params[name]) for name in params if name in PARAMETERS}
    lab_compute = _outputs(by_lab, years, base_year)["log10_training_compute"]
    lab_compute = jnp.broadcast_to(lab_compute, jnp.broadcast_shapes(*(jnp.shape(v) for v in by_lab.values()),
                                                                       (1, years.shape[0])))
    leader = jnp.argmax(lab_compute, axis=-2)  # (batch, years)
    # the leading lab's parameters, one per year; shared ones keep their year axis of 1
    leading = {name: (jnp.take_along_axis(value[..., 0], leader, axis=-1) if scope(name) == LAB
                      else jnp.take_along_axis(value, leader[..., None, :], axis=-2)[..., 0, :] if scope(name) == LAB_YEAR
                      else value[..., 0, :])
               for name, value in by_lab.items()}
    out = _outputs(leading, years, base_year)
    out["log10_training_compute"] = jnp.max(lab_compute, axis=-2)
    out["log10_lab_training_compute"] = lab_compute
    out["leading_lab"] = leader.astype(jnp.int8)
    return out


def _lab_axes(name: str, value):
    """A parameter with a lab and a year axis (each of size 1 where it has none)."""
    value = jnp.asarray(value)
    if scope(name) == LAB_YEAR:
        return value
    return value[..., None] if scope(name) == LAB else value[..., None, None]


def world_sites(transform, z, z_lab_year, years, *, base_year: float = BASE_YEAR):
    """A world from its scores (:func:`models.bottom_up.model.latent_scores`): pure JAX.

    Returns ``(values, lab_year, outputs)``: each column's prior value, each lab-year prior
    (``batch + (labs, years)``; ``batch + (years,)`` for one lab) and the outputs of
    :func:`world_compute` (one lab) or :func:`lab_world_compute` (several).
    """
    years = jnp.asarray(years, dtype=float)
    values = transform.values_from_normal(z)
    lab_year = transform.lab_year_values(z_lab_year, jnp.shape(z)[:-1], years.shape[0])
    if transform.n_labs == 1:  # one lab: the v2 arithmetic, with no lab axis
        lab_year = {name: value[..., 0, :] for name, value in lab_year.items()}
        outputs = world_compute({**values, **lab_year}, years, base_year=base_year)
    else:
        outputs = lab_world_compute(transform.model_params(values, lab_year), years, base_year=base_year)
    return values, lab_year, outputs
