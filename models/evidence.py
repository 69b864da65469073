"""What gets published: the observation model of MODEL.md v3, as pure functions.

A lab's largest run of year ``y`` finishes at a time uniform in ``[y, y + 1)`` (decimal
years). It ever gets a public compute estimate with probability ``p`` (the lab's
``disclosure_probability``), after an exponential delay with median ``m`` months
(``disclosure_delay_months``). By date ``d`` (a decimal year) it is public with probability

    P(public by d) = p * integral_y^min(y+1, d) (1 - 2^(-(d - f) / m)) df
                   = p * (L + expm1(-r L) exp(-r (d - y - L)) / r),   L = clip(d - y, 0, 1)

with ``r = 12 ln 2 / m`` per year (``m`` in months) (:func:`disclosed_by`): the finish time is integrated out
analytically; a run whose year has not begun by ``d`` is never public by then, one of the
year of ``d`` only if it finished before ``d``. Delay 0 gives ``p * L``.

A public estimate is ``log10 e = log10 C + eps``, ``eps ~ N(0, s)`` (:func:`log_estimate`).
A row known not to be the largest of its lab-year, or a row of an organization outside the
modelled labs, says only that a run at least that large happened: ``log Phi((log10 C -
log10 e) / s)`` for the lab's run or the frontier (:func:`log_lower_bound`).

:func:`log_likelihood` sums these over an :class:`Evidence` (the record, as index arrays):
per observed lab-year ``log P(public) + log N(e; C, s)`` where a row is public, ``log(1 -
P(public))`` where none is. The functions take NumPy arrays (and return NumPy arrays, in
float64) or JAX arrays and tracers (inside NumPyro: ``numpyro.factor``), so importance
weights and NUTS call the same arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from priors.labs import column

__all__ = [
    "LIKELIHOOD_SITES",
    "DisclosureGrid",
    "Evidence",
    "WorldArrays",
    "disclosed_by",
    "disclosed_cells",
    "log_estimate",
    "log_likelihood",
    "log_lower_bound",
    "published_by",
    "published_max_cdf",
    "published_max_draws",
    "published_since",
    "record_log_likelihood",
    "record_terms",
    "row_sd",
    "share_at_least",
    "summed_terms",
    "world_arrays",
]

#: The outputs the likelihood reads: the frontier and each lab's largest run.
TARGET = "log10_training_compute"
LAB_TARGET = "log10_lab_training_compute"
#: The sites :func:`world_arrays` reads (a lab-scoped prior by its name: each lab's column).
LIKELIHOOD_SITES = frozenset({TARGET, LAB_TARGET, "disclosure_probability", "disclosure_delay_months",
                              "estimate_sd_dex"})
#: What a world that draws no observation priors takes (as :data:`priors.labs.NEUTRAL`):
#: every run estimated, at once, with an error of 0.15 dex where a row states none.
_NEUTRAL = {"disclosure_probability": 1.0, "disclosure_delay_months": 0.0, "estimate_sd_dex": 0.15}

#: The shortest median delay the arithmetic uses (years): 0 is "at once".
_MIN_DELAY_YEARS = 1e-9
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _xp(*arrays):
    """NumPy and SciPy's special functions, or JAX's where any argument is a JAX array."""
    try:
        import jax

        if any(isinstance(a, jax.Array) for a in arrays):
            import jax.numpy as jnp
            import jax.scipy.special as jsp

            return jnp, jsp
    except ImportError:  # pragma: no cover - JAX is a dependency
        pass
    import scipy.special as sp

    return np, sp


def _rate(xp, delay_months):
    """The delay's rate per year, ``r = 12 ln 2 / m`` (``m`` the median in months; 0 is at once)."""
    return 12.0 * math.log(2.0) / xp.maximum(xp.asarray(delay_months, dtype=float), 12.0 * _MIN_DELAY_YEARS)


def _span_after(xp, finish_year, date):
    """The share of the finish year gone by ``date``, ``L = clip(d - y, 0, 1)``, and the time
    from the year's end to ``date``, ``max(d - y - L, 0)``."""
    span = xp.clip(xp.asarray(date, dtype=float) - finish_year, 0.0, 1.0)
    return span, xp.maximum(xp.asarray(date, dtype=float) - finish_year - span, 0.0)


def _disclosed(xp, probability, span, in_year, after_year, rate, out=None):
    """``p * clip(L + expm1(-r L) exp(-r (d - y - L)) / r, 0, 1)``, from the run's two decay
    factors ``in_year = expm1(-r L)`` and ``after_year = exp(-r (d - y - L))``. NumPy may
    write it into ``out``: the same operations in place, no temporaries (where every large
    block is mapped fresh from the system, a temporary of a chunk's size costs several
    times its arithmetic in page faults)."""
    if out is None:
        return probability * xp.clip(span + in_year * after_year / rate, 0.0, 1.0)
    np.multiply(in_year, after_year, out=out)
    out /= rate
    out += span
    np.clip(out, 0.0, 1.0, out=out)
    out *= probability
    return out


def disclosed_by(probability, delay_months, finish_year, date):
    """P(the largest run of ``finish_year`` has a public estimate by ``date``).

    Parameters
    ----------
    probability, delay_months
        The lab's ``disclosure_probability`` and ``disclosure_delay_months`` (median of the
        exponential delay; 0 is at once). Broadcast together with the others.
    finish_year
        The calendar year the run finishes in (its finish time is uniform in the year).
    date
        The date, as a decimal year (2027-06-01 is about 2027.41).
    """
    xp, _ = _xp(probability, delay_months, finish_year, date)
    rate = _rate(xp, delay_months)
    span, after = _span_after(xp, finish_year, date)
    return _disclosed(xp, probability, span, xp.expm1(-rate * span), xp.exp(-rate * after), rate)


class DisclosureGrid:
    """:func:`disclosed_by` of each lab's run of each year, in a batch of worlds (NumPy), at
    whatever dates the caller asks: what a chunk's record and its questions read.

    The same numbers as broadcasting :func:`disclosed_by` over ``(..., lab, year)``, bit for
    bit, for less: ``L`` and ``d - y - L`` are numbers per (year, date), so each exponential
    of the worlds' rates is computed once per (world, lab) and distinct exponent and shared
    by every year and date that reads it (every whole year before ``d`` reads ``expm1(-r)``;
    the year of ``d`` reads ``exp(-r 0) = 1``, not computed; a year not begun by ``d`` is 0),
    where broadcasting computes both per (world, lab, year) and per date.

    Parameters
    ----------
    probability, delay_months
        Each lab's ``disclosure_probability`` and ``disclosure_delay_months``, ``(..., lab)``.
    """

    def __init__(self, probability, delay_months):
        self.probability = np.asarray(probability, dtype=float)
        self.rate = _rate(np, delay_months)
        self._decay = {}  # (function, exponent) -> its value per (world, lab)

    def _factor(self, function, exponent):
        key = (function.__name__, float(exponent))
        if key not in self._decay:
            scaled = np.multiply(self.rate, -exponent)
            self._decay[key] = function(scaled, out=scaled)
        return self._decay[key]

    def by(self, date, finish_years):
        """P(public by ``date``) of each lab's run of each of ``finish_years``, ``(..., lab, year)``
        (each year's values contiguous)."""
        public = np.zeros((len(finish_years), *self.probability.shape))
        for i, year in enumerate(np.asarray(finish_years, dtype=float)):
            span, after = _span_after(np, year, date)
            if span > 0:  # else 0: the year has not begun
                after_year = self._factor(np.exp, after) if after > 0 else 1.0
                _disclosed(np, self.probability, span, self._factor(np.expm1, span), after_year, self.rate,
                           out=public[i])
        return np.moveaxis(public, 0, -1)


def published_since(now, before):
    """P(public by ``d`` | not public by ``s``) from P(public by ``d``) and P(public by ``s``)
    (:func:`disclosed_by` at both dates, ``s`` before ``d``)."""
    xp, _ = _xp(now, before)
    return xp.clip((now - before) / xp.maximum(1.0 - before, 1e-300), 0.0, 1.0)


def published_by(probability, delay_months, finish_year, date, since=None):
    """P(public by ``date``), or where ``since`` is given (a decimal year before ``date``)
    P(public by ``date`` | not public by ``since``)."""
    now = disclosed_by(probability, delay_months, finish_year, date)
    if since is None:
        return now
    return published_since(now, disclosed_by(probability, delay_months, finish_year, since))


def log_estimate(log10_compute, log10_estimate, sd):
    """log N(log10 e; log10 C, s): a public estimate of the run."""
    xp, _ = _xp(log10_compute, log10_estimate, sd)
    z = (log10_estimate - log10_compute) / sd
    return -0.5 * z * z - xp.log(sd) - _LOG_SQRT_2PI


def log_lower_bound(log10_compute, log10_estimate, sd):
    """log P(a run estimated at ``e`` is at most C) = log Phi((log10 C - log10 e) / s)."""
    _, special = _xp(log10_compute, log10_estimate, sd)
    return special.log_ndtr((log10_compute - log10_estimate) / sd)


def share_at_least(log10_compute, log10_threshold, sd, out=None, *, floor=None):
    """P(an estimate of a run of ``C`` is >= t) = Phi((log10 C - log10 t) / s) (NumPy may
    write it into ``out``, as :func:`_disclosed`).

    ``floor`` (NumPy, with a contiguous ``out``): a score below which the share is taken as
    0 and not computed. For :data:`NEVER_REACHED` that changes no bit of ``1 - p x share``
    (any ``p`` in [0, 1]), what a question's answer multiplies: the share is then below
    2^-54, and ``1 - x`` is exactly 1 in float64. About half of the cells of the default
    questions, where ``ndtr`` costs 10-20 ns a value."""
    _, special = _xp(log10_compute, log10_threshold, sd)
    if out is None:
        return special.ndtr((log10_compute - log10_threshold) / sd)
    np.subtract(log10_compute, log10_threshold, out=out)
    out /= sd
    if floor is None or not (out.flags.c_contiguous or out.flags.f_contiguous):
        return special.ndtr(out, out=out)
    # its elements in memory order, a view (a fancy index's copy is in Fortran order, and a
    # boolean index of it costs what it saves)
    flat = out.ravel(order="K")
    live = np.flatnonzero(~(flat < floor))  # and a NaN, computed: it stays NaN
    shares = special.ndtr(flat[live])
    flat.fill(0.0)
    flat[live] = shares
    return out


#: The score below which an estimate is taken never to reach a threshold where only
#: ``1 - p x share`` is read (:func:`share_at_least`): Phi(-8.5) = 9.5e-18 < 2^-54.
NEVER_REACHED = -8.5


@dataclass(frozen=True)
class Evidence:
    """The record as of a date, as index arrays into a world's ``(lab, year)`` outputs.

    Attributes
    ----------
    as_of
        The date, as a decimal year.
    cell_lab, cell_year, cell_finish, cell_public
        One entry per observed lab-year (every lab, every forecast year up to the as-of
        date's): the lab's index, the year's index, the year, and whether its largest run
        has a public row.
    estimate_lab, estimate_year, estimate_value, estimate_sd
        One entry per row read as an estimate of its lab-year's largest run: log10 FLOP and
        its sd (NaN: the world's ``estimate_sd_dex``).
    bound_lab, bound_year, bound_value, bound_sd
        Rows that bound their lab's run from below.
    frontier_year, frontier_value, frontier_sd
        Rows of organizations outside the labs: they bound the frontier from below.
    """

    as_of: float
    cell_lab: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    cell_year: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    cell_finish: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cell_public: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    estimate_lab: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    estimate_year: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    estimate_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    estimate_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bound_lab: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    bound_year: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    bound_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bound_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    frontier_year: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    frontier_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    frontier_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def empty(self) -> bool:
        return self.cell_lab.size == 0 and self.frontier_year.size == 0


def row_sd(xp, stated, default):
    """Each row's sd: its own where stated, else the world's ``estimate_sd_dex``."""
    stated = np.asarray(stated, dtype=float)
    return xp.where(np.isfinite(stated), np.nan_to_num(stated, nan=1.0), default[..., None])


def disclosed_cells(probability, delay_months, evidence: Evidence):
    """:func:`disclosed_by` of each observed lab-year of ``evidence`` (its cells) at its as-of
    date, ``(..., cell)``, from each lab's disclosure priors ``(..., lab)``; NumPy's through a
    :class:`DisclosureGrid` (the same numbers)."""
    ev = evidence
    xp, _ = _xp(probability, delay_months)
    if xp is np:
        years, column = np.unique(ev.cell_finish, return_inverse=True)
        return DisclosureGrid(probability, delay_months).by(ev.as_of, years)[..., ev.cell_lab, column]
    return disclosed_by(probability[..., ev.cell_lab], delay_months[..., ev.cell_lab], ev.cell_finish, ev.as_of)


def log_likelihood(lab_compute, frontier, probability, delay_months, estimate_sd, evidence: Evidence):
    """Log likelihood of the record in each world.

    Parameters
    ----------
    lab_compute
        log10 FLOP of each lab's largest run, ``(..., lab, year)``.
    frontier
        log10 FLOP of the largest run of all, ``(..., year)``.
    probability, delay_months
        Each lab's ``disclosure_probability`` and ``disclosure_delay_months``, ``(..., lab)``.
    estimate_sd
        The world's ``estimate_sd_dex``, ``(...)``: the sd of a row that states none.
    evidence
        The record (:class:`Evidence`).

    Returns
    -------
    array ``(...)``
    """
    xp, _ = _xp(lab_compute, frontier, probability, delay_months, estimate_sd)
    terms = record_terms(lab_compute, frontier, probability, delay_months, estimate_sd, evidence)
    return summed_terms(terms, evidence, xp.zeros(xp.shape(frontier)[:-1]))


def record_terms(lab_compute, frontier, probability, delay_months, estimate_sd, evidence: Evidence) -> dict:
    """The pieces of :func:`log_likelihood` in each world, by kind of row, those the record
    has (the arguments as there): ``"public"``, P(public by the as-of date) of each observed
    lab-year, ``(..., cell)`` (:func:`disclosed_cells`); ``"estimate"``, ``"bound"`` and
    ``"frontier"``, the log likelihood of each estimate, lower bound and frontier bound row,
    ``(..., row)`` (:func:`log_estimate`, :func:`log_lower_bound`)."""
    xp, _ = _xp(lab_compute, frontier, probability, delay_months, estimate_sd)
    ev = evidence
    terms = {}
    if ev.cell_lab.size:
        terms["public"] = disclosed_cells(probability, delay_months, ev)
    if ev.estimate_lab.size:
        sd = row_sd(xp, ev.estimate_sd, estimate_sd)
        terms["estimate"] = log_estimate(lab_compute[..., ev.estimate_lab, ev.estimate_year], ev.estimate_value, sd)
    if ev.bound_lab.size:
        sd = row_sd(xp, ev.bound_sd, estimate_sd)
        terms["bound"] = log_lower_bound(lab_compute[..., ev.bound_lab, ev.bound_year], ev.bound_value, sd)
    if ev.frontier_year.size:
        sd = row_sd(xp, ev.frontier_sd, estimate_sd)
        terms["frontier"] = log_lower_bound(frontier[..., ev.frontier_year], ev.frontier_value, sd)
    return terms


def summed_terms(terms: dict, evidence: Evidence, total):
    """:func:`log_likelihood` from its pieces (:func:`record_terms`), added to ``total`` (zeros
    of the worlds' shape)."""
    xp, _ = _xp(total, *terms.values())
    if "public" in terms:
        public = terms["public"]
        # log 0 where a row is public in a world whose lab never discloses: that world is ruled out
        with np.errstate(divide="ignore"):
            cells = xp.where(evidence.cell_public, xp.log(public), xp.log1p(-public))
        total = total + cells.sum(axis=-1)
    for kind in ("estimate", "bound", "frontier"):
        if kind in terms:
            total = total + terms[kind].sum(axis=-1)
    return total


@dataclass(frozen=True)
class WorldArrays:
    """Worlds' outputs as the observation model reads them (NumPy or JAX arrays; ``...`` is
    the worlds' batch shape: ``(n,)`` for a chunk, ``()`` for the one world of a NumPyro
    trace)."""

    lab_compute: object  # (..., lab, year)
    frontier: object  # (..., year)
    probability: object  # (..., lab)
    delay: object  # (..., lab)
    estimate_sd: object  # (...)


def world_arrays(out: Mapping, labs) -> WorldArrays:
    """The arrays the likelihood needs from worlds' outputs ``out`` (name -> array: a chunk's
    outputs, the sites of one NumPyro trace, or a saved run's variables), for worlds of
    ``labs``: the frontier, each lab's compute (the frontier for one lab), and each lab's
    disclosure priors (a lab-scoped prior's column per lab; the neutral value where the
    worlds draw none)."""
    labs = tuple(labs)
    xp, _ = _xp(out[TARGET])
    as_array = (lambda v: np.asarray(v, dtype=float)) if xp is np else xp.asarray
    frontier = as_array(out[TARGET])
    batch = frontier.shape[:-1]
    lab_compute = as_array(out[LAB_TARGET]) if LAB_TARGET in out else frontier[..., None, :]

    def per_lab(name):
        value = out.get(name)
        if value is not None and "lab" in getattr(value, "dims", ()):  # a saved run: dims sample, lab
            return np.asarray(value.transpose("sample", "lab").sel(lab=list(labs)), dtype=float)
        cols = [out.get(column(name, lab, len(labs))) for lab in labs]
        return xp.stack([xp.full(batch, _NEUTRAL[name]) if c is None else xp.broadcast_to(as_array(c), batch)
                         for c in cols], axis=-1)

    sd = out.get("estimate_sd_dex")
    return WorldArrays(lab_compute=lab_compute, frontier=frontier,
                       probability=per_lab("disclosure_probability"),
                       delay=per_lab("disclosure_delay_months"),
                       estimate_sd=(xp.full(batch, _NEUTRAL["estimate_sd_dex"]) if sd is None
                                    else xp.broadcast_to(as_array(sd), batch)))


def record_log_likelihood(out: Mapping, labs, evidence: Evidence):
    """:func:`log_likelihood` of the record in worlds given by their outputs ``out`` (read by
    :func:`world_arrays`): what importance sampling weighs each world by and what NUTS
    samples, one function for both."""
    w = world_arrays(out, labs)
    return log_likelihood(w.lab_compute, w.frontier, w.probability, w.delay, w.estimate_sd, evidence)


def published_max_cdf(log10_compute, disclosed, sd, x, floor=-math.inf):
    """The distribution of the largest public estimate among several runs, in each world,
    or ``floor`` where none of them is public.

    Each run ``j`` (the last axis) gets a public estimate with probability ``disclosed_j``
    (:func:`disclosed_by`), independently given the world, and an estimate is
    ``log10 C_j + eps``, ``eps ~ N(0, sd)`` (:func:`share_at_least`, :func:`log_estimate`).
    So the largest is ``<= x`` with probability ``P(x) = prod_j (1 - disclosed_j *
    Phi((log10 C_j - x) / sd))``, which counts "no run public" as below every ``x``. That
    case has probability ``P0 = prod_j (1 - disclosed_j)`` and its value is ``floor`` (in a
    hindcast, the largest run known at the cutoff), so ``F(x) = P(x)`` for ``x >= floor``
    and ``P(x) - P0`` below it. The density of the continuous part is ``P'(x) = P(x) sum_j
    disclosed_j phi((log10 C_j - x) / sd) / sd / (1 - q_j(x))`` either way.

    Parameters
    ----------
    log10_compute, disclosed
        ``(..., runs)``.
    sd
        ``(...)``: the world's estimate error (``estimate_sd_dex``).
    x
        Broadcast against ``(...)``: where to evaluate, log10 FLOP.
    floor
        Broadcast against ``(...)``: the value where no run is public (-inf by default).

    Returns
    -------
    cdf, density
        ``F(x)`` and the density of its continuous part, shape ``(...)``.
    """
    xp, _ = _xp(log10_compute, disclosed, sd, x)
    x = xp.asarray(x, dtype=float)
    sd = xp.asarray(sd, dtype=float)[..., None]
    q = disclosed * share_at_least(log10_compute, x[..., None], sd)
    below_x = xp.exp(xp.sum(xp.log1p(-xp.minimum(q, 1.0 - 1e-15)), axis=-1))
    none_public = xp.exp(xp.sum(xp.log1p(-xp.minimum(disclosed, 1.0 - 1e-15)), axis=-1))
    cdf = xp.where(x >= floor, below_x, xp.maximum(below_x - none_public, 0.0))
    hazard = disclosed * xp.exp(log_estimate(log10_compute, x[..., None], sd)) / xp.maximum(1.0 - q, 1e-15)
    return cdf, below_x * xp.sum(hazard, axis=-1)


def published_max_draws(log10_compute, disclosed, sd, uniform, normal, floor=-math.inf):
    """Draws of the largest public estimate among several runs (as :func:`published_max_cdf`):
    run ``j`` is public where ``uniform_j < disclosed_j``, its estimate ``log10 C_j + sd *
    normal_j``; ``floor`` where no run is public.

    ``log10_compute, disclosed, uniform, normal``: ``(..., runs)``; ``sd, floor``: ``(...)``.
    """
    xp, _ = _xp(log10_compute, disclosed, sd, uniform, normal)
    estimate = log10_compute + xp.asarray(sd, dtype=float)[..., None] * normal
    largest = xp.max(xp.where(uniform < disclosed, estimate, -xp.inf), axis=-1)
    return xp.where(xp.isfinite(largest), largest, floor)
