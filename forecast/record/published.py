"""Published quantitative forecasts of the largest training run, to set beside ours.

``forecast/record/data/published_forecasts.csv`` holds one row per published statement of
the form "a run of F FLOP in year Y": ``source`` (a short name, the label on the chart),
``title``, ``author``, ``date_published`` (``YYYY-MM-DD`` or ``YYYY-MM``), ``year`` (the
year the statement is about), ``flop``, ``kind``, ``quote`` (the statement the number comes
from, quoted or paraphrased) and ``link``. ``kind`` says what the number is:

- ``median``: the author's central estimate of the largest run that year;
- ``feasible_upper_bound``: what the author finds possible by then (not what will be spent);
- ``scenario``: a number inside a story or a conditional argument;
- ``projection``: a trend extrapolated.

Only statements checked against the source go in the file; the numbers are the sources',
the ``year`` of a statement dated "late 2025" or "by 2028" is read as the year its run ends.
This module only reads the record: the plots (``outputs``) import it, never the other way.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd

__all__ = ["COLUMNS", "DEFAULT_PATH", "KINDS", "beside_ours", "load_published"]

DEFAULT_PATH = Path(__file__).parent / "data" / "published_forecasts.csv"
COLUMNS = ("source", "title", "author", "date_published", "year", "flop", "kind", "quote", "link")
#: What a published number is, in the order the chart's legend lists them.
KINDS = ("median", "feasible_upper_bound", "scenario", "projection")
#: Years a forecast of a training run can be about.
_YEARS = (2000, 2100)
_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _check_date(text: str) -> str | None:
    """Why ``text`` is not a ``YYYY-MM-DD`` or ``YYYY-MM`` date, or None when it is one."""
    match = _DATE.match(text)
    if not match:
        return f"expected YYYY-MM-DD or YYYY-MM, got {text!r}"
    year, month, day = match.groups()
    try:
        date(int(year), int(month), int(day or 1))
    except ValueError as error:
        return f"not a date: {text!r} ({error})"
    return None


def _parse(column: str, text: str) -> tuple[object, str | None]:
    """``(value, problem)`` of one cell: the typed value, or why it is invalid."""
    text = text.strip()
    if column != "quote" and not text:
        return None, "empty"
    if column == "year":
        try:
            year = int(text)
        except ValueError:
            return None, f"expected a whole year, got {text!r}"
        if not _YEARS[0] <= year <= _YEARS[1]:
            return None, f"year {year} outside {_YEARS[0]}..{_YEARS[1]}"
        return year, None
    if column == "flop":
        try:
            flop = float(text)
        except ValueError:
            return None, f"expected a number of FLOP such as 2e29, got {text!r}"
        if not math.isfinite(flop) or flop <= 0:
            return None, f"must be a positive number, got {text!r}"
        return flop, None
    if column == "kind":
        if text not in KINDS:
            return None, f"unknown kind {text!r}; use one of {', '.join(KINDS)}"
        return text, None
    if column == "date_published":
        return text, _check_date(text)
    if column == "link" and not text.startswith(("http://", "https://")):
        return None, f"expected an http(s) address, got {text!r}"
    return text, None


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the published forecasts.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`COLUMNS`; :data:`DEFAULT_PATH` when None.

    Returns
    -------
    pandas.DataFrame
        One row per forecast, in file order: the columns of :data:`COLUMNS` (``year`` int,
        ``flop`` float, the others str) and ``log10_flop``.

    Raises
    ------
    ValueError
        One line naming the file, the line and the column: a missing or unknown column, an
        empty cell (``quote`` may be empty), a non-positive ``flop``, a ``year`` outside
        2000..2100, a bad ``date_published``, an unknown ``kind``, a ``link`` that is not an
        address, a row with too many or too few cells, or no rows at all.
    """
    path = Path(DEFAULT_PATH if path is None else path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: line 1: empty file; expected the header {','.join(COLUMNS)}")
        header = [name.strip() for name in header]
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown or len(header) != len(set(header)):
            what = (f"missing column {missing[0]!r}" if missing else
                    f"unknown column {unknown[0]!r}" if unknown else "a column appears twice")
            raise ValueError(f"{path}: line 1: {what}; expected {','.join(COLUMNS)}")
        rows = []
        line = reader.line_num + 1  # where the next row starts
        for cells in reader:
            where = f"{path}: line {line}"
            line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(header):
                raise ValueError(f"{where}: {len(cells)} cells, expected {len(header)} "
                                 f"({','.join(header)}); quote a cell that holds a comma")
            row = {}
            for name, text in zip(header, cells):
                value, problem = _parse(name, text)
                if problem:
                    raise ValueError(f"{where}: column {name!r}: {problem}")
                row[name] = value
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: line 2: no rows")
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["year"] = table["year"].astype(int)
    table["flop"] = table["flop"].astype(float)
    table["log10_flop"] = [math.log10(f) for f in table["flop"]]
    return table


def beside_ours(result, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each published forecast inside the forecast's years with our probability that a run
    of at least its size has happened by its year, and that probability's Monte Carlo
    standard error.

    ``result``: a :class:`~forecast.result.ForecastResult` (its :meth:`reach`, from every
    world of the run).
    """
    published = load_published() if published is None else published
    years = set(int(y) for y in result.years)
    rows = published[published["year"].astype(int).isin(years)]
    rows = rows.sort_values(["year", "flop"], kind="stable").reset_index(drop=True)
    columns = ["source", "kind", "year", "flop", "probability", "mcse", "link"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    reach = result.reach(sorted(set(rows["flop"].astype(float))))
    at = [reach.sel(threshold=float(f), year=int(y)) for f, y in zip(rows["flop"], rows["year"])]
    rows["probability"] = [float(r["probability"]) for r in at]
    rows["mcse"] = [float(r["mcse"]) for r in at]
    return rows[columns]
