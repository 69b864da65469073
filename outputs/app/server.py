"""The app's server: one static page and JSON/PNG endpoints that call the engine's own API.

Standard library only (``http.server``): the page is ``static/index.html`` with its script
and style, shipped with the package, so it works offline. Every number comes from the
functions the CLI calls: ``forecast run``'s ``run_settings`` for the worlds, the
result's own summaries, ``outputs.plots`` for the charts, ``outputs.tables`` for the
tables, ``forecast.sensitivity.local.tornado`` for "what matters most".

Endpoints (each takes the page's query string, :mod:`outputs.app.state`):

- ``GET /api/forecast``: the checked state, the priors by block, the headline, the per-year
  table and what the run takes, as JSON. Bad input gives ``errors`` (one line each, the
  CLI's message), never an error status.
- ``GET /api/plot/<kind>.png``: ``fan``, ``timeline``, ``constraints``, ``resources``.
- ``GET /api/tornado``: each prior pinned at its 5th and 95th percentile, for the headline.
- ``GET /download/priors.toml``, ``/download/summary.csv``, ``/download/report.zip``.

The engine runs one request at a time (a lock): two cores are better spent on one update
than shared by two. Results are kept for the last few states, so the charts, the tornado
and the downloads of one state draw its worlds once; a kept result is answered without
waiting for the engine. A computation whose page has gone (the connection closed) is
cancelled, so it does not hold the engine for the next one.

Under load: a listen backlog of :data:`BACKLOG`, a pool of :data:`WORKERS` threads and at
most :data:`WAITING` connections waiting for them; beyond that, or when the engine stays
busy for :data:`ENGINE_WAIT_S`, the answer is 503 "busy" (never a reset connection).

Only this machine's pages may talk to it: the ``Host`` must be ``127.0.0.1:PORT`` or
``localhost:PORT`` (a page of another site that rebinds its name to 127.0.0.1 sends its own
name), and a request from another origin (``Origin``, ``Sec-Fetch-Site``) is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import math
import os
import queue
import select
import socket
import sys
import tempfile
import threading
import traceback
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from forecast.settings import DEFAULT_SAMPLES, parse_years
from outputs.app.state import (
    MORE_SAMPLES,
    PAGE_SAMPLES,
    PAGE_TERMS,
    AppState,
    Checked,
    FieldError,
    check_state,
    command_line,
    run_settings_of,
    from_query,
    in_page_terms,
    prior_groups,
    prior_set_toml,
    thresholds_for,
    to_query,
    two_number_spec,
)
from outputs.flags import in_flags
from outputs.text import flop_label
from priors import InputError, builtin_prior_files
from priors.labs import ALTERNATIVES
from priors.files import resolve_prior_path

__all__ = ["PLOT_KINDS", "QUICK_SAMPLES", "TORNADO_SAMPLES", "App", "make_server", "serve"]

#: Charts the page shows, in the order it asks for them.
PLOT_KINDS = ("fan", "timeline", "constraints", "resources")
#: Worlds per tornado bar end: common random numbers keep the shifts precise at this size,
#: and 2 x 36 + 1 runs of it fit the sensitivity kernels' small compiled chunk (8 x 8192
#: worlds), so an update takes about half a second.
TORNADO_SAMPLES = 800
#: Bars the tornado shows (widest first).
TORNADO_TOP = 12
#: Pixels per inch of the charts: the style's 7-inch width at 910 pixels.
PLOT_DPI = 130
#: Inches of the charts shown side by side (half the page's width): smaller figures, so
#: that their type is as large on screen as the fan chart's.
PLOT_SIZES = {"timeline": (5.2, 3.9), "constraints": (5.2, 3.9)}
#: States whose results are kept (a 100,000-world result takes about 200 MB; a first pass's
#: is small).
CACHE_SIZE = 6
#: Worlds of an edit's first pass: the page shows its headline (a forecast at these worlds,
#: with its larger Monte Carlo error) at once, then the page's worlds refine it. 20,000
#: worlds of the v3 default (6 labs, conditioned on the record) take 1-2 s on two busy
#: cores, 5,000 about a quarter of that.
QUICK_SAMPLES = 5_000
#: Charts and tables kept, as bytes (a few hundred kB each).
PNG_CACHE_SIZE = 32
#: Listen backlog: connections the system holds before the server accepts them.
BACKLOG = 512
#: Threads that answer requests, and connections that may wait for one (more: 503).
WORKERS = 8
WAITING = 512
#: Seconds a request waits for the engine (another forecast computing) before "busy".
ENGINE_WAIT_S = 60.0
#: Seconds a connection may take to send its request or read the answer.
SOCKET_TIMEOUT_S = 60.0
#: Seconds between checks that the page waiting for a computation is still there.
WATCH_EVERY_S = 0.2


class Busy(Exception):
    """The server cannot take this request now (HTTP 503)."""


class ClientGone(BaseException):
    """Raised in a request's thread when its connection closed while it computed."""

STATIC = resources.files("outputs.app") / "static"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
#: A message that starts with a flag belongs to that field of the page.
_FIELD_OF_FLAG = {"--samples": "samples", "--seed": "seed", "--years": "years", "--thresholds": "threshold",
                  "--threshold": "threshold", "--target-year": "year", "--as-of": "as_of", "--priors": "priors",
                  "--correlate": "corr"}


def _finite(value):
    """JSON has no NaN: None instead, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _field_of(message: str) -> str:
    """The field of the page a message is about: its flag (``--samples: ...``) or the
    field's label (``worlds: ...``, :data:`~outputs.app.state.PAGE_TERMS`)."""
    head = message.partition(":")[0]
    head = {label: flag for flag, label in PAGE_TERMS.items()}.get(head, head)
    return _FIELD_OF_FLAG.get(head, "run")


def _error(message: str) -> dict:
    """An error of the page: its field, and the message in the page's terms."""
    message = in_flags(message.splitlines()[0])
    return {"field": _field_of(message), "message": in_page_terms(message)}


def _with_valid_year(state: AppState) -> AppState:
    """A headline year outside the years (when one of them was refused) falls back to the
    fourth year of the range (2028 of 2025..2035)."""
    years = parse_years(state.years)
    return state if state.year in years else replace(state, year=years[min(len(years) - 1, 3)])


def percent_text(probability: float, mcse: float) -> str:
    """``43.2% ± 0.2%`` (± one Monte Carlo standard error)."""
    return f"{100 * probability:.1f}% ± {100 * mcse:.1f}%"


def headline_text(probability: float, mcse: float, threshold: float, year: int) -> str:
    """``P(≥1e28 FLOP by 2028) = 43.2% ± 0.2%`` (± one Monte Carlo standard error)."""
    return f"P(≥{flop_label(threshold)} FLOP by {year}) = {percent_text(probability, mcse)}"


#: What the two probabilities of the questions table are, and what "±" is (one line).
QUANTITIES_NOTE = ("True: a run that large has finished by the end of the year. Published: a public "
                   "estimate that large exists by then, which is what forecasting questions resolve on; "
                   "the two differ because a run's estimate appears late or never, and estimates err.")
#: What the "±" of every probability on the page is.
MCSE_NOTE = ("± one Monte Carlo standard error: the noise of drawing {samples} worlds rather than "
             "infinitely many (more worlds shrink it), not the uncertainty of the forecast")


def page_questions(state: AppState) -> tuple:
    """The questions a page's run answers, true and published: ``forecast run``'s headline
    ones (``HEADLINE_QUESTIONS`` its years cover) and the page's headline threshold by the
    end of its year, when it is not one of them (questions change no world)."""
    import datetime as dt

    from forecast.record.questions import HEADLINE_QUESTIONS, Question

    years = parse_years(state.years)
    questions = [q for q in HEADLINE_QUESTIONS if years[0] <= q.by.year <= years[-1]]
    own = Question(float(state.threshold), dt.date(int(state.year), 12, 31))
    if own not in questions:
        questions.append(own)
    return tuple(sorted(questions, key=lambda q: (q.by, q.threshold)))


def questions_payload(result, state: AppState) -> list[dict]:
    """The run's answers (``metadata["questions"]``), one row per question: the true and
    the published probability with their Monte Carlo errors, the page's headline marked."""
    rows = []
    for a in json.loads(result.metadata.get("questions") or "[]"):
        year = int(a["by"][:4])
        rows.append({
            "label": f"P(≥{flop_label(a['threshold'])} FLOP by {year})", "threshold": a["threshold"],
            "by": a["by"], "true": a["true_probability"], "true_mcse": a["true_mcse"],
            "published": a["published_probability"], "published_mcse": a["published_mcse"],
            "true_text": percent_text(a["true_probability"], a["true_mcse"]),
            "published_text": percent_text(a["published_probability"], a["published_mcse"]),
            "headline": a["threshold"] == state.threshold and year == state.year,
        })
    return rows


class App:
    """The engine behind the page: checks states, runs and keeps their forecasts, draws.

    Parameters
    ----------
    priors
        The prior set the page starts from: a built-in name or a prior file (a URL may name
        the built-in sets and this one, no other file).
    """

    def __init__(self, priors: str | Path | None = None, *, quick_samples: int | None = QUICK_SAMPLES):
        self.prior_files: dict[str, Path] = dict(builtin_prior_files())
        name = "default" if priors is None else str(priors)
        if name not in self.prior_files:
            self.prior_files[name] = resolve_prior_path(name)  # PriorError: no such file
        self.default_priors = name
        self.lock = threading.RLock()  # the engine: one computation at a time
        self.draw_lock = threading.RLock()  # matplotlib's style (rcParams) is global
        self._cache_lock = threading.Lock()
        self._results: OrderedDict = OrderedDict()
        self._pngs: OrderedDict = OrderedDict()
        self._descriptions: dict[str, str] | None = None
        self._sets: dict = {}
        self._sets_lock = threading.Lock()
        #: The worlds of a first pass (None: none), and the (structure, years, chunk width)
        #: the engine has compiled its model for in this app: a first pass only where it
        #: compiles nothing.
        self.quick_samples = quick_samples
        self._compiled: set = set()
        self._structures: OrderedDict = OrderedDict()
        # a broken prior file is refused now, with its one-line error, not on the page
        self._load(self.prior_files[name])

    @contextlib.contextmanager
    def engine(self):
        """The engine lock, or :class:`Busy` after :data:`ENGINE_WAIT_S`."""
        acquired = False
        try:  # released even when the request is cancelled right after acquiring it
            acquired = self.lock.acquire(timeout=ENGINE_WAIT_S)
            if not acquired:
                raise Busy("busy: another forecast is computing; try again in a moment")
            yield
        finally:
            if acquired:
                self.lock.release()

    # -- state ---------------------------------------------------------------------------
    def parse(self, query: str) -> tuple[AppState, list[FieldError]]:
        return from_query(query, default_priors=self.default_priors, prior_files=self.prior_files)

    def query(self, state: AppState) -> str:
        return to_query(state, default_priors=self.default_priors)

    def check(self, query: str) -> tuple[Checked, list[FieldError]]:
        state, url_errors = self.parse(query)
        checked = check_state(state, self.prior_files, load=self._load)
        return checked, url_errors + checked.errors

    def _load(self, path: Path):
        """``load_prior_set(path)``, read again only when the file changes."""
        from priors import load_prior_set

        key = (str(path), Path(path).stat().st_mtime_ns)
        with self._sets_lock:
            if key not in self._sets:
                self._sets[key] = load_prior_set(path)
            return self._sets[key]

    def scenarios(self) -> dict[str, str]:
        """Each prior set a URL may name, with its description (read once)."""
        if self._descriptions is None:
            from priors import load_prior_set

            descriptions = {}
            for name, path in self.prior_files.items():
                try:
                    descriptions[name] = load_prior_set(path).description
                except InputError as err:
                    descriptions[name] = str(err)
            self._descriptions = descriptions
        return self._descriptions

    # -- forecasts -----------------------------------------------------------------------
    def result(self, checked: Checked):
        """The forecast of a valid checked state, as ``forecast run`` computes it (the same
        settings as its ``result_from_settings``, with the same prior set), and the engine's
        warnings; kept for the last :data:`CACHE_SIZE` states."""
        from forecast.result import run_settings
        from outputs.checks import check_finite

        state = checked.state
        questions = page_questions(state)
        key = self._world_key(state)
        with self._cache_lock:  # a kept result does not wait for the engine
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        with self.engine():
            with self._cache_lock:  # computed meanwhile by the request before this one
                if key in self._results:
                    return self._results[key]
            # a new threshold is a new run too: the engine tallies the timeline as it draws
            with warnings.catch_warnings(record=True) as caught_warnings:
                warnings.simplefilter("always")
                result = check_finite(run_settings(run_settings_of(state), prior_set=checked.priors,
                                                   questions=questions))
            caught = []
            for item in caught_warnings:
                line = in_page_terms(in_flags(str(item.message).splitlines()[0]))
                if line not in caught:
                    caught.append(line)
            entry = (result, caught)
            self._compiled.add(self._shape(checked, state.samples))
            with self._cache_lock:
                self._results[key] = entry
                while len(self._results) > CACHE_SIZE:
                    self._results.popitem(last=False)
            return entry

    def _shape(self, checked: Checked, samples: int) -> tuple:
        """What the engine compiles its model once for: the prior set's static structure
        (names, families, fixed or not), the years, the chunk's compiled width. (The structure is
        worked out once per prior set: ``transform`` factors the correlations.)"""
        from forecast.engine import chunk_plan

        with self._cache_lock:
            kept = self._structures.get(id(checked.priors))
        if kept is None or kept[0] is not checked.priors:
            kept = (checked.priors, checked.priors.transform().tree_flatten()[1])
            with self._cache_lock:
                self._structures[id(checked.priors)] = kept
                while len(self._structures) > CACHE_SIZE:
                    self._structures.popitem(last=False)
        return (kept[1], checked.state.years, chunk_plan(samples).width)

    def _world_key(self, state: AppState) -> tuple:
        return state.world_key + (thresholds_for(state), page_questions(state))

    def quick_state(self, checked: Checked) -> AppState | None:
        """The state of an edit's first pass: the same at :attr:`quick_samples` worlds; None
        where there is none to make (the page's worlds are few, its result is kept, or the
        first pass would compile the model for a new shape, a wait longer than the
        refinement's)."""
        state, quick = checked.state, self.quick_samples
        if not quick or state.samples <= quick:
            return None
        with self._cache_lock:
            if self._world_key(state) in self._results:
                return None
        if self._shape(checked, quick) not in self._compiled:
            return None
        return replace(state, samples=quick)

    def valid(self, query: str) -> Checked:
        """The checked state of ``query``, or InputError with the first refused field's message."""
        checked, errors = self.check(query)
        if errors:
            raise InputError(errors[0].message)
        return checked

    def forecast(self, query: str, *, fallback: bool = False, quick: bool = False) -> dict:
        """The page's numbers for ``query``.

        With errors, ``ok`` is False and ``errors`` says what is wrong, field by field; with
        ``fallback`` (the page's first load) the forecast of the valid part is computed too,
        so a bad URL parameter leaves the rest of the page working. With ``quick``, the
        numbers of the edit's first pass where there is one (:meth:`quick_state`: ``quick``
        is then True, and the state, query and command are still the page's): the same
        forecast at fewer worlds, which the page then refines.
        """
        checked, errors = self.check(query)
        payload = {"ok": not errors, "errors": [e.to_json() for e in errors],
                   "scenarios": self.scenarios(), "page_samples": PAGE_SAMPLES,
                   "more_samples": MORE_SAMPLES, "cli_samples": DEFAULT_SAMPLES}
        state = checked.state if not errors else checked.valid
        if checked.base is not None:
            payload["priors"] = self._priors_payload(checked)
        if state is None or (errors and not fallback):
            return _finite(payload)
        checked = replace(checked, state=_with_valid_year(state))
        first = self.quick_state(checked) if quick else None
        try:
            result, caught = self.result(checked if first is None else replace(checked, state=first))
            payload.update(self._headline(checked.state, result))
            payload["quick"] = first is not None
        except InputError as err:
            payload["ok"] = False
            payload["errors"].append(_error(str(err)))
            return _finite(payload)
        payload["warnings"] = list(dict.fromkeys(checked.warnings + caught))
        payload["computed"] = True
        return _finite(payload)

    def _priors_payload(self, checked: Checked) -> dict:
        base, current = checked.base, checked.priors or checked.base
        typed = dict(checked.state.overrides)
        groups = []
        for title, names in prior_groups(base):
            items = []
            for name in names:
                if name not in current:  # replaced by its alternative (max_epochs for epoch_worth_floor)
                    name = ALTERNATIVES.get(name, name)
                prior = current[name]
                original = base[name] if name in base else prior
                spec = typed.get(name, prior.spec)
                items.append({
                    "name": name, "spec": spec, "base_spec": original.spec if name in base else "",
                    "unit": prior.unit, "source": original.source, "description": original.description,
                    "changed": name in typed, "two": two_number_spec(spec),
                    "base_two": two_number_spec(original.spec) if name in base else None,
                })
            groups.append({"title": title, "priors": items})
        return {
            "set": checked.state.priors, "name": current.name, "description": base.description,
            "groups": groups, "latent": list(current.latent_names),
            "correlations": [{"first": c.first, "second": c.second, "rank": c.rank,
                              "written": c.origin == "--correlate"} for c in current.correlations],
        }

    def _headline(self, state: AppState, result) -> dict:
        timeline = result.timeline.sel(threshold=state.threshold, year=state.year)
        p, mcse = float(timeline["probability"]), float(timeline["mcse"])
        median_year = float(result.crossing_quantiles.sel(threshold=state.threshold, quantile=0.5))
        crossing = (f"median first crossing: {median_year:.0f}" if math.isfinite(median_year)
                    else f"median first crossing: after {int(result.years[-1])}")
        return {
            "query": self.query(state),
            "state": {"priors": state.priors, "overrides": [list(o) for o in state.overrides],
                      "correlate": list(state.correlate), "threshold": flop_label(state.threshold),
                      "year": state.year, "samples": state.samples, "seed": state.seed,
                      "years": state.years, "as_of": state.as_of},
            "headline": {"text": headline_text(p, mcse, state.threshold, state.year),
                         "probability": p, "mcse": mcse, "median_year": median_year,
                         "crossing": crossing, "samples": result.n_samples,
                         "conditioned": result.metadata.get("conditioned_on", ""),
                         "ess": result.metadata.get("ess"),
                         "mcse_note": MCSE_NOTE.format(samples=f"{result.n_samples:,}"),
                         "refining": result.n_samples != state.samples},
            "questions": questions_payload(result, state),
            "questions_note": QUANTITIES_NOTE,
            "command": command_line(state),
        }

    def details(self, query: str) -> dict:
        """The per-year table (as ``forecast run`` prints it) and what the run takes in the
        headline year (median and 90% interval of power, capital, cost, energy)."""
        from outputs.tables import per_year_table, resources_table

        checked = self.valid(query)
        state = checked.state
        result, _ = self.result(checked)
        table = per_year_table(result, display=True)
        takes = resources_table(result, display=True)
        values = takes.loc[state.year].to_dict() if state.year in takes.index else {}
        return _finite({
            "table": {"columns": ["year", *map(str, table.columns)],
                      "rows": [[int(year), *map(str, row)] for year, row in zip(table.index, table.values)]},
            "takes": {"year": state.year, "values": {str(k): str(v) for k, v in values.items()}},
        })

    # -- charts --------------------------------------------------------------------------
    def plot_png(self, kind: str, query: str) -> bytes:
        """One chart of the state's forecast, drawn by ``outputs.plots``, as PNG bytes."""
        from matplotlib.figure import Figure

        from outputs.plots.forecast import PLOT_FIGURES, PLOTS
        from outputs.style import plot_style

        if kind not in PLOT_KINDS:
            raise InputError(f"unknown chart {kind!r}; use {', '.join(PLOT_KINDS)}")
        checked = self.valid(query)
        result, _ = self.result(checked)
        kept = self._kept_bytes(result, kind)
        if kept is not None:
            return kept
        with self.draw_lock, plot_style():
            kept = self._kept_bytes(result, kind)  # drawn meanwhile by the request before
            if kept is not None:
                return kept
            if kind in PLOT_FIGURES:
                figure = Figure(figsize=PLOT_FIGURES[kind], layout="constrained")
                PLOTS[kind](result, figure=figure)
            else:
                figure = Figure(figsize=PLOT_SIZES.get(kind), layout="constrained")
                # the half-width charts leave their caption to the fan's (same worlds)
                PLOTS[kind](result, ax=figure.add_subplot(), **({"caption": False} if kind in PLOT_SIZES else {}))
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=PLOT_DPI)
        return self._keep_bytes(result, kind, buffer.getvalue())

    def _kept_bytes(self, result, name: str) -> bytes | None:
        """A chart or file of ``result`` made before (charts and tables are drawn once)."""
        key = (id(result), name)
        with self._cache_lock:
            if key in self._pngs and self._pngs[key][0] is result:
                self._pngs.move_to_end(key)
                return self._pngs[key][1]
        return None

    def _keep_bytes(self, result, name: str, body: bytes) -> bytes:
        with self._cache_lock:
            self._pngs[(id(result), name)] = (result, body)
            while len(self._pngs) > PNG_CACHE_SIZE:
                self._pngs.popitem(last=False)
        return body

    def tornado(self, query: str) -> dict:
        """Each uncertain prior pinned at its 5th and 95th percentile: how the headline
        probability moves (weighed by the record as the headline is, common random numbers;
        widest first)."""
        from forecast.sensitivity.local import tornado

        checked, errors = self.check(query)
        if errors:
            raise InputError(errors[0].message)
        state = checked.state
        settings = run_settings_of(state)
        with self.engine():
            ds = tornado(checked.priors, years=settings.years, target_year=state.year, threshold=state.threshold,
                         samples=TORNADO_SAMPLES, seed=settings.seed, conditioning=settings.conditioning())
        ds = ds.sortby(ds["probability_width"], ascending=False).isel(prior=slice(0, TORNADO_TOP))
        rows = []
        for i, name in enumerate(ds["prior"].values):
            row = ds.isel(prior=i)
            rows.append({
                "name": str(name), "unit": str(row["unit"].values), "moves_with": str(row["moves_with"].values),
                "low_value": float(row["value"].sel(pin="low")), "high_value": float(row["value"].sel(pin="high")),
                "p_low": float(row["probability"].sel(pin="low")), "p_high": float(row["probability"].sel(pin="high")),
            })
        return _finite({
            "base": float(ds["base_probability"]), "rows": rows, "samples": TORNADO_SAMPLES,
            "as_of": ds.attrs.get("as_of"),
            "label": f"P(≥{flop_label(state.threshold)} FLOP by {state.year})",
        })

    # -- downloads -----------------------------------------------------------------------
    def download(self, name: str, query: str) -> tuple[bytes, str, str]:
        """``(bytes, content type, file name)`` of ``priors.toml``, ``summary.csv`` or
        ``report.zip`` for the state of ``query``."""
        checked, errors = self.check(query)
        if errors:
            raise InputError(errors[0].message)
        state = checked.state
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in state.priors.split("/")[-1])
        stem = stem.removesuffix("_toml") or "priors"
        if name == "priors.toml":
            text = prior_set_toml(checked.priors, description=f"{checked.priors.description} "
                                  f"(written by forecast app: {command_line(state)})".strip())
            return text.encode(), "application/toml; charset=utf-8", f"{stem}-priors.toml"
        if name == "summary.csv":
            from outputs.tables import write_tables

            result, _ = self.result(checked)
            body = self._kept_bytes(result, "summary.csv")
            if body is None:
                with self.draw_lock:  # made once: the requests that waited for it then find it
                    body = self._kept_bytes(result, "summary.csv")
                    if body is None:
                        with tempfile.TemporaryDirectory() as folder:
                            write_tables(result, folder)
                            body = self._keep_bytes(result, "summary.csv",
                                                    Path(folder, "summary.csv").read_bytes())
            return body, "text/csv; charset=utf-8", f"{stem}-summary.csv"
        if name == "report.zip":
            return self._report_zip(checked, stem), "application/zip", f"report-{stem}.zip"
        raise InputError(f"unknown download {name!r}; use priors.toml, summary.csv, report.zip")

    def _report_zip(self, checked: Checked, stem: str) -> bytes:
        """The folder ``forecast report`` writes for these settings, zipped."""
        from outputs.provenance import run_metadata
        from outputs.write.report import write_report

        buffer = io.BytesIO()
        result, _ = self.result(checked)
        with self.draw_lock, tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / f"report-{stem}"
            target.mkdir()
            write_report(result, target, formats=("png", "svg"), sections=[],
                         metadata=run_metadata(result, overrides=dict(checked.state.overrides)))
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(target.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(folder))
        return buffer.getvalue()

    def compile_quick(self, query: str) -> None:
        """Compile the model for the first pass of ``query``'s structure (:meth:`quick_state`)."""
        checked = self.valid(query)
        if self.quick_samples and checked.state.samples > self.quick_samples:
            self.result(replace(checked, state=replace(checked.state, samples=self.quick_samples)))

    def warm_up(self) -> None:
        """Compile the model for the page's first state (run, fan chart and tornado), so the
        first page load does not wait for it."""
        query = ""
        try:
            self.forecast(query)
            self.plot_png("fan", query)
            self.compile_quick(query)
            self.tornado(query)
        except Exception:  # noqa: BLE001 -- a warm-up failure shows again on the page
            traceback.print_exc(file=sys.stderr)


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    server_version = "forecast-app"
    app: App  # set on the subclass made by make_server

    timeout = SOCKET_TIMEOUT_S  # a connection that sends nothing does not hold a thread

    def log_message(self, format, *args):
        pass

    def _refusal(self) -> str | None:
        """Why a request from another site is refused (None: it is this machine's page).

        DNS rebinding: a page of ``evil.example`` whose name then resolves to 127.0.0.1
        reaches this server with ``Host: evil.example:PORT``; a page of any other origin
        says so in ``Origin`` or ``Sec-Fetch-Site``."""
        port = self.server.server_address[1]
        own = {f"127.0.0.1:{port}", f"localhost:{port}"}
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in own:
            return (f"refused: this page answers only at http://127.0.0.1:{port}/ "
                    f"(the request was for host {host!r})")
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in {f"http://{h}" for h in own}:
            return f"refused: a request from another origin ({origin!r})"
        if (self.headers.get("Sec-Fetch-Site") or "same-origin").strip().lower() not in ("same-origin", "none"):
            return "refused: a request from another site"
        return None

    def do_POST(self):
        self._json({"ok": False, "errors": [{"field": "url", "message": "only GET is served"}]},
                   status=HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_DELETE = do_PATCH = do_POST

    def do_GET(self):
        url = urlsplit(self.path)
        path, query = url.path, url.query
        refusal = self._refusal()
        if refusal is not None:
            self._json({"ok": False, "errors": [{"field": "url", "message": refusal}]},
                       status=HTTPStatus.FORBIDDEN)
            return
        try:
            with _cancelled_when_gone(self.connection):
                self._route(path, query)
        except ClientGone:
            pass  # the page closed the connection: nobody to answer
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the page moved on (a newer update) before the answer came

    def _route(self, path: str, query: str) -> None:
        try:
            if path in ("/", "/index.html"):
                self._static("index.html")
            elif path == "/favicon.ico":
                self._send(b"", "image/x-icon", status=HTTPStatus.NO_CONTENT)
            elif path.startswith("/static/"):
                self._static(path.removeprefix("/static/"))
            elif path == "/api/forecast":
                flags = {p for p in query.split("&") if p in ("fallback=1", "quick=1")}
                query = "&".join(p for p in query.split("&") if p not in flags)
                self._json(self.app.forecast(query, fallback="fallback=1" in flags, quick="quick=1" in flags))
            elif path.startswith("/api/plot/") and path.endswith(".png"):
                kind = path.removeprefix("/api/plot/").removesuffix(".png")
                self._send(self.app.plot_png(kind, query), "image/png")
            elif path == "/api/details":
                self._json(self.app.details(query))
            elif path == "/api/tornado":
                self._json(self.app.tornado(query))
            elif path.startswith("/download/"):
                body, kind, filename = self.app.download(path.removeprefix("/download/"), query)
                self._send(body, kind, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
            else:
                self._json({"ok": False, "errors": [{"field": "url", "message": f"no such page: {path}"}]},
                           status=HTTPStatus.NOT_FOUND)
        except InputError as err:
            self._json({"ok": False, "errors": [_error(str(err) or type(err).__name__)]},
                       status=HTTPStatus.BAD_REQUEST)
        except Busy as err:
            self._json({"ok": False, "errors": [{"field": "server", "message": str(err)}]},
                       status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": "2"})
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            raise
        except Exception as err:  # noqa: BLE001 -- a bug: say so on the page, trace in the terminal
            traceback.print_exc(file=sys.stderr)
            try:
                self._json({"ok": False, "errors": [{"field": "server", "message": f"internal error: {err!r}"}]},
                           status=HTTPStatus.INTERNAL_SERVER_ERROR)
            except OSError:
                pass

    def _static(self, name: str) -> None:
        names = {entry.name for entry in STATIC.iterdir()}
        if name not in names:
            self._json({"ok": False, "errors": [{"field": "url", "message": f"no such file: {name}"}]},
                       status=HTTPStatus.NOT_FOUND)
            return
        suffix = Path(name).suffix
        self._send((STATIC / name).read_bytes(), _CONTENT_TYPES.get(suffix, "application/octet-stream"))

    def _json(self, payload: dict, status: HTTPStatus = HTTPStatus.OK, headers: dict | None = None) -> None:
        self._send(json.dumps(payload, allow_nan=False).encode(), "application/json", status=status,
                   headers=headers)

    def _send(self, body: bytes, content_type: str, *, status: HTTPStatus = HTTPStatus.OK,
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _busy_answer() -> bytes:
    body = json.dumps({"ok": False, "errors": [{"field": "server", "message":
                       "busy: too many requests at once; try again in a moment"}]}).encode()
    return (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            b"Retry-After: 2\r\nCache-Control: no-store\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


class AppServer(HTTPServer):
    """An HTTP server with a listen backlog of :data:`BACKLOG` and a pool of
    :data:`WORKERS` threads; a connection that finds :data:`WAITING` others waiting is
    answered 503 at once."""

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def __init__(self, address, handler, *, workers: int = WORKERS, waiting: int = WAITING):
        self._waiting: queue.Queue = queue.Queue(maxsize=waiting)
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self.in_flight = 0
        self._count_lock = threading.Lock()
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def server_activate(self) -> None:
        super().server_activate()
        for n in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"forecast-app-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def process_request(self, request, client_address) -> None:
        try:
            self._waiting.put_nowait((request, client_address))
        except queue.Full:
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_busy_answer())
            self.shutdown_request(request)

    def _work(self) -> None:
        while True:
            request, client_address = self._waiting.get()
            with self._count_lock:
                self.in_flight += 1
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 -- a broken connection: nothing to answer
                pass
            finally:
                self.shutdown_request(request)
                with self._count_lock:
                    self.in_flight -= 1

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away is not an error of the server


# -- cancelling a computation whose page has gone ------------------------------------------

#: ``PyThreadState_SetAsyncExc(thread, exception)``, and the same with NULL (clears it).
_raise_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


class _Watch:
    """One request's connection, watched while its thread computes."""

    def __init__(self, connection, thread_id: int):
        self.connection, self.thread_id = connection, thread_id
        self.lock = threading.Lock()
        self.active, self.fired = True, False


_watches: set[_Watch] = set()
_watches_lock = threading.Lock()
_watcher: threading.Thread | None = None


def _closed(connection) -> bool:
    """Whether the other end closed the connection (readable, and nothing to read)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


def _watch_loop() -> None:
    while True:
        with _watches_lock:
            watches = list(_watches)
        for watch in watches:
            if _closed(watch.connection):
                with watch.lock:
                    if watch.active and not watch.fired:
                        watch.fired = True
                        _raise_in(watch.thread_id, ClientGone)
        threading.Event().wait(WATCH_EVERY_S)


@contextlib.contextmanager
def _cancelled_when_gone(connection):
    """While this block runs, a closed connection raises :class:`ClientGone` in this
    thread (at its next Python instruction: a chunk of worlds, a chart), so a page that
    moved on does not keep the engine computing for nobody."""
    global _watcher
    watch = _Watch(connection, threading.get_ident())
    with _watches_lock:
        _watches.add(watch)
        if _watcher is None or not _watcher.is_alive():
            _watcher = threading.Thread(target=_watch_loop, name="forecast-app-watch", daemon=True)
            _watcher.start()
    try:
        yield
    finally:
        with _watches_lock:
            _watches.discard(watch)
        with watch.lock:
            watch.active = False
            if watch.fired:  # sent but maybe not raised yet: it must not go off later
                _clear_in(watch.thread_id, None)


def make_server(app: App, port: int = 8050) -> AppServer:
    """A server for ``app`` on 127.0.0.1 (only: the page is for this machine); port 0 picks
    a free port (``server.url`` says which)."""
    handler = type("Handler", (_Handler,), {"app": app})
    return AppServer(("127.0.0.1", port), handler)


def serve(app: App, *, port: int = 8050, open_browser: bool = True, warm: bool = True) -> int:
    """Serve the page until Ctrl-C or SIGTERM; print its URL and open it in the browser.
    Ends the process (exit code 0) when it stops."""
    from outputs.stopping import Terminated

    try:
        server = make_server(app, port)
    except OverflowError:
        raise InputError(f"--port: {port} is not a port; use 0 to 65535") from None
    except OSError as err:
        raise InputError(f"--port: cannot listen on 127.0.0.1:{port} ({err.strerror or err})") from None
    warming = threading.Thread(target=app.warm_up, daemon=True)
    try:
        print(f"forecast app: serving {server.url} (Ctrl-C to stop)", flush=True)
        if warm:
            warming.start()
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.serve_forever()
    except (KeyboardInterrupt, Terminated):
        print("\nforecast app: stopped", flush=True)
    finally:
        server.server_close()
    # XLA may be computing in another thread (a forecast, the warm-up; a signal can arrive
    # before that thread says it has started): tearing the interpreter down under it crashes
    # (SIGSEGV, or abort: "exception not rethrown"), so leave at once, the output flushed
    # and the port closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
