"""standard_normal: AS241 scores from ThreeFry bits, exact to float64, and the same for a key."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special, stats

from forecast._normal import _log, _normal_from_bits, standard_normal
from forecast.engine import _chunk_key, root_key


def bits_for(tail_probability, upper):
    """The uint64 bits that _normal_from_bits maps to the tail probability nearest ``u``."""
    k = np.floor(np.asarray(tail_probability) * 2.0**53).astype(np.uint64)
    return (k << np.uint64(12)) | (np.asarray(upper, dtype=np.uint64) << np.uint64(11))


def test_scores_are_the_normal_quantiles_of_their_bits_to_float64_accuracy():
    # every branch of AS241: the centre, the near tail and the far tail (u < 1.4e-11), to
    # the smallest tail probability the bits can give (2^-54, |z| = 8.3)
    u = np.concatenate([np.logspace(np.log10(2.0**-54), np.log10(0.4999999), 20_000), [0.5 - 2.0**-53]])
    upper = np.arange(u.size) % 2
    bits = bits_for(u, upper)
    with jax.enable_x64(True):
        z = np.asarray(_normal_from_bits(jnp.asarray(bits)))
    exact_u = ((bits >> np.uint64(12)).astype(float) + 0.5) * 2.0**-53
    expected = np.where(upper == 1, -special.ndtri(exact_u), special.ndtri(exact_u))
    np.testing.assert_allclose(z, expected, rtol=2e-15)
    assert z.min() > -8.3 and z.max() < 8.3


def draw(seed, chunk, shape=(2, 100_000)):
    with jax.enable_x64(True):
        return np.asarray(standard_normal(_chunk_key(root_key(seed), chunk), shape))


def test_scores_are_standard_normal_and_repeat_with_their_key():
    z = draw(5, 0)
    assert z.shape == (2, 100_000)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z)[0, 1]) < 0.02  # the rows are independent
    np.testing.assert_array_equal(z, draw(5, 0))
    for other in (draw(5, 1), draw(6, 0)):  # another chunk, another seed
        assert not np.any(z == np.asarray(other))


def test_vectorized_log_is_within_one_ulp():
    x = np.concatenate([np.logspace(-300, 300, 100_001), np.random.default_rng(0).uniform(0.5, 2.0, 100_000)])
    with jax.enable_x64(True):
        ours = np.asarray(_log(jnp.asarray(x)))
    reference = np.log(x)
    assert np.all(np.abs(ours - reference) <= np.spacing(np.abs(reference)))


def test_a_typed_key_and_its_data_give_the_same_scores():
    key = jax.random.key(11, impl="rbg")
    with jax.enable_x64(True):
        a = np.asarray(standard_normal(key, (3, 50)))
        b = np.asarray(standard_normal(jax.random.key_data(key), (3, 50)))
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
