"""The bottom-up model as it could have been run at a backtest cutoff: a hindcast.

For a cutoff year ``c`` with a prior file ``priors/hindcasts/c.toml`` (every source in it
dated by 31 December of ``c - 1``), :func:`hindcast` runs the v3 bottom-up model (the one
``forecast run`` uses) from the base year ``c - 1`` (:func:`base_year_of`):

1. draws ``samples`` worlds of the hindcast priors over the years ``c - 1 .. last_year``;
2. conditions them on the record as it was known on 31 December of ``c - 1``
   (:func:`forecast.conditioning.condition`: Pareto-smoothed importance weights, the
   worlds resampled in proportion to them). Only the base year is observed: the record
   then holds no row of a later year;
3. reads what the forecast says about the quantity the backtest scores (MODEL.md v3, "What
   gets published"): the largest public estimate, as of the date the current record was
   checked, of a run finished in the base year or later and by the end of each year. Per
   world, a lab-year's run is public by then with probability
   :func:`models.evidence.disclosed_by`, its estimate off by the world's
   ``estimate_sd_dex``; :func:`models.evidence.published_max_cdf` gives the distribution
   of the largest one and :func:`models.evidence.published_max_draws` draws it.

What this leaves out: runs before the base year (smaller than the base year's in every
year scored here), and a public estimate of a base-year run is drawn afresh rather than
read from the record (the conditioning has already pulled the run's compute to it). In the
few worlds where no run is public at all, a draw is the frontier known at the cutoff and the
distribution puts that mass below every value.

Nothing here reads the record after the cutoff except the date the current record was
checked (how long the runs have had to be published), which the caller gives.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.engine import map_chunks
from forecast.conditioning import K_HAT_LIMIT, ConditioningWarning, condition, day_end
from models.evidence import (
    LIKELIHOOD_SITES,
    disclosed_by,
    published_max_cdf,
    published_max_draws,
    world_arrays,
)
from priors import PriorSet, load_prior_set

__all__ = [
    "Hindcast", "as_of_of", "base_year_of", "hindcast", "hindcast_cutoffs", "hindcast_files",
    "load_hindcast",
]

#: Worlds a hindcast draws by default (before the conditioning resamples them).
DEFAULT_SAMPLES = 20_000


def hindcast_files() -> dict[int, Path]:
    """``{cutoff: prior file}`` of the hindcast prior sets shipped in ``priors/hindcasts/``."""
    root = resources.files("priors") / "hindcasts"
    files = {}
    for entry in root.iterdir():
        stem = entry.name.removesuffix(".toml")
        if entry.name.endswith(".toml") and stem.isdigit():
            files[int(stem)] = Path(str(entry))
    return dict(sorted(files.items()))


def hindcast_cutoffs() -> tuple[int, ...]:
    """The cutoffs with a hindcast prior file."""
    return tuple(hindcast_files())


def base_year_of(cutoff: int) -> int:
    """The base year of the hindcast for ``cutoff``: the last year whose systems a
    forecaster at the cutoff had seen (as 2024 is for a forecast made in 2025)."""
    return int(cutoff) - 1


def as_of_of(cutoff: int) -> dt.date:
    """The day the hindcast for ``cutoff`` is written on: 31 December before it."""
    return dt.date(int(cutoff) - 1, 12, 31)


def load_hindcast(cutoff: int) -> PriorSet:
    """The hindcast prior set of ``cutoff``; ValueError where there is none."""
    files = hindcast_files()
    if int(cutoff) not in files:
        raise ValueError(f"cutoff {cutoff}: no hindcast prior file priors/hindcasts/{cutoff}.toml "
                         f"(hindcasts exist for {', '.join(map(str, files)) or 'no cutoff'})")
    return load_prior_set(files[int(cutoff)])


@dataclass(frozen=True)
class Hindcast:
    """The conditioned worlds of a hindcast, read as the published frontier.

    Attributes
    ----------
    cutoff, base_year
        The cutoff and the model's base year (``cutoff - 1``).
    years
        The years forecast: ``cutoff .. last_year``.
    draws
        ``(worlds, years)``: the largest public estimate of each conditioned world, log10 FLOP.
    lab_compute, disclosed
        ``(worlds, lab, simulated year)``: each lab-year's log10 compute and its probability
        of a public estimate by the resolution date; simulated years ``base_year ..``.
    estimate_sd
        ``(worlds,)``: each world's estimate error (dex).
    floor
        The largest run known at the cutoff (log10 FLOP): the published frontier of a world
        in which no simulated run is public (in the draws and the CDF alike).
    pareto_k, ess
        Of the importance weights (:mod:`forecast.conditioning`).
    """

    cutoff: int
    base_year: int
    years: np.ndarray
    draws: np.ndarray = field(repr=False)
    lab_compute: np.ndarray = field(repr=False)
    disclosed: np.ndarray = field(repr=False)
    estimate_sd: np.ndarray = field(repr=False)
    priors: PriorSet = field(repr=False)
    floor: float = -np.inf
    pareto_k: float = float("nan")
    ess: float = float("nan")
    resolved: dt.date | None = None

    def _runs_by(self, year: int):
        """The lab-years finished by the end of ``year``, flattened: ``(worlds, runs)``."""
        return _through(self.lab_compute, year, self.base_year), _through(self.disclosed, year, self.base_year)

    def cdf_density(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The forecast's CDF and density at ``x`` (one log10 FLOP value per year forecast):
        the mean over the conditioned worlds of :func:`models.evidence.published_max_cdf`."""
        x = np.broadcast_to(np.asarray(x, dtype=float), self.years.shape)
        cdf, density = np.empty(len(x)), np.empty(len(x))
        for i, (year, value) in enumerate(zip(self.years, x)):
            compute, disclosed = self._runs_by(year)
            f, d = published_max_cdf(compute, disclosed, self.estimate_sd, np.full(len(compute), value), self.floor)
            cdf[i], density[i] = float(np.mean(f)), float(np.mean(d))
        return cdf, density


def _through(by_lab_year: np.ndarray, year: int, base_year: int) -> np.ndarray:
    """``(world, lab, year)`` values of the years from ``base_year`` to ``year``, flattened
    to ``(world, run)``."""
    return by_lab_year[:, :, : int(year) - base_year + 1].reshape(by_lab_year.shape[0], -1)


def _chunk_outputs(index, start, out):
    return out


def hindcast(
    known: pd.DataFrame,
    cutoff: int,
    *,
    last_year: int,
    resolved: dt.date,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> Hindcast:
    """Run the hindcast of ``cutoff``: draw, condition on ``known``, read the published frontier.

    Parameters
    ----------
    known
        The record as it was known at the cutoff
        (:func:`forecast.evaluation.backtest.known_at_cutoff`); nothing later may be in it.
    cutoff
        A year with a hindcast prior file (:func:`hindcast_cutoffs`).
    last_year
        Last year forecast.
    resolved
        The date the forecasts are scored on: when the current record was checked
        (:func:`forecast.record.runs.record_checked_date`).
    samples, seed
        Worlds drawn and the seed of the draw, the resampling and the published draws.
    """
    cutoff, last_year = int(cutoff), int(last_year)
    if last_year < cutoff:
        raise ValueError(f"hindcast {cutoff}: last_year {last_year} is before the cutoff")
    priors = load_hindcast(cutoff)
    base_year = base_year_of(cutoff)
    sim_years = list(range(base_year, last_year + 1))
    chunks = map_chunks(priors, _chunk_outputs, years=sim_years, samples=samples, seed=seed,
                        base_year=base_year, wanted=LIKELIHOOD_SITES)
    out = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}
    labs = priors.labs.names
    keep, info = condition(out, labs, sim_years, known, as_of=as_of_of(cutoff), seed=seed)
    if not info.reliable:
        warnings.warn(f"hindcast {cutoff}: importance weights too uneven (Pareto k {info.pareto_k:.2f} > "
                      f"{K_HAT_LIMIT}); draw more worlds", ConditioningWarning, stacklevel=2)
    w = world_arrays({name: value[keep] for name, value in out.items()}, labs)
    lab_compute = np.asarray(w.lab_compute, dtype=float)
    disclosed = disclosed_by(np.asarray(w.probability)[..., None], np.asarray(w.delay)[..., None],
                             np.asarray(sim_years, dtype=float), day_end(resolved))
    estimate_sd = np.asarray(w.estimate_sd, dtype=float)
    # a world's value where no run is public: the largest run known at the cutoff
    floor = float(known["log10_compute"].max()) if len(known) else -np.inf
    rng = np.random.default_rng([seed, cutoff])
    uniform = rng.uniform(size=lab_compute.shape)
    normal = rng.standard_normal(size=lab_compute.shape)
    years = np.arange(cutoff, last_year + 1)
    draws = np.empty((lab_compute.shape[0], len(years)))
    for i, year in enumerate(years):
        draws[:, i] = published_max_draws(*(_through(a, year, base_year) for a in (lab_compute, disclosed)),
                                          estimate_sd,
                                          *(_through(a, year, base_year) for a in (uniform, normal)), floor)
    return Hindcast(cutoff=cutoff, base_year=base_year, years=years, draws=draws, lab_compute=lab_compute,
                    disclosed=disclosed, estimate_sd=estimate_sd, priors=priors, floor=floor, pareto_k=info.pareto_k,
                    ess=info.ess, resolved=resolved)
