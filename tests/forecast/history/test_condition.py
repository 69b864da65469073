"""Conditioning on the record: the likelihood by hand, the resampled posterior against a
conjugate normal, the model check and the Pareto k warning."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import forecast
from forecast.history.condition import (
    ConditioningWarning,
    condition,
    log_likelihood,
    record_percentiles,
)
from outputs.cli import main


def worlds(values, years=(2025,)) -> xr.DataArray:
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return xr.DataArray(values, dims=("sample", "year"), coords={"year": list(years)})


def observed(record: float, sd: float, year: int = 2025) -> pd.DataFrame:
    return pd.DataFrame({"log10_compute": [record], "model": ["X"], "sd": [sd]},
                        index=pd.Index([year], name="year"))


def runs(*rows) -> pd.DataFrame:
    """A record of (model, date, log10 FLOP, confidence) rows, as load_runs returns it."""
    frame = pd.DataFrame(rows, columns=["model", "date", "log10_compute", "confidence"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["training_compute_flop"] = 10.0 ** frame["log10_compute"]
    return frame


def test_likelihood_by_hand():
    sd, record = 0.25, 26.5
    at, above, below = 26.5, 27.5, 25.5
    ll = log_likelihood(worlds([at, above, below]), observed(record, sd)).values

    def by_hand(m):
        public = 0.8 * stats.norm.pdf(record, m, sd)
        hidden = 0.2 * (stats.norm.cdf((m - record) / sd) - stats.norm.cdf((m - 1.0 - record) / sd)) / 1.0
        return math.log(public + hidden)

    np.testing.assert_allclose(ll, [by_hand(at), by_hand(above), by_hand(below)], rtol=1e-12)
    # a frontier an order above the record could be hidden; an order below cannot
    assert ll[1] > ll[2] + 5  # by hand: log 0.1 = -2.3 against log(4.3e-4) = -7.7


def test_the_record_is_a_running_maximum():
    # a world whose 2026 run is smaller than its 2025 run still has its 2025 frontier in 2026
    two_years = worlds([[26.5, 26.0]], years=(2025, 2026))
    obs = pd.concat([observed(26.5, 0.1, 2025), observed(26.5, 0.1, 2026)])
    same = log_likelihood(worlds([[26.5, 26.5]], years=(2025, 2026)), obs)
    np.testing.assert_allclose(log_likelihood(two_years, obs).values, same.values)


def test_resampled_worlds_match_the_conjugate_normal_posterior():
    # prior m ~ N(26, 1), record r = 26.5 measured with sd 0.25 (public = 1): the posterior
    # is normal with precision 1 + 16 = 17, mean (26 + 16 * 26.5) / 17
    n = 200_000
    prior = stats.norm(26.0, 1.0).rvs(n, random_state=np.random.default_rng(0))
    ll = log_likelihood(worlds(prior), observed(26.5, 0.25), public=1.0).values
    from arviz import psislw
    from scipy.special import logsumexp

    smoothed, k = psislw(ll - logsumexp(ll))
    weights = np.exp(smoothed - logsumexp(smoothed))
    keep = np.searchsorted(np.cumsum(weights), (0.5 + np.arange(n)) / n)
    post = prior[np.minimum(keep, n - 1)]
    assert k < 0.7
    assert post.mean() == pytest.approx((26 + 16 * 26.5) / 17, abs=0.005)
    assert post.std() == pytest.approx(1 / math.sqrt(17), rel=0.02)


def test_nothing_observed_keeps_every_world():
    log10 = worlds(np.linspace(25, 28, 50), years=(2025,))
    keep, info = condition(log10, runs(("A", "2023-06-01", 25.3, "estimated")), as_of=2023, seed=1)
    assert info.observed.empty
    np.testing.assert_array_equal(keep, np.arange(50))  # equal weights: each world once


def test_model_check_percentile_by_hand():
    log10 = worlds(np.arange(100) / 10 + 20)  # 20.0, 20.1, ..., 29.9
    obs = observed(25.05, 0.1)
    # 51 of the 100 worlds (20.0 .. 25.0) lie below 25.05
    assert record_percentiles(log10, obs).loc[2025] == pytest.approx(51.0)


def test_uneven_weights_are_flagged():
    # a record three orders above almost every world, measured tightly: a few worlds carry it
    log10 = worlds(stats.norm(25, 0.5).rvs(2000, random_state=np.random.default_rng(3)))
    record = runs(("Huge", "2025-03-01", 27.2, "reported"))
    _, info = condition(log10, record, as_of=2025, seed=0)
    assert not info.reliable and info.pareto_k > 0.7
    assert info.surprises == [2025]  # the record is beyond the 99th percentile


def test_run_as_of_conditions_and_records_what_it_did(tmp_path):
    plain = forecast.run(samples=2000, seed=5, years="2025:2027")
    conditioned = forecast.run(samples=2000, seed=5, years="2025:2027", as_of=2025)
    assert conditioned.metadata["as_of"] == 2025 and conditioned.metadata["ess"] <= 2000
    # the resampled worlds are worlds of the prior forecast, drawn again
    prior_worlds = set(np.round(plain.log10_compute.sel(year=2026).values, 9))
    assert set(np.round(conditioned.log10_compute.sel(year=2026).values, 9)) <= prior_worlds
    conditioned.to_netcdf(tmp_path / "c.nc")
    back = forecast.load(tmp_path / "c.nc")
    assert back.metadata["conditioned_on"] == "the record to 2025"


def test_cli_prints_the_model_check_and_refuses_a_bad_as_of(tmp_path, capsys):
    assert main(["run", "--samples", "2000", "--years", "2025:2026", "--as-of", "2025",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "percentile of the prior forecast" in out and "Pareto k" in out
    assert main(["run", "--samples", "100", "--as-of", "soon", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "forecast run: error: --as-of: expected a year, 'record' or 'none', got 'soon'"
    assert not (tmp_path / "s").exists()


def test_unreliable_conditioning_warns():
    # a record two orders above the median 2025 run, labelled Confident: few worlds carry it
    record = runs(("Huge", "2025-03-01", 28.5, "reported"))
    record["epoch_confidence"] = "Confident"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = forecast.run(samples=500, seed=1, years="2025:2026", as_of=2025, record=record)
    assert result.metadata["pareto_k"] > 0.7
    from outputs.text import conditioning_sentences

    assert "the model is surprised" in conditioning_sentences(result)[0]  # 1e28.5 vs ~3e26
    assert any(issubclass(w.category, ConditioningWarning) and "UNRELIABLE" in str(w.message) for w in caught)


def _weighted_reach(prior: forecast.ForecastResult, runs_frame: pd.DataFrame, threshold: float,
                    year: int, as_of: int) -> float:
    """P(>= threshold by year) given the record, by hand: each world of the prior forecast
    weighted by the likelihood written out with scipy (holder mixture x other runs' bounds)."""
    from forecast.history.record import measurement_sds

    log10 = prior.log10_compute.transpose("sample", "year")
    frontier = np.maximum.accumulate(log10.values, axis=1)
    years = list(log10["year"].values)
    sds = dict(zip(runs_frame["model"], measurement_sds(runs_frame)))
    runs_year = pd.to_datetime(runs_frame["date"]).dt.year
    loglik = np.zeros(frontier.shape[0])
    for y in [y for y in years if y <= as_of]:
        m = frontier[:, years.index(y)]
        known = runs_frame[runs_year <= y]
        holder = known.loc[known["log10_compute"].idxmax()]
        r, sd = holder["log10_compute"], sds[holder["model"]]
        public = 0.8 * stats.norm.pdf(r, m, sd)
        hidden = 0.2 * (stats.norm.cdf((m - r) / sd) - stats.norm.cdf((m - 1 - r) / sd))
        loglik += np.log(public + hidden)
        for _, run in runs_frame[(runs_year == y) & (runs_frame["model"] != holder["model"])].iterrows():
            loglik += stats.norm.logcdf((m - run["log10_compute"]) / sds[run["model"]])
    w = np.exp(loglik - loglik.max())
    hit = frontier[:, years.index(year)] >= math.log10(threshold)
    return float((w * hit).sum() / w.sum())


def test_the_shipped_record_makes_a_1e26_run_by_2025_near_certain():
    from forecast.history.record import load_record

    prior = forecast.run(samples=20_000, seed=2024, years="2025:2026")
    record = load_record()
    by_hand = _weighted_reach(prior, record, 1e26, 2025, 2025)
    conditioned = forecast.run(samples=20_000, seed=2024, years="2025:2026", as_of=2025)
    p26 = float(conditioned.timeline.probability.sel(threshold=1e26, year=2025))
    # three 2025 runs estimated at 3.5e26-5e26 (Likely, Likely, Speculative)
    assert by_hand > 0.99 and p26 > 0.99
    assert p26 == pytest.approx(by_hand, abs=0.003)
    # 1e27 by 2025: whatever the same arithmetic gives, within resampling error
    p27 = float(conditioned.timeline.probability.sel(threshold=1e27, year=2025))
    expected = _weighted_reach(prior, record, 1e27, 2025, 2025)
    ess = conditioned.metadata["ess"]
    assert p27 == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / ess))


def test_a_user_record_of_a_confident_3e27_run_in_2026_through_the_cli(tmp_path, capsys):
    user = tmp_path / "mine.csv"
    user.write_text("model,organization,date,training_compute_flop,confidence,source,epoch_confidence\n"
                    'Big 2026 run,Example Lab,2026-06-01,3e27,estimated,"my estimate",Confident\n')
    out = tmp_path / "run"
    assert main(["run", "--record", str(user), "--samples", "20000", "--years", "2025:2027",
                 "--out", str(out)]) == 0
    assert "Big 2026 run" in capsys.readouterr().out
    timeline = pd.read_csv(out / "timeline.csv")
    p = float(timeline.loc[(timeline["year"] == 2026) & (timeline["threshold"].astype(float) == 1e27), "probability"].iloc[0])
    from forecast.history.record import load_record

    prior = forecast.run(samples=20_000, seed=2024, years="2025:2027")
    expected = _weighted_reach(prior, load_record(user), 1e27, 2026, 2026)
    # Epoch's Confident is a 90% interval of a factor 3 (sd 0.29 dex): a 3e27 estimate leaves
    # the true run below 1e27 with about 5% probability before the prior is taken into account
    assert expected > 0.95 and p == pytest.approx(expected, abs=0.01)


def test_conditioning_on_a_draw_of_the_model_moves_toward_it_with_a_good_k():
    prior = forecast.run(samples=20_000, seed=9, years="2025:2028")
    truth = float(prior.log10_compute.sel(year=2026).quantile(0.8))  # a plausible world's 2026
    record = runs(("Drawn", "2026-05-01", truth, "reported"))
    record["epoch_confidence"] = "Confident"
    keep, info = condition(prior.log10_compute, record, as_of=2026, seed=0)
    before = float(prior.log10_compute.sel(year=2026).median())
    after = float(prior.log10_compute.isel(sample=keep).sel(year=2026).median())
    assert info.reliable and before < after < truth + 0.3


def test_calibration_observes_years_after_the_base_year_through_the_forward_model(float64):
    # before the base year the backwards supply model; after it the full model with its caps
    from models import PARAMETERS, world_compute
    from models.calibration import log10_observed_compute, log10_supply_compute
    from priors import load_prior_set

    prior_set = load_prior_set().validate(PARAMETERS)
    params = prior_set.values_from_normal(np.zeros((1, prior_set.n_latent)))
    years = np.array([2023.0, 2024.0, 2026.0])
    got = np.asarray(log10_observed_compute(params, years))[0]
    past = np.asarray(log10_supply_compute(params, years))[0]
    ahead = np.asarray(world_compute(params, years)["log10_training_compute"])[0]
    np.testing.assert_array_equal(got[:2], past[:2])
    assert got[2] == ahead[2]
