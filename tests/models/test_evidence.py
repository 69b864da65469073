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
