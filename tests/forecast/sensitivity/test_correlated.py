"""Sensitivity with correlated priors: group Sobol' indices, conditional tornado pins, swaps.

Hand values, in the neutral worlds of test_analysis.py (log10 compute a plain sum of the logs
of the uncertain priors): chips_base ~ lognormal 5e4 to 2e5, duration_days_base ~ lognormal
40 to 80 and chip_flops_base ~ lognormal 5e14 to 2e15 have log-sigmas s1 = ln 4 / (2 z95),
s2 = ln 2 / (2 z95), s3 = ln 4 / (2 z95). With chips and duration rank-correlated at 0.5,
their scores have Pearson rho = 2 sin(pi / 12) = 0.5176, and then

- the group {chips_base, duration_days_base} carries (s1^2 + s2^2 + 2 rho s1 s2) / V of the
  variance, chip_flops_base s3^2 / V, V the sum of both; first order = total order;
- pinning chips_base at its 5th and 95th percentile moves its score by 2 z95 and, conditionally,
  duration's by rho 2 z95 in every world (Matheron's rule reuses the random numbers), so the
  median moves by exactly log10(4) + rho log10(2) between the pins; pinning duration moves it
  by log10(2) + rho log10(4); the independent chip_flops_base by log10(4).

Conditional moments: after pinning prior i at score c, a partner j's score has mean R_ji c and
variance 1 - R_ji^2 (checked within Monte Carlo error on a few thousand worlds).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import ndtri

from forecast.sensitivity.analysis import (
    ATTRIBUTION_GROUPS,
    ATTRIBUTION_PRIORS,
    sensitivity,
    sobol_analysis,
)
from forecast.sensitivity.local import (
    PINNING_CONDITIONAL,
    PINNING_INDEPENDENT,
    conditional_pin,
    parse_swap,
    pin_scores,
    prior_swaps,
    swap_scores,
    tornado,
)
from forecast.sensitivity.worlds import (
    correlated_scores,
    group_label,
    group_members,
    independent_scores,
    latent_scores,
    scores_by_name,
)
from forecast.settings import RunSettings
from outputs.write.sensitivity import sensitivity_markdown
from priors import load_prior_set
from priors.correlations import CorrelationWarning, pearson_from_rank
from tests.forecast.sensitivity.neutral import neutral_priors

YEARS = tuple(range(2025, 2031))
TOL = 0.02
Z95 = 1.6448536269514722
RHO = float(pearson_from_rank(0.5))
#: The pairs of the task's example: chip_growth joined to power and capital growth.
PAIRS = ["chip_growth,power_limit_growth=0.6", "chip_growth,capex_limit_growth=0.6"]
GROUP = "chip_growth + power_limit_growth + capex_limit_growth"


def correlated_neutral():
    return neutral_priors(
        chips_base="lognormal 5e4 to 2e5", duration_days_base="lognormal 40 to 80",
        chip_flops_base="lognormal 5e14 to 2e15", correlate=["chips_base,duration_days_base=0.5"],
    )


@pytest.fixture(scope="module")
def example_priors():
    """Model v2's default priors (one lab) made independent, then the task's two pairs: one
    block of three."""
    independent = replace(load_prior_set("v2"), correlations=())
    return independent.with_correlations(PAIRS)


@pytest.fixture(scope="module")
def example_result(example_priors):
    return sensitivity(RunSettings(years=YEARS, seed=2, as_of=None), prior_set=example_priors, target_year=2028,
                       threshold=1e28, n_base=512, n_bootstrap=100, with_tornado=False)


# --------------------------------------------------------------------------- group Sobol'


def test_group_indices_match_hand_values():
    priors = correlated_neutral()
    headline, by_year = sobol_analysis(priors, years=YEARS, target_year=2028, threshold=1e26,
                                       n_base=2048, seed=3, n_bootstrap=200)
    s1, s2, s3 = (math.log(r) / (2 * Z95) for r in (4.0, 2.0, 4.0))
    v_group = s1**2 + s2**2 + 2 * RHO * s1 * s2
    share = {"chips_base + duration_days_base": v_group / (v_group + s3**2),
             "chip_flops_base": s3**2 / (v_group + s3**2)}
    assert sorted(headline["prior"].values) == sorted(share)
    compute = headline.sel(output="log10_compute")
    for label, expected in share.items():
        for index in ("S1", "ST"):
            assert float(compute[index].sel(prior=label)) == pytest.approx(expected, abs=TOL), (label, index)
        np.testing.assert_allclose(by_year["ST"].sel(prior=label), expected, atol=TOL)
    # variance of log10 C: the group's (with its covariance) plus the independent prior's
    assert float(compute["variance"]) == pytest.approx((v_group + s3**2) / math.log(10) ** 2, rel=0.05)
    # two inputs, so two radial matrices: (2 + 2) * n_base worlds
    assert headline.attrs["n_evaluations"] == 4 * 2048
    assert headline.attrs["attribution"] == ATTRIBUTION_GROUPS
    assert headline.attrs["correlated_groups"] == "chips_base + duration_days_base"
    assert headline.attrs["n_uncertain_priors"] == 3


def test_group_labels_round_trip():
    assert group_label(("a", "b_c")) == "a + b_c"
    assert group_members("a + b_c") == ("a", "b_c")
    assert group_members("alone") == ("alone",)


def test_analysis_reports_groups(example_result, example_priors):
    sobol = example_result.sobol
    labels = list(sobol["prior"].values)
    assert GROUP in labels
    assert example_result.groups[GROUP] == ("chip_growth", "power_limit_growth", "capex_limit_growth")
    assert example_result.grouped
    # every uncertain prior is covered once
    covered = [n for members in example_result.groups.values() for n in members]
    assert sorted(covered) == sorted(example_priors.latent_names)
    assert sobol.attrs["n_evaluations"] == (example_priors.n_latent - 2 + 2) * 512
    assert sobol.attrs["correlated_groups"] == GROUP
    compute = sobol.sel(output="log10_compute")
    # first order below total order for the group (up to estimation error), and the total
    # orders of all groups cover the variance (they double count interactions, never miss any)
    group = compute.sel(prior=GROUP)
    assert float(group["S1"]) <= float(group["ST_ci"].sel(bound="upper"))
    assert float(group["ST"]) > 0.05
    assert float(compute["ST"].sum()) >= 1.0 - 0.05
    assert float(compute["sum_S1"]) <= 1.0 + 0.05
    np.testing.assert_array_less(compute["S1"].values, compute["ST"].values + 0.05)
    table = example_result.sobol_table()
    assert table.loc[GROUP, "spec"] == "; ".join(example_priors[n].spec for n in group_members(GROUP))


def test_report_says_correlated_priors_are_grouped(example_result):
    text = sensitivity_markdown(example_result)
    assert "Correlated priors are attributed as a group" in text
    assert f"- {GROUP}: chip_growth ~ power_limit_growth +0.6, chip_growth ~ capex_limit_growth +0.6" in text
    assert "independent priors" in text and "group(s) of correlated priors" in text


def test_sensitivity_takes_correlate_pairs(example_priors):
    independent = replace(example_priors, correlations=())
    settings = RunSettings(correlate=PAIRS, years=YEARS, as_of=None)
    priors = sensitivity(settings, prior_set=settings.prior_set(independent), target_year=2028, n_base=2,
                         n_bootstrap=2, with_tornado=False).priors
    assert priors.correlation_blocks() == example_priors.correlation_blocks()


def test_without_correlations_the_analysis_is_per_prior():
    priors = neutral_priors(chips_base="lognormal 5e4 to 2e5", duration_days_base="lognormal 40 to 80")
    headline, _ = sobol_analysis(priors, years=YEARS, target_year=2028, threshold=1e26, n_base=64,
                                 seed=3, n_bootstrap=10)
    assert list(headline["prior"].values) == ["chips_base", "duration_days_base"]
    assert headline.attrs["attribution"] == ATTRIBUTION_PRIORS
    assert headline.attrs["correlated_groups"] == ""
    assert "grouped" not in headline.attrs


# --------------------------------------------------------------------------- tornado


def test_conditional_pins_shift_by_hand():
    priors = correlated_neutral()
    ds = tornado(priors, years=YEARS, target_year=2028, threshold=1e26, samples=2000, seed=5)
    width = ds["median_width"]
    assert float(width.sel(prior="chips_base")) == pytest.approx(math.log10(4) + RHO * math.log10(2), abs=1e-9)
    assert float(width.sel(prior="duration_days_base")) == pytest.approx(
        math.log10(2) + RHO * math.log10(4), abs=1e-9)
    assert float(width.sel(prior="chip_flops_base")) == pytest.approx(math.log10(4), abs=1e-9)
    # the pinned value is the prior's own percentile, whatever its partners
    np.testing.assert_allclose(ds["value"].sel(prior="chips_base"), [5e4, 2e5], rtol=1e-9)
    np.testing.assert_allclose(ds["value"].sel(prior="duration_days_base"), [40, 80], rtol=1e-9)
    assert ds["moves_with"].sel(prior="chips_base") == "duration_days_base"
    assert ds["moves_with"].sel(prior="chip_flops_base") == ""
    assert ds.attrs["pinning"] == PINNING_CONDITIONAL


def test_conditional_pin_has_the_conditional_moments(example_priors, float64):
    """Partners of a pinned prior: mean R_ji c, variance 1 - R_ji^2, and jointly the
    conditional covariance R_bb - R_bi R_ib; the pinned prior exactly at its percentile."""
    n, q = 4000, 0.95
    c = float(ndtri(q))
    names = example_priors.latent_names
    rng = np.random.default_rng(12)
    e = rng.standard_normal((n, len(names)))
    pinned = pin_scores(example_priors, e, "chip_growth", c)
    z = np.asarray(example_priors.transform().correlate(pinned))  # what the model makes of it
    corr = example_priors.score_correlation()
    i = names.index("chip_growth")
    partners = [names.index(p) for p in ("power_limit_growth", "capex_limit_growth")]
    np.testing.assert_allclose(z[:, i], c, rtol=0, atol=1e-12)
    for j in partners:
        r = corr[j, i]
        assert r == pytest.approx(pearson_from_rank(0.6))
        mean, var = z[:, j].mean(), z[:, j].var()
        assert abs(mean - r * c) < 4 * math.sqrt((1 - r**2) / n), (names[j], mean, r * c)
        assert abs(var - (1 - r**2)) < 4 * math.sqrt(2 / n) * (1 - r**2), (names[j], var, 1 - r**2)
    expected = corr[np.ix_(partners, partners)] - np.outer(corr[partners, i], corr[i, partners])
    np.testing.assert_allclose(np.cov(z[:, partners].T), expected, atol=0.05)
    # every prior outside the block keeps its score bit for bit
    outside = [k for k in range(len(names)) if k not in (i, *partners)]
    np.testing.assert_array_equal(pinned[:, outside], e[:, outside])
    # and the pinned prior's value is its quantile function at q, in every world
    values = example_priors.values_from_normal(pinned)
    ppf = float(example_priors["chip_growth"].family.ppf(q))
    np.testing.assert_allclose(np.asarray(values["chip_growth"]), ppf, rtol=1e-12)


def test_conditional_pin_is_matherons_rule():
    corr = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.0], [0.2, 0.0, 1.0]])
    z = np.array([[0.3, -1.0, 2.0], [-2.0, 0.5, 0.0]])
    pinned = conditional_pin(z, corr, 0, 1.5)
    np.testing.assert_array_equal(pinned[:, 0], 1.5)
    np.testing.assert_allclose(pinned[:, 1:], z[:, 1:] + (1.5 - z[:, [0]]) * corr[0, 1:])


def test_correlated_and_independent_scores_invert_each_other(example_priors, float64):
    e = np.random.default_rng(1).standard_normal((50, example_priors.n_latent))
    z = correlated_scores(example_priors, e)
    np.testing.assert_allclose(z, np.asarray(example_priors.transform().correlate(e)), atol=1e-12)
    np.testing.assert_allclose(independent_scores(example_priors, z), e, atol=1e-12)
    alone = [k for k, n in enumerate(example_priors.latent_names) if n not in group_members(GROUP)]
    np.testing.assert_array_equal(z[:, alone], e[:, alone])


def test_pin_of_an_independent_prior_sets_one_column(example_priors):
    e = np.random.default_rng(2).standard_normal((20, example_priors.n_latent))
    pinned = pin_scores(example_priors, e, "mfu", -1.0)
    i = example_priors.latent_names.index("mfu")
    expected = e.copy()
    expected[:, i] = -1.0
    np.testing.assert_array_equal(pinned, expected)


def test_tornado_without_correlations_pins_one_column():
    priors = neutral_priors(chips_base="lognormal 5e4 to 2e5", duration_days_base="lognormal 40 to 80")
    ds = tornado(priors, years=YEARS, target_year=2028, threshold=1e26, samples=500, seed=5)
    assert ds.attrs["pinning"] == PINNING_INDEPENDENT
    assert list(ds["moves_with"].values) == ["", ""]


# --------------------------------------------------------------------------- swaps


def test_swap_pinning_a_correlated_prior_keeps_its_partners(example_priors):
    with pytest.warns(CorrelationWarning, match="capex_limit_growth is pinned"):
        swapped = parse_swap(example_priors, "capex_limit_growth=2")
    assert [b for b in swapped.correlation_blocks() if len(b) > 1] == [("chip_growth", "power_limit_growth")]
    scores = scores_by_name(example_priors, 300, 4)
    base = example_priors.values_from_normal(latent_scores(scores, example_priors.names, example_priors))
    after = swapped.values_from_normal(swap_scores(example_priors, swapped, scores))
    for name in example_priors.latent_names:
        if name != "capex_limit_growth":  # the others keep their value in every world
            np.testing.assert_allclose(np.asarray(after[name]), np.asarray(base[name]), rtol=1e-12, err_msg=name)
    np.testing.assert_array_equal(np.asarray(after["capex_limit_growth"]), 2.0)


def test_swap_breaking_a_block_apart_keeps_the_values(example_priors):
    """Pinning the block's hub leaves two independent priors: each keeps its correlated score."""
    with pytest.warns(CorrelationWarning):
        swapped = parse_swap(example_priors, "chip_growth=2.5")
    assert not swapped.correlations
    scores = scores_by_name(example_priors, 200, 8)
    base = example_priors.values_from_normal(latent_scores(scores, example_priors.names, example_priors))
    after = swapped.values_from_normal(swap_scores(example_priors, swapped, scores))
    for name in ("power_limit_growth", "capex_limit_growth", "mfu"):
        np.testing.assert_allclose(np.asarray(after[name]), np.asarray(base[name]), rtol=1e-12, err_msg=name)


def test_swap_of_a_spec_inside_a_block_keeps_the_scores(example_priors):
    swapped = parse_swap(example_priors, "power_limit_growth=lognormal 1.5 to 3")
    scores = scores_by_name(example_priors, 100, 3)
    np.testing.assert_array_equal(swap_scores(example_priors, swapped, scores),
                                  latent_scores(scores, example_priors.names, example_priors))


def test_swap_to_other_correlations_applies_its_own_copula(example_priors):
    other = example_priors.with_correlations(["chip_growth,power_limit_growth=0.1"])
    scores = scores_by_name(example_priors, 100, 3)
    np.testing.assert_array_equal(swap_scores(example_priors, other, scores),
                                  latent_scores(scores, example_priors.names, other))


def test_prior_swaps_run_with_correlations(example_priors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorrelationWarning)
        alternatives = {"capex_limit_growth=2": parse_swap(example_priors, "capex_limit_growth=2")}
    ds = prior_swaps(example_priors, alternatives, years=YEARS, threshold=1e28, samples=500, seed=1)
    assert ds["delta_median"].dims == ("swap", "year")
    assert np.isfinite(ds["delta_median"]).all()
    assert "capex_limit_growth: lognormal 1.5 to 3.5 -> 2" in str(ds["changed"].values)
