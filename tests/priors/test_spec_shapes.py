"""The prior language's other shapes: metalogs, mixtures, truncation, interval coverage.

Expected numbers are worked out from the specs (closed forms, or scipy on the same
definition), never read back from the program.
"""

from __future__ import annotations

import functools
import math

import jax
import numpy as np
import pytest
from scipy import special, stats

from priors import PriorError, load_prior_set, parse_spec
from priors.families import Z_MAX, Metalog, Mixture, Truncated

Z95 = float(stats.norm.ppf(0.95))
#: Scores from one extreme to the other, with a fine stretch around the median (where a
#: mixture switches from comparing CDFs to comparing survival functions).
FINE_Z = np.unique(np.concatenate([np.linspace(-Z_MAX, Z_MAX, 18001), np.linspace(-1e-6, 1e-6, 401)]))


def tail_error(cdf, sf, z):
    """Relative error of a CDF (at z <= 0) or survival function (z > 0) against Phi(z)."""
    return np.where(z <= 0, np.abs(cdf / special.ndtr(z) - 1), np.abs(sf / special.ndtr(-z) - 1))


# -- metalog -----------------------------------------------------------------------------

def test_metalog_through_a_normals_quantiles():
    mu, sigma = 2.0, 0.5
    q5, q95 = mu - sigma * Z95, mu + sigma * Z95
    family = parse_spec(f"metalog 5%: {q5!r}, 50%: {mu!r}, 95%: {q95!r}")
    assert isinstance(family, Metalog)
    np.testing.assert_allclose(family.ppf([0.05, 0.5, 0.95]), [q5, mu, q95], rtol=1e-12)
    # Symmetric quantiles leave only a1 + a2 L(y): a logistic with a2 = sigma Z95 / ln 19,
    # so its 25th percentile is mu - sigma Z95 ln 3 / ln 19 = mu - 0.6137 sigma, against the
    # normal's mu - 0.6745 sigma: 0.061 sigma apart (the logistic's shoulders are narrower).
    shift = sigma * Z95 * math.log(3) / math.log(19)
    np.testing.assert_allclose(family.ppf([0.25, 0.75]), [mu - shift, mu + shift], rtol=1e-12)
    normal = stats.norm.ppf([0.25, 0.75], mu, sigma)
    assert np.all(np.abs(family.ppf([0.25, 0.75]) - normal) < 0.07 * sigma)


@pytest.mark.parametrize(
    "spec",
    [
        "metalog 10%: 2, 50%: 3, 90%: 7",
        "metalog 90%: 7, 10%: 2, 50%: 3, lower 0",
        "metalog 10%: 2, 50%: 5, 90%: 7, upper 8",
        "metalog 10%: 2, 50%: 3, 90%: 7, lower 1, upper 12",
        "metalog 1%: 0.5, 10%: 2, 50%: 3, 90%: 7, 99%: 12, lower 0",
    ],
    ids=["unbounded", "lower", "upper", "bounded", "five-terms"],
)
def test_metalog_hits_each_given_quantile(spec):
    family = parse_spec(spec)
    targets = dict(zip(family.percents, family.values))
    percents = np.array(sorted(targets))
    np.testing.assert_allclose(family.ppf(percents / 100), [targets[p] for p in percents], rtol=1e-10)
    # and back: the CDF (inverted by bisection) at each value is its percent
    np.testing.assert_allclose(family.cdf([targets[p] for p in percents]), percents / 100, rtol=1e-10)
    values = np.asarray(family.from_normal(FINE_Z))
    assert np.isfinite(values).all() and np.all(np.diff(values) >= 0)
    # strictly so wherever a bounded metalog has not yet met its bound in float64
    assert np.all(np.diff(values[np.abs(FINE_Z) < 4]) > 0)


def test_bounded_metalogs_respect_their_bounds_at_the_extremes():
    low, high = parse_spec("metalog 10%: 2, 50%: 3, 90%: 7, lower 1, upper 12").value_range()
    assert 1 <= low < 2 and 7 < high <= 12
    assert parse_spec("metalog 10%: 2, 50%: 3, 90%: 7, lower 1").value_range()[0] >= 1
    assert parse_spec("metalog 10%: 2, 50%: 5, 90%: 7, upper 8").value_range()[1] <= 8


def test_metalog_by_text_order_and_describe():
    a = parse_spec("metalog 95%: 3.5, 5%: 1.5, 50%: 2.2, lower 0")
    assert a == parse_spec("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5, lower 0")
    assert a.describe() == "metalog(5%: 1.5, 50%: 2.2, 95%: 3.5, lower 0)"


# -- mixture -----------------------------------------------------------------------------

def test_a_mixture_of_one_component_twice_is_that_component():
    component = parse_spec("lognormal 1.5 to 3")
    family = parse_spec("mixture 0.5: lognormal 1.5 to 3; 0.5: lognormal 1.5 to 3")
    values = family.from_normal(FINE_Z)
    # the component's probability at the mixture's quantiles, from its closed form
    log_values = np.log(np.asarray(values))
    scores = (log_values - component.mu) / component.sigma
    assert tail_error(special.ndtr(scores), special.ndtr(-scores), FINE_Z).max() < 1e-10


def test_a_mixture_of_separated_lognormals_has_its_weight_below_the_gap():
    family = parse_spec("mixture 0.7: lognormal 1 to 2; 0.3: lognormal 100 to 200")
    assert isinstance(family, Mixture)
    # the geometric midpoint of 2 and 100 is ln(10) / sigma = 10.9 sds from both medians, so
    # each component's probability beyond it is Phi(-10.9) ~ 5e-28
    assert family.cdf(math.sqrt(200)) == pytest.approx(0.7, abs=1e-12)
    # just below 0.7 the quantile is the first component's at (0.7 - 1e-6) / 0.7, just above
    # the second's at 1e-6 / 0.3
    first, second = family.components
    expected = [math.exp(first.mu + first.sigma * special.ndtri(1 - 1e-6 / 0.7)),
                math.exp(second.mu + second.sigma * special.ndtri(1e-6 / 0.3))]
    np.testing.assert_allclose(family.ppf([0.7 - 1e-6, 0.7 + 1e-6]), expected, rtol=1e-9)
    assert expected[0] < math.sqrt(200) < expected[1]


@pytest.mark.parametrize(
    "spec",
    [
        "mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6",
        "mixture 0.6: beta 0.3 to 0.5; 0.4: beta 0.6 to 0.8",
        "mixture 0.5: uniform 0 to 1; 0.3: normal 0 to 1 truncated to 0..; 0.2: 0.5",
        "mixture 0.2: normal 0 to 1; 0.5: normal 100 to 101; 0.3: loguniform 1 to 1e6",
    ],
    ids=["lognormals", "betas", "uniform-truncated-fixed", "far-apart"],
)
def test_mixture_quantiles_increase_everywhere(spec):
    values = np.asarray(parse_spec(spec).from_normal(FINE_Z))
    assert np.isfinite(values).all() and np.all(np.diff(values) >= 0)


def test_mixture_quantiles_match_scipy_in_both_tails():
    family = parse_spec("mixture 0.4: normal 1 to 3; 0.6: lognormal 2 to 8")
    normal, lognormal = family.components
    z = np.linspace(-Z_MAX, Z_MAX, 721)
    x = np.asarray(family.from_normal(z))
    log_scale = np.exp(lognormal.mu)
    cdf = 0.4 * stats.norm.cdf(x, normal.mu, normal.sigma) + 0.6 * stats.lognorm.cdf(x, lognormal.sigma, scale=log_scale)
    sf = 0.4 * stats.norm.sf(x, normal.mu, normal.sigma) + 0.6 * stats.lognorm.sf(x, lognormal.sigma, scale=log_scale)
    assert tail_error(cdf, sf, z).max() < 1e-10
    # its slope in z (what a NUTS fit over z differentiates) is phi(z) / f(x)
    density = 0.4 * stats.norm.pdf(x, normal.mu, normal.sigma) + 0.6 * stats.lognorm.pdf(x, lognormal.sigma, scale=log_scale)
    with jax.enable_x64(True):
        kernel = family.static_kernel
        slope = jax.jit(jax.vmap(jax.grad(kernel, argnums=1), in_axes=(None, 0)))(family.leaves(), z[40:-40])
    np.testing.assert_allclose(slope, stats.norm.pdf(z[40:-40]) / density[40:-40], rtol=1e-8)


def test_a_fixed_component_is_a_point_mass():
    family = parse_spec("mixture 0.8: lognormal 1 to 3; 0.2: 2")
    below = 0.8 * stats.lognorm.cdf(2, family.components[0].sigma, scale=math.exp(family.components[0].mu))
    assert family.ppf([below + 0.01, below + 0.1, below + 0.19]) == pytest.approx([2.0, 2.0, 2.0], abs=0)
    assert family.ppf(below - 0.01) < 2 < family.ppf(below + 0.21)


# -- truncation --------------------------------------------------------------------------

@pytest.mark.parametrize("z", [-Z_MAX, -5.0, -1.3, 0.0, 0.4, 2.0, 5.0, Z_MAX])
def test_truncated_normal_is_the_base_quantile_inside_the_window(z):
    family = parse_spec("normal 0 to 1 truncated to 0.2..0.9")  # mu 0.5, sigma 1 / (2 Z95)
    mu, sigma = 0.5, 1 / (2 * Z95)
    low, high = stats.norm.cdf([0.2, 0.9], mu, sigma)
    expected = stats.norm.ppf(low + special.ndtr(z) * (high - low), mu, sigma)
    assert float(family.from_normal(z)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("z", [-Z_MAX, -3.0, 0.0, 3.0, 6.0, Z_MAX])
def test_truncation_in_the_upper_tail_keeps_its_precision(z):
    # lognormal 1 to 10: median sqrt(10), sigma ln(10) / (2 Z95); 20 is 2.6 sds up, so the
    # window holds 0.4% and its quantiles come from survival functions: 1 - u = Phi(-z)
    family = parse_spec("lognormal 1 to 10 truncated to 20..")
    sigma, scale = math.log(10) / (2 * Z95), math.sqrt(10)
    expected = stats.lognorm.isf(special.ndtr(-z) * stats.lognorm.sf(20, sigma, scale=scale), sigma, scale=scale)
    assert float(family.from_normal(z)) == pytest.approx(expected, rel=1e-10)


def test_one_sided_truncation_below_and_window_bounds_at_the_extremes():
    family = parse_spec("lognormal 1 to 10 truncated to ..5")
    sigma, scale = math.log(10) / (2 * Z95), math.sqrt(10)
    u = np.array([1e-6, 0.1, 0.5, 0.9, 0.999999])
    expected = stats.lognorm.ppf(u * stats.lognorm.cdf(5, sigma, scale=scale), sigma, scale=scale)
    np.testing.assert_allclose(family.ppf(u), expected, rtol=1e-10)
    for spec, low, high in [("lognormal 1 to 10 truncated to ..5", 0, 5),
                            ("normal 0 to 1 truncated to 0.2..0.9", 0.2, 0.9),
                            ("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5 truncated to 1..3", 1, 3),
                            ("beta 0.3 to 0.5 truncated to 0.35..0.6", 0.35, 0.6)]:
        family = parse_spec(spec)
        assert isinstance(family, Truncated)
        lowest, highest = family.value_range()
        assert low <= lowest < highest <= high, spec


def test_truncation_binds_to_its_mixture_component():
    family = parse_spec("mixture 0.5: normal 0 to 1 truncated to 0..; 0.5: lognormal 1 to 2")
    assert isinstance(family.components[0], Truncated) and not isinstance(family.components[1], Truncated)
    assert family.describe().startswith("mixture(0.5 normal(mu=0.5, sigma=0.304) truncated to 0..")


# -- coverage ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "spec, percents, values",
    [
        ("normal 1 to 3 (80%)", [0.10, 0.90], [1, 3]),
        ("lognormal 1.5 to 3.5 (80%)", [0.10, 0.90], [1.5, 3.5]),
        ("normal 1 to 3 (50%)", [0.25, 0.75], [1, 3]),
        ("uniform 1 to 3 (50%)", [0.0, 0.25, 0.75, 1.0], [0, 1, 3, 4]),
        ("loguniform 1 to 100 (50%)", [0.0, 0.25, 0.75, 1.0], [0.1, 1, 100, 1000]),
        ("lognormal 1 to 10 (99%)", [0.005, 0.995], [1, 10]),
    ],
)
def test_an_interval_of_other_coverage(spec, percents, values):
    family = parse_spec(spec)
    np.testing.assert_allclose(family.ppf(percents), values, rtol=1e-9, atol=1e-300)  # compiled: 0 comes out as 9e-308


def test_beta_intervals_of_other_coverage():
    family = parse_spec("beta 0.2 to 0.4 (80%)")
    np.testing.assert_allclose(stats.beta.ppf([0.1, 0.9], family.alpha, family.beta), [0.2, 0.4], atol=1e-8)
    family = parse_spec("beta mean 0.4, 0.3 to 0.5 (80%)")
    dist = stats.beta(family.alpha, family.beta)
    assert family.mean == pytest.approx(0.4, rel=1e-12)
    assert dist.cdf(0.5) - dist.cdf(0.3) == pytest.approx(0.80, abs=1e-9)


@pytest.mark.parametrize(
    "spec",
    ["normal 1.2 to 1.8", "lognormal 5e4 to 2e5", "uniform 0.5 to 1.5", "loguniform 3 to 300",
     "beta 0.3 to 0.5", "beta mean 0.4, 0.3 to 0.5"],
)
def test_ninety_percent_written_out_is_the_default_exactly(spec):
    assert parse_spec(f"{spec} (90%)") == parse_spec(spec)


# -- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "spec, message",
    [
        ("metalog 5%: 1, 50%: 1.1, 95%: 10",
         (r"not increasing near the \d+\w\w percentile: the 5%\.\.50% gap \(0\.1\) and 50%\.\.95% "
          r"gap \(8\.9\) are too lopsided for 3 terms; give a lower bound below 1")),
        ("metalog 5%: 1, 50%: 9.9, 95%: 10", "not increasing .*give an upper bound above 10"),
        ("metalog 5%: 2, 50%: 1.5, 95%: 3", r"must increase with their percent: the 5% value \(2\)"),
        ("metalog 5%: 1, 5%: 2, 95%: 3", "5% quantile of the metalog is given twice"),
        ("metalog 5%: 1, 95%: 3", "needs 3 to 16 quantiles, got 2"),
        ("metalog 5%: 1, 50%: 2, 95%: 3, lower 1", "above the lower bound 1, but the 5% value is 1"),
        ("metalog 5%: 1, 50%: 2, 95%: 3, upper 2.5", "below the upper bound 2.5, but the 95% value is 3"),
        ("metalog 0%: 1, 50%: 2, 95%: 3", "strictly between 0% and 100%, got 0%"),
        ("metalog 5%: 1, 50%: 2, 95%: 3, lower 0, upper 0", "lower bound .* must be below its upper"),
        ("metalog 5%: 1, 50%: 2, 95%: 3, median 2", "cannot read 'median 2'"),
        ("mixture 0.7: normal 0 to 1; 0.4: normal 1 to 2", r"must sum to 1, got 0\.7 \+ 0\.4 = 1\.1"),
        ("mixture -0.3: normal 0 to 1; 1.3: normal 1 to 2", "weights must be positive"),
        ("mixture 0.5: gamma 1 to 2; 0.5: normal 0 to 1", "mixture component 1: unknown distribution 'gamma'"),
        ("mixture 1: normal 0 to 1", "two or more components"),
        ("mixture 0.5: normal 0 to 1, 0.5: normal 1 to 2", "two or more components separated by ';'"),
        ("mixture 0.5: normal 0 to 1; 0.5: mixture 0.5: 1; 0.5: 2", "cannot itself be a mixture"),
        ("mixture 0.5: normal 0 to 1; 0.5: metalog 5%: 1, 50%: 2, 95%: 3",
         "component 2 is a metalog, which a mixture cannot take"),
        ("normal 0 to 1 truncated to 20..30", "window 20..30 holds a probability of 0"),
        ("normal 0 to 1 truncated to 1..0", "window 1..0 is empty"),
        ("normal 0 to 1 truncated to ..", "cannot read the truncation"),
        ("0.4 truncated to 0..1", "fixed value .* cannot be truncated"),
        ("normal 1 to 3 (0%)", "strictly between 0% and 100% .*got 0%"),
        ("normal 1 to 3 (100%)", "strictly between 0% and 100% .*got 100%"),
        ("lognormal 1 to 3 (120%)", "strictly between 0% and 100% .*got 120%"),
        ("normal 3 to 1 (80%)", r"the 10th percentile \(3\) must be below the 90th percentile \(1\)"),
        ("uniform between 1 and 3 (80%)", "cannot read"),
    ],
)
def test_bad_shapes_say_what_is_wrong_in_one_line(spec, message):
    with pytest.raises(PriorError, match=message) as info:
        parse_spec(spec)
    assert "\n" not in str(info.value)


def test_a_bad_mixture_in_a_file_names_the_file_and_key(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[priors.chip_growth]\nspec = "mixture 0.6: lognormal 1 to 2; 0.3: lognormal 2 to 3"\n')
    with pytest.raises(PriorError, match="must sum to 1") as info:
        load_prior_set(path)
    assert str(info.value).startswith(f"{path}: chip_growth: ")


# -- compiled once per shape -------------------------------------------------------------

SAME_SHAPE = [
    ("mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6",
     "mixture 0.4: lognormal 1 to 2; 0.6: lognormal 5 to 9"),
    ("normal 0 to 1 truncated to 0.2..0.9", "normal 3 to 5 truncated to 1..4.5"),
    ("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5, lower 0", "metalog 10%: 2, 50%: 3, 90%: 7, lower 1"),
]


@pytest.mark.parametrize("first, second", SAME_SHAPE, ids=["mixture", "truncated", "metalog"])
def test_static_kernels_are_equal_for_equal_shapes(first, second):
    a, b = parse_spec(first), parse_spec(second)
    assert a != b
    assert a.static_kernel == b.static_kernel and hash(a.static_kernel) == hash(b.static_kernel)


def test_static_kernels_differ_for_other_shapes():
    two = parse_spec("mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6").static_kernel
    assert two != parse_spec("mixture 0.7: lognormal 1.5 to 3; 0.3: normal 3 to 6").static_kernel
    assert two != parse_spec("mixture 0.5: lognormal 1 to 3; 0.3: lognormal 3 to 6; 0.2: 4").static_kernel
    assert (parse_spec("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5, lower 0").static_kernel
            != parse_spec("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5").static_kernel)


def test_new_numbers_of_the_same_shape_reuse_the_compiled_code():
    traces = []

    @functools.partial(jax.jit, static_argnums=0)
    def values(kernels, leaves, z):  # what a compiled model does with a prior set
        traces.append(kernels)
        return [kernel(part, z) for kernel, part in zip(kernels, leaves)]

    def run(*specs):
        families = [parse_spec(spec) for spec in specs]
        z = np.array([-Z_MAX, -1.0, 0.3, Z_MAX])
        with jax.enable_x64(True):
            out = values(tuple(f.static_kernel for f in families), tuple(f.leaves() for f in families), z)
        for family, got in zip(families, out):
            np.testing.assert_allclose(np.asarray(got), np.asarray(family.from_normal(z)), rtol=1e-13)

    run(*(pair[0] for pair in SAME_SHAPE))
    run(*(pair[1] for pair in SAME_SHAPE))
    assert len(traces) == 1
    run("mixture 0.5: lognormal 1 to 3; 0.3: lognormal 3 to 6; 0.2: 4", *(p[1] for p in SAME_SHAPE[1:]))
    assert len(traces) == 2


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("lognormal 1 to 2", True),  # a lognormal is stated on a log scale, however narrow
        ("lognormal 1 to 3 truncated to 1..2.5", True),  # truncation keeps the scale
        ("mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6", True),
        ("metalog 5%: 1, 50%: 10, 95%: 200, lower 0", True),  # 95th / 5th = 200 > 10
        ("metalog 5%: 1, 50%: 2, 95%: 4, lower 0", False),  # 95th / 5th = 4
        ("normal 1 to 3", False),
        ("0.4", False),
    ],
)
def test_log_scale_follows_the_statement(spec, expected):
    assert parse_spec(spec).log_scale is expected


def test_a_metalog_whose_tails_leave_a_positive_domain_is_fitted_on_it_with_a_warning():
    from models import PARAMETERS
    from priors import DomainWarning

    spec = "metalog 5%: 1.5, 50%: 2.0, 95%: 3.5"  # skewed: the unbounded metalog's left tail is below 0
    raw = load_prior_set("default", overrides=[f"chip_growth={spec}"])
    assert raw["chip_growth"].family.value_range()[0] < 0
    with pytest.raises(PriorError, match=r"chip_growth.*must be positive.*', lower 0'"):
        raw.validate(PARAMETERS)
    with pytest.warns(DomainWarning, match=r"chip_growth.*fitted on the domain.*lower 0"):
        fitted = raw.fitted_to(PARAMETERS)
    family = fitted["chip_growth"].family
    assert family.lower == 0 and family.upper is None
    np.testing.assert_allclose(family.ppf([0.05, 0.5, 0.95]), [1.5, 2.0, 3.5], rtol=1e-9)
    assert family.value_range()[0] > 0
    fitted.validate(PARAMETERS)
    assert fitted["mfu"] == raw["mfu"]  # the others are untouched
    same = load_prior_set("default")
    assert same.fitted_to(PARAMETERS) is same


def test_the_special_functions_the_specs_use_are_scipy_stats_bit_for_bit():
    """Reading a prior file imports no scipy.stats (0.4 s): the specs call scipy.special's
    ndtri and betainc, which must be stats.norm.ppf and stats.beta's cdf exactly, so that
    every fitted prior (and hence every world) is as before."""
    from scipy import special, stats

    rng = np.random.default_rng(7)
    q = rng.uniform(1e-9, 1 - 1e-9, 10_000)
    np.testing.assert_array_equal(special.ndtri(q), stats.norm.ppf(q))
    a, b, x = rng.uniform(0.05, 500, 10_000), rng.uniform(0.05, 500, 10_000), rng.uniform(0, 1, 10_000)
    np.testing.assert_array_equal(special.betainc(a, b, x), stats.beta(a, b).cdf(x))
