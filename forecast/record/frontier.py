"""The frontier of the record: the runs that set a new record by date, the largest run
known by the end of each year, and the record as it was known on a date.

Each takes a record from :func:`forecast.record.runs.load_runs` (or
:func:`~forecast.record.runs.load_record`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.record.runs import check_runs, parse_revisions, with_derived
from forecast.summaries import best_so_far

__all__ = ["frontier_by_year", "frontier_series", "record_as_known", "runs_before", "yearly_frontier"]


def runs_before(runs: pd.DataFrame, cutoff: int | float) -> pd.DataFrame:
    """Runs published strictly before 1 January of the year ``cutoff``.

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`~forecast.record.runs.load_runs`.
    cutoff : int
        Calendar year; runs dated on or after ``cutoff``-01-01 are dropped.

    Returns
    -------
    pandas.DataFrame
        A copy holding only the earlier runs.
    """
    check_runs(runs)
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
        As returned by :func:`~forecast.record.runs.load_runs` (needs ``model``, ``date``,
        ``training_compute_flop``).

    Returns
    -------
    pandas.DataFrame
        The record-setting rows, sorted by date, with ``year_frac`` and ``log10_compute``.
    """
    check_runs(runs)
    if runs.empty:
        raise ValueError("runs is empty: there is no frontier to take")
    ordered = with_derived(runs)
    compute = ordered["training_compute_flop"].to_numpy(dtype=float)
    previous_max = np.concatenate([[-np.inf], best_so_far(compute)[:-1]])
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
        As returned by :func:`~forecast.record.runs.load_runs`.
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
        As returned by :func:`~forecast.record.runs.load_runs` or :func:`~forecast.record.runs.load_record`.
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




def record_as_known(runs: pd.DataFrame, date) -> pd.DataFrame:
    """The record as it was known on ``date``: the rows whose first value was public by then
    (``published``, or the oldest entry of ``revisions``), each with the value public on
    that date.

    A row whose current value was published after ``date`` reads the latest earlier value
    public by then (:func:`~forecast.record.runs.parse_revisions`), with no stated interval (earlier intervals
    are not kept), its Epoch label as it is now (judgement: earlier labels are not kept
    either) and ``published`` the earlier value's date. Rows are re-sorted;
    ``attrs["checked"]`` is ``date``. A frame without a ``published`` column is taken as
    public from each row's ``date``.

    Parameters
    ----------
    runs : pandas.DataFrame
        As returned by :func:`~forecast.record.runs.load_runs` or :func:`~forecast.record.runs.load_record`.
    date : date-like
        Anything :class:`pandas.Timestamp` reads (``"2025-06-30"``, a ``datetime.date``).
    """
    check_runs(runs)
    when = pd.Timestamp(date)
    published = pd.to_datetime(runs["published"]) if "published" in runs.columns else pd.to_datetime(runs["date"])
    revisions = runs["revisions"].fillna("") if "revisions" in runs.columns else pd.Series([""] * len(runs), index=runs.index)
    rows = []
    for (index, row), public_from, text in zip(runs.iterrows(), published, revisions):
        if public_from <= when:
            rows.append(row)
            continue
        earlier = [r for r in parse_revisions(text) if r[1] <= when]
        if not earlier:
            continue  # not public yet
        value, since, _ = earlier[-1]
        row = row.copy()
        row["training_compute_flop"] = value
        if "flop_low_90" in row.index:
            row["flop_low_90"] = np.nan
            row["flop_high_90"] = np.nan
        row["published"] = since
        rows.append(row)
    if rows:
        out = pd.DataFrame(rows).reset_index(drop=True)
    else:
        out = runs.iloc[0:0].copy()
    for column in ("date", "published"):
        if column in out.columns:
            out[column] = pd.to_datetime(out[column])
    if "finish_year" in out.columns:
        out["finish_year"] = out["finish_year"].astype("Int64")
    out = with_derived(out) if len(out) else out
    out.attrs["checked"] = when
    return out
