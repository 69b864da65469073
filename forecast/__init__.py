"""Forecast: Monte Carlo over the priors, timelines, intervals, and the ``forecast`` CLI.

    >>> import forecast
    >>> result = forecast.run(samples=10_000, overrides={"mfu": "0.45"})
    >>> result.timeline.probability.sel(threshold=1e28, year=2028)
"""

import warnings

with warnings.catch_warnings():
    # ArviZ 0.2x announces its 1.0 refactor on import; users of this package can't act on it.
    warnings.simplefilter("ignore", FutureWarning)
    import arviz  # noqa: F401

from forecast.result import ForecastResult, load, run, run_settings
from forecast.settings import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    DEFAULT_THRESHOLDS,
    DEFAULT_YEARS,
    RunSettings,
    parse_thresholds,
    parse_years,
)

__all__ = [
    "DEFAULT_SAMPLES", "DEFAULT_SEED", "DEFAULT_THRESHOLDS", "DEFAULT_YEARS", "ForecastResult",
    "RunSettings", "load", "parse_thresholds", "parse_years", "run", "run_settings",
]
