"""The historical record and the series derived from it."""

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.record.frontier import frontier_by_year, frontier_series, runs_before, yearly_frontier
from forecast.record.lab_years import measurement_sd, measurement_sds
from forecast.record.runs import (
    COLUMNS,
    DEFAULT_PATH,
    EPOCH_CONFIDENCE_LEVELS,
    POST_TRAINING_LEVELS,
    REQUIRED_COLUMNS,
    decimal_year,
    load_record,
    load_runs,
)
from outputs.cli import main as cli_main
from priors import InputError

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
        reader = csv.DictReader(line for line in fh if not line.startswith("#"))
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def test_record_has_at_least_30_runs(raw_rows):
    assert len(raw_rows) >= 30


def test_record_dates_parse_and_span_2012_to_2026(raw_rows):
    dates = pd.to_datetime([r["date"] for r in raw_rows], format="%Y-%m-%d")
    assert dates.min().year == 2012
    assert dates.max().year == 2026


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
    path.write_text("\n".join([",".join(REQUIRED_COLUMNS), *lines]) + "\n")
    return path


@pytest.mark.parametrize(
    "bad, match",
    [
        ("B,Org,2015-13-01,1e20,reported,src", "line 3: date: "),
        ("B,Org,yesterday,1e20,reported,src", "line 3: date: "),
        ("B,Org,2015-02-01,-1e20,reported,src", "line 3: training_compute_flop: not a positive number"),
        ("B,Org,2015-02-01,0,reported,src", "line 3: training_compute_flop: not a positive number"),
        ("B,Org,2015-02-01,lots,reported,src", "line 3: training_compute_flop: not a positive number: 'lots'"),
        ("B,Org,2015-02-01,1e20,guessed,src", "line 3: confidence: "),
        ("B,Org,2015-02-01,1e20,reported,", "line 3: source: "),
        ("A,Org,2015-02-01,1e20,reported,src", "line 3: model: duplicate.*line 2"),
    ],
    ids=["bad-month", "not-a-date", "negative", "zero", "text", "confidence", "no-source",
         "duplicate"],
)
def test_load_runs_rejects_bad_rows(tmp_path, bad, match):
    path = _write(tmp_path, GOOD, bad)
    with pytest.raises(InputError, match=match) as info:
        load_runs(path)
    assert str(info.value).startswith(f"{path}: line 3: ")
    assert "\n" not in str(info.value)


def test_load_runs_rejects_missing_column(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("model,date\nA,2015-01-01\n")
    with pytest.raises(InputError, match="line 1: missing column"):
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


# --- the 2025 rows, Epoch's labels and their measurement error ------------------------------------

# Epoch AI, Notable AI Models, snapshot of 2026-01-26 as mirrored in
# github.com/mxschons/sobe-2025-data-repository (commit 3ba35a61),
# data/external/epoch-ai/notable-ai-models.csv: "Training compute (FLOP)" and "Confidence".
EPOCH_2025 = {
    "Grok 3": (3.5e26, "Likely"),
    "GPT-4.5": (3.8e26, "Likely"),
    "Grok 4": (5.0e26, "Speculative"),
    "GPT-5": (6.6e25, "Speculative"),
}


def test_record_columns_are_the_documented_ones(raw_rows):
    assert COLUMNS == (*REQUIRED_COLUMNS, "epoch_confidence", "includes_post_training", "revisions", "lab",
                       "finish_year", "flop_low_90", "flop_high_90", "largest_of_lab_year", "derived_from",
                       "published")
    for r in raw_rows:
        assert r["epoch_confidence"] in ("", *EPOCH_CONFIDENCE_LEVELS), r["model"]
        assert r["includes_post_training"] in POST_TRAINING_LEVELS, r["model"]


@pytest.mark.parametrize("name", sorted(EPOCH_2025))
def test_2025_rows_carry_epochs_value_and_label(raw_rows, name):
    row = next(r for r in raw_rows if r["model"] == name)
    value, label = EPOCH_2025[name]
    assert float(row["training_compute_flop"]) == pytest.approx(value)
    assert row["epoch_confidence"] == label
    assert row["date"].startswith("2025-")
    assert "epoch.ai" in row["source"] and "checked 2026-12-06" in row["source"]


def test_grok3_revision_is_recorded(raw_rows):
    row = next(r for r in raw_rows if r["model"] == "Grok 3")
    assert "4.6e26" in row["revisions"]
    assert next(r for r in raw_rows if r["model"] == "Grok 4")["includes_post_training"] == "yes"


def test_frontier_2025_is_at_least_grok3():
    table = frontier_by_year(load_runs())
    # Grok 3, 3.5e26 FLOP (Epoch, 2026-01-26 snapshot); Grok 4, 5e26, is above it
    assert table.loc[2025, "training_compute_flop"] >= 3.5e26
    assert table.loc[2025, "model"] == "Grok 4"
    assert table.loc[2025, "epoch_confidence"] == "Speculative"
    assert table.loc[2024, "model"] == "Gemini 1.0 Ultra"  # 5e25: no 2024 run above it
    assert {"organization", "source", "new_record"} <= set(table.columns)


def test_measurement_sd_from_epochs_90_percent_intervals():
    # Confident x3, Likely x10, Speculative x31 either way, as 90% intervals of a normal in log10
    assert measurement_sd("Confident") == pytest.approx(np.log10(3) / 1.6448536, rel=1e-6)
    assert measurement_sd("Likely") == pytest.approx(1 / 1.6448536, rel=1e-6)
    assert measurement_sd("speculative ") == pytest.approx(np.log10(31) / 1.6448536, rel=1e-6)
    assert measurement_sd("") == measurement_sd("Likely")
    with pytest.raises(InputError, match="epoch_confidence"):
        measurement_sd("Sure")


def test_measurement_sds_fall_back_on_reported_or_estimated():
    runs = pd.DataFrame({"epoch_confidence": ["Speculative", "", ""],
                         "confidence": ["estimated", "reported", "estimated"]})
    np.testing.assert_allclose(measurement_sds(runs), [measurement_sd("Speculative"),
                                                       measurement_sd("Confident"),
                                                       measurement_sd("Likely")])
    assert np.all(np.isfinite(measurement_sds(load_runs())))


# --- a user's record merged over the shipped one -------------------------------------------------

def _user_file(tmp_path, *lines, header=REQUIRED_COLUMNS, name="my_runs.csv"):
    path = tmp_path / name
    path.write_text("\n".join([",".join(header), *lines]) + "\n")
    return path


def test_user_file_replaces_and_adds_rows(tmp_path):
    path = _user_file(
        tmp_path,
        "Grok 3,xAI,2025-02-17,4e26,estimated,https://example.org/grok3",
        "Big Run,Lab,2026-03-01,2e27,reported,https://example.org/big",
    )
    shipped = load_runs()
    merged = load_record(path)
    assert len(merged) == len(shipped) + 1
    grok3 = merged.loc[merged["model"] == "Grok 3"].iloc[0]
    assert grok3["training_compute_flop"] == 4e26 and grok3["source"] == "https://example.org/grok3"
    assert grok3["includes_post_training"] == "unknown" and grok3["epoch_confidence"] == ""
    assert merged["date"].is_monotonic_increasing
    table = frontier_by_year(merged)
    assert table.loc[2026, "model"] == "Big Run"
    assert load_record(None).equals(shipped)


BAD_USER_ROWS = [
    ("B,Org,2025-02-30,1e25,estimated,src,,", "line 3: date: not an ISO date"),
    ("B,Org,2025-02-01,abc,estimated,src,,", "line 3: training_compute_flop: not a positive number: 'abc'"),
    ("B,Org,2025-02-01,-3,estimated,src,,", "line 3: training_compute_flop: not a positive number: '-3'"),
    ("B,Org,2025-02-01,1e25,estimated,src,Sure,", "line 3: epoch_confidence: unknown label 'Sure'"),
    ("B,Org,2025-02-01,1e25,estimated,src,,maybe", "line 3: includes_post_training: "),
    ("A,Org,2025-02-01,1e25,estimated,src,,", "line 3: model: duplicate model name 'A', first at line 2"),
    ("B,Org,2025-02-01,1e25,estimated,src", "line 3: 6 fields, but the header has 8"),
]


@pytest.mark.parametrize("bad, message", BAD_USER_ROWS,
                         ids=["date", "compute-text", "compute-negative", "epoch-label",
                              "post-training", "duplicate", "fields"])
def test_user_file_errors_name_file_line_and_column(tmp_path, bad, message):
    header = (*REQUIRED_COLUMNS, "epoch_confidence", "includes_post_training")
    path = _user_file(tmp_path, "A,Org,2025-01-01,1e25,estimated,src,Likely,no", bad, header=header)
    with pytest.raises(InputError) as info:
        load_record(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("header, message", [
    (("model", "organization", "date", "confidence", "source"),
     "line 1: missing column(s) training_compute_flop"),
    ((*REQUIRED_COLUMNS, "epoch_confidnce"), "line 1: epoch_confidnce: unknown column"),
])
def test_user_file_header_errors(tmp_path, header, message):
    path = _user_file(tmp_path, ",".join(["x"] * len(header)), header=header)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_record(path)


def test_missing_user_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_record(tmp_path / "nope.csv")


# --- forecast record ---------------------------------------------------------------------------

def test_forecast_record_prints_the_frontier(capsys):
    assert cli_main(["record"]) == 0
    out = capsys.readouterr().out
    assert "Grok 4" in out and "5e26" in out and "Speculative" in out and "sources:" in out
    assert cli_main(["record", "--markdown"]) == 0
    md = capsys.readouterr().out
    assert "| 2025 |" in md and "epoch.ai" in md


def test_forecast_record_merges_a_user_file(tmp_path, capsys):
    path = _user_file(tmp_path, "Big Run,Lab,2026-03-01,2e27,reported,https://example.org/big")
    assert cli_main(["record", "--record", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Big Run" in out and "2026" in out and str(path) in out


def test_forecast_record_bad_file_is_one_line_exit_2(tmp_path, capsys):
    path = _user_file(tmp_path, "B,Org,2025-02-01,abc,estimated,src", name="bad.csv")
    assert cli_main(["record", "--record", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines == [f"forecast record: error: {path}: line 2: training_compute_flop: "
                     "not a positive number: 'abc'"]


@pytest.mark.parametrize("command", [["backtest"], ["calibrate"]])
def test_backtest_and_calibrate_refuse_a_bad_record_before_any_fit(tmp_path, capsys, command):
    path = _user_file(tmp_path, "B,Org,2025-02-01,1e25,estimated,src,Sure",
                      header=(*REQUIRED_COLUMNS, "epoch_confidence"), name="bad.csv")
    assert cli_main([*command, "--record", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 2: epoch_confidence" in err[0]
    assert not (tmp_path / "out").exists()
