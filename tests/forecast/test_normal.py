"""standard_normal: the one way the package draws scores, float64, the same for the same key."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from jax.extend.random import threefry_2x32
from scipy import stats

from forecast._normal import (
    _counters_match, _threefry_2x32_pairs, fold_key, root_key, standard_normal, standard_normal_at,
)
from forecast.settings import MAX_SEED


def draw(seed, chunk, shape=(2, 100_000)):
    return np.asarray(standard_normal(fold_key(root_key(seed), chunk), shape))


def test_scores_are_standard_normal_and_repeat_with_their_key():
    z = draw(5, 0)
    assert z.shape == (2, 100_000) and z.dtype == np.float64
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z)[0, 1]) < 0.02  # the rows are independent
    np.testing.assert_array_equal(z, draw(5, 0))
    for other in (draw(5, 1), draw(6, 0)):  # another chunk, another seed
        assert not np.any(z == other)


def test_scores_carry_float64_digits_and_reach_the_tails():
    z = draw(1, 0, (1, 1_000_000)).ravel()
    # float32 scores would all be exactly representable in float32; float64 ones are not
    assert np.mean(z.astype(np.float32).astype(np.float64) != z) > 0.99
    # 2e6 draws: P(max |z| < 4.5) = (1 - 6.8e-6)^1e6 ~ 0.1%, so the tails are reached
    assert np.abs(z).max() > 4.5


def test_every_seed_the_settings_accept_gives_scores():
    for seed in (0, 2**32 + 7, MAX_SEED):
        assert np.isfinite(np.asarray(standard_normal(root_key(seed), (3,)))).all()


def test_drawing_leaves_jax_in_float32():
    standard_normal(root_key(0), (2,))
    assert not jax.config.jax_enable_x64


@pytest.mark.parametrize("shape, worlds", [((3, 1024), 200), ((3, 1024), 1023), ((2, 3, 4096), 1500), ((1, 16), 1)])
def test_scores_of_a_count_in_a_wider_array_are_that_counts_scores(shape, worlds):
    # JAX hashes element (i, j) of a (rows, n) draw from i * n + j: another n, other scores;
    # drawn with ``worlds`` in a wider array, the first ``worlds`` columns are the narrow draw's
    key = fold_key(root_key(9), 2)
    wide = np.asarray(standard_normal(key, shape, worlds=worlds))
    narrow = np.asarray(standard_normal(key, shape[:-1] + (worlds,)))
    assert wide.shape == shape
    np.testing.assert_array_equal(wide[..., :worlds], narrow)
    assert np.isfinite(wide).all()


def test_scores_of_a_count_are_jaxs_own_normal_draw():
    # the counted draw writes out jax.random.normal's arithmetic: the same bits as JAX's own
    key = fold_key(root_key(4), 0)
    with jax.enable_x64(True):
        expected = np.asarray(jax.random.normal(key, (4, 777), dtype=jax.numpy.float64))
    np.testing.assert_array_equal(np.asarray(standard_normal(key, (4, 1024), worlds=777))[:, :777], expected)


@pytest.mark.parametrize("worlds, width", [(1000, 512), (1024, 256), (700, 1024)])
def test_a_draw_in_pieces_is_the_draw(worlds, width):
    # the engine draws a wide chunk in pieces (``first``): put together, the chunk's scores
    key = fold_key(root_key(3), 1)
    whole = np.asarray(standard_normal(key, (2, 3, worlds)))
    pieces = [np.asarray(standard_normal(key, (2, 3, width), worlds=worlds, first=first))
              for first in range(0, worlds, width)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=-1)[..., :worlds], whole)
    with pytest.raises(ValueError, match="first=1000"):
        standard_normal(key, (2, 8), worlds=1000, first=1000)
    with pytest.raises(ValueError, match="worlds=0"):
        standard_normal(key, (2, 8), worlds=0, first=0)


@pytest.mark.parametrize("shape", [(4, 777), (1, 1), (3, 2, 65)])
def test_a_full_width_draw_is_jaxs_own_normal_draw(shape):
    # a draw without ``worlds`` goes through the counted arithmetic too: still JAX's bits
    key = fold_key(root_key(11), 3)
    with jax.enable_x64(True):
        expected = np.asarray(jax.random.normal(key, shape, dtype=jax.numpy.float64))
    np.testing.assert_array_equal(np.asarray(standard_normal(key, shape)), expected)


def test_the_unrolled_threefry_hashes_as_jaxs_own():
    # the words at both ends of uint32 and some in between, under keys at both ends
    rng = np.random.default_rng(0)
    edge = np.array([0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1], np.uint32)
    words = np.concatenate([edge, rng.integers(0, 2**32, 250, dtype=np.uint32)])
    x0, x1 = np.meshgrid(edge, edge)
    x0 = np.concatenate([x0.ravel(), words])
    x1 = np.concatenate([x1.ravel(), words[::-1]])
    for key in ([0, 0], [2**32 - 1, 2**32 - 1], [0x1BD11BDA, 7], list(rng.integers(0, 2**32, 2))):
        key = np.array(key, np.uint32)
        hashed = np.asarray(threefry_2x32(key, np.concatenate([x0, x1])))
        ours = np.asarray(jax.jit(_threefry_2x32_pairs)(key, x0, x1))
        np.testing.assert_array_equal(ours, np.stack([hashed[: x0.size], hashed[x0.size:]]))


def test_the_first_draw_of_a_process_may_be_traced():
    # the check of the counters runs at a process's first draw, which may come inside jit
    # and vmap (forecast.engine.push_worlds): it is evaluated then, not traced
    key = fold_key(root_key(2), 0)
    direct = np.asarray(standard_normal(key, (3, 40)))
    _counters_match.cache_clear()
    traced = jax.jit(jax.vmap(lambda k: standard_normal(k, (3, 40))))(jax.numpy.stack([key, key]))
    np.testing.assert_array_equal(np.asarray(traced), np.stack([direct, direct]))
    assert _counters_match()


def test_this_jax_draws_a_count_in_one_compiled_width():
    # the fallback (a compile per count) gives the same numbers, so the tests above pass with
    # it too: this is the test that the shared width is in use, as chunk_plan assumes
    assert jax.config.jax_threefry_partitionable
    with jax.enable_x64(True):
        assert _counters_match()


def test_a_count_wider_than_the_array_is_refused():
    with pytest.raises(ValueError, match="worlds=9"):
        standard_normal(root_key(0), (2, 8), worlds=9)


def test_with_jaxs_older_counters_a_count_still_gets_its_own_scores():
    key = fold_key(root_key(4), 1)
    with jax.threefry_partitionable(False):
        wide = np.asarray(standard_normal(key, (3, 1024), worlds=500))
        narrow = np.asarray(standard_normal(key, (3, 500)))
    np.testing.assert_array_equal(wide[:, :500], narrow)


@pytest.mark.parametrize("width", [777, 1024])  # a count in a wider call, and a full chunk
def test_chosen_columns_are_drawn_alone_with_the_scores_of_the_whole_draw(width):
    key = fold_key(root_key(4), 2)
    columns = np.array([776, 0, 5, 5, 300])  # any order, repeats
    whole = np.asarray(standard_normal(key, (3, 1024), worlds=width))[:, :width]
    np.testing.assert_array_equal(standard_normal_at(key, 3, width, columns), whole[:, columns])
    with jax.threefry_partitionable(False):  # the fallback: the scores the chunk's draw has there
        np.testing.assert_array_equal(standard_normal_at(key, 3, width, columns),
                                      np.asarray(standard_normal(key, (3, 1024), worlds=width))[:, columns])
    assert standard_normal_at(key, 3, width, []).shape == (3, 0)
    with pytest.raises(ValueError, match="columns outside 0..776"):
        standard_normal_at(key, 3, 777, [777])
