"""Forecast: Monte Carlo over the priors, timelines, intervals, and the ``forecast`` CLI.

    >>> import forecast
    >>> result = forecast.run(samples=10_000, overrides={"mfu": "0.45"})
    >>> result.timeline.probability.sel(threshold=1e28, year=2028)
"""

from __future__ import annotations

from priors.lazy import lazy_exports

#: Each public name and the module it comes from: imported on first use (PEP 562), so that
#: ``import forecast`` (and every ``forecast.x`` submodule, such as the settings a command
#: line parses) loads neither JAX nor ArviZ until a forecast is run or read.
_LAZY = {
    "ForecastResult": "forecast.result",
    "load": "forecast.result",
    "run": "forecast.result",
    "run_settings": "forecast.result",
    "DEFAULT_SAMPLES": "forecast.settings",
    "DEFAULT_SEED": "forecast.settings",
    "DEFAULT_THRESHOLDS": "forecast.settings",
    "DEFAULT_YEARS": "forecast.settings",
    "RunSettings": "forecast.settings",
    "parse_thresholds": "forecast.settings",
    "parse_years": "forecast.settings",
}

__all__ = [
    "DEFAULT_SAMPLES", "DEFAULT_SEED", "DEFAULT_THRESHOLDS", "DEFAULT_YEARS", "ForecastResult",
    "RunSettings", "load", "parse_thresholds", "parse_years", "run", "run_settings",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
