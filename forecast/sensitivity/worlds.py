"""The worlds of a sensitivity analysis: scores drawn per prior name, pushed through the one
compiled model in chunks, and the headline outputs read off with the timeline's kernels.

"Reached by year y" uses the running maximum over years, as the timeline does; a world that
never crosses a threshold gets the year after the last forecast year, so that the crossing
year is a number a variance decomposition can use.

Scores: every model entry point takes *independent* standard-normal scores ``e`` and applies
the priors' Gaussian copula itself (``z = L e``, :meth:`priors.PriorSet.transform`). The
helpers here draw and select ``e``; :func:`correlated_scores` and :func:`independent_scores`
go between ``e`` and the priors' own scores ``z`` block by block, where a correlated
analysis has to reason about ``z`` (the tornado's conditional pins, the swaps' common
random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy.linalg import solve_triangular

from forecast._normal import root_key, standard_normal
from forecast.engine import CHUNK_SIZE, push_worlds
from forecast.summaries import first_crossing_year, reach_probability, reached, weighted_quantile
from priors import PriorSet
from priors.labs import ALTERNATIVES, base_name

__all__ = [
    "DEFAULT_N_BASE", "DEFAULT_SWAP_SAMPLES", "GROUP_JOIN", "OUTPUTS", "TORNADO_QUANTILES", "as_dataarray", "blocks_and_mixing",
    "correlated_scores", "crossing_year_or_after", "group_label", "group_members", "headline_numbers",
    "independent_scores", "latent_scores", "push_log10_compute", "reached_by", "scores_by_name",
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


#: Joins the priors of a correlated group in the ``prior`` coordinate of the Sobol' indices.
GROUP_JOIN = " + "


def group_label(members: Sequence[str]) -> str:
    """The ``prior`` label of a group of priors: ``"chip_growth + power_limit_growth"``; a
    single prior is its own name; a lab-scoped prior's columns (``chips_base[xai]``) are
    named once, by the prior."""
    return GROUP_JOIN.join(dict.fromkeys(base_name(m) for m in members))


def group_members(label: str) -> tuple[str, ...]:
    """The priors a ``prior`` label covers (the inverse of :func:`group_label`)."""
    return tuple(str(label).split(GROUP_JOIN))


# --------------------------------------------------------------------------- model pushes


#: Chunk size of small runs (tests, quick looks); large runs use the engine's CHUNK_SIZE.
_SMALL_CHUNK = 8192


def push_log10_compute(priors: PriorSet, z: np.ndarray, years, base_year: float, world_index=None) -> np.ndarray:
    """log10 training compute (n, n_years) for a design of scores, in compiled chunks;
    ``world_index`` (n,) keys each row's lab-year scores (:func:`forecast.engine.push_worlds`).

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
        index = np.arange(start, start + chunk) if world_index is None else world_index[start : start + chunk]
        pad = chunk - block.shape[0]
        if pad:
            block = np.concatenate([block, np.zeros((pad, z.shape[1]))])
            index = np.concatenate([index, np.zeros(pad, dtype=index.dtype)])
        out = push_worlds(priors, block, years=years, base_year=base_year, world_index=index)
        parts.append(np.asarray(out["log10_training_compute"], dtype=float)[: chunk - pad])
    return np.concatenate(parts)


def scores_by_name(priors: PriorSet, samples: int, seed: int) -> np.ndarray:
    """Standard-normal scores for every column of a world (:attr:`priors.PriorSet.column_names`,
    fixed ones too): (samples, columns).

    Drawn as the engine draws its worlds (:func:`forecast._normal.standard_normal`).
    Selecting the columns of a set's uncertain priors gives that set's worlds; two sets that
    differ in one prior share the scores of all others (common random numbers).
    """
    return np.asarray(standard_normal(root_key(seed), (len(priors.column_names), samples))).T


def latent_scores(scores: np.ndarray, all_names: Sequence[str], priors: PriorSet) -> np.ndarray:
    """The columns of ``scores`` (one per name of ``all_names``) of ``priors``' uncertain priors."""
    names = list(all_names)
    # a prior that replaced its alternative (max_epochs for epoch_worth_floor) takes its scores
    index = [names.index(name if name in names else ALTERNATIVES[base_name(name)]) for name in priors.latent_names]
    return scores[:, index]


def blocks_and_mixing(priors: PriorSet) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Column indices of each correlated block (two priors or more) of ``priors.latent_names``
    and the Cholesky factor ``L`` the model uses (None without correlations)."""
    mixing = priors.transform().mixing
    if mixing is None:
        return [], None
    index = {name: i for i, name in enumerate(priors.latent_names)}
    blocks = [np.array([index[n] for n in b]) for b in priors.correlation_blocks() if len(b) > 1]
    return blocks, np.asarray(mixing, dtype=float)


def correlated_scores(priors: PriorSet, e: np.ndarray) -> np.ndarray:
    """The priors' own scores ``z = e L^T`` for independent scores ``e`` (n, n_latent).

    Computed block by block: ``L`` is block-diagonal over the correlation blocks (its
    entries between two blocks are exact zeros), so an independent prior's score is its
    ``e`` bit for bit.
    """
    e = np.asarray(e, dtype=float)
    blocks, mixing = blocks_and_mixing(priors)
    z = e.copy()
    for b in blocks:
        z[:, b] = e[:, b] @ mixing[np.ix_(b, b)].T
    return z


def independent_scores(priors: PriorSet, z: np.ndarray) -> np.ndarray:
    """The independent scores ``e`` with ``e L^T = z``: the inverse of :func:`correlated_scores`,
    one triangular solve per correlated block, independent priors copied."""
    z = np.asarray(z, dtype=float)
    blocks, mixing = blocks_and_mixing(priors)
    e = z.copy()
    for b in blocks:
        e[:, b] = solve_triangular(mixing[np.ix_(b, b)], z[:, b].T, lower=True).T
    return e


def as_dataarray(log10_compute: np.ndarray, years: Sequence[int], *, dims: Sequence[str]) -> xr.DataArray:
    """log10 compute with its dims named by the caller (``sample, year``, or ``run, sample,
    year`` for pinned runs; no default: a shape is never read as names), checked against
    the shape."""
    if np.ndim(log10_compute) != len(dims) or "year" not in dims:
        raise ValueError(f"log10 compute of shape {np.shape(log10_compute)} does not have the dims {tuple(dims)}")
    return xr.DataArray(log10_compute, dims=tuple(dims), coords={"year": np.asarray(years, dtype=int)})


def crossing_year_or_after(log10_compute: xr.DataArray, threshold: float) -> xr.DataArray:
    """The timeline's first-crossing year per world, with the year after the last forecast
    year where a world never crosses: a number that a variance decomposition can use."""
    first = first_crossing_year(log10_compute, [threshold]).squeeze("threshold", drop=True)
    return first.fillna(int(log10_compute["year"].max()) + 1)


def reached_by(log10_compute: xr.DataArray, threshold: float) -> xr.DataArray:
    """Whether each world has had a run >= ``threshold`` by each year (the timeline's kernel)."""
    return reached(log10_compute, [threshold]).squeeze("threshold", drop=True)


def headline_numbers(log10_compute: xr.DataArray, threshold: float, weights: xr.DataArray | None = None) -> xr.Dataset:
    """Median log10 compute and P(run >= threshold by year), per year, over ``sample``;
    weighted by ``weights`` (named dims: those of ``log10_compute`` less ``year``, summing
    to 1 over ``sample``), e.g. the importance weights of the record, where given. The
    weighted median is the inverted weighted CDF (:func:`forecast.summaries.weighted_quantile`);
    the unweighted one is numpy's (linear between the middle worlds)."""
    probability = reach_probability(log10_compute, [threshold], weights=weights)["probability"]
    if weights is None:
        median = log10_compute.median("sample")
    else:
        median = weighted_quantile(log10_compute, 0.5, weights=weights, dim="sample").drop_vars("quantile")
    return xr.Dataset(
        {
            "median": median.assign_attrs(units="log10 FLOP"),
            "probability": probability.squeeze("threshold", drop=True).assign_attrs(
                long_name=f"P(run >= {threshold:.3g} FLOP by year)"),
        },
    )
