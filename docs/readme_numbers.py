"""Regenerate every number the README prints, from the commands it shows.

    python docs/readme_numbers.py --write           # run them all, write the JSON and README.md
    python docs/readme_numbers.py --write --reuse   # rewrite README.md from the JSON, no runs
    python docs/readme_numbers.py --only run,question --write   # rerun some steps only

Each step runs one command of the README as a user would (``forecast ...`` in a fresh
process, with the README's sample counts and seeds; the prior quantiles through the prior
language's API) and reads its numbers from what it prints or writes. The numbers go to
``docs/readme_numbers.json``: name -> the text the README shows and the command it came
from. ``--write`` then puts each into README.md, which marks it:

* ``<!--n:NAME-->76.5%<!--/n-->``: one number or phrase, in prose or a table;
* a line ``<!--b:NAME-->``, the generated lines, a line ``<!--/b-->``: a block (a command's
  printed output, a table);
* ``<!--m:SOURCE-->21.9 s<!--/m-->``: a measurement (timings, the Sobol' analysis) that
  this script does not repeat; SOURCE names what measured it.

``tests/test_readme.py`` checks, without running anything, that every ``n``/``b`` marker
of README.md equals the JSON and that the results sections hold no unmarked figure. The
steps reuse runs: one default run gives its block, the tables' v3 column, the true and
published table and the report's sentences. Two steps run at a time (``--jobs``). The
figures the README shows from those runs (``docs/fan.png``, ``timeline``, ``constraints``,
``resources``, ``labs`` and ``sweep``) are copied from the same runs; ``docs/app.png`` is a
screenshot of the app and is made by hand.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
NUMBERS = DOCS / "readme_numbers.json"

#: ``<!--n:NAME-->VALUE<!--/n-->``: a generated number (one line).
INLINE = re.compile(r"(?<!`)<!--n:([\w.-]+)-->(.*?)<!--/n-->")
#: ``<!--b:NAME-->`` on a line, the block, ``<!--/b-->`` on a line: a generated block.
BLOCK = re.compile(r"^<!--b:([\w.-]+)-->\n(.*?)\n<!--/b-->$", re.DOTALL | re.MULTILINE)
#: ``<!--m:SOURCE-->VALUE<!--/m-->``: a measurement not repeated here.
MEASURED = re.compile(r"<!--m:([^>]*?)-->(.*?)<!--/m-->")


# --------------------------------------------------------------------------- formatting


def percent(p: float, digits: int = 0) -> str:
    """``76%`` (``digits`` decimals); never 0% or 100% for a probability strictly between."""
    from outputs.text import format_percent

    return format_percent(p, digits)


def share(p: float) -> str:
    """A share of worlds to two significant digits, at most a whole percent: ``60%``,
    ``1.0%``, ``0.67%``."""
    if p <= 0:
        return "0%"
    digits = 0 if p >= 0.1 else max(0, 1 - math.floor(math.log10(100 * p)))
    return percent(p, digits)


def number(value: float, digits: int = 3) -> str:
    """Any other number as the rest of the tool writes it (:func:`outputs.text.format_number`)."""
    from outputs.text import format_number

    return format_number(value, digits)


def parse_percent(text: str) -> float:
    """``76.5%`` -> 0.765 (a ``<``/``>`` bound reads as its bound)."""
    return float(text.strip().lstrip("<>").rstrip("%")) / 100


# --------------------------------------------------------------------------- what commands print


def paragraphs(text: str) -> list[str]:
    """``text`` split at blank lines, each paragraph without its trailing spaces."""
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def table_rows(text: str, header_start: str) -> list[dict[str, str]]:
    """The rows of the plain-text table of ``text`` whose header line starts with
    ``header_start``: columns are separated by two spaces or more; the dashed rule is skipped."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(header_start):
            break
    else:
        raise ValueError(f"no table starting with {header_start!r}")
    columns = re.split(r"\s{2,}", line.strip())
    rows = []
    for line in lines[index + 1:]:
        if not line.strip():
            break
        if set(line.replace(" ", "")) == {"-"}:
            continue
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != len(columns):
            break  # a line under the table
        rows.append(dict(zip(columns, cells)))
    return rows


def year_table(stdout: str) -> dict[int, dict[str, str]]:
    """``forecast run``'s per-year table: year -> column -> the printed cell."""
    return {int(row["year"]): row for row in table_rows(stdout, "year  median")}


def question_table(stdout: str) -> dict[str, dict[str, str]]:
    """``forecast run``'s true/published table: ``>= 1e27 by 2026-12-31`` -> ``true`` or
    ``published`` -> ``75.8% +- 0.5``."""
    return {row["question"]: row for row in table_rows(stdout, "question ")}


def one_line(text: str) -> str:
    return " ".join(text.split())


def model_check_percentile(stdout: str, model: str) -> str:
    """``85th``: where the model check puts ``model``'s estimate in the prior forecast."""
    match = re.search(rf": {re.escape(model)} \([^)]*\) sits at the (\d+(?:st|nd|rd|th)) percentile", one_line(stdout))
    if not match:
        raise ValueError(f"the model check names no {model!r}")
    return match.group(1)


def conditioning(stdout: str) -> tuple[str, str]:
    """Pareto k and the effective sample size, as printed (``0.15``, ``7,197``)."""
    match = re.search(r"Pareto k = ([\d.]+) \(\w+\), effective sample size ([\d,]+) of", one_line(stdout))
    if not match:
        raise ValueError("no line on the importance weights")
    return match.group(1), match.group(2)


def run_block(stdout: str) -> str:
    """The README's excerpt of ``forecast run``'s output: the per-year table, which lab gets
    there first, the true and published table and the weights' line; ``...`` where a part is
    left out."""
    kept = ("Forecast of", "year  median", "median and 90%", "Which lab", "lab  ", "question  ",
            "Conditioned on")
    parts = paragraphs(stdout)
    lines, previous = [], -1
    for index, part in enumerate(parts):
        whole = part.startswith(kept)
        tail = None if whole else re.search(r"^Conditioned on .*", part, re.MULTILINE | re.DOTALL)
        if whole or tail:
            if previous >= 0:
                lines.append("..." if index != previous + 1 or tail else "")
            lines.append(part if whole else tail.group(0))
            previous = index
    return "```\n" + "\n".join(lines) + "\n```"


def markdown_table(text: str, header_start: str) -> str:
    """The Markdown table of ``text`` whose header line starts with ``header_start``."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(header_start):
            table = [line]
            for row in lines[index + 1:]:
                if not row.startswith("|"):
                    break
                table.append(row)
            return "\n".join(table)
    raise ValueError(f"no Markdown table starting with {header_start!r}")


# --------------------------------------------------------------------------- the steps


@dataclass
class Step:
    """One command of the README and the numbers read from it."""

    name: str
    argv: list[str]  # after ``forecast``; ``{out}`` is the step's folder, ``{run}`` the run step's
    extract: Callable[[str, Path], dict[str, str]]  # (stdout, folder) -> numbers
    shown: str = ""  # the command as the README shows it (default: argv without --out)
    with_stderr: bool = False  # extract reads stdout and stderr (a warning's numbers)
    after: str | None = None  # a step whose folder this one reads
    figures: tuple[str, ...] = ()  # PNGs of its folder that the README shows, copied to docs/


def _headline_columns(stdout: str, folder: Path, prefix: str) -> dict[str, str]:
    """The v2/v3 table's column of one run: the 2026 median, P(1e27 by 2026), P(1e28 by
    2028), P(1e29 by 2030), the share of 2030 worlds bound by data."""
    import forecast

    table = year_table(stdout)
    result = forecast.load(folder)
    data_2030 = float(result.constraint_shares.sel(constraint="data", year=2030))
    return {
        f"{prefix}.median_2026": table[2026]["median"],
        f"{prefix}.p1e27_2026": table[2026]["P>=1e27"],
        f"{prefix}.p1e28_2028": table[2028]["P>=1e28"],
        f"{prefix}.p1e29_2030": table[2030]["P>=1e29"],
        f"{prefix}.data_binds_2030": share(data_2030),
    }


def extract_default(stdout: str, folder: Path) -> dict[str, str]:
    import pandas as pd

    numbers = _headline_columns(stdout, folder, "v3")
    numbers["run.block"] = run_block(stdout)
    questions = question_table(stdout)
    for key, question in (("1e27_2026", ">= 1e27 by 2026-12-31"), ("1e28_2028", ">= 1e28 by 2028-12-31"),
                          ("1e29_2030", ">= 1e29 by 2030-12-31")):
        for column in ("true", "published"):
            value = questions[question][column].split(" +-")[0]
            numbers[f"run.{column}_{key}"] = value
            numbers[f"run.{column}_{key}_rounded"] = percent(parse_percent(value))
    numbers["run.check_gpt45"] = model_check_percentile(stdout, "GPT-4.5")
    numbers["run.check_grok4"] = model_check_percentile(stdout, "Grok 4")
    numbers["run.pareto_k"], numbers["run.ess"] = conditioning(stdout)
    summary = pd.read_csv(folder / "summary.csv", index_col="year")
    first, last = 2025, 2028
    growth = (summary.loc[last, "median"] / summary.loc[first, "median"]) ** (1 / (last - first))
    numbers["run.median_growth_2025_2028"] = f"{number(growth, 2)}x"
    numbers["run.median_2025"] = year_table(stdout)[2025]["median"]
    numbers["run.median_2028"] = year_table(stdout)[2028]["median"]
    return numbers


def extract_prior(stdout: str, folder: Path) -> dict[str, str]:
    return _headline_columns(stdout, folder, "prior")


def extract_v2(stdout: str, folder: Path) -> dict[str, str]:
    return _headline_columns(stdout, folder, "v2")


def extract_report(stdout: str, folder: Path) -> dict[str, str]:
    """Two of the headline sentences ``forecast report`` prints (and writes into report.md)."""
    numbers = {}
    for name, start in (("report.probability", "A 1e28 FLOP run by 2027: "),
                        ("report.crossing", "First 1e28 FLOP run: ")):
        line = next((line.strip() for line in stdout.splitlines() if line.startswith(start)), None)
        if line is None:
            raise ValueError(f"forecast report printed no sentence starting {start!r}")
        numbers[name] = line
    return numbers


def extract_question(stdout: str, folder: Path) -> dict[str, str]:
    answer = json.loads(stdout[stdout.index("{"):])
    return {"question.true": percent(answer["true_probability"], 1),
            "question.published": percent(answer["published_probability"], 1)}


def _p_run(key: str, threshold: str, year: int) -> Callable[[str, Path], dict[str, str]]:
    def extract(stdout: str, folder: Path) -> dict[str, str]:
        return {key: year_table(stdout)[year][f"P>={threshold}"]}
    return extract


def extract_repaired(stdout: str, folder: Path) -> dict[str, str]:
    warning = next(line for line in stdout.splitlines() if "rank correlations repaired" in line)
    return {"priors.repaired_warning": "    " + warning.strip(),
            "priors.repaired_p1e28_2028": year_table(stdout)[2028]["P>=1e28"]}


def prior_quantiles() -> dict[str, str]:
    """The worked examples' quantiles, from the prior language (no model run)."""
    from priors.spec import parse_spec

    metalog = parse_spec("metalog 5%: 1.5, 50%: 2.2, 95%: 3.5")
    mixture = parse_spec("mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6")
    coverage = parse_spec("lognormal 1.5 to 3.5 (80%)")
    q = lambda family, p: float(family.ppf(p))  # noqa: E731
    return {
        "priors.metalog_p25": number(q(metalog, 0.25)), "priors.metalog_p75": number(q(metalog, 0.75)),
        "priors.mixture_median": f"{number(q(mixture, 0.5), 3)}x",
        "priors.mixture_p95": f"{number(q(mixture, 0.95), 2)}x",
        "priors.coverage_p05": number(q(coverage, 0.05)), "priors.coverage_p95": number(q(coverage, 0.95)),
    }


def no_pairs_file(folder: Path) -> Path:
    """A prior file that removes every correlation pair of the default (``= 0``)."""
    import tomllib

    pairs = tomllib.loads((ROOT / "priors" / "default.toml").read_text())["correlations"]
    lines = ['name = "no_pairs"', 'description = "The default without its rank correlations."', "",
             "[correlations]"]
    for first, partners in pairs.items():
        lines += [f"{first}.{second} = 0" for second in partners]
    path = folder / "no_pairs.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def sweep_points(folder: Path):
    import xarray as xr

    return xr.open_dataset(folder / "sweep.nc")


def extract_sweep_2d(stdout: str, folder: Path) -> dict[str, str]:
    """Where the heat map of P(1e29 by 2030) over chip growth and the power ceiling reaches
    10% and 50%, its highest point, and the baseline with both drawn from their priors."""
    ds = sweep_points(folder)
    p = ds["probability"].transpose("chip_growth", "power_limit_gw_max")
    growth, power = ds["chip_growth"].values, ds["power_limit_gw_max"].values
    numbers = {}
    for level in (0.1, 0.5):
        reached = p.values >= level
        key = f"sweep.needs_{round(level * 100)}"
        if reached.any():
            numbers[key] = (f"a power ceiling of at least {number(power[reached.any(axis=0)].min(), 2)} GW and chip "
                            f"counts growing at least {number(growth[reached.any(axis=1)].min(), 2)}x a year")
        else:
            numbers[key] = "more than the grid's largest values"
    top = float(p.max())
    numbers["sweep.top"] = percent(top)
    numbers["sweep.baseline"] = percent(float(ds.attrs["baseline_probability"]))
    return numbers


def extract_sweep_labs(stdout: str, folder: Path) -> dict[str, str]:
    ds = sweep_points(folder)
    p = ds["probability"]
    at = lambda r: percent(float(p.sel(lab_correlation=r, method="nearest")))  # noqa: E731
    return {"sweep.labs_0": at(0.0), "sweep.labs_05": at(0.5), "sweep.labs_09": at(0.9)}


def markdown_rows(text: str, header_start: str) -> list[dict[str, str]]:
    """The rows of a Markdown table of ``text`` as column -> cell (spaces stripped)."""
    from outputs.markdown import table_rows

    return table_rows(markdown_table(text, header_start))


#: The backtest's methods, in the README's order; the bottom-up hindcast runs at some cutoffs only.
HINDCAST = "bottom-up model (hindcast)"
METHOD_ORDER = ("trend", "last value x fitted growth", "least-squares line", HINDCAST)


def _round2(text: str) -> str:
    """``0.345`` -> ``0.35``: a printed decimal to two places, halves up (as a reader rounds)."""
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _cover(text: str) -> str:
    return "0" if float(text) == 0 else f"{float(text):.2f}"


def _fixed(text: str, digits: int) -> str:
    return "" if not text else f"{float(text):.{digits}f}"


def _bold_best(rows: list[dict[str, str]], column: str, best) -> set[int]:
    """The indices of ``rows`` whose ``column`` is the best of its cutoff (``best``: min or
    max), where two methods or more have a value."""
    chosen = set()
    for cutoff in {row["cutoff"] for row in rows}:
        scored = [(float(row[column]), index) for index, row in enumerate(rows)
                  if row["cutoff"] == cutoff and row[column]]
        if len(scored) > 1:
            chosen.add(best(scored)[1])
    return chosen


def _hindcast_years(cases) -> dict[str, str]:
    """The year-by-year numbers the README's hindcast paragraph quotes, from backtest.csv:
    from 2020, the largest miss of the bottom-up median before 2025 and its 2025 miss
    against the other methods' 2025 misses; from 2022, the PIT of 2023 and 2025 and the
    CRPS there of the bottom-up model, the last value and the least-squares line, and the
    bottom-up median for 2023 and what was observed."""
    def flop(log10_value: float) -> str:
        return f"{10 ** log10_value:.0e}".replace("e+", "e")

    def rows(method, cutoff):
        chosen = cases[(cases["method"] == method) & (cases["cutoff"] == cutoff)]
        return chosen.set_index("year")

    mine_2020, mine_2022 = rows("bottom_up", 2020), rows("bottom_up", 2022)
    last_2022, ols_2022 = rows("last_value", 2022), rows("ols_line", 2022)
    others_2025 = cases[(cases["cutoff"] == 2020) & (cases["year"] == 2025) & (cases["method"] != "bottom_up")]
    return {
        "backtest.h2020_miss": f"{mine_2020['error'].loc[:2024].abs().max():.1f}",
        "backtest.h2020_miss_2025": f"{abs(mine_2020['error'].loc[2025]):.2f}",
        "backtest.h2020_others_2025_low": f"{others_2025['error'].min():.1f}",
        "backtest.h2020_others_2025_high": f"{others_2025['error'].max():.1f}",
        "backtest.h2022_pit_2023": f"{mine_2022['pit'].loc[2023]:.2f}",
        "backtest.h2022_pct_2025": f"{mine_2022['pit'].loc[2025] * 100:.0f}th",
        "backtest.h2022_crps_2023": f"{mine_2022['crps'].loc[2023]:.2f}",
        "backtest.h2022_crps_2025": f"{mine_2022['crps'].loc[2025]:.2f}",
        "backtest.last_crps_2023": f"{last_2022['crps'].loc[2023]:.2f}",
        "backtest.last_crps_2025": f"{last_2022['crps'].loc[2025]:.2f}",
        "backtest.ols_crps_2023": f"{ols_2022['crps'].loc[2023]:.2f}",
        "backtest.ols_crps_2025": f"{ols_2022['crps'].loc[2025]:.2f}",
        "backtest.h2022_median_2023": flop(mine_2022["median"].loc[2023]),
        "backtest.observed_2023": flop(mine_2022["observed"].loc[2023]),
        "backtest.observed_2025": flop(mine_2022["observed"].loc[2025]),
    }


def extract_backtest(stdout: str, folder: Path) -> dict[str, str]:
    """The README's backtest tables (by method and cutoff, the best CRPS and log score of
    each cutoff in bold; pooled with the bootstrap ranking, over every cutoff and over the
    hindcast's cutoffs) and the numbers its prose quotes."""
    import pandas as pd

    text = (folder / "backtest.md").read_text()
    rows = sorted(markdown_rows(text, "| method "), key=lambda r: (METHOD_ORDER.index(r["method"]), int(r["cutoff"])))
    cases = pd.read_csv(folder / "backtest.csv")
    bold_crps, bold_log = _bold_best(rows, "CRPS", min), _bold_best(rows, "log score", max)
    table = ["| method | cutoff | years | CRPS | log score | cover 50% | cover 90% | mean error (OOM) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for index, row in enumerate(rows):
        crps, log_score = _fixed(row["CRPS"], 3), row["log score"]
        crps = f"**{crps}**" if index in bold_crps else crps
        log_score = f"**{log_score}**" if index in bold_log else log_score
        table.append(f"| {row['method']} | {row['cutoff']} | {row['years']} | {crps} | {log_score} | "
                     f"{_cover(row['cover 50%'])} | {_cover(row['cover 90%'])} | {_fixed(row['mean err (OOM)'], 2)} |")
    ranking = markdown_rows(text, "| score ")
    pooled = {r["method"]: r for r in markdown_rows(text.split("## Pooled over cutoffs", 1)[1], "| method ")}

    def pooled_table(score: str, title: str, covered: set[str]) -> tuple[str, list[dict[str, str]]]:
        ranked = [r for r in ranking if r["score"] == score]
        logs = {r["method"]: r["mean"] for r in ranking if r["score"] == score.replace("CRPS", "log score")}
        lines = [f"| {title}, {ranked[0]['cases']} cases | CRPS (90% bootstrap) | minus the best | log score "
                 "| cover 50% | cover 90% |", "|---|---:|---:|---:|---:|---:|"]
        for index, row in enumerate(ranked):
            method, (low, high) = row["method"], row["90% interval"].split(" to ")
            mean, interval = _round2(row["mean"]), f"({_round2(low)}-{_round2(high)})"
            diff_low, diff_high = row["90% interval of the difference"].split(" to ")
            minus = "" if index == 0 else f"{_round2(row['minus best'])} ({_round2(diff_low)}-{_round2(diff_high)})"
            log_score = _round2(logs[method]) if method in logs else ""
            cover = ([_cover(pooled[method]["cover 50%"]), _cover(pooled[method]["cover 90%"])]
                     if method in covered else ["", ""])
            if index == 0:
                method, mean = f"**{method}**", f"**{mean}**"
                log_score = f"**{log_score}**" if log_score else ""
            lines.append(f"| {method} | {mean} {interval} | {minus} | {log_score} | {cover[0]} | {cover[1]} |")
        return "\n".join(lines), ranked

    everyone = set(pooled)
    summary, ranked = pooled_table("CRPS", "pooled", everyone)
    numbers = {"backtest.table": "\n".join(table), "backtest.pooled": summary,
               "backtest.cases": ranked[0]["cases"], "backtest.cutoffs": str(len({r["cutoff"] for r in rows}))}
    hindcast_scores = sorted({r["score"] for r in ranking if r["score"].startswith("CRPS, cutoffs")})
    if hindcast_scores:
        score = hindcast_scores[0]
        cutoffs = score.removeprefix("CRPS, cutoffs ").split(", ")
        title = f"pooled over {' and '.join(cutoffs)}"
        table_h, ranked_h = pooled_table(score, title, {HINDCAST})
        numbers["backtest.pooled_hindcast"] = table_h
        by_method = {r["method"]: r for r in ranked_h}
        others = [float(r["mean"]) for r in ranked_h if r["method"] != HINDCAST]
        numbers["backtest.hindcast_crps"] = f"{float(by_method[HINDCAST]['mean']):.2f}"
        numbers["backtest.hindcast_others_low"] = f"{min(others):.1f}"
        numbers["backtest.hindcast_others_high"] = f"{max(others):.1f}"
        low, high = by_method["trend"]["90% interval of the difference"].split(" to ")
        numbers["backtest.hindcast_diff_trend_low"] = f"{float(low):.1f}"
        numbers["backtest.hindcast_diff_trend_high"] = f"{float(high):.1f}"
        mine = cases[cases["method"] == "bottom_up"]
        numbers["backtest.hindcast_cases"] = str(len(mine))
        numbers["backtest.hindcast_in50"] = str(int(mine["in50"].sum()))
        numbers["backtest.hindcast_in90"] = str(int(mine["in90"].sum()))
        numbers.update(_hindcast_years(cases))
    by = {(r["method"], int(r["cutoff"])): r for r in rows}
    simple = [m for m in METHOD_ORDER if m != HINDCAST]
    errors = lambda cutoffs: [float(by[m, c]["mean err (OOM)"]) for m in simple for c in cutoffs]  # noqa: E731
    over = errors((2018, 2020))
    numbers["backtest.over_low"], numbers["backtest.over_high"] = f"{min(over):.1f}", f"{max(over):.1f}"
    last = cases[cases["cutoff"].isin([2018, 2020]) & (cases["year"] == cases["year"].max())
                 & (cases["method"] != "bottom_up")]["error"]
    numbers["backtest.over_last_low"], numbers["backtest.over_last_high"] = f"{last.min():.1f}", f"{last.max():.1f}"
    under = [-e for e in errors((2016,))]
    numbers["backtest.under_low"], numbers["backtest.under_high"] = f"{min(under):.1f}", f"{max(under):.1f}"
    second = ranked[1]["90% interval of the difference"].split(" to ")
    numbers["backtest.diff_low"], numbers["backtest.diff_high"] = (f"{float(x):.2f}" for x in second)
    numbers["backtest.first"] = ranked[0]["method"]
    numbers["backtest.first_cover50"] = percent(float(pooled[ranked[0]["method"]]["cover 50%"]))
    numbers["backtest.first_cover90"] = percent(float(pooled[ranked[0]["method"]]["cover 90%"]))
    for method, key in zip(METHOD_ORDER, ("trend", "last_value", "ols", "hindcast")):
        if (method, 2022) in by:
            numbers[f"backtest.crps_2022_{key}"] = _round2(by[method, 2022]["CRPS"])
    if (HINDCAST, 2022) in by:
        numbers["backtest.hindcast_error_2022"] = _fixed(by[HINDCAST, 2022]["mean err (OOM)"], 2)
    fits = {int(r["cutoff"]): r for r in markdown_rows(text, "| cutoff | n_train")}
    numbers["backtest.fit_2016_records"] = fits[2016]["n_train"]
    numbers["backtest.fit_2016_rhat"] = _fixed(fits[2016]["max_rhat"], 2) or "n/a"
    numbers["backtest.fit_2016_divergences"] = fits[2016]["divergences"]
    return numbers


STEPS = [
    Step("run", ["run", "--out", "{out}"], extract_default,
         figures=("fan.png", "timeline.png", "constraints.png", "resources.png", "labs.png")),
    Step("prior", ["run", "--as-of", "none", "--keep", "0", "--out", "{out}"], extract_prior),
    Step("v2", ["run", "--priors", "v2", "--keep", "0", "--out", "{out}"], extract_v2),
    Step("report", ["report", "--from", "{run}", "--out", "{out}"], extract_report, after="run"),
    Step("question", ["question", "--threshold", "1e27", "--by", "2027-06-01", "--json"], extract_question),
    Step("metalog", ["run", "--set", "chip_growth=metalog 5%: 1.5, 50%: 2.2, 95%: 3.5", "--keep", "0",
                     "--out", "{out}"], _p_run("priors.metalog_p1e28_2028", "1e28", 2028)),
    Step("truncated", ["run", "--set", "power_limit_gw_max=lognormal 3 to 50 truncated to ..20", "--keep", "0",
                       "--out", "{out}"], _p_run("priors.truncated_p1e29_2030", "1e29", 2030)),
    Step("no_pairs", ["run", "--priors", "{no_pairs}", "--keep", "0", "--out", "{out}"],
         _p_run("priors.no_pairs_p1e28_2028", "1e28", 2028),
         shown="forecast run --priors no_pairs.toml --keep 0  # no_pairs.toml sets every default pair to 0"),
    Step("repaired", ["run", "--correlate", "chip_growth,power_limit_growth=0.9", "--repair-correlations",
                      "--keep", "0", "--out", "{out}"], extract_repaired, with_stderr=True),
    Step("sweep", ["sweep", "--vary", "chip_growth=1.2:4:15", "--vary", "power_limit_gw_max=0.5:50:15",
                   "--threshold", "1e29", "--year", "2030", "--out", "{out}"], extract_sweep_2d,
         figures=("sweep.png",)),
    Step("sweep_labs", ["sweep", "--vary", "lab_correlation=0:0.9:10", "--threshold", "1e28", "--year", "2028",
                        "--out", "{out}"], extract_sweep_labs),
    Step("backtest", ["backtest", "--out", "{out}"], extract_backtest),
]

#: Extra arguments of ``--quick``: small runs that exercise every step and extraction.
QUICK = {
    "run": ["--samples", "2000"], "prior": ["--samples", "2000"], "v2": ["--samples", "2000"],
    "question": ["--samples", "2000"], "metalog": ["--samples", "2000"], "truncated": ["--samples", "2000"],
    "no_pairs": ["--samples", "2000"], "repaired": ["--samples", "2000"],
    "sweep": ["--samples", "200"], "sweep_labs": ["--samples", "200"],
    "backtest": ["--draws", "50", "--chains", "1"],
}


def shown_command(step: Step) -> str:
    """The command as a user types it: ``forecast ...`` without the output folder."""
    if step.shown:
        return step.shown
    argv, words = list(step.argv), []
    while argv:
        word = argv.pop(0)
        if word == "--out":
            argv.pop(0)
            continue
        words.append("RUN_FOLDER" if word == "{run}" else word)
    return shlex.join(["forecast", *words])


def run_step(step: Step, work: Path, *, quick: bool = False, folders: dict[str, Path] | None = None,
             figures_to: Path | None = None) -> dict:
    """Run ``step`` in a fresh process as a user would; its numbers, the command, the time.
    With ``figures_to``, the step's figures that the README shows are copied there."""
    out = work / step.name
    values = {"out": str(out), "no_pairs": str(work / "no_pairs.toml"),
              "run": str((folders or {}).get("run", work / "run"))}
    argv = [word.format(**values) if "{" in word else word for word in step.argv]
    argv += QUICK.get(step.name, []) if quick else []
    command = [sys.executable, "-m", "outputs.cli", *argv]
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    output = done.stdout + "\n" + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{shown_command(step)} failed ({done.returncode}):\n{output[-3000:]}")
    numbers = step.extract(output if step.with_stderr else done.stdout, out)
    for figure in step.figures if figures_to is not None else ():
        shutil.copyfile(out / figure, figures_to / figure)
    return {"numbers": numbers, "command": shown_command(step), "seconds": round(seconds, 1)}


def collect(names: Iterable[str], work: Path, *, quick: bool = False, jobs: int = 2, log=print,
            failures: list[str] | None = None, figures_to: Path | None = None) -> dict:
    """Run the named steps (``jobs`` at a time; a step that reads another's folder after it);
    a step that fails is left out and named in ``failures``. With ``figures_to``, the
    figures the README shows are copied there from the steps that make them."""
    steps = {step.name: step for step in STEPS}
    chosen = [steps[name] for name in names if name in steps]
    results: dict[str, dict] = {}
    failed = failures if failures is not None else []
    no_pairs_file(work)  # once, before any step reads it
    if "priors" in names:
        results["priors"] = {"numbers": prior_quantiles(), "command": "priors.spec.parse_spec(SPEC).ppf(q)",
                             "seconds": 0.0}
    first = [s for s in chosen if s.after is None]
    later = [s for s in chosen if s.after is not None]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_step, step, work, quick=quick, figures_to=figures_to): step for step in first}
        for future in concurrent.futures.as_completed(futures):
            step = futures[future]
            try:
                results[step.name] = future.result()
            except Exception as error:  # the other steps' numbers are still worth keeping
                failed.append(f"{step.name}: {error}")
                log(f"{step.name}: FAILED: {error}")
                continue
            log(f"{step.name}: {results[step.name]['seconds']} s")
        for step in later:
            if step.after not in results:
                failed.append(f"{step.name}: {step.after} failed")
                continue
            try:
                results[step.name] = run_step(step, work, quick=quick, figures_to=figures_to)
            except Exception as error:
                failed.append(f"{step.name}: {error}")
                log(f"{step.name}: FAILED: {error}")
                continue
            log(f"{step.name}: {results[step.name]['seconds']} s")
    return results


STEP_NAMES = ["priors", *(step.name for step in STEPS)]


def numbers_json(results: dict, previous: dict | None = None) -> dict:
    """The JSON: name -> {value, command}; the steps not rerun keep their earlier numbers."""
    numbers = dict((previous or {}).get("numbers", {}))
    for result in results.values():
        for name, value in result["numbers"].items():
            numbers[name] = {"value": value, "command": result["command"]}
    seconds = dict((previous or {}).get("seconds", {}))
    seconds.update({step: result["seconds"] for step, result in results.items()})
    return {"generated": dt.date.today().isoformat(), "how": "python docs/readme_numbers.py --write",
            "seconds": seconds, "numbers": dict(sorted(numbers.items()))}


# --------------------------------------------------------------------------- README.md


def readme_markers(text: str) -> dict[str, str]:
    """Every ``n`` and ``b`` marker of ``text``: name -> the text it holds."""
    found = {}
    for pattern in (INLINE, BLOCK):
        for match in pattern.finditer(text):
            found.setdefault(match.group(1), match.group(2))
    return found


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with every marker's content replaced by ``values[name]`` (a name without a
    value keeps its content)."""
    def inline(match):
        return f"<!--n:{match.group(1)}-->{values.get(match.group(1), match.group(2))}<!--/n-->"

    def block(match):
        return f"<!--b:{match.group(1)}-->\n{values.get(match.group(1), match.group(2))}\n<!--/b-->"

    return BLOCK.sub(block, INLINE.sub(inline, text))


def disagreements(text: str, values: dict[str, str]) -> list[str]:
    """Each marker of ``text`` whose content is not the JSON's value, or that the JSON lacks."""
    problems = []
    for name, shown in readme_markers(text).items():
        if name not in values:
            problems.append(f"{name}: not in {NUMBERS.name}")
        elif shown != values[name]:
            problems.append(f"{name}: README {shown!r}, script {values[name]!r}")
    return problems


def load_values(path: Path = NUMBERS) -> dict[str, str]:
    return {name: entry["value"] for name, entry in json.loads(path.read_text())["numbers"].items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite README.md from the JSON")
    parser.add_argument("--reuse", action="store_true", help="run nothing: use docs/readme_numbers.json as it is")
    parser.add_argument("--only", default=",".join(STEP_NAMES),
                        help=f"steps to run, comma-separated (default all: {','.join(STEP_NAMES)})")
    parser.add_argument("--jobs", type=int, default=2, help="steps run at a time (default 2)")
    parser.add_argument("--quick", action="store_true", help="small runs, to try the script (writes nothing "
                        "unless --json-out)")
    parser.add_argument("--json-out", type=Path, default=None, help="write the JSON here instead")
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md and the JSON disagree")
    args = parser.parse_args(argv)
    target = args.json_out or (None if args.quick else NUMBERS)
    if not args.reuse and not args.check:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(names) - set(STEP_NAMES))
        if unknown:
            parser.error(f"--only: no step {', '.join(unknown)} (steps: {', '.join(STEP_NAMES)})")
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="readme-numbers-") as work:
            failures: list[str] = []
            results = collect(names, Path(work), quick=args.quick, jobs=args.jobs, failures=failures,
                              log=lambda line: print(line, file=sys.stderr, flush=True),
                              figures_to=None if args.quick or args.json_out else DOCS)
        previous = json.loads(NUMBERS.read_text()) if NUMBERS.exists() and not args.quick else None
        data = numbers_json(results, previous)
        print(f"ran {len(results)} steps in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        if target is None:
            print(json.dumps(data, indent=1))
            return 0
        target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}", file=sys.stderr)
        if failures:
            print(f"{len(failures)} step(s) failed; their earlier numbers are kept", file=sys.stderr)
            return 1
    values = load_values(target or NUMBERS)
    text = README.read_text()
    if args.write:
        README.write_text(render(text, values))
        print("wrote README.md", file=sys.stderr)
        text = README.read_text()
    problems = disagreements(text, values)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems and (args.check or args.write) else 0


if __name__ == "__main__":
    sys.exit(main())
