"""Shared fixtures: the default priors, and prior sets of point masses for exact cases."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
# the CLI's persistent compile cache stays out of the tests (tests/outputs/test_scale.py tests it)
os.environ.setdefault("FORECAST_NO_COMPILE_CACHE", "1")

import jax
import pytest

import forecast  # noqa: F401  (silences ArviZ's import warning once for the session)
from priors import PriorSet, load_prior_set


@pytest.fixture(scope="session")
def default_priors() -> PriorSet:
    return load_prior_set()


@pytest.fixture(scope="session")
def small_run():
    """One small default forecast shared by the tests that only read it."""
    return forecast.run(samples=4000, seed=7)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def float64():
    """64-bit JAX types inside the test, as the engine's own entry points have them.

    For tests that call the model arithmetic of ``models`` directly: it computes in whatever
    precision JAX is set to, and the package never switches JAX to float64 globally.
    """
    with jax.enable_x64(True):
        yield
