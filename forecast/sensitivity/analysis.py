"""Which prior decides the forecast: Sobol' indices, a tornado, prior swaps (issue 5).

Computation only: labelled Datasets in, labelled Datasets out; no files, no printing.

- **Global (Sobol')**: one Saltelli design over the uncertain priors (``PriorSet.latent_names``),
  mapped ``u -> e = ndtri(u)`` (independent scores) and pushed through the one compiled
  bottom-up model (:func:`forecast.engine.push_worlds`, which applies the priors' copula
  ``z = L e``). From that single evaluation come the indices of three headline outputs (log10
  compute in the target year, the year of first crossing a threshold, and the indicator
  "threshold reached by the target year") and the total-order index of every prior on log10
  compute in every forecast year. The estimators are :mod:`forecast.sensitivity.sobol`.

  Correlated priors are attributed as a group. Sobol' indices of single inputs assume
  independent inputs; each correlation block (:meth:`priors.PriorSet.correlation_blocks`) is
  therefore one group, sampled jointly: the design's radial matrix swaps all of a group's
  columns of ``e`` at once. ``L`` is block-diagonal over the blocks, so a group's columns of
  ``e`` determine exactly its priors' scores ``z`` and the indices are exact group indices
  (Jacques et al. 2006). The ``prior`` coordinate names a group by its priors joined with
  ``" + "`` (:func:`~forecast.sensitivity.worlds.group_label`); an independent prior keeps its
  own index, and a set without correlations gets exactly the per-prior analysis. ``G``
  groups cost ``(G + 2) * n_base`` worlds.
- **One at a time (tornado)**: each prior pinned at its 5th and 95th percentile while the others
  stay random. Pinning is done in score space (the prior's score set to ``ndtri(q)``), which
  gives exactly ``prior.family.ppf(q)`` for that prior, keeps every other world's scores the
  same (common random numbers: the shifts are not noise), and reuses one compiled model instead
  of compiling one per pinned prior set. Pinning a correlated prior moves its partners as the
  copula implies (conditional), so its bar includes theirs (:func:`~.local.conditional_pin`).
- **Prior swap**: a prior (or a whole file section) replaced by another spec; every world keeps
  its scores for the priors that were not swapped (scores are drawn per prior *name*, so a
  prior that turns from fixed to uncertain does not reshuffle the others; with correlations the
  shared scores are the correlated ones, :func:`~.local.swap_scores`).

"Reached by year y" uses the running maximum over years, as the timeline does (MODEL.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtri

from forecast.sensitivity.local import parse_swap, prior_swaps, swap_file_set, tornado
from forecast.sensitivity.sobol import ZeroVarianceWarning, saltelli_design, sobol_analyze
from forecast.sensitivity.worlds import (
    DEFAULT_N_BASE,
    OUTPUTS,
    as_dataarray,
    crossing_year_or_after,
    group_label,
    group_members,
    push_log10_compute,
    reached_by,
)
from forecast.settings import (
    DEFAULT_SEED,
    DEFAULT_TARGET_YEAR,
    DEFAULT_THRESHOLD,
    RunSettings,
    check_n_base,
    check_target_year,
    parse_threshold,
)
from models import BASE_YEAR, PARAMETERS
from priors import InputError, PriorSet

__all__ = ["ATTRIBUTION_GROUPS", "ATTRIBUTION_PRIORS", "SensitivityResult", "sensitivity", "sobol_analysis"]

#: How the Sobol' indices attribute variance (attrs ``attribution``).
ATTRIBUTION_PRIORS = "per prior (independent priors)"
ATTRIBUTION_GROUPS = (
    "correlated priors are attributed as a group: one joint index per correlation block, "
    "per prior for independent priors"
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
    """Sobol' indices of every uncertain prior, or group of correlated priors, from one
    evaluation of a Saltelli design.

    Each correlation block of ``priors`` is one group, sampled jointly (its columns of the
    independent scores swapped together); an independent prior is a group of its own.

    Returns
    -------
    (xarray.Dataset, xarray.Dataset)
        ``headline``: dims ``output`` (:data:`OUTPUTS`), ``prior``, ``bound``, with ``S1``,
        ``ST``, their intervals, ``sum_S1`` (``1 - sum_S1`` is the interaction share) and
        ``variance``; attrs include ``never_crossed`` (share of design worlds that never cross
        the threshold in the range; their crossing year is ``years[-1] + 1``),
        ``attribution`` and ``correlated_groups`` (the labels of the groups of two priors or
        more, ``"; "``-joined, ``""`` if none). A ``prior`` label of a group is its priors
        joined with ``" + "``.
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

    blocks = priors.correlation_blocks()
    grouped = [b for b in blocks if len(b) > 1]
    if grouped:
        column = {name: i for i, name in enumerate(names)}
        groups = [tuple(column[n] for n in b) for b in blocks]
        labels = [group_label(b) for b in blocks]
    else:  # every prior its own group: the per-prior design, number for number
        groups, labels = None, list(names)
    design = saltelli_design(len(names), n_base, seed=seed, groups=groups)
    # u -> independent scores e; the model applies the copula (z = L e) itself
    # rows of one base point (A, B and each AB) share their lab-year draws
    u = np.asarray(design.u).reshape(-1, len(names))
    log10_c = push_log10_compute(priors, ndtri(u), years, base_year, world_index=np.arange(len(u)) % n_base)

    t = years.index(target_year)
    compute = as_dataarray(log10_c, years, dims=("sample", "year"))
    crossing = crossing_year_or_after(compute, threshold).values
    hit = reached_by(compute, threshold).sel(year=target_year).values.astype(float)
    stacked = np.stack([log10_c[:, t], crossing, hit], axis=-1)
    options = {"n_bootstrap": n_bootstrap, "confidence": confidence}
    with warnings.catch_warnings():
        # A constant output (every world crosses, or none) gets indices 0 and the flag
        # ``zero_variance``; the caller reports it from the data, not from a warning.
        warnings.simplefilter("ignore", ZeroVarianceWarning)
        headline = sobol_analyze(
            design, stacked, labels, output_dims=["output"],
            output_coords={"output": list(OUTPUTS)}, **options,
        )
        by_year = sobol_analyze(
            design, log10_c, labels, output_dims=["year"], output_coords={"year": list(years)},
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
        "attribution": ATTRIBUTION_GROUPS if grouped else ATTRIBUTION_PRIORS,
        "correlated_groups": "; ".join(group_label(b) for b in grouped),
        "n_uncertain_priors": len(priors.latent_priors),
    }
    headline = headline.assign_coords(
        output_description=("output", list(OUTPUTS.values()))
    ).assign(mean=("output", stacked[: 2 * n_base].mean(axis=0)))
    headline.attrs.update(common, never_crossed=never, never_crossed_year=years[-1] + 1)
    by_year = by_year.assign(mean=("year", mean))
    by_year.attrs.update(common)
    return headline, by_year


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
    def groups(self) -> dict[str, tuple[str, ...]]:
        """The priors each entry of the ``prior`` coordinate covers, by label (one prior for
        an independent prior, a correlation block for correlated priors)."""
        return {str(label): group_members(label) for label in self.sobol["prior"].values}

    @property
    def grouped(self) -> bool:
        """Whether some Sobol' entries are groups of correlated priors."""
        return any(len(members) > 1 for members in self.groups.values())

    @property
    def interaction(self) -> xr.DataArray:
        """``1 - sum S1`` per output: the share of variance due to interactions."""
        return (1.0 - self.sobol["sum_S1"]).rename("interaction")

    def sobol_table(self) -> pd.DataFrame:
        """One row per prior (per group of correlated priors, labelled ``a + b``, its specs
        joined with ``"; "``): S1 and ST (with intervals) of each output; most influential
        first."""
        columns = {}
        for output in self.sobol["output"].values:
            part = self.sobol.sel(output=output)
            for index in ("S1", "ST"):
                columns[f"{output} {index}"] = part[index].values
                columns[f"{output} {index} lower"] = part[f"{index}_ci"].sel(bound="lower").values
                columns[f"{output} {index} upper"] = part[f"{index}_ci"].sel(bound="upper").values
        table = pd.DataFrame(columns, index=pd.Index(self.sobol["prior"].values, name="prior"))
        groups = self.groups
        table.insert(0, "spec", ["; ".join(self.priors[m].spec for m in groups[n]) for n in table.index])
        return table.sort_values("log10_compute ST", ascending=False, kind="stable")

    def by_year_table(self) -> pd.DataFrame:
        """Total-order index of each prior (rows, most influential overall first) per year."""
        st = self.by_year["ST"].to_pandas()
        return st.loc[st.max(axis=1).sort_values(ascending=False, kind="stable").index]

    def tornado_table(self) -> pd.DataFrame | None:
        """One row per pinned prior, widest first; with correlated priors a last column
        ``moves with`` names the partners each pin moves (conditionally)."""
        if self.tornado is None:
            return None
        ds = self.tornado
        table = pd.DataFrame(
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
        if "moves_with" in ds.coords and any(ds["moves_with"].values):
            table["moves with"] = ds["moves_with"].values
        return table

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
    settings: RunSettings,
    *,
    prior_set: PriorSet | None = None,
    target_year: int = DEFAULT_TARGET_YEAR,
    threshold: float | str = DEFAULT_THRESHOLD,
    n_base: int = DEFAULT_N_BASE,
    swaps: Iterable[str] = (),
    swap_files: Iterable[str | Path] = (),
    n_bootstrap: int = 500,
    with_tornado: bool = True,
    base_year: float = BASE_YEAR,
    record=None,
) -> SensitivityResult:
    """Sobol' indices, tornado and prior swaps of one prior set, in one call.

    Parameters
    ----------
    settings
        The :class:`~forecast.settings.RunSettings` (the command line's): the priors and
        their options (``overrides``, ``correlate``: correlated priors are attributed as a
        group in the Sobol' indices and move with a pinned partner in the tornado),
        ``years`` (the target year must be one of them), ``samples`` (worlds per tornado end
        and per swap; :data:`~forecast.sensitivity.worlds.DEFAULT_SWAP_SAMPLES` is the
        command's default), ``seed`` (of every draw), and ``as_of`` and the record: the
        tornado's and the swaps' worlds are weighed by the record up to ``as_of``, as
        :func:`forecast.run` conditions a forecast (None: not weighed). The Sobol' indices
        stay those of the prior forecast: a variance decomposition of importance-weighted
        worlds is not what Saltelli's estimators compute.
    prior_set
        The prior set the settings describe, built already (``settings.prior_set()`` by
        default; ``settings.prior_set(base)`` applies the settings' prior options to a set).
    target_year, threshold
        The year and the FLOP threshold of the headline outputs.
    n_base
        Base rows of the Saltelli design (a power of two); ``(k + 2) * n_base`` worlds.
    swaps, swap_files
        ``"NAME=SPEC"`` strings and prior files; each is one alternative.
    record
        The record of runs as a table (the settings' record by default).

    Raises
    ------
    priors.InputError
        For any bad input, before any model is run.
    """
    if not isinstance(settings, RunSettings):
        raise TypeError(f"sensitivity: settings must be a RunSettings, got {type(settings).__name__}")
    prior_set = settings.prior_set() if prior_set is None else prior_set
    years, seed, samples = settings.years, settings.seed, settings.samples
    target_year = check_target_year(target_year, years)
    threshold = parse_threshold(threshold)
    n_base = check_n_base(n_base)
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
    conditioning = settings.conditioning(record)
    pins = (
        tornado(prior_set, years=years, target_year=target_year, threshold=threshold,
                samples=samples, seed=seed, base_year=base_year, conditioning=conditioning)
        if with_tornado else None
    )
    swapped = (
        prior_swaps(prior_set, alternatives, years=years, threshold=threshold, samples=samples,
                    seed=seed, base_year=base_year, conditioning=conditioning)
        if alternatives else None
    )
    settings = {
        "years": list(years), "target_year": target_year, "threshold": threshold, "n_base": n_base,
        "samples": samples, "seed": seed, "n_bootstrap": n_bootstrap, "base_year": float(base_year),
        "as_of": None if conditioning is None else conditioning[1].isoformat(),
    }
    return SensitivityResult(prior_set, sobol, by_year, pins, swapped, settings)
