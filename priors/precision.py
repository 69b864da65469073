"""Double precision where the engine needs it, never for the whole process.

Log-space training compute is about 64 in natural units; float32 resolves that to ~4e-6,
which eats the 1e-5 agreement the engine promises against NumPy and rounds extreme
quantiles (1 - 1e-12) to 1. So every entry point that computes with JAX (the prior
families, the Monte Carlo engine, the NUTS fits) runs inside ``jax.enable_x64(True)``: a
thread-local setting that ends with the call. Importing the package changes nothing; a
user's own JAX code keeps its own precision.
"""

from __future__ import annotations

import functools

import jax


def float64(function):
    """Run ``function`` with 64-bit JAX types enabled (a decorator)."""

    @functools.wraps(function)
    def in_float64(*args, **kwargs):
        with jax.enable_x64(True):
            return function(*args, **kwargs)

    return in_float64
