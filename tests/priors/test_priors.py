"""The prior language: golden parameters, quantiles, and one-line errors naming file and key."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from models import PARAMETERS
from priors import (
    Beta,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    PriorError,
    Uniform,
    builtin_prior_files,
    load_prior_set,
    parse_spec,
)

from priors.families import Z_MAX

Z95 = float(stats.norm.ppf(0.95))


@pytest.mark.parametrize(
    "spec, family, params",
    [
        # a lognormal whose 90% interval is 1..e^(2*1.645) has mu 1.645 and sigma 1
        (f"lognormal 1 to {math.exp(2 * Z95)!r}", LogNormal, {"mu": Z95, "sigma": 1.0}),
        (f"normal {-Z95!r} to {Z95!r}", Normal, {"mu": 0.0, "sigma": 1.0}),
        ("normal mean 0.0607 sd 0.03", Normal, {"mu": 0.0607, "sigma": 0.03}),
        # 90% of a uniform in 1..10 leaves 5% (0.5) on each side
        ("uniform 1 to 10", Uniform, {"low": 0.5, "high": 10.5}),
        ("uniform between 2024 and 2031", Uniform, {"low": 2024.0, "high": 2031.0}),
        ("loguniform 1 to 1e9", LogUniform, {"low": 10**-0.5, "high": 10**9.5}),
        ("fixed 1e15", Fixed, {"value": 1e15}),
        ("0.45", Fixed, {"value": 0.45}),
    ],
    ids=["lognormal", "normal-interval", "normal-moments", "uniform", "uniform-between",
         "loguniform", "fixed", "bare-number"],
)
def test_golden_parameters(spec, family, params):
    parsed = parse_spec(spec)
    assert type(parsed) is family
    for name, expected in params.items():
        assert getattr(parsed, name) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "spec, p5, p95",
    [("lognormal 5e4 to 2e5", 5e4, 2e5), ("normal 1.2 to 1.8", 1.2, 1.8),
     ("uniform 0.5 to 1.5", 0.5, 1.5), ("loguniform 3 to 300", 3, 300), ("beta 0.3 to 0.5", 0.3, 0.5)],
    ids=["lognormal", "normal", "uniform", "loguniform", "beta"],
)
def test_interval_specs_hit_their_percentiles(spec, p5, p95):
    family = parse_spec(spec)
    np.testing.assert_allclose(family.ppf([0.05, 0.95]), [p5, p95], rtol=2e-5)


@pytest.mark.parametrize("mean, p5, p95", [(0.40, 0.30, 0.50), (0.4, 0.1, 0.8), (0.2, 0.05, 0.4), (0.6, 0.35, 0.85)])
def test_beta_by_mean_puts_ninety_percent_in_the_interval(mean, p5, p95):
    family = parse_spec(f"beta mean {mean}, {p5} to {p95}")
    assert isinstance(family, Beta)
    assert family.mean == pytest.approx(mean, rel=1e-12)
    dist = stats.beta(family.alpha, family.beta)
    # its concentration is the float nearest the root: the mass is 90% to rounding
    assert dist.cdf(p95) - dist.cdf(p5) == pytest.approx(0.90, abs=1e-14)


def test_beta_quantile_table_matches_scipy():
    family = Beta(2.5, 7.0)
    u = np.array([1e-6, 0.01, 0.05, 0.3, 0.5, 0.77, 0.95, 0.999999])
    np.testing.assert_allclose(family.ppf(u), stats.beta.ppf(u, 2.5, 7.0), rtol=1e-4)


def test_quantiles_stay_finite_at_the_edges_of_the_unit_interval():
    for spec in ("lognormal 1 to 10", "normal 0 to 1", "beta 0.3 to 0.5", "uniform 0 to 1"):
        values = parse_spec(spec).ppf([0.0, 1e-300, 1.0])
        assert np.isfinite(values).all(), spec


@pytest.mark.parametrize(
    "spec, message",
    [
        ("gamma 1 to 2", "unknown distribution 'gamma'"),
        ("lognormal 2e5 to 5e4", "5th percentile .* must be below the 95th"),
        ("lognormal 0 to 5", "lognormal bounds must be positive"),
        ("lognormal -1 to 5", "lognormal bounds must be positive"),
        ("beta 0.3 to 1.5", "strictly between 0 and 1"),
        ("beta mean 0.6, 0.3 to 0.5", "must lie inside its interval"),
        ("normal mean 1 sd 0", "sd of a normal must be positive"),
        ("lognormal 5e4", "cannot read"),
        ("uniform between 3 and 1", "lower bound .* must be below the upper bound"),
        ("lognormal 1e299 to 1e300", "astronomically large"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(PriorError, match=message):
        parse_spec(spec)


def test_default_set_matches_the_model_and_model_md(default_priors):
    default_priors.validate(PARAMETERS)
    # v3 derives the epochs from epoch_worth_floor, the alternative of max_epochs
    assert set(default_priors.names) == set(PARAMETERS) - {"max_epochs"}
    for prior in (*default_priors, *(p for _, p in default_priors.labs.overrides)):
        assert prior.unit and prior.source, f"{prior.name} needs a unit and a source"
        assert "seed 00" not in prior.source  # essays cited by title and author
    # MODEL.md v3: six labs; mfu mean 0.35, 90% 0.20-0.50; xAI's 2024 Colossus of 100K H100
    assert default_priors.labs.names == ("openai", "google_deepmind", "xai", "anthropic", "meta", "china")
    assert default_priors["mfu"].family.mean == pytest.approx(0.35)
    # a beta of given mean meets the interval as closely as its two parameters allow
    np.testing.assert_allclose(default_priors["mfu"].family.ppf([0.05, 0.95]), [0.2, 0.5], rtol=0.05)
    assert 8e4 < default_priors.for_lab("chips_base", "xai").family.ppf(0.5) < 2e5
    # P(8-bit by 2025) about 0.7
    assert default_priors["low_precision_year"].family.cdf(2025.0) == pytest.approx(0.7, abs=0.01)
    assert default_priors["chip_flops_base"].family == Fixed(1e15)


def test_v2_default_is_kept_as_it_was():
    v2 = load_prior_set("v2").validate(PARAMETERS)
    assert v2.labs.names == ("frontier",) and "max_epochs" in v2 and "epoch_worth_floor" not in v2
    np.testing.assert_allclose(v2["chips_base"].family.ppf([0.05, 0.95]), [5e4, 2e5], rtol=1e-6)
    assert v2["mfu"].family.mean == pytest.approx(0.40)
    assert v2["run_share"].family == Fixed(1.0) and v2["data_wall_softness"].family == Fixed(0.0)


#: What each scenario changes (docs/model.md, "Scenarios"); it inherits every other prior.
SCENARIOS = {
    "moe": {"tokens_per_param_scale"},
    "no_fp8": {"low_precision_gain"},
    "power_wall": {"power_limit_gw_max"},
    "fast_buildout": {"power_limit_growth", "capex_limit_growth", "power_limit_gw_max", "capex_limit_usd_max"},
    "data_wall": {"max_epochs", "other_tokens_base", "other_tokens_growth", "data_wall_softness"},
    "synthetic_data": {"other_tokens_growth"},
    "rl_scaling": {"post_training_fraction_growth", "post_training_fraction_max"},
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios_change_only_what_they_say(name, default_priors):
    scenario = load_prior_set(name).validate(PARAMETERS)
    changed = {p.name for p in scenario if p.name not in default_priors or p.family != default_priors[p.name].family}
    assert changed == SCENARIOS[name]
    assert scenario.name == name and scenario.description
    assert all(scenario[n].source for n in changed)


def test_scenario_changes_what_model_md_says():
    assert load_prior_set("no_fp8")["low_precision_gain"].family == Fixed(1.0)
    moe = load_prior_set("moe")["tokens_per_param_scale"].family
    np.testing.assert_allclose(moe.ppf([0.05, 0.95]), [0.2, 0.5], rtol=1e-6)
    wall = load_prior_set("power_wall")["power_limit_gw_max"].family  # the wall is a 1-2 GW ceiling
    np.testing.assert_allclose(wall.ppf([0.05, 0.95]), [1.0, 2.0], rtol=1e-6)
    assert set(builtin_prior_files()) == {"default", "v2", *SCENARIOS}


def test_overrides_use_the_same_grammar(default_priors):
    changed = default_priors.with_overrides(["mfu=0.45", 'chip_growth="lognormal 1.5 to 3"'])
    assert changed["mfu"].family == Fixed(0.45)
    np.testing.assert_allclose(changed["chip_growth"].family.ppf([0.05, 0.95]), [1.5, 3.0], rtol=1e-6)
    assert changed["mfu"].unit == "fraction"  # unit kept from the prior it replaces


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, key, message",
    [
        ("[priors.mfu\nspec = 1", None, "invalid TOML"),
        ('[priors.chip_grwth]\nspec = "lognormal 1 to 2"', "chip_grwth", "did you mean 'chip_growth'"),
        ('[priors.mfu]\nspec = "triangle 1 to 2"', "mfu", "unknown distribution"),
        ('[priors.chips_base]\nspec = "lognormal 9 to 2"', "chips_base", "must be below"),
        ('[priors.mfu]\nspec = "beta 0.2 to 1.2"', "mfu", "between 0 and 1"),
        ('[priors.mfu]\nspek = "0.4"', "mfu", "unknown field"),
        ('colour = "red"', None, "unknown top-level key"),
    ],
    ids=["toml-syntax", "unknown-name", "unknown-distribution", "reversed", "beta-range",
         "unknown-field", "unknown-top-key"],
)
def test_file_errors_name_the_file_and_key(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(PriorError, match=message) as info:
        load_prior_set(path)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(str(path))
    if key:
        assert f": {key}: " in line


def test_domain_errors_name_the_key(tmp_path):
    path = write(tmp_path, '[priors.chips_base]\nspec = "normal 1 to 5"')
    with pytest.raises(PriorError, match=r"chips_base: .* must be positive") as info:
        load_prior_set(path).validate(PARAMETERS)
    assert str(path) in str(info.value)


def test_missing_file_lists_the_builtin_sets():
    with pytest.raises(PriorError, match="no such prior file .*power_wall"):
        load_prior_set("no-such-file.toml")


def test_a_full_file_without_inherit_must_name_every_prior(tmp_path):
    path = write(tmp_path, 'inherit = "none"\n[priors]\nmfu = "0.4"')
    with pytest.raises(PriorError, match="missing priors: lag_years"):
        load_prior_set(path).validate(PARAMETERS)


def test_value_range_and_ppf_share_one_compiled_program_per_kernel():
    """A command reads the range and the quantiles of every family: one compiled program
    per kernel serves both (each program costs tens of ms to trace and load), and the
    quantiles are those of the kernel at Phi^-1(q), by hand for a normal."""
    from dataclasses import dataclass

    normal = parse_spec("normal 1 to 3")  # 90% interval: mean 2, sd 1 / z95
    traces = []

    @dataclass(frozen=True)
    class Counted(type(normal)):  # a kernel of its own: compiled afresh, its traces counted
        @staticmethod
        def kernel(leaves, z):
            traces.append(z.shape)
            return type(normal).kernel(leaves, z)

    family = Counted(mu=normal.mu, sigma=normal.sigma)
    low, high = family.value_range()
    values = family.ppf([0.05, 0.5, 0.95])
    family.ppf([0.25, 0.75])
    assert traces == [(8,)]  # one block of scores, one program
    sd = 1 / special.ndtri(0.95)
    np.testing.assert_allclose(values, 2 + sd * special.ndtri([0.05, 0.5, 0.95]), rtol=1e-13)
    assert (low, high) == pytest.approx((2 - sd * Z_MAX, 2 + sd * Z_MAX), rel=1e-13)


def test_a_familys_priors_go_through_its_kernel_as_one_block(default_priors):
    """The world transform computes the priors of an elementwise family (lognormal, normal,
    uniform, log-uniform) as one block, their leaves stacked: the numbers are each prior's
    own quantile function at its own (correlated, clipped) score, bit for bit, in a batch of
    any shape; and the compiled model has one such operation a family, not one a prior."""
    import jax
    import jax.numpy as jnp

    from priors.families import Beta, LogNormal, Normal, Uniform

    transform = default_priors.transform()
    kinds = {type(prior.family) for _, _, _, prior in default_priors.columns}
    assert {LogNormal, Uniform, Beta} <= kinds  # blocks and columns of their own both met
    assert LogNormal.kernel.elementwise and Normal.kernel.elementwise and not hasattr(Beta.kernel, "elementwise")
    e = np.random.default_rng(7).normal(size=(3, 5, transform.n_latent)) * 4  # past Z_MAX too
    with jax.enable_x64(True):
        values = jax.jit(transform.values_from_normal)(e)
        z = np.clip(np.asarray(transform.correlate(e)), -Z_MAX, Z_MAX)
        row = 0
        for name, kernel, latent, leaves in zip(transform.names, transform.kernels, transform.latent,
                                                transform.leaves):
            expected = jax.jit(kernel)(leaves, z[..., row] if latent else jnp.zeros((3, 5)))
            assert values[name].shape == (3, 5)
            np.testing.assert_array_equal(values[name], expected, err_msg=name)
            row += latent
        text = jax.jit(transform.values_from_normal).lower(e).as_text()
    n_lognormal = sum(k is LogNormal.kernel for k in transform.kernels)
    assert n_lognormal > 50 and text.count("exponential") < 10  # one exp for the lognormals, not one each


def test_a_block_holds_only_priors_whose_numbers_have_one_type():
    """Stacking promotes: a prior whose numbers are of another type (float32 here), or not
    scalars, is computed on its own, with the promotions of its own kernel call."""
    import jax
    import jax.numpy as jnp

    from priors.families import Uniform
    from priors.transform import WorldTransform

    leaves = ((np.float32(0.1), np.float32(1.7)), (2.5, 3.1), (0.2, 0.9), (np.array([0.0, 1.0]), 4.0))
    transform = WorldTransform(names=("a", "b", "c", "d"), kernels=(Uniform.kernel,) * 4,
                               latent=(True,) * 4, leaves=leaves)
    e = np.random.default_rng(3).normal(size=(2, 4))
    with jax.enable_x64(True):
        values = transform.values_from_normal(e)
        for i, name in enumerate(transform.names):
            expected = Uniform.kernel(leaves[i], jnp.clip(jnp.asarray(e[:, i]), -Z_MAX, Z_MAX))
            assert values[name].dtype == expected.dtype
            np.testing.assert_array_equal(values[name], expected, err_msg=name)
