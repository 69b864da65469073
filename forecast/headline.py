"""The numbers of a write-up: headline probabilities with their Monte Carlo error, and the
first-crossing years, for the headline years in range.

Numbers only: :mod:`outputs.text` words them (digits set by the Monte Carlo error), and
``outputs`` turns them into report.md and report.html.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import xarray as xr

if TYPE_CHECKING:
    from forecast.result import ForecastResult

__all__ = ["HEADLINE_YEARS", "MC_INTERVAL", "headline_table", "headline_years", "mc_half_width"]

#: Years the headline numbers are given for (those outside the forecast range are skipped).
HEADLINE_YEARS = (2027, 2030, 2035)

#: Coverage of the Monte Carlo interval printed beside each probability.
MC_INTERVAL = 0.9


def mc_half_width(mcse, prob: float = MC_INTERVAL):
    """Half-width of the central ``prob`` interval of a Monte Carlo estimate with error ``mcse``."""
    return _z(prob) * mcse


def _z(prob: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + prob / 2))


def headline_years(result: ForecastResult, years: Iterable[int] | None = None) -> tuple[int, ...]:
    """The headline years that lie in the forecast range (default 2027, 2030, 2035)."""
    in_range = set(int(y) for y in result.years)
    return tuple(int(y) for y in (HEADLINE_YEARS if years is None else years) if int(y) in in_range)


def headline_table(result: ForecastResult, *, years: Iterable[int] | None = None) -> xr.Dataset:
    """The headline numbers as labelled data.

    Returns
    -------
    xarray.Dataset
        ``probability``, ``mcse``, ``lower``, ``upper`` (the Monte Carlo interval) with dims
        ``threshold, year`` (the headline years in range), and ``crossing_year`` with dims
        ``threshold, quantile`` (0.05, 0.5, 0.95; NaN: after the last forecast year).
    """
    chosen = list(headline_years(result, years))
    timeline = result.timeline.sel(year=chosen)
    half = mc_half_width(timeline["mcse"])
    return xr.Dataset(
        {
            "probability": timeline["probability"],
            "mcse": timeline["mcse"],
            "lower": (timeline["probability"] - half).clip(0, 1),
            "upper": (timeline["probability"] + half).clip(0, 1),
            "crossing_year": result.crossing_quantiles,
        },
        attrs={"samples": result.n_samples, "mc_interval": MC_INTERVAL,
               "first_year": int(result.years[0]), "last_year": int(result.years[-1])},
    )


