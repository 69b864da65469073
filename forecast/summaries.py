"""Summaries of labelled worlds: one kernel each, reduced by dimension name.

Each summary has one NumPy kernel over an axis (:func:`best_so_far`, :func:`reached_kernel`,
:func:`weighted_quantile_kernel`), which takes an axis: the streamed tallies
(:mod:`forecast.stream`) call the running maximum and reach kernels on raw arrays, with the
axis they derive from the arrays' dimension names. The public functions
lift the kernels to xarray by dimension name (``sample``, ``lab``, ``year``,
``threshold``), never by axis number, so a ``(sample, lab, year)`` array works wherever a
``(sample, year)`` one does: the running maximum of each lab is ``running_max(x)``, the
frontier is ``x.max("lab")``, and the reach of the frontier is
``reach_probability(x.max("lab"), thresholds)``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from models import CONSTRAINTS

__all__ = [
    "best_so_far", "constraint_shares", "crossing_year_quantiles", "equal_tailed_interval",
    "first_crossing_year", "highest_density_interval", "interval_table", "reach_probability", "reached",
    "reached_kernel", "running_max", "weighted_quantile", "weighted_quantile_kernel",
]


def _threshold_coord(thresholds) -> xr.DataArray:
    values = np.asarray(thresholds, dtype=float)
    return xr.DataArray(values, dims="threshold", coords={"threshold": values}, attrs={"units": "FLOP"})


# --- kernels: NumPy over one axis ---------------------------------------------------------


def best_so_far(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The kernel of the running maximum: the largest value up to each position along
    ``axis`` (the years, ascending; or the rows of a record, by date). The streamed tallies,
    :func:`running_max` and the record's frontier use it.

    ``np.maximum.accumulate`` over the years of a chunk's worlds runs a loop of 11 a world;
    the same maxima taken a position at a time, each over every world at once, are the same
    ``maximum`` in the same order, so the same numbers (NaN included), for less: a chunk of
    65,536 worlds, ``(world, lab, year)`` of six labs 24 -> 12 ms, ``(world, year)`` 3.6 ->
    0.7 ms. A 1-D array (a record's rows) is accumulated as it is."""
    values = np.asarray(values)
    if values.ndim < 2:
        return np.maximum.accumulate(values, axis=axis)
    best = values.copy()
    along = np.moveaxis(best, axis, 0)  # a view: position i of the axis is along[i]
    for i in range(1, along.shape[0]):
        np.maximum(along[i - 1], along[i], out=along[i])
    return best


def reached_kernel(best: np.ndarray, log10_thresholds) -> np.ndarray:
    """The kernel of reach: whether ``best`` (``..., year``: a running maximum, years last)
    is at least each of ``log10_thresholds``, as ``..., threshold, year`` booleans."""
    return best[..., None, :] >= np.asarray(log10_thresholds, dtype=float)[:, None]


def weighted_quantile_kernel(values, weights, probs, axis: int = -1) -> np.ndarray:
    """The kernel of weighted quantiles: the inverted weighted CDF along ``axis``.

    The ``q``-quantile is the smallest value ``x`` whose weight at or below it is at least
    ``q`` of the total, ``min{x_k : sum_{j <= k} w_(j) >= q sum_j w_j}`` over the values
    sorted ascending (ties: the first position that gets there). With equal weights this is
    :func:`numpy.quantile` with ``method="inverted_cdf"`` (Hyndman and Fan's definition 1),
    and with weights it is numpy's weighted ``inverted_cdf``: a step function of ``q``, no
    interpolation between worlds, so it never returns a value no world has. Worlds of weight
    0 count for nothing.

    Parameters
    ----------
    values
        Any shape; ``axis`` is the one reduced (the caller derives it from a dimension name).
    weights
        Non-negative, the shape of ``values`` (or 1-D, the length of ``axis``); a slice
        whose weights sum to 0 has NaN quantiles.
    probs
        Scalar or 1-D, in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        As :func:`numpy.quantile`: ``probs``' shape first, then ``values``' shape less ``axis``.
    """
    values = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    weights = np.asarray(weights, dtype=float)
    if weights.ndim == 1 and values.ndim > 1:
        weights = np.broadcast_to(weights, values.shape)
    else:
        weights = np.broadcast_to(np.moveaxis(weights, axis, -1), values.shape)
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(values, axis=-1)  # ties: any order gives the same value
    ranked = np.take_along_axis(values, order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=-1), axis=-1)
    total = cumulative[..., -1:]
    target = probs.reshape(probs.shape + (1,) * values.ndim) * total  # (probs..., ..., 1)
    # the first position whose cumulative weight reaches the target (searchsorted, side left),
    # past any worlds of weight 0 at the bottom (q = 0: the smallest value of positive weight)
    below = (cumulative < target) | (cumulative <= 0)
    position = np.minimum(below.sum(axis=-1, keepdims=True), values.shape[-1] - 1)
    out = np.take_along_axis(np.broadcast_to(ranked, position.shape[:-1] + ranked.shape[-1:]), position,
                             axis=-1)[..., 0]
    return np.where(total[..., 0] > 0, out, np.nan)


# --- by dimension name --------------------------------------------------------------------


def weighted_quantile(values: xr.DataArray, probs, *, weights: xr.DataArray | None = None,
                      dim: str = "sample") -> xr.DataArray:
    """Quantiles of ``values`` over ``dim`` by the inverted weighted CDF
    (:func:`weighted_quantile_kernel`); ``weights`` broadcast against ``values`` by name
    (default: equal). Dims ``quantile`` (where ``probs`` is a sequence), then those of
    ``values`` less ``dim``."""
    weights = xr.ones_like(values) if weights is None else weights
    values, weights = xr.broadcast(values, weights)
    scalar = np.ndim(probs) == 0
    q = np.atleast_1d(np.asarray(probs, dtype=float))
    out = xr.apply_ufunc(lambda v, w: np.moveaxis(weighted_quantile_kernel(v, w, q, axis=-1), 0, -1),
                         values, weights, input_core_dims=[[dim], [dim]], output_core_dims=[["quantile"]])
    out = out.assign_coords(quantile=q).transpose("quantile", ...)
    return out.isel(quantile=0) if scalar else out


def running_max(log10_compute: xr.DataArray, dim: str = "year") -> xr.DataArray:
    """Largest run so far in each world (and lab, where there is a ``lab`` dim): the
    maximum over earlier and current ``dim`` (the years, sorted ascending)."""
    return xr.apply_ufunc(best_so_far, log10_compute.sortby(dim), input_core_dims=[[dim]],
                          output_core_dims=[[dim]]).transpose(*log10_compute.dims)


def reached(log10_compute: xr.DataArray, thresholds) -> xr.DataArray:
    """Whether each world has had a run of at least each threshold by each year (bool;
    dims those of ``log10_compute`` less ``year``, then ``threshold, year``)."""
    coord = _threshold_coord(thresholds)
    return xr.apply_ufunc(reached_kernel, running_max(log10_compute), np.log10(coord),
                          input_core_dims=[["year"], ["threshold"]], output_core_dims=[["threshold", "year"]])


def reach_probability(log10_compute: xr.DataArray, thresholds, *, weights: xr.DataArray | None = None,
                      dim: str = "sample") -> xr.Dataset:
    """P(max compute up to year y >= threshold) over the worlds (``dim``) with its Monte
    Carlo standard error; weighted by ``weights`` (dims of ``log10_compute`` less ``year``,
    by name) where given, as the streamed tallies weigh (:mod:`forecast.stream`):
    ``p = sum w I / sum w``, ``mcse = sqrt(sum w^2 (I - p)^2) / sum w``. Any other dim
    (``lab``) stays: the reach of each lab's runs.

    Returns
    -------
    xarray.Dataset
        ``probability`` and ``mcse`` with dims ``threshold, year`` (then any other);
        monotone in both.
    """
    hits = reached(log10_compute, thresholds)
    n = log10_compute.sizes[dim]
    if weights is None:
        p = hits.mean(dim)
        mcse = np.sqrt(p * (1 - p) / n)
    else:
        total = weights.sum(dim)
        p = (hits * weights).sum(dim) / total
        mcse = np.sqrt((weights**2 * (hits - p) ** 2).sum(dim)) / total
    return xr.Dataset({"probability": p, "mcse": mcse}, attrs={"samples": n}).transpose("threshold", "year", ...)


def first_crossing_year(log10_compute: xr.DataArray, thresholds) -> xr.DataArray:
    """Year of the first run at or above each threshold, per world (NaN: not in range)."""
    hits = reached(log10_compute, thresholds)
    years = hits["year"].astype(float)
    first = years.where(hits).min("year")  # NaN where the threshold is never reached
    return first.rename("first_crossing_year").assign_attrs(units="year")


def crossing_year_quantiles(reach: xr.DataArray, probs=(0.05, 0.5, 0.95)) -> xr.DataArray:
    """Quantiles of the first-crossing year, read off the reach-probability curve.

    The q-quantile is the first year whose P(reached by year) >= q; NaN means "after the
    last forecast year" (fewer than q of the worlds cross in range), which keeps the
    worlds that never cross in the distribution instead of dropping them.
    """
    q = xr.DataArray(np.asarray(probs, dtype=float), dims="quantile", coords={"quantile": list(probs)})
    years = reach["year"].astype(float)
    return years.where(reach >= q).min("year").rename("crossing_year")


def equal_tailed_interval(samples: xr.DataArray, prob: float, dim: str = "sample") -> xr.DataArray:
    """Equal-tailed interval over ``dim`` (as ArviZ's summary computes its ETI)."""
    tail = (1 - prob) / 2
    eti = samples.quantile([tail, 1 - tail], dim=dim)
    return eti.rename(quantile="bound").assign_coords(bound=["lower", "upper"])


def highest_density_interval(samples: xr.DataArray, prob: float, dim: str = "sample") -> xr.DataArray:
    """Highest-density interval over ``dim``, by ArviZ."""
    from forecast.arviz_loader import arviz  # on use: importing the record or the kernels needs no ArviZ

    az = arviz()

    hdi = az.hdi(samples, hdi_prob=prob, input_core_dims=[[dim]])
    da = hdi[samples.name] if isinstance(hdi, xr.Dataset) else hdi
    return da.rename(hdi="bound").assign_coords(bound=["lower", "upper"])


def interval_table(samples: xr.DataArray, probs=(0.5, 0.9), dim: str = "sample") -> xr.Dataset:
    """Median and credible intervals over ``dim`` per year: ``eti`` and ``hdi`` with dims
    prob, year, bound (then any other, e.g. ``lab``)."""
    prob = xr.DataArray(list(probs), dims="prob", coords={"prob": list(probs)})
    eti = xr.concat([equal_tailed_interval(samples, p, dim) for p in probs], dim=prob)
    hdi = xr.concat([highest_density_interval(samples, p, dim) for p in probs], dim=prob)
    order = ("prob", "year", "bound", ...)
    return xr.Dataset(
        {"median": samples.median(dim), "eti": eti.transpose(*order), "hdi": hdi.transpose(*order)}
    )


def constraint_shares(binding: xr.DataArray, dim: str = "sample") -> xr.DataArray:
    """Share of worlds (``dim``) bound by each constraint, per year (dims ``constraint, year``)."""
    names = list(CONSTRAINTS)
    codes = xr.DataArray([CONSTRAINTS.index(n) for n in names], dims="constraint", coords={"constraint": names})
    return (binding == codes).mean(dim).transpose("constraint", "year", ...).rename("share")
