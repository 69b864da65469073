"""Every command-to-rerun line rebuilds the settings it was written from.

The lines come from one serializer (``RunSettings.to_argv``): the ``command`` of a run's
metadata.json, the calibration's, and the app's "same worlds on the command line". Each is
parsed back by the CLI's own parser and must give the same :class:`RunSettings`.
"""

from __future__ import annotations

import datetime as dt
import shlex

import pytest

from forecast.settings import RunSettings
from outputs.app.state import AppState, command_line, run_settings_of
from outputs.cli import build_parser
from outputs.provenance import reproduce_command

SETTINGS = [
    RunSettings(),
    RunSettings(as_of=None, samples=3000, seed=11, years="2025:2029", thresholds="3e27,1e28"),
    RunSettings(priors="moe", overrides=["mfu=beta mean 0.45, 0.35 to 0.55", "chip_growth=2"],
                correlate=["chip_growth,power_limit_growth=0.3"], repair_correlations=True, labs="3",
                lab_correlation=0.4, as_of=dt.date(2026, 6, 30), keep=50, samples=400, record="my runs.csv"),
]


def parsed(line: str) -> RunSettings:
    argv = shlex.split(line)
    assert argv[0] == "forecast"
    return RunSettings.from_args(build_parser(argv[1:]).parse_args(argv[1:]))


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("command", ["run", "report"])
def test_to_argv_parses_back_to_the_same_settings(settings, command):
    assert parsed(settings.command(command)) == settings
    assert parsed(settings.command(command, minimal=True)) == settings


def test_the_calibration_command_parses_back_to_its_settings():
    settings = RunSettings(overrides=["mfu=0.45"], as_of="2026-12-06", samples=500, seed=3, years="2025:2030")
    line = settings.command("calibrate", extra=["--chains", "2", "--draws", "150"])
    args = build_parser(shlex.split(line)[1:]).parse_args(shlex.split(line)[1:])
    assert (args.chains, args.draws) == (2, 150)
    assert RunSettings.from_args(args) == settings


def test_a_metadata_command_rebuilds_the_recorded_settings():
    meta = {"priors_builtin": "moe", "priors_file": "x/moe.toml", "overrides": {"mfu": "0.45"},
            "correlate": [], "labs": {"flag": None, "correlation_flag": 0.2}, "as_of": None,
            "seed": 8, "samples": 1234, "kept": 10, "years": [2025, 2026], "thresholds": [1e28]}
    line = reproduce_command(meta)
    assert "--keep 10" in line
    assert line.startswith("forecast report ") and "--as-of none" in line  # a prior forecast stays one
    assert parsed(line) == RunSettings.from_metadata(meta)


def test_the_app_command_line_rebuilds_the_page_settings():
    state = AppState(priors="moe", overrides=(("mfu", "0.45"),), correlate=("chip_growth,mfu=0.3",),
                     threshold=3e27, samples=4000, seed=7, years="2025:2031", as_of="none")
    line = command_line(state)
    assert parsed(line) == run_settings_of(state)
    assert "--thresholds" in line  # the page's threshold is not one of the defaults: the timeline has it


def test_a_saved_run_reruns_with_its_record_and_repaired_correlations(tmp_path):
    """metadata.json keeps ``--record`` and ``--repair-correlations``: without them its
    command would read another record, or refuse the correlations the run repaired."""
    import warnings

    import forecast
    from outputs.provenance import run_metadata
    from priors.correlations import CorrelationWarning

    record = tmp_path / "runs.csv"
    record.write_text("model,organization,date,training_compute_flop,confidence,source\n"
                      "Big Run,Lab,2026-03-01,2e27,reported,https://example.org/big\n", encoding="utf-8")
    # no correlation matrix has a and b together, both with c, yet a against c: repaired
    pairs = ["chip_growth,power_limit_growth=0.9", "chip_growth,capex_limit_growth=0.9",
             "power_limit_growth,capex_limit_growth=-0.9"]
    settings = RunSettings(correlate=pairs, repair_correlations=True, record=str(record), samples=1000, seed=5,
                           years="2025:2027", keep=10, as_of=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorrelationWarning)
        result = forecast.run_settings(settings)
    meta = run_metadata(result)
    assert meta["record"] == str(record) and meta["repair_correlations"] is True
    assert RunSettings.from_metadata(meta) == settings
    assert parsed(reproduce_command(meta)) == settings
    result.to_netcdf(tmp_path / "samples.nc")
    assert RunSettings.from_metadata(run_metadata(forecast.load(tmp_path / "samples.nc"))) == settings
