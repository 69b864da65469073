"""Shared fixtures: the default priors, and prior sets of point masses for exact cases."""

from __future__ import annotations

import os
import shutil
import tempfile

import matplotlib

matplotlib.use("Agg")
# the CLI's persistent compile cache (~/.cache/forecast/jax) stays out of the tests
# (tests/outputs/test_scale.py tests it)
os.environ.setdefault("FORECAST_NO_COMPILE_CACHE", "1")

# One JAX compile cache of the session's own, empty at its start: the pytest workers, the
# CLI subprocesses and Dask workers the tests start inherit these variables, so a program one
# of them compiled is loaded by the others instead of compiled again (most of a small test
# run's time). A fresh folder each session: no test sees a program compiled by an older
# checkout. The first process to load this file (pytest-xdist's controller) makes it.
_OWN_CACHE = None
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    _OWN_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="forecast-tests-jax-")
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

import jax
import pytest

import forecast  # noqa: F401
from forecast.arviz_loader import arviz
from priors import PriorSet, load_prior_set

arviz()  # ArviZ's import warning silenced once for the session (some tests import it directly)

if _OWN_CACHE is not None:  # also where something imported JAX before this file set them
    jax.config.update("jax_compilation_cache_dir", _OWN_CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pytest_unconfigure(config):
    if _OWN_CACHE is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)


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
