"""The historical record of frontier training runs.

``forecast/history/data/frontier_runs.csv`` holds one row per training run that was the
largest known at its publication date, or close to it. Columns:

- ``model, organization, date, training_compute_flop``: the run; ``date`` is the
  publication date (ISO), compute in FLOP;
- ``confidence``: ``reported`` (the developer published the number) or ``estimated``;
- ``source``: where the number comes from (URL or paper, with the retrieval date for
  data sets that change);
- ``epoch_confidence``: Epoch AI's label for the estimate (``Confident``, ``Likely``,
  ``Speculative``), blank where the value is not Epoch's current one;
- ``includes_post_training``: ``yes`` (the figure counts fine-tuning/RL after
  pre-training), ``no`` (pre-training only, or no separate post-training) or ``unknown``;
- ``revisions``: earlier values of the row and when they changed, blank if none.

The rule is the most recent public estimate, cited. The 2025 rows and the Grok 3 revision
(4.6e26 -> 3.5e26) come from Epoch AI's Notable AI Models data, snapshot of 2026-01-26
(CC BY 4.0), as mirrored in ``github.com/mxschons/sobe-2025-data-repository`` (commit
3ba35a61), retrieved 2026-12-01; the Epoch labels of the older rows come from the same
snapshot, and are left blank where the row's value differs from Epoch's current one.

Measurement error of Epoch's labels
-----------------------------------
Epoch AI's documentation ("AI Models Documentation", estimation page, section
"Estimating confidence", https://epoch.ai/data/ai-models-documentation/estimation) gives
each label as a 90% confidence interval around the estimate: Confident within a factor of
3, Likely within a factor of 10, Speculative within a factor of 31 (either way). The page
itself could not be retrieved here; the factors are as quoted from it by two independent
public projects. Read as a normal error in log10 FLOP with that 90% interval
(+-1.645 sd), :func:`measurement_sd` gives::

    Confident    log10(3)  / 1.645 = 0.290
    Likely       log10(10) / 1.645 = 0.608
    Speculative  log10(31) / 1.645 = 0.907

A row without an Epoch label is a stated judgement: a ``reported`` number counts as
Confident, an ``estimated`` one as Likely (:func:`measurement_sds`).

This module loads and validates the record (:func:`load_runs`; :func:`load_record` merges
a user's file over the shipped one) and derives the series the trend model, the backtests
and ``forecast record`` use:

- :func:`frontier_series`, the runs that set a new record (the running maximum by date);
- :func:`yearly_frontier`, the largest run known by the end of each calendar year, the
  quantity a backtest scores a forecast against;
- :func:`frontier_by_year`, the same with the holder's organization, label and source.

Bad input raises :class:`priors.InputError` (a ``ValueError``) in one line that names the
file, the line and the column, e.g.
``my_runs.csv: line 3: training_compute_flop: not a positive number: 'abc'``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd

from priors.errors import InputError

__all__ = [
    "COLUMNS",
    "CONFIDENCE_LEVELS",
    "DEFAULT_PATH",
    "EPOCH_CONFIDENCE_LEVELS",
    "OPTIONAL_COLUMNS",
    "POST_TRAINING_LEVELS",
    "REQUIRED_COLUMNS",
    "decimal_year",
    "frontier_by_year",
    "frontier_series",
    "load_record",
    "load_runs",
    "measurement_sd",
    "measurement_sds",
    "merge_runs",
    "runs_before",
    "yearly_frontier",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "frontier_runs.csv"
REQUIRED_COLUMNS = ("model", "organization", "date", "training_compute_flop", "confidence", "source")
#: Columns a user's file may omit (blank, ``unknown`` and blank are then assumed).
OPTIONAL_COLUMNS = ("epoch_confidence", "includes_post_training", "revisions")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CONFIDENCE_LEVELS = ("reported", "estimated")
EPOCH_CONFIDENCE_LEVELS = ("Confident", "Likely", "Speculative")
POST_TRAINING_LEVELS = ("yes", "no", "unknown")

#: z of the upper end of a central 90% interval of a normal.
_Z90 = 1.6448536269514722
#: Epoch's 90% intervals, as a factor either way (see the module docstring).
_EPOCH_CI90_FACTOR = {"Confident": 3.0, "Likely": 10.0, "Speculative": 31.0}
#: The label a row without one is treated as, by its ``confidence``.
_UNLABELED_AS = {"reported": "Confident", "estimated": "Likely"}


def measurement_sd(confidence_label: str | None) -> float:
    """The sd in log10 FLOP of an estimate with Epoch AI's ``confidence_label``.

    ``Confident`` 0.290, ``Likely`` 0.608, ``Speculative`` 0.907: Epoch's 90% intervals
    (a factor of 3, 10, 31 either way) read as normal errors in log10. Case and surrounding
    space are ignored. A blank or ``None`` label (a row Epoch did not label) is treated as
    Likely; for a whole record prefer :func:`measurement_sds`, which counts a ``reported``
    row as Confident.

    Raises
    ------
    priors.InputError
        For any other label.
    """
    text = "" if confidence_label is None else str(confidence_label).strip()
    if not text:
        text = "Likely"
    for label, factor in _EPOCH_CI90_FACTOR.items():
        if text.lower() == label.lower():
            return math.log10(factor) / _Z90
    raise InputError(
        f"epoch_confidence: unknown label {confidence_label!r}; use "
        f"{', '.join(EPOCH_CONFIDENCE_LEVELS)} or leave it blank"
    )


def measurement_sds(runs: pd.DataFrame) -> np.ndarray:
    """The measurement sd (log10 FLOP) of every row of ``runs``, in order.

    Epoch's label where the row has one (:func:`measurement_sd`); otherwise a ``reported``
    number counts as Confident and an ``estimated`` one as Likely.
    """
    labels = runs["epoch_confidence"] if "epoch_confidence" in runs.columns else pd.Series([""] * len(runs))
    kinds = runs["confidence"] if "confidence" in runs.columns else pd.Series(["estimated"] * len(runs))
    out = []
    for label, kind in zip(labels.fillna("").astype(str), kinds.fillna("").astype(str)):
        label = label.strip() or _UNLABELED_AS.get(kind.strip(), "Likely")
        out.append(measurement_sd(label))
    return np.asarray(out, dtype=float)


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


def _read_rows(path: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with the line each starts on; refuses a bad header."""
    if not path.is_file():
        raise InputError(f"{name}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{name}: line 1: empty file; expected the header {','.join(COLUMNS)}")
            header = [h.strip() for h in header]
            rows = []
            start = reader.line_num + 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                if not any(f.strip() for f in fields):
                    continue  # a blank line
                if len(fields) != len(header):
                    raise InputError(
                        f"{name}: line {line}: {len(fields)} fields, but the header has {len(header)} "
                        "(quote a value that holds a comma)"
                    )
                rows.append((line, dict(zip(header, fields))))
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a UTF-8 text file") from None
    except csv.Error as err:
        raise InputError(f"{name}: line {reader.line_num}: not readable as CSV: {err}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{name}: line 1: missing column(s) {', '.join(missing)}; "
                         f"expected {','.join(COLUMNS)} (the last {len(OPTIONAL_COLUMNS)} optional)")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InputError(f"{name}: line 1: {unknown[0]}: unknown column; expected {','.join(COLUMNS)}")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(f"{name}: line 1: {repeated[0]}: column given twice")
    if not rows:
        raise InputError(f"{name}: no rows")
    return rows


def load_runs(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate a record of frontier training runs.

    Parameters
    ----------
    path : str or Path, optional
        CSV file with the columns :data:`COLUMNS` (``epoch_confidence``,
        ``includes_post_training`` and ``revisions`` may be omitted: blank, ``unknown``
        and blank are assumed). Defaults to the record shipped with the package.

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by date, with :data:`COLUMNS` (``date`` parsed to
        datetime64) plus ``year_frac`` (decimal year) and ``log10_compute``.

    Raises
    ------
    priors.InputError
        (a ``ValueError``) in one line naming the file, the line (the header is line 1) and
        the column: a missing or unknown column, an unparseable date, a compute that is not
        a positive number, an unknown ``confidence``, ``epoch_confidence`` or
        ``includes_post_training``, an empty model or source, or a model name already used
        by another row.
    """
    path = DEFAULT_PATH if path is None else Path(path)
    name = str(path)
    seen: dict[str, int] = {}
    records = []
    for line, row in _read_rows(path, name):
        where = f"{name}: line {line}"
        value = {c: (row.get(c) or "").strip() for c in COLUMNS}
        model = value["model"]
        if not model:
            raise InputError(f"{where}: model: empty model name")
        if model in seen:
            raise InputError(f"{where}: model: duplicate model name {model!r}, first at line {seen[model]}")
        seen[model] = line
        try:
            date = pd.to_datetime(value["date"], format="%Y-%m-%d")
        except (ValueError, TypeError):
            raise InputError(f"{where}: date: not an ISO date YYYY-MM-DD: {row['date']!r}") from None
        try:
            compute = float(value["training_compute_flop"])
        except ValueError:
            compute = float("nan")
        if not np.isfinite(compute) or compute <= 0:
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
        records.append({**value, "date": date, "training_compute_flop": compute,
                        "includes_post_training": post})
    runs = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    runs["date"] = pd.DatetimeIndex(runs["date"])
    runs["training_compute_flop"] = runs["training_compute_flop"].astype(float)
    return _with_derived(runs)


def merge_runs(shipped: pd.DataFrame, user: pd.DataFrame) -> pd.DataFrame:
    """``user``'s rows over ``shipped``'s: a row with the same model name (exact, after
    trimming spaces) replaces the shipped one, new names are added."""
    kept = shipped.loc[~shipped["model"].isin(set(user["model"]))]
    merged = pd.concat([kept.loc[:, list(COLUMNS)], user.loc[:, list(COLUMNS)]], ignore_index=True)
    return _with_derived(merged)


def load_record(user_file: str | Path | None = None) -> pd.DataFrame:
    """The shipped record, with a user's file merged over it when given.

    This is what every command that uses the record reads (``--record FILE``). The user's
    file has the shipped file's columns (the optional ones may be omitted) and is
    validated like it (:func:`load_runs`); its rows replace shipped rows of the same model
    name and add the others.

    Raises
    ------
    priors.InputError
        One line naming the user's file, the line and the column.
    """
    shipped = load_runs()
    if user_file is None or str(user_file) == "":
        return shipped
    return merge_runs(shipped, load_runs(user_file))


def _with_derived(runs: pd.DataFrame) -> pd.DataFrame:
    """Sorted copy with ``year_frac`` and ``log10_compute`` columns."""
    out = runs.sort_values(["date", "training_compute_flop"], kind="stable").reset_index(drop=True)
    out["year_frac"] = decimal_year(out["date"])
    out["log10_compute"] = np.log10(out["training_compute_flop"].to_numpy(dtype=float))
    return out


def _check_runs(runs: pd.DataFrame) -> None:
    missing = [c for c in ("model", "date", "training_compute_flop") if c not in runs.columns]
    if missing:
        raise ValueError(f"runs lacks column(s) {missing}; pass the frame load_runs returns")


def runs_before(runs: pd.DataFrame, cutoff: int | float) -> pd.DataFrame:
    """Runs published strictly before 1 January of the year ``cutoff``.

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`load_runs`.
    cutoff : int
        Calendar year; runs dated on or after ``cutoff``-01-01 are dropped.

    Returns
    -------
    pandas.DataFrame
        A copy holding only the earlier runs.
    """
    _check_runs(runs)
    if int(cutoff) != cutoff:
        raise ValueError(f"cutoff must be a whole year, got {cutoff}")
    limit = pd.Timestamp(year=int(cutoff), month=1, day=1)
    return runs.loc[pd.to_datetime(runs["date"]) < limit].reset_index(drop=True)


def frontier_series(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that set a new compute record when published.

    A run is kept when its compute is strictly larger than every earlier run's (runs on
    the same date are taken in increasing compute, so only the largest of a day can be a
    record). The result is the running maximum of compute by date.

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`load_runs` (needs ``model``, ``date``,
        ``training_compute_flop``).

    Returns
    -------
    pandas.DataFrame
        The record-setting rows, sorted by date, with ``year_frac`` and ``log10_compute``.
    """
    _check_runs(runs)
    if runs.empty:
        raise ValueError("runs is empty: there is no frontier to take")
    ordered = _with_derived(runs)
    compute = ordered["training_compute_flop"].to_numpy(dtype=float)
    previous_max = np.concatenate([[-np.inf], np.maximum.accumulate(compute)[:-1]])
    records = ordered.loc[compute > previous_max]
    # two records on one day: only the day's largest (last, by the sort) stands
    records = records.drop_duplicates(subset="date", keep="last")
    return records.reset_index(drop=True)


def yearly_frontier(
    runs: pd.DataFrame, *, first_year: int | None = None, last_year: int | None = None
) -> pd.DataFrame:
    """The largest run known by the end of each calendar year.

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`load_runs`.
    first_year, last_year : int, optional
        Years to report; default from the first run's year to the last run's year. Years
        before the first run are refused (nothing is known there).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``, columns ``training_compute_flop``, ``log10_compute`` (of the
        running maximum up to 31 December of that year), ``model`` (the run holding it) and
        ``new_record`` (whether a record was set during that year).
    """
    frontier = frontier_series(runs)
    years_of_records = frontier["date"].dt.year.to_numpy()
    first = int(years_of_records[0]) if first_year is None else int(first_year)
    last = int(pd.to_datetime(runs["date"]).dt.year.max()) if last_year is None else int(last_year)
    if first < years_of_records[0]:
        raise ValueError(f"first_year {first} precedes the first run ({years_of_records[0]})")
    if last < first:
        raise ValueError(f"last_year {last} precedes first_year {first}")
    rows = []
    for year in range(first, last + 1):
        held = frontier.loc[years_of_records <= year].iloc[-1]
        rows.append(
            {
                "year": year,
                "training_compute_flop": float(held["training_compute_flop"]),
                "log10_compute": float(held["log10_compute"]),
                "model": held["model"],
                "new_record": bool(np.any(years_of_records == year)),
            }
        )
    return pd.DataFrame(rows).set_index("year")


def frontier_by_year(
    runs: pd.DataFrame, *, first_year: int | None = None, last_year: int | None = None
) -> pd.DataFrame:
    """The largest run known by the end of each calendar year, with who ran it and why we
    believe the number (``forecast record``).

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`load_runs` or :func:`load_record`.
    first_year, last_year : int, optional
        As for :func:`yearly_frontier`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``: ``model, organization, date, training_compute_flop,
        log10_compute, confidence, epoch_confidence, includes_post_training, source,
        new_record`` of the run holding the record at the end of that year (columns the
        frame lacks are left out).
    """
    table = yearly_frontier(runs, first_year=first_year, last_year=last_year)
    details = [c for c in ("organization", "date", "confidence", "epoch_confidence",
                           "includes_post_training", "source") if c in runs.columns]
    by_model = runs.drop_duplicates("model", keep="last").set_index("model")[details]
    out = table.join(by_model, on="model")
    order = ["model", "organization", "date", "training_compute_flop", "log10_compute",
             "confidence", "epoch_confidence", "includes_post_training", "source", "new_record"]
    return out[[c for c in order if c in out.columns]]
