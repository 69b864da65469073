"""Condition a forecast on the record as published by a date, with Pareto-smoothed
importance weights, and check the model against what happened (MODEL.md v3, "What gets
published").

**What is observed.** The record as it was public on the as-of date ``d``
(:func:`forecast.record.frontier.record_as_known`), read by lab and year
(:func:`evidence_of`). Every modelled lab and every forecast year up to ``d``'s is an
observed *lab-year*:

- its largest run has a public row, with probability ``P_k(d)``
  (:func:`models.evidence.disclosed_by`: disclosure probability, exponential delay, the
  finish time uniform in the year and integrated out), and the row is a noisy estimate:
  ``log P_k(d) + log N(log10 e; log10 C_k(y), s)``;
- or it has none: ``log(1 - P_k(d))``.

Which row is the estimate of a lab-year's largest run: rows marked
``largest_of_lab_year = yes`` first, else ``unknown`` (the record lists each lab's largest
run with a public estimate: judgement, such a row is taken to be the largest), the largest
value among them. Rows marked ``no``, and other ``unknown`` rows of the same lab-year, bound
the lab's run from below (``log Phi((log10 C_k(y) - log10 e) / s)``), as do the rows of
organizations outside the prior set's labs for the frontier ``C(y)`` (the run names those in
a note). No other run bounds anything: the modelled labs' other runs are modelled.

**Derived estimates.** Rows with the same derivation root
(:func:`forecast.record.lab_years.derivation_roots`: Grok 4's estimate is Grok 3's
pre-training plus RL) are one independent estimate: the run keeps one per root, the one that
says most about its lab-year (marked ``yes``, else ``unknown``, else ``no``; among those the
most recently published), and drops the others (named in the model check).

**The error of a row.** ``s`` is the row's stated 90% interval where it has one
(:func:`forecast.record.lab_years.interval_sd`), else its Epoch AI label
(:func:`forecast.record.lab_years.measurement_sd`), and for a row with neither the world's
draw of ``estimate_sd_dex`` (which is also the error of estimates not yet published, in the
published probability of :mod:`forecast.record.questions`).

**The weights.** Each world's weight is its likelihood (:func:`models.evidence.log_likelihood`,
the same function ``forecast calibrate`` samples). The log weights are Pareto-smoothed
(PSIS, Vehtari et al. 2024: :func:`smooth_tail`, with the generalized-Pareto fit of Zhang
and Stephens 2009 in :func:`gpd_fit`, number for number what :func:`arviz.psislw` does),
which also estimates the shape ``k`` of their tail. ``k > 0.7`` means the weights are dominated by a few worlds and the conditioned
numbers cannot be trusted: draw more worlds, or calibrate with NUTS (``forecast calibrate``).
The effective sample size is ``1 / sum(w^2)``.

**The conditioned worlds.** :func:`forecast.run` streams: every summary is a weighted count
over all the worlds (:mod:`forecast.stream`), and the worlds it keeps are resampled in
proportion to their smoothed weights (systematic resampling, seeded). Pareto smoothing only
ever looks at the largest ``tail_length(n)`` weights and the one below them; a run keeps
those, chunk by chunk, with their outputs, weighs and tallies every other world as it goes,
then smooths them (:func:`smooth_tail`, the one PSIS kernel of every weighted path) and
tallies them with their smoothed weights: one pass, holding one log weight per world (for
the resampling) beside the candidates. :func:`condition` is the same in memory, for worlds already drawn.

**The model check.** Before conditioning, where does each observed row fall in the prior
forecast? For a row, the prior predictive probability that an estimate of its run falls
below it (its percentile, 0-100); for a lab-year without a row, the prior probability that
it has none by ``d``. A row beyond the 1st or 99th percentile, or a lab-year whose missing
row had a prior probability under 1%, means the model is surprised by what happened.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp, ndtr

from forecast.record.lab_years import LAB_ALIASES, derivation_roots, finish_years, labs_of, measurement_sd
from forecast.record.runs import decimal_year
from forecast.stream import chunk_dims
from models.evidence import (
    TARGET,
    Evidence,
    record_log_likelihood,
    record_terms,
    row_sd,
    summed_terms,
    world_arrays,
)
from priors import InputError

__all__ = [
    "K_HAT_LIMIT", "Conditioning", "ConditioningWarning", "chunk_log_likelihood", "day_end",
    "condition", "evidence_of", "likelihood_and_check", "record_as_of", "record_weights",
    "resampling_points", "smooth_tail", "smoothed_log_weights", "systematic_picks", "tail_length",
    "gpd_fit", "gpd_quantile",
]

#: Pareto k above which importance weights are unreliable (Vehtari et al. 2024).
K_HAT_LIMIT = 0.7
#: The model check's limits: percentiles (and prior probabilities of "no row") beyond them surprise.
SURPRISE = (1.0, 99.0)



class ConditioningWarning(UserWarning):
    """Importance weights too uneven to trust (Pareto k above the limit)."""


@dataclass(frozen=True)
class Conditioning:
    """What conditioning on the record did.

    Attributes
    ----------
    observed
        One row per observation (:func:`evidence_of`): ``lab``, ``year``, ``model``,
        ``kind`` (``estimate``, ``bound``, ``frontier bound``, ``none``), ``log10_compute``,
        ``sd`` (NaN: the world's ``estimate_sd_dex``), and ``percentile`` (where the row falls
        in the prior predictive, 0-100; for ``none``, 100 x the prior probability of no row).
    log_weights
        Pareto-smoothed, normalized log weights of the worlds (None for a streamed run).
    pareto_k, ess
        Shape estimate of the weights' tail (above :data:`K_HAT_LIMIT`, unreliable) and the
        effective sample size.
    as_of
        The as-of date.
    notes
        What the reading of the record dropped or treated specially, in words.
    """

    observed: pd.DataFrame
    log_weights: np.ndarray | None
    pareto_k: float
    ess: float
    as_of: dt.date
    notes: tuple[str, ...] = ()

    @property
    def reliable(self) -> bool:
        return self.pareto_k <= K_HAT_LIMIT

    @property
    def surprises(self) -> list[int]:
        """Positions in ``observed`` of the rows that surprise the model."""
        return surprising(self.observed)


def surprising(observed: pd.DataFrame) -> list[int]:
    """Positions of the observations beyond the model check's limits."""
    pct = observed["percentile"].to_numpy(dtype=float)
    none = (observed["kind"] == "none").to_numpy()
    low, high = SURPRISE
    flagged = np.where(none, pct < low, (pct < low) | (pct > high))
    return [int(i) for i in np.flatnonzero(flagged)]


def record_as_of(record: pd.DataFrame | None, as_of) -> tuple[pd.DataFrame, dt.date]:
    """The record as known on the as-of date (the shipped record when ``record`` is None),
    and the date: ``as_of`` a :class:`datetime.date`, or ``"record"`` for the record's
    checked date (:func:`forecast.record.runs.record_checked_date`)."""
    from forecast.record.frontier import record_as_known
    from forecast.record.runs import load_runs, record_checked_date

    runs = load_runs() if record is None else record
    date = record_checked_date(runs) if as_of == "record" else as_of
    if isinstance(date, int):
        date = dt.date(int(date), 12, 31)
    return record_as_known(runs, date), date


def _row_sd(row) -> float:
    """The sd of a row: its stated interval, else its Epoch label, else NaN (the world's
    ``estimate_sd_dex``)."""
    from forecast.record.lab_years import interval_sd

    low, high = row.get("flop_low_90", np.nan), row.get("flop_high_90", np.nan)
    if pd.notna(low) and pd.notna(high):
        return interval_sd(low, high)
    label = str(row.get("epoch_confidence", "") or "").strip()
    return measurement_sd(label) if label else float("nan")


@functools.lru_cache(maxsize=256)
def day_end(date) -> float:
    """The end of day ``date`` as a decimal year (2025-12-31 ends at 2026.0): the record as
    published by a date includes that day. Remembered: a run asks it of each question's
    date for every chunk (through pandas, about 6 ms a date)."""
    return float(decimal_year([pd.Timestamp(date) + pd.Timedelta(days=1)])[0])


_RANK = {"yes": 0, "unknown": 1, "no": 2}


def evidence_of(runs: pd.DataFrame, labs, years, as_of: dt.date) -> tuple[Evidence, pd.DataFrame, tuple[str, ...]]:
    """The record as known on ``as_of`` (``runs``: already :func:`record_as_known`), read by
    lab and year for worlds of ``labs`` and forecast ``years``.

    Returns the :class:`~models.evidence.Evidence`, a table of the observations (one row
    each, in the evidence's order: estimates, bounds, frontier bounds, lab-years without a
    row) and notes in words.
    """
    labs, years = tuple(labs), [int(y) for y in years]
    as_of_year = day_end(as_of)
    observed_years = [y for y in years if y <= pd.Timestamp(as_of).year]
    notes = []
    frame = runs.reset_index(drop=True).copy()
    frame["_lab"] = labs_of(frame, labs).to_numpy() if len(frame) else []
    frame["_year"] = finish_years(frame).to_numpy() if len(frame) else []
    frame["_root"] = derivation_roots(frame).to_numpy() if len(frame) else []
    largest = frame["largest_of_lab_year"] if "largest_of_lab_year" in frame.columns else pd.Series("unknown", index=frame.index)
    frame["_rank"] = [_RANK.get(str(v or "unknown").strip().lower() or "unknown", 1) for v in largest.fillna("unknown")]
    published = frame["published"] if "published" in frame.columns else frame["date"]
    frame["_published"] = pd.to_datetime(published).fillna(pd.to_datetime(frame["date"]))
    frame = frame[frame["_year"].isin(observed_years)]
    # one row per derivation root: marked yes, else unknown, else no; then the latest
    kept = frame.sort_values(["_rank", "_published"], ascending=[True, False], kind="stable").drop_duplicates("_root")
    for _, row in frame[~frame.index.isin(kept.index)].iterrows():
        notes.append(f"{row['model']}: derived from the same estimate as {kept.loc[kept['_root'] == row['_root'], 'model'].iloc[0]}; "
                     "counted once")
    kept = kept.sort_index()
    table = []
    cells = {}
    # a lab the record cannot name (the one lab of a v2 file, --labs N's lab1..) is not
    # observed: no row can be its, so "no row" says nothing about it
    nameable = set(LAB_ALIASES.values()) | {str(v) for v in frame.get("lab", pd.Series(dtype=object)).dropna()}
    for k, lab in enumerate(labs):
        if lab not in nameable:
            notes.append(f"lab {lab}: the record names no runs of it, so it is observed only through the "
                         "frontier's lower bounds")
            continue
        for y in observed_years:
            rows = kept[(kept["_lab"] == lab) & (kept["_year"] == y)]
            candidates = rows[rows["_rank"] < 2]
            holder = None
            if len(candidates):
                holder = candidates.sort_values(["_rank", "log10_compute"], ascending=[True, False], kind="stable").index[0]
            cells[(k, y)] = holder is not None
            for index, row in rows.iterrows():
                kind = "estimate" if index == holder else "bound"
                table.append({"lab": lab, "year": y, "model": row["model"], "kind": kind,
                              "log10_compute": float(row["log10_compute"]), "sd": _row_sd(row), "_k": k})
    for _, row in kept[kept["_lab"].isna()].iterrows():
        notes.append(f"{row['model']} ({row['organization']}, {10 ** row['log10_compute']:.1e} FLOP in "
                     f"{row['_year']}): not a run of the labs {', '.join(labs)}; it bounds the frontier from below")
        table.append({"lab": "", "year": int(row["_year"]), "model": row["model"], "kind": "frontier bound",
                      "log10_compute": float(row["log10_compute"]), "sd": _row_sd(row), "_k": -1})
    for (k, y), public in cells.items():
        if not public:
            table.append({"lab": labs[k], "year": y, "model": "", "kind": "none", "log10_compute": np.nan,
                          "sd": np.nan, "_k": k})
    order = {"estimate": 0, "bound": 1, "frontier bound": 2, "none": 3}
    observed = pd.DataFrame(table, columns=["lab", "year", "model", "kind", "log10_compute", "sd", "_k"])
    observed = observed.sort_values("kind", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    year_index = {y: i for i, y in enumerate(years)}

    def part(kind):
        sub = observed[observed["kind"] == kind]
        return (sub["_k"].to_numpy(dtype=int), np.array([year_index[y] for y in sub["year"]], dtype=int),
                sub["log10_compute"].to_numpy(dtype=float), sub["sd"].to_numpy(dtype=float))

    e_lab, e_year, e_value, e_sd = part("estimate")
    b_lab, b_year, b_value, b_sd = part("bound")
    _, f_year, f_value, f_sd = part("frontier bound")
    cell_keys = list(cells)
    evidence = Evidence(
        as_of=as_of_year,
        cell_lab=np.array([k for k, _ in cell_keys], dtype=int),
        cell_year=np.array([year_index[y] for _, y in cell_keys], dtype=int),
        cell_finish=np.array([float(y) for _, y in cell_keys]),
        cell_public=np.array([cells[c] for c in cell_keys], dtype=bool),
        estimate_lab=e_lab, estimate_year=e_year, estimate_value=e_value, estimate_sd=e_sd,
        bound_lab=b_lab, bound_year=b_year, bound_value=b_value, bound_sd=b_sd,
        frontier_year=f_year, frontier_value=f_value, frontier_sd=f_sd,
    )
    return evidence, observed.drop(columns="_k"), tuple(notes)


def chunk_log_likelihood(out, labs, evidence: Evidence) -> np.ndarray:
    """Log likelihood of the record (:func:`models.evidence.record_log_likelihood`) of each
    world of a chunk's outputs."""
    return np.asarray(record_log_likelihood(out, labs, evidence), dtype=float)


def likelihood_and_check(out, labs, evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """:func:`chunk_log_likelihood` of a chunk's worlds (the same numbers), and the model
    check's sums over them: per observation (in :func:`evidence_of`'s order), the sum over
    the worlds of the prior predictive probability of an estimate below the row (for a
    lab-year without a row: of having none by the as-of date).

    One evaluation of the record's pieces serves both (:func:`models.evidence.record_terms`):
    the probability that a lab-year is public, and below a lower bound's row ``e`` the share
    ``Phi((e - C) / s) = -expm1(log Phi((C - e) / s))`` from the bound's own log likelihood,
    where ``ndtr`` would cost 10-20 ns a value again (about 0.1 s per million worlds of one
    lab: seven bound rows each)."""
    w = world_arrays(out, labs)
    ev = evidence
    terms = record_terms(w.lab_compute, w.frontier, w.probability, w.delay, w.estimate_sd, ev)
    loglik = np.asarray(summed_terms(terms, ev, np.zeros(w.frontier.shape[:-1])), dtype=float)
    sd = row_sd(np, ev.estimate_sd, w.estimate_sd)
    estimates = ndtr((ev.estimate_value - w.lab_compute[:, ev.estimate_lab, ev.estimate_year]) / sd).sum(axis=0)
    below = [-np.expm1(terms[kind]).sum(axis=0) if kind in terms else np.zeros(0) for kind in ("bound", "frontier")]
    hidden = 1.0 - terms["public"][:, ~ev.cell_public] if "public" in terms else np.zeros((1, 0))
    return loglik, np.concatenate([estimates, *below, hidden.sum(axis=0)])


def tail_length(n: int) -> int:
    """Worlds in the Pareto-smoothed tail of ``n`` importance weights (as :func:`arviz.psislw`,
    relative efficiency 1): ``ceil(min(n / 5, 3 sqrt(n)))``."""
    return int(np.ceil(min(n / 5.0, 3 * np.sqrt(n))))


def gpd_fit(exceedances: np.ndarray) -> tuple[float, float]:
    """Shape ``k`` and scale ``sigma`` of a generalized Pareto distribution fitted to
    ``exceedances`` (sorted ascending, positive): the empirical Bayes estimate of Zhang and
    Stephens (2009, "A new and efficient estimation method for the generalized Pareto
    distribution", Technometrics 51: 316-325), with the weakly informative prior on ``k``
    of Vehtari et al. (2024, "Pareto smoothed importance sampling", JMLR 25(72), appendix
    C), as :func:`arviz.psislw` fits it.

    Zhang and Stephens write the GPD with ``b = -k / sigma`` and average the profile
    likelihood's ``b`` over a grid of ``m = 30 + sqrt(n)`` points, each weighted by its
    likelihood; ``k`` is then ``mean(log(1 - b x))`` at the averaged ``b``, shrunk towards
    0.5 by a prior worth 10 observations. In this parametrization ``k > 0`` is a heavy tail.
    """
    x = np.asarray(exceedances, dtype=float)
    n = x.size
    m = 30 + int(n**0.5)
    # the grid of b: quantiles of a prior over b centred on the first quartile's scale
    b = 1 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    b /= 3 * x[int(n / 4 + 0.5) - 1]
    b += 1 / x[-1]
    k = np.log1p(-b[:, None] * x).mean(axis=1)
    profile = n * (np.log(-(b / k)) - k - 1)  # the profile log likelihood of each b
    with np.errstate(over="ignore"):  # exp(+large): a weight of 0, as it should be
        weights = 1 / np.exp(profile - profile[:, None]).sum(axis=1)
    keep = weights >= 10 * np.finfo(float).eps  # negligible weights dropped
    weights, b = weights[keep], b[keep]
    weights /= weights.sum()
    b_post = np.sum(b * weights)
    k_post = np.log1p(-b_post * x).mean()
    sigma = -k_post / b_post
    return float((n * k_post + 10 * 0.5) / (n + 10)), float(sigma)


def gpd_quantile(probs: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Quantiles of the generalized Pareto distribution (shape ``k``, scale ``sigma``) at
    ``probs`` in (0, 1): ``sigma ((1 - p)^-k - 1) / k`` (``-sigma log(1 - p)`` at ``k = 0``);
    NaN for a scale that is not positive."""
    probs = np.asarray(probs, dtype=float)
    if not sigma > 0:
        return np.full_like(probs, np.nan)
    if abs(k) < np.finfo(float).eps:
        return -np.log1p(-probs) * sigma
    return np.expm1(-k * np.log1p(-probs)) / k * sigma  # this order: ArviZ's floats


def smooth_tail(top: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smooth the largest log weights of a run (PSIS, Vehtari et al. 2024).

    ``top``: the ``tail_length(n) + 1`` largest log weights of all ``n`` worlds, in any
    order. Returns them smoothed (same order) and the Pareto shape ``k``. The smallest of
    them is the cutoff and stays as it is; the weights above it, less the cutoff's weight,
    are fitted by a generalized Pareto distribution (:func:`gpd_fit`) and replaced by its
    quantiles at ``(i - 1/2) / M`` in their order, capped at the largest raw weight. With
    4 weights or fewer above the cutoff ``k`` is infinite and nothing is smoothed. This is
    what :func:`arviz.psislw` does to the same worlds, which only ever looks at the tail
    above its cutoff (a test checks the two agree), so a run needs to keep only its
    largest weights, never all of them. Every weighted path (the streamed run in
    :mod:`forecast.result`, :func:`condition`, :func:`record_weights`) smooths here.
    """
    top = np.asarray(top, dtype=float)
    if not np.isfinite(top).any():  # every weight zero: normalizing them gives NaN everywhere
        raise InputError(
            "as_of: no world of these priors can have produced the record (its likelihood is 0 "
            "in every world: do the priors allow runs as large as the known ones, and a "
            "disclosure probability above 0 for every lab with a public estimate?); change the "
            "priors, or use --as-of none for the prior forecast")
    largest = np.max(top)
    x = top - largest
    cutoff = max(np.min(x), np.log(np.finfo(float).tiny))
    (tail,) = np.nonzero(x > cutoff)
    if tail.size <= 4:  # too few weights to fit a tail
        return x + largest, float("inf")
    tail = tail[np.argsort(x[tail])]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # the fit's grid: harmless
        k, sigma = gpd_fit(np.exp(x[tail]) - np.exp(cutoff))
        if np.isfinite(k):  # a failed fit smooths nothing
            quantiles = gpd_quantile(np.arange(0.5, tail.size) / tail.size, k, sigma)
            x[tail] = np.log(quantiles + np.exp(cutoff))
            x[x > 0] = 0  # no smoothed weight above the largest raw one
    return x + largest, k


def systematic_picks(weights: np.ndarray, offset: float, points: np.ndarray) -> np.ndarray:
    """Indices into ``weights`` of the ``points`` (sorted, in ``[offset, offset + sum)``) on
    the cumulative weights that start at ``offset``: systematic resampling, a chunk at a time."""
    cumulative = offset + np.cumsum(weights)
    return np.minimum(np.searchsorted(cumulative, points, side="right"), weights.size - 1)


def smoothed_log_weights(loglik: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalized log weights of worlds with log likelihoods ``loglik``
    (as :func:`arviz.psislw`), and the Pareto shape ``k``."""
    smoothed = np.asarray(loglik, dtype=float).copy()
    top = np.argsort(smoothed)[-(tail_length(smoothed.size) + 1):]
    smoothed[top], k_hat = smooth_tail(smoothed[top])
    return smoothed - logsumexp(smoothed), k_hat


def condition(out, labs, years, runs: pd.DataFrame, *, as_of: dt.date, seed: int) -> tuple[np.ndarray, Conditioning]:
    """Importance weights of worlds already drawn (``out``: name -> array, as a chunk's
    outputs) given the record as known on ``as_of``, and the resampled world indices.

    The in-memory form of what :func:`forecast.run` does a chunk at a time.
    """
    from forecast.record.frontier import record_as_known

    known = record_as_known(runs, as_of)
    evidence, observed, notes = evidence_of(known, labs, years, as_of)
    n = np.shape(out[TARGET])[chunk_dims(TARGET).index("sample")]
    loglik, check = likelihood_and_check(out, labs, evidence)
    observed = observed.assign(percentile=100 * check / n)
    log_weights, k_hat = smoothed_log_weights(loglik)
    weights = np.exp(log_weights)
    keep = systematic_picks(weights, 0.0, resampling_points(n, seed))
    info = Conditioning(observed=observed, log_weights=log_weights, pareto_k=k_hat,
                        ess=float(1.0 / np.sum(weights**2)), as_of=as_of, notes=notes)
    return keep, info


def record_weights(log10_compute: xr.DataArray, runs: pd.DataFrame, as_of) -> tuple[xr.DataArray, xr.DataArray]:
    """Importance weights given the record for sets of worlds of the frontier only (the
    tornado and the swaps, which keep no lab outputs).

    ``log10_compute``: the frontier, dims ``sample`` and ``year`` (with its coordinate) and
    any others (``run``: one set of worlds each), by name. With no lab outputs the record is
    read for one lab, the frontier, every row of it a lower bound on the frontier (the
    estimates' information about each lab's run, and disclosure, need the lab outputs:
    approximate). Returns the normalized, Pareto-smoothed weights (dims of
    ``log10_compute`` less ``year``, summing to 1 over ``sample``) and each set's ``k``
    (its dims less ``sample`` and ``year``).
    """
    from dataclasses import replace

    known, date = record_as_of(runs, as_of)
    evidence, _, _ = evidence_of(known, ("__frontier__",), log10_compute["year"].values, date)
    no_cells = np.zeros(0, dtype=int)
    evidence = replace(evidence, cell_lab=no_cells, cell_year=no_cells, cell_finish=np.zeros(0),
                       cell_public=np.zeros(0, dtype=bool))

    def weigh(worlds):  # (sample, year)
        log_weights, k = smoothed_log_weights(chunk_log_likelihood({TARGET: worlds}, ("__frontier__",), evidence))
        return np.exp(log_weights), k

    weights, ks = xr.apply_ufunc(weigh, log10_compute.astype(float), input_core_dims=[["sample", "year"]],
                                 output_core_dims=[["sample"], []], vectorize=True)
    return weights, ks


def resampling_points(n: int, seed: int) -> np.ndarray:
    """The ``n`` evenly spaced points of systematic resampling, one seeded uniform offset."""
    return (np.random.default_rng(seed).uniform() + np.arange(n)) / n
