"""The observation model (MODEL.md v3, "What gets published"): its kernels against
quadrature and by hand, the record read by lab and year, and MODEL.md's exact cases through
the CLI (the conjugate normal update of one row with a stated interval; published = p x
P(estimate >= t) with no row), the model check, --as-of and `forecast question`."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate, stats
from scipy.special import logsumexp

from forecast.conditioning import (
    chunk_log_likelihood,
    day_end,
    evidence_of,
    gpd_fit,
    gpd_quantile,
    likelihood_and_check,
    record_as_of,
    record_weights,
    smooth_tail,
    smoothed_log_weights,
    tail_length,
)
from models.evidence import Evidence, disclosed_by, log_likelihood, published_by
from outputs.cli import main
from tests.worlds import NEUTRAL_WORLD

LABS = ("openai", "google_deepmind", "xai", "anthropic", "meta", "china")

# --- the kernels -------------------------------------------------------------------------


def test_record_weights_read_their_dims_by_name():
    # two sets of 300 worlds of the frontier: a steady climb from 1e25 in 2023 at 0.5 dex a
    # year, each world shifted by its own offset
    rng = np.random.default_rng(5)
    years = [2023, 2024, 2025]
    offsets = rng.normal(0.0, 0.7, size=(2, 300))
    values = 25.0 + 0.5 * np.arange(3) + offsets[..., None]
    compute = xr.DataArray(values, dims=("run", "sample", "year"), coords={"year": years})
    weights, ks = record_weights(compute, None, dt.date(2025, 12, 31))
    assert weights.dims == ("run", "sample") and ks.dims == ("run",)
    assert weights.sum("sample").values == pytest.approx([1.0, 1.0])
    # the same worlds with their dims in another order: the same weights, by name
    again, ks_again = record_weights(compute.transpose("year", "run", "sample"), None, dt.date(2025, 12, 31))
    np.testing.assert_allclose(again.transpose("run", "sample").values, weights.values, rtol=1e-12)
    np.testing.assert_array_equal(ks_again.values, ks.values)
    # one set alone is the first set of the two
    one, _ = record_weights(compute.isel(run=0), None, dt.date(2025, 12, 31))
    np.testing.assert_allclose(one.values, weights.isel(run=0).values, rtol=1e-12)


def test_gpd_quantiles_by_hand():
    # sigma ((1 - p)^-k - 1) / k: k = 0.5, sigma = 2, p = 0.75 -> 2 (2 - 1) / 0.5 = 4
    assert gpd_quantile(np.array([0.75]), 0.5, 2.0)[0] == pytest.approx(4.0)
    # k = 0: the exponential, -sigma log(1 - p); at p = 1 - 1/e that is sigma
    assert gpd_quantile(np.array([1 - math.exp(-1)]), 0.0, 2.0)[0] == pytest.approx(2.0)
    assert np.isnan(gpd_quantile(np.array([0.5]), 0.5, 0.0)).all()


@pytest.mark.parametrize("k", [0.2, 0.8])
def test_the_tail_fit_finds_the_shape_of_a_generalized_pareto_sample(k):
    # 4000 draws: the estimate's sd is about (1 + k) / sqrt(n) < 0.03; the prior (worth 10
    # draws, at 0.5) moves it by < 0.001
    x = np.sort(stats.genpareto.rvs(k, scale=1.5, size=4000, random_state=np.random.default_rng(3)))
    k_hat, sigma = gpd_fit(x)
    assert k_hat == pytest.approx(k, abs=0.1)
    assert sigma == pytest.approx(1.5, rel=0.15)


def test_pareto_smoothing_reads_the_shape_of_heavy_tailed_weights():
    # weights drawn from a GPD of shape 0.6: their tail above any cutoff has shape 0.6, and
    # PSIS's k estimates it (the tail holds 3 sqrt(n) = 949 weights: sd about 0.05)
    weights = stats.genpareto.rvs(0.6, size=100_000, random_state=np.random.default_rng(4))
    log_weights, k_hat = smoothed_log_weights(np.log(weights))
    assert k_hat == pytest.approx(0.6, abs=0.15)
    assert np.exp(log_weights).sum() == pytest.approx(1.0)
    # smoothing keeps the weights' order
    assert np.all(np.diff(log_weights[np.argsort(weights)]) >= -1e-12)


@pytest.mark.parametrize("n, scale", [(50, 1.0), (1000, 1.0), (20_000, 3.0), (3, 1.0)])
def test_pareto_smoothing_is_arviz_psislw(n, scale):
    import arviz as az

    log_weights = np.random.default_rng(n).normal(size=n) * scale
    ours, k = smoothed_log_weights(log_weights)
    theirs, k_arviz = az.psislw(log_weights, reff=1.0)
    assert k == pytest.approx(float(k_arviz), abs=1e-12) or (np.isinf(k) and np.isinf(k_arviz))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    # smooth_tail needs only the tail_length + 1 largest, in any order (here descending)
    top = np.argsort(log_weights)[-(tail_length(n) + 1):][::-1]
    smoothed, k_top = smooth_tail(log_weights[top])
    full = log_weights.copy()
    full[top] = smoothed
    np.testing.assert_allclose(full - logsumexp(full), theirs, atol=1e-12)
    assert k_top == k or (np.isinf(k_top) and np.isinf(k))


@pytest.mark.parametrize("p, months, year, date", [
    (0.7, 5.0, 2025, 2025.6),   # d inside the finish year: only runs finished before d
    (0.7, 5.0, 2025, 2026.3),   # d after it
    (0.4, 24.0, 2025, 2027.0),
    (0.9, 0.5, 2026, 2026.05),
], ids=["inside", "after", "slow", "fast"])
def test_disclosed_by_integrates_the_uniform_finish_time(p, months, year, date):
    delay_years = months / 12

    def public(f):  # finished at f: public by d with probability p (1 - 2^(-(d - f) / median))
        return p * (1 - 2 ** (-(date - f) / delay_years))

    expected = integrate.quad(public, year, min(year + 1, date))[0]
    assert disclosed_by(p, months, year, date) == pytest.approx(expected, rel=1e-9)


def test_disclosed_by_edge_cases():
    assert disclosed_by(0.6, 0.0, 2025, 2025.25) == pytest.approx(0.6 * 0.25, abs=1e-8)  # delay 0
    assert disclosed_by(0.6, 0.0, 2025, 2030.0) == pytest.approx(0.6, abs=1e-8)
    assert disclosed_by(0.6, 3.0, 2026, 2025.5) == 0.0  # the year has not begun
    # given none by 2026.0, public by 2027.0: (P(2027) - P(2026)) / (1 - P(2026))
    now, then = disclosed_by(0.5, 6.0, 2025, 2027.0), disclosed_by(0.5, 6.0, 2025, 2026.0)
    assert published_by(0.5, 6.0, 2025, 2027.0, since=2026.0) == pytest.approx((now - then) / (1 - then))


def test_numpy_and_jax_give_the_same_log_likelihood(float64):
    import jax
    import jax.numpy as jnp

    ev = Evidence(as_of=2026.5, cell_lab=np.array([0, 1]), cell_year=np.array([0, 0]),
                  cell_finish=np.array([2025.0, 2025.0]), cell_public=np.array([True, False]),
                  estimate_lab=np.array([0]), estimate_year=np.array([0]), estimate_value=np.array([26.5]),
                  estimate_sd=np.array([np.nan]), bound_lab=np.array([1]), bound_year=np.array([0]),
                  bound_value=np.array([25.0]), bound_sd=np.array([0.3]),
                  frontier_year=np.array([0]), frontier_value=np.array([25.5]), frontier_sd=np.array([0.29]))
    lab = np.array([[[26.4], [26.0]]])
    args = (lab, lab.max(axis=1), np.array([[0.7, 0.3]]), np.array([[4.0, 8.0]]), np.array([0.2]))
    got = log_likelihood(*args, ev)
    # by hand: openai public with its row; google not public; the row, the bound, the frontier bound
    by_hand = (math.log(disclosed_by(0.7, 4.0, 2025, 2026.5)) + math.log1p(-disclosed_by(0.3, 8.0, 2025, 2026.5))
               + stats.norm.logpdf(26.5, 26.4, 0.2) + stats.norm.logcdf((26.0 - 25.0) / 0.3)
               + stats.norm.logcdf((26.4 - 25.5) / 0.29))
    assert got[0] == pytest.approx(by_hand, rel=1e-12)
    traced = jax.jit(lambda *a: log_likelihood(*a, ev))(*(jnp.asarray(a) for a in args))
    assert float(traced[0]) == pytest.approx(by_hand, rel=1e-9)


def test_the_likelihood_and_the_model_check_from_one_evaluation():
    """likelihood_and_check: the likelihood bit for bit as chunk_log_likelihood gives it, and
    the check's sums as their definition gives them (the share of estimates below each row,
    Phi((e - C) / s); the chance of no row), though it reads a bound's share off its log
    likelihood: also where that share is within 1e-300 of 0 or 1."""
    from priors.labs import column

    labs = ("openai", "google")
    ev = Evidence(as_of=2026.5, cell_lab=np.array([0, 1, 1]), cell_year=np.array([0, 0, 1]),
                  cell_finish=np.array([2025.0, 2025.0, 2026.0]), cell_public=np.array([True, False, False]),
                  estimate_lab=np.array([0]), estimate_year=np.array([0]), estimate_value=np.array([26.5]),
                  estimate_sd=np.array([np.nan]), bound_lab=np.array([1, 0]), bound_year=np.array([0, 1]),
                  bound_value=np.array([25.0, 26.0]), bound_sd=np.array([0.3, np.nan]),
                  frontier_year=np.array([1]), frontier_value=np.array([25.5]), frontier_sd=np.array([0.29]))
    rng = np.random.default_rng(3)
    lab = rng.normal(25.8, 1.0, (50, 2, 2))
    lab[0, 1, 0], lab[1, 1, 0] = 40.0, 0.0  # a bound's share of 0, and of 1 (z of -50 and 83)
    sd = rng.uniform(0.1, 0.4, 50)
    p, months = rng.uniform(0.2, 0.9, (50, 2)), rng.uniform(1.0, 12.0, (50, 2))
    out = {"log10_training_compute": lab.max(axis=1), "log10_lab_training_compute": lab, "estimate_sd_dex": sd,
           **{column("disclosure_probability", name, 2): p[:, i] for i, name in enumerate(labs)},
           **{column("disclosure_delay_months", name, 2): months[:, i] for i, name in enumerate(labs)}}
    loglik, check = likelihood_and_check(out, labs, ev)
    np.testing.assert_array_equal(loglik, chunk_log_likelihood(out, labs, ev))
    from scipy.special import ndtr

    def below(compute, value, row_sd):  # P(an estimate N(C, s) is below the row's value)
        return ndtr((value - compute) / row_sd).sum()

    hidden = [sum(1 - disclosed_by(p[w, i], months[w, i], year, 2026.5) for w in range(50))
              for i, year in ((1, 2025), (1, 2026))]
    expected = [below(lab[:, 0, 0], 26.5, sd), below(lab[:, 1, 0], 25.0, 0.3), below(lab[:, 0, 1], 26.0, sd),
                below(lab.max(axis=1)[:, 1], 25.5, 0.29), *hidden]
    np.testing.assert_allclose(check, expected, rtol=1e-12)


# --- the record by lab and year ------------------------------------------------------------


def test_the_shipped_record_as_of_its_checked_date():
    known, date = record_as_of(None, "record")
    assert date == dt.date(2026, 12, 6)
    ev, observed, notes = evidence_of(known, LABS, range(2025, 2036), date)
    assert ev.as_of == pytest.approx(day_end(date))
    kinds = {(r.lab, r.year, r.model): r.kind for r in observed.itertuples()}
    assert kinds[("openai", 2025, "GPT-4.5")] == "estimate"
    assert kinds[("openai", 2025, "GPT-5")] == "bound"  # marked: not OpenAI's largest of 2025
    # Grok 4's estimate is derived from Grok 3's: one estimate, the one of the largest run
    assert kinds[("xai", 2025, "Grok 4")] == "estimate" and not any(m == "Grok 3" for _, _, m in kinds)
    assert any("Grok 3" in n for n in notes)
    # GPT-4.5 states 2.7e26-5.4e26: sd log10(2) / (2 x 1.645)
    sd = observed.loc[observed["model"] == "GPT-4.5", "sd"].item()
    assert sd == pytest.approx(math.log10(2) / (2 * stats.norm.ppf(0.95)), rel=1e-9)
    # 6 labs x 2 years, each with a row (estimate) or none
    cells = observed[observed["kind"].isin(["estimate", "none"])]
    assert len(cells) == 12 and ev.cell_public.sum() == (observed["kind"] == "estimate").sum()


def test_as_of_reads_the_record_as_it_was_then():
    known, date = record_as_of(None, dt.date(2025, 8, 1))
    assert "GPT-5" not in set(known["model"])  # published 2025-08-07
    assert "Grok 4" not in set(known["model"])  # its estimate appeared 2025-09-17
    _, observed, _ = evidence_of(known, LABS, range(2025, 2036), date)
    assert set(observed.loc[observed["lab"] == "xai", "kind"]) == {"bound"} | {"none"}


# --- MODEL.md's exact cases through the CLI -------------------------------------------------

#: One lab-scoped prior is uncertain: chips_base, lognormal 5e4 to 2e5 (5th-95th).
CHIPS_LOW, CHIPS_HIGH = 5e4, 2e5
FLOP_PER_CHIP = 1e15 * 0.4 * 120 * 86400  # the neutral world's run per chip
MU = math.log10(math.sqrt(CHIPS_LOW * CHIPS_HIGH) * FLOP_PER_CHIP)  # 26.618
SIGMA = math.log10(CHIPS_HIGH / CHIPS_LOW) / (2 * stats.norm.ppf(0.95))  # 0.183


def _one_lab_priors(path, **fixed):
    """A prior file: one lab (openai), every prior fixed as in the neutral world (or
    ``fixed``) but chips_base: log10 C ~ N(MU, SIGMA) in every year."""
    world = {**NEUTRAL_WORLD, **fixed}
    lines = ['name = "exact"', 'inherit = "none"', "", "[priors]"]
    for name, value in world.items():
        spec = f"lognormal {CHIPS_LOW:g} to {CHIPS_HIGH:g}" if name == "chips_base" else f"fixed {value!r}"
        lines.append(f'{name} = "{spec}"')
    lines += ["", "[labs]", 'names = ["openai"]', "correlation = 0.0"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_row_with_a_stated_interval_is_the_conjugate_normal_update(tmp_path, capsys):
    import xarray as xr

    e, s = 26.9, 0.12  # the row: 10^26.9 FLOP, 90% interval 10^(26.9 -+ 1.645 s)
    low, high = (float(10 ** (e + z * s)) for z in (-stats.norm.ppf(0.95), stats.norm.ppf(0.95)))
    user = tmp_path / "row.csv"
    user.write_text("model,organization,date,training_compute_flop,confidence,source,lab,finish_year,"
                    "flop_low_90,flop_high_90,largest_of_lab_year\n"
                    f"Test run,OpenAI,2026-03-01,{10 ** e!r},estimated,test,openai,2026,{low!r},{high!r},yes\n")
    out = tmp_path / "run"
    assert main(["run", "--priors", str(_one_lab_priors(tmp_path / "p.toml")), "--record", str(user),
                 "--years", "2026:2026", "--as-of", "2026-12-06", "--samples", "40000", "--keep", "all",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    precision = 1 / SIGMA**2 + 1 / s**2
    mean, sd = (MU / SIGMA**2 + e / s**2) / precision, precision**-0.5  # 26.819, 0.100
    with xr.open_dataset(out / "samples.nc", group="prior") as prior:
        kept = prior["log10_training_compute"].values.ravel().astype(float)
        ess = float(prior.attrs["ess"])
    # DeepSeek-V4-Pro (9.7e24, 2026) is outside the lab: a bound 3 sd below, a shift < 1e-3
    assert kept.mean() == pytest.approx(mean, abs=4 * sd / math.sqrt(ess) + 1e-3)
    assert kept.std() == pytest.approx(sd, rel=0.05)


def test_published_is_p_times_the_chance_of_an_estimate_above_t_with_no_row(tmp_path, capsys):
    p, s, t = 0.6, 0.2, 10 ** 26.8
    priors = _one_lab_priors(tmp_path / "p.toml", disclosure_probability=p, estimate_sd_dex=s)
    assert main(["question", "--priors", str(priors), "--as-of", "none", "--years", "2026:2026",
                 "--threshold", f"{t!r}", "--by", "2026-12-31", "--samples", "40000", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    z = (MU - math.log10(t))
    published = p * stats.norm.cdf(z / math.sqrt(SIGMA**2 + s**2))  # 0.6 x Phi(-0.67) = 0.15
    true = stats.norm.cdf(z / SIGMA)  # the run finished by the year's end: P(C >= t) = 0.16
    assert answer["published_probability"] == pytest.approx(published, abs=4 * answer["published_mcse"])
    assert answer["true_probability"] == pytest.approx(true, abs=4 * answer["true_mcse"])
    # the errors are the standard errors of a mean of 40,000 worlds (about 0.002)
    assert 0.001 < answer["true_mcse"] < 0.003


# --- the default record, a user's run, the model check ------------------------------------


def test_a_user_record_of_a_confident_3e27_run_finished_in_2026(tmp_path, capsys):
    user = tmp_path / "mine.csv"
    user.write_text("model,organization,date,training_compute_flop,confidence,source,epoch_confidence,"
                    "lab,finish_year,largest_of_lab_year\n"
                    'Big 2026 run,OpenAI,2026-06-01,3e27,estimated,"my estimate",Confident,openai,2026,yes\n')
    assert main(["question", "--record", str(user), "--threshold", "1e27", "--by", "2026", "--years", "2025:2027",
                 "--samples", "20000", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    # Confident is a factor 3 either way (sd 0.29 dex): 3e27 leaves a run below 1e27 with about
    # 5% probability before the prior; the other labs may reach 1e27 too
    assert answer["true_probability"] > 0.95
    assert answer["published_probability"] == 1.0  # the record already resolves it


def test_the_model_check_flags_a_lab_year_beyond_the_99th_percentile(tmp_path, capsys):
    user = tmp_path / "huge.csv"
    user.write_text("model,organization,date,training_compute_flop,confidence,source,epoch_confidence,"
                    "lab,finish_year,largest_of_lab_year\n"
                    'Huge,Anthropic,2026-06-01,3e29,estimated,"test",Confident,anthropic,2026,yes\n')
    assert main(["run", "--record", str(user), "--samples", "2000", "--keep", "0",
                 "--out", str(tmp_path / "r")]) in (0,)
    out = capsys.readouterr().out
    assert "anthropic 2026: Huge" in out and "the model is surprised" in out
    assert "openai 2025: GPT-4.5" in out and "Pareto k" in out


def test_the_default_run_conditions_reliably_at_its_default_worlds():
    import forecast

    result = forecast.run(as_of="record", keep=0)  # 100,000 worlds, the record to 2026-12-06
    assert result.metadata["as_of"] == "2026-12-06"
    assert result.metadata["pareto_k"] < 0.7 and result.metadata["ess"] > 2000
    answers = {a["threshold"]: a for a in json.loads(result.metadata["questions"])}
    # a public estimate needs a run that large first
    for a in answers.values():
        assert a["published_probability"] < a["true_probability"]


# --- --as-of and `forecast question` --------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-12-06", dt.date(2026, 12, 6)), ("2025", dt.date(2025, 12, 31)), ("none", None), ("record", "record"),
], ids=["date", "year", "none", "record"])
def test_as_of_takes_a_date_a_year_or_none(text, expected):
    from forecast.settings import parse_as_of

    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text, message", [
    ("2023", "--as-of: 2023-12-31 is before the base year 2024"),
    ("2026-02-30", "--as-of: expected a date YYYY-MM-DD, a year, 'record' or 'none', got '2026-02-30'"),
], ids=["before-base-year", "not-a-date"])
def test_a_bad_as_of_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    assert main(["run", "--samples", "100", "--as-of", text, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"forecast run: error: {message}") and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_question_prints_both_answers_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["question", "--threshold", "1e27", "--by", "2027-06-01", "--samples", "3000"]) == 0
    out = capsys.readouterr().out
    assert "true:" in out and "published:" in out and "Monte Carlo error" in out
    assert list(tmp_path.iterdir()) == []
    assert main(["question", "--threshold", "1e27", "--by", "2027-06-01", "--samples", "100", "--by", "soon"]) == 2
    assert capsys.readouterr().err.strip() == "forecast question: error: --by: expected a date YYYY-MM-DD or a year, got 'soon'"


def test_questions_lists_each_open_question_with_our_probability(capsys):
    from forecast.record.questions import load_questions

    table = load_questions()
    assert "rfi-1657" in set(table["id"]) and table["url"].str.startswith("https://").all()
    assert main(["questions", "--samples", "2000", "--json"]) == 0
    answers = json.loads(capsys.readouterr().out)
    rfi = next(a for a in answers if a["id"] == "rfi-1657")
    assert rfi["by"] == "2027-05-31" and 0 <= rfi["published_probability"] <= rfi["true_probability"] <= 1
