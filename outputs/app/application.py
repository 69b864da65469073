"""The engine behind the app's page: :class:`App` checks a page's state, runs and keeps its
forecast (one computation at a time), draws its charts and makes its downloads. The HTTP side
is :mod:`outputs.app.server`; the page's words are :mod:`outputs.app.payloads`."""

from __future__ import annotations

import contextlib
import io
import math
import sys
import tempfile
import threading
import traceback
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from forecast.settings import DEFAULT_SAMPLES
from outputs.app.payloads import (
    MCSE_NOTE,
    QUANTITIES_NOTE,
    finite_json,
    headline_text,
    page_error,
    page_questions,
    questions_payload,
    with_valid_year,
)
from outputs.app.state import (
    MORE_SAMPLES,
    PAGE_SAMPLES,
    AppState,
    Checked,
    FieldError,
    check_state,
    command_line,
    from_query,
    in_page_terms,
    prior_groups,
    prior_set_toml,
    run_settings_of,
    thresholds_for,
    to_query,
    two_number_spec,
)
from outputs.flags import in_flags
from outputs.text import flop_label
from priors import InputError, builtin_prior_files
from priors.labs import ALTERNATIVES
from priors.files import resolve_prior_path

__all__ = ["CACHE_SIZE", "ENGINE_WAIT_S", "PLOT_DPI", "PLOT_KINDS", "PLOT_SIZES", "PNG_CACHE_SIZE", "QUICK_SAMPLES",
           "TORNADO_SAMPLES", "TORNADO_TOP", "App", "Busy"]

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
#: Seconds a request waits for the engine (another forecast computing) before "busy".
ENGINE_WAIT_S = 60.0


class Busy(Exception):
    """The server cannot take this request now (HTTP 503)."""


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
        self._record_tables = None  # the record and the published forecasts the fan marks
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
            return finite_json(payload)
        checked = replace(checked, state=with_valid_year(state))
        first = self.quick_state(checked) if quick else None
        try:
            result, caught = self.result(checked if first is None else replace(checked, state=first))
            payload.update(self._headline(checked.state, result))
            payload["quick"] = first is not None
        except InputError as err:
            payload["ok"] = False
            payload["errors"].append(page_error(str(err)))
            return finite_json(payload)
        payload["warnings"] = list(dict.fromkeys(checked.warnings + caught))
        payload["computed"] = True
        return finite_json(payload)

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
        return finite_json({
            "table": {"columns": ["year", *map(str, table.columns)],
                      "rows": [[int(year), *map(str, row)] for year, row in zip(table.index, table.values)]},
            "takes": {"year": state.year, "values": {str(k): str(v) for k, v in values.items()}},
        })

    # -- charts --------------------------------------------------------------------------
    def plot_png(self, kind: str, query: str) -> bytes:
        """One chart of the state's forecast, drawn by ``outputs.plots``, as PNG bytes."""
        from matplotlib.figure import Figure

        from outputs.plots.forecast import PLOT_FIGURES, draw_plot
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
            figure = Figure(figsize=PLOT_FIGURES.get(kind) or PLOT_SIZES.get(kind), layout="constrained")
            # the half-width charts leave their caption to the fan's (same worlds)
            options = {"caption": False} if kind in PLOT_SIZES else {}
            record, published = self.record_tables()
            draw_plot(kind, result, figure, record=record, published=published, **options)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=PLOT_DPI)
        return self._keep_bytes(result, kind, buffer.getvalue())

    def record_tables(self):
        """``(runs, published)``: the record of frontier runs and the published forecasts that
        the fan chart marks, read on first use."""
        if self._record_tables is None:
            from forecast.record.published import load_published
            from forecast.record.runs import load_runs

            self._record_tables = (load_runs(), load_published())
        return self._record_tables

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
        return finite_json({
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
