"""The folder of a sweep (sweep.csv, sweep.nc, the plot, the priors) and its terminal summary."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from forecast.headline import mc_half_width
from forecast.conditioning import K_HAT_LIMIT
from forecast.sweep import crossings
from outputs.plots.axes import save_figure
from outputs.plots.sweep import CONTOUR_LEVELS, plot_sweep, question, sweep_caption
from outputs.style import plot_style
from outputs.tables import format_prior_table, prior_table, to_text
from outputs.text import format_probability
from priors import PriorSet

__all__ = ["sweep_table", "sweep_text", "write_sweep"]

#: Rows and columns of the grid the terminal shows at most (every k-th value beyond).
_MAX_ROWS, _MAX_COLUMNS = 21, 9


def sweep_table(grid: xr.Dataset) -> pd.DataFrame:
    """One row per grid point: the varied priors' values, probability, mcse (and the
    conditioning's pareto_k and ess)."""
    names = list(grid["probability"].dims)
    variables = [v for v in ("probability", "mcse", "pareto_k", "ess") if v in grid]
    return grid[variables].to_dataframe().reset_index()[names + variables]


def write_sweep(grid: xr.Dataset, folder: str | Path, *, priors: PriorSet | None = None,
                formats=("png",)) -> list[Path]:
    """``sweep.csv`` (values written exactly, so ``forecast run --set NAME=VALUE`` draws a
    row's worlds), ``sweep.nc``, the plot ``sweep.<format>`` and, given the prior set,
    ``priors.csv`` and ``priors.md``, into an existing (staging) folder; the paths."""
    folder = Path(folder)
    written = []
    csv = folder / "sweep.csv"
    sweep_table(grid).to_csv(csv, index=False)
    written.append(csv)
    nc = folder / "sweep.nc"
    grid.to_netcdf(nc, engine="h5netcdf")
    written.append(nc)
    with plot_style():
        ax = plot_sweep(grid)
        written += save_figure(ax.figure, folder, "sweep", formats=formats)
        plt.close(ax.figure)
    if priors is not None:
        (folder / "priors.csv").write_text(prior_table(priors).to_csv(index=False, float_format="%.6g"),
                                           encoding="utf-8")
        (folder / "priors.md").write_text(format_prior_table(priors, markdown=True) + "\n", encoding="utf-8")
        written += [folder / "priors.csv", folder / "priors.md"]
    return written


def _value(value: float) -> str:
    return f"{value:.4g}"


def _percent(p: float, se: float, n: int) -> str:
    """A probability with the digits its Monte Carlo error supports (``<0.2%`` for none of
    2,000 worlds)."""
    return format_probability(p, se, n, interval=False) if math.isfinite(p) else ""


def _every(n: int, most: int) -> np.ndarray:
    """Indices of at most ``most`` of ``n`` values, evenly spread, first and last included."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(int))


def _curve_lines(grid: xr.Dataset) -> list[str]:
    (name,) = grid["probability"].dims
    n = int(grid.attrs["samples"])
    rows = _every(grid.sizes[name], _MAX_ROWS)
    part = grid.isel({name: rows})
    half = mc_half_width(part["mcse"].values)
    p = part["probability"].values
    frame = pd.DataFrame({
        name: [_value(v) for v in part[name].values],
        "P": [_percent(a, s, n) for a, s in zip(p, part["mcse"].values)],
        "90% MC interval": [f"{max(a - h, 0):.1%} - {min(a + h, 1):.1%}" for a, h in zip(p, half)],
    })
    lines = [to_text(frame, index=False)]
    if len(rows) < grid.sizes[name]:
        lines.append(f"({len(rows)} of {grid.sizes[name]} grid values shown; all in sweep.csv)")
    unit = grid[name].attrs.get("units", "")
    span = f"{name} {_value(grid[name].values[0])}..{_value(grid[name].values[-1])}"
    for level in CONTOUR_LEVELS:
        at = crossings(grid["probability"], level)
        if at:
            lines.append(f"P crosses {level:.0%} at {name} = " + ", ".join(f"{_value(v)} {unit}".rstrip() for v in at))
        else:
            side = "above" if float(grid["probability"].min()) >= level else "below"
            lines.append(f"P stays {side} {level:.0%} over {span}")
    return lines


def _map_lines(grid: xr.Dataset) -> list[str]:
    x_name, y_name = grid["probability"].dims
    n = int(grid.attrs["samples"])
    cols, rows = _every(grid.sizes[x_name], _MAX_COLUMNS), _every(grid.sizes[y_name], _MAX_ROWS)
    part = grid.isel({x_name: cols, y_name: rows})
    p = part["probability"].transpose(y_name, x_name).values
    se = part["mcse"].transpose(y_name, x_name).values
    header = f"{y_name} \\ {x_name}"
    frame = pd.DataFrame(
        {_value(xv): [_percent(p[i, j], se[i, j], n) for i in range(len(rows))] for j, xv in enumerate(part[x_name].values)},
    )
    frame.insert(0, header, [_value(v) for v in part[y_name].values])
    lines = [to_text(frame, index=False)]
    if len(rows) < grid.sizes[y_name] or len(cols) < grid.sizes[x_name]:
        lines.append(f"({len(rows)} x {len(cols)} of the {grid.sizes[y_name]} x {grid.sizes[x_name]} "
                     "grid shown; all in sweep.csv)")
    full, se_full = grid["probability"], grid["mcse"]
    low, high = full.argmin(...), full.argmax(...)
    lines.append(
        f"P ranges from {_percent(float(full[low]), float(se_full[low]), n)} ({x_name} = {_value(float(full[x_name][low[x_name]]))}, "
        f"{y_name} = {_value(float(full[y_name][low[y_name]]))}) to {_percent(float(full[high]), float(se_full[high]), n)} "
        f"({x_name} = {_value(float(full[x_name][high[x_name]]))}, {y_name} = {_value(float(full[y_name][high[y_name]]))})"
    )
    return lines


def sweep_text(grid: xr.Dataset) -> str:
    """What the terminal shows: the question, the grid's probabilities (a table, or a
    matrix for two priors), where a curve crosses 10/50/90%, and the forecast with the
    varied priors random."""
    lines = [f"{question(grid)} with {' and '.join(grid['probability'].dims)} pinned", sweep_caption(grid), ""]
    lines += _curve_lines(grid) if grid["probability"].ndim == 1 else _map_lines(grid)
    base = float(grid.attrs.get("baseline_probability", math.nan))
    if math.isfinite(base):
        base_se = float(grid.attrs["baseline_mcse"])
        settings = [f"{d} {grid[d].attrs.get('prior_spec', '').split(' ')[0]}" for d in grid["probability"].dims
                    if grid[d].attrs.get("varies") == "setting"]
        unpinned = (f"With the prior set's {', '.join(settings)}" if settings
                    else "With every prior random (nothing pinned)")
        lines.append(f"{unpinned}: {_percent(base, base_se, int(grid.attrs['samples']))}")
    if "pareto_k" in grid and bool((grid["pareto_k"] > K_HAT_LIMIT).any()):
        lines.append(f"Conditioning on the record is unreliable at some grid points (pareto_k > {K_HAT_LIMIT} "
                     "in sweep.csv)")
    return "\n".join(lines)
