"""Condition a forecast on the record of runs already known, with Pareto-smoothed importance
weights, and check the model against what happened.

**What is observed.** For each forecast year ``y`` up to ``as_of``, the largest run known by
the end of ``y`` (:func:`forecast.history.record.yearly_frontier`), in log10 FLOP: ``r_y``.
The model's counterpart is the largest run of a world up to ``y``, its running maximum
``m_y`` (the quantity the timeline counts).

**The likelihood.** The record is an estimate, and a lower bound: a larger run may be
unpublished. So ``r_y`` given ``m_y`` is a mixture:

- with probability ``PUBLIC`` (0.8), the largest run is public, and ``r_y = m_y + e`` with
  ``e ~ N(0, sd)``, where ``sd`` is the estimate's measurement error: Epoch AI's
  confidence label read as a 90% interval (:func:`forecast.history.record.measurement_sd`:
  Confident 0.29, Likely 0.61, Speculative 0.91 in log10 FLOP);
- otherwise the largest run is hidden, and the public record lies anywhere from ``HIDDEN_GAP``
  (1 order of magnitude) below it up to it, uniformly in log10, plus the same error:
  density ``[Phi((m - r) / sd) - Phi((m - HIDDEN_GAP - r) / sd)] / HIDDEN_GAP``.

Both parts are proper densities in ``r``. A world whose frontier is above the record is
penalized only mildly (the run could be hidden); a world below it, sharply (the record
shows a run it does not have).

**The other runs of a year.** Every other run known in year ``y`` (GPT-4.5 and Grok 3 beside
Grok 4 in 2025) is also at most the frontier: its true compute ``c_j <= m_y``. With its
estimate ``r_j ~ N(c_j, sd_j)`` and no other knowledge of ``c_j`` below ``m_y``, that is a
factor ``Phi((m_y - r_j) / sd_j)``: several independent estimates above a level make a
frontier below it unlikely, where the largest estimate alone would not. Runs and years
multiply (errors independent).

**The weights.** Each world's weight is its likelihood. The log weights are
Pareto-smoothed (:func:`arviz.psislw`, Vehtari et al. 2024), which also estimates the
shape ``k`` of their tail. ``k > 0.7`` means the weights are dominated by a few worlds and
the conditioned numbers cannot be trusted: draw more worlds, or calibrate with NUTS
(``forecast calibrate``). The effective sample size is ``1 / sum(w^2)``.

**The conditioned worlds.** :func:`forecast.run` streams: every summary is a weighted count
over all the worlds (:mod:`forecast.stream`), and the worlds it keeps are resampled in
proportion to their smoothed weights (systematic resampling, seeded), so that a
:class:`~forecast.result.ForecastResult`'s samples are conditioned worlds like any others.
Pareto smoothing only ever looks at the largest ``tail_length(n)`` weights and the one below
them (the cutoff); a run keeps those, chunk by chunk, smooths them as :func:`arviz.psislw`
would (:func:`smooth_tail`), and weighs every world on a second pass over the same chunks.
Systematic resampling adds the least extra variance; the effective sample size, not the
number of worlds, says how precise the conditioned numbers are. :func:`condition` is the
same in memory, for worlds already drawn.

**The model check.** Before conditioning, where does each observed year's record fall in
the forecast? A record below the 1st or above the 99th percentile of the unconditioned
forecast of that year means the model is surprised by what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import log_ndtr, logsumexp

from forecast.history.record import measurement_sds, yearly_frontier
from forecast.timeline import running_max
from priors import InputError

__all__ = [
    "HIDDEN_GAP", "K_HAT_LIMIT", "PUBLIC", "Conditioning", "ConditioningWarning", "chunk_log_likelihood",
    "condition", "log_likelihood", "lower_bounds", "observations", "record_as_of",
    "record_percentiles", "record_weights", "resampling_points", "smooth_tail", "smoothed_log_weights", "systematic_picks", "tail_length",
]

#: Probability that the largest run of a year is public (judgement: every record holder
#: of 2016-2025 was announced within months, but labs now withhold details).
PUBLIC = 0.8
#: How far below a hidden largest run the public record can lie, in orders of magnitude.
HIDDEN_GAP = 1.0
#: Pareto k above which importance weights are unreliable (Vehtari et al. 2024).
K_HAT_LIMIT = 0.7


class ConditioningWarning(UserWarning):
    """Importance weights too uneven to trust (Pareto k above the limit)."""


@dataclass(frozen=True)
class Conditioning:
    """What conditioning on the record did.

    Attributes
    ----------
    observed
        One row per observed year: ``log10_compute`` (the record), ``sd``, ``model``, and
        ``percentile`` (where the record falls in the unconditioned forecast, 0-100).
    log_weights
        Pareto-smoothed, normalized log weights of the worlds, dim ``sample`` (None for a
        streamed run, which never holds them all).
    pareto_k
        Shape estimate of the weights' tail; above :data:`K_HAT_LIMIT`, unreliable.
    ess
        Effective sample size of the weights.
    as_of
        Last year observed.
    """

    observed: pd.DataFrame
    log_weights: xr.DataArray | None
    pareto_k: float
    ess: float
    as_of: int

    @property
    def reliable(self) -> bool:
        return self.pareto_k <= K_HAT_LIMIT

    @property
    def surprises(self) -> list[int]:
        """Observed years whose record is beyond the 1st or 99th percentile of the forecast."""
        pct = self.observed["percentile"]
        return [int(y) for y in self.observed.index[(pct < 1) | (pct > 99)]]


def observations(runs: pd.DataFrame, years, as_of: int) -> pd.DataFrame:
    """The record's largest known run at the end of each forecast year up to ``as_of``.

    Returns a frame indexed by ``year`` with ``log10_compute``, ``model`` and ``sd``.
    """
    first_record = int(pd.to_datetime(runs["date"]).dt.year.min())
    years = [int(y) for y in np.asarray(years) if first_record <= int(y) <= int(as_of)]
    last_record = int(pd.to_datetime(runs["date"]).dt.year.max())
    if int(as_of) > last_record:
        raise InputError(f"as_of: the record ends in {last_record}; --as-of {as_of} is later")
    if not years:
        return pd.DataFrame(columns=["log10_compute", "model", "sd"]).rename_axis("year")
    frontier = yearly_frontier(runs, first_year=min(years), last_year=max(years)).loc[years]
    sd_of = dict(zip(runs["model"], measurement_sds(runs)))
    frontier["sd"] = [sd_of[m] for m in frontier["model"]]
    return frontier[["log10_compute", "model", "sd"]]


def lower_bounds(runs: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """The runs of the observed years other than each year's record holder: ``year``,
    ``log10_compute``, ``sd`` and ``model``, one row per run."""
    if observed.empty:
        return pd.DataFrame(columns=["year", "log10_compute", "sd", "model"])
    year = pd.to_datetime(runs["date"]).dt.year
    mask = year.isin(observed.index) & ~runs["model"].isin(observed["model"])
    return pd.DataFrame({"year": year[mask].to_numpy(), "log10_compute": runs.loc[mask, "log10_compute"],
                         "sd": measurement_sds(runs)[mask.to_numpy()], "model": runs.loc[mask, "model"]})


def log_likelihood(log10_compute: xr.DataArray, observed: pd.DataFrame, *,
                   bounds: pd.DataFrame | None = None, public: float = PUBLIC,
                   hidden_gap: float = HIDDEN_GAP) -> xr.DataArray:
    """Log likelihood of the record in each world (dim ``sample``): the record holders'
    mixture and the other runs' bounds (see the module docstring), summed over the observed
    years. ``public = 1`` makes the record a plain noisy measurement of the frontier."""
    if observed.empty:
        return xr.zeros_like(log10_compute.isel(year=0, drop=True))
    frontier = running_max(log10_compute).sel(year=observed.index.to_numpy())
    bound = xr.zeros_like(frontier.isel(year=0, drop=True))
    for _, run in (bounds if bounds is not None else pd.DataFrame()).iterrows():
        bound = bound + log_ndtr((frontier.sel(year=run["year"]) - run["log10_compute"]) / run["sd"])
    record = xr.DataArray(observed["log10_compute"].to_numpy(dtype=float), dims="year",
                          coords={"year": observed.index.to_numpy()})
    sd = xr.DataArray(observed["sd"].to_numpy(dtype=float), dims="year", coords=record.coords)
    gap = (frontier - record) / sd
    measured = np.log(public) - 0.5 * gap**2 - np.log(sd * np.sqrt(2 * np.pi))
    if public >= 1.0:
        return measured.sum("year") + bound
    # log(Phi(a) - Phi(b)) for a > b, as log Phi(a) + log1p(-exp(log Phi(b) - log Phi(a)))
    upper, lower = log_ndtr(gap), log_ndtr(gap - hidden_gap / sd)
    hidden = np.log(1 - public) - np.log(hidden_gap) + upper + np.log1p(-np.exp(lower - upper))
    return xr.apply_ufunc(np.logaddexp, measured, hidden).sum("year") + bound


def record_percentiles(log10_compute: xr.DataArray, observed: pd.DataFrame,
                       weights: xr.DataArray | None = None) -> pd.Series:
    """Where each year's record falls in the (weighted) forecast of the frontier, 0-100."""
    if observed.empty:
        return pd.Series(dtype=float, name="percentile")
    frontier = running_max(log10_compute).sel(year=observed.index.to_numpy())
    below = frontier < xr.DataArray(observed["log10_compute"].to_numpy(dtype=float), dims="year",
                                    coords={"year": observed.index.to_numpy()})
    share = below.mean("sample") if weights is None else (below * weights).sum("sample")
    return pd.Series(100 * share.values, index=observed.index, name="percentile")


def tail_length(n: int) -> int:
    """Worlds in the Pareto-smoothed tail of ``n`` importance weights (as :func:`arviz.psislw`,
    relative efficiency 1): ``ceil(min(n / 5, 3 sqrt(n)))``."""
    return int(np.ceil(min(n / 5.0, 3 * np.sqrt(n))))


def smooth_tail(top: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smooth the largest log weights of a run.

    ``top``: the ``tail_length(n) + 1`` largest log weights of all ``n`` worlds, in any
    order. Returns them smoothed (same order) and the Pareto shape ``k``. The smallest of
    them is the cutoff and stays as it is; this is exactly what :func:`arviz.psislw` does
    to the same worlds, which only ever looks at the tail above its cutoff (a test checks
    the two agree), so a run needs to keep only its largest weights, never all of them.
    """
    from arviz.stats.stats import _psislw

    top = np.asarray(top, dtype=float)
    if not np.isfinite(top).any():  # every weight zero: normalizing them gives NaN everywhere
        raise InputError(
            "as_of: no world of these priors can have produced the record (its likelihood is 0 "
            "in every world: do the priors allow runs as large as the known ones?); change the "
            "priors, or use --as-of none for the prior forecast")
    with np.errstate(over="ignore"):  # psislw's own exp of its length scales; harmless
        smoothed, k = _psislw(top.copy(), 0, np.log(np.finfo(float).tiny), False)
    return smoothed, float(np.asarray(k))


def record_as_of(record: pd.DataFrame | None, as_of) -> tuple[pd.DataFrame, int]:
    """The runs to condition on (the shipped record when ``record`` is None) and the last
    year observed: ``as_of``, or the record's last year for ``"record"``."""
    from forecast.history.record import load_runs

    runs = load_runs() if record is None else record
    return runs, int(runs["date"].dt.year.max()) if as_of == "record" else int(as_of)


def chunk_log_likelihood(target: np.ndarray, years, observed: pd.DataFrame, bounds: pd.DataFrame) -> np.ndarray:
    """:func:`log_likelihood` of a chunk of worlds given as a ``(worlds, years)`` array."""
    log10 = xr.DataArray(np.asarray(target, dtype=float), dims=("sample", "year"),
                         coords={"year": np.asarray(years, dtype=int)})
    return log_likelihood(log10, observed, bounds=bounds, public=PUBLIC, hidden_gap=HIDDEN_GAP).values


def systematic_picks(weights: np.ndarray, offset: float, points: np.ndarray) -> np.ndarray:
    """Indices into ``weights`` of the ``points`` (sorted, in ``[offset, offset + sum)``) on
    the cumulative weights that start at ``offset``: systematic resampling, a chunk at a time."""
    cumulative = offset + np.cumsum(weights)
    return np.minimum(np.searchsorted(cumulative, points, side="right"), weights.size - 1)


def condition(log10_compute: xr.DataArray, runs: pd.DataFrame, *, as_of: int,
              seed: int) -> tuple[np.ndarray, Conditioning]:
    """Importance weights of the worlds given the record, and the resampled world indices.

    The in-memory form of what :func:`forecast.run` does a chunk at a time.

    Returns
    -------
    (numpy.ndarray, Conditioning)
        Indices of the worlds to keep, one per world (systematic resampling in proportion
        to the Pareto-smoothed weights, seeded by ``seed``), and the diagnostics.
    """
    observed = observations(runs, log10_compute["year"].values, as_of)
    observed["percentile"] = record_percentiles(log10_compute, observed)
    loglik = log_likelihood(log10_compute, observed, bounds=lower_bounds(runs, observed),
                            public=PUBLIC, hidden_gap=HIDDEN_GAP).values
    n = loglik.size
    log_weights, k_hat = smoothed_log_weights(loglik)
    weights = np.exp(log_weights)
    ess = float(1.0 / np.sum(weights**2))
    keep = systematic_picks(weights, 0.0, resampling_points(n, seed))
    info = Conditioning(
        observed=observed,
        log_weights=xr.DataArray(log_weights, dims="sample"),
        pareto_k=k_hat,
        ess=ess,
        as_of=int(as_of),
    )
    return keep, info


def smoothed_log_weights(loglik: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalized log weights of worlds with log likelihoods ``loglik``
    (as :func:`arviz.psislw`), and the Pareto shape ``k``."""
    smoothed = np.asarray(loglik, dtype=float).copy()
    top = np.argsort(smoothed)[-(tail_length(smoothed.size) + 1):]
    smoothed[top], k_hat = smooth_tail(smoothed[top])
    return smoothed - logsumexp(smoothed), k_hat


def record_weights(log10_compute: np.ndarray, years, runs: pd.DataFrame, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """Importance weights given the record for several sets of worlds at once.

    ``log10_compute``: ``(sets, worlds, years)``, e.g. the runs of a tornado. Returns the
    normalized, Pareto-smoothed weights ``(sets, worlds)`` (each set's sum to 1) and each
    set's Pareto ``k``.
    """
    observed = observations(runs, years, as_of)
    bounds = lower_bounds(runs, observed)
    weights, ks = [], []
    for worlds in np.asarray(log10_compute, dtype=float):
        log_weights, k = smoothed_log_weights(chunk_log_likelihood(worlds, years, observed, bounds))
        weights.append(np.exp(log_weights))
        ks.append(k)
    return np.stack(weights), np.asarray(ks)


def resampling_points(n: int, seed: int) -> np.ndarray:
    """The ``n`` evenly spaced points of systematic resampling, one seeded uniform offset."""
    return (np.random.default_rng(seed).uniform() + np.arange(n)) / n
