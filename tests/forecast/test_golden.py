"""The redesign changed no number: small runs saved before it (tests/golden.py) come out the same.

"The same" allows one source of error each kind of number has, and nothing else:

- integers and booleans (constraint codes, the leading lab, flags): exactly equal;
- float64 numbers: XLA and libm releases may round ``exp``, ``log`` and ``pow`` differently
  in the last bit (1.1e-16 relative per operation), and a world's compute passes through a
  few hundred of them, so they may differ by ``FLOAT64_RTOL`` relative (``1e-11``: a
  hundred times that bound, a million times below any change a model edit makes), and
  numbers that are differences of terms of order one (Sobol' indices near 0) by
  ``FLOAT64_ATOL`` absolute.

Output written in float32 (``samples.nc``) is not compared here: the golden runs are the
in-memory results.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests import golden

#: Relative tolerance of float64 numbers (module docstring): XLA/libm rounding only.
FLOAT64_RTOL = 1e-11
#: Absolute tolerance of float64 numbers near zero (module docstring).
FLOAT64_ATOL = 1e-13


def assert_same(current: xr.DataArray, saved: xr.DataArray) -> None:
    """``current`` equals ``saved`` up to the error its kind of number may carry."""
    current, saved = current.drop_attrs(), saved.drop_attrs()
    if saved.dtype.kind in "biu":
        xr.testing.assert_equal(current, saved)
    else:
        xr.testing.assert_allclose(current, saved, rtol=FLOAT64_RTOL, atol=FLOAT64_ATOL)


@pytest.fixture(scope="module")
def now():
    return {**golden.runs(), "sobol": golden.sobol()}


@pytest.mark.parametrize("group", ["default", "default/summary", "power_wall", "power_wall/summary", "sobol"])
def test_same_numbers_as_saved(now, group):
    saved = xr.open_dataset(golden.PATH, group=group, engine="h5netcdf").load()
    current = now[group]
    # every saved number is the same; variables added since (v3's neutral priors) may join them
    assert set(saved.data_vars) <= set(current.data_vars)
    for name in saved.data_vars:
        assert_same(current[name], saved[name])


def test_the_comparison_fails_on_a_change_a_model_edit_makes():
    saved = xr.DataArray(np.array([1e25, 3.2e26]), dims="year")
    assert_same(saved * (1 + 1e-13), saved)  # last-bit rounding passes
    with pytest.raises(AssertionError):
        assert_same(saved * (1 + 1e-9), saved)
    with pytest.raises(AssertionError):
        assert_same(xr.DataArray(np.array([0, 1], dtype=np.int8)), xr.DataArray(np.array([0, 2], dtype=np.int8)))
