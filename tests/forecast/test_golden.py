"""The redesign changed no number: small runs saved before it (tests/golden.py) come out the same."""

from __future__ import annotations

import pytest
import xarray as xr

from tests import golden


@pytest.fixture(scope="module")
def now():
    return {**golden.runs(), "sobol": golden.sobol()}


@pytest.mark.parametrize("group", ["default", "default/summary", "power_wall", "power_wall/summary", "sobol"])
def test_same_numbers_as_saved(now, group):
    saved = xr.open_dataset(golden.PATH, group=group, engine="h5netcdf").load()
    current = now[group]
    assert sorted(current.data_vars) == sorted(saved.data_vars)
    for name in saved.data_vars:
        xr.testing.assert_equal(current[name].drop_attrs(), saved[name].drop_attrs())
