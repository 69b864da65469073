"""The published forecasts: the data file, its validation, and their marks on the fan chart."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from forecast.record.published import COLUMNS, DEFAULT_PATH, KINDS, load_published
from outputs import plot_style
from outputs.plots.fan import plot_fan
from outputs.plots.marks import PUBLISHED_STYLES
from tests.outputs.test_plots import _drawn_fan

HEADER = ",".join(COLUMNS)
GOOD = ('Epoch AI,Can AI scaling continue through 2030?,Epoch AI,2024-08-20,2030,2e29,'
        'feasible_upper_bound,"2e29 FLOP runs feasible by 2030",https://epoch.ai/x')


def _write(tmp_path, *rows, header=HEADER):
    path = tmp_path / "published.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --- the data file -----------------------------------------------------------------------


def test_every_row_loads_with_its_columns():
    table = load_published()
    assert DEFAULT_PATH.is_file()
    assert len(table) >= 4
    assert list(table.columns) == [*COLUMNS, "log10_flop"]
    for row in table.itertuples(index=False):
        assert row.source and row.title and row.author and row.quote
        assert row.kind in KINDS
        assert 2024 <= row.year <= 2035
        assert row.flop > 0 and math.isclose(row.log10_flop, math.log10(row.flop))
        assert row.link.startswith("https://")
        assert len(row.date_published) in (7, 10)  # YYYY-MM or YYYY-MM-DD


def test_epoch_2e29_by_2030_is_in_the_file():
    # From the source: "We find that training runs of 2e29 FLOP will likely be feasible by
    # the end of this decade." (Epoch AI, 20 Aug 2024)
    table = load_published()
    epoch = table[table["link"] == "https://epoch.ai/blog/can-ai-scaling-continue-through-2030"]
    assert len(epoch) == 1
    row = epoch.iloc[0]
    assert row["year"] == 2030
    assert row["flop"] == pytest.approx(2e29)
    assert row["kind"] == "feasible_upper_bound"
    assert row["date_published"] == "2024-08-20"


def test_nesov_figures_are_those_of_the_essay():
    # "the 1 GW training systems built in 2025 will start producing 5e27 FLOPs models" (2026);
    # 5 GW systems "enable pretraining models for 5e28 FLOPs", ready "by 2028".
    table = load_published()
    nesov = table[table["author"] == "Vladimir Nesov"].set_index("year")["flop"]
    assert nesov.loc[2026] == pytest.approx(5e27)
    assert nesov.loc[2028] == pytest.approx(5e28)


# --- validation ----------------------------------------------------------------------------


def test_a_well_formed_file_loads(tmp_path):
    table = load_published(_write(tmp_path, GOOD))
    assert table.loc[0, "year"] == 2030 and table.loc[0, "flop"] == 2e29


@pytest.mark.parametrize("column, bad, words", [
    ("kind", "guess", "unknown kind 'guess'"),
    ("flop", "0", "must be a positive number"),
    ("flop", "-3e27", "must be a positive number"),
    ("flop", "lots", "expected a number of FLOP"),
    ("year", "20x0", "expected a whole year"),
    ("year", "1890", "outside"),
    ("date_published", "2024-13", "not a date"),
    ("date_published", "Aug 2024", "expected YYYY-MM-DD or YYYY-MM"),
    ("link", "epoch.ai/blog", "expected an http(s) address"),
    ("source", "", "empty"),
])
def test_a_bad_cell_names_file_line_and_column(tmp_path, column, bad, words):
    cells = dict(zip(COLUMNS, ["Epoch AI", "T", "A", "2024-08-20", "2030", "2e29",
                               "feasible_upper_bound", "q", "https://epoch.ai/x"]))
    cells[column] = bad
    path = _write(tmp_path, GOOD, ",".join(cells.values()))
    with pytest.raises(ValueError) as caught:
        load_published(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: line 3: column {column!r}: ")
    assert words in message


def test_a_missing_column_or_short_row_is_named(tmp_path):
    header = HEADER.replace(",kind", "")
    with pytest.raises(ValueError, match=r"line 1: missing column 'kind'"):
        load_published(_write(tmp_path, GOOD, header=header))
    with pytest.raises(ValueError, match=r"line 2: 3 cells, expected 9"):
        load_published(_write(tmp_path, "a,b,c"))
    with pytest.raises(ValueError, match=r"no rows"):
        load_published(_write(tmp_path))
    with pytest.raises(ValueError, match="no such file"):
        load_published(tmp_path / "absent.csv")


def test_line_numbers_count_a_quote_that_spans_lines(tmp_path):
    spanning = GOOD.replace('"2e29 FLOP runs feasible by 2030"', '"two\nlines"')
    bad = GOOD.replace("2e29", "0", 1)
    with pytest.raises(ValueError, match=r"line 4: column 'flop'"):
        load_published(_write(tmp_path, spanning, bad))


# --- on the fan chart --------------------------------------------------------------------


def _marks(ax):
    return [line for line in ax.get_lines() if line.get_gid() == "published"]


def test_fan_marks_each_published_forecast_inside_its_years(small_run):
    ax = _drawn_fan(small_run)
    left, right = ax.get_xlim()
    table = load_published()
    inside = table[(table["year"] >= left) & (table["year"] <= right)]
    assert len(inside) >= 1
    marks = _marks(ax)
    assert len(marks) == len(inside)
    drawn = sorted((float(m.get_xdata()[0]), round(float(m.get_ydata()[0]), 6)) for m in marks)
    expected = sorted((float(y), round(math.log10(f), 6)) for y, f in zip(inside["year"], inside["flop"]))
    assert drawn == expected
    bottom, top = ax.get_ylim()
    assert all(bottom <= y <= top for _, y in drawn)
    # one marker shape per kind, and one legend entry per kind drawn
    for mark, kind in zip(sorted(marks, key=lambda m: (m.get_xdata()[0], m.get_ydata()[0])),
                          inside.sort_values(["year", "log10_flop"])["kind"]):
        assert mark.get_marker() == PUBLISHED_STYLES[kind]["marker"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for kind in set(inside["kind"]):
        assert labels.count(PUBLISHED_STYLES[kind]["label"]) == 1
    # a short label per point, none overlapping another
    texts = [t for t in ax.texts if t.get_gid() == "published-label"]
    assert sorted(t.get_text() for t in texts) == sorted(inside["source"])
    boxes = [t.get_window_extent() for t in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_fan_without_published_forecasts(small_run):
    ax = _drawn_fan(small_run, published=None)
    assert _marks(ax) == []
    assert not [t for t in ax.texts if t.get_gid() == "published-label"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(label.startswith("published:") for label in labels)


def test_fan_drops_published_forecasts_outside_its_years(small_run):
    table = load_published().iloc[:1].copy()
    table.loc[table.index[0], "year"] = int(small_run.years.max()) + 5
    ax = _drawn_fan(small_run, published=table)
    assert _marks(ax) == []


def test_two_fans_mark_each_published_forecast_once(small_run):
    with plot_style():
        figure = Figure(layout="constrained")
        ax = figure.add_subplot()
        plot_fan(small_run, ax=ax, published=load_published())
        plot_fan(small_run, ax=ax, published=load_published())
        figure.draw_without_rendering()
    keys = [(m.get_xdata()[0], m.get_ydata()[0]) for m in _marks(ax)]
    assert keys and len(keys) == len(set(keys))
    assert len([t for t in ax.texts if t.get_gid() == "published-label"]) == len(keys)


def test_beside_ours_is_the_share_of_worlds_reaching_each_size_by_its_year(small_run):
    from forecast.record.published import beside_ours

    table = beside_ours(small_run)
    log10 = small_run.log10_compute.transpose("sample", "year")
    years = list(log10["year"].values)
    frontier = np.maximum.accumulate(log10.values, axis=1)  # the largest run so far, by hand
    assert len(table) > 0 and list(table["year"]) == sorted(table["year"])
    for _, row in table.iterrows():
        by_hand = np.mean(frontier[:, years.index(row["year"])] >= np.log10(row["flop"]))
        assert row["probability"] == pytest.approx(by_hand, abs=1e-12)
        assert row["mcse"] == pytest.approx(np.sqrt(by_hand * (1 - by_hand) / frontier.shape[0]))
