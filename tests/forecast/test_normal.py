"""standard_normal: the one way the package draws scores, float64, the same for the same key."""

from __future__ import annotations

import jax
import numpy as np
from scipy import stats

from forecast._normal import root_key, standard_normal
from forecast.engine import _chunk_key
from forecast.settings import MAX_SEED


def draw(seed, chunk, shape=(2, 100_000)):
    return np.asarray(standard_normal(_chunk_key(root_key(seed), chunk), shape))


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
