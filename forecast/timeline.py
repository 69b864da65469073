"""Timeline probabilities and credible intervals, on labelled samples.

Kernels are small NumPy functions over one axis; the public functions lift them to xarray by
dimension name (``sample``, ``year``, ``threshold``), never by axis number.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

from models import CONSTRAINTS


def _threshold_coord(thresholds) -> xr.DataArray:
    values = np.asarray(thresholds, dtype=float)
    return xr.DataArray(values, dims="threshold", coords={"threshold": values}, attrs={"units": "FLOP"})


def best_so_far(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The kernel of the running maximum: the largest value up to each position along
    ``axis`` (the years, ascending). The streamed tallies and :func:`running_max` use it."""
    return np.maximum.accumulate(values, axis=axis)


def reached_kernel(best: np.ndarray, log10_thresholds) -> np.ndarray:
    """The kernel of reach: whether ``best`` (``..., year``: a running maximum) is at least
    each of ``log10_thresholds``, as ``..., threshold, year`` booleans."""
    return best[..., None, :] >= np.asarray(log10_thresholds, dtype=float)[:, None]


def running_max(log10_compute: xr.DataArray) -> xr.DataArray:
    """Largest run so far in each world: max over earlier and current years."""
    return xr.apply_ufunc(best_so_far, log10_compute.sortby("year"), input_core_dims=[["year"]],
                          output_core_dims=[["year"]])


def reached(log10_compute: xr.DataArray, thresholds) -> xr.DataArray:
    """Whether each world has had a run of at least each threshold by each year (bool;
    dims those of ``log10_compute`` less ``year``, then ``threshold, year``)."""
    coord = _threshold_coord(thresholds)
    return xr.apply_ufunc(reached_kernel, running_max(log10_compute), np.log10(coord),
                          input_core_dims=[["year"], ["threshold"]], output_core_dims=[["threshold", "year"]])


def reach_probability(log10_compute: xr.DataArray, thresholds) -> xr.Dataset:
    """P(max compute up to year y >= threshold) with its Monte Carlo standard error.

    Returns
    -------
    xarray.Dataset
        ``probability`` and ``mcse`` with dims ``threshold, year``; monotone in both.
    """
    hits = reached(log10_compute, thresholds)
    n = log10_compute.sizes["sample"]
    p = hits.mean("sample")
    return xr.Dataset(
        {"probability": p, "mcse": np.sqrt(p * (1 - p) / n)}, attrs={"samples": n}
    ).transpose("threshold", "year", ...)


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


def equal_tailed_interval(samples: xr.DataArray, prob: float) -> xr.DataArray:
    """Equal-tailed interval over ``sample`` (as ArviZ's summary computes its ETI)."""
    tail = (1 - prob) / 2
    eti = samples.quantile([tail, 1 - tail], dim="sample")
    return eti.rename(quantile="bound").assign_coords(bound=["lower", "upper"])


def highest_density_interval(samples: xr.DataArray, prob: float) -> xr.DataArray:
    """Highest-density interval over ``sample``, by ArviZ."""
    hdi = az.hdi(samples, hdi_prob=prob, input_core_dims=[["sample"]])
    da = hdi[samples.name] if isinstance(hdi, xr.Dataset) else hdi
    return da.rename(hdi="bound").assign_coords(bound=["lower", "upper"])


def interval_table(samples: xr.DataArray, probs=(0.5, 0.9)) -> xr.Dataset:
    """Median and credible intervals per year: ``eti`` and ``hdi`` with dims prob, year, bound."""
    prob = xr.DataArray(list(probs), dims="prob", coords={"prob": list(probs)})
    eti = xr.concat([equal_tailed_interval(samples, p) for p in probs], dim=prob)
    hdi = xr.concat([highest_density_interval(samples, p) for p in probs], dim=prob)
    order = ("prob", "year", "bound")
    return xr.Dataset(
        {"median": samples.median("sample"), "eti": eti.transpose(*order), "hdi": hdi.transpose(*order)}
    )


def constraint_shares(binding: xr.DataArray) -> xr.DataArray:
    """Share of worlds bound by each constraint, per year (dims ``constraint, year``)."""
    names = list(CONSTRAINTS)
    codes = xr.DataArray([CONSTRAINTS.index(n) for n in names], dims="constraint", coords={"constraint": names})
    return (binding == codes).mean("sample").transpose("constraint", "year").rename("share")
