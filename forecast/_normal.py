"""Standard-normal scores for the Monte Carlo: ``standard_normal(key, shape)``, float64.

Every plain Monte Carlo draw of the package goes through :func:`standard_normal` (the
engine's chunks, the tornado and swap runs of the sensitivity analysis, the prior draws a
calibration is compared with), so one seed means the same worlds everywhere.

It is JAX's own ``jax.random.normal`` on a threefry key, in float64. A hand-written kernel
(ThreeFry bits, Wichura's AS241 inverse normal CDF and a vectorized log) drew the scores
of 1e6 worlds x 23 priors in 0.22 s against 0.49 s for this one on 2 cores, but
``forecast run --samples 1000000`` took the same time with either (about 90 s, most of it
writing NetCDF: the scores are 0.3% of it), so the kernel did not pay for its 100 lines.
Only the threefry rounds are written out here (:func:`_threefry_2x32_pairs`, JAX's bits):
JAX's own lowering loops over them on CPU, through memory, and the default's 131 scores x
65,536 worlds of a chunk took 0.22 CPU-s that way, 0.17 unrolled, which showed once a
run's fixed costs had shrunk.
Float32 scores would save 0.2 s more but stop at |z| = 5.2-5.4 and get the far tails
wrong; the priors' scores are clipped at +/- 9 and should be able to reach them.

JAX draws element ``(i, j)`` of a ``(rows, n)`` array from the counter ``i * n + j``, so the
same key gives other numbers at another ``n``. ``standard_normal(key, shape, worlds=n)``
draws the scores that ``(..., n)`` would have, in an array of the wider ``shape``, with
``n`` a traced number: one compiled draw serves every count up to the width (the engine's
call widths, :func:`forecast.engine.chunk_plan`); ``first=f`` (traced too) draws columns
``f, f + 1, ...`` of that ``(..., n)`` array instead, so a chunk is drawn in narrower
pieces (and ``n`` may exceed the width). It is JAX's own arithmetic for
``jax.random.normal`` (threefry bits of the counter, a float in [-1, 1), ``erf_inv``)
written out around a counter of our own; a test checks it against ``jax.random.normal``,
bit for bit. (With JAX's older, non-partitionable counters, ``jax_threefry_partitionable``
off, the scores are drawn at their own width and padded with zeros.)
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from priors import exported
from priors.precision import float64

__all__ = ["fold_key", "root_key", "standard_normal", "standard_normal_at"]


@float64
def root_key(seed: int):
    """The threefry key that every draw with this ``seed`` derives from (``jax.random.key``,
    a 64-bit seed; through a kept program, :func:`_kept`: eager, it costs two programs a
    process)."""
    return _kept(_seeded)(np.int64(seed))


_seeded = jax.jit(jax.random.key)


def fold_key(key, data: int):
    """``jax.random.fold_in(key, data)``, through a kept program (:func:`_kept`): the key of
    a chunk of a run, or of a stream of a chunk."""
    return _kept(_fold_in)(key, data)


_fold_in = jax.jit(jax.random.fold_in)


@functools.partial(jax.jit, static_argnames=("shape",))
def _normal(key, shape: tuple[int, ...]):
    return jax.random.normal(key, shape, dtype=jnp.float64)


@functools.partial(jax.jit, static_argnames=("shape",))
def _normal_of_count(key, worlds, first, shape: tuple[int, ...]):
    """Columns ``first, first + 1, ...`` of ``jax.random.normal(key, shape[:-1] + (worlds,))``
    in the columns of ``shape``, up to its column ``worlds - 1`` (threefry, partitionable
    counters: element ``(i, j)`` hashes ``i * worlds + first + j``)."""
    columns = jnp.asarray(first, jnp.uint64) + jnp.arange(shape[-1], dtype=jnp.uint64)
    return _normal_of_columns(key, worlds, columns, math.prod(shape[:-1])).reshape(shape)


@functools.partial(jax.jit, static_argnames=("rows",))
def _normal_at(key, worlds, columns, rows: int):
    """Columns ``columns`` of ``jax.random.normal(key, (rows, worlds))``, drawn alone."""
    return _normal_of_columns(key, worlds, columns, rows)


def _normal_of_columns(key, worlds, columns, rows: int):
    """Columns ``columns`` of ``jax.random.normal(key, (rows, worlds))``:
    ``(rows, columns.size)``, element ``(i, c)`` hashing ``i * worlds + columns[c]``."""
    counter = (jnp.arange(rows, dtype=jnp.uint64)[:, None] * jnp.asarray(worlds, jnp.uint64)
               + columns.astype(jnp.uint64)[None, :]).ravel()
    return _normal_of_counters(key, counter).reshape(rows, columns.shape[0])


def _normal_of_counters(key, counter):
    """The standard-normal score of each of ``counter`` (uint64) under ``key``: JAX's own
    arithmetic for ``jax.random.normal``, elementwise, so a score depends only on its counter."""
    high = jax.lax.convert_element_type(counter >> 32, jnp.uint32)
    low = jax.lax.convert_element_type(counter & 0xFFFFFFFF, jnp.uint32)
    # threefry_2x32 of the counts [high, low] hashes the pairs (high, low)
    hashed_high, hashed_low = _threefry_2x32_pairs(jax.random.key_data(key), high, low)
    bits = (jax.lax.convert_element_type(hashed_high, jnp.uint64) << 32) \
        | jax.lax.convert_element_type(hashed_low, jnp.uint64)
    # jax.random.uniform(key, shape, float64, nextafter(-1, 0), 1): 52 random mantissa bits
    one = jnp.asarray(np.array(1.0).view(np.uint64), jnp.uint64)
    floats = jax.lax.bitcast_convert_type((bits >> 12) | one, jnp.float64) - jnp.asarray(1.0, jnp.float64)
    low_end = jnp.asarray(np.nextafter(-1.0, 0.0), jnp.float64)
    high_end = jnp.asarray(1.0, jnp.float64)
    uniform = jax.lax.max(low_end, floats * (high_end - low_end) + low_end)
    return jnp.asarray(np.sqrt(2), jnp.float64) * jax.lax.erf_inv(uniform)


#: Threefry-2x32's rotations, by round of four (Salmon et al. 2011, as JAX has them).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _threefry_2x32_pairs(key_words, x0, x1):
    """Threefry-2x32, 20 rounds, of the pairs ``(x0, x1)`` (uint32) under the key
    ``key_words`` (two uint32): the two words of each hash, JAX's ``threefry_2x32`` of the
    counts ``[x0, x1]`` split in halves, bit for bit.

    Written out round by round: JAX's own lowering on CPU loops over the five groups of
    rounds (``fori_loop``), so XLA writes both words of every count to memory after each
    group and joins and splits the counts around it; unrolled, the hash, the float and
    ``erf_inv`` are one elementwise pass (the default's 131 x 65,536 scores of a chunk:
    0.22 -> 0.17 CPU-s).
    """
    k0, k1 = key_words[0], key_words[1]
    keys = (k0, k1, k0 ^ k1 ^ jnp.uint32(0x1BD11BDA))
    x0, x1 = x0 + keys[0], x1 + keys[1]
    for group in range(5):
        for rotation in _ROTATIONS[group % 2]:
            x0 = x0 + x1
            x1 = x0 ^ ((x1 << jnp.uint32(rotation)) | (x1 >> jnp.uint32(32 - rotation)))
        x0 = x0 + keys[(group + 1) % 3]
        x1 = x1 + keys[(group + 2) % 3] + jnp.uint32(group + 1)
    return x0, x1


def _kept(function):
    """``function`` called through a program kept on disk where the CLI keeps its compiled
    code (:mod:`priors.exported`): a warm run does not trace it again."""
    name = f"_normal.{function.__name__}"
    return lambda key, *args, **static: exported.call(name, function, (key, *args), static=static)


@functools.cache
@jax.ensure_compile_time_eval()
def _counters_match() -> bool:
    """With JAX's partitionable counters: whether :func:`_normal_of_count` draws the numbers
    of ``jax.random.normal`` in this JAX (checked once a process, on 3 x 5 scores in a width
    of 8). It copies JAX's arithmetic, so a JAX release that draws otherwise falls back to
    drawing each count at its own width (a compile per count, the same numbers) rather than
    to other worlds."""
    key = root_key(0)  # called in float64 (standard_normal's)
    wide = np.asarray(_kept(_normal_of_count)(key, np.uint64(5), np.uint64(0), shape=(3, 8)))[:, :5]
    return bool(np.array_equal(wide, np.asarray(_kept(_normal)(key, shape=(3, 5)))))  # NumPy's: no program


@float64
def standard_normal(key, shape: tuple[int, ...], *, worlds: int | None = None, first: int | None = None):
    """I.i.d. standard-normal scores of ``shape`` in float64, from a JAX key (:func:`root_key`).

    ``worlds`` (at most ``shape[-1]``): the first ``worlds`` entries of the last axis are
    those of ``standard_normal(key, shape[:-1] + (worlds,))``, the others more scores of the
    key. With ``first`` (``0 <= first < worlds``), a piece of that draw: entry ``j`` is its
    column ``first + j``, where that is below ``worlds``, and ``worlds`` may exceed the
    width. Compiled once per ``shape``, whatever ``worlds`` and ``first``.
    """
    shape = tuple(int(n) for n in shape)
    if not shape or not math.prod(shape):  # nothing to count
        return _kept(_normal)(key, shape=shape)
    worlds = shape[-1] if worlds is None else worlds
    if first is None:
        if not 0 < worlds <= shape[-1]:
            raise ValueError(f"worlds={worlds} outside 1..{shape[-1]}")
        first = 0
    elif worlds < 1:
        raise ValueError(f"worlds={worlds} below 1")
    elif not 0 <= first < worlds:
        raise ValueError(f"first={first} outside 0..{worlds - 1}")
    if not (jax.config.jax_threefry_partitionable and _counters_match()):
        # JAX's older counters, or a JAX that draws otherwise: drawn at their own width
        if worlds == shape[-1] and not first:
            return _kept(_normal)(key, shape=shape)
        narrow = _normal(key, shape[:-1] + (worlds,))[..., first:first + shape[-1]]
        return jnp.pad(narrow, [(0, 0)] * (len(shape) - 1) + [(0, shape[-1] - narrow.shape[-1])])
    return _kept(_normal_of_count)(key, np.uint64(worlds), np.uint64(first), shape=shape)


@float64
def standard_normal_at(key, rows: int, worlds: int, columns) -> np.ndarray:
    """Columns ``columns`` (indices below ``worlds``, any order, repeats allowed) of
    ``standard_normal(key, (rows, worlds))``, ``(rows, len(columns))`` as NumPy: the scores
    of chosen worlds of a chunk, drawn without the others' (the engine's kept worlds,
    :func:`forecast.engine.worlds_at`). The columns are padded to a power of 2 (at least
    :data:`_FIRST_COLUMNS`), so that a handful of compiled shapes serve every count."""
    columns = np.asarray(columns, dtype=np.int64)
    if columns.size and not (0 <= columns.min() and columns.max() < worlds):
        raise ValueError(f"columns outside 0..{worlds - 1}")
    if not (jax.config.jax_threefry_partitionable and _counters_match()):
        # JAX's older counters, or a JAX that draws otherwise: the whole chunk, then its columns
        return np.asarray(standard_normal(key, (rows, worlds)))[:, columns]
    width = _FIRST_COLUMNS
    while width < columns.size:
        width *= 2
    padded = np.zeros(width, dtype=np.uint64)
    padded[: columns.size] = columns
    scores = _kept(_normal_at)(key, np.uint64(worlds), padded, rows=int(rows))
    return np.asarray(scores)[:, : columns.size]


#: The fewest columns :func:`standard_normal_at` draws in one compiled call.
_FIRST_COLUMNS = 256
