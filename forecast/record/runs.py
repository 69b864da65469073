"""The historical record of frontier training runs.

``forecast/record/data/frontier_runs.csv`` holds one row per training run: every run
that was the largest known at its publication date, or close to it, and for 2023-2026 each
modelled lab's largest run of each year with a public estimate (and a few others of those
labs, marked). Lines starting with ``#`` are comments; one of them,
``# checked: YYYY-MM-DD``, states the date the file was last checked against its sources
(:func:`record_checked_date`, the default as-of date). Columns:

- ``model, organization, date, training_compute_flop``: the run; ``date`` is the model's
  publication date (ISO), compute in FLOP (the current value of the estimate);
- ``confidence``: ``reported`` (the developer published the number) or ``estimated``;
- ``source``: where the number comes from (URL or paper, with the mirror's commit and the
  date checked for data sets that change); text saying ``judgement`` marks what the
  sources do not say;
- ``epoch_confidence``: Epoch AI's label for the estimate (``Confident``, ``Likely``,
  ``Speculative``), blank where the value is not Epoch's;
- ``includes_post_training``: ``yes`` (the figure counts fine-tuning/RL after
  pre-training), ``no`` (pre-training only, or no separate post-training) or ``unknown``;
- ``revisions``: the earlier values of the estimate, oldest first, each
  ``VALUE from YYYY-MM-DD (note)`` (the date it became public; the note is optional),
  separated by ``;``; blank if none. The current value holds from ``published``;
- ``lab``: the modelled lab the run belongs to (``openai``, ``google_deepmind``, ``xai``,
  ``anthropic``, ``meta``, ``china``, or another lab name of a prior set), blank for
  other organizations. Where blank, the lab is read from ``organization``
  (:func:`forecast.record.lab_years.lab_from_organization`);
- ``finish_year``: the year the run finished, where known. Where blank, the rule is
  :data:`FINISH_YEAR_RULE`: the year of the publication date (the run is counted in the year
  it was published; judgement: the lag from the end of training to release is not public for
  most runs, e.g. GPT-4 finished in August 2022 and was published in March 2023, so the rule
  can put a run a year late);
- ``flop_low_90, flop_high_90``: the estimate's stated 90% interval, where the source gives
  one (both or neither; ``low <= value <= high``);
- ``largest_of_lab_year``: ``yes`` (the lab's largest run of its finish year), ``no`` (a
  larger run of that lab and year exists, with or without an estimate: this row bounds it
  from below) or ``unknown`` (blank is ``unknown``);
- ``derived_from``: the model name of the row this estimate was derived from (Grok 4's is
  Grok 3's pre-training plus RL), blank if independent;
- ``published``: the date the current value became public, where known (or the earliest
  date it is known to have been public: Grok 4's). Where blank it
  is taken to be ``date`` (the number was public with the model); a row with
  ``revisions`` must give it.

The rule is the most recent public estimate, cited. The rows come from Epoch AI's data
(CC BY 4.0): the Notable AI Models snapshot of 2026-01-26, as mirrored in
``github.com/mxschons/sobe-2025-data-repository`` (commit 3ba35a61), and the Large-Scale
AI Models snapshot with rows to 2026-04-24, as mirrored in
``github.com/Jav97970/ai-frontier-concentration`` (commit 562717b7), both checked on
2026-12-06. Values Epoch revised since the record was first shipped (AlphaGo Zero,
AlphaStar, GNMT, Megatron-Turing NLG, Seq2seq LSTM, T5-11B, Claude 3.5 Sonnet, Grok 3) keep
their earlier value in ``revisions``; where the date of the revision is not known, the
current value is dated by the first snapshot that shows it (2026-01-26), so the record read
on an earlier date gives the earlier value (:func:`forecast.record.frontier.record_as_known`).

This module loads and validates the record: :func:`load_runs` (one file),
:func:`load_record` (a user's file merged over the shipped one, :func:`merge_runs`),
:func:`parse_revisions` and :func:`record_checked_date` (the default as-of date). What is
derived from it lives beside it:

- :mod:`forecast.record.frontier`: the frontier by date and as known on a date
  (:func:`~forecast.record.frontier.frontier_series`, the runs that set a new record;
  :func:`~forecast.record.frontier.yearly_frontier` and
  :func:`~forecast.record.frontier.frontier_by_year`, the largest run known by the end of
  each year; :func:`~forecast.record.frontier.runs_before` and
  :func:`~forecast.record.frontier.record_as_known`);
- :mod:`forecast.record.lab_years`: the record by lab and year, as an observation model
  reads it, and the measurement error of each estimate.

Bad input raises :class:`priors.InputError` (a ``ValueError``) in one line that names the
file, the line and the column, e.g.
``my_runs.csv: line 3: training_compute_flop: not a positive number: 'abc'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from priors.errors import InputError

__all__ = [
    "COLUMNS",
    "CONFIDENCE_LEVELS",
    "DEFAULT_PATH",
    "EPOCH_CONFIDENCE_LEVELS",
    "FINISH_YEAR_RULE",
    "LARGEST_LEVELS",
    "OPTIONAL_COLUMNS",
    "POST_TRAINING_LEVELS",
    "REQUIRED_COLUMNS",
    "check_runs",
    "decimal_year",
    "load_record",
    "load_runs",
    "merge_runs",
    "parse_revisions",
    "record_checked_date",
    "with_derived",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "frontier_runs.csv"
REQUIRED_COLUMNS = ("model", "organization", "date", "training_compute_flop", "confidence", "source")
#: Columns a user's file may omit (blank, or ``unknown`` for the two level columns, assumed).
OPTIONAL_COLUMNS = ("epoch_confidence", "includes_post_training", "revisions", "lab", "finish_year",
                    "flop_low_90", "flop_high_90", "largest_of_lab_year", "derived_from", "published")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CONFIDENCE_LEVELS = ("reported", "estimated")
EPOCH_CONFIDENCE_LEVELS = ("Confident", "Likely", "Speculative")
POST_TRAINING_LEVELS = ("yes", "no", "unknown")
LARGEST_LEVELS = ("yes", "no", "unknown")
#: How a blank ``finish_year`` is read (see the module docstring).
FINISH_YEAR_RULE = "the year of the publication date (judgement; the release lag is not public for most runs)"

_LAB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REVISION = re.compile(r"^\s*(?P<value>[0-9][0-9.]*(?:[eE][+-]?[0-9]+)?)\s+from\s+(?P<date>\S+)\s*(?:\((?P<note>.*)\))?\s*$")
_CHECKED = re.compile(r"^#\s*checked:\s*(?P<date>\S+)\s*$")


def decimal_year(dates) -> np.ndarray:
    """Decimal years of dates: 2020-01-01 is 2020.0, 2020-07-02 is about 2020.5.

    Parameters
    ----------
    dates : array-like of datetime-like
        Dates; anything :func:`pandas.to_datetime` reads.

    Returns
    -------
    numpy.ndarray
        Float years, the day's start counted as a fraction of its own calendar year's
        length (so leap years are exact).
    """
    dt = pd.DatetimeIndex(pd.to_datetime(dates))
    year = dt.year.to_numpy()
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    end = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1}))
    elapsed = (dt - pd.DatetimeIndex(start)).total_seconds().to_numpy()
    length = (pd.DatetimeIndex(end) - pd.DatetimeIndex(start)).total_seconds().to_numpy()
    return year + elapsed / length


def _parse_date(text: str) -> pd.Timestamp | None:
    """An ISO date ``YYYY-MM-DD``, or None if ``text`` is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(text.strip()))
    except ValueError:
        return None


def _read_rows(path: Path, name: str) -> tuple[list[tuple[int, dict[str, str]]], pd.Timestamp | None]:
    """The rows of a CSV file with the line each starts on, and the file's checked date
    (``# checked: YYYY-MM-DD``, None if not stated); refuses a bad header.

    Lines starting with ``#`` before the header or between rows are comments.
    """
    if not path.is_file():
        raise InputError(f"{name}: no such file")
    checked = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a UTF-8 text file") from None
    lines = text.splitlines(keepends=True)
    kept = []  # (line number, text) of the non-comment lines
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            if re.match(r"^#\s*checked\s*:", line.strip()):
                match = _CHECKED.match(line.strip())
                checked = _parse_date(match["date"]) if match else None
                if checked is None:
                    raise InputError(f"{name}: line {number}: checked: not an ISO date YYYY-MM-DD: "
                                     f"{line.strip()!r}")
            continue
        kept.append((number, line))
    if not kept:
        raise InputError(f"{name}: line 1: empty file; expected the header {','.join(COLUMNS)}")
    numbers = [n for n, _ in kept]
    physical = iter(range(len(kept)))

    class _Lines:
        """Feeds the kept lines to csv.reader, remembering the index of the last one read."""

        index = -1

        def __iter__(self):
            return self

        def __next__(self):
            self.index = next(physical)
            return kept[self.index][1]

    source = _Lines()
    reader = csv.reader(source)
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(f"{name}: line 1: empty file; expected the header {','.join(COLUMNS)}")
        header_line = numbers[source.index]
        header = [h.strip() for h in header]
        rows = []
        start = source.index + 1
        for fields in reader:
            line = numbers[start] if start < len(numbers) else numbers[-1]
            start = source.index + 1
            if not any(f.strip() for f in fields):
                continue  # a blank line
            if len(fields) != len(header):
                raise InputError(
                    f"{name}: line {line}: {len(fields)} fields, but the header has {len(header)} "
                    "(quote a value that holds a comma)"
                )
            rows.append((line, dict(zip(header, fields))))
    except csv.Error as err:
        line = numbers[max(source.index, 0)]
        raise InputError(f"{name}: line {line}: not readable as CSV: {err}") from None
    where = f"{name}: line {header_line}"
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}; "
                         f"expected {','.join(REQUIRED_COLUMNS)} and optionally {','.join(OPTIONAL_COLUMNS)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InputError(f"{where}: {unknown[0]}: unknown column; expected {','.join(COLUMNS)}")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(f"{where}: {repeated[0]}: column given twice")
    if not rows:
        raise InputError(f"{name}: no rows")
    return rows, checked


def parse_revisions(text: str) -> list[tuple[float, pd.Timestamp, str]]:
    """The earlier values of an estimate from its ``revisions`` cell, oldest first:
    ``[(value, date it became public, note), ...]``; ``[]`` for a blank cell.

    Each entry is ``VALUE from YYYY-MM-DD`` with an optional ``(note)``; entries are
    separated by ``;`` (a note may not hold one).

    Raises
    ------
    ValueError
        Naming the entry that is not of that form, has a value that is not a positive
        number or a date that is not a date, or is dated before the entry above it.
    """
    out = []
    if not str(text or "").strip():
        return out
    for k, entry in enumerate(str(text).split(";"), start=1):
        match = _REVISION.match(entry)
        if match is None:
            raise ValueError(f"entry {k} {entry.strip()!r} is not 'VALUE from YYYY-MM-DD (note)'")
        value = float(match["value"])
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"entry {k}: {match['value']!r} is not a positive number")
        date = _parse_date(match["date"])
        if date is None:
            raise ValueError(f"entry {k}: {match['date']!r} is not an ISO date YYYY-MM-DD")
        if out and date < out[-1][1]:
            raise ValueError(f"entry {k}: dated {date.date()}, before entry {k - 1} ({out[-1][1].date()}); "
                             "list the values oldest first")
        out.append((value, date, (match["note"] or "").strip()))
    return out


def _positive(text: str) -> float | None:
    """A positive finite number, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def load_runs(path: str | Path | None = None, *, known_models=(), today: dt.date | None = None) -> pd.DataFrame:
    """Load and validate a record of frontier training runs.

    Parameters
    ----------
    path : str or Path, optional
        CSV file with the columns :data:`REQUIRED_COLUMNS` and any of
        :data:`OPTIONAL_COLUMNS` (blank, or ``unknown``, assumed for those omitted); lines
        starting with ``#`` are comments, ``# checked: YYYY-MM-DD`` the date the file was
        checked. Defaults to the record shipped with the package.
    known_models : iterable of str
        Model names of other rows that ``derived_from`` may name (the shipped record's,
        for a user's file merged over it).
    today : datetime.date, optional
        No row may be dated (``date``, ``published``, a revision) after it, nor after the
        file's checked date. Default: the shipped record's checked date for the shipped
        file, the system's date for any other.

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by date, with :data:`COLUMNS` (``date`` and ``published``
        parsed to datetime64, ``published`` filled with ``date`` where blank,
        ``finish_year`` a nullable integer, the intervals floats, NaN where blank) plus
        ``year_frac`` (decimal year) and ``log10_compute``. ``runs.attrs["checked"]`` is the
        file's checked date (a Timestamp, or None where the file states none).

    Raises
    ------
    priors.InputError
        (a ``ValueError``) in one line naming the file, the line (the header's line, 1
        without comments above it) and the column: a missing or unknown column, a date that
        is not an ISO date or lies after today or the checked date, a compute that is not a
        positive number, an unknown level in ``confidence``, ``epoch_confidence``,
        ``includes_post_training`` or ``largest_of_lab_year``, a ``lab`` that is not a lab
        name, a ``finish_year`` that is not a year or lies after the publication year, an
        interval given on one side only or not around the estimate (``flop_low_90`` above
        it, ``flop_high_90`` below it), a ``derived_from`` naming no row (or the row
        itself), a malformed ``revisions`` cell or one without ``published``, an empty model
        or source, or a model name already used by another row.
    """
    shipped = path is None or Path(path).resolve() == DEFAULT_PATH.resolve()
    path = DEFAULT_PATH if path is None else Path(path)
    name = str(path)
    rows, checked = _read_rows(path, name)
    if today is None:
        today = checked.date() if shipped and checked is not None else dt.date.today()
    limit = pd.Timestamp(today)
    limit_text = "the checked date" if shipped and checked is not None and checked.date() == today else "today"
    if checked is not None and checked > pd.Timestamp(dt.date.today()):
        raise InputError(f"{name}: checked: {checked.date()} is after today ({dt.date.today()})")
    seen: dict[str, int] = {}
    records, derived = [], []
    for line, row in rows:
        where = f"{name}: line {line}"
        value = {c: (row.get(c) or "").strip() for c in COLUMNS}
        model = value["model"]
        if not model:
            raise InputError(f"{where}: model: empty model name")
        if model in seen:
            raise InputError(f"{where}: model: duplicate model name {model!r}, first at line {seen[model]}")
        seen[model] = line
        date = _parse_date(value["date"])
        if date is None:
            raise InputError(f"{where}: date: not an ISO date YYYY-MM-DD: {row['date']!r}")
        if date > limit:
            raise InputError(f"{where}: date: {date.date()} is after {limit_text} ({limit.date()}); "
                             "the record holds runs already published")
        compute = _positive(value["training_compute_flop"])
        if compute is None:
            raise InputError(f"{where}: training_compute_flop: not a positive number: "
                             f"{row['training_compute_flop']!r}")
        if value["confidence"] not in CONFIDENCE_LEVELS:
            raise InputError(f"{where}: confidence: {row['confidence']!r} is not one of "
                             f"{', '.join(CONFIDENCE_LEVELS)}")
        if not value["source"]:
            raise InputError(f"{where}: source: empty; every run needs a public source")
        label = value["epoch_confidence"]
        if label and label not in EPOCH_CONFIDENCE_LEVELS:
            raise InputError(f"{where}: epoch_confidence: unknown label {row['epoch_confidence']!r}; "
                             f"use {', '.join(EPOCH_CONFIDENCE_LEVELS)} or leave it blank")
        post = value["includes_post_training"] or "unknown"
        if post not in POST_TRAINING_LEVELS:
            raise InputError(f"{where}: includes_post_training: {row['includes_post_training']!r} is not "
                             f"one of {', '.join(POST_TRAINING_LEVELS)}")
        largest = value["largest_of_lab_year"] or "unknown"
        if largest not in LARGEST_LEVELS:
            raise InputError(f"{where}: largest_of_lab_year: {row['largest_of_lab_year']!r} is not one of "
                             f"{', '.join(LARGEST_LEVELS)}")
        lab = value["lab"]
        if lab and not _LAB_NAME.match(lab):
            raise InputError(f"{where}: lab: {row['lab']!r} is not a lab name (lower case letters, digits, "
                             "'_', e.g. google_deepmind); leave it blank for other organizations")
        finish = value["finish_year"]
        if finish:
            if not re.fullmatch(r"\d{4}", finish):
                raise InputError(f"{where}: finish_year: not a year: {row['finish_year']!r}")
            if int(finish) > date.year:
                raise InputError(f"{where}: finish_year: {finish} is after the publication year {date.year}")
        bounds = {}
        for column in ("flop_low_90", "flop_high_90"):
            if value[column]:
                bounds[column] = _positive(value[column])
                if bounds[column] is None:
                    raise InputError(f"{where}: {column}: not a positive number: {row[column]!r}")
        if len(bounds) == 1:
            given, other = next(iter(bounds)), ({"flop_low_90", "flop_high_90"} - set(bounds)).pop()
            raise InputError(f"{where}: {other}: blank, but {given} is given; give both ends of the "
                             "90% interval or neither")
        if bounds and bounds["flop_low_90"] > compute:
            raise InputError(f"{where}: flop_low_90: {row['flop_low_90'].strip()} is above the estimate "
                             f"{row['training_compute_flop'].strip()}")
        if bounds and bounds["flop_high_90"] < compute:
            raise InputError(f"{where}: flop_high_90: {row['flop_high_90'].strip()} is below the estimate "
                             f"{row['training_compute_flop'].strip()}")
        published = date
        if value["published"]:
            published = _parse_date(value["published"])
            if published is None:
                raise InputError(f"{where}: published: not an ISO date YYYY-MM-DD: {row['published']!r}")
            if published > limit:
                raise InputError(f"{where}: published: {published.date()} is after {limit_text} ({limit.date()})")
        try:
            revisions = parse_revisions(value["revisions"])
        except ValueError as err:
            raise InputError(f"{where}: revisions: {err}") from None
        if revisions and not value["published"]:
            raise InputError(f"{where}: published: blank, but the row has revisions; give the date the "
                             "current value became public")
        if revisions and revisions[-1][1] > published:
            raise InputError(f"{where}: revisions: the last earlier value is dated {revisions[-1][1].date()}, "
                             f"after published ({published.date()})")
        if value["derived_from"]:
            if value["derived_from"] == model:
                raise InputError(f"{where}: derived_from: names the row itself ({model!r})")
            derived.append((where, value["derived_from"]))
        records.append({**value, "date": date, "training_compute_flop": compute,
                        "includes_post_training": post, "largest_of_lab_year": largest,
                        "finish_year": int(finish) if finish else pd.NA,
                        "flop_low_90": bounds.get("flop_low_90", np.nan),
                        "flop_high_90": bounds.get("flop_high_90", np.nan), "published": published})
    names = set(seen) | set(known_models)
    for where, parent in derived:
        if parent not in names:
            raise InputError(f"{where}: derived_from: {parent!r} names no row of the record")
    runs = _frame(records)
    runs.attrs["checked"] = checked
    return runs


def _frame(records) -> pd.DataFrame:
    """The typed frame of validated rows."""
    runs = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    runs["date"] = pd.DatetimeIndex(runs["date"])
    runs["published"] = pd.DatetimeIndex(runs["published"])
    runs["training_compute_flop"] = runs["training_compute_flop"].astype(float)
    for column in ("flop_low_90", "flop_high_90"):
        runs[column] = runs[column].astype(float)
    runs["finish_year"] = runs["finish_year"].astype("Int64")
    return with_derived(runs)


def merge_runs(shipped: pd.DataFrame, user: pd.DataFrame) -> pd.DataFrame:
    """``user``'s rows over ``shipped``'s: a row with the same model name (exact, after
    trimming spaces) replaces the shipped one, new names are added.

    The result's ``attrs["checked"]`` is the user's file's checked date where it states
    one, else the later of the shipped record's and the latest date (``date`` or
    ``published``) among the user's rows: the record is as known on that date.
    """
    kept = shipped.loc[~shipped["model"].isin(set(user["model"]))]
    columns = [c for c in COLUMNS if c in shipped.columns and c in user.columns]
    merged = with_derived(pd.concat([kept.loc[:, columns], user.loc[:, columns]], ignore_index=True))
    checked = user.attrs.get("checked")
    if checked is None:
        dates = [d for d in (shipped.attrs.get("checked"), user["date"].max(),
                             user["published"].max() if "published" in user.columns else None)
                 if d is not None and not pd.isna(d)]
        checked = max(dates) if dates else None
    merged.attrs["checked"] = checked
    return merged


def load_record(user_file: str | Path | None = None) -> pd.DataFrame:
    """The shipped record, with a user's file merged over it when given.

    This is what every command that uses the record reads (``--record FILE``). The user's
    file has the shipped file's required columns and any of the optional ones, and is
    validated like it (:func:`load_runs`; its rows may not be dated after today, and its
    ``derived_from`` may name a shipped row); its rows replace shipped rows of the same
    model name and add the others.

    Raises
    ------
    priors.InputError
        One line naming the user's file, the line and the column.
    """
    shipped = load_runs()
    if user_file is None or str(user_file) == "":
        return shipped
    return merge_runs(shipped, load_runs(user_file, known_models=set(shipped["model"])))


def record_checked_date(runs: pd.DataFrame | None = None) -> dt.date:
    """The date the record was last checked against its sources: the default as-of date.

    ``runs``: a record from :func:`load_runs`, :func:`load_record` or :func:`merge_runs`
    (the shipped record by default). A record whose file states no checked date is taken
    as checked on the latest date it holds (``date`` or ``published``).
    """
    runs = load_runs() if runs is None else runs
    checked = runs.attrs.get("checked")
    if checked is None or pd.isna(checked):
        dates = [runs["date"].max()] + ([runs["published"].max()] if "published" in runs.columns else [])
        checked = max(d for d in dates if not pd.isna(d))
    return pd.Timestamp(checked).date()


def with_derived(runs: pd.DataFrame) -> pd.DataFrame:
    """Sorted copy with ``year_frac`` and ``log10_compute`` columns (attrs kept)."""
    attrs = dict(runs.attrs)
    out = runs.sort_values(["date", "training_compute_flop"], kind="stable").reset_index(drop=True)
    out["year_frac"] = decimal_year(out["date"])
    out["log10_compute"] = np.log10(out["training_compute_flop"].to_numpy(dtype=float))
    out.attrs.update(attrs)
    return out


def check_runs(runs: pd.DataFrame) -> None:
    """Refuse a frame that lacks the columns every derived series needs (ValueError)."""
    missing = [c for c in ("model", "date", "training_compute_flop") if c not in runs.columns]
    if missing:
        raise ValueError(f"runs lacks column(s) {missing}; pass the frame load_runs returns")


