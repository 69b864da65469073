"""The prior language: one line of text, as a forecaster would say it.

    0.45                          a fixed value (also ``fixed 0.45``)
    lognormal 5e4 to 2e5          5th and 95th percentiles ("a 90% interval")
    normal 1.2 to 1.8             the same for normal, uniform, loguniform, beta
    normal mean 0.0607 sd 0.03    a normal by its moments
    uniform between 2024 and 2031 hard bounds instead of a 90% interval
    beta mean 0.4, 0.3 to 0.5     a beta with that mean and 90% of its mass in the interval

``parse_spec`` turns a line into a :class:`~priors.families.Family`; errors are
:class:`~priors.errors.PriorError` with a message that says what would be valid.
"""

from __future__ import annotations

import math
import re

from scipy import optimize, stats

from priors.errors import PriorError
from priors.families import (
    FAMILIES,
    Z95,
    Beta,
    Family,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    Uniform,
)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_N = rf"({_NUMBER})"
_FORMS = {
    "interval": re.compile(rf"^{_N}\s*(?:to|\.\.)\s*{_N}$"),
    "between": re.compile(rf"^between\s+{_N}\s+and\s+{_N}$"),
    "moments": re.compile(rf"^mean\s+{_N}\s*,?\s*sd\s+{_N}$"),
    "mean_interval": re.compile(rf"^mean\s+{_N}\s*,?\s*{_N}\s*(?:to|\.\.)\s*{_N}$"),
    "value": re.compile(rf"^{_N}$"),
}
#: Which forms each family accepts (declared as data; anything else is refused by name).
_ACCEPTS = {
    "fixed": ("value",),
    "normal": ("interval", "moments"),
    "lognormal": ("interval",),
    "uniform": ("interval", "between"),
    "loguniform": ("interval", "between"),
    "beta": ("interval", "mean_interval"),
}
_HELP = {
    "value": "VALUE",
    "interval": "P5 to P95",
    "between": "between LOW and HIGH",
    "moments": "mean M sd S",
    "mean_interval": "mean M, P5 to P95",
}
#: Largest magnitude a prior value may reach, so that logs and products stay finite.
_LIMIT = 1e300


def parse_spec(text: str) -> Family:
    """Parse one prior spec (see the module docstring) into a distribution family."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise PriorError(f"expected a spec such as 'lognormal 1 to 10' or a number, got {text!r}")
    spec = str(text).strip().lower()
    if _FORMS["value"].match(spec):
        return _checked(Fixed(float(spec)))
    kind, _, rest = spec.partition(" ")
    if kind not in FAMILIES:
        raise PriorError(
            f"unknown distribution {kind!r} in {text!r}; use one of {', '.join(FAMILIES)}"
        )
    for form in _ACCEPTS[kind]:
        match = _FORMS[form].match(rest.strip())
        if match:
            numbers = [float(x) for x in match.groups()]
            if not all(math.isfinite(x) and abs(x) <= _LIMIT for x in numbers):
                raise PriorError(f"numbers in {text!r} must be finite and at most {_LIMIT:g}")
            return _checked(_BUILDERS[(kind, form)](*numbers))
    forms = " or ".join(f"'{kind} {_HELP[f]}'" for f in _ACCEPTS[kind])
    raise PriorError(f"cannot read {text!r}; write {forms}")


def _checked(family: Family) -> Family:
    # Extreme tails must stay finite, or a rare world would carry inf into the model.
    if not all(math.isfinite(x) and abs(x) <= _LIMIT for x in family.value_range()):
        raise PriorError(f"{family.describe()} reaches non-finite or astronomically large values")
    return family


def _ordered(low: float, high: float, what: str = "5th percentile") -> None:
    if not low < high:
        other = "95th percentile" if what == "5th percentile" else "upper bound"
        raise PriorError(f"the {what} ({low:g}) must be below the {other} ({high:g})")


def _positive(*values: float, family: str) -> None:
    if min(values) <= 0:
        raise PriorError(f"{family} bounds must be positive, got {min(values):g}")


def _normal_interval(p5, p95):
    _ordered(p5, p95)
    return Normal((p5 + p95) / 2, (p95 - p5) / (2 * Z95))


def _normal_moments(mean, sd):
    if sd <= 0:
        raise PriorError(f"the sd of a normal must be positive, got {sd:g}")
    return Normal(mean, sd)


def _lognormal_interval(p5, p95):
    _positive(p5, p95, family="lognormal")
    _ordered(p5, p95)
    lo, hi = math.log(p5), math.log(p95)
    return LogNormal((lo + hi) / 2, (hi - lo) / (2 * Z95))


def _uniform_interval(p5, p95):
    _ordered(p5, p95)
    pad = (p95 - p5) * 0.05 / 0.90
    return Uniform(p5 - pad, p95 + pad)


def _uniform_between(low, high):
    _ordered(low, high, "lower bound")
    return Uniform(low, high)


def _loguniform_interval(p5, p95):
    _positive(p5, p95, family="loguniform")
    _ordered(p5, p95)
    lo, hi = math.log(p5), math.log(p95)
    pad = (hi - lo) * 0.05 / 0.90
    return LogUniform(math.exp(lo - pad), math.exp(hi + pad))


def _loguniform_between(low, high):
    _positive(low, high, family="loguniform")
    _ordered(low, high, "lower bound")
    return LogUniform(low, high)


def _in_unit_interval(*values):
    if not all(0 < v < 1 for v in values):
        raise PriorError(f"beta values must lie strictly between 0 and 1, got {values}")


def _beta_interval(p5, p95):
    """The beta whose 5th and 95th percentiles are p5 and p95 (solved in log parameters)."""
    _in_unit_interval(p5, p95)
    _ordered(p5, p95)
    mean, sd = (p5 + p95) / 2, (p95 - p5) / (2 * Z95)
    start = max(mean * (1 - mean) / sd**2 - 1, 0.5)

    def residual(log_ab):
        a, b = math.exp(log_ab[0]), math.exp(log_ab[1])
        return [stats.beta.ppf(0.05, a, b) - p5, stats.beta.ppf(0.95, a, b) - p95]

    fit = optimize.least_squares(
        residual, [math.log(mean * start), math.log((1 - mean) * start)], xtol=1e-12, ftol=1e-12
    )
    a, b = math.exp(fit.x[0]), math.exp(fit.x[1])
    if max(abs(r) for r in residual(fit.x)) > 1e-4 * (p95 - p5):
        raise PriorError(f"no beta distribution has 5th..95th percentiles {p5:g}..{p95:g}")
    return Beta(a, b)


def _beta_mean_interval(mean, p5, p95):
    """The beta with this mean whose mass in [p5, p95] is 90% (its concentration solved)."""
    _in_unit_interval(mean, p5, p95)
    _ordered(p5, p95)
    if not p5 < mean < p95:
        raise PriorError(f"the beta mean {mean:g} must lie inside its interval {p5:g}..{p95:g}")

    def excess_mass(log_kappa):
        kappa = math.exp(log_kappa)
        dist = stats.beta(mean * kappa, (1 - mean) * kappa)
        return dist.cdf(p95) - dist.cdf(p5) - 0.90

    low, high = math.log(1e-3), math.log(1e9)
    if excess_mass(low) * excess_mass(high) > 0:
        raise PriorError(f"no beta with mean {mean:g} puts 90% of its mass in {p5:g}..{p95:g}")
    kappa = math.exp(optimize.brentq(excess_mass, low, high, xtol=1e-12))
    return Beta(mean * kappa, (1 - mean) * kappa)


_BUILDERS = {
    ("fixed", "value"): Fixed,
    ("normal", "interval"): _normal_interval,
    ("normal", "moments"): _normal_moments,
    ("lognormal", "interval"): _lognormal_interval,
    ("uniform", "interval"): _uniform_interval,
    ("uniform", "between"): _uniform_between,
    ("loguniform", "interval"): _loguniform_interval,
    ("loguniform", "between"): _loguniform_between,
    ("beta", "interval"): _beta_interval,
    ("beta", "mean_interval"): _beta_mean_interval,
}
