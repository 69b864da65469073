"""The trend model and its NUTS fit."""

import jax
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers

from forecast.evaluation.nuts import NutsDiagnostics
from forecast.record.runs import decimal_year
from forecast.evaluation.trend_fit import TrendFitWarning, fit_trend
from models.trend import (
    HingePriors,
    TrendPriors,
    hinge_trend,
    hinge_trend_model,
    linear_trend,
    trend_model,
)

#: The model arithmetic is called directly here: in float64, as the engine calls it.
pytestmark = pytest.mark.usefixtures("float64")

FEW = {"chains": 2, "draws": 300, "warmup": 300}

# synthetic frontier with known truth: log10 C = 23.0 + 0.55 (t - 2020) + N(0, 0.25)
TRUE_INTERCEPT, TRUE_SLOPE, TRUE_SIGMA = 23.0, 0.55, 0.25


def _synthetic_runs(n=40, seed=1):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2010-01-15", "2025-06-15", periods=n).normalize()
    t = decimal_year(dates)
    y = TRUE_INTERCEPT + TRUE_SLOPE * (t - 2020) + rng.normal(0, TRUE_SIGMA, n)
    return pd.DataFrame(
        {"model": [f"s{i}" for i in range(n)], "date": dates, "training_compute_flop": 10.0**y}
    )


@pytest.fixture(scope="module")
def synthetic_fit():
    return fit_trend(_synthetic_runs(), frontier_only=False, seed=3, check=False, **FEW)


# --- pure arithmetic --------------------------------------------------------------------------


def test_linear_trend_by_hand():
    assert float(linear_trend(2023.0, 23.5, 0.6)) == pytest.approx(25.3)


def test_hinge_trend_tends_to_a_corner():
    # slope 0.5 before 2020, 0.5 - 0.2 = 0.3 after; sharp corner (width 1e-3 yr)
    args = dict(intercept=23.0, slope=0.5, slope_change=-0.2, hinge_year=2020.0, smoothness=1e-3)
    assert float(hinge_trend(2018.0, **args)) == pytest.approx(22.0, abs=1e-6)
    assert float(hinge_trend(2022.0, **args)) == pytest.approx(23.0 + 1.0 - 0.4, abs=1e-6)


# --- the NumPyro models -----------------------------------------------------------------------


@pytest.mark.parametrize("model", [trend_model, hinge_trend_model], ids=["straight", "hinge"])
def test_model_samples_observation_when_obs_is_none(model):
    t = np.array([2020.0, 2021.0, 2022.0])
    trace = handlers.trace(handlers.seed(model, 0)).get_trace(t)
    assert trace["log10_compute"]["value"].shape == (3,)
    assert not trace["log10_compute"]["is_observed"]
    assert trace["mu"]["value"].shape == (3,)


def test_model_conditions_on_obs():
    t = np.array([2020.0, 2021.0])
    obs = np.array([23.0, 23.6])
    trace = handlers.trace(handlers.seed(trend_model, 0)).get_trace(t, obs)
    assert trace["log10_compute"]["is_observed"]
    np.testing.assert_allclose(trace["log10_compute"]["value"], obs)


def test_model_rejects_mismatched_obs():
    with pytest.raises(ValueError, match="one value per year"):
        handlers.seed(trend_model, 0)(np.array([2020.0, 2021.0]), np.array([23.0]))


def test_model_rejects_2d_years():
    with pytest.raises(ValueError, match="1-D"):
        handlers.seed(trend_model, 0)(np.ones((2, 2)))


def test_priors_validate():
    with pytest.raises(ValueError, match="slope_scale"):
        TrendPriors(slope_scale=0.0)
    with pytest.raises(ValueError, match="hinge_smoothness"):
        HingePriors(hinge_smoothness=-1.0)
    with pytest.raises(TypeError):
        TrendPriors(23.5)  # keyword-only


def test_prior_slope_centred_on_4x_per_year():
    # b ~ Normal(0.6, 0.3): 10**0.6 = 3.98x per year
    samples = jax.vmap(
        lambda k: handlers.trace(handlers.seed(trend_model, k)).get_trace(np.array([2020.0]))[
            "slope"
        ]["value"]
    )(jax.random.split(jax.random.PRNGKey(0), 4000))
    assert float(np.mean(samples)) == pytest.approx(0.6, abs=0.03)
    assert float(np.std(samples)) == pytest.approx(0.3, abs=0.03)


# --- fitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, truth", [("intercept", TRUE_INTERCEPT), ("slope", TRUE_SLOPE), ("sigma", TRUE_SIGMA)]
)
def test_fit_recovers_known_values_within_90pct(synthetic_fit, name, truth):
    draws = synthetic_fit.idata.posterior[name].to_numpy().ravel()
    lo, hi = np.quantile(draws, [0.05, 0.95])
    assert lo <= truth <= hi, (name, lo, hi)


def test_fit_diagnostics_and_dims(synthetic_fit):
    d = synthetic_fit.diagnostics
    assert d.max_rhat < 1.05 and d.divergences == 0
    post = synthetic_fit.idata.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 300
    assert post["mu"].dims == ("chain", "draw", "run")
    assert "log_likelihood" in synthetic_fit.idata.groups()


def test_predict_layout_matches_bottom_up(synthetic_fit):
    pred = synthetic_fit.predict([2026, 2027, 2028], seed=0)
    assert pred["log10_training_compute"].dims == ("sample", "year")
    assert list(pred["year"].values) == [2026, 2027, 2028]
    assert pred.sizes["sample"] == 600


def test_predict_end_of_year_is_half_a_year_of_slope_above_mid_year(synthetic_fit):
    end = synthetic_fit.predict([2026], seed=0, year_fraction=1.0)["log10_trend"]
    mid = synthetic_fit.predict([2026], seed=0, year_fraction=0.5)["log10_trend"]
    slope = synthetic_fit.idata.posterior["slope"].stack(s=("chain", "draw")).to_numpy()
    np.testing.assert_allclose((end - mid).to_numpy()[:, 0], 0.5 * slope, rtol=1e-6)


def test_predict_median_follows_the_truth(synthetic_fit):
    pred = synthetic_fit.predict([2030], seed=0)
    median = float(pred["log10_training_compute"].median())
    expected = TRUE_INTERCEPT + TRUE_SLOPE * (2031.0 - 2020)  # end of 2030
    assert median == pytest.approx(expected, abs=0.4)


def test_predict_rejects_fractional_years(synthetic_fit):
    with pytest.raises(ValueError, match="whole calendar years"):
        synthetic_fit.predict([2026.5], seed=0)


def test_fit_warns_loudly_when_unconverged_and_respects_cutoff():
    runs = _synthetic_runs()
    with pytest.warns(TrendFitWarning, match="UNRELIABLE.*ESS"):
        fit = fit_trend(runs, cutoff=2018, frontier_only=False, chains=2, draws=20, warmup=10)
    assert fit.data["date"].max() < pd.Timestamp("2018-01-01")
    assert len(fit.data) == int((runs["date"] < "2018-01-01").sum())


def test_diagnostics_problems_by_hand():
    d = NutsDiagnostics(
        max_rhat=1.02, min_ess_bulk=500.0, min_ess_tail=300.0, divergences=2,
        summary=pd.DataFrame(),
    )
    found = d.problems()
    assert len(found) == 3
    assert any("r_hat" in p for p in found) and any("tail ESS" in p for p in found)
    assert any("2 divergent" in p for p in found)
    assert NutsDiagnostics(1.0, 401.0, 401.0, 0, pd.DataFrame()).problems() == []
    # an ESS just under the threshold never prints as the threshold ("400 < 400")
    assert NutsDiagnostics(1.0, 401.0, 399.6, 0, pd.DataFrame()).problems() == ["min tail ESS 399 < 400"]


def test_fit_rejects_bad_options():
    runs = _synthetic_runs(n=5)
    with pytest.raises(ValueError, match="chain_method"):
        fit_trend(runs, chain_method="threads")
    with pytest.raises(ValueError, match="draws"):
        fit_trend(runs, draws=0)
    with pytest.raises(ValueError, match="nothing to fit"):
        fit_trend(runs, cutoff=2005)


def test_anchored_priors_carry_a_point_to_2020():
    from models.trend import HingePriors, TrendPriors

    # 1e20 FLOP at 2015.0, slope prior 0.5 +- 0.2 OOM/yr: 20 + 0.5 * 5 = 22.5 at 2020,
    # intercept sd sqrt(1.5^2 + (0.2 * 5)^2) = sqrt(3.25)
    p = TrendPriors.anchored(20.0, 2015.0, slope_loc=0.5, slope_scale=0.2)
    assert (p.intercept_loc, p.slope_loc, p.slope_scale) == pytest.approx((22.5, 0.5, 0.2))
    assert p.intercept_scale == pytest.approx(3.25 ** 0.5)
    assert isinstance(HingePriors.anchored(20.0, 2015.0, slope_loc=0.5, slope_scale=0.2), HingePriors)
