"""Summaries that stream: statistics of the worlds that merge chunk by chunk.

A run of 1e7 worlds never holds its worlds: each chunk is reduced to a *tally*, an
:class:`xarray.Dataset` of sums that add across chunks (``tally_a + tally_b`` is the tally of
both), and every summary of a :class:`~forecast.result.ForecastResult` is read off the
merged tally. Each world has a weight ``w`` (1 for a plain forecast; its importance weight
given the record for a conditioned one), so every count is a weighted count:

- ``n``, ``weight`` (sum of w), ``weight_sq`` (sum of w^2): the effective sample size is
  ``weight^2 / weight_sq``;
- ``reach`` (threshold, year): sum of w over worlds whose largest run so far is at least the
  threshold, and ``reach_sq`` the same with w^2, for the Monte Carlo standard error of a
  weighted proportion, ``sqrt(sum w^2 (I - p)^2) / sum w``;
- ``binding`` (constraint, year): sum of w over worlds bound by each constraint;
- with several labs (:func:`lab_tally`): ``lead`` (lab, year), the worlds whose largest run
  of the year is each lab's; ``labs_at_least`` (count, threshold, year), the worlds where
  ``count`` labs or more (1 .. labs) have had a run of at least the threshold by the year; ``first`` (lab,
  threshold), the worlds where each lab is the first to the threshold (the leading lab of
  the year the frontier first reaches it);
- ``hist`` (quantity, year, bin): weighted histograms in log10 on a fixed grid of
  :data:`HIST_WIDTH` = 0.001 dex from each quantity's ``hist_low`` over :data:`HIST_SPAN`
  orders of magnitude, for quantiles and intervals. A quantile is read off the histogram by
  linear interpolation within its bin, so it is within one bin width (0.001 dex, 0.23% in
  the quantity) of the exact weighted quantile of the same worlds; a highest-density
  interval is the shortest run of bins holding the mass, within a bin width at each end.
  Values outside the grid are counted in its first or last bin (none of the model's
  quantities gets there: FLOP lies in 1e16..1e40).

Why a fixed grid rather than a quantile sketch (t-digest, KLL): it merges by addition in
any order, so the result does not depend on the chunking or the scheduler; its error
bound is absolute and stated; and at 6 quantities x 11 years x 24,000 bins a chunk's
histogram is one ``numpy.bincount`` over the chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from forecast.summaries import best_so_far, reached_kernel
from models import CONSTRAINTS

__all__ = [
    "CELLS", "FRONTIER", "HIST_LOW", "HIST_SPAN", "HIST_WIDTH", "TARGET", "frontier_below", "hist_cells",
    "hist_quantiles", "interval_table_from_tally", "lab_summary", "lab_tally", "reach_from_tally", "shares_from_tally",
    "sum_tallies", "tally_chunk", "CHUNK_DIMS", "chunk_dims", "reweighted", "add_into", "SQUARED_SUMS",
]

#: The quantity every headline number is about.
TARGET = "log10_training_compute"
#: The largest run of a world so far (running maximum of ``TARGET`` over years).
FRONTIER = "frontier"
#: Bin width of the histograms, in orders of magnitude (the stated error bound).
HIST_WIDTH = 0.001
#: Orders of magnitude each histogram spans.
HIST_SPAN = 24
_N_BINS = int(round(HIST_SPAN / HIST_WIDTH))
_BINS_PER_DEX = 1000.0  # 1 / HIST_WIDTH, exactly: a power of ten lands on a bin's lower edge
#: Lower edge of each summarised quantity's grid, in log10 of its unit.
HIST_LOW = {
    TARGET: 16.0,                       # FLOP
    FRONTIER: 16.0,                     # FLOP
    "log10_power_gw": -8.0,             # GW
    "log10_cluster_capex_usd": 2.0,     # USD
    "log10_run_cost_usd": 2.0,          # USD
    "log10_energy_gwh": -6.0,           # GWh
}


#: A chunk's output that holds a quantity's histogram cells (:func:`hist_cells`) instead of its
#: values: ``cells:log10_power_gw``. The engine computes them in the compiled model where
#: they are wanted (:func:`forecast.engine.map_chunks`), and :func:`tally_chunk` counts them.
CELLS = "cells:"
#: The outputs :func:`tally_chunk` reads (with several labs, :func:`lab_tally`'s too): the
#: histograms' cells, not their quantities' values, but for the runs' compute itself.
SUMMARY_SITES = frozenset({TARGET, *(CELLS + q for q in HIST_LOW), "binding_constraint",
                           "log10_lab_training_compute", "leading_lab"})
#: The dims of a chunk's raw outputs, by name (as :func:`forecast.engine.to_dataset` labels
#: them): every axis a tally reduces is looked up here, never assumed from a shape.
CHUNK_DIMS = {"log10_lab_training_compute": ("sample", "lab", "year")}
_PER_YEAR = ("sample", "year")


def chunk_dims(name: str) -> tuple[str, ...]:
    """The dims of a chunk's output ``name``: :data:`CHUNK_DIMS`, else ``sample, year``."""
    return CHUNK_DIMS.get(name, _PER_YEAR)


def _ordered(out: Mapping[str, np.ndarray], name: str, *dims: str) -> np.ndarray:
    """Output ``name`` of a chunk with its axes in the order of ``dims`` (by name)."""
    have = chunk_dims(name)
    return np.moveaxis(np.asarray(out[name]), [have.index(d) for d in dims], range(len(dims)))


def tally_chunk(out: Mapping[str, np.ndarray], *, years: Sequence[int], thresholds: Sequence[float],
                weights: np.ndarray | None = None, quantities: Sequence[str] | None = None) -> xr.Dataset:
    """The tally of one chunk of worlds: ``out`` maps each model output to its array, dims
    by name as :func:`chunk_dims` (years ascending); ``weights`` per world (default 1);
    histograms of ``quantities`` (default: those of :data:`HIST_LOW` that ``out`` has)."""
    target = np.asarray(_ordered(out, TARGET, "sample", "year"), dtype=float)
    n, n_years = target.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    frontier = best_so_far(target, axis=1)  # (sample, year)
    quantities = [q for q in (HIST_LOW if quantities is None else quantities)
                  if q == FRONTIER or q in out or CELLS + q in out]
    # one bincount per quantity over its cells (year * bins + bin), every quantity with the
    # same weights; the cells as the compiled model gave them, where it did (CELLS)
    size = n_years * _N_BINS
    per_cell = None if weights is None else np.repeat(w, n_years)  # w of each (world, year)
    index = np.empty((n, n_years), dtype=np.int64)
    hist = np.empty((len(quantities), size))
    for i, q in enumerate(quantities):
        cells = out.get(CELLS + q)
        if cells is None:
            cells = hist_cells(frontier if q == FRONTIER else _ordered(out, q, "sample", "year"), q)
        hist[i] = np.bincount(np.asarray(cells).ravel(), weights=per_cell, minlength=size)  # (world, year)
    log10_t = np.log10(np.asarray(thresholds, dtype=float))
    reach, reach_sq = _reach_sums(frontier, log10_t, per_cell, index)
    # flat index constraint * years + year, in the histograms' buffer (fresh arrays of a chunk's
    # size cost more than the arithmetic: 4.4 -> 1.6 ms a chunk of 65,536 worlds)
    np.multiply(_ordered(out, "binding_constraint", "sample", "year"), n_years, out=index)
    index += np.arange(n_years)
    binding = np.bincount(index.ravel(), weights=np.repeat(w, n_years) if per_cell is None else per_cell,
                          minlength=len(CONSTRAINTS) * n_years)
    year = np.asarray(years, dtype=int)
    labs = (lab_tally(out, w, log10_t, reached_kernel(frontier, log10_t), weights_are_one=weights is None)
            if "log10_lab_training_compute" in out else {})
    return xr.Dataset(
        {
            **labs,
            "n": n, "weight": w.sum(), "weight_sq": (w**2).sum(),
            "reach": (("threshold", "year"), reach),
            "reach_sq": (("threshold", "year"), reach_sq),
            "binding": (("constraint", "year"), binding.reshape(len(CONSTRAINTS), n_years)),
            "hist": (("quantity", "year", "bin"), hist.reshape(len(quantities), n_years, _N_BINS)),
        },
        coords={"threshold": np.asarray(thresholds, dtype=float), "year": year,
                "constraint": list(CONSTRAINTS), "quantity": quantities,
                "hist_low": ("quantity", [HIST_LOW[q] for q in quantities])},
        attrs={"hist_width": HIST_WIDTH},
    )


def hist_cells(values, quantity: str, xp=np):
    """The cells of ``values`` (world, year) of ``quantity`` in its histograms: ``year * bins +
    bin``, the bin of ``(value - HIST_LOW) / HIST_WIDTH`` (truncated; the values outside the
    grid in its first or last bin). In NumPy or, ``xp=jax.numpy``, inside a compiled program
    (the engine's, :data:`CELLS`): the same operations on the same float64 numbers, the same
    cells."""
    scaled = xp.clip((values - HIST_LOW[quantity]) * _BINS_PER_DEX, 0, _N_BINS - 1)
    return scaled.astype(xp.int64) + xp.arange(values.shape[-1]) * _N_BINS


def _reach_sums(frontier: np.ndarray, log10_t: np.ndarray, per_cell: np.ndarray | None,
                index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``reach`` and ``reach_sq`` (threshold, year) of a chunk: the sums of ``w`` and ``w^2``
    over its worlds whose ``frontier`` (world, year) is at least each of ``log10_t`` by the
    year (:func:`reached_kernel`'s comparisons); ``per_cell``: ``w`` of each (world, year),
    None for 1; ``index``: a (world, year) integer buffer to work in.

    Each world-year counts the thresholds it has reached, in a small integer array, and the
    counts are histogrammed by year: the threshold ranked ``j`` from the smallest is reached
    by the counts above ``j``. Two bincounts and a comparison a threshold, not a (world,
    threshold, year) array of booleans and two weighted sums over it: 16-21 -> 6-8 ms a chunk
    of 65,536 worlds (the sums are added in another order: their last bits may differ)."""
    n_t, n_years = log10_t.size, frontier.shape[1]
    count = np.zeros(frontier.shape, dtype=np.min_scalar_type(n_t))  # thresholds reached: 0 .. n_t
    hit = np.empty(frontier.shape, dtype=bool)
    for t in log10_t:
        count += np.greater_equal(frontier, t, out=hit)  # NaN reaches none, as in reached_kernel
    np.multiply(count, n_years, out=index, dtype=np.int64)
    index += np.arange(n_years)
    rank = np.argsort(np.argsort(log10_t, kind="stable"), kind="stable")  # each threshold's, ascending
    sums = []
    for weight in [None] if per_cell is None else [per_cell, per_cell * per_cell]:
        counts = np.bincount(index.ravel(), weights=weight, minlength=(n_t + 1) * n_years).reshape(n_t + 1, n_years)
        above = np.cumsum(counts[::-1], axis=0)[::-1]  # row k: the world-years that reached k or more
        sums.append(above[rank + 1].astype(float))
    if per_cell is None:  # w^2 = w = 1, in an array of its own (add_into adds into each)
        sums.append(sums[0].copy())
    return sums[0], sums[1]


def lab_tally(out: Mapping[str, np.ndarray], w: np.ndarray, log10_t: np.ndarray, crossed: np.ndarray,
              *, weights_are_one: bool = False) -> dict:
    """The lab statistics of a chunk (module docstring): ``lead``, ``labs_at_least`` and
    ``first``, weighted by ``w``; ``crossed`` (world, threshold, year): whether the frontier
    has reached each of ``log10_t`` by the year (:func:`reached_kernel`, as the chunk's
    ``reach`` reads it)."""
    lab_compute = np.asarray(_ordered(out, "log10_lab_training_compute", "sample", "lab", "year"), dtype=float)
    n, n_labs, n_years = lab_compute.shape
    leader = _ordered(out, "leading_lab", "sample", "year").astype(np.int64)
    lead = np.bincount((leader * n_years + np.arange(n_years)).ravel(),
                       weights=np.broadcast_to(w[:, None], leader.shape).ravel(), minlength=n_labs * n_years)
    # the c-th largest of the labs' best runs so far is >= t where c labs or more have reached t
    ranked = best_so_far(lab_compute, axis=2)
    ranked.sort(axis=1)  # (world, rank, year), the largest last
    n_t = log10_t.size
    at_least = np.empty((n_labs, n_t, n_years))
    for j, t in enumerate(log10_t):  # one threshold at a time: (world, rank, year) booleans
        hits = ranked >= t
        at_least[::-1, j] = hits.sum(0) if weights_are_one else np.einsum("n,nky->ky", w, hits)
    first_year = np.argmax(crossed, axis=2)  # first year reached (0 where never: left out below)
    first_lab = np.take_along_axis(leader, first_year, axis=1)  # (world, threshold)
    # a world that never reaches a threshold (not by the last year: the frontier is a running
    # maximum) counts in one bin past the labs', dropped
    cell = np.where(crossed[:, :, -1], first_lab * n_t + np.arange(n_t), n_labs * n_t)
    first = np.bincount(cell.ravel(), weights=np.repeat(w, n_t), minlength=n_labs * n_t + 1)[:-1]
    return {
        "lead": (("lab", "year"), lead.reshape(n_labs, n_years)),
        "labs_at_least": (("count", "threshold", "year"), at_least),
        "first": (("lab", "threshold"), first.reshape(n_labs, n_t)),
    }


def lab_summary(tally: xr.Dataset, labs, thresholds=None) -> xr.Dataset:
    """Per lab: ``lead_share`` (lab, year), the share of worlds whose largest run of the year
    is the lab's; ``first_probability`` (lab, threshold), P(the lab is the first to the
    threshold within the years); ``labs_reached`` (count, threshold, year), the distribution
    of the number of labs with a run of at least the threshold by the year; and
    ``at_least_two`` (threshold, year), P(two labs or more). Each with its Monte Carlo
    standard error (``*_mcse``, from the effective sample size)."""
    weight = tally["weight"]
    ess = weight**2 / tally["weight_sq"]
    sel = {} if thresholds is None else {"threshold": np.asarray(thresholds, dtype=float)}
    share = (tally["lead"] / weight).assign_coords(lab=list(labs))
    first = (tally["first"].sel(**sel) / weight).assign_coords(lab=list(labs))
    at_least = tally["labs_at_least"].sel(**sel) / weight  # count 1 .. labs
    n_labs = at_least.sizes["count"]
    upper = xr.concat([xr.ones_like(at_least.isel(count=0)), at_least], "count")
    lower = xr.concat([at_least, xr.zeros_like(at_least.isel(count=0))], "count")
    counts = (upper - lower).clip(min=0).assign_coords(count=np.arange(n_labs + 1))
    two = at_least.isel(count=1) if n_labs > 1 else xr.zeros_like(at_least.isel(count=0))
    se = lambda p: np.sqrt((p * (1 - p)).clip(min=0) / ess)  # noqa: E731
    return xr.Dataset({
        "lead_share": share, "lead_share_mcse": se(share),
        "first_probability": first, "first_probability_mcse": se(first),
        "labs_reached": counts, "at_least_two": two, "at_least_two_mcse": se(two),
    })


#: The sums of a tally over ``w^2`` (:func:`reweighted` scales them by the square); ``n``
#: counts worlds and is never weighted; every other sum is over ``w``.
SQUARED_SUMS = ("weight_sq", "reach_sq")


def _scale_of(name: str, factor: float) -> float:
    """What sum ``name`` of a tally is multiplied by when every weight is times ``factor``."""
    return 1.0 if name == "n" else factor**2 if name in SQUARED_SUMS else factor


def reweighted(tally: xr.Dataset, factor: float) -> xr.Dataset:
    """The tally of the same worlds with every weight times ``factor``: sums over ``w``
    times ``factor``, over ``w^2`` (:data:`SQUARED_SUMS`) times its square, ``n`` as it is."""
    return tally.assign({name: tally[name] * _scale_of(name, factor) for name in tally.data_vars if name != "n"})


def add_into(total: xr.Dataset, tally: xr.Dataset, factor: float = 1.0, *, scale_total: float = 1.0) -> xr.Dataset:
    """``reweighted(total, scale_total) + reweighted(tally, factor)``, written into ``total``'s
    arrays, and ``total`` returned: how a fold adds a chunk's tally to its own. The two must
    count the same things (the same thresholds, years and quantities, as the chunks of one
    run do). ``tally`` is scaled in place too (a chunk's, dropped once added): a chunk's
    histograms are 12.7 MB, and a new array for each sum and scaling, as ``+`` and
    :func:`reweighted` make, costs more than the arithmetic (page faults)."""
    for coord in ("threshold", "year", "quantity"):
        if coord in total.coords and not np.array_equal(total[coord].values, tally[coord].values):
            raise ValueError(f"add_into: the tallies count different {coord}s")
    for name in total.data_vars:
        into, more = total[name].data, tally[name].data
        if scale_total != 1.0 and name != "n":
            into *= _scale_of(name, scale_total)
        if factor != 1.0 and name != "n":
            more *= _scale_of(name, factor)
        into += more
    return total


def sum_tallies(tallies) -> xr.Dataset:
    """The tally of all the chunks: the sum of theirs (in chunk order: the same float sums
    whatever ran them)."""
    total = None
    for tally in tallies:
        total = tally if total is None else total + tally
    total.attrs["hist_width"] = HIST_WIDTH
    return total


def frontier_below(tally: xr.Dataset, year: int, log10_value: float) -> float:
    """Weighted share of worlds whose largest run up to ``year`` is below ``log10_value``."""
    cdf, low = _cdf(tally.sel(year=[year]), FRONTIER)
    position = (log10_value - low) / HIST_WIDTH
    j = int(np.clip(np.floor(position), 0, cdf.shape[1] - 2))
    frac = float(np.clip(position - j, 0, 1))
    return float(cdf[0, j] + frac * (cdf[0, j + 1] - cdf[0, j]))


def reach_from_tally(tally: xr.Dataset, thresholds=None) -> xr.Dataset:
    """``probability`` and ``mcse`` (dims threshold, year) of a run >= each threshold by
    each year. Thresholds the tally counted are exact; others are read off the frontier's
    histogram (exact at powers of ten, within a bin's mass elsewhere; their mcse from the
    effective sample size)."""
    weight = tally["weight"]
    counted = tally["threshold"].values
    wanted = counted if thresholds is None else np.asarray(thresholds, dtype=float)
    if np.isin(wanted, counted).all():
        reach = tally.sel(threshold=wanted)
        p = (reach["reach"] / weight).clip(0, 1)
        var = reach["reach_sq"] * (1 - 2 * p) + p**2 * tally["weight_sq"]
        mcse = np.sqrt(var.clip(min=0)) / weight
    else:
        hist = tally["hist"].sel(quantity=FRONTIER)
        first = np.floor((np.log10(wanted) - float(tally["hist_low"].sel(quantity=FRONTIER))) * _BINS_PER_DEX)
        first = xr.DataArray(np.clip(first, 0, hist.sizes["bin"]).astype(int), dims="threshold",
                             coords={"threshold": wanted})
        above = hist.isel(bin=slice(None, None, -1)).cumsum("bin").isel(bin=slice(None, None, -1))
        above = xr.concat([above, xr.zeros_like(above.isel(bin=0))], "bin")
        p = (above.isel(bin=first) / weight).clip(0, 1)
        mcse = np.sqrt(p * (1 - p) * tally["weight_sq"]) / weight
    out = xr.Dataset({"probability": p, "mcse": mcse}, attrs={"samples": int(tally["n"])})
    out = out.assign_coords(threshold=xr.DataArray(wanted, dims="threshold", attrs={"units": "FLOP"}))
    return out.drop_vars([c for c in out.coords if c not in ("threshold", "year")]).transpose("threshold", "year")


def shares_from_tally(tally: xr.Dataset) -> xr.DataArray:
    """Share of the (weighted) worlds bound by each constraint: dims ``constraint, year``."""
    return (tally["binding"] / tally["weight"]).transpose("constraint", "year").rename("share")


def _cdf(tally: xr.Dataset, quantity: str) -> tuple[np.ndarray, float]:
    """The histogram's CDF at the bin edges, (year, bins + 1), and the grid's low edge."""
    hist = tally["hist"].sel(quantity=quantity).transpose("year", "bin").values
    cdf = np.concatenate([np.zeros((hist.shape[0], 1)), np.cumsum(hist, axis=1)], axis=1)
    return cdf / cdf[:, -1:], float(tally["hist_low"].sel(quantity=quantity))


def _invert(cdf_row: np.ndarray, low: float, q: np.ndarray) -> np.ndarray:
    """Values at probabilities ``q`` of one year's CDF: linear within the bin."""
    j = np.clip(np.searchsorted(cdf_row, q, side="left"), 1, cdf_row.size - 1)  # bin j - 1 holds q
    below, mass = cdf_row[j - 1], cdf_row[j] - cdf_row[j - 1]
    frac = np.where(mass > 0, (q - below) / np.where(mass > 0, mass, 1), 0.0)
    return low + (j - 1 + np.clip(frac, 0, 1)) * HIST_WIDTH


def hist_quantiles(tally: xr.Dataset, quantity: str, probs) -> xr.DataArray:
    """Quantiles of ``quantity`` per year (dims ``quantile, year``), within :data:`HIST_WIDTH`."""
    cdf, low = _cdf(tally, quantity)
    q = np.asarray(probs, dtype=float)
    values = np.stack([_invert(row, low, q) for row in cdf], axis=1)
    return xr.DataArray(values, dims=("quantile", "year"),
                        coords={"quantile": q, "year": tally["year"].values})


def _shortest(cdf_row: np.ndarray, low: float, prob: float) -> tuple[float, float]:
    """Shortest interval holding ``prob`` of the mass, within a bin width at each end.

    Each start is a bin edge and its end is interpolated within the bin where the mass
    reaches ``prob`` (so lengths differ by less than a bin and do not tie in whole bins);
    near the shortest length many starts are equally short to first order, so the
    interval is the middle of the starts within a thousandth of a bin of the shortest
    (taking the first of them biased the interval low by up to tens of bins)."""
    wanted = cdf_row + prob
    ok = wanted <= cdf_row[-1] + 1e-12
    starts = np.nonzero(ok)[0]
    ends = _invert(cdf_row, 0.0, np.minimum(wanted[ok], 1.0)) / HIST_WIDTH  # in bins
    length = ends - starts
    tied = np.nonzero(length <= length.min() + 1e-3)[0]
    best = tied[(tied.size - 1) // 2] if np.all(np.diff(tied) == 1) else tied[np.argmin(length[tied])]
    return low + starts[best] * HIST_WIDTH, low + ends[best] * HIST_WIDTH


def interval_table_from_tally(tally: xr.Dataset, quantity: str = TARGET, probs=(0.5, 0.9)) -> xr.Dataset:
    """As :func:`forecast.summaries.interval_table`, from a tally's histogram: ``median``,
    ``eti`` and ``hdi`` (dims prob, year, bound), each within :data:`HIST_WIDTH`."""
    probs = list(probs)
    tails = [t for p in probs for t in ((1 - p) / 2, (1 + p) / 2)]
    quantiles = hist_quantiles(tally, quantity, [0.5, *tails]).values
    years = tally["year"].values
    cdf, low = _cdf(tally, quantity)
    eti = quantiles[1:].reshape(len(probs), 2, len(years)).transpose(0, 2, 1)
    hdi = np.array([[_shortest(row, low, p) for row in cdf] for p in probs])
    coords = {"prob": probs, "year": years, "bound": ["lower", "upper"]}
    order = ("prob", "year", "bound")
    return xr.Dataset({
        "median": xr.DataArray(quantiles[0], dims="year", coords={"year": years}),
        "eti": xr.DataArray(eti, dims=order, coords=coords),
        "hdi": xr.DataArray(hdi, dims=order, coords=coords),
    })
