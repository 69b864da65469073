"""Calibration: NUTS samples the likelihood ``forecast run --as-of`` weighs worlds by.

One conditioning computed two ways must give one answer: the log density of the NumPyro model
is the prior's plus :func:`models.evidence.log_likelihood`, and on the same record, labs and
date the NUTS posterior and the importance-weighted run agree within their Monte Carlo errors.
"""

import math
import warnings

import arviz as az
import jax
import numpy as np
import pytest
from numpyro.infer.util import log_density
from scipy.stats import norm

from forecast.evaluation.calibrate import CalibrationWarning, calibrate
from forecast.result import run
from models.bottom_up import lab_world_compute
from models.calibration import calibration_model
from models.evidence import Evidence, log_likelihood
from outputs.cli import main as cli
from priors import InputError, load_prior_set
from priors.labs import column
from tests.figures import check_figures

#: The model arithmetic is called directly here: in float64, as the engine calls it.
pytestmark = pytest.mark.usefixtures("float64")

#: The priors left uncertain in the small prior set: each lab's chip count of 2024, which the
#: record's 2025 estimates inform, and the observation model's.
UNCERTAIN = ("chips_base", "disclosure_probability", "estimate_sd_dex")
YEARS = "2025:2028"
#: NUTS: 2 chains (r_hat needs several) of 400 draws.
FEW = {"chains": 2, "draws": 400, "warmup": 400}
#: Monte Carlo errors apart two estimates of one number may be: a false alarm once in ~16,000.
Z = 4.0


def _fixed_at_median(prior_set, keep=UNCERTAIN) -> dict:
    """``--set`` overrides fixing every column of every prior but ``keep`` at its own median."""
    fixed = {}
    for col, name, _, prior in prior_set.columns:
        if name not in keep:
            fixed[col] = f"fixed {float(prior.family.ppf([0.5])[0]):.12g}"
    for name in prior_set.lab_year_priors:
        fixed[name] = f"fixed {float(prior_set[name].family.ppf([0.5])[0]):.12g}"
    return fixed


@pytest.fixture(scope="module")
def small_priors():
    default = load_prior_set(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return default.with_overrides(_fixed_at_median(default))


# -- the model's log density ------------------------------------------------------------


def test_log_density_is_the_prior_plus_the_record_likelihood(small_priors):
    transform = small_priors.transform()
    labs = small_priors.labs.names
    years = np.arange(2025, 2029, dtype=float)
    # a record touching every term: two estimates (one with the world's sd), a bound, a
    # frontier bound, and lab-years with and without a row
    evidence = Evidence(
        as_of=2026.5,
        cell_lab=np.array([0, 1, 2, 0]), cell_year=np.array([0, 0, 0, 1]),
        cell_finish=np.array([2025.0, 2025.0, 2025.0, 2026.0]),
        cell_public=np.array([True, False, True, False]),
        estimate_lab=np.array([0, 2]), estimate_year=np.array([0, 0]),
        estimate_value=np.array([26.5, 26.7]), estimate_sd=np.array([0.1, np.nan]),
        bound_lab=np.array([0]), bound_year=np.array([0]), bound_value=np.array([25.8]),
        bound_sd=np.array([0.3]),
        frontier_year=np.array([1]), frontier_value=np.array([26.0]), frontier_sd=np.array([0.6]),
    )
    z = np.linspace(-1.5, 1.5, transform.n_latent)
    density, _ = log_density(calibration_model, (transform, years, evidence), {}, {"z": z})

    # by hand: the scores' standard-normal prior, then the pure functions the run calls
    values = small_priors.values_from_normal(z)
    lab_year = transform.lab_year_values(None, (), len(years))  # run_share: fixed, by lab and year
    out = lab_world_compute(transform.model_params(values, lab_year), years)
    lab_compute, frontier = np.asarray(out["log10_lab_training_compute"]), np.asarray(out["log10_training_compute"])
    assert lab_compute.shape == (len(labs), len(years))
    probability = np.array([float(values[column("disclosure_probability", lab, len(labs))]) for lab in labs])
    delay = np.array([float(values[column("disclosure_delay_months", lab, len(labs))]) for lab in labs])
    record = log_likelihood(lab_compute, frontier, probability, delay, np.asarray(values["estimate_sd_dex"]), evidence)
    expected = norm.logpdf(z).sum() + float(record)
    assert float(record) < -1.0  # the record is not a no-op here
    assert float(density) == pytest.approx(expected, rel=1e-10, abs=1e-9)


def test_lab_year_scores_are_sampled_as_the_bottom_up_model_samples_them(default_priors):
    # the default has an uncertain lab-year prior (run_share): z_lab_year is a site of the
    # calibration as of the bottom-up model, one score per lab and year, standard normal
    from numpyro.handlers import seed, trace

    transform = default_priors.transform()
    years = np.arange(2025, 2028, dtype=float)
    sites = trace(seed(calibration_model, jax.random.PRNGKey(0))).get_trace(transform, years, Evidence(as_of=2025.5))
    assert sites["z"]["value"].shape == (transform.n_latent,)
    assert sites["z_lab_year"]["value"].shape == (transform.n_lab_year, len(years))
    assert sites["log10_lab_training_compute"]["value"].shape == (len(default_priors.labs.names), len(years))
    assert float(sites["record"]["fn"].log_factor) == 0.0  # no observation: the prior


def test_the_models_run_on_numbers_is_one_compiled_program(default_priors):
    """NumPyro runs the model once on numbers to find its sites (initialize_model, in every
    calibrate): the world's arithmetic runs there as one compiled program
    (models.calibration), not operation by operation, which compiled each of its few
    hundred operations on its own (about 20 CPU-s for the default priors). The NUTS
    draws are the same bits either way (the traced runs trace the arithmetic as before)."""
    from numpyro.handlers import seed, trace

    transform = default_priors.transform()
    years = np.arange(2025, 2028, dtype=float)
    programs = []

    def count(name, _secs, **_kw):
        if name == "/jax/core/compile/backend_compile_duration":  # also where JAX's compile cache has it
            programs.append(name)

    jax.clear_caches()  # every program compiled, or read from the compile cache, again
    jax.monitoring.register_event_duration_secs_listener(count)
    try:
        sites = trace(seed(calibration_model, jax.random.PRNGKey(1))).get_trace(transform, years,
                                                                              Evidence(as_of=2025.5))
    finally:
        jax.monitoring.unregister_event_duration_listener(count)
    assert sites["log10_lab_training_compute"]["value"].shape == (len(default_priors.labs.names), len(years))
    assert 0 < len(programs) < 30, f"{len(programs)} programs for one run of the model on numbers"


# -- NUTS against importance sampling -----------------------------------------------------


@pytest.fixture(scope="module")
def both(small_priors):
    """The small prior set conditioned on the shipped record as of its checked date: NUTS
    (calibrate) and importance weights (run --as-of), every world kept."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        calibration = calibrate(small_priors, years=YEARS, seed=3, **FEW)
    weighted = run(small_priors, samples=20_000, seed=3, years=YEARS, thresholds="1e27,1e28", as_of="record",
                   keep="all")
    return calibration, weighted


def test_calibrate_and_run_condition_on_the_same_record(both):
    calibration, weighted = both
    assert calibration.as_of.isoformat() == weighted.metadata["as_of"]
    # the chains mixed (the few draws' ESS is counted in the tolerances below)
    d = calibration.diagnostics
    assert d.max_rhat < 1.05 and d.divergences == 0
    assert weighted.metadata["pareto_k"] < 0.7
    # every lab is kept (no collapse to one system)
    assert tuple(calibration.idata.posterior["lab"].values) == weighted.labs


#: The headline the test compares: P(a run >= 1e27 by 2026), issue 24's (with these priors
#: the record's 2025 estimates bear on it; 1e28 by 2028 is near certain here).
THRESHOLD, BY = 1e27, 2026


def p_nuts_from(result) -> float:
    return float(result.timeline["probability"].sel(threshold=THRESHOLD, year=BY))


def test_nuts_and_importance_weights_agree_on_the_headline(both):
    calibration, weighted = both
    chains, draws = FEW["chains"], FEW["draws"]
    after = calibration.forecast(thresholds="1e27,1e28", seed=3)
    # P(a run >= 1e27 by 2026): each posterior world's indicator, for its ESS
    hit = (after.samples["log10_training_compute"].sel(year=slice(None, BY)) >= math.log10(THRESHOLD)).any("year")
    hit = hit.to_numpy()
    assert p_nuts_from(after) == pytest.approx(hit.mean())
    p_nuts = float(hit.mean())
    ess_nuts = float(az.ess(hit.reshape(chains, draws).astype(float)))
    p_is = float(weighted.timeline["probability"].sel(threshold=THRESHOLD, year=BY))
    mcse_is = float(weighted.timeline["mcse"].sel(threshold=THRESHOLD, year=BY))
    assert 0.05 < p_is < 0.95  # a probability the test can see move
    p = 0.5 * (p_nuts + p_is)
    mcse = math.hypot(math.sqrt(p * (1 - p) / ess_nuts), mcse_is)
    assert abs(p_nuts - p_is) < Z * mcse


def test_nuts_and_importance_weights_agree_on_a_prior_the_record_moves(both):
    calibration, weighted = both
    name = "chips_base[openai]"  # GPT-4.5's estimate (sd 0.09 dex) pins OpenAI's 2025 run
    draws = calibration.values(posterior=True)[name].to_numpy()
    nuts_mean = np.log10(draws).mean()
    ess_nuts = float(az.ess(np.log10(draws).reshape(FEW["chains"], FEW["draws"])))
    resampled = np.log10(weighted.samples["chips_base"].sel(lab="openai").to_numpy())
    ess_is = weighted.metadata["ess"]
    sd = resampled.std()
    # the resampled worlds' mean: the weights' error (ESS) plus that of resampling (all worlds kept)
    mcse = math.hypot(sd / math.sqrt(ess_nuts), sd * math.sqrt(1 / ess_is + 1 / resampled.size))
    assert abs(nuts_mean - resampled.mean()) < Z * mcse
    # and the record moved it: the prior's mean is further off than the errors allow
    prior_mean = np.log10(calibration.values(posterior=False)[name].to_numpy()).mean()
    assert abs(prior_mean - resampled.mean()) > Z * mcse


def test_the_calibrated_forecast_is_pushed_through_the_bottom_up_model(both, small_priors):
    calibration, _ = both
    result = calibration.forecast(years="2025:2030", thresholds="1e27,1e28", seed=1)
    assert dict(result.samples["log10_training_compute"].sizes) == {"sample": 2 * 400, "year": 6}
    assert "calibrated on the record as published by" in result.name
    p = result.timeline["probability"]
    assert (p.diff("year") >= 0).all() and (p.sel(threshold=1e27) >= p.sel(threshold=1e28)).all()
    draws = calibration.values(posterior=True)["chips_base[openai]"].to_numpy()
    np.testing.assert_allclose(result.samples["chips_base"].sel(lab="openai").to_numpy(), draws, rtol=1e-12)
    # the posterior's own frontier in its years is the forecast's
    posterior = calibration.idata.posterior["log10_training_compute"].stack(sample=("chain", "draw"))
    np.testing.assert_allclose(result.samples["log10_training_compute"].sel(year=[2025, 2026, 2027, 2028]).to_numpy(),
                               posterior.transpose("sample", "year").to_numpy(), rtol=1e-9)
    with pytest.raises(InputError, match="years: 2024"):
        calibration.forecast(years="2024:2026")


# -- bad input -------------------------------------------------------------------------


def test_all_fixed_priors_are_refused(small_priors):
    pinned = small_priors.with_overrides(_fixed_at_median(small_priors, keep=()))
    with pytest.raises(InputError, match="nothing to calibrate"):
        calibrate(pinned)


def test_as_of_none_is_refused(small_priors):
    with pytest.raises(InputError, match="as_of: calibrate conditions on the record"):
        calibrate(small_priors, as_of="none")


def _set_args(prior_set) -> list[str]:
    return [arg for col, spec in _fixed_at_median(prior_set).items() for arg in ("--set", f"{col}={spec}")]


def test_cli_calibrate_writes_a_run_folder_with_the_calibration(tmp_path, capsys):
    out = tmp_path / "cal"
    code = cli(["calibrate", *_set_args(load_prior_set(None)), "--draws", "150", "--chains", "2",
                "--samples", "2000", "--years", YEARS, "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"samples.nc", "calibration.md", "calibration.csv", "posterior.nc", "comparison.csv",
            "calibrated_fan.png", "prior_posterior.png", "fan.png"} <= names
    check_figures(out)
    printed = capsys.readouterr().out
    assert "max r_hat" in printed and "before and after" in printed and "GPT-4.5" in printed
    import forecast

    again = forecast.load(out)
    assert again.n_samples == 300 and "calibrated" in again.name
    # what a report records to reproduce it is the calibration, not a plain run
    from outputs.provenance import rerun, run_metadata

    meta = run_metadata(again)
    assert meta["calibrated_on"].startswith("the record as published by ")
    assert meta["command"].startswith("forecast calibrate ") and "--draws 150 --seed 2024" in meta["command"]
    with pytest.raises(InputError, match="calibrated on the record as published by"):
        rerun(meta)


def test_cli_calibrate_bad_as_of_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cal"
    assert cli(["calibrate", "--as-of", "2019", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--as-of" in err
    assert not out.exists()
