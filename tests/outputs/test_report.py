"""forecast.report (headline numbers and wording) and outputs.report (the report folder).

Expected numbers are recomputed here from the samples in the NetCDF file with plain NumPy,
never copied from the program's output.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import forecast
from forecast.headline import headline_table, headline_years
from outputs.provenance import rerun, run_metadata
from outputs.text import (
    crossing_texts,
    decimals_for,
    flop_label,
    format_percent,
    format_probability,
    headline_sentences,
)
from outputs.write.report import Section, write_report
from tests.streamed import assert_streamed_quantile


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# -- wording and digits --------------------------------------------------------------------

@pytest.mark.parametrize(
    "mcse, decimals",
    [(0.011, 0), (0.0016, 0), (0.0011, 0), (0.0005, 1), (0.00011, 1), (0.00005, 2), (1e-9, 3), (0.0, 0)],
    ids=["1.1pp", "0.16pp", "0.11pp", "0.05pp", "0.011pp", "0.005pp", "capped", "zero"],
)
def test_decimals_follow_the_standard_error(mcse, decimals):
    assert decimals_for(mcse) == decimals


def test_more_worlds_never_show_fewer_digits():
    p = 0.37
    shown = [decimals_for(math.sqrt(p * (1 - p) / n)) for n in (100, 1_000, 10_000, 100_000, 10**6, 10**7, 10**9)]
    # 0.015 pp at 1e7 worlds -> one decimal; 0.0015 pp at 1e9 -> two
    assert shown == sorted(shown) == [0, 0, 0, 0, 1, 1, 2]


@pytest.mark.parametrize(
    "p, decimals, text",
    [(0.62, 0, "62%"), (0.6234, 1, "62.3%"), (0.004, 0, "<1%"), (0.998, 0, ">99%"), (0.0, 0, "0%"), (1.0, 1, "100.0%")],
)
def test_format_percent_never_rounds_to_certainty(p, decimals, text):
    assert format_percent(p, decimals) == text


def test_headline_sentence_matches_the_example_form():
    # n = 2000, p = 0.62: mcse 1.085 pp -> whole percents; 90% interval 62 -+ 1.645 * 1.085
    p, n = 0.62, 2000
    mcse = math.sqrt(p * (1 - p) / n)
    assert format_probability(p, mcse, n) == "62% (90% CI of the Monte Carlo estimate 60-64%)"
    assert format_probability(0.0, 0.0, 2000) == "below 0.2% (none of 2,000 worlds)"
    assert format_probability(1.0, 0.0, 100_000).startswith("above 99.99")


def test_crossing_texts_name_open_ends():
    assert crossing_texts([2027.0, 2029.0, np.nan], first_year=2025, last_year=2035) == ("2029", "2027 to after 2035")
    assert crossing_texts([2025.0, 2025.0, 2026.0], first_year=2025, last_year=2035) == ("2025 or earlier", "≤2025 to 2026")


@pytest.mark.parametrize("value, label", [(1e28, "1e28"), (3e27, "3e27"), (2.5e26, "2.5e26")])
def test_flop_label(value, label):
    assert flop_label(value) == label


@pytest.mark.parametrize("value, digits, label", [(5.83e28, 2, "5.8e28"), (9.96e26, 2, "1e27"), (1.234e-5, 3, "1.23e-5")])
def test_flop_label_to_significant_digits(value, digits, label):
    assert flop_label(value, digits) == label


@pytest.mark.parametrize("value, text", [
    (2030.5, "2030"), (2024.4, "2024"), (1470.2, "1470"), (0.45, "0.45"), (1.25, "1.25"), (365.0, "365"),
    (5e4, "5e4"), (1.5e-4, "1.5e-4"), (1e28, "1e28"), (0.00999999, "0.01"),
])
def test_one_number_format_writes_years_as_integers_and_no_plus_in_exponents(value, text):
    from outputs.text import format_number
    assert format_number(value) == text
    assert format_number(2027.54, year=True) == "2027.5"


def test_probabilities_near_certainty_never_read_as_a_fall():
    # at n = 100,000 worlds the rule of three bounds an all-worlds probability at
    # 100 - 300 / n % = 99.997%: a probability just below 1 must not print above that
    n = 100_000
    all_worlds = format_probability(1.0, 0.0, n, interval=False)
    assert all_worlds == ">99.997%"
    mcse = math.sqrt(0.99999 * 0.00001 / n)  # 0.001 points -> three decimals
    assert format_probability(0.99999, mcse, n, interval=False) == ">99.997%"
    assert format_probability(0.99996, mcse, n, interval=False) == "99.996%"
    assert format_probability(0.0, 0.0, n, interval=False) == "<0.003%"
    assert format_probability(0.00001, mcse, n, interval=False) == "<0.003%"


# -- numbers from samples --------------------------------------------------------------------

def _reach_from_samples(log10_compute: np.ndarray, years: np.ndarray, thresholds) -> np.ndarray:
    """P(running max >= threshold), shape (threshold, year), by plain NumPy."""
    order = np.argsort(years)
    running = np.maximum.accumulate(log10_compute[:, order], axis=1)
    return np.array([(running >= np.log10(t)).mean(axis=0) for t in thresholds])


def _first_year(p_row: np.ndarray, years: np.ndarray, q: float) -> float:
    hits = np.nonzero(p_row >= q)[0]
    return float(years[hits[0]]) if hits.size else np.nan


def test_headline_table_equals_numpy(small_run):
    table = headline_table(small_run, years=(2027, 2030, 2099))
    assert list(table["year"].values) == [2027, 2030]  # out-of-range years are dropped
    years = small_run.years
    reach = _reach_from_samples(small_run.log10_compute.transpose("sample", "year").values, years,
                                small_run.thresholds)
    columns = [list(years).index(y) for y in (2027, 2030)]
    np.testing.assert_array_equal(table["probability"].transpose("threshold", "year").values, reach[:, columns])
    n = small_run.n_samples
    p = reach[:, columns]
    np.testing.assert_allclose(table["mcse"].transpose("threshold", "year").values, np.sqrt(p * (1 - p) / n))
    for i in range(len(small_run.thresholds)):
        expected = [_first_year(reach[i], years, q) for q in (0.05, 0.5, 0.95)]
        np.testing.assert_array_equal(table["crossing_year"].isel(threshold=i).values, expected)


def test_headline_years_default(small_run):
    assert headline_years(small_run) == (2027, 2030, 2035)
    sentences = headline_sentences(small_run)
    assert len(sentences) == len(small_run.thresholds) * 4


# -- the report folder -------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    # eleven years, the default's count (its compiled model), but not 2035
    result = forecast.run(samples=1500, seed=11, years="2024:2034", thresholds="1e26,1e28,3e28")
    folder = tmp_path_factory.mktemp("report")
    (folder / "extra").mkdir()
    write_report(result, folder, sections=[("Backtest", "Scores: **CRPS** 0.3.\n\n- one\n- two")])
    return folder


def _samples_from_file(folder):
    prior = xr.open_dataset(folder / "samples.nc", group="prior", engine="h5netcdf")
    log10 = prior["log10_training_compute"].squeeze("chain", drop=True).transpose("draw", "year")
    thresholds = np.atleast_1d(prior.attrs["thresholds"]).astype(float)
    return log10.values.astype(float), prior["year"].values, thresholds, prior


def test_report_numbers_equal_those_recomputed_from_the_netcdf(report_dir):
    log10, years, thresholds, _ = _samples_from_file(report_dir)
    reach = _reach_from_samples(log10, years, thresholds)
    headline = pd.read_csv(report_dir / "headline.csv", index_col="threshold")
    assert list(headline.index) == list(thresholds)
    for year in (2027, 2030):  # 2035 is outside 2024..2034
        np.testing.assert_allclose(headline[f"probability_{year}"].values, reach[:, list(years).index(year)],
                                   rtol=1e-9, atol=0)
    assert not any(c.endswith("_2035") for c in headline.columns)
    for i in range(len(thresholds)):
        for q in (5, 50, 95):
            expected = _first_year(reach[i], years, q / 100)
            got = headline[f"crossing_p{q:02d}"].iloc[i]
            assert (np.isnan(expected) and np.isnan(got)) or got == expected

    # The shown percentages are those numbers rounded to the digits the MCSE allows.
    text = (report_dir / "report.md").read_text()
    n = log10.shape[0]
    for i, t in enumerate(thresholds):
        row = re.search(rf"^\| {re.escape(flop_label(t))} FLOP +\|(.*)\|$", text, re.M)
        assert row, f"no headline row for {t:g}"
        cells = [c.strip() for c in row[1].split("|")]
        for cell, year in zip(cells[:2], (2027, 2030)):
            p = reach[i, list(years).index(year)]
            if p in (0.0, 1.0):
                assert cell[0] in "<>"
                continue
            step = 10.0 ** -decimals_for(math.sqrt(p * (1 - p) / n))
            number = float(cell.strip("<>%"))
            if cell[0] == "<":
                assert 0 < 100 * p < number
            elif cell[0] == ">":
                assert number < 100 * p < 100
            else:
                assert abs(number - 100 * p) <= step / 2 + 1e-9
        median = _first_year(reach[i], years, 0.5)
        assert cells[2] == (f"after {years[-1]}" if np.isnan(median) else
                            f"{int(median)} or earlier" if median == years[0] else str(int(median)))


def test_per_year_table_in_the_report_matches_the_samples(report_dir):
    log10, years, _, _ = _samples_from_file(report_dir)
    summary = pd.read_csv(report_dir / "summary.csv", index_col="year")
    assert_streamed_quantile(np.log10(summary["median"].values), log10, 0.5)
    assert_streamed_quantile(np.log10(summary["p95"].values), log10, 0.95)


def test_report_files_and_sections(report_dir):
    for name in ("report.md", "report.html", "metadata.json", "samples.nc", "headline.csv",
                 "summary.csv", "priors.md", "fan.png", "fan.svg", "timeline.png", "constraints.svg"):
        assert (report_dir / name).is_file(), name
    text = (report_dir / "report.md").read_text()
    for heading in ("## Headline numbers", "## Priors", "## The binding constraint", "## Backtest",
                    "## Reproduce"):
        assert heading in text
    assert "## Sensitivity" not in text  # no sensitivity results: no section
    page = (report_dir / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4  # fan, timeline, constraints, resources
    assert "## Power, capital, cost and energy" in text
    # no heading repeats the title of the figure under it
    headings = {line[3:].strip().lower() for line in text.splitlines() if line.startswith("## ")}
    assert not headings & {"largest training run by year", "when is each threshold first reached?",
                           "what limits the largest run?", "what the largest run takes"}
    # the headline table once (no bullets repeating it), and the questions' two quantities
    assert not [line for line in text.splitlines() if line.startswith("- A ") and "FLOP run by" in line]
    assert "| >= 1e28 by 2028-12-31 |" in text and "a public estimate that large exists" in text
    # long cells wrap rather than run off the page, on screen and in print
    assert "overflow-wrap: anywhere" in page and "@media print" in page
    assert "<strong>CRPS</strong>" in page and "<table>" in page
    assert 'src="fan.png"' not in page  # every image inline: the page is one file


def test_metadata_round_trips(report_dir):
    meta = json.loads((report_dir / "metadata.json").read_text())
    assert meta["samples"] == 1500 and meta["seed"] == 11
    assert meta["years"] == list(range(2024, 2035)) and meta["thresholds"] == [1e26, 1e28, 3e28]
    assert meta["overrides"] == {} and meta["priors_builtin"] == "default"
    again = rerun(meta)
    log10, years, thresholds, prior = _samples_from_file(report_dir)
    assert again.priors.fingerprint() == meta["priors_sha256"] == prior.attrs["priors_sha256"]
    np.testing.assert_allclose(again.log10_compute.transpose("sample", "year").values, log10, rtol=1e-6)
    np.testing.assert_array_equal(again.timeline["probability"].values,
                                  _reach_from_samples(log10, years, thresholds))


def test_metadata_recovers_overrides_and_reruns(small_run, tmp_path):
    result = forecast.run(samples=300, seed=3, overrides={"mfu": "0.45"})
    meta = run_metadata(result)
    assert meta["overrides"] == {"mfu": "0.45"}
    assert "--set mfu=0.45" in meta["command"]
    again = rerun(json.loads(json.dumps(meta)))
    xr.testing.assert_equal(again.log10_compute, result.log10_compute)


def test_metadata_records_correlations_and_reruns_them():
    # one pair changed, one default pair removed: both must come back from the record
    pairs = ["chip_growth,power_limit_growth=0.3", "chip_flops_growth,duration_days_max=0"]
    result = forecast.run(samples=300, seed=3, correlate=pairs)
    meta = run_metadata(result)
    assert sorted(meta["correlate"]) == sorted(pairs)
    assert meta["correlations"]["chip_growth.power_limit_growth"] == 0.3
    assert "chip_flops_growth.duration_days_max" not in meta["correlations"]
    assert "--correlate chip_growth,power_limit_growth=0.3" in meta["command"]
    again = rerun(json.loads(json.dumps(meta)))
    assert again.priors.fingerprint() == result.priors.fingerprint() == meta["priors_sha256"]
    xr.testing.assert_equal(again.log10_compute, result.log10_compute)


def test_sections_from_a_run_folder_bring_their_images(small_run, tmp_path):
    source = tmp_path / "sens"
    source.mkdir()
    (source / "sobol.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (source / "sensitivity.md").write_text("# Sensitivity of the forecast\n\n## Indices\n\n![Sobol](sobol.png)\n")
    out = tmp_path / "out"
    out.mkdir()
    write_report(small_run, out, sections=[source, Section("Notes", "plain *text*")])
    text = (out / "report.md").read_text()
    assert "## Sensitivity of the forecast" in text and "### Indices" in text and "## Notes" in text
    assert (out / "sobol.png").is_file()


def test_monte_carlo_interval_never_collapses_to_one_number():
    # p = 0.82 from 100,000 worlds: MCSE 0.12 points, shown as 82%; its 90% CI 81.8-82.2%
    mcse = (0.82 * 0.18 / 100_000) ** 0.5
    assert format_probability(0.82, mcse, 100_000) == "82% (90% CI of the Monte Carlo estimate 81.8-82.2%)"


def test_report_from_a_saved_run_refuses_new_conditioning(tmp_path, capsys):
    from outputs.cli import main

    code = main(["report", "--from", str(tmp_path / "run"), "--as-of", "none", "--record", "x.csv",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--as-of, --record cannot change it" in err and "\n" not in err
