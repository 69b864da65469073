"""The prior language: one line of text, as a forecaster would say it.

    0.45                          a fixed value (also ``fixed 0.45``)
    lognormal 5e4 to 2e5          5th and 95th percentiles ("a 90% interval")
    normal 1.2 to 1.8             the same for normal, uniform, loguniform, beta
    lognormal 1.5 to 3.5 (80%)    an interval of another coverage: its 10th and 90th percentiles
    normal mean 0.0607 sd 0.03    a normal by its moments
    uniform between 2024 and 2031 hard bounds instead of a 90% interval
    beta mean 0.4, 0.3 to 0.5     a beta with that mean and 90% of its mass in the interval
                                  (``beta mean 0.4, 0.3 to 0.5 (80%)``: 80% of its mass)
    metalog 5%: 1.5, 50%: 2.2, 95%: 3.5
                                  a metalog through three or more quantiles, hit exactly
    metalog 5%: 1.5, 50%: 2.2, 95%: 3.5, lower 0
                                  bounded below (``upper Y``: above; both: bounded)
    mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6
                                  weights summing to 1, each with a spec (not a mixture)
    normal 0.2 to 0.6 truncated to 0..1
                                  a spec restricted to A..B (``A..`` or ``..B``: one side)

In a mixture, a truncation belongs to its component. ``parse_spec`` turns a line into a
:class:`~priors.families.Family`; errors are :class:`~priors.errors.PriorError` with a
message that says what would be valid.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import special  # scipy.optimize: where used (~0.17 s to import)

from priors.errors import PriorError
from priors.families import (
    Z95,
    Beta,
    Family,
    Fixed,
    LogNormal,
    LogUniform,
    Metalog,
    Mixture,
    Normal,
    Truncated,
    Uniform,
    metalog_coefficients,
    metalog_not_increasing_at,
)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_N = rf"({_NUMBER})"
#: An optional coverage after an interval, "(80%)"; its group is None when absent.
_COVERAGE = rf"(?:\s*\(\s*{_N}\s*%\s*\))?"
_FORMS = {
    "interval": re.compile(rf"^{_N}\s*(?:to|\.\.)\s*{_N}{_COVERAGE}$"),
    "between": re.compile(rf"^between\s+{_N}\s+and\s+{_N}$"),
    "moments": re.compile(rf"^mean\s+{_N}\s*,?\s*sd\s+{_N}$"),
    "mean_interval": re.compile(rf"^mean\s+{_N}\s*,?\s*{_N}\s*(?:to|\.\.)\s*{_N}{_COVERAGE}$"),
    "value": re.compile(rf"^{_N}$"),
}
#: Forms whose last group is a coverage.
_WITH_COVERAGE = {"interval", "mean_interval"}
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
#: Every first word a spec may start with.
_KINDS = (*_ACCEPTS, "metalog", "mixture")
_TRUNCATION = re.compile(rf"^(.+)\s+truncated\s+to\s+(?:{_N})?\s*\.\.\s*(?:{_N})?$")
_QUANTILE = re.compile(rf"^{_N}\s*%\s*:?\s*{_N}$")
_BOUND = re.compile(rf"^(lower|upper)\s+{_N}$")
_COMPONENT = re.compile(rf"^{_N}\s*(%?)\s*:\s*(.+)$")
#: Largest magnitude a prior value may reach, so that logs and products stay finite.
_LIMIT = 1e300
#: Fewest and most quantiles a metalog takes (Keelin's metalogs go to 16 terms).
_METALOG_TERMS = (3, 16)
#: How far the weights of a mixture may sum from 1.
_WEIGHT_TOLERANCE = 1e-9
#: Least probability a truncation window must hold.
_LEAST_MASS = 1e-12
_METALOG_EXAMPLE = "'metalog 5%: 1.5, 50%: 2.2, 95%: 3.5' (optionally ', lower X' and/or ', upper Y')"
_MIXTURE_EXAMPLE = "'mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6'"


@dataclass(frozen=True)
class _Coverage:
    """What share of the distribution an interval ``LOW to HIGH`` holds: ``central`` between
    its two numbers, ``tail`` = (1 - central) / 2 below LOW and above HIGH; ``z`` is the
    normal score of HIGH. The default, 90%, keeps its historical constants bit for bit."""

    central: float = 0.90
    tail: float = 0.05
    upper: float = 0.95
    z: float = Z95
    low_name: str = "5th percentile"
    high_name: str = "95th percentile"

    @property
    def span(self) -> str:
        return f"{self.low_name.removesuffix(' percentile')}..{self.high_name}s"

    @property
    def percent(self) -> str:
        return f"{100 * self.central:g}%"


_NINETY = _Coverage()


def _coverage(percent: float | None) -> _Coverage:
    if percent is None:
        return _NINETY
    if not 0 < percent < 100:
        raise PriorError(
            f"the coverage of an interval must lie strictly between 0% and 100% (for example "
            f"'lognormal 1 to 10 (80%)'), got {percent:g}%"
        )
    tail, upper = (100 - percent) / 200, (100 + percent) / 200
    return _Coverage(
        central=percent / 100, tail=tail, upper=upper, z=float(special.ndtri(upper)),
        low_name=f"{_ordinal((100 - percent) / 2)} percentile",
        high_name=f"{_ordinal((100 + percent) / 2)} percentile",
    )


def _ordinal(percent: float | str) -> str:
    text = percent if isinstance(percent, str) else f"{percent:g}"
    if "." in text or "e" in text or text.endswith(("11", "12", "13")):
        return text + "th"
    return text + {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")


def parse_spec(text: str) -> Family:
    """Parse one prior spec (see the module docstring) into a distribution family."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise PriorError(f"expected a spec such as 'lognormal 1 to 10' or a number, got {text!r}")
    return _parse(str(text).strip().lower(), text)


def _parse(spec: str, text, *, component: bool = False) -> Family:
    if _FORMS["value"].match(spec):
        return _checked(Fixed(float(spec)))
    kind, _, rest = spec.partition(" ")
    if kind == "mixture":
        if component:
            raise PriorError("a mixture component cannot itself be a mixture; "
                             "list every component in the one mixture")
        return _checked(_mixture(rest.strip(), text))
    truncation = _TRUNCATION.match(spec)
    if truncation:
        base = _parse(truncation[1].strip(), text, component=component)
        return _checked(_truncated(base, truncation[2], truncation[3], text))
    if kind == "metalog":
        return _checked(_metalog(rest.strip(), text))
    if kind not in _ACCEPTS:
        raise PriorError(
            f"unknown distribution {kind!r} in {text!r}; use one of {', '.join(_KINDS)}"
        )
    for form in _ACCEPTS[kind]:
        match = _FORMS[form].match(rest.strip())
        if match:
            groups = match.groups()
            coverage = None
            if form in _WITH_COVERAGE:
                groups, coverage = groups[:-1], groups[-1]
            numbers = _numbers(groups, text)
            if coverage is None:
                return _checked(_BUILDERS[(kind, form)](*numbers))
            cover = _coverage(_numbers([coverage], text)[0])
            return _checked(_BUILDERS[(kind, form)](*numbers, cover=cover))
    forms = " or ".join(f"'{kind} {_HELP[f]}'" for f in _ACCEPTS[kind])
    raise PriorError(f"cannot read {text!r}; write {forms}")


def _numbers(groups, text) -> list[float]:
    numbers = [float(x) for x in groups]
    if not all(math.isfinite(x) and abs(x) <= _LIMIT for x in numbers):
        raise PriorError(f"numbers in {text!r} must be finite and at most {_LIMIT:g}")
    return numbers


def _checked(family: Family) -> Family:
    # Extreme tails must stay finite, or a rare world would carry inf into the model.
    if not all(math.isfinite(x) and abs(x) <= _LIMIT for x in family.value_range()):
        raise PriorError(f"{family.describe()} reaches non-finite or astronomically large values")
    return family


def _ordered(low: float, high: float, what: str = "5th percentile", other: str | None = None) -> None:
    if not low < high:
        if other is None:
            other = "95th percentile" if what == "5th percentile" else "upper bound"
        raise PriorError(f"the {what} ({low:g}) must be below the {other} ({high:g})")


def _ordered_interval(low: float, high: float, cover: _Coverage) -> None:
    _ordered(low, high, cover.low_name, cover.high_name)


def _positive(*values: float, family: str) -> None:
    if min(values) <= 0:
        raise PriorError(f"{family} bounds must be positive, got {min(values):g}")


def _normal_interval(p5, p95, cover=_NINETY):
    _ordered_interval(p5, p95, cover)
    return Normal((p5 + p95) / 2, (p95 - p5) / (2 * cover.z))


def _normal_moments(mean, sd):
    if sd <= 0:
        raise PriorError(f"the sd of a normal must be positive, got {sd:g}")
    return Normal(mean, sd)


def _lognormal_interval(p5, p95, cover=_NINETY):
    _positive(p5, p95, family="lognormal")
    _ordered_interval(p5, p95, cover)
    lo, hi = math.log(p5), math.log(p95)
    return LogNormal((lo + hi) / 2, (hi - lo) / (2 * cover.z))


def _uniform_interval(p5, p95, cover=_NINETY):
    _ordered_interval(p5, p95, cover)
    pad = (p95 - p5) * cover.tail / cover.central
    return Uniform(p5 - pad, p95 + pad)


def _uniform_between(low, high):
    _ordered(low, high, "lower bound")
    return Uniform(low, high)


def _loguniform_interval(p5, p95, cover=_NINETY):
    _positive(p5, p95, family="loguniform")
    _ordered_interval(p5, p95, cover)
    lo, hi = math.log(p5), math.log(p95)
    pad = (hi - lo) * cover.tail / cover.central
    return LogUniform(math.exp(lo - pad), math.exp(hi + pad))


def _loguniform_between(low, high):
    _positive(low, high, family="loguniform")
    _ordered(low, high, "lower bound")
    return LogUniform(low, high)


def _in_unit_interval(*values):
    if not all(0 < v < 1 for v in values):
        raise PriorError(f"beta values must lie strictly between 0 and 1, got {values}")


def _beta_interval(p5, p95, cover=_NINETY):
    """The beta whose 5th and 95th percentiles (or those of ``cover``) are p5 and p95
    (solved in log parameters)."""
    _in_unit_interval(p5, p95)
    _ordered_interval(p5, p95, cover)
    mean, sd = (p5 + p95) / 2, (p95 - p5) / (2 * cover.z)
    start = max(mean * (1 - mean) / sd**2 - 1, 0.5)

    from scipy import optimize, stats  # here only: they take ~0.6 s to import

    def residual(log_ab):
        a, b = math.exp(log_ab[0]), math.exp(log_ab[1])
        return [stats.beta.ppf(cover.tail, a, b) - p5, stats.beta.ppf(cover.upper, a, b) - p95]

    fit = optimize.least_squares(
        residual, [math.log(mean * start), math.log((1 - mean) * start)], xtol=1e-12, ftol=1e-12
    )
    a, b = math.exp(fit.x[0]), math.exp(fit.x[1])
    if max(abs(r) for r in residual(fit.x)) > 1e-4 * (p95 - p5):
        raise PriorError(f"no beta distribution has {cover.span} {p5:g}..{p95:g}")
    return Beta(a, b)


def _beta_mean_interval(mean, p5, p95, cover=_NINETY):
    """The beta with this mean whose mass in [p5, p95] is 90% (or ``cover``'s), its
    concentration solved."""
    _in_unit_interval(mean, p5, p95)
    _ordered_interval(p5, p95, cover)
    if not p5 < mean < p95:
        raise PriorError(f"the beta mean {mean:g} must lie inside its interval {p5:g}..{p95:g}")

    def excess_mass(log_kappa):
        kappa = math.exp(log_kappa)
        a, b = mean * kappa, (1 - mean) * kappa  # special.betainc is stats.beta's cdf, bit for bit
        return special.betainc(a, b, p95) - special.betainc(a, b, p5) - cover.central

    low, high = math.log(1e-3), math.log(1e9)
    if excess_mass(low) * excess_mass(high) > 0:
        raise PriorError(
            f"no beta with mean {mean:g} puts {cover.percent} of its mass in {p5:g}..{p95:g}"
        )
    kappa = math.exp(_where_rises_past_zero(excess_mass, low, high))
    return Beta(mean * kappa, (1 - mean) * kappa)


#: Halvings of the bracket in :func:`_where_rises_past_zero`: the beta's log concentration,
#: ln 1e-3 .. ln 1e9 (27.6 wide), closes to 2.4e-17, below the spacing of floats around a
#: root of magnitude 0.125 or more.
_HALVINGS = 60


def _where_rises_past_zero(f, low, high):
    """The root of ``f``, increasing on ``[low, high]`` and changing sign there, by
    bisection: :data:`_HALVINGS` halvings of the bracket, the upper end returned
    (``f >= 0`` there). Not ``scipy.optimize.brentq``: importing scipy.optimize costs every
    command that parses a beta by its mean ~0.17 s, and bisection closes to within a float
    of the root, where brentq stops within its ``xtol``."""
    for _ in range(_HALVINGS):
        middle = 0.5 * (low + high)
        if f(middle) >= 0:
            high = middle
        else:
            low = middle
    return high


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


# -- metalog -----------------------------------------------------------------------------

def _metalog(rest: str, text) -> Metalog:
    quantiles: dict[float, float] = {}
    bounds: dict[str, float] = {}
    for item in (part.strip() for part in rest.split(",")):
        quantile, bound = _QUANTILE.match(item), _BOUND.match(item)
        if quantile:
            percent, value = _numbers(quantile.groups(), text)
            if not 0 < percent < 100:
                raise PriorError(f"a metalog quantile's label must be a percent strictly between "
                                 f"0% and 100%, got {percent:g}%")
            if percent in quantiles:
                raise PriorError(f"the {percent:g}% quantile of the metalog is given twice; "
                                 "give each percent once")
            quantiles[percent] = value
        elif bound:
            if bound[1] in bounds:
                raise PriorError(f"the metalog's {bound[1]} bound is given twice")
            bounds[bound[1]] = _numbers([bound[2]], text)[0]
        else:
            raise PriorError(f"cannot read {item!r} in {text!r}; write {_METALOG_EXAMPLE}")
    fewest, most = _METALOG_TERMS
    if not fewest <= len(quantiles) <= most:
        raise PriorError(
            f"a metalog needs {fewest} to {most} quantiles, got {len(quantiles)}: "
            f"write {_METALOG_EXAMPLE}"
            + ("; for two, 'lognormal P5 to P95' and the like fit" if len(quantiles) < fewest else "")
        )
    percents = tuple(sorted(quantiles))
    values = tuple(quantiles[p] for p in percents)
    for (p1, v1), (p2, v2) in zip(zip(percents, values), zip(percents[1:], values[1:])):
        if not v1 < v2:
            raise PriorError(f"a metalog's quantiles must increase with their percent: the {p1:g}% "
                             f"value ({v1:g}) must be below the {p2:g}% value ({v2:g})")
    lower, upper = bounds.get("lower"), bounds.get("upper")
    if lower is not None and upper is not None and not lower < upper:
        raise PriorError(f"the metalog's lower bound ({lower:g}) must be below its upper bound "
                         f"({upper:g})")
    if lower is not None and not lower < values[0]:
        raise PriorError(f"every metalog quantile must lie above the lower bound {lower:g}, but "
                         f"the {percents[0]:g}% value is {values[0]:g}")
    if upper is not None and not values[-1] < upper:
        raise PriorError(f"every metalog quantile must lie below the upper bound {upper:g}, but "
                         f"the {percents[-1]:g}% value is {values[-1]:g}")
    family = Metalog(percents, values, lower, upper)
    _check_metalog_fit(family)
    return family


def _check_metalog_fit(family: Metalog) -> None:
    try:
        coefficients = metalog_coefficients(family.percents, family.values, family.lower,
                                            family.upper)
    except np.linalg.LinAlgError:
        coefficients = np.full(len(family.percents), np.nan)
    hits = family.ppf(np.asarray(family.percents) / 100) if np.isfinite(coefficients).all() else None
    if hits is None or not np.allclose(hits, family.values, rtol=1e-9, atol=0):
        raise PriorError("these quantiles are too close together for a metalog to pass through "
                         "them all; drop one or spread their percents")
    where = metalog_not_increasing_at(coefficients)
    if where is None:
        return
    percents, values, terms = family.percents, family.values, len(family.percents)
    gaps = [f"{p1:g}%..{p2:g}% gap ({v2 - v1:.3g})"
            for p1, p2, v1, v2 in zip(percents, percents[1:], values, values[1:])]
    gaps_text = " and ".join(gaps) if len(gaps) == 2 else ", ".join(gaps)
    fixes = []
    if where < 0 and family.lower is None:
        fixes.append(f"give a lower bound below {values[0]:g} (', lower X')")
    if where > 0 and family.upper is None:
        fixes.append(f"give an upper bound above {values[-1]:g} (', upper Y')")
    inner = "the median" if percents == (percents[0], 50.0, percents[-1]) else "the inner quantiles"
    fixes += [f"move {inner} toward even gaps", "add a quantile"]
    raise PriorError(
        f"these quantiles give a metalog that is not increasing {_where_in(where)}: the "
        f"{gaps_text} are too lopsided for {terms} terms; {', '.join(fixes[:-1])}, or {fixes[-1]}"
    )


def _where_in(score: float) -> str:
    """Words for where a normal score lies: 'near the 99th percentile'."""
    if math.isinf(score):
        return f"in its far {'lower' if score < 0 else 'upper'} tail"
    percent = 100 * float(special.ndtr(score))
    if percent < 1:
        text = np.format_float_positional(percent, precision=1, fractional=False)
    elif percent > 99:
        rest = np.format_float_positional(100 - percent, precision=1, fractional=False)
        text = f"{100 - float(rest):.{len(rest.partition('.')[2])}f}"
    else:
        text = f"{round(percent)}"
    return f"near the {_ordinal(text)} percentile"


# -- mixture -----------------------------------------------------------------------------

def _mixture(rest: str, text) -> Mixture:
    parts = [part.strip() for part in rest.split(";")]
    if len(parts) < 2:
        raise PriorError("a mixture needs two or more components separated by ';', as in "
                         f"{_MIXTURE_EXAMPLE}")
    weights, components = [], []
    for number, part in enumerate(parts, start=1):
        match = _COMPONENT.match(part)
        if not match:
            raise PriorError(f"cannot read mixture component {number} ({part!r}); write "
                             f"'WEIGHT: SPEC' for each, as in {_MIXTURE_EXAMPLE}")
        weight = _numbers([match[1]], text)[0] / (100 if match[2] else 1)
        if not weight > 0:
            raise PriorError(f"mixture weights must be positive, got {match[1]}{match[2]} "
                             f"for component {number}")
        try:
            component = _parse(match[3].strip(), text, component=True)
        except PriorError as err:
            raise PriorError(f"mixture component {number}: {err.message}") from None
        if isinstance(component.base if isinstance(component, Truncated) else component, Metalog):
            raise PriorError(
                f"mixture component {number} is a metalog, which a mixture cannot take (it has no "
                "closed-form CDF to invert the mixture with); use normal, lognormal, uniform, "
                "loguniform, beta or a fixed value, truncated or not"
            )
        components.append(component)
        weights.append(weight)
    total = math.fsum(weights)
    if abs(total - 1) > _WEIGHT_TOLERANCE:
        raise PriorError(f"mixture weights must sum to 1, got {' + '.join(f'{w:g}' for w in weights)}"
                         f" = {total:.10g}")
    return Mixture(tuple(w / total for w in weights), tuple(components))


# -- truncation --------------------------------------------------------------------------

def _truncated(base: Family, low_text, high_text, text) -> Truncated:
    if low_text is None and high_text is None:
        raise PriorError(f"cannot read the truncation in {text!r}; write 'truncated to A..B', "
                         "'truncated to A..' or 'truncated to ..B'")
    low = -math.inf if low_text is None else _numbers([low_text], text)[0]
    high = math.inf if high_text is None else _numbers([high_text], text)[0]
    if base.is_fixed:
        raise PriorError(f"a fixed value ({base.describe()}) cannot be truncated; "
                         "write the value alone")
    if isinstance(base, Truncated):
        low, high, base = max(low, base.low), min(high, base.high), base.base
    if not low < high:
        raise PriorError(f"the truncation window {low:g}..{high:g} is empty: its lower end must "
                         "be below its upper end")
    family = Truncated(base, low, high)
    mass = family.window[2]
    if not mass >= _LEAST_MASS:
        p5, p95 = base.ppf([0.05, 0.95])
        p5, p95 = (0.0 if abs(x) < 1e-9 * (p95 - p5) else x for x in (p5, p95))  # not -2.2e-16
        raise PriorError(
            f"the truncation window {_window(low, high)} holds a probability of {mass:.2g} "
            f"(less than {_LEAST_MASS:g}) under {base.describe()}, whose 5th..95th percentiles "
            f"are {p5:.4g}..{p95:.4g}; choose a window that overlaps them"
        )
    return family


def _window(low: float, high: float) -> str:
    return f"{'' if math.isinf(low) else f'{low:g}'}..{'' if math.isinf(high) else f'{high:g}'}"
