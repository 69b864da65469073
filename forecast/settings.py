"""Run settings: defaults and the parsing of year ranges and thresholds (CLI and API)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from priors import InputError

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 2024
DEFAULT_YEARS = range(2025, 2036)


def parse_years(years: str | Iterable[int] | None) -> tuple[int, ...]:
    """``"2025:2040"`` (inclusive), ``"2030"``, a range or a list of increasing years."""
    if years is None:
        return tuple(DEFAULT_YEARS)
    if isinstance(years, str):
        start, sep, end = years.partition(":")
        try:
            first, last = int(start), int(end) if sep else int(start)
        except ValueError:
            raise InputError(f"--years: expected START:END such as 2025:2035, got {years!r}") from None
        if last < first:
            raise InputError(f"--years: the range {years!r} is reversed (END must not be before START)")
        return tuple(range(first, last + 1))
    out = tuple(int(y) for y in years)
    if not out:
        raise InputError("--years: the year range is empty")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise InputError(f"--years: years must increase, got {list(out)}")
    return out


def parse_thresholds(thresholds: str | Iterable[float] | None) -> tuple[float, ...]:
    """``"1e26,1e28"`` or a list of positive FLOP thresholds, returned sorted."""
    from forecast.timeline import DEFAULT_THRESHOLDS

    if thresholds is None:
        return DEFAULT_THRESHOLDS
    items = thresholds.split(",") if isinstance(thresholds, str) else list(thresholds)
    values = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise InputError(f"--thresholds: {item!r} is not a number (write e.g. 1e26,1e28)") from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--thresholds: {item!r} must be a positive number of FLOP")
        values.append(value)
    if not values:
        raise InputError("--thresholds: give at least one threshold")
    return tuple(sorted(set(values)))
