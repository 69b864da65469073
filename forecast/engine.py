"""Monte Carlo over the priors: push worlds through the bottom-up model, in compiled chunks.

A design of worlds is a matrix of standard-normal scores ``z`` (one row a world, one column
an uncertain prior; MODEL.md "How worlds are drawn"). Plain Monte Carlo draws ``z`` i.i.d.
in compiled calls of its own (random bits, then the inverse normal CDF); Sobol or
Latin-hypercube designs pass their own ``z``. Either way NumPyro's ``Predictive`` runs the
one bottom-up model, vectorized over the worlds of a call and jit-compiled once per
(prior-set structure, years, call width: :func:`chunk_plan`): the priors' numbers are
traced, so new intervals or pinned values reuse the compiled code.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from forecast._normal import fold_key, root_key, standard_normal, standard_normal_at
from forecast.cancel import checkpoint
from forecast.settings import check_samples, check_seed, parse_years
from forecast.stream import CELLS, FRONTIER, TARGET, hist_cells
from models import BASE_YEAR, CODED_OUTPUTS, CONSTRAINTS, LAB_OUTPUT_UNITS, OUTPUT_UNITS, PARAMETERS
from priors import PriorSet, exported
from priors.precision import float64

#: Worlds per chunk, the unit of the draw (chunk ``i``'s scores depend on ``i`` and this
#: width) and of the reduce: small enough that one chunk of every output fits in memory on a
#: laptop (2**16 x 11 years x 22 outputs). Computed in calls of :data:`CALL_WIDTH`.
CHUNK_SIZE = 2**16

#: XLA options for the engine's compiled calls (set per call, never as global flags):
#: 512-bit vectors on CPUs that have them. Ignored by other backends.
_CPU_OPTIONS = {"xla_cpu_prefer_vector_width": 512}
#: The model also takes min/max without NaN propagation: its scores are finite by
#: construction (clipped to +/- 9), so no NaN reaches a min or max. Together ~20% faster,
#: same numbers.
_MODEL_OPTIONS = {**_CPU_OPTIONS, "xla_cpu_enable_fast_min_max": True}


#: Stream of a chunk's key that draws the lab-year scores (apart from ``z``, so that a prior
#: set without uncertain lab-year priors draws exactly the worlds it drew before v3).
_LAB_YEAR_STREAM = 1


def output_sites(transform, wanted: frozenset[str] | None = None) -> list[str]:
    """The sites a run keeps: every column, every lab-year prior, every output (and, with
    several labs, each lab's compute and the leading lab); or, given ``wanted``, those of
    them whose name, or whose prior's name (``mfu`` for ``mfu[xai]``), it holds: the
    compiled model then computes and copies only those."""
    lab_year = list(dict.fromkeys(name for name, _, _ in transform.lab_year_static))
    labs = list(LAB_OUTPUT_UNITS) if transform.n_labs > 1 else []
    sites = list(transform.names) + lab_year + list(OUTPUT_UNITS) + labs
    if wanted is None:
        return sites
    return [site for site in sites if site in wanted or site.partition("[")[0] in wanted]


@functools.partial(jax.jit, static_argnames=("base_year", "wanted"), compiler_options=_MODEL_OPTIONS)
def _push(transform, z_by_prior, z_lab_year, years, *, base_year: float, wanted: frozenset[str] | None = None):
    """Every site of the bottom-up model for the worlds ``z_by_prior.T``; compiled once per structure.

    The scores come one row per prior, ``(n_latent, n_worlds)``: the model reads each prior's
    scores as a column of ``z``, and XLA fuses that slice into every consumer, so from a
    row-major ``z`` every column would be read through the whole of ``z``. ``z_lab_year``:
    ``(n_lab_year, n_years, n_worlds)`` where the prior set has uncertain lab-year priors.
    ``years``: the calendar years, an array ``(n_years,)`` of floats, traced: one program
    serves every range of years of one length. ``wanted``: the sites to return
    (:func:`output_sites`), and the histogram cells of the quantities named ``cells:NAME``
    (:data:`forecast.stream.CELLS`: the values need not be returned for the tally to count
    them, and their cells are worked out here, in the outputs' own loops over the worlds);
    every site by default.
    """
    from numpyro.infer import Predictive  # when traced: a program kept on disk needs no NumPyro

    from models import bottom_up_model

    cells = sorted(name.removeprefix(CELLS) for name in wanted or () if name.startswith(CELLS))
    sites = output_sites(transform, wanted)
    needed = {TARGET if q == FRONTIER else q for q in cells}  # the values the cells are of
    computed = output_sites(transform, None if wanted is None else wanted | needed)
    given = {"z": z_by_prior.T}
    if z_lab_year is not None:
        given["z_lab_year"] = jnp.moveaxis(z_lab_year, -1, 0)
    predictive = Predictive(bottom_up_model, posterior_samples=given, return_sites=computed, parallel=True)
    # Nothing is left to sample once z is given, so the key is never used.
    out = predictive(jax.random.PRNGKey(0), transform, years, base_year=base_year)
    # the frontier: the running maximum of the years (forecast.summaries.best_so_far's maxima)
    at = {q: jax.lax.cummax(out[TARGET], axis=1) if q == FRONTIER else out[q] for q in cells}
    return {**{name: out[name] for name in sites}, **{CELLS + q: hist_cells(at[q], q, xp=jnp) for q in cells}}


def _draw_and_push(transform, root, chunk: int, *, n_worlds: int, years: tuple[int, ...], base_year: float,
                   wanted: frozenset[str] | None = None, width: int | None = None, first: int | None = None):
    """Plain Monte Carlo for chunk ``chunk`` of a run: i.i.d. normal scores, then the model.

    ``width`` (``n_worlds`` by default): the worlds the compiled calls compute. Without
    ``first``, at least ``n_worlds``, the first ``n_worlds`` of them those of a chunk of
    ``n_worlds`` (:func:`chunk_plan`); with ``first``, a piece of the chunk: its worlds
    ``first, first + 1, ...`` (those past ``n_worlds`` not the chunk's), as
    :func:`_chunk_calls` computes it.
    Two compiled calls, not one: fused into the model, the scores are recomputed inside
    the consumers of ``z`` by XLA on CPU, which makes a chunk 3-4x slower.
    """
    width = width or n_worlds
    key = fold_key(root, chunk)
    z_by_prior = standard_normal(key, (transform.n_latent, width), worlds=n_worlds, first=first)
    z_lab_year = None
    if transform.n_lab_year:
        z_lab_year = standard_normal(fold_key(key, _LAB_YEAR_STREAM),
                                     (transform.n_lab_year, len(years), width), worlds=n_worlds, first=first)
    if z_lab_year is not None:
        z_lab_year = _across_devices(z_lab_year)
    return _model(transform, _across_devices(z_by_prior), z_lab_year, years=years, base_year=base_year,
                  wanted=wanted)


def _model(transform, z, z_lab_year, *, years: tuple[int, ...], base_year: float,
           wanted: frozenset[str] | None = None, ahead: bool = False):
    """:func:`_push` on these scores, through its program traced once and kept on disk where
    the CLI keeps its compiled code (:func:`priors.exported.call`); ``ahead``: only start
    loading that program (:func:`priors.exported.prepare`), for scores shaped as these."""
    run = exported.prepare if ahead else exported.call
    return run("engine._push", _push, (transform, z, z_lab_year, _years_array(years)),
               static=dict(base_year=float(base_year), wanted=wanted), compiler_options=_MODEL_OPTIONS)


def _years_array(years) -> np.ndarray:
    """The years as :func:`_push` takes them: floats, an argument of the program, not a
    constant in it."""
    return np.asarray(years, dtype=np.float64)


def _across_devices(z_by_prior):
    """The chunk's scores split along the world axis over every local JAX device (several
    GPUs, or host devices), so that the compiled model runs on all of them; unchanged on one
    device, or when the chunk does not split evenly. The scores are drawn before they are
    split, and every world is computed by the same arithmetic wherever it lands, so the
    numbers are the same on any number of devices."""
    devices = jax.local_devices()
    if len(devices) == 1 or z_by_prior.shape[-1] % len(devices):
        return z_by_prior
    mesh = jax.sharding.Mesh(np.asarray(devices), ("worlds",))
    spec = jax.sharding.PartitionSpec(*([None] * (z_by_prior.ndim - 1)), "worlds")  # worlds: the last axis
    return jax.device_put(z_by_prior, jax.sharding.NamedSharding(mesh, spec))


class ChunkPlan(NamedTuple):
    """How a run of ``samples`` worlds is cut into compiled calls (:func:`chunk_plan`)."""

    worlds: int  # worlds per chunk: chunk i holds worlds i * worlds ...
    chunks: int  # number of chunks
    width: int  # worlds each compiled call computes (a chunk takes ceil(worlds / width) calls;
    # the worlds past its last are dropped)

    def bounds(self, index: int, samples: int) -> tuple[int, int]:
        """The worlds ``start:stop`` of chunk ``index`` of a run of ``samples`` worlds."""
        start = index * self.worlds
        return start, min(samples, start + self.worlds)


#: The compiled widths of a run's calls: powers of 2 from 1,024 up to :data:`CALL_WIDTH`,
#: so that five compiled shapes serve every sample count. A run of over 1,024 worlds
#: computes under twice its worlds (1.6x for the app's 5,000 and 20,000), far less time
#: than a compile (~10 CPU-s); powers of 4 (four shapes) cost the app's edits 3.3x.
FIRST_WIDTH = 1024
#: The widest compiled call: a chunk of :data:`CHUNK_SIZE` worlds is drawn and computed in
#: calls of a quarter of its width, each a piece of its draw (the same numbers, put
#: together before the chunk is reduced). A call's buffers are a quarter of a chunk's, so
#: a run touches less memory fresh from the system, which the kernel zeroes (on a VM, up
#: to 2.5 s per GB it had handed back to its host), and a partial last chunk computes
#: whole calls, not a whole chunk (the default run's second chunk, 34,464 worlds: 49,152,
#: not 65,536). Default run, paired against one call per chunk: 4.99 -> 4.42 s (8.18 -> 7.27
#: CPU-s), peak memory 1.06 -> 0.87 GB; 1e6 worlds the same time, 1.25 -> 1.0 GB.
CALL_WIDTH = 2**14


def chunk_width(worlds: int) -> int:
    """The compiled width of a chunk of ``worlds`` worlds: the first power of 2 times
    :data:`FIRST_WIDTH` that holds them, at most :data:`CALL_WIDTH` (wider chunks take
    several calls)."""
    width = FIRST_WIDTH
    while width < worlds:
        width *= 2
    return min(width, CALL_WIDTH)


def chunk_plan(samples: int) -> ChunkPlan:
    """How a run of ``samples`` worlds is cut into chunks (:class:`ChunkPlan`).

    The chunk is the unit of the draw (chunk ``i`` draws with key ``fold_in(seed, i)``), so
    a world's scores depend only on the seed, the worlds per chunk and its index: the same
    on every scheduler and device count. A chunk of at most :data:`CALL_WIDTH` worlds (a
    run of so few) is computed in one compiled call at least as wide
    (:func:`chunk_width`) that draws its worlds' scores as a call of their own number
    would (:func:`forecast._normal.standard_normal` with ``worlds``): the same numbers, a
    handful of compiled shapes. A wider chunk takes several calls of :data:`CALL_WIDTH`,
    each drawing its piece of the chunk's scores (``first``; the last call's worlds past
    the chunk's dropped): the same numbers again.
    """
    worlds = min(samples, CHUNK_SIZE)
    return ChunkPlan(worlds, math.ceil(samples / worlds), chunk_width(worlds))


def chunk_worlds(transform, root, index: int, *, samples: int, years, base_year,
                 wanted: frozenset[str] | None = None) -> dict:
    """Every output of chunk ``index`` of a run of ``samples`` worlds (or those ``wanted``)
    as NumPy arrays."""
    plan = chunk_plan(samples)
    start, stop = plan.bounds(index, samples)
    calls = _chunk_calls(transform, root, index, plan=plan, worlds=stop - start, years=tuple(years),
                         base_year=float(base_year), wanted=wanted)
    return _trimmed(calls, start, stop)


def _chunk_calls(transform, root, index: int, *, plan: ChunkPlan, worlds: int, years: tuple[int, ...],
                 base_year: float, wanted: frozenset[str] | None) -> list:
    """The first ``worlds`` worlds of chunk ``index``, dispatched as compiled calls of
    ``plan.width`` worlds each (:func:`_draw_and_push`), in order: their outputs, a list
    that :func:`_trimmed` puts together."""
    return [_draw_and_push(transform, root, index, n_worlds=plan.worlds, width=plan.width, years=years,
                           base_year=base_year, wanted=wanted, first=first)
            for first in range(0, worlds, plan.width)]


@float64
def worlds_at(priors: PriorSet, worlds, *, years, samples: int, seed: int, base_year: float = BASE_YEAR) -> dict:
    """Every output (and prior) of the worlds ``worlds`` of a run of ``samples`` worlds, as
    NumPy arrays, one row per index of ``worlds`` (any order, repeats allowed): the numbers
    :func:`map_chunks` computes for them, drawn and computed for those worlds alone.

    A world's scores depend only on the seed, its chunk and its place in the chunk
    (:func:`chunk_plan`), so its scores are drawn by their counters
    (:func:`forecast._normal.standard_normal_at`) and the model computes it in a call of
    its own width; every world goes through the same arithmetic whatever the width. What a
    run that summarises every world but keeps a few uses for the few (the summaries' pass
    computes only the outputs they read).
    """
    years = tuple(int(y) for y in parse_years(years))
    samples, seed = check_samples(samples), check_seed(seed)
    worlds = np.asarray(worlds, dtype=np.int64).ravel()
    if worlds.size and not (0 <= worlds.min() and worlds.max() < samples):
        raise ValueError(f"world indices outside 0..{samples - 1}")
    plan = chunk_plan(samples)
    transform = jax.device_put(priors.transform())
    root = root_key(seed)
    parts = []
    for begin in range(0, max(worlds.size, 1), CALL_WIDTH):  # a compiled call of at most its width
        batch = worlds[begin:begin + CALL_WIDTH]
        z, z_lab_year = _score_buffers(transform, len(years), chunk_width(max(batch.size, 1)))
        chunk_of, column = np.divmod(batch, plan.worlds)
        for chunk in np.unique(chunk_of):
            where = np.flatnonzero(chunk_of == chunk)
            key = fold_key(root, int(chunk))
            z[:, where] = standard_normal_at(key, transform.n_latent, plan.worlds, column[where])
            if z_lab_year is not None:
                rows = transform.n_lab_year * len(years)
                scores = standard_normal_at(fold_key(key, _LAB_YEAR_STREAM), rows, plan.worlds, column[where])
                z_lab_year[..., where] = scores.reshape(transform.n_lab_year, len(years), where.size)
        out = _model(transform, z, z_lab_year, years=years, base_year=base_year)
        parts.append(_trimmed([out], 0, batch.size))
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _score_buffers(transform, n_years: int, width: int):
    """Zeros for the scores of ``width`` worlds: ``z`` and ``z_lab_year`` (None where the
    prior set has no uncertain lab-year prior), as :func:`_push` takes them."""
    z = np.zeros((transform.n_latent, width))
    return z, (np.zeros((transform.n_lab_year, n_years, width)) if transform.n_lab_year else None)


def prepare_worlds_at(priors: PriorSet, count: int, *, years, base_year: float = BASE_YEAR) -> None:
    """Start loading the compiled model that :func:`worlds_at` will run for ``count`` worlds
    (the width of its first call), in a thread of its own (:func:`priors.exported.prepare`):
    a run that computes its kept worlds after its pass over the chunks loads it meanwhile."""
    _prepare_model(priors, years=years, width=chunk_width(max(count, 1)), base_year=base_year, wanted=None)


def prepare_chunks(priors: PriorSet, *, years, samples: int, base_year: float = BASE_YEAR,
                   wanted: Iterable[str] | None = None) -> None:
    """Start loading the compiled model that :func:`map_chunks` will call for a run of
    ``samples`` worlds (at the width of its calls; ``wanted`` as there), in a thread of its
    own (:func:`priors.exported.prepare`): a run that reads its record and weighs its
    evidence before its first chunk loads it meanwhile (about 0.25 s of the default run)."""
    _prepare_model(priors, years=years, width=chunk_plan(check_samples(samples)).width, base_year=base_year,
                   wanted=None if wanted is None else frozenset(wanted))


@float64
def _prepare_model(priors: PriorSet, *, years, width: int, base_year: float, wanted: frozenset[str] | None) -> None:
    """Start loading :func:`_model`'s program for calls of ``width`` worlds (``wanted`` sites)."""
    if not exported.keeps_programs():  # nothing to load ahead: the prior set's factor is not worked out
        return
    years = tuple(int(y) for y in parse_years(years))
    transform = jax.device_put(priors.transform())
    z, z_lab_year = _score_buffers(transform, len(years), width)
    _model(transform, z, z_lab_year, years=years, base_year=base_year, wanted=wanted, ahead=True)


def _trimmed(calls: list, start: int, stop: int) -> dict:
    """A chunk's outputs as NumPy arrays (its calls', :func:`_chunk_calls`, put together),
    rows ``start:stop`` of the run (the chunk begins at world ``start``; the rows past
    ``stop`` are dropped)."""
    if len(calls) == 1:
        return {name: np.asarray(value)[: stop - start] for name, value in calls[0].items()}
    width = len(next(iter(calls[0].values())))
    return {name: np.concatenate([np.asarray(call[name])[: stop - start - i * width]
                                  for i, call in enumerate(calls)])
            for name in calls[0]}


@float64
def map_chunks(
    priors: PriorSet,
    reduce,
    *,
    years,
    samples: int,
    seed: int,
    base_year: float = BASE_YEAR,
    progress: bool = False,
    scheduler=None,
    desc: str = "worlds",
    combine=None,
    wanted: Iterable[str] | None = None,
):
    """``[reduce(index, start, outputs) for each chunk]``, in chunk order; or, with
    ``combine``, their fold ``combine(...combine(combine(None, r0), r1)..., rN)``, in chunk
    order, each result dropped once folded (what keeps memory flat).

    ``outputs`` maps every model output (and prior) to its NumPy array for the chunk's
    worlds ``start:start + len``. Chunks are drawn as :func:`simulate` draws them; only one
    chunk's outputs are held at a time (plus the next, computing while this one is
    reduced). ``scheduler``: a Dask ``distributed`` address or Client
    (:mod:`forecast.cluster`): the chunks run as tasks on its workers, same numbers.
    ``wanted``: the names of the outputs and priors ``reduce`` reads (:func:`output_sites`);
    the others are neither computed nor copied. Every one by default.
    """
    wanted = None if wanted is None else frozenset(wanted)
    years = tuple(int(y) for y in parse_years(years))
    samples = check_samples(samples)
    seed = check_seed(seed)
    priors.validate(PARAMETERS)
    if scheduler is not None:
        from forecast.cluster import map_chunks_on_cluster

        return map_chunks_on_cluster(priors, reduce, years=years, samples=samples, seed=seed,
                                     base_year=float(base_year), progress=progress, scheduler=scheduler,
                                     combine=combine or _collect, wanted=wanted)
    plan = chunk_plan(samples)
    transform = jax.device_put(priors.transform())  # numbers sent once, not every chunk
    root = root_key(seed)
    combine = combine or _collect
    results = None
    previous = None
    # shown on a terminal only, and only once a run has taken 2 s
    bar = tqdm(total=samples, desc=desc, unit=" worlds", unit_scale=True, delay=2.0, mininterval=0.5,
               disable=not progress or plan.chunks == 1 or not sys.stderr.isatty())
    with bar:
        for index in range(plan.chunks + 1):
            checkpoint()  # a caller that has given up stops here, between chunks
            # dispatched asynchronously: this chunk runs while the previous one is reduced
            out = None
            if index < plan.chunks:
                start, stop = plan.bounds(index, samples)
                out = _chunk_calls(transform, root, index, plan=plan, worlds=stop - start, years=years,
                                   base_year=float(base_year), wanted=wanted)
            if previous is not None:
                start, stop = plan.bounds(index - 1, samples)
                arrays = _trimmed(previous, start, stop)
                results = combine(results, reduce(index - 1, start, arrays))
                bar.update(stop - start)
            previous = out
    return results


def _collect(results: list | None, item) -> list:
    """The default fold of :func:`map_chunks`: every chunk's result, in a list."""
    return [item] if results is None else [*results, item]


def simulate(
    priors: PriorSet,
    *,
    years,
    samples: int,
    seed: int,
    base_year: float = BASE_YEAR,
    progress: bool = False,
) -> xr.Dataset:
    """Draw ``samples`` worlds and keep every model output for every year (in memory).

    The draw depends only on ``(priors, years, samples, seed)``: same seed, same numbers.
    :func:`forecast.run` keeps only ``keep`` worlds and summarises the rest as it goes.

    Returns
    -------
    xarray.Dataset
        Dims ``sample`` and ``year``; one variable per prior (``sample``) and per model
        output (``sample, year``), each with its unit in ``attrs``.
    """
    years = parse_years(years)
    samples = check_samples(samples, n_years=len(years), n_priors=len(priors))
    arrays: dict[str, np.ndarray] = {}
    map_chunks(priors, functools.partial(_copy_chunk, arrays, samples=samples), years=years,
               samples=samples, seed=seed, base_year=base_year, progress=progress)
    return to_dataset(arrays, priors, years)


def _copy_chunk(arrays: dict, index: int, start: int, out: dict, *, samples: int) -> None:
    """Copy one chunk's outputs into rows ``start:`` of the run's arrays (made on first use).

    Filling arrays made once, rather than concatenating the chunks at the end, halves the
    peak memory, and the chunk's buffers are freed for the next chunk to reuse.
    """
    for name, value in out.items():
        if name not in arrays:
            arrays[name] = np.empty((samples,) + value.shape[1:], value.dtype)
        arrays[name][start : start + len(value)] = value


@float64
def push_worlds(priors: PriorSet, z, *, years, base_year: float = BASE_YEAR, world_index=None,
                z_lab_year=None) -> dict:
    """Model outputs for a given design of standard-normal scores ``z`` (n_worlds, n_latent).

    The entry point for designed experiments (Sobol, Latin hypercube, copulas): the same
    compiled model as :func:`simulate`, arrays in, arrays out. Lab-year priors are not
    coordinates of a design: each row draws their scores from a stream keyed by its
    ``world_index`` (default: its position), so rows of one index share them whatever
    chunk they come in (a tornado's pinned runs of one world, a swap's worlds), unless
    ``z_lab_year`` gives them: ``(n_worlds, n_lab_year, n_years)`` (a posterior's draws).
    """
    priors.validate(PARAMETERS)
    z_by_prior = jnp.asarray(z, dtype=float).T  # a transposed copy: one row per prior
    transform = priors.transform()
    if z_lab_year is not None:
        z_lab_year = jnp.moveaxis(jnp.asarray(z_lab_year, dtype=float), 0, -1)
    elif transform.n_lab_year:
        index = np.arange(z_by_prior.shape[1]) if world_index is None else np.asarray(world_index)
        z_lab_year = _lab_year_scores(root_key(_LAB_YEAR_STREAM), jnp.asarray(index, dtype=jnp.uint32),
                                      shape=(transform.n_lab_year, len(years)))
    out = _push(transform, z_by_prior, z_lab_year, _years_array([int(y) for y in years]), base_year=float(base_year))
    return jax.device_get(out)


@functools.partial(jax.jit, static_argnames=("shape",))
def _lab_year_scores(root, index, *, shape):
    """Scores ``shape + (len(index),)``: each world's from the key ``fold_in(root, index)``."""
    draw = jax.vmap(lambda i: standard_normal(jax.random.fold_in(root, i), shape))(index)
    return jnp.moveaxis(draw, 0, -1)


def to_dataset(arrays: dict, priors: PriorSet, years) -> xr.Dataset:
    """Label the raw arrays of one simulation: dims ``sample`` and ``year``, units, codes.
    With no world (a run that keeps none, whose model computed only what its summaries
    read), a site that is absent is an empty array."""
    n = len(next(iter(arrays.values())))
    labs = priors.labs.names
    n_years, n_labs = len(years), len(labs)

    def site(name, *trailing):
        return arrays[name] if n or name in arrays else np.empty((0, *trailing))

    data_vars = {}
    by_prior: dict[str, list] = {}
    for column, name, _, prior in priors.columns:
        by_prior.setdefault(name, []).append((column, prior))
    for name, columns in by_prior.items():  # a lab-scoped prior of several labs: dims sample, lab
        prior = priors[name]
        attrs = {"units": prior.unit, "prior": prior.spec, "kind": "prior"}
        if len(columns) == 1:
            data_vars[name] = xr.Variable("sample", site(columns[0][0]), attrs)
        else:
            specs = [p.spec for _, p in columns]
            if len(set(specs)) > 1:
                attrs["lab_priors"] = "; ".join(f"{lab}: {spec}" for lab, spec in zip(labs, specs))
            data_vars[name] = xr.Variable(("sample", "lab"), np.stack([site(c) for c, _ in columns], axis=1),
                                          attrs)
    for name in priors.lab_year_priors:
        prior = priors[name]
        dims = ("sample", "year") if len(labs) == 1 else ("sample", "lab", "year")
        data_vars[name] = xr.Variable(dims, site(name, *((n_years,) if n_labs == 1 else (n_labs, n_years))),
                                      {"units": prior.unit, "prior": prior.spec,
                                                           "kind": "prior"})
    for name, unit in OUTPUT_UNITS.items():
        attrs = {"units": unit, "kind": "output"}
        if name in CODED_OUTPUTS:  # the codes' names travel with the file
            attrs.update(CONSTRAINTS.flags(CODED_OUTPUTS[name]))
        data_vars[name] = xr.Variable(("sample", "year"), site(name, n_years), attrs)
    coords = {"sample": np.arange(n), "year": np.asarray(years, dtype=int)}
    if len(labs) > 1:
        coords["lab"] = list(labs)
        data_vars["log10_lab_training_compute"] = xr.Variable(
            ("sample", "lab", "year"), site("log10_lab_training_compute", n_labs, n_years),
            {"units": LAB_OUTPUT_UNITS["log10_lab_training_compute"], "kind": "output"})
        data_vars["leading_lab"] = xr.Variable(
            ("sample", "year"), site("leading_lab", n_years),
            {"units": LAB_OUTPUT_UNITS["leading_lab"], "kind": "output",
             "flag_values": list(range(len(labs))), "flag_meanings": " ".join(labs)})
    return xr.Dataset(
        data_vars, coords=coords,
        attrs={"prior_set": priors.name, "priors_sha256": priors.fingerprint()},
    )
