"""Tables of a forecast: per-year numbers, timeline, crossing years, priors; text and Markdown.

Numeric tables are :class:`pandas.DataFrame` objects (written to CSV as they are); the
``format_*`` functions turn them into aligned plain text or Markdown, without ``tabulate``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast import ForecastResult
from outputs.text import flop_label, format_probability
from priors import PriorSet

__all__ = [
    "crossing_display", "crossing_table", "format_prior_table", "format_terminal_table", "per_year_table",
    "prior_table", "shares_table", "timeline_table", "to_markdown", "to_text", "write_tables",
]

_PERCENTILES = (0.05, 0.5, 0.95)


def _p_column(threshold: float) -> str:
    return f"P>={flop_label(threshold)}"


def per_year_table(result: ForecastResult, *, display: bool = False) -> pd.DataFrame:
    """One row per year: median and 90% interval of compute, P(>= each threshold by then),
    and the most frequent binding constraint with its share.

    Parameters
    ----------
    result
        The forecast.
    display
        False (default): numbers (FLOP, probabilities as fractions), for CSV and code.
        True: the same table as text, ``3.1e+26``, ``62%`` (digits set by the Monte Carlo
        error), ``funding 45%``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``. Numeric columns: ``median``, ``p05``, ``p95`` (FLOP, the 90%
        equal-tailed interval), ``P>=<threshold>`` per threshold (fraction of worlds with a run
        at least that large by that year), ``binding`` and ``binding_share``.
    """
    eti = result.intervals["eti"].sel(prob=0.9)
    table = pd.DataFrame(
        {
            "median": 10.0 ** result.intervals["median"].values,
            "p05": 10.0 ** eti.sel(bound="lower").values,
            "p95": 10.0 ** eti.sel(bound="upper").values,
        },
        index=pd.Index(result.years.astype(int), name="year"),
    )
    timeline = result.timeline
    for threshold in result.thresholds:
        table[_p_column(threshold)] = timeline["probability"].sel(threshold=threshold).values
    shares = result.constraint_shares
    table["binding"] = result.main_constraint
    table["binding_share"] = shares.max("constraint").values
    if not display:
        return table

    n = result.n_samples
    shown = pd.DataFrame(index=table.index)
    shown["median"] = [f"{x:.1e}" for x in table["median"]]
    shown["90% interval"] = [f"{lo:.1e} - {hi:.1e}" for lo, hi in zip(table["p05"], table["p95"])]
    for threshold in result.thresholds:
        column = _p_column(threshold)
        mcse = timeline["mcse"].sel(threshold=threshold).values
        shown[column] = [format_probability(p, e, n, interval=False) for p, e in zip(table[column], mcse)]
    shown["binding"] = [f"{name} {share:.0%}" for name, share in zip(table["binding"], table["binding_share"])]
    return shown


def timeline_table(result: ForecastResult) -> pd.DataFrame:
    """Long form: ``threshold, year, probability, mcse`` (P(run >= threshold by year)).

    Thresholds are written as everywhere else (``1e28``: :func:`outputs.text.flop_label`).
    """
    frame = result.timeline[["probability", "mcse"]].to_dataframe().reset_index()
    frame["threshold"] = frame["threshold"].map(flop_label)
    return frame[["threshold", "year", "probability", "mcse"]]


def crossing_table(result: ForecastResult) -> pd.DataFrame:
    """First-crossing year quantiles per threshold: ``p05, p50, p95``, each a year or
    ``after <last year>`` when fewer worlds than that quantile cross in the forecast range."""
    q = result.crossing_quantiles
    last = int(result.years[-1])

    def year(value: float) -> str:
        return str(int(value)) if np.isfinite(value) else f"after {last}"

    return pd.DataFrame(
        {f"p{round(100 * float(k)):02d}": [year(v) for v in q.sel(quantile=k).values] for k in q["quantile"].values},
        index=pd.Index([flop_label(t) for t in q["threshold"].values], name="threshold"),
    )


def shares_table(result: ForecastResult) -> pd.DataFrame:
    """Share of worlds bound by each constraint: one row per year, one column per constraint."""
    shares = result.constraint_shares
    return pd.DataFrame(
        shares.transpose("year", "constraint").values,
        index=pd.Index(result.years.astype(int), name="year"),
        columns=[str(c) for c in shares["constraint"].values],
    )


def _number(x: float) -> str:
    x = float(x)
    if x == 0 or not np.isfinite(x):
        return f"{x:g}"
    if 100 <= abs(x) < 1e4:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    if 1e-3 <= abs(x) < 100:
        return f"{x:.3g}"
    return f"{x:.3g}"


def prior_table(prior_set: PriorSet) -> pd.DataFrame:
    """``name, distribution, p05, p50, p95, unit, description, source`` per prior (``ppf``)."""
    columns = ["name", "distribution", "p05", "p50", "p95", "unit", "description", "source"]
    rows = []
    for prior in prior_set:
        q = np.asarray(prior.family.ppf(np.asarray(_PERCENTILES)), dtype=float)
        rows.append({"name": prior.name, "distribution": prior.spec, "p05": q[0], "p50": q[1],
                     "p95": q[2], "unit": prior.unit, "description": prior.description,
                     "source": prior.source})
    return pd.DataFrame(rows, columns=columns)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def format_prior_table(prior_set: PriorSet, *, markdown: bool = False, width: int = 100) -> str:
    """The priors as a table: name, distribution, 5th/50th/95th percentile, unit, what the
    prior is (its description) and its source.

    Parameters
    ----------
    prior_set
        The priors.
    markdown
        A Markdown table with full descriptions and sources; otherwise aligned text with the
        description and the source of each prior on indented lines under it, cut to fit
        ``width`` characters.
    """
    table = prior_table(prior_set)
    shown = table.assign(**{c: table[c].map(_number) for c in ("p05", "p50", "p95")})
    shown = shown.rename(columns={"p05": "5%", "p50": "50%", "p95": "95%"})
    if markdown:
        body = shown.assign(**{c: shown[c].map(_escape_markdown) for c in ("description", "source")})
        return f"Prior set **{_escape_markdown(prior_set.name)}**\n\n" + to_markdown(body, index=False)
    lines = to_text(shown.drop(columns=["description", "source"]), index=False).splitlines()
    out = lines[:2]
    for line, description, source in zip(lines[2:], shown["description"], shown["source"]):
        out.append(line)
        for note, prefix in ((description, ""), (source, "source: ")):
            if note:
                out.append("    " + _truncate(prefix + " ".join(str(note).split()), width - 4))
    title = f"Prior set: {prior_set.name}" + (f"  ({prior_set.source})" if prior_set.source else "")
    return title + "\n\n" + "\n".join(out)


def _escape_markdown(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _cells(df: pd.DataFrame, index: bool) -> tuple[list[str], list[list[str]], list[bool]]:
    header = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    rows = []
    for label, values in zip(df.index, df.itertuples(index=False)):
        rows.append(([str(label)] if index else []) + ["" if _is_nan(v) else str(v) for v in values])
    numeric = ([pd.api.types.is_numeric_dtype(df.index)] if index else []) + [
        pd.api.types.is_numeric_dtype(df[c]) or _looks_numeric(df[c]) for c in df.columns
    ]
    return header, rows, numeric


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _looks_numeric(column: pd.Series) -> bool:
    """Right-align text columns of numbers and percentages (``62%``, ``3.1e+26``)."""
    text = column.astype(str).str.strip().str.lstrip("<>")
    return bool(len(text)) and bool(text.str.match(r"^[-+0-9.e%]+( - [-+0-9.e%]+)?$").all())


def to_markdown(df: pd.DataFrame, *, index: bool = True) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned); no ``tabulate`` needed."""
    header, rows, numeric = _cells(df, index)
    escaped = [[_escape_markdown(c) for c in row] for row in [header, *rows]]
    widths = [max(3, *(len(row[i]) for row in escaped)) for i in range(len(header))]
    def line(row):
        return "| " + " | ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)
        ) + " |"
    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(escaped[0]), rule, *(line(r) for r in escaped[1:])])


def to_text(df: pd.DataFrame, *, index: bool = True, gap: int = 2) -> str:
    """Aligned plain text: a header, a rule, one line per row (numbers right-aligned)."""
    header, rows, numeric = _cells(df, index)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    sep = " " * gap
    def line(row):
        return sep.join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)).rstrip()
    return "\n".join([line(header), sep.join("-" * w for w in widths), *(line(r) for r in rows)])


def format_terminal_table(result: ForecastResult) -> str:
    """The per-year table as aligned text under a title naming prior set, samples and seed."""
    title = (f"Forecast of the largest training run: prior set {result.name}, "
             f"{result.n_samples:,} worlds, seed {result.seed}")
    note = ("median and 90% interval in FLOP; P>=X: probability that a run of at least X FLOP "
            "has happened by that year; binding: the most frequent limit and its share of worlds")
    return "\n".join([title, "", to_text(per_year_table(result, display=True)), "", _wrap(note, 100)])


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def crossing_display(result: ForecastResult) -> pd.DataFrame:
    """Crossing-year quantiles as text (``after 2035`` for NaN), one row per threshold."""
    q = result.crossing_quantiles
    first, last = int(result.years[0]), int(result.years[-1])

    def year(v):
        if not np.isfinite(v):
            return f"after {last}"
        return f"<={first}" if int(v) == first else str(int(v))

    rows = {flop_label(t): [year(v) for v in q.sel(threshold=t).values] for t in q["threshold"].values}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["5%", "median", "95%"]).rename_axis("threshold")


def write_tables(result, folder: str | Path) -> list[Path]:
    """summary.csv/.md (per year), timeline.csv, crossing.csv, priors.csv/.md into ``folder``."""
    folder = Path(folder)
    written = []

    def put(name: str, text: str) -> None:
        path = folder / name
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        written.append(path)

    put("summary.csv", per_year_table(result).to_csv(float_format="%.6g"))
    put("summary.md", f"# {_title(result)}\n\n{to_markdown(per_year_table(result, display=True))}\n")
    put("timeline.csv", timeline_table(result).to_csv(index=False, float_format="%.6g"))
    put("crossing.csv", crossing_table(result).to_csv())
    put("priors.csv", prior_table(result.priors).to_csv(index=False, float_format="%.6g"))
    put("priors.md", format_prior_table(result.priors, markdown=True))
    return written


def _title(result) -> str:
    return (f"Largest training run by year: prior set {result.name}, "
            f"{result.n_samples:,} worlds, seed {result.seed}")
