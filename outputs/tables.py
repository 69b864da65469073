"""Tables of a forecast: per-year numbers, timeline, crossing years, priors; text and Markdown.

Numeric tables are :class:`pandas.DataFrame` objects (written to CSV as they are); the
``format_*`` functions turn them into aligned plain text or Markdown, without ``tabulate``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from outputs.text import conditioning_sentences, flop_label, format_number, format_probability
from priors import InputError

if TYPE_CHECKING:  # the tables need no engine
    from forecast.result import ForecastResult
    from priors import PriorSet

__all__ = [
    "RESOURCES", "crossing_display", "crossing_table", "format_lab_table", "format_prior_table",
    "format_terminal_table", "lab_count_table", "lab_table", "per_year_table", "prior_table", "quantity_label", "resources_table", "shares_table",
    "timeline_table", "to_markdown", "to_text", "write_tables",
]

_PERCENTILES = (0.05, 0.5, 0.95)

#: What the largest run takes, per world and year: table column -> (sample variable, unit,
#: short name, what it is). Units are those of :func:`quantity_label`.
RESOURCES = {
    "power_gw": ("log10_power_gw", "GW", "power", "power of the training system"),
    "cluster_capex_usd": ("log10_cluster_capex_usd", "USD", "capital", "capital cost of the cluster"),
    "cost_usd": ("log10_run_cost_usd", "USD", "cost", "cost of the run: chip-hours x price"),
    "energy_gwh": ("log10_energy_gwh", "GWh", "energy", "energy the run uses"),
}

#: Each unit's steps, largest first: (size in the unit, prefix, suffix).
_UNIT_STEPS = {
    "USD": ((1e12, "$", "T"), (1e9, "$", "bn"), (1e6, "$", "M"), (1e3, "$", "k"), (1.0, "$", "")),
    "GW": ((1.0, "", " GW"), (1e-3, "", " MW"), (1e-6, "", " kW")),
    "GWh": ((1e6, "", " PWh"), (1e3, "", " TWh"), (1.0, "", " GWh"), (1e-3, "", " MWh")),
}


def quantity_label(value: float, unit: str, *, digits: int = 2) -> str:
    """``value`` (in ``unit``: ``"USD"``, ``"GW"`` or ``"GWh"``) to ``digits`` significant
    digits in the step that reads best: ``$1.2bn``, ``$450M``, ``$3T``, ``350 MW``, ``1.2 GW``,
    ``430 GWh``, ``17 TWh``."""
    value = float(value)
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    value = float(round(value, digits - 1 - math.floor(math.log10(abs(value)))))  # 999.7 -> 1000
    steps = _UNIT_STEPS[unit]
    size, prefix, suffix = next((s for s in steps if abs(value) >= s[0] * (1 - 1e-9)), steps[-1])
    scaled = abs(value) / size
    decimals = max(digits - 1 - math.floor(math.log10(scaled) + 1e-9), 0)
    shown = f"{scaled:,.{decimals}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"{'-' if value < 0 else ''}{prefix}{shown}{suffix}"


def _has_resources(result: ForecastResult, columns=RESOURCES) -> bool:
    return all(RESOURCES[c][0] in result.samples for c in columns)


def resources_table(result: ForecastResult, *, columns=tuple(RESOURCES), display: bool = False) -> pd.DataFrame:
    """Median and 90% equal-tailed interval over worlds of what the largest run takes, by year.

    Parameters
    ----------
    result
        The forecast (one saved before the model recorded these quantities has none of them:
        a :class:`priors.InputError` names the missing one).
    columns
        Some of :data:`RESOURCES`: ``power_gw``, ``cluster_capex_usd``, ``cost_usd``, ``energy_gwh``.
    display
        False (default): numbers, ``<column>``, ``<column>_p05``, ``<column>_p95`` (GW, USD, GWh).
        True: one text column per quantity, named by its short name: ``$1.2bn ($400M - $3bn)``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``.
    """
    table = pd.DataFrame(index=pd.Index(result.years.astype(int), name="year"))
    for column in columns:
        variable = RESOURCES[column][0]
        if variable not in result.samples:
            raise InputError(f"this forecast has no {variable} (saved by an older model version?)")
        intervals = result.interval_table(variable)  # as the compute intervals: quantiles of log10
        eti = intervals["eti"].sel(prob=0.9)
        table[column] = 10.0 ** intervals["median"].values
        table[f"{column}_p05"] = 10.0 ** eti.sel(bound="lower").values
        table[f"{column}_p95"] = 10.0 ** eti.sel(bound="upper").values
    if not display:
        return table
    shown = pd.DataFrame(index=table.index)
    for column in columns:
        _, unit, name, _ = RESOURCES[column]
        shown[name] = [
            f"{quantity_label(m, unit)} ({quantity_label(lo, unit)} - {quantity_label(hi, unit)})"
            for m, lo, hi in zip(table[column], table[f"{column}_p05"], table[f"{column}_p95"])
        ]
    return shown


#: Columns of :func:`per_year_table` that :func:`format_terminal_table` and summary.md show
#: in a second table, under the first.
_SECOND_TABLE = ("cost", "energy")
_PER_YEAR_RESOURCES = ("cost_usd", "energy_gwh")


def _p_column(threshold: float) -> str:
    return f"P>={flop_label(threshold)}"


def per_year_table(result: ForecastResult, *, display: bool = False) -> pd.DataFrame:
    """One row per year: median and 90% interval of compute, P(>= each threshold by then),
    the most frequent binding constraint with its share, and the median and 90% interval
    of the run's cost and energy.

    Parameters
    ----------
    result
        The forecast.
    display
        False (default): numbers (FLOP, probabilities as fractions), for CSV and code.
        True: the same table as text, ``3.1e+26``, ``62%`` (digits set by the Monte Carlo
        error), ``funding 45%``, ``$1.2bn ($400M - $3bn)``, ``430 GWh (120 GWh - 1.5 TWh)``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``. Numeric columns: ``median``, ``p05``, ``p95`` (FLOP, the 90%
        equal-tailed interval), ``P>=<threshold>`` per threshold (fraction of worlds with a run
        at least that large by that year), ``binding`` and ``binding_share``, then
        ``cost_usd``, ``cost_usd_p05``, ``cost_usd_p95`` (USD: chip-hours x price) and
        ``energy_gwh``, ``energy_gwh_p05``, ``energy_gwh_p95`` (GWh), each median and 90%
        equal-tailed interval over worlds (absent from forecasts saved without them).
        Text columns: ``median``, ``90% interval``, ``P>=<threshold>``, ``binding``, ``cost``,
        ``energy``.
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
    resources = _has_resources(result, _PER_YEAR_RESOURCES)
    if resources:
        table = table.join(resources_table(result, columns=_PER_YEAR_RESOURCES))
    if not display:
        return table

    n = result.n_samples
    shown = pd.DataFrame(index=table.index)
    shown["median"] = [flop_label(x, 2) for x in table["median"]]
    shown["90% interval"] = [f"{flop_label(lo, 2)} - {flop_label(hi, 2)}" for lo, hi in zip(table["p05"], table["p95"])]
    for threshold in result.thresholds:
        column = _p_column(threshold)
        mcse = timeline["mcse"].sel(threshold=threshold).values
        shown[column] = [format_probability(p, e, n, interval=False) for p, e in zip(table[column], mcse)]
    shown["binding"] = [f"{name} {share:.0%}" for name, share in zip(table["binding"], table["binding_share"])]
    if resources:
        shown = shown.join(resources_table(result, columns=_PER_YEAR_RESOURCES, display=True))
    return shown


def _split_per_year(shown: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The display table as compute and probabilities, and cost and energy (None if absent)."""
    second = [c for c in _SECOND_TABLE if c in shown.columns]
    if not second:
        return shown, None
    return shown.drop(columns=second), shown[second]


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


def prior_table(prior_set: PriorSet) -> pd.DataFrame:
    """``name, scope, distribution, p05, p50, p95, unit, description, source`` per prior
    (``ppf``), then one row per lab's own prior (``name`` ``chips_base[xai]``). ``scope``:
    shared (one draw per world), lab (one per lab) or lab-year (one per lab and year)."""
    columns = ["name", "scope", "distribution", "p05", "p50", "p95", "unit", "description", "source"]
    rows = []
    own = [(f"{p.name}[{lab}]", p) for lab, p in prior_set.labs.overrides]
    for name, prior in [(p.name, p) for p in prior_set] + own:
        q = np.asarray(prior.family.ppf(np.asarray(_PERCENTILES)), dtype=float)
        rows.append({"name": name, "scope": prior_set.scope(prior.name), "distribution": prior.spec,
                     "p05": q[0], "p50": q[1], "p95": q[2], "unit": prior.unit,
                     "description": prior.description, "source": prior.source})
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
    shown = table.assign(**{c: table[c].map(format_number) for c in ("p05", "p50", "p95")})
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


def correlation_tables(prior_set: PriorSet) -> list[pd.DataFrame]:
    """The Spearman rank correlations of each correlated group of priors, one matrix each
    (independent priors are left out)."""
    names = list(prior_set.latent_names)
    ranks = prior_set.rank_correlation()
    tables = []
    for group in prior_set.correlation_blocks():
        if len(group) > 1:
            index = [names.index(n) for n in group]
            tables.append(pd.DataFrame(ranks[np.ix_(index, index)], index=list(group), columns=list(group)))
    return tables


def format_correlations(prior_set: PriorSet, *, markdown: bool = False) -> str:
    """The correlated groups of a prior set as matrices of rank correlations, and the pairs
    as written with where each was written; empty when every prior is independent."""
    tables = correlation_tables(prior_set)
    if not tables:
        return ""
    shown = [t.map(lambda x: f"{x:.2f}") for t in tables]
    intro = ("Rank correlations (Spearman), joined by a Gaussian copula; "
             f"{len(tables)} correlated group(s), every other prior independent")
    pairs = [f"{c.key} = {c.rank:g}" + (f"  ({c.origin})" if c.origin else "") for c in prior_set.correlations]
    if markdown:
        body = "\n\n".join(to_markdown(t) for t in shown)
        return f"{intro}.\n\n{body}\n\nPairs as written: " + "; ".join(f"`{p}`" for p in pairs)
    body = "\n\n".join(to_text(t) for t in shown)
    return f"{intro}:\n\n{body}\n\npairs as written:\n" + "\n".join(f"  {p}" for p in pairs)


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


_RESOURCES_NOTE = ("What the largest run takes: median and 90% interval of its cost (chip-hours "
                   "x price per chip-hour) and of the energy it uses")


def format_terminal_table(result: ForecastResult) -> str:
    """The per-year table as aligned text under a title naming prior set, samples and seed;
    the run's cost and energy in a second table under it, so each fits a terminal."""
    title = (f"Forecast of the largest training run: prior set {result.name}, "
             f"{result.n_samples:,} worlds, seed {result.seed}")
    note = ("median and 90% interval in FLOP; P>=X: probability that a run of at least X FLOP "
            "has happened by that year; binding: the most frequent limit and its share of worlds")
    first, second = _split_per_year(per_year_table(result, display=True))
    lines = [title, "", to_text(first), "", _wrap(note, 100)]
    if second is not None:
        lines += ["", _wrap(_RESOURCES_NOTE + ":", 100), "", to_text(second)]
    labs = format_lab_table(result)
    if labs:
        lines += ["", labs]
    questions = format_questions(result)
    if questions:
        lines += ["", questions]
    conditioned = conditioning_sentences(result)
    if conditioned:
        lines += ["", *(_wrap(line, 100) for line in conditioned)]
    return "\n".join(lines)


def questions_table(result: ForecastResult) -> pd.DataFrame | None:
    """The run's questions (the headline thresholds, each by the end of its year): the true
    probability and the published one side by side, with their Monte Carlo errors."""
    import json

    answers = json.loads(result.metadata.get("questions") or "[]")
    if not answers:
        return None
    rows = [{"question": f">= {flop_label(a['threshold'])} by {a['by']}",
             "true": f"{100 * a['true_probability']:.1f}% +- {100 * a['true_mcse']:.1f}",
             "published": f"{100 * a['published_probability']:.1f}% +- {100 * a['published_mcse']:.1f}"}
            for a in answers]
    return pd.DataFrame(rows).set_index("question")


def format_questions(result: ForecastResult) -> str:
    """:func:`questions_table` as text under a note on the two quantities ('' if none)."""
    table = questions_table(result)
    if table is None:
        return ""
    note = ("true: a run that large has finished by the date; published: a public estimate that "
            "large exists by the date (what forecasting questions resolve on); +- Monte Carlo error, points")
    return "\n".join([to_text(table), _wrap(note, 100)])


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


def published_table(result: ForecastResult, *, display: bool = False) -> pd.DataFrame:
    """Published forecasts inside the forecast's years, each with our probability that a run
    of at least its size has happened by its year (``published.csv``; the report's table)."""
    from forecast.record.published import beside_ours

    table = beside_ours(result)
    if not display:
        return table
    shown = table.assign(
        flop=[flop_label(f) for f in table["flop"]],
        kind=table["kind"].str.replace("_", " "),
        ours=[format_probability(p, m, result.n_samples, interval=False)
              for p, m in zip(table["probability"], table["mcse"])],
    )
    return shown[["source", "kind", "year", "flop", "ours"]].rename(
        columns={"flop": "size", "ours": "our P(>= size by year)"})


#: Years whose leading lab the lab table shows (those in the forecast's range).
LEAD_YEARS = (2026, 2028, 2030, 2035)


#: Thresholds and years the printed lab table shows (the CSV has every one).
SHOWN_THRESHOLDS, SHOWN_YEARS = (1e27, 1e28, 1e29), (2026, 2030)


def lab_table(result: ForecastResult, *, display: bool = False) -> pd.DataFrame | None:
    """One row per lab: P(the lab is the first to each threshold) and the share of worlds in
    which it runs the largest run of a few years (``labs.csv``); None for one lab. With
    ``display``, as text and only the headline thresholds and years."""
    summary = result.lab_summary()
    if summary is None:
        return None
    n = result.n_samples
    table = pd.DataFrame(index=pd.Index(result.labs, name="lab"))
    thresholds = summary["threshold"].values
    if display and any(t in thresholds for t in SHOWN_THRESHOLDS):
        thresholds = [t for t in thresholds if t in SHOWN_THRESHOLDS]
    years = [y for y in (SHOWN_YEARS if display else LEAD_YEARS) if y in result.years]
    def put(column: str, p, se) -> None:  # a probability and, in the CSV, its standard error
        if display:
            table[column] = [format_probability(a, b, n, interval=False) for a, b in zip(p.values, se.values)]
        else:
            table[column], table[f"{column} mcse"] = p.values, se.values

    for t in thresholds:
        put(f"first {flop_label(t)}" if display else f"first to {flop_label(t)}",
            summary["first_probability"].sel(threshold=t), summary["first_probability_mcse"].sel(threshold=t))
    for year in years:
        put(f"lead {year}" if display else f"largest run {year}",
            summary["lead_share"].sel(year=year), summary["lead_share_mcse"].sel(year=year))
    return table


def lab_count_table(result: ForecastResult) -> pd.DataFrame | None:
    """``lab_counts.csv``: per threshold and year, the distribution of the number of labs with
    a run at least that large so far, and P(two labs or more) with its standard error."""
    summary = result.lab_summary()
    if summary is None:
        return None
    counts = summary["labs_reached"].to_dataframe(name="p")["p"].unstack("count")
    counts.columns = [f"P({c} labs)" for c in counts.columns]
    two = summary["at_least_two"].to_dataframe(name="P(>= 2 labs)")
    se = summary["at_least_two_mcse"].to_dataframe(name="P(>= 2 labs) mcse")
    return counts.join(two).join(se).reset_index()


def format_lab_table(result: ForecastResult) -> str | None:
    """The lab table as text with a line on how many labs get to 1e28 (the terminal's)."""
    table = lab_table(result, display=True)
    if table is None:
        return None
    summary = result.lab_summary()
    lines = [_wrap(f"Which lab gets there first ({len(result.labs)} labs). first X: P(the lab runs the first "
                   "run of at least X FLOP, within the forecast's years); lead Y: P(its run is the largest of "
                   "year Y)", 100), "", to_text(table)]
    for t in (1e28, 1e29):
        year = next((y for y in (2028, 2030) if y in result.years), None)
        if t in summary["threshold"].values and year is not None:
            p = summary["at_least_two"].sel(threshold=t, year=year)
            se = summary["at_least_two_mcse"].sel(threshold=t, year=year)
            lines.append(f"P(two labs or more have a run >= {flop_label(t)} by {year}): "
                         f"{format_probability(p, se, result.n_samples, interval=False)}")
            break
    return "\n".join(lines)


def write_tables(result, folder: str | Path) -> list[Path]:
    """summary.csv/.md (per year), timeline.csv, crossing.csv, published.csv, priors.csv/.md
    into ``folder``."""
    folder = Path(folder)
    written = []

    def put(name: str, text: str) -> None:
        path = folder / name
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        written.append(path)

    put("summary.csv", per_year_table(result).to_csv(float_format="%.6g"))
    first, second = _split_per_year(per_year_table(result, display=True))
    summary = f"# {_title(result)}\n\n{to_markdown(first)}\n"
    if second is not None:
        summary += f"\n{_RESOURCES_NOTE}:\n\n{to_markdown(second)}\n"
    put("summary.md", summary)
    put("timeline.csv", timeline_table(result).to_csv(index=False, float_format="%.6g"))
    put("crossing.csv", crossing_table(result).to_csv())
    put("published.csv", published_table(result).to_csv(index=False, float_format="%.6g"))
    labs = lab_table(result)
    if labs is not None:
        put("labs.csv", labs.to_csv(float_format="%.6g"))
        put("lab_counts.csv", lab_count_table(result).to_csv(index=False, float_format="%.6g"))
    put("priors.csv", prior_table(result.priors).to_csv(index=False, float_format="%.6g"))
    put("priors.md", format_prior_table(result.priors, markdown=True))
    return written


def _frontier_display(table: pd.DataFrame, *, with_source: bool) -> pd.DataFrame:
    shown = pd.DataFrame(
        {
            "FLOP": [flop_label(v, 3) for v in table["training_compute_flop"]],
            "log10": [f"{v:.2f}" for v in table["log10_compute"]],
            "model": table["model"],
            "organization": table["organization"],
            "published": [d.strftime("%Y-%m-%d") for d in pd.to_datetime(table["date"])],
            "Epoch confidence": [c or "-" for c in table["epoch_confidence"]],
            "new": ["*" if n else "" for n in table["new_record"]],
        },
        index=table.index,
    )
    if with_source:
        shown["source"] = table["source"]
    return shown


def format_frontier(table: pd.DataFrame, *, markdown: bool = False, origin: str = "") -> str:
    """The frontier by year as plain text (sources listed below the table) or Markdown."""
    intro = ("Largest training run known by the end of each year"
             + (f" ({origin})" if origin else "")
             + "; * = a new record set that year; Epoch confidence '-' = not an Epoch AI estimate")
    if markdown:
        return f"{intro}.\n\n{to_markdown(_frontier_display(table, with_source=True))}"
    sources = "\n".join(f"  {year}  {row['model']}: {row['source']}"
                        for year, row in table.iterrows() if row["new_record"])
    return f"{intro}:\n\n{to_text(_frontier_display(table, with_source=False))}\n\nsources:\n{sources}"


def _title(result) -> str:
    return (f"Largest training run by year: prior set {result.name}, "
            f"{result.n_samples:,} worlds, seed {result.seed}")
