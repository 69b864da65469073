"""The Python API: ``run`` a forecast, get a :class:`ForecastResult`, save and ``load`` it.

The CLI, the tables and the plots all take a ``ForecastResult``; nothing is computed twice.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from forecast.arviz_loader import arviz
from forecast.engine import CHUNK_SIZE, map_chunks, prepare_chunks, prepare_worlds_at, to_dataset, worlds_at
from forecast.conditioning import (
    K_HAT_LIMIT,
    Conditioning,
    ConditioningWarning,
    evidence_of,
    likelihood_and_check,
    resampling_points,
    smooth_tail,
    systematic_picks,
    tail_length,
)
from forecast.record.questions import HEADLINE_QUESTIONS, answers_from_sums, question_sums, record_resolves
from forecast.settings import (
    DEFAULT_KEEP,
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    RunSettings,
    available_memory,
    check_keep,
    check_weights_fit,
    memory_needed,
)
from forecast.stream import (
    SUMMARY_SITES,
    TARGET,
    add_into,
    interval_table_from_tally,
    lab_summary,
    reach_from_tally,
    shares_from_tally,
    reweighted,
    sum_tallies,
    tally_chunk,
)
from forecast.summaries import (
    constraint_shares,
    crossing_year_quantiles,
    first_crossing_year,
    interval_table,
    reach_probability,
)
from models import BASE_YEAR
from models.evidence import LIKELIHOOD_SITES
from priors import InputError, Prior, PriorSet, parse_spec
from priors.correlations import Correlation
from priors.labs import Labs

if TYPE_CHECKING:
    import arviz as az

#: Metadata a result keeps through ``to_netcdf`` and ``load``: the years a calibrated
#: forecast was conditioned on, the command line that draws the same worlds again (when it
#: is not the plain ``forecast run`` of the recorded settings), and the settings a rerun
#: needs that the prior set does not hold (``--record``; with ``--repair-correlations``,
#: the ``--correlate`` pairs as given, ``repaired_from``, since the prior set holds them repaired).
METADATA_KEYS = ("calibrated_on", "command", "as_of", "conditioned_on", "pareto_k", "ess", "record_check",
                 "record_notes", "questions", "record", "repaired_from")


@dataclass(frozen=True)
class ForecastResult:
    """Samples of one forecast and everything derived from them, computed on first use.

    Attributes
    ----------
    samples
        Dataset with dims ``sample`` and ``year``: every prior and model output per world.
    priors
        The prior set the worlds were drawn from.
    thresholds
        FLOP thresholds of the timeline.
    seed
        Seed of the draw (same seed, same numbers).
    label
        Name shown in legends and captions (the prior set's name by default).
    tally
        Streamed statistics of every world of the run (:mod:`forecast.stream`), of which
        ``samples`` keeps some; the summaries come from it. ``None``: summarise ``samples``.
    """

    samples: xr.Dataset
    priors: PriorSet
    thresholds: tuple[float, ...]
    seed: int
    label: str = ""
    metadata: dict = field(default_factory=dict)
    tally: xr.Dataset | None = None

    @property
    def name(self) -> str:
        return self.label or self.priors.name

    @property
    def years(self) -> np.ndarray:
        return self.samples["year"].values

    @property
    def n_samples(self) -> int:
        """Worlds the summaries were computed from (``samples`` may keep fewer)."""
        return int(self.tally["n"]) if self.tally is not None else self.samples.sizes["sample"]

    @property
    def n_kept(self) -> int:
        """Worlds kept in ``samples``."""
        return self.samples.sizes["sample"]

    def reach(self, thresholds) -> xr.Dataset:
        """``probability`` and ``mcse`` of a run >= each of ``thresholds`` by each year."""
        if self.tally is not None:
            return reach_from_tally(self.tally, thresholds)
        return reach_probability(self.log10_compute, thresholds)

    @cached_property
    def _computed(self) -> dict:
        """Summaries computed once per result (the tables, the terminal and the plots read
        the same ones): ``(method, arguments) -> value``."""
        return {}

    def _once(self, key: tuple, compute):
        if key not in self._computed:
            self._computed[key] = compute()
        return self._computed[key]

    def interval_table(self, variable: str = TARGET) -> xr.Dataset:
        """Median, equal-tailed and highest-density 50% and 90% intervals of ``variable``
        (a log10 output), from every world where the run streamed it."""
        if self.tally is not None and variable in self.tally["quantity"].values:
            return self._once(("interval_table", variable), lambda: interval_table_from_tally(self.tally, variable))
        return interval_table(self.samples[variable].astype(float).transpose("sample", "year"))

    @property
    def log10_compute(self) -> xr.DataArray:
        return self.samples[TARGET]

    @cached_property
    def timeline(self) -> xr.Dataset:
        """``probability`` (and its ``mcse``) of a run >= threshold by year: (threshold, year)."""
        return self.reach(self.thresholds)

    @cached_property
    def first_crossing(self) -> xr.DataArray:
        """Year of first crossing per world and threshold (NaN: after the last year)."""
        return first_crossing_year(self.log10_compute, self.thresholds)

    @cached_property
    def crossing_quantiles(self) -> xr.DataArray:
        """5th, 50th and 95th percentile of the first-crossing year (NaN: after the range)."""
        return crossing_year_quantiles(self.timeline.probability)

    @cached_property
    def intervals(self) -> xr.Dataset:
        """Median, equal-tailed and highest-density 50% and 90% intervals of log10 compute."""
        return self.interval_table(TARGET)

    @cached_property
    def constraint_shares(self) -> xr.DataArray:
        """Share of worlds bound by supply, power, funding or data: (constraint, year)."""
        if self.tally is not None:
            return shares_from_tally(self.tally)
        return constraint_shares(self.samples["binding_constraint"])

    @property
    def labs(self) -> tuple[str, ...]:
        """The labs whose runs the frontier is the largest of."""
        return self.priors.labs.names

    def lab_summary(self, thresholds=None) -> xr.Dataset:
        """Which lab leads, which is first to each threshold, and how many labs get there
        (:func:`forecast.stream.lab_summary`); ``None`` for a forecast of one lab."""
        if len(self.labs) == 1 or self.tally is None or "lead" not in self.tally:
            return None
        thresholds = tuple(self.thresholds if thresholds is None else thresholds)
        return self._once(("lab_summary", thresholds), lambda: lab_summary(self.tally, self.labs, thresholds))

    @property
    def main_constraint(self) -> list[str]:
        """The most frequent binding constraint in each year."""
        return [str(name) for name in self.constraint_shares.idxmax("constraint").values]

    def summary(self) -> xr.Dataset:
        """The per-year numbers of the tables, as one Dataset (also the NetCDF's root group)."""
        return xr.Dataset(
            {
                "median": self.intervals["median"],
                "eti": self.intervals["eti"],
                "hdi": self.intervals["hdi"],
                "reach_probability": self.timeline["probability"],
                "reach_probability_mcse": self.timeline["mcse"],
                "crossing_year": self.crossing_quantiles,
                "constraint_share": self.constraint_shares,
                "rank_correlation": self.rank_correlation,
            },
            attrs=self._attrs(),
        )

    @property
    def rank_correlation(self) -> xr.DataArray:
        """The Spearman rank correlations the uncertain priors were drawn with (dims
        ``prior_name``, ``other_prior_name``; the identity where priors are independent).
        Not ``prior``: the NetCDF file has a group of that name."""
        names = list(self.priors.latent_names)
        return xr.DataArray(
            self.priors.rank_correlation(), dims=("prior_name", "other_prior_name"),
            coords={"prior_name": names, "other_prior_name": names},
            attrs={"long_name": "Spearman rank correlation of the priors (Gaussian copula)"},
        )

    # -- persistence -------------------------------------------------------------------
    def _attrs(self) -> dict:
        priors = {
            p.name: {"spec": p.spec, "unit": p.unit, "source": p.source, "description": p.description}
            for p in self.priors
        }
        return {
            "prior_set": self.priors.name,
            "priors_file": self.priors.source,
            "priors_sha256": self.priors.fingerprint(),
            "priors_json": json.dumps(priors),
            "correlations_json": json.dumps(
                [[c.first, c.second, c.rank, c.origin] for c in self.priors.correlations]
            ),
            "labs_json": json.dumps({
                "names": list(self.priors.labs.names), "correlation": self.priors.labs.correlation,
                "overrides": [[lab, p.name, {"spec": p.spec, "unit": p.unit, "source": p.source,
                                             "description": p.description}]
                              for lab, p in self.priors.labs.overrides]}),
            "seed": self.seed,
            "samples": self.n_samples,
            "kept": self.n_kept,
            "thresholds": list(self.thresholds),
            "label": self.name,
            **{k: v for k, v in self.metadata.items() if isinstance(v, (str, int, float))},
        }

    def to_inference_data(self) -> az.InferenceData:
        """The worlds as ArviZ InferenceData: group ``prior`` with dims (chain=1, draw, year)."""
        return arviz().InferenceData(prior=self._prior_group())

    def _prior_group(self) -> xr.Dataset:
        """The worlds as ArviZ's group ``prior``: dims (chain=1, draw, year), the run's attributes."""
        # Outputs are log10 values and fractions: float32 keeps ~1e-6 of them and halves the file.
        outputs = {
            name: var.astype("float32")
            for name, var in self.samples.data_vars.items()
            if var.attrs.get("kind") == "output" and var.dtype == np.float64
        }
        worlds = self.samples.assign(outputs)
        prior = worlds.rename(sample="draw").expand_dims(chain=[0]).transpose("chain", "draw", ...)
        return prior.assign_attrs(self._attrs())

    def to_netcdf(self, path: str | Path) -> Path:
        """Write the samples (group ``prior``) and the per-year summary (root group).

        ``arviz.from_netcdf(path).prior`` and ``xarray.open_dataset(path, group="prior")``
        give the worlds; ``xarray.open_dataset(path)`` gives the summary tables.
        """
        path = Path(path)
        prior = self._prior_group()
        for var in prior.variables.values():
            if var.dtype.kind in "fiub":
                var.encoding.update(SAMPLES_ENCODING)
        summary = self.summary()
        summary.attrs["thresholds"] = np.asarray(self.thresholds)
        # the file InferenceData.to_netcdf(engine=..., compress=False) writes, without importing ArviZ
        prior.to_netcdf(path, mode="w", group="prior", engine=NETCDF_ENGINE)
        summary.to_netcdf(path, mode="a", engine=NETCDF_ENGINE)
        if self.tally is not None:  # the streamed statistics of every world: summaries on load
            encoding = {"hist": {"zlib": True, "complevel": 1, "chunksizes": (1, 1, self.tally.sizes["bin"])}}
            self.tally.to_netcdf(path, mode="a", group="tally", engine=NETCDF_ENGINE, encoding=encoding)
        return path


#: The NetCDF writer of ``samples.nc``: Unidata's netCDF4 (the C library) creates a variable
#: in about 1 ms where h5netcdf (pure Python over h5py) takes about 10: the default run's 67
#: kept variables took 0.08 against 0.6-0.8 s (bench/netcdf.py). Any NetCDF reader opens it.
NETCDF_ENGINE = "netcdf4"

#: How the worlds are stored in ``samples.nc``: uncompressed. With six labs the worlds are
#: nearly all distinct random floats, which zlib (level 1) shrank by 12% only (277 -> 244 MB
#: for the default run's 100,000 worlds) for 7x the CPU time of the whole write (1.2 -> 9
#: CPU-s on 2 loaded cores; zlib with the shuffle filter: 221 MB, 6.2 CPU-s). bench/netcdf.py.
SAMPLES_ENCODING: dict = {}


def _priors_from_attrs(attrs: Mapping) -> PriorSet:
    entries = json.loads(attrs["priors_json"])
    priors = tuple(
        Prior(name=name, family=parse_spec(e["spec"]), origin=attrs.get("priors_file", ""), **e)
        for name, e in entries.items()
    )
    pairs = tuple(Correlation(*entry) for entry in json.loads(attrs.get("correlations_json", "[]")))
    labs = Labs()
    if "labs_json" in attrs:  # saved before v3: one lab
        saved = json.loads(attrs["labs_json"])
        overrides = tuple((lab, Prior(name=name, family=parse_spec(e["spec"]), origin=attrs.get("priors_file", ""), **e))
                          for lab, name, e in saved["overrides"])
        labs = Labs(names=tuple(saved["names"]), correlation=float(saved["correlation"]), overrides=overrides)
    return PriorSet(name=attrs["prior_set"], priors=priors, source=attrs.get("priors_file", ""),
                    correlations=pairs, labs=labs)


def load(path: str | Path) -> ForecastResult:
    """Read a forecast written by :meth:`ForecastResult.to_netcdf` (or a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "samples.nc"
    if not path.is_file():
        raise InputError(f"{path}: no such forecast file (expected a run folder or its samples.nc)")
    try:
        # the group arviz.from_netcdf(path).prior reads, without importing ArviZ
        with xr.open_dataset(path, group="prior", engine="h5netcdf") as group:
            prior = group.load()
    except (OSError, AttributeError, KeyError) as err:
        raise InputError(f"{path}: not a forecast NetCDF ({err})") from None
    samples = prior.squeeze("chain", drop=True).rename(draw="sample")
    attrs = dict(prior.attrs)
    tally = None
    with contextlib.suppress(OSError, KeyError, ValueError):  # saved before runs streamed: none
        with xr.open_dataset(path, group="tally", engine="h5netcdf") as group:
            tally = group.load()
    return ForecastResult(
        samples=samples,
        priors=_priors_from_attrs(attrs),
        thresholds=tuple(float(t) for t in np.atleast_1d(attrs["thresholds"])),
        seed=int(attrs["seed"]),
        label=str(attrs.get("label", "")),
        metadata={key: attrs[key].item() if isinstance(attrs[key], np.generic) else attrs[key]
                  for key in METADATA_KEYS if key in attrs},
        tally=tally,
    )


def run(
    priors: PriorSet | str | Path | None = None,
    *,
    overrides: Mapping[str, str] | Iterable[str] | None = None,
    correlate: Iterable[str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    years: str | Iterable[int] | None = None,
    thresholds: str | Iterable[float] | None = None,
    base_year: float = BASE_YEAR,
    label: str = "",
    progress: bool = False,
    as_of: int | str | None = None,
    record=None,
    keep: int | str | None = DEFAULT_KEEP,
    scheduler=None,
    labs: int | str | Iterable[str] | None = None,
    lab_correlation: float | str | None = None,
    questions=None,
    repair_correlations: bool = False,
) -> ForecastResult:
    """Run the bottom-up forecast.

    The keyword arguments are those of a :class:`~forecast.settings.RunSettings`, checked
    once there; :func:`run_settings` runs one that is built already (as the command line does).

    Parameters
    ----------
    priors
        A :class:`~priors.PriorSet`, a prior file, or a built-in set's name (``"moe"``);
        ``None`` for the default priors.
    overrides
        Priors to replace, ``{"mfu": "0.45"}`` or ``["chip_growth=lognormal 1.5 to 3"]``.
    correlate, repair_correlations
        Rank correlations to add or replace, ``["chip_growth,power_limit_growth=0.6"]``, and
        whether to replace a set of them that cannot hold together by the nearest valid one.
    samples, seed
        Number of worlds and the seed of their draw.
    years
        ``"2025:2035"`` (inclusive), or the years as integers; default 2025..2035.
    thresholds
        FLOP thresholds of the timeline; default 1e26, 1e27, ..., 1e30.
    as_of
        Condition the worlds on the record as published by this date (a date, ``YYYY-MM-DD``,
        or a year: its last day; :mod:`forecast.conditioning`); ``"record"``: the date
        the record was last checked (the CLI's default); ``None`` or ``"none"``: the prior
        forecast.
    record
        The record to condition on (:func:`forecast.record.runs.load_runs`); the shipped
        one by default.
    keep
        Worlds kept in :attr:`ForecastResult.samples` (default 10,000; ``"all"`` or
        ``None``: every world). Every summary uses all ``samples`` worlds, streamed chunk
        by chunk (:mod:`forecast.stream`), so memory grows with ``keep``, not ``samples``.
    scheduler
        A Dask ``distributed`` scheduler address or Client: the chunks run on its workers
        (:mod:`forecast.cluster`), with the same numbers as a local run.
    labs, lab_correlation
        ``N`` identical labs (or lab names) in place of the prior set's, and the rank
        correlation of a lab-scoped prior between two labs (:mod:`priors.labs`).
    questions
        :class:`~forecast.record.questions.Question` s to answer, true and published
        (``metadata["questions"]``, JSON); default the headline ones the years cover.

    Raises
    ------
    priors.InputError
        For any bad input, with a one-line message naming the file or option and the key.
    """
    given = priors if isinstance(priors, PriorSet) else None
    settings = RunSettings(
        priors=(given.source or None) if given is not None else priors, overrides=overrides,
        correlate=correlate, repair_correlations=repair_correlations, labs=labs,
        lab_correlation=lab_correlation, samples=samples, seed=seed, years=years, thresholds=thresholds,
        as_of=as_of, keep=keep, scheduler=scheduler,
    )
    return run_settings(settings, prior_set=settings.prior_set(given), record=record, base_year=base_year,
                        label=label, progress=progress, questions=questions)


def run_settings(
    settings: RunSettings,
    *,
    prior_set: PriorSet | None = None,
    record=None,
    base_year: float = BASE_YEAR,
    label: str = "",
    progress: bool = False,
    questions=None,
    on_summaries=None,
) -> ForecastResult:
    """Run the forecast ``settings`` describe (:class:`~forecast.settings.RunSettings`).

    ``prior_set``: the prior set the settings describe, built already
    (``settings.prior_set()`` by default); ``record``: the record of runs as a table (the
    settings' record by default); ``on_summaries``: called with the forecast without its
    kept worlds (every summary, the metadata, and samples of no world), as soon as the
    pass over the worlds is done and before the kept worlds are computed (a command's
    plots, read off the summaries, can be drawn meanwhile); the others as :func:`run`.
    """
    prior_set = settings.prior_set() if prior_set is None else prior_set
    years, samples = settings.years, settings.samples
    # checked again with the prior set's own size (labs add priors): refused before any work
    keep = check_keep(settings.keep, samples, n_years=len(years), n_priors=len(prior_set))
    # map_chunks' keywords: the settings that draw the worlds, and how to draw them here
    engine = dict(years=years, samples=samples, seed=settings.seed, scheduler=settings.scheduler or None,
                  base_year=base_year, progress=progress)
    if keep == 0:  # no world is kept: the model computes only what the summaries read
        engine["wanted"] = SUMMARY_SITES | LIKELIHOOD_SITES
    counted = _counted_thresholds(settings.thresholds)
    questions = _questions(questions, years)
    conditioning = settings.conditioning(record)
    if conditioning is None:
        kept_worlds, tally, answers = _stream(prior_set, settings, counted, engine, questions)
        metadata = {"questions": json.dumps(answers)}
    else:
        runs, as_of = conditioning
        kept_worlds, tally, metadata = _stream_conditioned(prior_set, settings, counted, engine, runs, as_of,
                                                           questions)
    if settings.record is not None:
        metadata["record"] = settings.record
    if settings.repair_correlations:  # the pairs as given: repaired again, they give the same worlds
        metadata["repaired_from"] = json.dumps(list(settings.correlate))

    def result(arrays) -> ForecastResult:
        worlds = to_dataset(arrays, prior_set, years)
        if conditioning is not None:
            worlds.attrs["worlds"] = (f"{keep:,} of the {samples:,} worlds, resampled in proportion to their "
                                      "Pareto-smoothed importance weights given the record "
                                      "(forecast.conditioning); the summaries weigh all of them")
        return ForecastResult(samples=worlds, priors=prior_set, thresholds=settings.thresholds,
                              seed=settings.seed, label=label, metadata=metadata, tally=tally)

    if on_summaries is not None:
        on_summaries(result({TARGET: np.empty((0, len(years)))}))
    return result(kept_worlds())


def _questions(questions, years) -> tuple:
    """The questions a run answers: those given (refused if their year is not forecast),
    else the headline ones whose year it forecasts."""
    if questions is None:
        return tuple(q for q in HEADLINE_QUESTIONS if years[0] <= q.by.year <= years[-1])
    questions = tuple(questions)
    for q in questions:
        if not years[0] <= q.by.year <= years[-1]:
            raise InputError(f"by: {q.by.isoformat()} is outside the forecast years {years[0]}..{years[-1]}; "
                             "forecast its year (--years)")
    return questions


def _counted_thresholds(thresholds) -> tuple[float, ...]:
    """The sizes a run counts exactly as it streams: the timeline's thresholds and those of
    the published forecasts drawn beside ours (other sizes come from the histograms)."""
    from forecast.record.published import load_published

    return tuple(sorted(set(thresholds) | set(load_published()["flop"].astype(float))))


def _kept_rows(out: dict, start: int, keep: int) -> dict | None:
    """The rows of a chunk that are among the first ``keep`` worlds (None if none are; the
    first chunk's, even empty, name the outputs of a run that keeps none)."""
    if start >= keep and start > 0:
        return None
    return {name: value[: keep - start] for name, value in out.items()}


def _concat(parts) -> dict:
    parts = [p for p in parts if p]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _plain_chunk(index, start, out, *, years, thresholds, keep, labs, questions):
    return (tally_chunk(out, years=years, thresholds=thresholds), _kept_rows(out, start, keep),
            question_sums(out, labs, years, questions))


def _tally_and_kept(acc, item):
    """Fold of ``(tally, kept rows, question sums)`` chunk results: tallies and sums added,
    the kept rows listed."""
    tally, kept, sums = item
    if acc is None:
        return tally, [kept], sums
    return add_into(acc[0], tally), [*acc[1], kept], acc[2] + sums


def _stream(prior_set, settings: RunSettings, thresholds, engine: dict, questions):
    """One pass over the chunks (``engine``: :func:`map_chunks`' keywords): a function that
    gives the first ``settings.keep`` worlds (computed when it is called, where the pass did
    not keep them), the tally of every world at ``thresholds``, and the answers to
    ``questions``."""
    keep = settings.keep
    # the kept worlds are the first ones, kept as the pass goes: where they are a good share
    # of the run, computing every output of every world costs less than computing them again
    full = keep > 0 and (3 * keep >= settings.samples or settings.samples <= HOLD_WORLDS)
    reduce = functools.partial(_plain_chunk, years=settings.years, thresholds=thresholds, keep=keep if full else 0,
                               labs=prior_set.labs.names, questions=questions)
    first = engine if full else {**engine, "wanted": SUMMARY_SITES | LIKELIHOOD_SITES}
    _prepare(prior_set, first, keep=0 if full else keep)
    tally, kept, sums = map_chunks(prior_set, reduce, **first, combine=_tally_and_kept)
    kept = _concat(kept)

    def kept_worlds():
        if not full and keep:  # the first keep worlds, computed alone
            return worlds_at(prior_set, np.arange(keep), years=settings.years, samples=settings.samples,
                             seed=settings.seed, base_year=engine["base_year"])
        return kept

    return kept_worlds, sum_tallies([tally]), answers_from_sums(sums, questions)


def _prepare(prior_set, engine: dict, *, keep: int) -> None:
    """Start loading, each in a thread of its own, the compiled programs a run will call
    here (``engine``: :func:`map_chunks`' keywords): its pass's (unless its chunks run on a
    cluster), while it reads its record and weighs the evidence, and, where it computes its
    ``keep`` kept worlds after the pass (0: none), theirs, while the pass goes on."""
    if engine["scheduler"] is None:
        prepare_chunks(prior_set, years=engine["years"], samples=engine["samples"], base_year=engine["base_year"],
                       wanted=engine.get("wanted"))
    if keep:
        prepare_worlds_at(prior_set, keep, years=engine["years"], base_year=engine["base_year"])


def _computes_every_output(keep: int, samples: int, years, prior_set, engine: dict) -> bool:
    """Whether a conditioned run computes every output of its worlds in its pass over the
    chunks and holds them, taking the ``keep`` resampled worlds from there: where it keeps
    every world (on a cluster too: the workers send their chunks back), or it is of at most
    :data:`HOLD_WORLDS` worlds (that fit in memory, and run here). Otherwise the pass
    computes only what the summaries and the likelihood read, and the kept worlds are
    computed alone afterwards (:func:`~forecast.engine.worlds_at`, on this machine); a run
    that keeps none computes only those either way."""
    if keep == 0:
        return False
    if keep >= samples:
        return True
    return engine["scheduler"] is None and samples <= HOLD_WORLDS and _fits(samples, len(years), len(prior_set))


def _weighted_sums(out, weights, *, years, thresholds, labs, evidence, questions, resolved):
    """The tally and the question sums of worlds ``out`` with ``weights`` (their ``n`` counts
    the rows given, whatever their weights)."""
    return (tally_chunk(out, years=years, thresholds=thresholds, weights=weights),
            question_sums(out, labs, years, questions, weights=weights, evidence=evidence, resolved=resolved))


def _rescaled(tally, sums, factor: float):
    """A tally and question sums (:func:`question_sums`: sums over ``w x``, ``w^2 x``,
    ``w^2 x^2``) with every weight times ``factor``."""
    return reweighted(tally, factor), _rescaled_sums(sums, factor)


def _rescaled_sums(sums, factor: float):
    """Question sums (:func:`question_sums`) with every weight times ``factor``."""
    return sums if factor == 1.0 else sums * np.array([factor, factor**2, factor**2])


def _reference(loglik: np.ndarray) -> float:
    """The log weight a chunk's weights are relative to: its largest finite one (-inf where
    every world of it is impossible)."""
    finite = loglik[np.isfinite(loglik)]
    return float(finite.max()) if finite.size else -np.inf


def _relative(log_weights, ref: float):
    """``exp(log_weights - ref)``: weights relative to the log weight ``ref``; 0 where ``ref``
    is -inf (every such weight is 0: no NaN from -inf - -inf)."""
    log_weights = np.asarray(log_weights, dtype=float)
    return np.exp(log_weights - ref) if np.isfinite(ref) else np.zeros_like(log_weights)


@dataclass
class _ChunkPass:
    """A chunk of a conditioned run's one pass (:func:`_conditioned_chunk`)."""

    check: np.ndarray  # the model check's sums over the prior forecast
    ref: float  # the weights below are exp(loglik - ref)
    tally: xr.Dataset  # every world but the candidates, weighted
    sums: np.ndarray  # the questions' sums of the same worlds
    values: np.ndarray  # the candidates' log weights: the chunk's ``tail`` largest
    index: np.ndarray  # their worlds' indices in the run
    rows: dict  # their outputs
    loglik: np.ndarray  # every world's log weight, for the resampling
    held: dict | None  # the chunk's outputs, where the run keeps them from the pass


def _conditioned_chunk(index, start, out, *, weigh, labs, evidence, tail, hold):
    """The one pass of a conditioned run, a chunk at a time (:class:`_ChunkPass`): each world
    weighted by its likelihood, relative to the chunk's largest; all but the chunk's
    ``tail`` largest weights tallied and summed for the questions (``weigh``:
    :func:`_weighted_sums` with the run's settings). Those are candidates for the run's
    tail, whose weights are smoothed once the pass has seen every world."""
    loglik, check = likelihood_and_check(out, labs, evidence)
    top = np.argsort(loglik)[-tail:]
    ref = _reference(loglik)
    weights = _relative(loglik, ref)
    weights[top] = 0.0  # weighed once the run knows which are in its tail
    tally, sums = weigh(out, weights)
    return _ChunkPass(check=check, ref=ref, tally=tally, sums=sums, values=loglik[top],
                      index=start + top, rows={name: value[top] for name, value in out.items()}, loglik=loglik,
                      held=out if hold else None)


class _ConditionedFold:
    """Fold of :class:`_ChunkPass` results, in chunk order: tallies and sums added (relative
    to the largest log weight so far), the run's ``tail`` largest log weights so far kept as
    candidates with their outputs; each chunk's log weights (and held outputs) listed.

    A candidate that drops out of them joins the ``dropped`` worlds, each with its log
    weight, which are tallied together (:meth:`flush`) once there are :data:`DROPPED_WORLDS`
    of them, and at the end with the tail: no world is counted twice or left out. Tallied
    one chunk's at a time, each fold paid for a tally's fixed cost (its histograms, 12.7 MB)
    for a few thousand worlds: a fifth of the reduce of a run of 1e6 worlds."""

    def __init__(self, tail: int, weigh):
        self.tail, self.weigh = tail, weigh

    def __call__(self, acc, item: _ChunkPass):
        if acc is None:
            return {"ref": item.ref, "tally": item.tally, "sums": item.sums, "check": item.check,
                    "values": item.values, "index": item.index, "rows": item.rows,
                    "loglik": [item.loglik], "held": [item.held], "dropped": []}
        ref = max(acc["ref"], item.ref)
        scale = _relative(acc["ref"], ref)
        factor = _relative(item.ref, ref)
        add_into(acc["tally"], item.tally, factor, scale_total=scale)
        sums = _rescaled_sums(acc["sums"], scale) + _rescaled_sums(item.sums, factor)
        values = np.concatenate([acc["values"], item.values])
        index = np.concatenate([acc["index"], item.index])
        rows = {name: np.concatenate([acc["rows"][name], item.rows[name]]) for name in acc["rows"]}
        order = np.argsort(values, kind="stable")
        top, dropped = order[-self.tail:], order[:-self.tail]
        if dropped.size:
            acc["dropped"].append((values[dropped], {name: value[dropped] for name, value in rows.items()}))
        acc.update(ref=ref, sums=sums, check=acc["check"] + item.check, values=values[top],
                   index=index[top], rows={name: value[top] for name, value in rows.items()})
        acc["loglik"].append(item.loglik)
        acc["held"].append(item.held)
        if sum(log_weights.size for log_weights, _ in acc["dropped"]) >= DROPPED_WORLDS:
            self.flush(acc)
        return acc

    def flush(self, acc, *more) -> None:
        """Tally the dropped worlds, and ``more`` ``(log weights, rows)`` pairs as they are
        held, into ``acc``, with their weights relative to its reference log weight."""
        parts = [*acc["dropped"], *more]
        acc["dropped"] = []
        if not parts:
            return
        log_weights = np.concatenate([part[0] for part in parts])
        joined = {name: np.concatenate([part[1][name] for part in parts]) for name in parts[0][1]}
        tally, sums = self.weigh(joined, _relative(log_weights, acc["ref"]))
        add_into(acc["tally"], tally)
        acc["sums"] = acc["sums"] + sums


#: The dropped candidates a conditioned run's fold holds before it tallies them
#: (:class:`_ConditionedFold`): a chunk's worlds, what the pass's memory is sized for.
DROPPED_WORLDS = CHUNK_SIZE


def _stream_conditioned(prior_set, settings: RunSettings, thresholds, engine: dict, runs, as_of, questions):
    """One pass over the chunks, then the kept worlds (``engine``: :func:`map_chunks`' keywords).

    The pass weighs every world by its likelihood and keeps the run's ``tail_length + 1``
    largest log weights as candidates (with their outputs), tallying every other world as
    it goes (:class:`_ConditionedFold`). The candidates are then Pareto-smoothed as
    :func:`arviz.psislw` would smooth them (:func:`~forecast.conditioning.smooth_tail`) and
    tallied with their smoothed weights: the tally of every world, weighted, in one draw.
    Each chunk's total weight (its raw total, less its tail worlds' raw weights, plus their
    smoothed ones) places the systematic-resampling points, and so the ``keep`` resampled
    worlds, whose every output is then computed for them alone
    (:func:`~forecast.engine.worlds_at`; the pass computes only what the summaries and the
    likelihood read). A run of at most :data:`HOLD_WORLDS` worlds, or one that keeps every
    world, computes every output in the pass and keeps its worlds from it. Memory: the
    tally, the candidates, one log weight per world, the kept worlds. Returned: a function
    that gives the kept worlds (computed when it is called), the tally and the metadata."""
    years, samples, keep = settings.years, settings.samples, settings.keep
    check_weights_fit(samples)
    hold = _computes_every_output(keep, samples, years, prior_set, engine)
    # the pass computes and copies only what the summaries and the likelihood read, unless
    # it keeps its worlds
    first = engine if hold else {**engine, "wanted": SUMMARY_SITES | LIKELIHOOD_SITES}
    _prepare(prior_set, first, keep=0 if hold else keep)
    labs = prior_set.labs.names
    evidence, observed, notes = evidence_of(runs, labs, years, as_of)
    tail = tail_length(samples) + 1
    weigh = functools.partial(_weighted_sums, years=years, thresholds=thresholds, labs=labs, evidence=evidence,
                              questions=questions, resolved=[record_resolves(runs, q) for q in questions])
    reduce = functools.partial(_conditioned_chunk, weigh=weigh, labs=labs, evidence=evidence, tail=tail, hold=hold)
    fold = _ConditionedFold(tail, weigh)
    found = map_chunks(prior_set, reduce, **first, combine=fold)
    raw, index = found["values"], found["index"]
    smoothed_values, k_hat = smooth_tail(raw)
    fold.flush(found, (smoothed_values, found["rows"]))  # the dropped worlds, and the tail smoothed
    tally, sums = _rescaled(found["tally"], found["sums"], 1.0 / float(found["tally"]["weight"]))  # weights that sum to 1
    tally = sum_tallies([tally.assign(n=samples)])
    picked = _resampled(found["loglik"], raw, index, smoothed_values, keep=keep, seed=settings.seed)

    def kept_worlds():
        if hold:
            starts = np.cumsum([0] + [ll.size for ll in found["loglik"]])
            return _concat([{name: value[picked[(picked >= begin) & (picked < begin + ll.size)] - begin]
                             for name, value in out.items()}
                            for out, ll, begin in zip(found["held"], found["loglik"], starts)])
        if picked.size:
            return worlds_at(prior_set, picked, years=years, samples=samples, seed=settings.seed,
                             base_year=engine["base_year"])
        return {name: value[:0] for name, value in found["rows"].items()}  # none kept: the names, from the pass

    info = Conditioning(
        observed=observed.assign(percentile=100 * np.asarray(found["check"], dtype=float) / samples),
        log_weights=None, pareto_k=k_hat, ess=float(tally["weight"] ** 2 / tally["weight_sq"]),
        as_of=as_of, notes=notes,
    )
    metadata = _conditioning_metadata(info, samples)
    metadata["questions"] = json.dumps(answers_from_sums(sums, questions))
    return kept_worlds, tally, metadata


def _resampled(logliks: list, raw, index, smoothed_values, *, keep: int, seed: int) -> np.ndarray:
    """The indices of the ``keep`` worlds systematic resampling picks (sorted), given each
    chunk's log weights (``logliks``) and the run's tail (``raw`` log weights of worlds
    ``index``, ``smoothed_values`` once smoothed).

    Each chunk's total weight, ``exp(shift)`` = 1, is its raw total less its tail worlds'
    raw weights plus their smoothed ones; the points that fall in each chunk are picked
    from its weights, the tail smoothed."""
    order = np.argsort(index)
    smoothed = (index[order], smoothed_values[order])
    lse = np.array([logsumexp(loglik) for loglik in logliks])
    shift = float(max(np.max(lse), smoothed_values.max()))
    totals = np.exp(lse - shift)
    starts = np.cumsum([0] + [loglik.size for loglik in logliks])
    chunk_of = np.searchsorted(starts, index, side="right") - 1
    np.add.at(totals, chunk_of, np.exp(smoothed_values - shift) - np.exp(raw - shift))
    totals = np.maximum(totals, 0.0)  # a chunk of tail worlds only: 0, not -1e-17
    edges = np.concatenate([[0.0], np.cumsum(totals)])
    shift += float(np.log(edges[-1]))  # weights sum to 1
    edges /= edges[-1]
    points = resampling_points(keep, seed)
    per_chunk = np.searchsorted(points, edges, side="left")
    picks = []
    for i, loglik in enumerate(logliks):
        positions = np.arange(starts[i], starts[i + 1])
        in_tail = np.isin(positions, smoothed[0])
        loglik = loglik.copy()
        loglik[in_tail] = smoothed[1][np.searchsorted(smoothed[0], positions[in_tail])]
        picked = systematic_picks(np.exp(loglik - shift), edges[i], points[per_chunk[i]:per_chunk[i + 1]])
        picks.append(starts[i] + picked)
    return np.concatenate(picks).astype(np.int64)


#: The most worlds a run computes every output of in its pass over the chunks, keeping its
#: worlds from there (:func:`_computes_every_output`): one chunk. A larger run computes
#: only what its summaries read, then its kept worlds alone: the default run (two chunks,
#: 10,000 worlds kept) takes the same time either way and 1.0 GB of memory instead of 1.4.
HOLD_WORLDS = CHUNK_SIZE


def _fits(worlds: int, n_years: int, n_priors: int) -> bool:
    """Whether ``worlds`` worlds can be held in the memory available (unknown: yes)."""
    have = available_memory()
    return have is None or memory_needed(worlds, n_years=n_years, n_priors=n_priors) <= have


def _conditioning_metadata(info: Conditioning, samples: int) -> dict:
    """Warn when the weights are unreliable; what the conditioning found, for the metadata."""
    import warnings

    as_of = info.as_of.isoformat()
    if not info.reliable:
        warnings.warn(
            f"UNRELIABLE conditioning on the record as of {as_of}: Pareto k = {info.pareto_k:.2f} > "
            f"{K_HAT_LIMIT} (effective sample size {info.ess:,.0f} of {samples:,} worlds); "
            "draw more worlds (--samples) or calibrate with NUTS (forecast calibrate)",
            ConditioningWarning, stacklevel=4,
        )
    surprises = set(info.surprises)
    check = [
        {"lab": str(row["lab"]), "year": int(row["year"]), "model": str(row["model"]), "kind": str(row["kind"]),
         "log10_compute": None if pd.isna(row["log10_compute"]) else float(row["log10_compute"]),
         "sd": None if pd.isna(row["sd"]) else float(row["sd"]), "percentile": float(row["percentile"]),
         "surprised": i in surprises}
        for i, (_, row) in enumerate(info.observed.iterrows())
    ]
    return {"as_of": as_of, "conditioned_on": f"the record as published by {as_of}",
            "pareto_k": float(info.pareto_k), "ess": float(info.ess), "record_check": json.dumps(check),
            "record_notes": json.dumps(list(info.notes))}
