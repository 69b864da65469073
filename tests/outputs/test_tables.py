"""One number format everywhere: thresholds written alike in every CSV, "after 2035" in
crossing.csv, descriptions in the prior tables."""

from __future__ import annotations

import csv

import numpy as np

from outputs.tables import crossing_table, format_prior_table, timeline_table, write_tables


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_thresholds_are_written_alike_in_every_csv(small_run, tmp_path):
    write_tables(small_run, tmp_path)
    expected = ["1e26", "1e27", "1e28", "1e29", "1e30"]
    summary_header = _rows(tmp_path / "summary.csv")[0]
    assert [c.removeprefix("P>=") for c in summary_header if c.startswith("P>=")] == expected
    timeline = _rows(tmp_path / "timeline.csv")
    assert list(dict.fromkeys(row[0] for row in timeline[1:])) == expected
    crossing = _rows(tmp_path / "crossing.csv")
    assert [row[0] for row in crossing[1:]] == expected
    assert all("+" not in cell for row in timeline + crossing for cell in row[:1])
    # and each still reads back as the number it stands for
    assert [float(t) for t in expected] == list(small_run.thresholds)


def test_crossing_csv_says_after_the_last_year(small_run):
    table = crossing_table(small_run)
    quantiles = small_run.crossing_quantiles
    for threshold, row in zip(small_run.thresholds, table.itertuples(index=False)):
        for value, cell in zip(quantiles.sel(threshold=threshold).values, row):
            assert cell == (f"after {int(small_run.years[-1])}" if np.isnan(value) else str(int(value)))
    # 1e30 by 2035 in 4,000 default worlds: far fewer than half cross, so the median is "after"
    assert table.loc["1e30", "p50"] == "after 2035"


def test_timeline_table_keeps_probabilities_as_numbers(small_run):
    table = timeline_table(small_run)
    assert table["probability"].dtype == float
    assert set(table["threshold"]) == {"1e26", "1e27", "1e28", "1e29", "1e30"}


def test_prior_tables_carry_each_prior_description(default_priors):
    text = format_prior_table(default_priors)
    markdown = format_prior_table(default_priors, markdown=True)
    for prior in default_priors:
        if prior.description:
            first_words = " ".join(prior.description.split()[:4])
            assert first_words in " ".join(text.split()), prior.name
            assert first_words in markdown, prior.name
