"""Who gets there first: for each size, the chance that each lab runs the first training run
of at least that size (and that none does within the forecast's years)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.figure import Figure

from forecast import ForecastResult
from outputs.plots.axes import CAPTION_COLOR
from outputs.plots.axes import caption as result_caption
from outputs.text import flop_label

__all__ = ["LAB_COLORS", "lab_label", "plot_labs"]

#: One colour per lab, in the prior file's order (Okabe-Ito, safe for colour blindness).
LAB_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_NONE_COLOR = "#DDDDDD"
#: Names as a reader writes them.
_LAB_LABELS = {"openai": "OpenAI", "google_deepmind": "Google DeepMind", "xai": "xAI", "anthropic": "Anthropic",
               "meta": "Meta", "china": "China (aggregate)"}


def lab_label(name: str) -> str:
    """``google_deepmind`` -> ``Google DeepMind``; other names with their underscores as spaces."""
    return _LAB_LABELS.get(name, name.replace("_", " "))


def plot_labs(result: ForecastResult, *, ax=None, thresholds: Iterable[float] | None = None,
              caption: str | bool | None = None):
    """One bar per size: the probability that each lab is the first to a run of at least that
    size within the forecast's years (the lab with the largest run of the year the frontier
    first reaches it), and, in grey, that no run reaches it by the last year.

    ``caption``: the line under the plot, None for prior set, samples and seed; a string; or
    False. Returns the axes; ``None`` for a forecast of one lab (nothing to draw).
    """
    summary = result.lab_summary()
    if summary is None:
        return None
    if ax is None:
        ax = Figure(layout="constrained").add_subplot()
    available = summary["threshold"].values
    chosen = [t for t in (thresholds or (1e27, 1e28, 1e29, 1e30)) if t in available] or list(available)
    last = int(result.years[-1])
    rows = list(reversed(chosen))  # the smallest size on top
    for row, t in enumerate(rows):
        left = 0.0
        shares = summary["first_probability"].sel(threshold=t).values
        for k, (lab, share) in enumerate(zip(result.labs, shares)):
            ax.barh(row, share, left=left, color=LAB_COLORS[k % len(LAB_COLORS)], edgecolor="white",
                    linewidth=0.8, label=lab_label(lab) if row == 0 else None)
            if share >= 0.06:
                ax.text(left + share / 2, row, f"{share:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if k % len(LAB_COLORS) in (0, 5, 7) else "black")
            left += share
        none = max(1.0 - left, 0.0)
        ax.barh(row, none, left=left, color=_NONE_COLOR, edgecolor="white", linewidth=0.8,
                label=f"not by {last}" if row == 0 else None)
        if none >= 0.06:
            ax.text(left + none / 2, row, f"{none:.0%}", ha="center", va="center", fontsize=9, color="#444444")
    ax.set_yticks(np.arange(len(rows)), [f"{flop_label(t)} FLOP" for t in rows])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel(f"probability of being the first to a run of at least that size ({int(result.years[0])}-{last})")
    ax.set_title("Which lab runs the first training run of each size?")
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    text = result_caption(result) if caption is None or caption is True else caption
    if text:  # under the axis label, inside the axes' layout box
        ax.text(0.0, -0.2, text, transform=ax.transAxes, fontsize=7.5, color=CAPTION_COLOR, ha="left", va="top")
    return ax
