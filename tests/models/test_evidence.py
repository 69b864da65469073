"""The observation model's grid of disclosure probabilities (:class:`DisclosureGrid`): the
numbers of broadcasting :func:`disclosed_by`, bit for bit, for every kind of year (whole
years before the date, the date's year, years not begun) and several dates sharing one grid."""

from __future__ import annotations

import numpy as np

from models.evidence import DisclosureGrid, disclosed_by, share_at_least


def test_the_grid_is_disclosed_by_bit_for_bit():
    rng = np.random.default_rng(3)
    probability = rng.uniform(0, 1, (500, 3))
    delay = rng.uniform(0, 30, (500, 3))
    delay[:50] = 0.0  # at once
    years = np.arange(2024, 2031)
    grid = DisclosureGrid(probability, delay)
    # one grid read at several dates: exponents shared between them (2029.0 - 2027 - 1 = 1,
    # as 2028.0 - 2026 - 1) must not change a number
    for date in (2026.9315, 2027.0, 2028.0, 2029.0, 2030.5, 2024.0):
        expected = disclosed_by(probability[..., None], delay[..., None], years.astype(float), date)
        got = grid.by(date, years)
        assert got.shape == (500, 3, years.size)
        np.testing.assert_array_equal(got, expected)
    # a year not begun by the date is never public; one long past is public with probability p
    assert (grid.by(2026.5, [2027, 2028]) == 0).all()
    np.testing.assert_allclose(grid.by(2300.0, [2025])[..., 0], probability, rtol=1e-12)


def test_share_at_least_in_place_is_the_same_numbers():
    rng = np.random.default_rng(4)
    compute = rng.normal(27, 1, (200, 4))
    sd = rng.uniform(0.05, 0.5, (200, 1))
    expected = share_at_least(compute, 27.3, sd)
    scratch = compute.copy()
    np.testing.assert_array_equal(share_at_least(scratch, 27.3, sd, out=scratch), expected)


def test_a_floored_share_leaves_one_minus_p_times_it_bit_for_bit():
    """With ``floor=NEVER_REACHED`` a share below the floor is 0, not computed; ``1 - p x
    share`` is then the same float64 for every p in [0, 1], since the share it replaces is
    below 2^-54; above the floor the share is computed; a NaN stays NaN; a Fortran-ordered
    ``out`` (a fancy index's copy) is written in place, one neither C nor F ordered too."""
    from scipy.special import ndtr

    from models.evidence import NEVER_REACHED

    assert ndtr(NEVER_REACHED) < 2.0**-54
    rng = np.random.default_rng(5)
    sd = rng.uniform(0.05, 0.5, (300, 1))
    compute = 27.0 + sd * rng.uniform(-12, 3, (300, 6))
    compute[0, 0] = 27.0 + sd[0, 0] * NEVER_REACHED  # on the floor: computed
    compute[1, 1] = np.nan
    p = rng.uniform(0, 1, compute.shape)
    p[0, 1:] = 1.0
    expected = share_at_least(compute, 27.0, sd)
    for out in (compute.copy(), np.asfortranarray(compute), np.repeat(compute, 2, axis=1)[:, ::2]):
        floored = share_at_least(out, 27.0, sd, out=out, floor=NEVER_REACHED)
        assert floored is out
        np.testing.assert_array_equal(1.0 - p * floored, 1.0 - p * expected)
        below = (compute - 27.0) / sd < NEVER_REACHED
        if out.flags.c_contiguous or out.flags.f_contiguous:
            assert np.all(floored[below] == 0.0) and below.sum() > 300
        assert floored[0, 0] == expected[0, 0] > 0 and np.isnan(floored[1, 1])
