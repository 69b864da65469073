"""Which prior decides the forecast: Sobol' indices, a tornado, prior swaps (issue 5).

Computation only: labelled Datasets in, labelled Datasets out; no files, no printing.

- **Global (Sobol')**: one Saltelli design over the uncertain priors (``PriorSet.latent_names``),
  mapped ``u -> z = ndtri(u)`` and pushed through the one compiled bottom-up model
  (:func:`forecast.engine.push_worlds`). From that single evaluation come the indices of three
  headline outputs (log10 compute in the target year, the year of first crossing a threshold,
  and the indicator "threshold reached by the target year") and the total-order index of every
  prior on log10 compute in every forecast year. The estimators are :mod:`forecast.sobol`.
- **One at a time (tornado)**: each prior pinned at its 5th and 95th percentile while the others
  stay random. Pinning is done in score space (column ``i`` of ``z`` set to ``ndtri(q)``), which
  gives exactly ``prior.family.ppf(q)`` for that prior, keeps every other world's scores the
  same (common random numbers: the shifts are not noise), and reuses one compiled model instead
  of compiling one per pinned prior set.
- **Prior swap**: a prior (or a whole file section) replaced by another spec; every world keeps
  its scores for the priors that were not swapped (scores are drawn per prior *name*, so a
  prior that turns from fixed to uncertain does not reshuffle the others).

"Reached by year y" uses the running maximum over years, as the timeline does (MODEL.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtri

from models import BASE_YEAR, PARAMETERS
from priors import InputError, Prior, PriorError, PriorSet, load_prior_set, parse_spec
from priors.prior_set import resolve_prior_path

from forecast._normal import standard_normal
from forecast.engine import CHUNK_SIZE, push_worlds, root_key
from forecast.settings import (
    DEFAULT_SEED,
    DEFAULT_TARGET_YEAR,
    DEFAULT_THRESHOLD,
    check_n_base,
    check_samples,
    check_seed,
    check_target_year,
    parse_threshold,
    parse_years,
)
from forecast.sensitivity.sobol import ZeroVarianceWarning, saltelli_design, sobol_analyze
from forecast.timeline import first_crossing_year, reach_probability, reached

__all__ = [
    "DEFAULT_N_BASE",
    "DEFAULT_SWAP_SAMPLES",
    "DEFAULT_TARGET_YEAR",
    "DEFAULT_THRESHOLD",
    "OUTPUTS",
    "SensitivityResult",
    "crossing_year_or_after",
    "headline_numbers",
    "parse_swap",
    "prior_swaps",
    "sensitivity",
    "sobol_analysis",
    "swap_file_set",
    "tornado",
]

DEFAULT_N_BASE = 8192
#: Worlds per tornado bar end and per swap: with common random numbers the shifts of a median
#: are far more precise than the medians themselves.
DEFAULT_SWAP_SAMPLES = 20_000
#: Percentiles at which the tornado pins each prior.
TORNADO_QUANTILES = (0.05, 0.95)

#: The three scalar outputs of the global analysis, with their units.
OUTPUTS = {
    "log10_compute": "log10 FLOP of the largest run in the target year",
    "crossing_year": "year of the first run >= threshold (one past the last year if never)",
    "reached": "1 if a run >= threshold happened by the target year, else 0",
}


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


# --------------------------------------------------------------------------- model pushes


#: Chunk size of small runs (tests, quick looks); large runs use the engine's CHUNK_SIZE.
_SMALL_CHUNK = 8192


def _push_log10_compute(priors: PriorSet, z: np.ndarray, years, base_year: float) -> np.ndarray:
    """log10 training compute (n, n_years) for a design of scores, in compiled chunks.

    Chunks of at most :data:`~forecast.engine.CHUNK_SIZE` keep the memory of every other model
    output bounded; the last one is padded so that one compiled shape serves them all.
    """
    n = z.shape[0]
    # Two chunk sizes only, so that every design, tornado and swap of one prior structure
    # shares the same compiled model; padding costs far less than a compile.
    chunk = _SMALL_CHUNK if n <= 8 * _SMALL_CHUNK else CHUNK_SIZE
    parts = []
    for start in range(0, n, chunk):
        block = z[start : start + chunk]
        pad = chunk - block.shape[0]
        if pad:
            block = np.concatenate([block, np.zeros((pad, z.shape[1]))])
        out = push_worlds(priors, block, years=years, base_year=base_year)
        parts.append(np.asarray(out["log10_training_compute"], dtype=float)[: chunk - pad])
    return np.concatenate(parts)


def _scores_by_name(priors: PriorSet, samples: int, seed: int) -> np.ndarray:
    """Standard-normal scores for every prior *name* (fixed ones too): (samples, len(priors)).

    Drawn as the engine draws its worlds (:func:`forecast._normal.standard_normal`).
    Selecting the columns of a set's uncertain priors gives that set's worlds; two sets that
    differ in one prior share the scores of all others (common random numbers).
    """
    with jax.enable_x64(True):
        return np.asarray(standard_normal(root_key(seed), (len(priors), samples))).T


def _latent_scores(scores: np.ndarray, all_names: Sequence[str], priors: PriorSet) -> np.ndarray:
    index = [list(all_names).index(name) for name in priors.latent_names]
    return scores[:, index]


def _labelled(log10_compute: np.ndarray, years: Sequence[int]) -> xr.DataArray:
    """log10 compute with named dims: ``sample, year`` (a leading ``run`` dim when 3-D)."""
    dims = ("run", "sample", "year")[3 - log10_compute.ndim:]
    return xr.DataArray(log10_compute, dims=dims, coords={"year": np.asarray(years, dtype=int)})


def crossing_year_or_after(log10_compute: xr.DataArray, threshold: float) -> xr.DataArray:
    """The timeline's first-crossing year per world, with the year after the last forecast
    year where a world never crosses: a number that a variance decomposition can use."""
    first = first_crossing_year(log10_compute, [threshold]).squeeze("threshold", drop=True)
    return first.fillna(int(log10_compute["year"].max()) + 1)


def _reached_by(log10_compute: xr.DataArray, threshold: float) -> xr.DataArray:
    """Whether each world has had a run >= ``threshold`` by each year (the timeline's kernel)."""
    return reached(log10_compute, [threshold]).squeeze("threshold", drop=True)


def headline_numbers(log10_compute: xr.DataArray, threshold: float) -> xr.Dataset:
    """Median log10 compute and P(run >= threshold by year), per year."""
    probability = reach_probability(log10_compute, [threshold])["probability"].squeeze("threshold", drop=True)
    return xr.Dataset(
        {
            "median": log10_compute.median("sample").assign_attrs(units="log10 FLOP"),
            "probability": probability.assign_attrs(long_name=f"P(run >= {threshold:.3g} FLOP by year)"),
        },
    )


# --------------------------------------------------------------------------- Sobol'


def sobol_analysis(
    priors: PriorSet,
    *,
    years: Sequence[int],
    target_year: int,
    threshold: float,
    n_base: int = DEFAULT_N_BASE,
    seed: int = DEFAULT_SEED,
    n_bootstrap: int = 500,
    confidence: float = 0.9,
    base_year: float = BASE_YEAR,
) -> tuple[xr.Dataset, xr.Dataset]:
    """Sobol' indices of every uncertain prior from one evaluation of a Saltelli design.

    Returns
    -------
    (xarray.Dataset, xarray.Dataset)
        ``headline``: dims ``output`` (:data:`OUTPUTS`), ``prior``, ``bound``, with ``S1``,
        ``ST``, their intervals, ``sum_S1`` (``1 - sum_S1`` is the interaction share) and
        ``variance``; attrs include ``never_crossed`` (share of design worlds that never cross
        the threshold in the range; their crossing year is ``years[-1] + 1``).
        ``by_year``: the same variables with dims ``prior, year`` for log10 compute.

    Raises
    ------
    priors.InputError
        If no prior is uncertain, or for a bad target year, threshold or ``n_base``.
    """
    years = tuple(int(y) for y in years)
    target_year = check_target_year(target_year, years)
    threshold = parse_threshold(threshold)
    n_base = check_n_base(n_base)
    priors.validate(PARAMETERS)
    names = priors.latent_names
    if not names:
        raise InputError("every prior is fixed: there is nothing to attribute variance to")

    design = saltelli_design(len(names), n_base, seed=seed)
    log10_c = _push_log10_compute(priors, ndtri(design.u), years, base_year)

    t = years.index(target_year)
    labelled = _labelled(log10_c, years)
    crossing = crossing_year_or_after(labelled, threshold).values
    hit = _reached_by(labelled, threshold).sel(year=target_year).values.astype(float)
    stacked = np.stack([log10_c[:, t], crossing, hit], axis=-1)
    options = dict(n_bootstrap=n_bootstrap, confidence=confidence)
    with warnings.catch_warnings():
        # A constant output (every world crosses, or none) gets indices 0 and the flag
        # ``zero_variance``; the caller reports it from the data, not from a warning.
        warnings.simplefilter("ignore", ZeroVarianceWarning)
        headline = sobol_analyze(
            design, stacked, names, output_dims=["output"],
            output_coords={"output": list(OUTPUTS)}, **options,
        )
        by_year = sobol_analyze(
            design, log10_c, names, output_dims=["year"], output_coords={"year": list(years)},
            **options,
        )
    mean = log10_c[: 2 * n_base].mean(axis=0)  # rows of A and B: plain draws from the priors
    never = float((crossing[: 2 * n_base] > years[-1]).mean())
    common = {
        "prior_set": priors.name,
        "priors_sha256": priors.fingerprint(),
        "target_year": target_year,
        "threshold": threshold,
        "years": list(years),
        "base_year": float(base_year),
    }
    headline = headline.assign_coords(
        output_description=("output", list(OUTPUTS.values()))
    ).assign(mean=("output", stacked[: 2 * n_base].mean(axis=0)))
    headline.attrs.update(common, never_crossed=never, never_crossed_year=years[-1] + 1)
    by_year = by_year.assign(mean=("year", mean))
    by_year.attrs.update(common)
    return headline, by_year


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
    z = _latent_scores(_scores_by_name(priors, samples, seed), priors.names, priors)
    k = len(names)
    pinned = np.broadcast_to(z, (1 + 2 * k, samples, k)).copy()
    for i in range(k):
        pinned[1 + 2 * i, :, i] = ndtri(lo)
        pinned[2 + 2 * i, :, i] = ndtri(hi)
    log10_c = _push_log10_compute(priors, pinned.reshape(-1, k), years, base_year)
    log10_c = log10_c.reshape(1 + 2 * k, samples, len(years))

    numbers = headline_numbers(_labelled(log10_c, years), threshold).sel(year=target_year)
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
    scores = _scores_by_name(priors, samples, seed)

    def headline(prior_set: PriorSet, label: str) -> xr.Dataset:
        if prior_set.names != priors.names:
            raise InputError(f"swap {label!r}: its priors are not those of {priors.name!r}")
        prior_set.validate(PARAMETERS)  # its errors name --swap or the file, and the prior
        z = _latent_scores(scores, priors.names, prior_set)
        return headline_numbers(_labelled(_push_log10_compute(prior_set, z, years, base_year), years), threshold)

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


# --------------------------------------------------------------------------- all together


@dataclass(frozen=True)
class SensitivityResult:
    """Everything ``forecast sensitivity`` reports, as labelled data.

    Attributes
    ----------
    priors
        The prior set analysed.
    sobol
        Indices of the three headline outputs: dims ``output``, ``prior``, ``bound``.
    by_year
        Indices on log10 compute per year: dims ``prior``, ``year``, ``bound``.
    tornado
        One-at-a-time pins (see :func:`tornado`), or None if not computed.
    swaps
        Prior swaps (see :func:`prior_swaps`), or None if none were asked for.
    """

    priors: PriorSet
    sobol: xr.Dataset
    by_year: xr.Dataset
    tornado: xr.Dataset | None = None
    swaps: xr.Dataset | None = None
    settings: dict = field(default_factory=dict)

    @property
    def target_year(self) -> int:
        return int(self.sobol.attrs["target_year"])

    @property
    def threshold(self) -> float:
        return float(self.sobol.attrs["threshold"])

    @property
    def years(self) -> np.ndarray:
        return self.by_year["year"].values

    @property
    def interaction(self) -> xr.DataArray:
        """``1 - sum S1`` per output: the share of variance due to interactions."""
        return (1.0 - self.sobol["sum_S1"]).rename("interaction")

    def sobol_table(self) -> pd.DataFrame:
        """One row per prior: S1 and ST (with intervals) of each output; most influential first."""
        columns = {}
        for output in self.sobol["output"].values:
            part = self.sobol.sel(output=output)
            for index in ("S1", "ST"):
                columns[f"{output} {index}"] = part[index].values
                columns[f"{output} {index} lower"] = part[f"{index}_ci"].sel(bound="lower").values
                columns[f"{output} {index} upper"] = part[f"{index}_ci"].sel(bound="upper").values
        table = pd.DataFrame(columns, index=pd.Index(self.sobol["prior"].values, name="prior"))
        table.insert(0, "spec", [self.priors[n].spec for n in table.index])
        return table.sort_values("log10_compute ST", ascending=False, kind="stable")

    def by_year_table(self) -> pd.DataFrame:
        """Total-order index of each prior (rows, most influential overall first) per year."""
        st = self.by_year["ST"].to_pandas()
        return st.loc[st.max(axis=1).sort_values(ascending=False, kind="stable").index]

    def tornado_table(self) -> pd.DataFrame | None:
        if self.tornado is None:
            return None
        ds = self.tornado
        return pd.DataFrame(
            {
                "low value": ds["value"].sel(pin="low").values,
                "high value": ds["value"].sel(pin="high").values,
                "median at low": ds["median"].sel(pin="low").values,
                "median at high": ds["median"].sel(pin="high").values,
                "median width": ds["median_width"].values,
                "P at low": ds["probability"].sel(pin="low").values,
                "P at high": ds["probability"].sel(pin="high").values,
                "P width": ds["probability_width"].values,
            },
            index=pd.Index(ds["prior"].values, name="prior"),
        )

    def swap_table(self) -> pd.DataFrame | None:
        """Long table: one row per (swap, year) with base, swapped and change of each number."""
        if self.swaps is None:
            return None
        ds = self.swaps
        frame = ds[["base_median", "median", "delta_median", "base_probability", "probability",
                    "delta_probability"]].to_dataframe()
        frame = frame.drop(columns=[c for c in frame.columns if c == "changed"], errors="ignore")
        return frame.reset_index()


def sensitivity(
    priors: PriorSet | str | Path | None = None,
    *,
    overrides: Mapping[str, str] | Iterable[str] | None = None,
    years: str | Iterable[int] | None = None,
    target_year: int = DEFAULT_TARGET_YEAR,
    threshold: float | str = DEFAULT_THRESHOLD,
    n_base: int = DEFAULT_N_BASE,
    samples: int = DEFAULT_SWAP_SAMPLES,
    seed: int = DEFAULT_SEED,
    swaps: Iterable[str] = (),
    swap_files: Iterable[str | Path] = (),
    n_bootstrap: int = 500,
    with_tornado: bool = True,
    base_year: float = BASE_YEAR,
) -> SensitivityResult:
    """Sobol' indices, tornado and prior swaps of one prior set, in one call.

    Parameters
    ----------
    priors
        A :class:`~priors.PriorSet`, a prior file or a built-in set's name; None: default.
    overrides
        ``--set`` style changes applied before the analysis.
    years
        Forecast years (``"2025:2035"``); the target year must be one of them.
    target_year, threshold
        The year and the FLOP threshold of the headline outputs.
    n_base
        Base rows of the Saltelli design (a power of two); ``(k + 2) * n_base`` worlds.
    samples, seed
        Worlds per tornado end and per swap, and the seed of every draw.
    swaps, swap_files
        ``"NAME=SPEC"`` strings and prior files; each is one alternative.

    Raises
    ------
    priors.InputError
        For any bad input, before any model is run.
    """
    prior_set = priors if isinstance(priors, PriorSet) else load_prior_set(priors)
    prior_set = prior_set.with_overrides(overrides)
    years = parse_years(years)
    seed = check_seed(seed)
    target_year = check_target_year(target_year, years)
    threshold = parse_threshold(threshold)
    n_base = check_n_base(n_base)
    samples = check_samples(samples)
    prior_set.validate(PARAMETERS)
    alternatives = [(s, parse_swap(prior_set, s)) for s in swaps]
    alternatives += [(f"file {Path(str(f)).name}", swap_file_set(prior_set, f)) for f in swap_files]
    for _, alternative in alternatives:
        alternative.validate(PARAMETERS)  # refuse a swap outside a prior's domain before any run
    labels = [label for label, _ in alternatives]
    if len(set(labels)) != len(labels):
        raise InputError("--swap: the same swap is given twice")

    sobol, by_year = sobol_analysis(
        prior_set, years=years, target_year=target_year, threshold=threshold, n_base=n_base,
        seed=seed, n_bootstrap=n_bootstrap, base_year=base_year,
    )
    pins = (
        tornado(prior_set, years=years, target_year=target_year, threshold=threshold,
                samples=samples, seed=seed, base_year=base_year)
        if with_tornado else None
    )
    swapped = (
        prior_swaps(prior_set, alternatives, years=years, threshold=threshold, samples=samples,
                    seed=seed, base_year=base_year)
        if alternatives else None
    )
    settings = dict(
        years=list(years), target_year=target_year, threshold=threshold, n_base=n_base,
        samples=samples, seed=seed, n_bootstrap=n_bootstrap, base_year=float(base_year),
    )
    return SensitivityResult(prior_set, sobol, by_year, pins, swapped, settings)
