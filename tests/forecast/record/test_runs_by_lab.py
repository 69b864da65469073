"""The record by lab and year: the new columns, their validation, the lab aliases, the
record as known on a date and the checked date. Expected values are worked out by hand from
the shipped file's rows and Epoch AI's published numbers."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from forecast.record.frontier import record_as_known
from forecast.record.lab_years import (
    derivation_roots,
    estimate_sds,
    finish_years,
    interval_sd,
    lab_from_organization,
    lab_of,
    labs_of,
)
from forecast.record.runs import DEFAULT_PATH, load_record, load_runs, parse_revisions, record_checked_date
from outputs.cli import main as cli_main
from priors import InputError

LABS = ("openai", "google_deepmind", "xai", "anthropic", "meta", "china")
HEADER = ("model,organization,date,training_compute_flop,confidence,source,flop_low_90,flop_high_90,"
          "derived_from,published")


def _write(tmp_path, *rows, header=HEADER, name="runs.csv", comments=()):
    path = tmp_path / name
    path.write_text("".join(f"{c}\n" for c in comments) + header + "\n" + "".join(f"{r}\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def shipped():
    return load_runs()


def _row(runs, model):
    return runs.loc[runs["model"] == model].iloc[0]


# --- the checked date --------------------------------------------------------------------


def test_the_shipped_file_states_its_checked_date(shipped):
    assert "# checked: 2026-12-06" in DEFAULT_PATH.read_text().splitlines()[:5]
    assert record_checked_date() == dt.date(2026, 12, 6)
    assert record_checked_date(shipped) == dt.date(2026, 12, 6)
    assert shipped.attrs["checked"] == pd.Timestamp("2026-12-06")


def test_a_user_file_without_a_checked_date_is_checked_when_merged(tmp_path):
    merged = load_record(_write(tmp_path, "X1,OpenAI,2026-06-01,1e26,estimated,https://e.org,,,,"))
    assert record_checked_date(merged) == dt.date(2026, 12, 6)  # the shipped date is later
    own = load_record(_write(tmp_path, "X1,OpenAI,2026-06-01,1e26,estimated,https://e.org,,,,",
                             comments=("# checked: 2026-07-01",), name="own.csv"))
    assert record_checked_date(own) == dt.date(2026, 7, 1)


def test_a_bad_checked_date_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, "X1,OpenAI,2025-06-01,1e26,estimated,https://e.org,,,,",
                  comments=("# a comment", "# checked: 2026-02-30"))
    with pytest.raises(InputError, match=r"runs\.csv: line 2: checked: not an ISO date"):
        load_runs(path)


# --- validation: one line naming file, line and column -------------------------------------


@pytest.mark.parametrize("row, column, words", [
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26,3e26,,", "flop_low_90", "2e26 is above the estimate 1e26"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,5e25,8e25,,", "flop_high_90", "8e25 is below the estimate 1e26"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,5e25,,,", "flop_high_90", "give both ends"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,Nope 9,", "derived_from", "'Nope 9' names no row"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,X1,", "derived_from", "names the row itself"),
    ("X1,OpenAI,2025-13-01,1e26,estimated,https://e.org,,,,", "date", "not an ISO date"),
    ("X1,OpenAI,2025/05/01,1e26,estimated,https://e.org,,,,", "date", "not an ISO date"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,,May 2025", "published", "not an ISO date"),
    ("X1,OpenAI,2999-01-05,1e26,estimated,https://e.org,,,,", "date", "2999-01-05 is after today"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,,2999-01-05", "published", "is after today"),
])
def test_bad_rows_are_named_by_file_line_and_column(tmp_path, row, column, words):
    path = _write(tmp_path, "Fine,OpenAI,2025-01-01,1e25,estimated,https://e.org,,,,", row)
    with pytest.raises(InputError) as err:
        load_record(path)
    message = str(err.value)
    assert message.startswith(f"{path}: line 3: {column}: "), message
    assert words in message
    assert "\n" not in message


def test_a_row_dated_after_an_explicit_today_is_refused(tmp_path):
    path = _write(tmp_path, "X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,,")
    with pytest.raises(InputError, match=r"line 2: date: 2025-05-01 is after today \(2025-04-30\)"):
        load_runs(path, today=dt.date(2025, 4, 30))
    assert len(load_runs(path, today=dt.date(2025, 5, 1))) == 1


@pytest.mark.parametrize("cells, column, words", [
    ("lab,finish_year\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,Open AI,", "lab", "not a lab name"),
    ("lab,finish_year\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,2026", "finish_year", "after the publication year"),
    ("lab,finish_year\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,25", "finish_year", "not a year"),
    ("largest_of_lab_year\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,maybe", "largest_of_lab_year", "'maybe' is not one of"),
    ("revisions,published\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26 in 2025,2025-06-01", "revisions", "is not 'VALUE from"),
    ("revisions,published\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26 from 2025-05-01,", "published", "has revisions"),
    ("revisions,published\nX1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26 from 2025-07-01,2025-06-01", "revisions", "after published"),
])
def test_the_other_new_columns_are_validated(tmp_path, cells, column, words):
    extra, row = cells.split("\n")
    path = tmp_path / "runs.csv"
    path.write_text("model,organization,date,training_compute_flop,confidence,source," + extra + "\n" + row + "\n")
    with pytest.raises(InputError) as err:
        load_record(path)
    assert str(err.value).startswith(f"{path}: line 2: {column}: "), str(err.value)
    assert words in str(err.value)


def test_derived_from_may_name_a_shipped_row(tmp_path):
    merged = load_record(_write(tmp_path, "Grok 4.5,xAI,2026-06-01,6e26,estimated,https://e.org,,,Grok 4,"))
    roots = derivation_roots(merged).set_axis(merged["model"])
    assert roots["Grok 4.5"] == "Grok 3"  # Grok 4.5 <- Grok 4 <- Grok 3


def test_a_comment_line_keeps_line_numbers(tmp_path):
    path = _write(tmp_path, "Fine,OpenAI,2025-01-01,1e25,estimated,https://e.org,,,,",
                  "X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26,3e26,,",
                  comments=("# one", "# two"))
    with pytest.raises(InputError, match=r"runs\.csv: line 5: flop_low_90: "):
        load_runs(path)


@pytest.mark.parametrize("command", [["record"], ["run", "--samples", "1000"]])
@pytest.mark.parametrize("row, column", [
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,2e26,3e26,,", "flop_low_90"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,5e25,8e25,,", "flop_high_90"),
    ("X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,,,Nope 9,", "derived_from"),
    ("X1,OpenAI,2025-02-30,1e26,estimated,https://e.org,,,,", "date"),
    ("X1,OpenAI,2999-01-05,1e26,estimated,https://e.org,,,,", "date"),
])
def test_the_cli_refuses_a_bad_record_in_one_line(tmp_path, capsys, command, row, column):
    path = _write(tmp_path, row)
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command[0] == "run" else []
    assert cli_main([*command, "--record", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{path}: line 2: {column}: " in err
    assert "Traceback" not in err
    assert not out.exists()


# --- labs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("organization, lab", [
    ("Google", "google_deepmind"), ("DeepMind", "google_deepmind"), ("Google DeepMind", "google_deepmind"),
    ("Google Brain", "google_deepmind"), ("  google deepmind ", "google_deepmind"),
    ("Google Research,DeepMind", "google_deepmind"),
    ("Meta AI", "meta"), ("Meta", "meta"), ("Facebook AI Research", "meta"),
    ("DeepSeek", "china"), ("Alibaba", "china"), ("Moonshot", "china"), ("Z.ai (Zhipu AI)", "china"),
    ("ByteDance", "china"), ("Tencent", "china"), ("Baidu", "china"),
    ("OpenAI", "openai"), ("xAI", "xai"), ("Anthropic", "anthropic"),
    ("Microsoft", None), ("Microsoft/NVIDIA", None), ("NVIDIA", None), ("Mistral AI", None), ("", None), (None, None),
])
def test_lab_aliases(organization, lab):
    assert lab_from_organization(organization) == lab


def test_lab_of_prefers_the_lab_column_and_keeps_only_the_given_labs():
    assert lab_of({"organization": "Google", "lab": ""}, LABS) == "google_deepmind"
    assert lab_of({"organization": "Microsoft", "lab": "openai"}, LABS) == "openai"
    assert lab_of({"organization": "Google", "lab": ""}, ("openai", "xai")) is None
    assert lab_of({"organization": "Mistral AI", "lab": ""}, LABS) is None
    assert lab_of({"organization": "Mistral AI", "lab": "mistral"}, (*LABS, "mistral")) == "mistral"


def test_every_shipped_lab_is_its_organizations(shipped):
    for _, row in shipped.iterrows():
        assert row["lab"] == (lab_from_organization(row["organization"]) or ""), row["model"]
    labs = labs_of(shipped, LABS).set_axis(shipped["model"])
    assert labs["Grok 4"] == "xai" and labs["Gemini 1.0 Ultra"] == "google_deepmind"
    assert labs["DeepSeek-V4-Pro"] == "china" and labs["Llama 3.1 405B"] == "meta"
    assert labs["Megatron-Turing NLG 530B"] is None and labs["Inflection-2"] is None


def test_the_lab_years_2023_to_2026_with_a_public_estimate(shipped):
    # by hand from Epoch's snapshots: Google has no estimate after Gemini 1.5 Pro, none of
    # the five US labs one for 2026 (to the snapshot of 2026-04-24)
    years = finish_years(shipped)
    labs = labs_of(shipped, LABS)
    held = {(lab, int(y)) for lab, y in zip(labs, years) if lab is not None and 2023 <= y <= 2026}
    assert held == {
        ("openai", 2024), ("openai", 2025),
        ("google_deepmind", 2023), ("google_deepmind", 2024),
        ("xai", 2023), ("xai", 2024), ("xai", 2025),
        ("anthropic", 2023), ("anthropic", 2024), ("anthropic", 2025),
        ("meta", 2023), ("meta", 2024), ("meta", 2025),
        ("china", 2023), ("china", 2024), ("china", 2025), ("china", 2026),
    }


def test_finish_year_known_or_by_the_publication_year(shipped):
    years = finish_years(shipped).set_axis(shipped["model"])
    assert years["GPT-4"] == 2022  # finished August 2022, published March 2023
    assert years["Grok 4"] == 2025 and years["DeepSeek-V4-Pro"] == 2026 and years["AlexNet"] == 2012


def test_largest_of_lab_year_levels(shipped):
    largest = shipped.set_index("model")["largest_of_lab_year"]
    assert set(largest) <= {"yes", "no", "unknown"}
    assert largest["GPT-4.5"] == "yes" and largest["GPT-5"] == "no" and largest["Grok 3"] == "no"
    assert largest["Gemini 1.0 Ultra"] == "yes" and largest["Gemini 1.0 Pro"] == "no"


# --- estimate errors and derived estimates ---------------------------------------------------


def test_interval_sd_by_hand():
    # log10(5.4e26 / 2.7e26) = log10(2) = 0.30103; / (2 * 1.6449) = 0.09151
    assert interval_sd(2.7e26, 5.4e26) == pytest.approx(0.0915, abs=1e-4)
    # a factor of 10 either way: 2 / 3.2897 = 0.6080, Epoch's Likely
    assert interval_sd(1e25, 1e27) == pytest.approx(0.6080, abs=1e-4)
    with pytest.raises(ValueError):
        interval_sd(2e26, 1e26)


def test_estimate_sds_use_the_stated_interval_else_the_label(shipped):
    sds = pd.Series(estimate_sds(shipped), index=shipped["model"])
    assert sds["GPT-4.5"] == pytest.approx(0.0915, abs=1e-4)
    assert sds["GPT-5"] == pytest.approx(1 / 3.2897, abs=1e-4)  # log10(2e26 / 2e25) = 1
    assert sds["GPT-4"] == pytest.approx(math.log10(4.4e25 / 8.2e24) / 3.2897, abs=1e-4)  # 0.2218
    assert sds["Grok 4"] == pytest.approx(math.log10(31) / 1.6449, abs=1e-3)  # Speculative, 0.907
    assert sds["Llama 3.1 405B"] == pytest.approx(math.log10(3) / 1.6449, abs=1e-3)  # Confident, 0.290


def test_stated_intervals_contain_their_estimates(shipped):
    stated = shipped.dropna(subset=["flop_low_90", "flop_high_90"])
    assert set(stated["model"]) == {"GPT-4", "GPT-4.5", "GPT-5"}
    assert np.all(stated["flop_low_90"] <= stated["training_compute_flop"])
    assert np.all(stated["training_compute_flop"] <= stated["flop_high_90"])


def test_grok_4_derives_from_grok_3(shipped):
    roots = derivation_roots(shipped).set_axis(shipped["model"])
    assert roots["Grok 4"] == "Grok 3" and roots["Grok 3"] == "Grok 3" and roots["GPT-5"] == "GPT-5"
    assert (roots != shipped["model"].to_numpy()).sum() == 1


# --- the record as known on a date -----------------------------------------------------------


def test_parse_revisions():
    assert parse_revisions("") == []
    parsed = parse_revisions("4.6e26 from 2025-02-17 (earlier); 4.0e26 from 2025-06-01")
    assert [(v, d.date(), n) for v, d, n in parsed] == [
        (4.6e26, dt.date(2025, 2, 17), "earlier"), (4.0e26, dt.date(2025, 6, 1), "")]
    with pytest.raises(ValueError, match="before entry 1"):
        parse_revisions("1e26 from 2025-06-01; 2e26 from 2025-01-01")


def test_a_revised_value_reads_its_old_value_before_the_revision(shipped):
    def value(model, on):
        known = record_as_known(shipped, on)
        return float(known.loc[known["model"] == model, "training_compute_flop"].iloc[0])

    # Grok 3: 4.6e26 from release, 3.5e26 in Epoch's snapshot of 2026-01-26
    assert value("Grok 3", "2025-12-31") == 4.6e26
    assert value("Grok 3", "2026-01-26") == 3.5e26
    assert value("AlphaGo Zero", "2020-01-01") == 3.41e23
    assert value("AlphaGo Zero", "2026-12-06") == 6.5e20
    assert value("Claude 3.5 Sonnet", "2025-06-30") == 4.98e25


def test_rows_not_yet_public_are_left_out(shipped):
    before = record_as_known(shipped, "2025-09-16")
    assert "Grok 4" not in set(before["model"])  # its estimate is public by 2025-09-17
    assert "Grok 4" in set(record_as_known(shipped, "2025-09-17")["model"])
    assert "DeepSeek-V4-Pro" not in set(record_as_known(shipped, "2026-04-23")["model"])
    assert record_as_known(shipped, "2011-01-01").empty


def test_the_record_as_known_on_the_checked_date_is_the_record(shipped):
    known = record_as_known(shipped, record_checked_date(shipped))
    assert list(known["model"]) == list(shipped["model"])
    assert np.array_equal(known["training_compute_flop"], shipped["training_compute_flop"])
    assert known.attrs["checked"] == pd.Timestamp("2026-12-06")


def test_an_old_value_has_no_stated_interval(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("model,organization,date,training_compute_flop,confidence,source,flop_low_90,flop_high_90,"
                    "revisions,published\n"
                    "X1,OpenAI,2025-05-01,1e26,estimated,https://e.org,5e25,2e26,3e26 from 2025-05-01,2025-09-01\n")
    runs = load_runs(path)
    old = record_as_known(runs, "2025-08-31").iloc[0]
    assert old["training_compute_flop"] == 3e26 and np.isnan(old["flop_low_90"])
    assert old["published"] == pd.Timestamp("2025-05-01")
    assert old["log10_compute"] == pytest.approx(math.log10(3e26))
