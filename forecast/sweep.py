"""What would you need to believe? P(a run >= threshold by a year) over a grid of pinned priors.

A sweep pins one or two priors at each value of a grid (``chip_growth=1.5:3.5:21``: 21 steps
from 1.5 to 3.5, log-spaced for a prior stated on a log scale), leaves every other prior
random, and maps the probability that the largest run so far has reached the threshold by
the year. Each grid point is exactly the forecast ``forecast run --set NAME=VALUE`` draws
(same prior set, seed, worlds, years and conditioning on the record): it is built by
:func:`forecast.run` with the varied priors overridden, so it streams and schedules as a
run does (``settings`` carries the scheduler and the rest). Pinned values are traced
numbers of the compiled model, so the whole grid reuses one compiled program.

As with ``--set``, a pinned prior loses its rank correlations: its partners are drawn from
their own distributions (a ``CorrelationWarning`` says which pairs were dropped).

    >>> from forecast import RunSettings
    >>> from forecast.sweep import sweep
    >>> grid = sweep(RunSettings(samples=20_000), ["chip_growth=1.5:3.5:5"], threshold=1e28, year=2028)
    >>> grid.probability                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from forecast.result import run_settings
from forecast.settings import (
    DEFAULT_TARGET_YEAR,
    DEFAULT_THRESHOLD,
    RunSettings,
    check_target_year,
    parse_threshold,
)
from models import PARAMETERS
from priors import InputError, PriorError, PriorSet

__all__ = ["DEFAULT_SWEEP_SAMPLES", "LAB_CORRELATION", "MAX_AXES", "Axis", "check_not_set", "crossings", "grid_axes", "parse_vary", "sweep"]

#: A sweep maps one prior (a curve) or two (a heat map).
MAX_AXES = 2
#: Worlds per grid point: a 21 x 21 grid runs 441 forecasts, and at 20,000 worlds the
#: Monte Carlo error of each probability is below a percentage point.
DEFAULT_SWEEP_SAMPLES = 20_000
#: Grid values are rounded to this many significant digits, so that the value printed in
#: sweep.csv, given to ``forecast run --set``, draws exactly the grid point's worlds.
GRID_DIGITS = 6
#: Worlds a grid point's run keeps: none (its summaries stream over all of them, and no
#: world is saved); 3-4x faster than keeping them.
_KEPT_WORLDS = 0
#: What the command line calls a grid.
_SOURCE = "--vary"
_EXAMPLE = "chip_growth=1.5:3.5:21"
#: The name under which a sweep varies the rank correlation between labs
#: (``--vary lab_correlation=0:0.9:10``), a setting of the prior set rather than a prior.
LAB_CORRELATION = "lab_correlation"


@dataclass(frozen=True)
class Axis:
    """One varied prior: its grid values and what the plots need to know about it.

    Attributes
    ----------
    name, unit
        The prior's name and unit.
    values
        The grid, increasing: ``N`` steps from ``LO`` to ``HI``, log-spaced where ``log_scale``.
    log_scale
        Whether the prior is stated on a log scale (``Family.log_scale``).
    spec
        The distribution the sweep replaces (from the prior set).
    quantiles
        Its 5th, 50th and 95th percentile (NaN for a prior that was already pinned).
    """

    name: str
    values: tuple[float, ...]
    log_scale: bool
    unit: str = ""
    spec: str = ""
    quantiles: tuple[float, float, float] = (math.nan, math.nan, math.nan)


def _number(text: str, what: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PriorError(f"{what} {text.strip()!r} is not a number in {item!r} (expected NAME=LO:HI:N "
                         f"such as {_EXAMPLE})", source=_SOURCE) from None
    if not math.isfinite(value):
        raise PriorError(f"{what} must be finite, got {text.strip()!r} in {item!r}", source=_SOURCE)
    return value


def _steps(text: str, item: str) -> int:
    try:
        steps = int(text)
    except ValueError:
        raise PriorError(f"N {text.strip()!r} is not a whole number of steps in {item!r} "
                         f"(expected NAME=LO:HI:N such as {_EXAMPLE})", source=_SOURCE) from None
    if steps < 2:
        raise PriorError(f"{item!r} has {steps} step(s); a grid needs N >= 2", source=_SOURCE)
    return steps


def _grid(values: np.ndarray, name: str) -> np.ndarray:
    """The grid rounded to :data:`GRID_DIGITS` significant digits, refused where rounding
    merges two steps."""
    rounded = np.array([float(f"{v:.{GRID_DIGITS}g}") for v in values])
    if np.any(np.diff(rounded) <= 0):
        raise PriorError(f"{len(values)} steps from {values[0]:g} to {values[-1]:g} are closer than {GRID_DIGITS} "
                         "significant digits; use fewer steps", source=_SOURCE, key=name)
    return rounded


def parse_vary(text: str, priors: PriorSet) -> Axis:
    """``"NAME=LO:HI:N"`` -> the :class:`Axis` of that prior in ``priors``.

    ``N >= 2`` steps from ``LO`` to ``HI`` (``LO < HI``), both inside the domain the model
    declares for the prior; log-spaced for a prior stated on a log scale, else linear.

    Raises
    ------
    priors.PriorError
        One line naming ``--vary`` (and the prior) for a bad grid.
    """
    item = str(text).strip()
    name, sep, grid = item.partition("=")
    name = name.strip()
    parts = grid.split(":")
    if not sep or not name or len(parts) != 3:
        raise PriorError(f"expected NAME=LO:HI:N such as {_EXAMPLE}, got {item!r}", source=_SOURCE)
    if name == LAB_CORRELATION:
        return _correlation_axis(parts, item, priors)
    if name not in priors:
        raise priors.unknown_name_error(name, source=_SOURCE)
    low, high = _number(parts[0], "LO", item), _number(parts[1], "HI", item)
    steps = _steps(parts[2], item)
    if not low < high:
        raise PriorError(f"LO must be below HI, got {item!r}", source=_SOURCE, key=name)
    domain = PARAMETERS.get(name)
    if domain is not None and not domain.contains(low, high):
        raise PriorError(f"the grid {low:g}..{high:g} leaves the prior's domain: it must be {domain}",
                         source=_SOURCE, key=name)
    prior = priors[name]
    log_scale = bool(prior.family.log_scale) and low > 0
    values = _grid(np.geomspace(low, high, steps) if log_scale else np.linspace(low, high, steps), name)
    quantiles = (math.nan,) * 3 if prior.is_fixed else tuple(float(q) for q in prior.family.ppf([0.05, 0.5, 0.95]))
    return Axis(name=name, values=tuple(float(v) for v in values), log_scale=log_scale, unit=prior.unit,
                spec=prior.spec, quantiles=quantiles)


def _correlation_axis(parts: list[str], item: str, priors: PriorSet) -> Axis:
    """The grid of ``lab_correlation=LO:HI:N``: the rank correlation of a lab-scoped prior
    between two labs (``--lab-correlation``), N linear steps in [0, 1)."""
    low, high = _number(parts[0], "LO", item), _number(parts[1], "HI", item)
    steps = _steps(parts[2], item)
    if not 0 <= low < high < 1:
        raise PriorError(f"the grid must rise within [0, 1), got {item!r}", source=_SOURCE, key=LAB_CORRELATION)
    if len(priors.labs) < 2:
        raise PriorError(f"{priors.source or priors.name} models one lab: a correlation between labs needs "
                         "several (--labs N)", source=_SOURCE, key=LAB_CORRELATION)
    values = _grid(np.linspace(low, high, steps), LAB_CORRELATION)
    return Axis(name=LAB_CORRELATION, values=tuple(float(v) for v in values), log_scale=False,
                unit="rank correlation", spec=f"{priors.labs.correlation:g} (the prior set's)")


def grid_axes(vary: Iterable[str | Axis], priors: PriorSet) -> tuple[Axis, ...]:
    """The axes of a sweep: one or two grids (``"NAME=LO:HI:N"`` or :class:`Axis`), distinct priors."""
    if isinstance(vary, (str, Axis)):
        vary = [vary]
    axes = tuple(v if isinstance(v, Axis) else parse_vary(v, priors) for v in vary)
    if not axes:
        raise PriorError(f"give one or two grids, e.g. {_SOURCE} {_EXAMPLE}", source=_SOURCE)
    if len(axes) > MAX_AXES:
        raise PriorError(f"a sweep varies at most {MAX_AXES} priors, got {len(axes)} "
                         f"({', '.join(a.name for a in axes)})", source=_SOURCE)
    names = [a.name for a in axes]
    if len(set(names)) < len(names):
        raise PriorError(f"{names[0]} is varied twice; vary two different priors", source=_SOURCE)
    return axes


def check_not_set(axes: tuple[Axis, ...], overrides) -> None:
    """Refuse a varied prior that is also overridden (``--set``): the grid would replace it."""
    if not overrides:
        return
    names = overrides.keys() if isinstance(overrides, Mapping) else [str(o).partition("=")[0].strip() for o in overrides]
    both = [a.name for a in axes if a.name in set(names)]
    if both:
        raise PriorError(f"{both[0]} is both varied and set (--set); drop one", source=_SOURCE)


def _pinned(axes: tuple[Axis, ...], index: tuple[int, ...]) -> dict[str, str]:
    """The overrides of one grid point: each value written as ``--set`` would take it (the
    correlation between labs, if varied, under its own name)."""
    return {axis.name: repr(float(axis.values[i])) for axis, i in zip(axes, index)}


def _point_priors(base: PriorSet, pinned: Mapping[str, str] | None) -> tuple[PriorSet, dict[str, str] | None]:
    """The prior set and ``--set`` overrides of a grid point (a varied correlation between
    labs is the prior set's, as ``--lab-correlation`` sets it)."""
    if not pinned or LAB_CORRELATION not in pinned:
        return base, pinned
    pinned = dict(pinned)
    base = base.with_labs(correlation=float(pinned.pop(LAB_CORRELATION)))
    return base, pinned or None


def _coordinate(axis: Axis) -> xr.DataArray:
    p05, p50, p95 = axis.quantiles
    return xr.DataArray(
        np.asarray(axis.values, dtype=float), dims=axis.name,
        attrs={"units": axis.unit, "spacing": "log" if axis.log_scale else "linear",
               "prior_spec": axis.spec, "prior_p05": p05, "prior_p50": p50, "prior_p95": p95,
               "varies": "setting" if axis.name == LAB_CORRELATION else "prior"},
    )


def sweep(
    settings: RunSettings,
    vary: Iterable[str | Axis],
    *,
    threshold: float | str = DEFAULT_THRESHOLD,
    year: int = DEFAULT_TARGET_YEAR,
    prior_set: PriorSet | None = None,
    record=None,
    baseline: bool = True,
    progress: bool = False,
) -> xr.Dataset:
    """P(largest run >= ``threshold`` by ``year``) at every point of a grid of pinned priors.

    Parameters
    ----------
    settings
        The runs' :class:`~forecast.settings.RunSettings` (the command line's): priors and
        their options, ``samples`` (per grid point; :data:`DEFAULT_SWEEP_SAMPLES` is the
        command's default), ``seed``, ``years``, ``as_of`` (``"record"`` conditions every
        grid point on the record, as ``forecast run`` does), the record and the
        ``scheduler`` (a Dask cluster runs every point). Every grid point draws the same
        worlds of the other priors (the same seed), which makes neighbouring points
        comparable. A sweep keeps no worlds. A varied prior may not be one of the settings'
        ``overrides``.
    vary
        One or two grids, ``"NAME=LO:HI:N"`` (see :func:`parse_vary`), or :class:`Axis` objects.
    threshold, year
        The question: a run of at least ``threshold`` FLOP by ``year`` (one of the years).
    prior_set
        The prior set the settings describe, built already (``settings.prior_set()`` by default).
    record
        The record of runs as a table (the settings' record by default).
    baseline
        Also run the prior set itself (no prior pinned): attrs ``baseline_probability``
        and ``baseline_mcse``.
    progress
        A progress bar over the grid points.

    Returns
    -------
    xarray.Dataset
        ``probability`` and its Monte Carlo standard error ``mcse`` (the timeline's), with
        one dim per varied prior, named after it (in the order given; coordinates carry the
        prior's unit, spacing and percentiles); with conditioning also ``pareto_k`` and
        ``ess`` per grid point. Attrs: threshold, year, prior set, seed, samples, years, as_of.

    Raises
    ------
    priors.InputError
        For a bad grid or setting, before any model runs.
    """
    if not isinstance(settings, RunSettings):
        raise TypeError(f"sweep: settings must be a RunSettings, got {type(settings).__name__}")
    threshold = parse_threshold(threshold)
    settings = settings.replace(thresholds=(threshold,), keep=_KEPT_WORLDS)
    base = settings.prior_set() if prior_set is None else prior_set
    axes = grid_axes(vary, base)
    check_not_set(axes, settings.overrides)
    years, seed, as_of = settings.years, settings.seed, settings.as_of
    try:
        year = check_target_year(year, years)
    except InputError as err:
        raise InputError(str(err).replace("target_year:", "year:", 1)) from None
    runs = record if record is not None or settings.as_of is None else settings.runs()  # read once
    settings.conditioning(runs)  # refused before any run

    def point(pinned: Mapping[str, str] | None):
        prior_set, overrides_here = _point_priors(base, pinned)
        result = run_settings(settings, prior_set=prior_set.with_overrides(overrides_here), record=runs)
        reach = result.timeline.isel(threshold=0).sel(year=year)
        return result, float(reach["probability"]), float(reach["mcse"])

    shape = tuple(len(a.values) for a in axes)
    fields = {key: np.full(shape, np.nan) for key in ("probability", "mcse", "pareto_k", "ess")}
    metadata: dict = {}
    n_samples = settings.samples
    grid = list(np.ndindex(shape))
    with warnings.catch_warnings(record=True) as caught:  # the filters as they are: each once
        for index in tqdm(grid, desc="grid", unit="point", disable=not progress):
            result, fields["probability"][index], fields["mcse"][index] = point(_pinned(axes, index))
            fields["pareto_k"][index] = result.metadata.get("pareto_k", math.nan)
            fields["ess"][index] = result.metadata.get("ess", math.nan)
            metadata, n_samples = result.metadata, result.n_samples
            del result  # the worlds of a grid point are not kept
        base_p = base_se = math.nan
        if baseline:
            _, base_p, base_se = point(None)
    _reissue(caught, fields["pareto_k"])

    dims = tuple(a.name for a in axes)
    question = f"P(largest run >= {threshold:.3g} FLOP by {year})"
    data_vars = {
        "probability": (dims, fields["probability"], {"long_name": question}),
        "mcse": (dims, fields["mcse"], {"long_name": f"Monte Carlo standard error of {question}"}),
    }
    if as_of is not None:
        data_vars["pareto_k"] = (dims, fields["pareto_k"], {"long_name": "Pareto k of the conditioning weights"})
        data_vars["ess"] = (dims, fields["ess"], {"long_name": "effective sample size of the conditioning"})
    return xr.Dataset(
        data_vars,
        coords={a.name: _coordinate(a) for a in axes},
        attrs={
            "threshold": threshold, "year": int(year), "varied": ",".join(dims),
            "prior_set": base.name, "priors_file": base.source, "priors_sha256": base.fingerprint(),
            "seed": int(seed), "samples": int(n_samples), "first_year": int(years[0]),
            "last_year": int(years[-1]),
            "as_of": "none" if as_of is None else str(metadata.get("as_of", as_of)),
            "conditioned_on": str(metadata.get("conditioned_on", "nothing: the prior forecast")),
            "baseline_probability": base_p, "baseline_mcse": base_se,
            "others": "every other prior random, the same worlds at every grid point (same seed)",
        },
    )


def _reissue(caught: list, pareto_k: np.ndarray) -> None:
    """The warnings of the grid's runs, each text once; unreliable conditioning as one
    warning for the whole grid (its text differs from point to point)."""
    from forecast.conditioning import K_HAT_LIMIT, ConditioningWarning

    seen = set()
    for message in caught:
        if issubclass(message.category, ConditioningWarning):
            continue
        key = (message.category, str(message.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(message.message, message.category, stacklevel=3)
    bad = int(np.sum(pareto_k > K_HAT_LIMIT))
    if bad:
        warnings.warn(
            f"UNRELIABLE conditioning on the record at {bad} of {pareto_k.size} grid points "
            f"(Pareto k up to {np.nanmax(pareto_k):.2f} > {K_HAT_LIMIT}; see pareto_k in the grid); "
            "draw more worlds (--samples)", ConditioningWarning, stacklevel=3,
        )


def crossings(curve: xr.DataArray, level: float) -> list[float]:
    """Where a probability curve over one varied prior crosses ``level``, interpolated
    linearly in the prior's scale (log for a log-spaced grid); empty when it never does."""
    if curve.ndim != 1:
        raise ValueError(f"crossings: expected a curve over one prior, got dims {curve.dims}")
    coord = curve[curve.dims[0]]
    x = np.asarray(coord.values, dtype=float)
    log = coord.attrs.get("spacing") == "log"
    u = np.log10(x) if log else x
    p = np.asarray(curve.values, dtype=float)
    out = []
    for i in range(len(p) - 1):
        a, b = p[i] - level, p[i + 1] - level
        if not (np.isfinite(a) and np.isfinite(b)) or a == b:
            continue
        if (a < 0 <= b) or (b < 0 <= a):
            at = u[i] + (u[i + 1] - u[i]) * a / (a - b)
            out.append(float(10**at if log else at))
    return out
