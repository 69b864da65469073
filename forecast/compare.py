"""Several forecasts side by side: bottom-up prior sets, saved runs, the trend, the
calibration, and the bottom-up hindcasts of the backtest.

Every forecast is a :class:`~forecast.api.ForecastResult` (the trend's posterior predictive
and the calibrated worlds are wrapped as one), so the comparison is computed from each
result's own timeline and intervals on the years they share. :func:`forecast_from_source`
reads the sources the ``forecast compare`` command accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr

from forecast.result import ForecastResult, load, run_settings
from forecast.settings import RunSettings, parse_thresholds, parse_years
from priors import InputError, PriorSet, builtin_prior_files, load_prior_set

__all__ = [
    "SOURCE_HELP", "compare", "forecast_from_source", "hindcast_result", "source_kind", "trend_result",
]

SOURCE_HELP = (
    "a built-in prior set (default, moe, ...), a prior file (.toml), a saved run (folder or "
    "samples.nc), 'trend' or 'trend:hinge' (the NUTS fit to the record), or 'calibrated' / "
    "'calibrated:PRIORS' (that prior set calibrated on history), or 'hindcast:YEAR' (the "
    "bottom-up model with priors from sources dated before YEAR, conditioned on the record as "
    "known then: 2020 or 2022; give --years YEAR:2026, the record's years)"
)


def trend_result(fit, *, years, thresholds, seed: int) -> ForecastResult:
    """A fitted trend's posterior predictive per year, as a forecast result.

    It holds ``log10_training_compute`` only (no priors, no constraints), so timelines,
    intervals, tables and the fan and timeline plots work on it unchanged.
    """
    samples = fit.predict(parse_years(years), seed=seed)
    samples["log10_training_compute"].attrs.update(units="log10 FLOP", kind="output")
    label = "trend (hinged)" if fit.hinge else "trend"
    return ForecastResult(
        samples=samples, priors=PriorSet(name=label, priors=()),
        thresholds=parse_thresholds(thresholds), seed=seed,
        label=f"{label}, NUTS fit to the record",
    )


def hindcast_result(cutoff: int, *, years, samples: int, seed: int, thresholds, record=None) -> ForecastResult:
    """The bottom-up hindcast of ``cutoff`` (:func:`forecast.evaluation.hindcast.hindcast`) as a
    forecast result: its draws of the largest public estimate by the end of each year, as
    of the date the record was checked, in ``log10_training_compute`` (as the backtest
    scores it). ``years`` must lie from the cutoff to the year the record was checked."""
    from forecast.evaluation.backtest import known_at_cutoff
    from forecast.evaluation.hindcast import as_of_of, hindcast
    from forecast.record.runs import load_runs, record_checked_date

    runs = load_runs() if record is None else record
    years = np.asarray(parse_years(years), dtype=int)
    checked = record_checked_date(runs)
    if years.min() < cutoff or years.max() > checked.year:
        raise InputError(f"hindcast:{cutoff}: --years must lie in {cutoff}:{checked.year} (from the cutoff to "
                         f"the year the record was checked, {checked.isoformat()}); got {years.min()}:{years.max()}")
    try:
        hc = hindcast(known_at_cutoff(runs, cutoff), cutoff, last_year=int(years.max()), resolved=checked,
                      samples=samples, seed=seed)
    except ValueError as err:
        raise InputError(f"hindcast:{cutoff}: {err}") from None
    draws = hc.draws[:, np.searchsorted(hc.years, years)]
    data = xr.Dataset(
        {"log10_training_compute": (("sample", "year"), draws, {"units": "log10 FLOP", "kind": "output"})},
        coords={"sample": np.arange(len(draws)), "year": years},
    )
    label = f"hindcast {cutoff}"
    return ForecastResult(
        samples=data, priors=PriorSet(name=label, priors=()), thresholds=parse_thresholds(thresholds), seed=seed,
        label=label,
        metadata={"hindcast": int(cutoff), "conditioned_on": f"the record as known on {as_of_of(cutoff).isoformat()}",
                  "resolved": checked.isoformat()},
    )


def _is_saved_run(text: str) -> bool:
    path = Path(text)
    return path.is_dir() or (path.is_file() and path.suffix == ".nc")


def source_kind(source: str) -> str:
    """``"trend"``, ``"calibrated"``, ``"hindcast"``, ``"saved"`` or ``"priors"``: what a
    source names.

    Cheap, so every source is checked before any is run. Raises
    :class:`priors.InputError` for anything else.
    """
    kind, _, argument = source.partition(":")
    if kind == "trend" and argument in ("", "hinge"):
        return "trend"
    if kind == "calibrated":
        load_prior_set(argument or None)  # a bad prior set fails here, not after a fit
        return "calibrated"
    if kind == "hindcast":
        from forecast.evaluation.hindcast import hindcast_cutoffs

        if not argument.strip().isdigit() or int(argument) not in hindcast_cutoffs():
            raise InputError(f"{source}: no such hindcast; give hindcast:YEAR with YEAR one of "
                             f"{', '.join(map(str, hindcast_cutoffs()))}")
        return "hindcast"
    if _is_saved_run(source):
        return "saved"
    if source in builtin_prior_files() or Path(source).suffix == ".toml":
        return "priors"
    raise InputError(f"{source}: not a forecast to compare; give {SOURCE_HELP}")


def forecast_from_source(
    source: str, *, samples: int | None = None, seed: int | None = None, years=None, thresholds=None,
    draws: int = 1000, as_of=None, record=None, settings: RunSettings | None = None,
) -> ForecastResult:
    """The forecast a ``forecast compare`` source names (see :data:`SOURCE_HELP`).

    Bottom-up runs use ``samples`` worlds, conditioned on ``record`` (the shipped record by
    default) up to ``as_of`` as :func:`forecast.result.run` does; the trend fits ``record``;
    the trend and the calibration use ``draws`` NUTS draws per chain (4 chains); the
    calibration conditions on the record as published by ``as_of`` (its checked date where
    ``as_of`` is None or ``"none"``), as ``forecast calibrate`` does. ``settings``: a
    :class:`~forecast.settings.RunSettings` in place of samples, seed, years, thresholds and
    as_of (the command line's); ``record``: the record as a table (the settings' by default).
    """
    from forecast.evaluation.calibrate import calibrate
    from forecast.record.runs import load_runs
    from forecast.evaluation.trend_fit import fit_trend

    if settings is None:
        given = {"samples": samples, "seed": seed, "years": years, "thresholds": thresholds}
        settings = RunSettings(as_of=as_of, **{key: value for key, value in given.items() if value is not None})
    if record is None and settings.record is not None:
        record = settings.runs()
    samples, seed, years, thresholds = settings.samples, settings.seed, settings.years, settings.thresholds
    kind, argument = source_kind(source), source.partition(":")[2]
    if kind == "trend":
        fit = fit_trend(load_runs() if record is None else record, draws=draws, warmup=draws, seed=seed, hinge=argument == "hinge")
        return trend_result(fit, years=years, thresholds=thresholds, seed=seed)
    if kind == "calibrated":
        # the record as published by as_of (its checked date where the comparison has none)
        calibration = calibrate(argument or None, record, as_of="record" if settings.as_of is None else settings.as_of,
                                years=years, draws=draws, warmup=draws, seed=seed)
        return calibration.forecast(thresholds=thresholds, seed=seed)
    if kind == "hindcast":
        return hindcast_result(int(argument), years=years, samples=samples, seed=seed, thresholds=thresholds,
                               record=record)
    if kind == "saved":
        return load(source)
    return run_settings(settings.replace(priors=source), record=record)


def _common_years(results: Sequence[ForecastResult]) -> np.ndarray:
    common = set(results[0].years.tolist())
    for result in results[1:]:
        common &= set(result.years.tolist())
    if not common:
        raise InputError("the forecasts share no year; run them over overlapping --years")
    return np.array(sorted(common))


def compare(results: Sequence[ForecastResult], *, thresholds=None) -> xr.Dataset:
    """The headline numbers of several forecasts on the years they share.

    Parameters
    ----------
    results
        Two or more forecasts with distinct names.
    thresholds
        FLOP thresholds; the first result's by default.

    Returns
    -------
    xarray.Dataset
        Dims ``forecast``, ``threshold``, ``year`` (and ``bound``, ``quantile``):
        ``probability`` and ``mcse`` of a run >= threshold by year, ``median`` and the 90%
        equal-tailed ``interval`` of log10 compute, and ``crossing_year`` (5th, 50th and
        95th percentile of the first-crossing year; NaN: after the last year).
    """
    names = [r.name for r in results]
    if len(results) < 2:
        raise InputError("compare: give at least two forecasts")
    if len(set(names)) != len(names):
        raise InputError(f"compare: two forecasts have the same name ({', '.join(names)})")
    thresholds = results[0].thresholds if thresholds is None else parse_thresholds(thresholds)
    years = _common_years(results)
    aligned = [
        replace(r, samples=r.samples.sel(year=years), thresholds=thresholds,
                tally=None if r.tally is None else r.tally.sel(year=years))
        for r in results
    ]
    per_forecast = [
        xr.Dataset({
            "probability": r.timeline["probability"],
            "mcse": r.timeline["mcse"],
            "median": r.intervals["median"],
            "interval": r.intervals["eti"].sel(prob=0.9, drop=True),
            "crossing_year": r.crossing_quantiles,
        })
        for r in aligned
    ]
    forecast = xr.DataArray(names, dims="forecast", name="forecast")
    out = xr.concat(per_forecast, dim=forecast, coords="minimal", compat="override")
    out["interval"].attrs["prob"] = 0.9
    out["median"].attrs["units"] = "log10 FLOP"
    out.attrs["samples"] = [r.n_samples for r in results]
    # the date the conditioned forecasts were conditioned on, when they share one
    dates = {str(r.metadata["as_of"]) for r in results if str(r.metadata.get("as_of") or "none") != "none"}
    out.attrs["as_of"] = dates.pop() if len(dates) == 1 else "none"
    # a hindcast is drawn against what happened: the record through the year it was checked
    resolved = [str(r.metadata["resolved"]) for r in results if r.metadata.get("resolved")]
    if resolved:
        out.attrs["record_through"] = int(max(resolved)[:4])
    out.attrs["conditioned"] = [int(bool(r.metadata.get("conditioned_on") or r.metadata.get("calibrated_on")))
                                for r in results]
    return out
