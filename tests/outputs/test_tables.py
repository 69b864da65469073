"""One number format everywhere: thresholds written alike in every CSV, "after 2035" in
crossing.csv, descriptions in the prior tables."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from outputs.tables import (
    crossing_table,
    format_prior_table,
    format_terminal_table,
    per_year_table,
    quantity_label,
    resources_table,
    timeline_table,
    write_tables,
)
from tests.streamed import assert_streamed_quantile


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


# --- what the largest run takes -----------------------------------------------------------


def _by_hand(result, variable):
    """10 ** (median, 5th, 95th percentile) of ``variable`` over the worlds, with numpy."""
    log10 = _worlds(result, variable)
    return (10.0 ** np.median(log10, axis=0), 10.0 ** np.quantile(log10, 0.05, axis=0),
            10.0 ** np.quantile(log10, 0.95, axis=0))


def _worlds(result, variable):
    return result.samples[variable].transpose("sample", "year").values.astype(float)


def _assert_quantiles_of(table, column, result, variable):
    """The table's median and 90% interval of ``column`` are those of the worlds (streamed)."""
    worlds = _worlds(result, variable)
    for suffix, q in (("", 0.5), ("_p05", 0.05), ("_p95", 0.95)):
        assert_streamed_quantile(np.log10(table[f"{column}{suffix}"].values), worlds, q)


@pytest.mark.parametrize("column, variable", [("cost_usd", "log10_run_cost_usd"),
                                              ("energy_gwh", "log10_energy_gwh")])
def test_per_year_cost_and_energy_are_the_samples_quantiles(small_run, column, variable):
    table = per_year_table(small_run)
    _assert_quantiles_of(table, column, small_run, variable)
    median, low, high = _by_hand(small_run, variable)
    assert (low < median).all() and (median < high).all()


def test_resources_table_has_power_and_capital_too(small_run):
    table = resources_table(small_run)
    for column, variable in (("power_gw", "log10_power_gw"), ("cluster_capex_usd", "log10_cluster_capex_usd")):
        _assert_quantiles_of(table, column, small_run, variable)
    shown = resources_table(small_run, display=True)
    assert list(shown.columns) == ["power", "capital", "cost", "energy"]


def test_cost_and_energy_cells_read_as_amounts(small_run):
    shown = per_year_table(small_run, display=True)
    table = per_year_table(small_run)
    year = int(small_run.years[-1])
    cost, energy = table.loc[year, ["cost_usd", "energy_gwh"]]
    assert shown.loc[year, "cost"] == (
        f"{quantity_label(cost, 'USD')} ({quantity_label(table.loc[year, 'cost_usd_p05'], 'USD')} - "
        f"{quantity_label(table.loc[year, 'cost_usd_p95'], 'USD')})")
    assert shown.loc[year, "energy"].startswith(quantity_label(energy, "GWh") + " (")
    assert all(cell.startswith("$") for cell in shown["cost"])
    assert all(cell.split(" (")[0].endswith(("GWh", "TWh", "PWh")) for cell in shown["energy"])


@pytest.mark.parametrize("value, unit, text", [
    (1.23e9, "USD", "$1.2bn"), (4.04e8, "USD", "$400M"), (3e9, "USD", "$3bn"), (999.7e9, "USD", "$1T"),
    (2.6e11, "USD", "$260bn"), (0.35, "GW", "350 MW"), (5.4, "GW", "5.4 GW"), (430, "GWh", "430 GWh"),
    (17_200, "GWh", "17 TWh"),
])
def test_quantity_label(value, unit, text):
    assert quantity_label(value, unit) == text


def test_terminal_table_puts_cost_and_energy_in_a_second_table(small_run):
    text = format_terminal_table(small_run)
    assert max(len(line) for line in text.splitlines()) <= 100
    headers = [line.split() for line in text.splitlines() if line.startswith("year")]
    assert len(headers) == 2
    assert "cost" not in headers[0] and "binding" in headers[0]
    assert headers[1] == ["year", "cost", "energy"]


def test_summary_files_carry_cost_and_energy(small_run, tmp_path):
    write_tables(small_run, tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv", index_col="year")
    for column in ("cost_usd", "energy_gwh"):
        for name in (column, f"{column}_p05", f"{column}_p95"):
            assert summary[name].dtype == float, name
    # summary.csv rounds to 6 significant digits (2e-6 dex): well inside the bound
    assert_streamed_quantile(np.log10(summary["energy_gwh"].values), _worlds(small_run, "log10_energy_gwh"), 0.5)
    markdown = (tmp_path / "summary.md").read_text()
    assert markdown.count("| year |") == 2


def test_report_says_what_the_largest_run_takes(small_run):
    from outputs.write.report import report_markdown

    text = report_markdown(small_run)
    section = text.split("## Power, capital, cost and energy", 1)[1].split("\n## ", 1)[0]
    assert "](resources.png)" in section
    shown = resources_table(small_run, display=True)
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in section.splitlines() if line.startswith("| 20")}
    assert rows == {str(year): list(row.values) for year, row in shown.iterrows()}
    assert "supply, power, funding, data or latency" in text
