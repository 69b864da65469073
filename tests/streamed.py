"""Checks of numbers read off a run's streamed histograms (forecast.stream) against the exact
quantiles of the same worlds: equal within the histogram's bin width (0.001 dex) plus the
spacing of the worlds around the quantile (how far two exact definitions of a sample
quantile can differ)."""

from __future__ import annotations

import numpy as np

from forecast.stream import HIST_WIDTH


def order_spacing(values: np.ndarray, q: float) -> float:
    """Spread of the order statistics next to the ``q``-quantile of ``values`` (1-D)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    i = int(q * (ordered.size - 1))
    return float(ordered[min(i + 2, ordered.size - 1)] - ordered[max(i - 1, 0)])


def assert_streamed_quantile(got_log10, log10_worlds, q: float) -> None:
    """``got_log10`` (one per year) is the ``q``-quantile of ``log10_worlds`` (sample, year)."""
    worlds = np.asarray(log10_worlds, dtype=float)
    exact = np.quantile(worlds, q, axis=0)
    bound = HIST_WIDTH + np.array([order_spacing(worlds[:, j], q) for j in range(worlds.shape[1])])
    np.testing.assert_array_less(np.abs(np.asarray(got_log10, dtype=float) - exact), bound + 1e-12)
