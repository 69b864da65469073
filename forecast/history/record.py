"""The historical record of frontier training runs.

``forecast/data/frontier_runs.csv`` holds one row per training run that was the largest
known at its publication date, or close to it: ``model, organization, date,
training_compute_flop, confidence, source``. This module loads and validates it and derives
the two series the trend model and the backtests use:

- :func:`frontier_series`, the runs that set a new record (the running maximum by date);
- :func:`yearly_frontier`, the largest run known by the end of each calendar year, the
  quantity a backtest scores a forecast against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "CONFIDENCE_LEVELS",
    "DEFAULT_PATH",
    "decimal_year",
    "frontier_series",
    "load_runs",
    "runs_before",
    "yearly_frontier",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "frontier_runs.csv"
COLUMNS = ("model", "organization", "date", "training_compute_flop", "confidence", "source")
CONFIDENCE_LEVELS = ("reported", "estimated")


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


def load_runs(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the record of frontier training runs.

    Parameters
    ----------
    path : str or Path, optional
        CSV file with columns ``model, organization, date, training_compute_flop,
        confidence, source``. Defaults to the record shipped with the package.

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by date, with the file's columns (``date`` parsed to
        datetime64) plus ``year_frac`` (decimal year) and ``log10_compute``.

    Raises
    ------
    ValueError
        If a column is missing, or a row has an unparseable date, a non-positive or
        non-numeric compute, an unknown confidence, an empty source, or a model name
        already used by another row. The message names the file and the row (its line
        number in the file, counting the header as line 1).
    """
    path = DEFAULT_PATH if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}")
    if raw.empty:
        raise ValueError(f"{path}: no rows")

    seen: dict[str, int] = {}
    dates, computes = [], []
    for i, row in raw.iterrows():
        line = int(i) + 2  # header is line 1
        where = f"{path}, line {line} ({row['model']!r})"
        model = row["model"].strip()
        if not model:
            raise ValueError(f"{where}: empty model name")
        if model in seen:
            raise ValueError(f"{where}: duplicate model name, first at line {seen[model]}")
        seen[model] = line
        try:
            date = pd.to_datetime(row["date"].strip(), format="%Y-%m-%d")
        except (ValueError, TypeError):
            raise ValueError(
                f"{where}: date {row['date']!r} is not an ISO date YYYY-MM-DD"
            ) from None
        try:
            compute = float(row["training_compute_flop"])
        except ValueError:
            raise ValueError(
                f"{where}: training_compute_flop {row['training_compute_flop']!r} is not a number"
            ) from None
        if not np.isfinite(compute) or compute <= 0:
            raise ValueError(f"{where}: training_compute_flop must be positive, got {compute}")
        if row["confidence"].strip() not in CONFIDENCE_LEVELS:
            raise ValueError(
                f"{where}: confidence {row['confidence']!r} must be one of {CONFIDENCE_LEVELS}"
            )
        if not row["source"].strip():
            raise ValueError(f"{where}: empty source; every run needs a public source")
        dates.append(date)
        computes.append(compute)

    runs = raw.loc[:, list(COLUMNS)].copy()
    for col in ("model", "organization", "confidence", "source"):
        runs[col] = runs[col].str.strip()
    runs["date"] = pd.DatetimeIndex(dates)
    runs["training_compute_flop"] = np.asarray(computes, dtype=float)
    return _with_derived(runs)


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
