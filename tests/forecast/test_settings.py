"""RunSettings: every setting of a run parsed and checked once, written back as a command line."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from forecast.settings import DEFAULT_KEEP, DEFAULT_SAMPLES, DEFAULT_SEED, DEFAULT_THRESHOLDS, RunSettings
from priors import InputError


def test_each_setting_is_parsed_once_into_its_type():
    s = RunSettings(samples=2000, seed=7, years="2025:2028", thresholds="1e28,3e27", as_of="2026",
                    overrides={"mfu": "0.45"}, correlate="chip_growth,mfu=0.3", keep="all", lab_correlation="0.5")
    assert s.years == (2025, 2026, 2027, 2028)
    assert s.thresholds == (3e27, 1e28)  # sorted
    assert s.as_of == dt.date(2026, 12, 31)  # a year is its last day
    assert s.overrides == ("mfu=0.45",) and s.correlate == ("chip_growth,mfu=0.3",)
    assert s.keep == 2000 and s.lab_correlation == 0.5
    assert RunSettings(samples=10).keep == 10  # at most the worlds drawn
    assert RunSettings(as_of="none").as_of is None and RunSettings().as_of == "record"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.samples = 3


@pytest.mark.parametrize(("changes", "start"), [
    ({"samples": 0}, "samples: "), ({"seed": -1}, "seed: "), ({"years": "2030:2025"}, "years: "),
    ({"thresholds": "big"}, "thresholds: "), ({"as_of": "soon"}, "as_of: "), ({"as_of": "2020"}, "as_of: "),
    ({"keep": -3}, "keep: "), ({"scheduler": "tcp://a b"}, "--scheduler: "),
    ({"lab_correlation": 1.5}, "--lab-correlation: "),
])
def test_a_bad_setting_is_refused_in_the_constructor_naming_it(changes, start):
    with pytest.raises(InputError) as err:
        RunSettings(**changes)
    assert str(err.value).startswith(start) and "\n" not in str(err.value)


def test_to_argv_writes_every_setting_that_draws_the_worlds():
    s = RunSettings(priors="moe", overrides=["mfu=0.45"], correlate=["chip_growth,mfu=0.3"], labs="3",
                    lab_correlation=0.25, samples=4000, seed=9, years="2025:2030", thresholds=[2.5e26, 1e28],
                    as_of=dt.date(2026, 6, 30), keep=100, repair_correlations=True, record="runs.csv")
    assert s.to_argv("report") == [
        "forecast", "report", "--priors", "moe", "--set", "mfu=0.45", "--correlate", "chip_growth,mfu=0.3",
        "--repair-correlations", "--record", "runs.csv", "--labs", "3", "--lab-correlation", "0.25",
        "--as-of", "2026-06-30", "--seed", "9", "--samples", "4000", "--years", "2025:2030",
        "--thresholds", "2.5e26,1e28", "--keep", "100"]
    # the prior forecast says so: the command line's default is the record's date
    assert RunSettings(as_of=None).to_argv(minimal=True) == ["forecast", "run", "--as-of", "none"]
    assert RunSettings().to_argv(minimal=True) == ["forecast", "run"]
    assert RunSettings(samples=DEFAULT_SAMPLES, seed=DEFAULT_SEED).to_argv()[2:] == [
        "--seed", str(DEFAULT_SEED), "--samples", str(DEFAULT_SAMPLES), "--years", "2025:2035",
        "--thresholds", "1e26,1e27,1e28,1e29,1e30"]
    assert RunSettings(samples=2 * DEFAULT_KEEP, keep="all").to_argv()[-2:] == ["--keep", "all"]
    assert DEFAULT_THRESHOLDS == (1e26, 1e27, 1e28, 1e29, 1e30)


def test_from_metadata_reads_what_a_run_records():
    meta = {"priors_builtin": "default", "priors_file": "/somewhere/default.toml", "overrides": {"mfu": "0.45"},
            "correlate": ["chip_growth,mfu=0.3"], "labs": {"names": ["lab1", "lab2"], "flag": 2,
                                                          "correlation_flag": None},
            "as_of": "2026-12-06", "seed": 5, "samples": 3000, "years": [2025, 2026, 2027], "thresholds": [1e27]}
    s = RunSettings.from_metadata(meta)
    assert s == RunSettings(overrides=["mfu=0.45"], correlate=["chip_growth,mfu=0.3"], labs=2,
                            as_of=dt.date(2026, 12, 6), seed=5, samples=3000, years="2025:2027", thresholds="1e27")
    assert RunSettings.from_metadata({**meta, "as_of": None}).as_of is None  # the prior forecast


def test_conditioning_refuses_an_as_of_before_every_forecast_year():
    with pytest.raises(InputError, match=r"^as_of: nothing to condition on"):
        RunSettings(as_of="2024-06-30", years="2025:2027").conditioning()
    assert RunSettings(as_of=None).conditioning() is None
    runs, date = RunSettings(as_of="2025-12-31", years="2025:2027").conditioning()
    assert date == dt.date(2025, 12, 31) and len(runs) > 0
