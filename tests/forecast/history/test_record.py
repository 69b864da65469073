"""The historical record and the series derived from it."""

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.history.record import (
    COLUMNS,
    DEFAULT_PATH,
    decimal_year,
    frontier_series,
    load_runs,
    runs_before,
    yearly_frontier,
)

NAMED_MODELS = [
    "AlexNet",
    "GPT-3 175B",
    "PaLM 540B",
    "GPT-4",
    "Gemini 1.0 Ultra",
    "Llama 3.1 405B",
    "Grok 2",
    "Grok 3",
]


# --- the shipped data file, read without the loader ------------------------------------------


@pytest.fixture(scope="module")
def raw_rows():
    with open(DEFAULT_PATH, newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def test_record_has_at_least_30_runs(raw_rows):
    assert len(raw_rows) >= 30


def test_record_dates_parse_and_span_2012_to_2025(raw_rows):
    dates = pd.to_datetime([r["date"] for r in raw_rows], format="%Y-%m-%d")
    assert dates.min().year == 2012
    assert dates.max().year == 2025


def test_record_compute_positive(raw_rows):
    values = np.array([float(r["training_compute_flop"]) for r in raw_rows])
    assert np.all(np.isfinite(values)) and np.all(values > 0)
    # plausible range for 2012..2025 frontier runs: AlexNet ~5e17 .. a few e26
    assert values.min() > 1e17 and values.max() < 1e27


def test_record_every_row_sourced(raw_rows):
    for r in raw_rows:
        source = r["source"].strip()
        assert source, r["model"]
        assert any(tag in source for tag in ("http", "arXiv", "Nature")), r["model"]
        assert r["confidence"] in ("reported", "estimated"), r["model"]


def test_record_no_duplicate_models(raw_rows):
    names = [r["model"] for r in raw_rows]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", NAMED_MODELS)
def test_record_names_model(raw_rows, name):
    assert name in {r["model"] for r in raw_rows}


def test_gpt3_value_is_the_papers(raw_rows):
    # Brown et al. 2020, Table D.1: 3.14e23 FLOP
    row = next(r for r in raw_rows if r["model"] == "GPT-3 175B")
    assert float(row["training_compute_flop"]) == pytest.approx(3.14e23)
    assert row["confidence"] == "reported"


def test_load_runs_adds_columns_and_sorts():
    runs = load_runs()
    assert list(runs.columns) == [*COLUMNS, "year_frac", "log10_compute"]
    assert runs["date"].is_monotonic_increasing
    gpt3 = runs.loc[runs["model"] == "GPT-3 175B"].iloc[0]
    assert gpt3["log10_compute"] == pytest.approx(np.log10(3.14e23))


# --- validation errors name the file and the row ----------------------------------------------

GOOD = "A,Org,2015-01-01,1e20,reported,https://example.org/a"


def _write(tmp_path, *lines):
    path = tmp_path / "runs.csv"
    path.write_text("\n".join([",".join(COLUMNS), *lines]) + "\n")
    return path


@pytest.mark.parametrize(
    "bad, match",
    [
        ("B,Org,2015-13-01,1e20,reported,src", "line 3.*date"),
        ("B,Org,yesterday,1e20,reported,src", "line 3.*date"),
        ("B,Org,2015-02-01,-1e20,reported,src", "line 3.*positive"),
        ("B,Org,2015-02-01,0,reported,src", "line 3.*positive"),
        ("B,Org,2015-02-01,lots,reported,src", "line 3.*not a number"),
        ("B,Org,2015-02-01,1e20,guessed,src", "line 3.*confidence"),
        ("B,Org,2015-02-01,1e20,reported,", "line 3.*source"),
        ("A,Org,2015-02-01,1e20,reported,src", "line 3.*duplicate.*line 2"),
    ],
    ids=["bad-month", "not-a-date", "negative", "zero", "text", "confidence", "no-source",
         "duplicate"],
)
def test_load_runs_rejects_bad_rows(tmp_path, bad, match):
    path = _write(tmp_path, GOOD, bad)
    with pytest.raises(ValueError, match=match) as info:
        load_runs(path)
    assert str(path) in str(info.value)


def test_load_runs_rejects_missing_column(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("model,date\nA,2015-01-01\n")
    with pytest.raises(ValueError, match="missing column"):
        load_runs(path)


# --- derived series ---------------------------------------------------------------------------


def _runs(dates, computes):
    return pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(len(dates))],
            "date": pd.to_datetime(dates),
            "training_compute_flop": np.asarray(computes, dtype=float),
        }
    )


def test_frontier_series_keeps_strict_records():
    runs = _runs(
        ["2012-01-01", "2013-01-01", "2014-01-01", "2015-01-01", "2016-01-01"],
        [1e20, 5e19, 2e20, 2e20, 3e21],  # a drop, a new record, a tie, a record
    )
    series = frontier_series(runs)
    assert list(series["model"]) == ["m0", "m2", "m4"]


def test_frontier_series_same_day_keeps_largest():
    runs = _runs(["2020-05-01", "2020-05-01"], [3e23, 1e23])
    assert list(frontier_series(runs)["model"]) == ["m0"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4000), st.floats(1e15, 1e28, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_frontier_series_is_a_running_max(rows):
    days, computes = zip(*rows)
    dates = pd.Timestamp("2012-01-01") + pd.to_timedelta(days, unit="D")
    runs = _runs(dates, computes)
    series = frontier_series(runs)
    kept = series["training_compute_flop"].to_numpy()
    assert np.all(np.diff(kept) > 0)
    assert kept[-1] == max(computes)
    # every run lies at or below the record standing at its date
    for day, value in zip(dates, computes):
        standing = series.loc[series["date"] <= day, "training_compute_flop"]
        assert len(standing) and value <= standing.max()


def test_yearly_frontier_by_hand():
    runs = _runs(["2012-06-01", "2014-03-01", "2014-09-01", "2016-02-01"], [1e18, 1e20, 1e19, 1e22])
    table = yearly_frontier(runs, last_year=2017)
    assert list(table.index) == [2012, 2013, 2014, 2015, 2016, 2017]
    np.testing.assert_allclose(table["log10_compute"], [18, 18, 20, 20, 22, 22])
    assert list(table["new_record"]) == [True, False, True, False, True, False]
    assert table.loc[2015, "model"] == "m1"


def test_runs_before_excludes_the_cutoff_day():
    runs = _runs(["2019-12-31", "2020-01-01"], [1.0, 2.0])
    assert list(runs_before(runs, 2020)["model"]) == ["m0"]


def test_decimal_year_by_hand():
    got = decimal_year(["2020-01-01", "2021-07-02", "2020-12-31"])
    np.testing.assert_allclose(got, [2020.0, 2021 + 182 / 365, 2020 + 365 / 366])
