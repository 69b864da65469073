"""One prior at a time: the tornado (each prior pinned at its 5th and 95th percentile) and
prior swaps (a prior, or a file's priors, replaced), with common random numbers.

Pinning is done in score space (column ``i`` of ``z`` set to ``ndtri(q)``), which gives
exactly ``prior.family.ppf(q)`` for that prior, keeps every other world's scores the same (the
shifts are not noise), and reuses one compiled model instead of compiling one per pinned
prior set. In a swap every world keeps its scores for the priors that were not swapped
(scores are drawn per prior *name*, so a prior that turns from fixed to uncertain does not
reshuffle the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.special import ndtri

from forecast.sensitivity.worlds import (
    DEFAULT_SWAP_SAMPLES,
    TORNADO_QUANTILES,
    as_dataarray,
    headline_numbers,
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
from priors.prior_set import resolve_prior_path

__all__ = ["parse_swap", "prior_swaps", "swap_file_set", "tornado"]

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
    if name not in priors:
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
) -> xr.Dataset:
    """One prior at a time pinned at its 5th and 95th percentile, the others random.

    Every run uses the same scores for the priors that are not pinned, so a shift is the
    effect of the pin, not sampling noise.

    Returns
    -------
    xarray.Dataset
        Dims ``prior`` (sorted: widest median shift first) and ``pin`` (``low``, ``high``):
        ``value`` (the pinned value), ``quantile``, ``median`` (log10 compute in the target
        year), ``probability`` (P(>= threshold by the target year)), ``median_shift`` and
        ``probability_shift`` (against the run with nothing pinned), ``median_width`` and
        ``probability_width`` (|high - low|); scalars ``base_median`` and ``base_probability``.
    """
    years = tuple(int(y) for y in years)
    target_year = check_target_year(target_year, years)
    threshold = parse_threshold(threshold)
    samples = check_samples(samples)
    lo, hi = (float(q) for q in quantiles)
    if not 0.0 < lo < hi < 1.0:
        raise InputError(f"tornado quantiles must satisfy 0 < low < high < 1, got {quantiles!r}")
    priors.validate(PARAMETERS)
    names = priors.latent_names
    if not names:
        raise InputError("every prior is fixed: there is nothing to pin")
    z = latent_scores(scores_by_name(priors, samples, seed), priors.names, priors)
    k = len(names)
    pinned = np.broadcast_to(z, (1 + 2 * k, samples, k)).copy()
    for i in range(k):
        pinned[1 + 2 * i, :, i] = ndtri(lo)
        pinned[2 + 2 * i, :, i] = ndtri(hi)
    log10_c = push_log10_compute(priors, pinned.reshape(-1, k), years, base_year)
    log10_c = log10_c.reshape(1 + 2 * k, samples, len(years))

    numbers = headline_numbers(as_dataarray(log10_c, years), threshold).sel(year=target_year)
    median, prob = numbers["median"].values, numbers["probability"].values
    at_pins = priors.values_from_normal(np.repeat(ndtri([[lo], [hi]]), k, axis=1))
    values = np.stack([np.asarray(at_pins[n], dtype=float) for n in names])  # (prior, pin)
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
        seed=seed, quantiles=[lo, hi],
    )
    return ds


# --------------------------------------------------------------------------- swaps


def prior_swaps(
    priors: PriorSet,
    alternatives: Mapping[str, PriorSet] | Iterable[tuple[str, PriorSet]],
    *,
    years: Sequence[int],
    threshold: float,
    samples: int = DEFAULT_SWAP_SAMPLES,
    seed: int = DEFAULT_SEED,
    base_year: float = BASE_YEAR,
) -> xr.Dataset:
    """Every headline number under each alternative prior set, against ``priors``.

    Worlds share their scores prior by prior name (common random numbers), so a swap of one
    prior moves only what that prior moves.

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

    def headline(prior_set: PriorSet, label: str) -> xr.Dataset:
        if prior_set.names != priors.names:
            raise InputError(f"swap {label!r}: its priors are not those of {priors.name!r}")
        prior_set.validate(PARAMETERS)  # its errors name --swap or the file, and the prior
        z = latent_scores(scores, priors.names, prior_set)
        return headline_numbers(as_dataarray(push_log10_compute(prior_set, z, years, base_year), years), threshold)

    base = headline(priors, "base")
    swapped = xr.concat([headline(s, label) for label, s in items], dim="swap")
    changed = [
        "; ".join(
            f"{p.name}: {priors[p.name].spec} -> {p.spec}"
            for p in s if p.family != priors[p.name].family
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
    ds.attrs.update(prior_set=priors.name, threshold=threshold, samples=samples, seed=seed)
    return ds.transpose("swap", "year")


