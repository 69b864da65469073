"""Calibration of the bottom-up model on history: the backward model, the NUTS fit, the CLI."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast.history.calibrate import CalibrationWarning, calibrate
from models.calibration import log10_supply_compute
from outputs.cli import main as cli
from priors import InputError, load_prior_set

#: The model arithmetic is called directly here: in float64, as the engine calls it.
pytestmark = pytest.mark.usefixtures("float64")

FEW = {"chains": 2, "draws": 400, "warmup": 400}

TRUE_CHIP_GROWTH = 3.2  # the prior (lognormal 1.5 to 3.5) has its median at sqrt(1.5 * 3.5) = 2.29
TRUE_CHIPS_BASE = 1e5


def _point_world(**changes) -> dict:
    """One world: a 100K-H100 system of 2024 (MODEL.md's reference case), lag 0."""
    world = {
        "lag_years": 0.0, "chips_base": 1e5, "chip_growth": 1.0, "chip_flops_base": 1e15,
        "chip_flops_growth": 1.0, "low_precision_year": 2100.0, "low_precision_gain": 1.5,
        "mfu": 0.4, "duration_days_base": 120.0, "duration_growth": 1.0,
        "watts_per_chip_base": 1500.0, "watts_per_chip_growth": 1.0, "power_limit_gw_base": 1e-6,
        "power_limit_growth": 1.0, "capex_per_chip_base": 5e4, "capex_per_chip_growth": 1.0,
        "capex_limit_usd_base": 1.0, "capex_limit_growth": 1.0, "text_tokens_base": 1.0,
        "text_tokens_growth": 1.0, "max_epochs": 1.0, "repetition_decay": 15.0,
        "tokens_per_param_ref": 40.0, "tokens_per_param_slope": 0.0, "tokens_per_param_scale": 1.0,
    }
    world.update(changes)
    return world


def test_supply_compute_is_the_hardware_equation_without_caps():
    # 1e5 chips x 1e15 FLOP/s x 0.4 x 120 days x 86400 s = 4.1472e26 ("4e26 in 4 months"),
    # although power (1 kW in all) and money ($1) would allow almost no chips, and data none.
    log10 = np.asarray(log10_supply_compute(_point_world(), [2024.0]))
    assert log10.shape == (1,)
    assert 10 ** log10[0] == pytest.approx(4.1472e26, rel=1e-9)
    # the ceilings of the coming build-out stay out of the past: a 30-day ceiling changes nothing
    ceiling = np.asarray(log10_supply_compute(_point_world(duration_days_max=30.0), [2024.0]))
    assert ceiling[0] == log10[0]


def test_supply_compute_runs_backwards_from_the_system_year():
    # Two years before 2024, with lag 0.5: t = -2.5; chips /2^2.5, FLOP/s /1.5^2.5.
    world = _point_world(lag_years=0.5, chip_growth=2.0, chip_flops_growth=1.5)
    expected = 4.1472e26 / (2.0 * 1.5) ** 2.5
    assert 10 ** float(log10_supply_compute(world, [2022.0])[0]) == pytest.approx(expected, rel=1e-9)


def _synthetic_record(noise_sd=0.05, seed=11) -> pd.DataFrame:
    """One record-setting run a year, 2016..2024, from the model with known growth."""
    years = np.arange(2016, 2025)
    truth = _point_world(lag_years=1.0, chip_growth=TRUE_CHIP_GROWTH, chips_base=TRUE_CHIPS_BASE,
                         chip_flops_growth=1.4, duration_days_base=100.0, duration_growth=1.1)
    log10 = np.asarray(log10_supply_compute(truth, years.astype(float)))
    log10 = log10 + np.random.default_rng(seed).normal(0.0, noise_sd, len(years))
    return pd.DataFrame({
        "model": [f"run-{y}" for y in years],
        "date": pd.to_datetime([f"{y}-06-30" for y in years]),
        "training_compute_flop": 10.0 ** log10,
    })


@pytest.fixture(scope="module")
def synthetic_priors():
    # Every prior at the truth except the two the test asks the record about (model v2's
    # one-system priors: calibrate fits one largest system)
    default_priors = load_prior_set("v2")
    fixed = {"lag_years": "1", "chip_flops_growth": "1.4", "duration_days_base": "100",
             "duration_growth": "1.1", "mfu": "0.4", "low_precision_year": "2100"}
    others = {p.name: f"fixed {float(p.family.ppf([0.5])[0]):.12g}" for p in default_priors
              if p.name not in fixed and p.name not in ("chip_growth", "chips_base")}
    return default_priors.with_overrides({**fixed, **others})


@pytest.fixture(scope="module")
def synthetic_calibration(synthetic_priors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        return calibrate(synthetic_priors, _synthetic_record(), since=2016, seed=5, **FEW)


def test_calibration_moves_the_growth_toward_the_truth(synthetic_calibration, synthetic_priors):
    table = synthetic_calibration.prior_posterior()
    assert list(table.index) == ["chips_base", "chip_growth"]  # fixed priors are not calibrated
    growth = table.loc["chip_growth"]
    prior_median = math.sqrt(1.5 * 3.5)
    assert growth["prior_50%"] == pytest.approx(prior_median, rel=1e-6)
    assert abs(growth["posterior_50%"] - TRUE_CHIP_GROWTH) < 0.5 * abs(prior_median - TRUE_CHIP_GROWTH)
    assert growth["posterior_5%"] < TRUE_CHIP_GROWTH < growth["posterior_95%"]
    assert growth["posterior_95%"] - growth["posterior_5%"] < 0.5 * (3.5 - 1.5)  # the record is informative
    assert "chip_growth" in synthetic_calibration.moved
    base = table.loc["chips_base"]
    assert base["posterior_5%"] < TRUE_CHIPS_BASE < base["posterior_95%"]


def test_calibration_fits_the_record_it_saw(synthetic_calibration):
    fitted = synthetic_calibration.fitted()
    assert list(fitted.index) == list(range(2016, 2025))
    # noise sd 0.05: the posterior median of each year is within a few noise sds of the data
    assert np.abs(fitted["fitted_50%"] - fitted["log10_compute"]).max() < 0.2
    d = synthetic_calibration.diagnostics
    assert d.max_rhat < 1.05 and d.divergences == 0


def test_calibrated_forecast_is_a_forecast_result(synthetic_calibration):
    result = synthetic_calibration.forecast(years="2025:2030", thresholds="1e27,1e28", seed=1)
    assert dict(result.samples["log10_training_compute"].sizes) == {"sample": 2 * 400, "year": 6}
    assert "calibrated on 2016-2024" in result.name
    p = result.timeline["probability"]
    assert (p.diff("year") >= 0).all() and (p.sel(threshold=1e27) >= p.sel(threshold=1e28)).all()
    # the chip growth of each world is its posterior draw
    draws = synthetic_calibration.values(posterior=True)["chip_growth"].values
    np.testing.assert_allclose(result.samples["chip_growth"].values, draws, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"since": 2005}, "before the record starts"),
        ({"since": 2024}, "fewer than two years"),
        ({"until": 2040}, "the record ends in"),
    ],
    ids=["since-too-early", "one-year", "until-future"],
)
def test_bad_ranges_are_refused(kwargs, match, synthetic_priors):
    with pytest.raises(InputError, match=match):
        calibrate(synthetic_priors, _synthetic_record(), **kwargs)


def test_all_fixed_priors_are_refused(synthetic_priors):
    pinned = synthetic_priors.with_overrides({"chip_growth": "2", "chips_base": "1e5"})
    with pytest.raises(InputError, match="nothing to calibrate"):
        calibrate(pinned, _synthetic_record())


def test_cli_calibrate_writes_a_run_folder_with_the_calibration(tmp_path, capsys):
    out = tmp_path / "cal"
    code = cli(["calibrate", "--draws", "150", "--chains", "2", "--samples", "2000",
                "--years", "2025:2030", "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"samples.nc", "calibration.md", "calibration.csv", "posterior.nc", "comparison.csv",
            "calibrated_fan.png", "prior_posterior.png", "fan.png"} <= names
    printed = capsys.readouterr().out
    assert "max r_hat" in printed and "before and after" in printed
    import forecast

    again = forecast.load(out)
    assert again.n_samples == 300 and "calibrated" in again.name
    # what a report records to reproduce it is the calibration, not a plain run
    from outputs.provenance import rerun, run_metadata

    meta = run_metadata(again)
    assert meta["calibrated_on"] == "2016-2024"
    assert meta["command"].startswith("forecast calibrate ") and "--draws 150 --seed 2024" in meta["command"]
    with pytest.raises(InputError, match="calibrated on 2016-2024"):
        rerun(meta)


def test_cli_calibrate_bad_since_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cal"
    assert cli(["calibrate", "--since", "1999", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--since" in err
    assert not out.exists()
