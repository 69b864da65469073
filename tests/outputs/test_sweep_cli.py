"""``forecast sweep``: the folder it writes, a grid point equal to ``forecast run --set``,
and one-line errors (exit code 2, no folder) for bad grids."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr

from outputs.cli import main
from forecast.record.runs import record_checked_date  # the default --as-of
from tests.figures import check_figures

#: Small and shared with tests/forecast/test_sweep.py: the same compiled structures.
SMALL = ["--samples", "2000", "--seed", "7", "--years", "2025:2035", "--threshold", "1e28", "--year", "2028"]


@pytest.fixture(scope="module")
def curve_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "curve"
    assert main(["sweep", "--vary", "chip_growth=1.2:4:3", *SMALL, "--out", str(out), "--format", "png,svg"]) == 0
    return out


def test_sweep_writes_a_complete_folder(curve_folder, capsys):
    names = {p.name for p in curve_folder.iterdir()}
    assert {"sweep.csv", "sweep.nc", "sweep.png", "sweep.svg", "priors.csv", "priors.md"} <= names
    check_figures(curve_folder)
    table = pd.read_csv(curve_folder / "sweep.csv")
    assert list(table.columns[:3]) == ["chip_growth", "probability", "mcse"] and len(table) == 3
    with xr.open_dataset(curve_folder / "sweep.nc", engine="h5netcdf") as grid:
        assert grid["probability"].dims == ("chip_growth",)
        assert grid.attrs["threshold"] == 1e28 and grid.attrs["year"] == 2028
        assert grid.attrs["seed"] == 7 and grid.attrs["samples"] == 2000 and grid.attrs["as_of"] == record_checked_date().isoformat()
        assert list(grid["chip_growth"].values) == list(table["chip_growth"])


def test_a_grid_point_equals_forecast_run_with_set(curve_folder, tmp_path, capsys):
    """The middle row of sweep.csv, given back to ``forecast run --set``, has the same P."""
    text = pd.read_csv(curve_folder / "sweep.csv", dtype=str).iloc[1]  # the value as written
    row = pd.read_csv(curve_folder / "sweep.csv").iloc[1]
    run_out = tmp_path / "run"
    args = ["run", "--set", f"chip_growth={text['chip_growth']}", "--samples", "2000", "--seed", "7",
            "--years", "2025:2035", "--format", "png", "--out", str(run_out)]
    assert main(args) == 0
    with xr.open_dataset(run_out / "samples.nc", engine="h5netcdf") as summary:  # root: the summaries
        reach = summary["reach_probability"].sel(threshold=1e28, year=2028)
        se = summary["reach_probability_mcse"].sel(threshold=1e28, year=2028)
        assert float(reach) == row["probability"] and float(se) == row["mcse"]


def test_terminal_summary_of_a_curve(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "--vary", "chip_growth=1.2:4:3", *SMALL, "--out", str(out), "--no-baseline"]) == 0
    printed = capsys.readouterr()
    assert "P(run ≥ 1e28 FLOP by 2028) with chip_growth pinned" in printed.out
    assert "P crosses 50% at chip_growth" in printed.out and str(out) in printed.out
    assert "With every prior random" not in printed.out
    # the pin drops chip_growth's correlations: said once, not once per grid point
    assert printed.err.count("rank correlations") == 1


def test_two_priors_map(tmp_path, capsys):
    out = tmp_path / "map"
    args = ["sweep", "--vary", "mfu=0.2:0.6:2", "--vary", "chip_growth=1.2:4:3", *SMALL, "--as-of", "none",
            "--no-baseline", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "chip_growth \\ mfu" in printed and "P ranges from" in printed
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == ["mfu", "chip_growth", "probability", "mcse"] and len(table) == 6
    with xr.open_dataset(out / "sweep.nc", engine="h5netcdf") as grid:
        assert grid["probability"].dims == ("mfu", "chip_growth") and grid.attrs["as_of"] == "none"


@pytest.mark.parametrize(
    "vary, message",
    [
        (["--vary", "chip_groth=1:2:3"], "forecast sweep: error: --vary: chip_groth: unknown prior name (did you mean 'chip_growth'?)"),
        (["--vary", "chip_growth=1:2:1"], "needs N >= 2"),
        (["--vary", "chip_growth=0:2:3"], "--vary: chip_growth: the grid 0..2 leaves the prior's domain"),
        (["--vary", "mfu=0.1:1.2:3"], "--vary: mfu: the grid 0.1..1.2 leaves the prior's domain"),
        (["--vary", "chip_growth=1:2:3", "--vary", "mfu=0.3:0.5:3", "--vary", "lag_years=0:1:3"],
         "--vary: a sweep varies at most 2 priors"),
        (["--vary", "chip_growth=1:2"], "--vary: expected NAME=LO:HI:N"),
        (["--vary", "chip_growth=1:2:3", "--set", "chip_growth=2"], "both varied and set"),
        (["--vary", "chip_growth=1:2:3", "--year", "2036"], "--year: 2036 is outside the forecast years"),
        (["--vary", "chip_growth=1:2:3", "--threshold", "big"], "--threshold: 'big' is not a number"),
    ],
)
def test_bad_grids_are_one_line_errors(tmp_path, capsys, vary, message):
    out = tmp_path / "out"
    args = ["sweep", *vary, "--samples", "10", "--years", "2025:2035", "--year", "2028", "--out", str(out)]
    if "--year" in vary:
        args = ["sweep", *vary, "--samples", "10", "--years", "2025:2035", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
