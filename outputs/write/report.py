"""The write-up folder of ``forecast report``: report.md, report.html, metadata.json and the
files behind every number (samples.nc, tables, plots).

Extra sections plug in as ``(title, markdown)`` pairs, or as files found in a run folder
(:data:`SECTION_FILES`: ``calibration.md``, ``sensitivity.md``, ``backtest.md``,
``comparison.md``); images they reference are
copied along so the folder stays self-contained.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast import ForecastResult, load
from forecast.headline import headline_table
from forecast.record.published import load_published
from forecast.record.runs import load_runs
from outputs.folder import write_via_memory
from outputs.markdown import html_page, markdown_to_html
from outputs.plots.axes import caption
from outputs.plots.forecast import default_kinds, save_plots
from outputs.provenance import run_metadata, sha256_file
from outputs.tables import (
    RESOURCES,
    format_prior_table,
    per_year_table,
    published_table,
    questions_table,
    resources_table,
    shares_table,
    to_markdown,
    write_tables,
)
from outputs.text import (
    conditioning_sentences,
    crossing_texts,
    flop_label,
    format_probability,
)
from priors import InputError

__all__ = ["SECTION_FILES", "Section", "check_same_priors", "find_sections", "headline_frame", "report_markdown",
           "write_report"]

#: Files of a run folder that become report sections, with their default titles.
SECTION_FILES = {
    "calibration.md": "Calibration on history",
    "sensitivity.md": "Sensitivity",
    "backtest.md": "Backtest",
    "comparison.md": "Comparison",
}

#: Formats every report has (PNG for the HTML page, SVG for print); PDF on request.
REPORT_FORMATS = ("png", "svg")

_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Section:
    """An extra report section: a title, its Markdown, and the folder its images live in."""

    title: str
    markdown: str
    folder: Path | None = None


def _section_from_file(path: Path, title: str | None = None) -> Section:
    text = path.read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    # A file's own top heading becomes the section title (``title`` is the fallback); its
    # other headings move down a level, under the section's ``##``.
    if lines and lines[0].startswith("# "):
        title = lines[0][2:].strip()
        lines = lines[1:]
    body = "\n".join("#" + l if re.match(r"^#{1,5} ", l) else l for l in lines)
    return Section(title or path.stem.replace("_", " ").capitalize(), body.strip(), path.parent)


def find_sections(folder: str | Path | None) -> list[Section]:
    """The :data:`SECTION_FILES` present in ``folder`` (none when ``folder`` is None)."""
    if folder is None:
        return []
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    return [_section_from_file(folder / name, title) for name, title in SECTION_FILES.items()
            if (folder / name).is_file()]


def _sensitivity_data(path: Path) -> Path | None:
    """The ``sensitivity.nc`` whose analysis a section from ``path`` (an --include or the
    --from run) would show; None when it shows none or comes without its data."""
    folder = path if path.is_dir() else path.parent
    shown = (folder / "sensitivity.md").is_file() if path.is_dir() else path.name in (
        "sensitivity.md", "sensitivity.nc")
    data = folder / "sensitivity.nc"
    return data if shown and data.is_file() else None


def _sensitivity_priors(data: Path) -> tuple[str, str | None]:
    """The prior set name and priors SHA-256 a ``sensitivity.nc`` records (group "sobol")."""
    import xarray as xr

    try:
        with xr.open_dataset(data, group="sobol", engine="h5netcdf") as ds:
            attrs = dict(ds.attrs)
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"sections: {data}: cannot read the sensitivity analysis: "
                         f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    name = str(attrs.get("prior_set", "?"))
    digest = attrs.get("priors_sha256")
    return name, str(digest) if digest is not None else None


def check_same_priors(paths, prior_set, *, label: str = "sections") -> None:
    """Refuse sections showing a sensitivity analysis of other priors than the forecast's.

    ``paths`` are section paths (or the run folder a report is made from: ``label``
    ``"source_run"``); ``prior_set`` the forecast's :class:`~priors.PriorSet`. Only sections
    that come with a ``sensitivity.nc`` can be checked; a plain Markdown file cannot.
    """
    fingerprint = prior_set.fingerprint()
    for path in paths:
        data = _sensitivity_data(Path(path))
        if data is None:
            continue
        name, digest = _sensitivity_priors(data)
        where = f"{label}: {path}"
        if digest is None:
            print(f"warning: {where}: {data} does not record its priors' SHA-256; "
                  f"cannot check that it analyses the forecast's priors ({prior_set.name})",
                  file=sys.stderr)
        elif digest != fingerprint:
            raise InputError(
                f"{where}: the sensitivity analysis is of the prior set '{name}' "
                f"(SHA-256 {digest[:12]}), the forecast of '{prior_set.name}' "
                f"(SHA-256 {fingerprint[:12]}); run both with the same priors")


def _as_sections(sections) -> list[Section]:
    out = []
    for item in sections or ():
        if isinstance(item, Section):
            out.append(item)
        elif isinstance(item, (str, Path)):
            path = Path(item)
            out += find_sections(path) if path.is_dir() else [_section_from_file(path)]
        else:
            title, markdown = item
            out.append(Section(str(title), str(markdown)))
    return out


def headline_frame(result: ForecastResult, *, years: Iterable[int] | None = None) -> pd.DataFrame:
    """The headline numbers, exact: per threshold, P by each headline year with its Monte
    Carlo standard error and interval, and the 5/50/95% first-crossing years (NaN: after
    the last year). Written to ``headline.csv``."""
    table = headline_table(result, years=years)
    frame = pd.DataFrame(index=pd.Index([flop_label(t) for t in table["threshold"].values], name="threshold"))
    for year in table["year"].values:
        cell = table.sel(year=year)
        for name in ("probability", "mcse", "lower", "upper"):
            frame[f"{name}_{int(year)}"] = cell[name].values
    for q in table["quantile"].values:
        frame[f"crossing_p{round(100 * float(q)):02d}"] = table["crossing_year"].sel(quantile=q).values
    return frame


def _headline_markdown(result: ForecastResult, years) -> str:
    table = headline_table(result, years=years)
    n = result.n_samples
    first, last = table.attrs["first_year"], table.attrs["last_year"]
    rows = {}
    for threshold in table["threshold"].values:
        row = table.sel(threshold=threshold)
        cells = {f"by {int(y)}": format_probability(row["probability"].sel(year=y).item(),
                                                     row["mcse"].sel(year=y).item(), n, interval=False)
                 for y in row["year"].values}
        median, interval = crossing_texts(row["crossing_year"].values, first_year=first, last_year=last)
        cells["first run: median year"] = median
        cells["its 90% interval"] = interval
        rows[f"{flop_label(threshold)} FLOP"] = cells
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("run of at least")
    return (
        f"Probability that a training run of at least each size has happened by each year, "
        f"and the year of the first such run. Digits shown are those the {n:,} worlds support "
        f"(headline.csv has each probability with its Monte Carlo error).\n\n{to_markdown(frame)}"
    )


def _questions_markdown(result: ForecastResult) -> str:
    """True and published probabilities side by side for the headline questions (the
    table of ``forecast run``), with what each means; '' when the run has none."""
    table = questions_table(result)
    if table is None:
        return ""
    table = table.rename(columns={"true": "a run that large has finished",
                                  "published": "a public estimate that large exists"})
    return (
        "What forecasting questions resolve on is a public estimate, not the run itself: "
        "beside the probability that a run of at least each size has finished by the date, "
        "the probability that a public estimate of at least that size exists by then. "
        "(± the Monte Carlo error, in percentage points.)\n\n"
        + to_markdown(table.rename_axis("question"))
    )


def _percent_table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda x: f"{x:.0%}")


def report_markdown(
    result: ForecastResult,
    *,
    metadata: Mapping | None = None,
    sections: Sequence[Section] = (),
    years: Iterable[int] | None = None,
    image_format: str = "png",
) -> str:
    """The text of report.md: headline numbers, plots, per-year table, constraint shares,
    what the largest run takes, priors, extra sections and how to reproduce. Plots are
    referenced as ``<kind>.png``."""
    meta = metadata or {}
    version = meta.get("version")
    git = meta.get("git") or {}
    provenance = " · ".join(filter(None, [
        f"years {int(result.years[0])}-{int(result.years[-1])}",
        f"written {meta['timestamp']}" if meta.get("timestamp") else None,
        f"compute-forecast {version}" if version else None,
        f"git {git['commit'][:10]}{' (modified)' if git.get('dirty') else ''}" if git.get("commit") else None,
    ]))
    parts = [
        "# Training compute of the largest AI runs: forecast",
        f"{caption(result)} · {provenance}",
        "## Headline numbers",
        _headline_markdown(result, years),
        _questions_markdown(result),
        " ".join(conditioning_sentences(result)),
        "## Year by year",
        f"![Training compute of the largest run by year: median, 50% and 90% intervals]"
        f"(fan.{image_format})",
        "Per year: median and 90% interval of the largest run (FLOP); P>=X is the probability that "
        "a run of at least X FLOP has happened by that year; binding is the most frequent limit "
        "on the largest run and its share of worlds.",
        to_markdown(per_year_table(result, display=True).drop(columns=["cost", "energy"], errors="ignore")),
        "## First runs of each size",
        f"![Probability that a run of at least each size has happened by each year]"
        f"(timeline.{image_format})",
        "## The binding constraint",
        f"![Share of worlds whose largest run is bound by supply, power, funding, data or latency]"
        f"(constraints.{image_format})",
        "Share of worlds in which each constraint (supply, power, funding, data or latency) sets "
        "the size of the largest run:",
        to_markdown(_percent_table(shares_table(result))),
        *_resources_markdown(result, image_format),
        *_published_markdown(result),
        "## Priors",
        "Each prior's distribution with its 5th, 50th and 95th percentile, unit and source.",
        format_prior_table(result.priors, markdown=True),
    ]
    for section in sections:
        parts += [f"## {section.title}", section.markdown]
    parts += ["## Reproduce", _reproduce_markdown(meta)]
    return "\n\n".join(p.strip() for p in parts if p) + "\n"


def _published_markdown(result: ForecastResult) -> list[str]:
    """The section "Published forecasts beside ours" (none when none falls in the years)."""
    table = published_table(result, display=True)
    if table.empty:
        return []
    return [
        "## Published forecasts beside ours",
        "Published statements of the size of the largest run in a year (the markers of the fan "
        "chart), with our probability that a run of at least that size has happened by then. "
        "A *feasible upper bound* is what an analysis finds possible, not a prediction; a "
        "*scenario* is a number inside a story.",
        to_markdown(table, index=False),
    ]


def _has_resources(result: ForecastResult) -> bool:
    """Whether the worlds record what the largest run takes (forecasts of model v2 on)."""
    return all(variable in result.samples for variable, *_ in RESOURCES.values())


def _resources_markdown(result: ForecastResult, image_format: str) -> list[str]:
    """The section "What the largest run takes": the plot and the per-year table (none for a
    forecast saved before the model recorded these quantities)."""
    if not _has_resources(result):
        return []
    return [
        "## Power, capital, cost and energy",
        f"![Power, cluster capital, run cost and energy of the largest run by year: median, "
        f"50% and 90% intervals](resources.{image_format})",
        "Per year: median and 90% interval over worlds of the power of the largest run's training "
        "system, the capital cost of its cluster, the cost of the run (chip-hours times the price "
        "of a chip-hour) and the energy the run uses.",
        to_markdown(resources_table(result, display=True)),
    ]


def _reproduce_markdown(meta: Mapping) -> str:
    text = ("Every number above is computed from `samples.nc` in this folder "
            "(`forecast.load(\"samples.nc\")`); `metadata.json` records the settings, the prior "
            "file and its SHA-256, and the versions.")
    if meta.get("command"):
        text += f" The same worlds again:\n\n```\n{meta['command']}\n```"
    return text


def _copy_section_images(section: Section, folder: Path) -> None:
    if section.folder is None:
        return
    for src in _IMAGE.findall(section.markdown):
        path = Path(src)
        if path.is_absolute() or ".." in path.parts or "://" in src:
            continue
        origin = section.folder / path
        if origin.is_file() and not (folder / path).exists():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, folder / path)


def write_report(
    result: ForecastResult | str | Path,
    folder: str | Path,
    *,
    formats: Iterable[str] = REPORT_FORMATS,
    sections: Iterable | None = None,
    metadata: Mapping | None = None,
    years: Iterable[int] | None = None,
) -> list[Path]:
    """Write a self-contained report into an existing (staging) folder.

    Files: ``samples.nc``, the tables of :func:`outputs.write_run`, ``headline.csv``, every
    plot in PNG and SVG (and any other ``formats``), ``report.md``, ``report.html`` (images
    inline) and ``metadata.json``. Every number is computed from the ``samples.nc`` written
    here, read back, so the file and the report agree to the last digit.

    Parameters
    ----------
    result
        The forecast, or a run folder / NetCDF path (its sensitivity.md and backtest.md, if
        any, become sections).
    folder
        Existing folder to write into (see :func:`outputs.folder.staged_folder`).
    formats
        Plot formats besides PNG and SVG (``"pdf"``).
    sections
        Extra sections: ``(title, markdown)`` pairs, :class:`Section` objects, or paths of
        Markdown files or of folders holding :data:`SECTION_FILES`.
    metadata
        The provenance record (:func:`outputs.provenance.run_metadata` by default);
        ``metadata.json`` gets it plus the SHA-256 of ``samples.nc``.
    years
        Headline years (default 2027, 2030, 2035, those in range).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the report folder must exist (see outputs.folder.staged_folder)")
    found = []
    if not isinstance(result, ForecastResult):
        found = find_sections(result)
        source = result
        result = load(result)
        meta = dict(metadata or run_metadata(result, source_run=source))
    else:
        meta = dict(metadata or run_metadata(result))
    all_sections = found + _as_sections(sections)

    samples = write_via_memory(result.to_netcdf, folder / "samples.nc", size=int(result.samples.nbytes))
    saved = load(samples)  # the report is computed from the file, not from memory
    written = [samples]
    written += write_tables(saved, folder)
    headline = folder / "headline.csv"
    headline_frame(saved, years=years).to_csv(headline, float_format="%.10g", na_rep="")
    written.append(headline)
    kinds_formats = tuple(dict.fromkeys((*REPORT_FORMATS, *formats)))
    written += save_plots(saved, folder, record=load_runs(), published=load_published(), kinds=default_kinds(saved),
                          formats=kinds_formats)
    for section in all_sections:
        _copy_section_images(section, folder)

    meta["samples_sha256"] = sha256_file(samples)
    text = report_markdown(saved, metadata=meta, sections=all_sections, years=years)
    report_md = folder / "report.md"
    report_md.write_text(text, encoding="utf-8")
    report_html = folder / "report.html"
    report_html.write_text(
        html_page(markdown_to_html(text, base=folder), title=f"Forecast report: {saved.name}"),
        encoding="utf-8",
    )
    metadata_json = folder / "metadata.json"
    metadata_json.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return written + [report_md, report_html, metadata_json]
