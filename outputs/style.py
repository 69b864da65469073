"""The one plot style of the project: colours as data, the style file, FLOP axis labels.

Nothing here changes matplotlib at import. Wrap drawing in :func:`plot_style`::

    with plot_style():
        ax = plot_fan(result)
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import matplotlib as mpl
import matplotlib.style
import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from models import CONSTRAINTS

__all__ = [
    "CONSTRAINT_COLORS", "FORECAST_COLORS", "STYLE_FILE", "THRESHOLD_COLORS", "BAND_COLOR", "MEDIAN_COLOR",
    "constraint_color", "forecast_color", "method_color", "METHOD_COLORS", "PUBLISHED_COLORS", "log10_flop_formatter", "plot_style", "power_of_ten", "threshold_color",
]

STYLE_FILE = Path(__file__).with_name("forecast.mplstyle")

#: Colour of each default threshold (by its power of ten), dark to light as they grow.
THRESHOLD_COLORS = {
    26: "#3b0f70",
    27: "#8c2981",
    28: "#de4968",
    29: "#f66e3c",
    30: "#d9a300",
}

#: Colour of each binding constraint (Okabe-Ito, colour-blind safe).
CONSTRAINT_COLORS = {
    "supply": "#0072B2",
    "power": "#E69F00",
    "funding": "#009E73",
    "data": "#CC79A7",
    "latency": "#56B4E9",
}

#: The fan: median line and its bands.
MEDIAN_COLOR = "#1f3b73"
BAND_COLOR = "#4a78c2"

#: Colours of the published forecasts' markers (:data:`outputs.plots.marks.PUBLISHED_STYLES`):
#: no forecast or method takes them.
PUBLISHED_COLORS = ("#009E73", "#D55E00", "#E69F00", "#CC79A7")

#: One colour per forecasting method and shipped prior set, the same in every plot (compare,
#: calibrate, backtest), none of them a published marker's colour nor the record's black.
METHOD_COLORS = {
    "default": MEDIAN_COLOR,
    "calibrated": "#7b3294",
    "trend": "#8c510a",
    "trend_hinge": "#c7a35a",
    "last_value": "#6b6b6b",
    "ols_line": "#01665e",
    "bottom_up": "#2166ac",
    "power_wall": "#56B4E9",
    "data_wall": "#808000",
    "fast_buildout": "#800026",
    "moe": "#9e9ac8",
    "no_fp8": "#2b8cbe",
    "rl_scaling": "#b8860b",
    "synthetic_data": "#4d4d4d",
    "v2": "#999999",
}

#: Colours of forecasts drawn side by side whose method has no colour of its own, in order.
FORECAST_COLORS = (MEDIAN_COLOR, "#56B4E9", "#7b3294", "#808000", "#800026", "#9e9ac8", "#01665e", "#999999")

#: Seed estimates of the largest runs around 2024, for the fan chart (log10 FLOP); ``short``
#: labels the mark on the chart.
REFERENCE_POINTS = (
    {"year": 2024, "log10_flop": 26.0, "label": "30K H100 systems (2023-24 runs): ~1e26",
     "short": "30K H100"},
    {"year": 2024, "log10_flop": math.log10(4e26), "label": "100K H100, 4 months (2024 systems): 4e26",
     "short": "100K H100, 4 months"},
)

if set(CONSTRAINT_COLORS) != set(CONSTRAINTS):  # pragma: no cover - a model change must add a colour
    raise RuntimeError(f"outputs.style: CONSTRAINT_COLORS must name exactly {CONSTRAINTS}")


def threshold_color(threshold: float) -> str:
    """The colour of a FLOP threshold: fixed for 1e26..1e30, else read off a colour map by
    its log10, so the same threshold has the same colour in every plot."""
    log10 = math.log10(float(threshold))
    if log10.is_integer() and int(log10) in THRESHOLD_COLORS:
        return THRESHOLD_COLORS[int(log10)]
    position = float(np.clip((log10 - 25.5) / 5.5, 0, 1)) * 0.85
    return mpl.colors.to_hex(mpl.colormaps["magma"](0.15 + position * 0.8))


def forecast_color(index: int) -> str:
    """The colour of the ``index``-th forecast in a comparison (cycles after seven)."""
    return FORECAST_COLORS[index % len(FORECAST_COLORS)]


def method_key(name: str) -> str:
    """The method of a forecast's name: ``calibrated`` for ``default, calibrated on
    2015-2025``, ``trend_hinge`` for ``trend (hinged), NUTS fit to the record``, else the
    name up to its first comma (a prior set's name)."""
    text = str(name).strip()
    if "calibrated" in text:
        return "calibrated"
    head = text.split(",")[0].strip()
    if head.startswith("trend"):
        return "trend_hinge" if "hinge" in head else "trend"
    return head.split(" ")[0] if head.split(" ")[0] in METHOD_COLORS else head


def method_color(name: str, index: int = 0) -> str:
    """The colour of a forecast or method (:data:`METHOD_COLORS`), else the ``index``-th of
    :data:`FORECAST_COLORS`."""
    return METHOD_COLORS.get(method_key(name), forecast_color(index))


def constraint_color(name: str) -> str:
    return CONSTRAINT_COLORS[name]


def power_of_ten(log10: float) -> str:
    """``$10^{26}$`` for 26, ``$4{\\times}10^{26}$`` for log10(4e26)."""
    exponent = math.floor(log10 + 1e-9)
    mantissa = 10 ** (log10 - exponent)
    if abs(mantissa - round(mantissa)) < 1e-6 and round(mantissa) == 1:
        return f"$10^{{{exponent}}}$"
    return f"${mantissa:.2g}{{\\times}}10^{{{exponent}}}$"


def log10_flop_formatter() -> FuncFormatter:
    """Tick labels ``10^26`` for an axis that holds log10 FLOP values."""
    return FuncFormatter(lambda value, _pos: power_of_ten(value))


def log10_flop_locator() -> MaxNLocator:
    """Ticks at whole powers of ten only."""
    return MaxNLocator(integer=True, steps=[1, 2, 5, 10])


@contextlib.contextmanager
def plot_style(*extra):
    """Apply the project's style (and any further styles or rc dicts) inside the block."""
    with mpl.style.context([str(STYLE_FILE), *extra]):
        yield
