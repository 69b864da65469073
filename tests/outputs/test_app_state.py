"""``forecast app``: the page's state <-> its URL, and field-by-field checks with the CLI's messages."""

from __future__ import annotations

import pytest

from forecast.settings import DEFAULT_SEED, default_years_text
from outputs.app.state import (
    PAGE_SAMPLES,
    AppState,
    check_state,
    command_line,
    from_query,
    prior_set_toml,
    to_query,
    two_number_spec,
)
from outputs.cli import main
from priors import builtin_prior_files, load_prior_set

ISSUE_URL = ("priors=power_wall&set=mfu:beta+mean+0.45,+0.35+to+0.55&set=power_limit_gw_max:lognormal+2+to+10"
             "&threshold=1e28&year=2028&samples=100000")


def cli_error(capsys, tmp_path, *argv) -> str:
    """The one line ``forecast run`` prints for bad options, without ``forecast run: error: ``."""
    assert main(["run", "--samples", "10", "--out", str(tmp_path / "never"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    prefix = "forecast run: error: "
    assert err.startswith(prefix)
    return err.removeprefix(prefix)


def test_the_issue_url_reads_as_the_cli_options():
    state, errors = from_query(ISSUE_URL)
    assert errors == []
    assert state == AppState(
        priors="power_wall",
        overrides=(("mfu", "beta mean 0.45, 0.35 to 0.55"), ("power_limit_gw_max", "lognormal 2 to 10")),
        threshold=1e28, year=2028, samples=100_000,
    )
    assert state.seed == DEFAULT_SEED and state.years == default_years_text() and state.as_of == "record"
    assert command_line(state) == ("forecast run --priors power_wall --set 'mfu=beta mean 0.45, 0.35 to 0.55' "
                                   "--set 'power_limit_gw_max=lognormal 2 to 10'")


@pytest.mark.parametrize("state", [
    AppState(),
    AppState(priors="moe", overrides=(("mfu", "0.45"),), correlate=("chip_growth,mfu=0.3",), threshold=3e27,
             year=2030, samples=4000, seed=7, years="2025:2031", as_of="none"),
    AppState(overrides=(("chip_growth", "mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6"),
                        ("mfu", "beta mean 0.4, 0.3 to 0.5 (80%)")), as_of="2024"),
])
def test_state_round_trips_through_the_url(state):
    query = to_query(state)
    assert from_query(query) == (state, [])
    assert from_query("?" + query) == (state, [])


def test_defaults_are_left_out_of_the_url():
    assert to_query(AppState()) == ""
    assert AppState().samples == PAGE_SAMPLES
    assert to_query(AppState(samples=100_000)) == "samples=100000"
    assert to_query(AppState(priors="moe"), default_priors="moe") == ""


def test_a_later_set_of_the_same_prior_wins_and_equals_sign_works():
    state, errors = from_query("set=mfu:0.3&set=mfu=0.4&set=lag_years:1")
    assert errors == []
    assert state.overrides == (("mfu", "0.4"), ("lag_years", "1"))


def test_bad_parameters_are_reported_one_line_each_and_keep_their_default():
    state, errors = from_query("samples=abc&seed=-1&years=2030:2020&threshold=big&year=2040&as_of=soon&x=1"
                               "&priors=../../etc/passwd&set=nocolon")
    fields = {e.field: e.message for e in errors}
    assert set(fields) == {"samples", "seed", "years", "threshold", "year", "as_of", "url", "priors", "set"}
    assert all("\n" not in m for m in fields.values())
    assert state.samples == PAGE_SAMPLES and state.priors == "default" and state.years == default_years_text()
    # in the page's terms: the field's label, not the command line's flag
    assert fields["years"].startswith("years: ") and fields["samples"].startswith("worlds: ")
    assert fields["as_of"].startswith("as of: ") and fields["priors"].startswith("prior set: ")
    assert fields["set"] == "prior change: expected NAME:SPEC, got 'nocolon'"
    assert not any("--" in m.split(";")[0] for m in fields.values()), fields
    assert "'x'" in fields["url"]
    assert "not a prior set of this page" in fields["priors"]


def test_year_is_checked_against_the_years():
    _state, errors = from_query("years=2030:2035")
    assert [e.field for e in errors] == ["year"]
    assert "2028 is outside the forecast years 2030..2035" in errors[0].message
    assert errors[0].message.startswith("by year: ")
    assert from_query("years=2030:2035&year=2031") == (AppState(years="2030:2035", year=2031), [])


@pytest.mark.parametrize("name, spec", [
    ("mfu", "gamma 1 to 2"),                  # unknown family
    ("lag_years", "lognormal 5 to 2"),        # reversed interval
    ("mfu", "normal mean 0.4 sd 0.3"),        # outside the prior's domain (a fraction)
    ("mfux", "0.4"),                          # unknown prior
])
def test_a_bad_spec_gets_the_cli_message(capsys, tmp_path, name, spec):
    files = builtin_prior_files()
    checked = check_state(AppState(overrides=((name, spec), ("chip_growth", "lognormal 2 to 3"))), files)
    assert [e.field for e in checked.errors] == [f"set:{name}"]
    # the CLI's message, naming the prior's field rather than the flag --set
    cli = cli_error(capsys, tmp_path, "--set", f"{name}={spec}")
    assert cli.startswith(f"--set: {name}: ")
    assert checked.errors[0].message == cli.removeprefix("--set: ")
    assert checked.valid.overrides == (("chip_growth", "lognormal 2 to 3"),)  # the good one is kept
    assert checked.priors["chip_growth"].spec == "lognormal 2 to 3"


def test_a_bad_correlation_gets_the_cli_message(capsys, tmp_path):
    files = builtin_prior_files()
    checked = check_state(AppState(correlate=("mfu,chip_growth=1.5", "mfu,lag_years=0.2")), files)
    assert [e.field for e in checked.errors] == ["corr:mfu,chip_growth=1.5"]
    cli = cli_error(capsys, tmp_path, "--correlate", "mfu,chip_growth=1.5")
    assert cli.startswith("--correlate: ")
    assert checked.errors[0].message == "correlations: " + cli.removeprefix("--correlate: ")
    assert checked.valid.correlate == ("mfu,lag_years=0.2",)


def test_the_checked_prior_set_is_the_cli_prior_set():
    state = AppState(priors="power_wall", overrides=(("mfu", "0.45"), ("lag_years", "uniform 0.2 to 1")),
                     correlate=("lag_years,chip_growth=0.2",))
    checked = check_state(state, builtin_prior_files())
    cli = load_prior_set("power_wall", overrides=["mfu=0.45", "lag_years=uniform 0.2 to 1"],
                         correlate=["lag_years,chip_growth=0.2"])
    assert checked.errors == [] and checked.priors.fingerprint() == cli.fingerprint()
    assert checked.priors.name == cli.name


def test_the_priors_download_reads_back_as_the_same_set(tmp_path):
    prior_set = load_prior_set("power_wall", overrides=["mfu=beta mean 0.45, 0.35 to 0.55"],
                               correlate=["mfu,lag_years=0.2", "chip_flops_growth,duration_days_max=0"])
    path = tmp_path / "mine.toml"
    path.write_text(prior_set_toml(prior_set, description='with "quotes" and \\ back'), encoding="utf-8")
    back = load_prior_set(path)
    assert back.fingerprint() == prior_set.fingerprint()
    assert back.description == 'with "quotes" and \\ back'
    assert [p.source for p in back] == [p.source for p in prior_set]


def test_two_number_specs_are_found():
    assert two_number_spec("lognormal 2 to 10") == ("lognormal", 2.0, 10.0)
    assert two_number_spec("uniform 0.5 to 1.5") == ("uniform", 0.5, 1.5)
    for spec in ("beta mean 0.4, 0.3 to 0.5", "uniform between 1 and 2", "fixed 1", "lognormal 1 to 2 (80%)",
                 "lognormal a to b"):
        assert two_number_spec(spec) is None


@pytest.mark.parametrize("message, shown", [
    ("--set: lag_years: the 5th percentile (5) must be below the 95th percentile (2)",
     "lag_years: the 5th percentile (5) must be below the 95th percentile (2)"),
    ("--as-of: expected a date YYYY-MM-DD", "as of: expected a date YYYY-MM-DD"),
    ("--samples: at most 10; use 'forecast run --samples N' for more",
     "worlds: at most 10; use 'forecast run --samples N' for more"),
    ("UNRELIABLE conditioning: draw more worlds (--samples)", "UNRELIABLE conditioning: draw more worlds "
     "(the field 'worlds')"),
    ("--target-year: 2040 is outside", "by year: 2040 is outside"),
    ("chip_growth: something", "chip_growth: something"),
])
def test_messages_read_in_the_page_terms(message, shown):
    from outputs.app.state import in_page_terms

    assert in_page_terms(message) == shown
