"""One prior at a time: the tornado (each prior pinned at its 5th and 95th percentile) and
prior swaps (a prior, or a file's priors, replaced), with common random numbers.

Pinning is done in score space (prior ``i``'s score set to ``c = ndtri(q)``), which gives
exactly ``prior.family.ppf(q)`` for that prior, keeps every other world's scores the same (the
shifts are not noise), and reuses one compiled model instead of compiling one per pinned
prior set.

Correlated priors (a Gaussian copula, ``z = L e``): pinning a correlated prior moves its
partners as the copula implies. With ``R`` the scores' correlation matrix, the pinned worlds
are ``z' = z + (c - z_i) R[:, i]`` (Matheron's rule): exactly the conditional distribution of
the other scores given ``z_i = c``, built from the same random numbers (``R_ii = 1``, so
``z'_i = c``). The model takes independent scores, so the worlds pushed are
``e' = L^{-1} z'``, one triangular solve per correlated block; priors outside the pinned
prior's block keep their ``e`` bit for bit. Its bar therefore includes its partners'. The
alternative, pinning the independent score ``e_i``, would leave the prior's value depending
on the partners that come before it in ``L`` (not the 5th percentile), and is not used.

In a swap every world keeps its scores for the priors that were not swapped (scores are
drawn per prior *name*, so a prior that turns from fixed to uncertain does not reshuffle the
others). With correlations the common random numbers are the correlated scores ``z``: a
swap that pins a correlated prior to a value drops its pairs (the prior set says so), and
its former partners keep their score, hence their value, in every world; the swapped set's
own copula still applies (the model applies its ``L``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.linalg import solve_triangular
from scipy.special import ndtri

from forecast.conditioning import record_weights
from forecast.sensitivity.worlds import (
    DEFAULT_SWAP_SAMPLES,
    TORNADO_QUANTILES,
    blocks_and_mixing,
    as_dataarray,
    correlated_scores,
    headline_numbers,
    independent_scores,
    latent_scores,
    push_log10_compute,
    scores_by_name,
)
from forecast.settings import (
    DEFAULT_SEED,
    check_samples,
    check_target_year,
    parse_threshold,
)
from models import BASE_YEAR, PARAMETERS
from priors import InputError, Prior, PriorError, PriorSet, load_prior_set, parse_spec
from priors.labs import ALTERNATIVES, base_name
from priors.files import resolve_prior_path

__all__ = [
    "PINNING_CONDITIONAL", "PINNING_INDEPENDENT", "conditional_pin", "parse_swap", "pin_scores",
    "prior_swaps", "swap_file_set", "swap_scores", "tornado",
]

#: How the tornado treats a pinned prior's correlated partners (attrs ``pinning``).
PINNING_CONDITIONAL = (
    "pinning a correlated prior moves its partners as the copula implies (conditional), "
    "so its bar includes theirs"
)
PINNING_INDEPENDENT = "one prior pinned, every other prior's score unchanged (no correlations)"

# --------------------------------------------------------------------------- prior swaps


def parse_swap(priors: PriorSet, text: str) -> PriorSet:
    """``"NAME=SPEC"`` -> the prior set with that one prior replaced.

    Raises
    ------
    priors.PriorError
        For a missing ``=``, an unknown prior name or a spec that cannot be read, naming
        ``--swap`` and the prior.
    """
    name, sep, spec = str(text).partition("=")
    name, spec = name.strip(), spec.strip().strip("'\"")
    if not sep or not name or not spec:
        raise PriorError(f"expected NAME=SPEC, got {text!r}", source="--swap")
    if name not in priors and ALTERNATIVES.get(name) not in priors:
        raise priors.unknown_name_error(name, source="--swap")
    try:
        family = parse_spec(spec)
    except PriorError as err:
        raise err.located(source="--swap", key=name) from None
    prior = Prior(name=name, spec=spec, family=family, origin="--swap")
    return priors.with_priors([prior], name=f"{name}={spec}")


def swap_file_set(priors: PriorSet, path_or_name: str | Path) -> PriorSet:
    """``priors`` with every prior that a prior file itself defines swapped in.

    The file (or a built-in scenario by name: ``power_wall``) is read as
    :func:`priors.load_prior_set` reads it; only the priors written in that file (its own
    ``[priors]`` section, not what it inherits) replace those of ``priors``.
    """
    path = resolve_prior_path(path_or_name)
    loaded = load_prior_set(path)
    own = [p for p in loaded if p.origin and Path(p.origin).resolve() == path.resolve()]
    if not own:
        raise PriorError("--swap-file: the file defines no priors", source=str(path))
    return priors.with_priors(own, name=f"{loaded.name} ({len(own)} priors)")


# --------------------------------------------------------------------------- tornado


def conditional_pin(z: np.ndarray, correlation: np.ndarray, index, score: float) -> np.ndarray:
    """Worlds ``z`` (n, m) of scores with correlation matrix ``correlation``, with the score(s)
    ``index`` (one column, or several: a lab-scoped prior's columns) pinned at ``score`` and
    the others drawn from their conditional distribution.

    Matheron's rule: ``z' = z + (score - z_I) R_II^-1 R_I:``. For one column, ``z'_j`` has
    mean ``R_ji score`` and variance ``1 - R_ji^2``; jointly it is the conditional law given
    ``z_I = score``, and it reuses each world's random numbers. ``z'_I`` is set exactly.
    """
    z = np.asarray(z, dtype=float)
    index = np.atleast_1d(np.asarray(index, dtype=int))
    correlation = np.asarray(correlation, dtype=float)
    gain = np.linalg.solve(correlation[np.ix_(index, index)], correlation[index, :])  # R_II^-1 R_I:
    pinned = z + (score - z[:, index]) @ gain
    pinned[:, index] = score
    return pinned


def _pinner(priors: PriorSet, e: np.ndarray):
    """``pin(i, score)`` -> the independent scores of the worlds ``e`` with latent prior ``i``
    pinned at ``score`` and its correlated partners conditioned (:func:`conditional_pin`)."""
    blocks, mixing = blocks_and_mixing(priors)
    block_of = {int(i): b for b in blocks for i in b}
    correlation = priors.score_correlation()
    z = {}  # each block's correlated scores, computed on first use

    def pin(i, score: float) -> np.ndarray:
        """Pin the column(s) ``i`` (all in one block, or one independent column)."""
        out = np.array(e, dtype=float, copy=True)
        columns = np.atleast_1d(i)
        b = block_of.get(int(columns[0]))
        if b is None:  # an independent prior: its own column, nothing else moves
            out[:, columns] = score
            return out
        factor = mixing[np.ix_(b, b)]
        if tuple(b) not in z:
            z[tuple(b)] = out[:, b] @ factor.T
        j = [int(np.flatnonzero(b == c)[0]) for c in columns]
        moved = conditional_pin(z[tuple(b)], correlation[np.ix_(b, b)], j, score)
        out[:, b] = solve_triangular(factor, moved.T, lower=True).T
        return out

    return pin


def pin_scores(priors: PriorSet, e: np.ndarray, name: str, score: float) -> np.ndarray:
    """Independent scores for the worlds ``e`` (n, n_latent) with prior ``name`` pinned at
    the normal score ``score``, as the tornado pins it.

    The model applied to the result (``z = L e'``) has ``z_name = score`` (up to rounding),
    hence the value ``family.ppf(Phi(score))``, and the prior's correlated partners at
    their conditional distribution given it, from the same random numbers; every prior
    outside its correlation block keeps its score bit for bit.
    """
    names = priors.latent_names
    columns = priors.prior_columns(name) if name in priors.latent_priors else (name,) if name in names else ()
    if not columns:
        raise InputError(f"{name!r} is not an uncertain prior of {priors.name!r}")
    return _pinner(priors, np.asarray(e, dtype=float))([names.index(c) for c in columns], float(score))


def tornado(
    priors: PriorSet,
    *,
    years: Sequence[int],
    target_year: int,
    threshold: float,
    samples: int = DEFAULT_SWAP_SAMPLES,
    seed: int = DEFAULT_SEED,
    quantiles: tuple[float, float] = TORNADO_QUANTILES,
    base_year: float = BASE_YEAR,
    conditioning: tuple | None = None,
) -> xr.Dataset:
    """One prior at a time pinned at its 5th and 95th percentile, the others random.

    ``conditioning``: ``(runs, as_of)`` to weigh each run's worlds by the record up to
    ``as_of`` (Pareto-smoothed importance weights, :func:`forecast.conditioning.record_weights`),
    so that each bar says what the pin does to the forecast given what is known.

    Every run uses the same scores for the priors that are not pinned, so a shift is the
    effect of the pin, not sampling noise. Pinning a correlated prior moves its partners as
    the copula implies (conditional), so its bar includes theirs (:func:`conditional_pin`;
    the coordinate ``moves_with`` names them). A set without correlations pins one score
    column and nothing else, as it always did.

    Returns
    -------
    xarray.Dataset
        Dims ``prior`` (sorted: widest median shift first) and ``pin`` (``low``, ``high``):
        ``value`` (the pinned value), ``quantile``, ``median`` (log10 compute in the target
        year), ``probability`` (P(>= threshold by the target year)), ``median_shift`` and
        ``probability_shift`` (against the run with nothing pinned), ``median_width`` and
        ``probability_width`` (|high - low|); scalars ``base_median`` and ``base_probability``;
        coordinates ``unit`` and ``moves_with`` (the correlated partners that move with each
        pin, ``""`` for an independent prior). attrs ``pinning``: how partners were treated.
    """
    years = tuple(int(y) for y in years)
    target_year = check_target_year(target_year, years)
    threshold = parse_threshold(threshold)
    samples = check_samples(samples)
    lo, hi = (float(q) for q in quantiles)
    if not 0.0 < lo < hi < 1.0:
        raise InputError(f"tornado quantiles must satisfy 0 < low < high < 1, got {quantiles!r}")
    priors.validate(PARAMETERS)
    columns = priors.latent_names
    names = priors.latent_priors  # one bar per prior: a lab-scoped prior pinned in every lab
    if not names:
        raise InputError("every prior is fixed: there is nothing to pin")
    groups = [[columns.index(c) for c in priors.prior_columns(n)] for n in names]
    z = latent_scores(scores_by_name(priors, samples, seed), priors.column_names, priors)
    k, m = len(names), len(columns)
    pinned = np.broadcast_to(z, (1 + 2 * k, samples, m)).copy()
    if priors.transform().mixing is None:
        for i, group in enumerate(groups):
            pinned[1 + 2 * i][:, group] = ndtri(lo)
            pinned[2 + 2 * i][:, group] = ndtri(hi)
    else:
        pin = _pinner(priors, z)
        for i, group in enumerate(groups):
            pinned[1 + 2 * i] = pin(group, ndtri(lo))
            pinned[2 + 2 * i] = pin(group, ndtri(hi))
    # each pinned run of a world keeps the world's lab-year draws
    log10_c = push_log10_compute(priors, pinned.reshape(-1, m), years, base_year,
                                 world_index=np.tile(np.arange(samples), 1 + 2 * k))
    log10_c = log10_c.reshape(1 + 2 * k, samples, len(years))

    log10_c = as_dataarray(log10_c, years, dims=("run", "sample", "year"))
    weights = ks = None
    if conditioning is not None:
        weights, ks = record_weights(log10_c, *conditioning)
        ks = ks.values
    numbers = headline_numbers(log10_c, threshold, weights).sel(year=target_year)
    median, prob = numbers["median"].values, numbers["probability"].values
    # each prior's own value at the pinned score: its quantile function, no copula
    marginal = replace(priors, correlations=(), labs=replace(priors.labs, correlation=0.0))
    at_pins = marginal.values_from_normal(np.repeat(ndtri([[lo], [hi]]), m, axis=1))
    # a lab-scoped prior's value: its first lab's (where labs have their own specs they differ)
    values = np.stack([np.asarray(at_pins[priors.prior_columns(n)[0]], dtype=float) for n in names])
    blocks = [tuple(dict.fromkeys(base_name(c) for c in block)) for block in priors.correlation_blocks()]
    partners = {n: [p for p in block if p != n] for block in blocks for n in block}
    ds = xr.Dataset(
        {
            "value": (("prior", "pin"), values),
            "median": (("prior", "pin"), median[1:].reshape(k, 2), {"units": "log10 FLOP"}),
            "probability": (("prior", "pin"), prob[1:].reshape(k, 2)),
            "base_median": ((), median[0], {"units": "log10 FLOP"}),
            "base_probability": ((), prob[0]),
        },
        coords={
            "prior": list(names),
            "pin": ["low", "high"],
            "quantile": ("pin", [lo, hi]),
            "unit": ("prior", [priors[n].unit for n in names]),
            "moves_with": ("prior", [", ".join(partners.get(n, [])) for n in names]),
        },
    )
    ds["median_shift"] = ds["median"] - ds["base_median"]
    ds["probability_shift"] = ds["probability"] - ds["base_probability"]
    ds["median_width"] = abs(ds["median"].sel(pin="high") - ds["median"].sel(pin="low"))
    ds["probability_width"] = abs(ds["probability"].sel(pin="high") - ds["probability"].sel(pin="low"))
    order = np.lexsort((-ds["probability_width"].values, -ds["median_width"].values))
    ds = ds.isel(prior=order)
    ds.attrs.update(
        prior_set=priors.name, target_year=target_year, threshold=threshold, samples=samples,
        seed=seed, quantiles=[lo, hi], **_conditioning_attrs(conditioning, ks),
        pinning=(PINNING_CONDITIONAL if any(len(b) > 1 for b in priors.correlation_blocks())
                 else PINNING_INDEPENDENT),
    )
    return ds


# --------------------------------------------------------------------------- swaps


def swap_scores(base: PriorSet, swapped: PriorSet, scores: np.ndarray) -> np.ndarray:
    """The independent scores that pair the worlds of ``swapped`` with those of ``base``.

    ``scores`` are drawn per prior name (:func:`~forecast.sensitivity.worlds.scores_by_name`);
    ``base``'s worlds are its uncertain priors' columns. Without correlations in either set,
    ``swapped`` takes its uncertain priors' columns too (the common random numbers as they
    always were). With correlations, what is shared is the correlated score ``z`` of every
    prior: ``swapped`` gets the independent scores whose copula gives back ``base``'s ``z``
    for each of its uncertain priors, so a prior that was not swapped keeps its value in every
    world. That needs ``swapped``'s score correlations to be ``base``'s among the priors it
    keeps uncertain, which holds for every swap made by :func:`parse_swap` or
    :func:`swap_file_set` (a swap only drops the pairs of priors it pins). When it does not
    hold (a set with other correlations), ``swapped`` takes the same independent scores and
    applies its own copula to them.
    """
    e = latent_scores(scores, base.column_names, swapped)
    if not base.correlations and not swapped.correlations:
        return e
    same_structure = swapped.latent_names == base.latent_names
    if same_structure and np.array_equal(swapped.score_correlation(), base.score_correlation()):
        return e
    names = list(base.column_names)
    base_index = [names.index(n) for n in base.latent_names]
    z = np.array(scores, dtype=float, copy=True)  # a fixed prior of base: its own score
    z[:, base_index] = correlated_scores(base, scores[:, base_index])
    full = np.eye(len(names))
    full[np.ix_(base_index, base_index)] = base.score_correlation()
    index = [names.index(n if n in names else ALTERNATIVES[base_name(n)]) for n in swapped.latent_names]
    if not np.allclose(full[np.ix_(index, index)], swapped.score_correlation(), rtol=0.0, atol=1e-12):
        return e
    out = independent_scores(swapped, z[:, index])
    # a block the swap left as it was keeps its independent scores bit for bit
    position = {n: i for i, n in enumerate(swapped.latent_names)}
    for block in set(swapped.correlation_blocks()) & set(base.correlation_blocks()):
        if len(block) > 1:
            columns = [position[n] for n in block]
            out[:, columns] = e[:, columns]
    return out


def _before(priors: PriorSet, name: str) -> Prior:
    """The prior of ``priors`` that a swapped prior replaced (its alternative, if it is one)."""
    return priors[name] if name in priors else priors[ALTERNATIVES[name]]


def _described(priors: PriorSet, name: str) -> str:
    """What a swapped prior was: its spec, or its alternative's name and spec."""
    before = _before(priors, name)
    return before.spec if before.name == name else f"{before.name} {before.spec}"


def prior_swaps(
    priors: PriorSet,
    alternatives: Mapping[str, PriorSet] | Iterable[tuple[str, PriorSet]],
    *,
    years: Sequence[int],
    threshold: float,
    samples: int = DEFAULT_SWAP_SAMPLES,
    seed: int = DEFAULT_SEED,
    base_year: float = BASE_YEAR,
    conditioning: tuple | None = None,
) -> xr.Dataset:
    """Every headline number under each alternative prior set, against ``priors``; each
    weighed by the record as :func:`tornado` does when ``conditioning`` is ``(runs, as_of)``.

    Worlds share their scores prior by prior name (common random numbers), so a swap of one
    prior moves only what that prior moves. With correlated priors the shared scores are the
    correlated ones (:func:`swap_scores`): a prior that was not swapped keeps its value in
    every world, even when the swap pins a partner of it to a value (which drops their pair).

    Returns
    -------
    xarray.Dataset
        Dims ``swap`` and ``year``: ``median`` and ``probability`` (P(>= threshold by year))
        under each swap, ``base_median`` and ``base_probability`` (year), and the changes
        ``delta_median`` (orders of magnitude) and ``delta_probability``. Coordinate
        ``changed``: which priors each swap replaced, as ``name: old -> new``.
    """
    years = tuple(int(y) for y in years)
    threshold = parse_threshold(threshold)
    samples = check_samples(samples)
    items = list(alternatives.items()) if isinstance(alternatives, Mapping) else list(alternatives)
    if not items:
        raise InputError("no prior swap given (use --swap NAME=SPEC or --swap-file FILE)")
    priors.validate(PARAMETERS)
    scores = scores_by_name(priors, samples, seed)
    worst = [-np.inf]  # the largest Pareto k of the conditioned runs

    def headline(prior_set: PriorSet, label: str) -> xr.Dataset:
        same = [n if n in priors.names else ALTERNATIVES.get(n, n) for n in prior_set.names]
        if same != list(priors.names) or prior_set.labs.names != priors.labs.names:
            raise InputError(f"swap {label!r}: its priors are not those of {priors.name!r}")
        prior_set.validate(PARAMETERS)  # its errors name --swap or the file, and the prior
        z = swap_scores(priors, prior_set, scores)
        log10_c = push_log10_compute(prior_set, z, years, base_year, world_index=np.arange(samples))
        log10_c = as_dataarray(log10_c, years, dims=("sample", "year"))
        weights = None
        if conditioning is not None:
            weights, k = record_weights(log10_c, *conditioning)
            worst[0] = max(worst[0], float(k))
        return headline_numbers(log10_c, threshold, weights)

    base = headline(priors, "base")
    swapped = xr.concat([headline(s, label) for label, s in items], dim="swap")
    changed = [
        "; ".join(
            f"{p.name}: {_described(priors, p.name)} -> {p.spec}"
            for p in s if p.family != _before(priors, p.name).family
        ) or "(no change)"
        for _, s in items
    ]
    ds = xr.Dataset(
        {
            "median": swapped["median"],
            "probability": swapped["probability"],
            "base_median": base["median"],
            "base_probability": base["probability"],
        },
        coords={"swap": [label for label, _ in items], "changed": ("swap", changed)},
    )
    ds["delta_median"] = (ds["median"] - ds["base_median"]).assign_attrs(units="orders of magnitude")
    ds["delta_probability"] = ds["probability"] - ds["base_probability"]
    ds.attrs.update(prior_set=priors.name, threshold=threshold, samples=samples, seed=seed,
                    **_conditioning_attrs(conditioning, None if conditioning is None else worst))
    return ds.transpose("swap", "year")


def _conditioning_attrs(conditioning, ks) -> dict:
    """``as_of`` and the worst Pareto k of a conditioned tornado or swap; {} otherwise."""
    if conditioning is None:
        return {}
    as_of = conditioning[1]
    as_of = as_of.isoformat() if hasattr(as_of, "isoformat") else f"{int(as_of)}-12-31"  # a year: its last day
    return {"as_of": as_of, "pareto_k_max": float(np.max(ks))}


