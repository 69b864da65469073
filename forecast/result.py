"""The Python API: ``run`` a forecast, get a :class:`ForecastResult`, save and ``load`` it.

The CLI, the tables and the plots all take a ``ForecastResult``; nothing is computed twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

from forecast.engine import simulate
from forecast.settings import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    parse_as_of,
    parse_thresholds,
    parse_years,
)
from forecast.timeline import (
    constraint_shares,
    crossing_year_quantiles,
    first_crossing_year,
    interval_table,
    reach_probability,
)
from models import BASE_YEAR, CONSTRAINTS
from priors import InputError, Prior, PriorSet, load_prior_set, parse_spec
from priors.correlations import Correlation

#: The quantity every headline number is about.
TARGET = "log10_training_compute"
#: Metadata a result keeps through ``to_netcdf`` and ``load``: the years a calibrated
#: forecast was conditioned on, and the command line that draws the same worlds again
#: (when it is not the plain ``forecast run`` of the recorded settings).
METADATA_KEYS = ("calibrated_on", "command", "as_of", "conditioned_on", "pareto_k", "ess", "record_check")


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
    """

    samples: xr.Dataset
    priors: PriorSet
    thresholds: tuple[float, ...]
    seed: int
    label: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.label or self.priors.name

    @property
    def years(self) -> np.ndarray:
        return self.samples["year"].values

    @property
    def n_samples(self) -> int:
        return self.samples.sizes["sample"]

    @property
    def log10_compute(self) -> xr.DataArray:
        return self.samples[TARGET]

    @cached_property
    def timeline(self) -> xr.Dataset:
        """``probability`` (and its ``mcse``) of a run >= threshold by year: (threshold, year)."""
        return reach_probability(self.log10_compute, self.thresholds)

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
        return interval_table(self.log10_compute)

    @cached_property
    def constraint_shares(self) -> xr.DataArray:
        """Share of worlds bound by supply, power, funding or data: (constraint, year)."""
        return constraint_shares(self.samples["binding_constraint"])

    @property
    def main_constraint(self) -> list[str]:
        """The most frequent binding constraint in each year."""
        return [CONSTRAINTS[i] for i in self.constraint_shares.argmax("constraint").values]

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
            "seed": self.seed,
            "samples": self.n_samples,
            "thresholds": list(self.thresholds),
            "label": self.name,
            **{k: v for k, v in self.metadata.items() if isinstance(v, (str, int, float))},
        }

    def to_inference_data(self) -> az.InferenceData:
        """The worlds as ArviZ InferenceData: group ``prior`` with dims (chain=1, draw, year)."""
        # Outputs are log10 values and fractions: float32 keeps ~1e-6 of them and halves the file.
        outputs = {
            name: var.astype("float32")
            for name, var in self.samples.data_vars.items()
            if var.attrs.get("kind") == "output" and var.dtype == np.float64
        }
        worlds = self.samples.assign(outputs)
        prior = worlds.rename(sample="draw").expand_dims(chain=[0]).transpose("chain", "draw", ...)
        return az.InferenceData(prior=prior.assign_attrs(self._attrs()))

    def to_netcdf(self, path: str | Path) -> Path:
        """Write the samples (group ``prior``) and the per-year summary (root group).

        ``arviz.from_netcdf(path).prior`` and ``xarray.open_dataset(path, group="prior")``
        give the worlds; ``xarray.open_dataset(path)`` gives the summary tables.
        """
        path = Path(path)
        self.to_inference_data().to_netcdf(str(path), engine="h5netcdf")
        summary = self.summary()
        summary.attrs["thresholds"] = np.asarray(self.thresholds)
        summary.to_netcdf(path, mode="a", engine="h5netcdf")
        return path


def _priors_from_attrs(attrs: Mapping) -> PriorSet:
    entries = json.loads(attrs["priors_json"])
    priors = tuple(
        Prior(name=name, family=parse_spec(e["spec"]), origin=attrs.get("priors_file", ""), **e)
        for name, e in entries.items()
    )
    pairs = tuple(Correlation(*entry) for entry in json.loads(attrs.get("correlations_json", "[]")))
    return PriorSet(name=attrs["prior_set"], priors=priors, source=attrs.get("priors_file", ""),
                    correlations=pairs)


def load(path: str | Path) -> ForecastResult:
    """Read a forecast written by :meth:`ForecastResult.to_netcdf` (or a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "samples.nc"
    if not path.is_file():
        raise InputError(f"{path}: no such forecast file (expected a run folder or its samples.nc)")
    try:
        idata = az.from_netcdf(str(path))
        prior = idata.prior.load()
    except (OSError, AttributeError, KeyError) as err:
        raise InputError(f"{path}: not a forecast NetCDF ({err})") from None
    samples = prior.squeeze("chain", drop=True).rename(draw="sample")
    attrs = dict(prior.attrs)
    return ForecastResult(
        samples=samples,
        priors=_priors_from_attrs(attrs),
        thresholds=tuple(float(t) for t in np.atleast_1d(attrs["thresholds"])),
        seed=int(attrs["seed"]),
        label=str(attrs.get("label", "")),
        metadata={key: attrs[key].item() if isinstance(attrs[key], np.generic) else attrs[key]
                  for key in METADATA_KEYS if key in attrs},
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
) -> ForecastResult:
    """Run the bottom-up forecast.

    Parameters
    ----------
    priors
        A :class:`~priors.PriorSet`, a prior file, or a built-in set's name (``"moe"``);
        ``None`` for the default priors.
    overrides
        Priors to replace, ``{"mfu": "0.45"}`` or ``["chip_growth=lognormal 1.5 to 3"]``.
    correlate
        Rank correlations to add or replace, ``["chip_growth,power_limit_growth=0.6"]``.
    samples, seed
        Number of worlds and the seed of their draw.
    years
        ``"2025:2035"`` (inclusive), or the years as integers; default 2025..2035.
    thresholds
        FLOP thresholds of the timeline; default 1e26, 1e27, ..., 1e30.
    as_of
        Condition the worlds on the record of runs known up to this year
        (:mod:`forecast.history.condition`); ``"record"``: up to the last year the record
        covers (the CLI's default); ``None`` or ``"none"``: the prior forecast.
    record
        The record to condition on (:func:`forecast.history.record.load_runs`); the shipped
        one by default.

    Raises
    ------
    priors.InputError
        For any bad input, with a one-line message naming the file or option and the key.
    """
    prior_set = priors if isinstance(priors, PriorSet) else load_prior_set(priors)
    prior_set = prior_set.with_overrides(overrides)
    if correlate:
        prior_set = prior_set.with_correlations(correlate)
    as_of = parse_as_of(as_of)
    thresholds = parse_thresholds(thresholds)
    worlds = simulate(
        prior_set, years=parse_years(years), samples=samples, seed=seed, base_year=base_year,
        progress=progress,
    )
    metadata = {}
    if as_of is not None:
        worlds, metadata = _conditioned(worlds, record, as_of=as_of, seed=seed)
    return ForecastResult(
        samples=worlds, priors=prior_set, thresholds=thresholds, seed=seed, label=label,
        metadata=metadata,
    )


def _conditioned(worlds: xr.Dataset, record, *, as_of: int, seed: int) -> tuple[xr.Dataset, dict]:
    """The worlds resampled given the record, and what the conditioning found (metadata)."""
    import warnings

    from forecast.history.condition import K_HAT_LIMIT, ConditioningWarning, condition
    from forecast.history.record import load_runs

    runs = load_runs() if record is None else record
    if as_of == "record":
        as_of = int(runs["date"].dt.year.max())
    keep, info = condition(worlds[TARGET], runs, as_of=as_of, seed=seed)
    if not info.reliable:
        warnings.warn(
            f"UNRELIABLE conditioning on the record to {as_of}: Pareto k = {info.pareto_k:.2f} > "
            f"{K_HAT_LIMIT} (effective sample size {info.ess:,.0f} of {keep.size:,} worlds); "
            "draw more worlds (--samples) or calibrate with NUTS (forecast calibrate)",
            ConditioningWarning, stacklevel=3,
        )
    check = [
        {"year": int(y), "model": str(row["model"]), "log10_compute": float(row["log10_compute"]),
         "sd": float(row["sd"]), "percentile": float(row["percentile"]),
         "surprised": int(y) in info.surprises}
        for y, row in info.observed.iterrows()
    ]
    resampled = worlds.isel(sample=keep).assign_coords(sample=np.arange(keep.size))
    resampled.attrs.update(worlds.attrs, worlds="resampled in proportion to Pareto-smoothed "
                           "importance weights given the record (forecast.history.condition)")
    metadata = {"as_of": int(as_of), "conditioned_on": f"the record to {as_of}",
                "pareto_k": float(info.pareto_k), "ess": float(info.ess), "record_check": json.dumps(check)}
    return resampled, metadata
