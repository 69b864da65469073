"""Numbers in words, one format everywhere: thresholds (``1e28``), probabilities with no more
digits than their Monte Carlo error supports (``62%``, ``<0.2%``), first-crossing years
(``2029``, ``after 2035``), and the headline sentences of a write-up.

    >>> import forecast
    >>> from outputs.text import headline_sentences
    >>> print("\\n".join(headline_sentences(forecast.run(samples=20_000))))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from forecast.headline import MC_INTERVAL, headline_table, mc_half_width

if TYPE_CHECKING:  # the text needs no engine
    from forecast.result import ForecastResult

__all__ = [
    "crossing_phrase", "crossing_sentence", "crossing_texts", "decimals_for", "flop_label",
    "format_number", "format_percent", "format_probability", "headline_sentences", "prior_label", "probability_sentence",
]

_MAX_DECIMALS = 3

#: Each prior in prose, for axis labels and table rows (a name not here: its words).
PRIOR_LABELS = {
    "lag_years": "lag behind the largest system",
    "chips_base": "chips in the largest system (2024)",
    "chip_growth": "growth of the chip count",
    "chip_flops_base": "FLOP/s per chip (2024)",
    "chip_flops_growth": "growth of FLOP/s per chip",
    "low_precision_year": "year low precision arrives",
    "low_precision_gain": "gain from low precision",
    "mfu": "hardware utilisation (MFU)",
    "duration_days_base": "run length (2024)",
    "duration_growth": "growth of run length",
    "duration_days_max": "longest run",
    "watts_per_chip_base": "watts per chip (2024)",
    "watts_per_chip_growth": "growth of watts per chip",
    "power_limit_gw_base": "power for one site (2024)",
    "power_limit_growth": "growth of the power",
    "power_limit_gw_max": "most power one site can get",
    "capex_per_chip_base": "capital per chip (2024)",
    "capex_per_chip_growth": "growth of capital per chip",
    "capex_limit_usd_base": "most capital for a cluster (2024)",
    "capex_limit_growth": "growth of the capital limit",
    "capex_limit_usd_max": "most capital for a cluster, ever",
    "text_tokens_base": "text tokens available (2024)",
    "text_tokens_growth": "growth of the text tokens",
    "other_tokens_base": "other tokens available (2024)",
    "other_tokens_growth": "growth of the other tokens",
    "max_epochs": "most passes over the data",
    "epoch_worth_floor": "worth of a repeat, at least",
    "repetition_decay": "worth of repeats, decay",
    "tokens_per_param_ref": "tokens per parameter",
    "tokens_per_param_slope": "tokens per parameter, trend",
    "tokens_per_param_scale": "scale of tokens per parameter",
    "layer_latency_s": "time per layer",
    "critical_batch_tokens_ref": "critical batch size",
    "critical_batch_exponent": "critical batch, growth",
    "post_training_fraction_base": "post-training share (2024)",
    "post_training_fraction_growth": "post-training share, growth",
    "post_training_fraction_max": "largest post-training share",
    "chip_hour_usd_base": "price of a chip-hour (2024)",
    "chip_hour_usd_growth": "change of the chip-hour price",
    "run_share": "cluster time for the run",
    "data_wall_softness": "softness of the data wall",
    "disclosure_probability": "chance a size is published",
    "disclosure_delay_months": "delay before publication",
    "estimate_sd_dex": "error of a published estimate",
}


def prior_label(name: str) -> str:
    """A prior's name in prose: ``growth of the chip count`` for ``chip_growth``; a lab's
    own prior (``chip_growth[xai]``) names the lab."""
    base, _, lab = str(name).partition("[")
    text = PRIOR_LABELS.get(base, base.replace("_", " "))
    return f"{text} ({lab.rstrip(']')})" if lab else text


def flop_label(threshold: float, digits: int = 7) -> str:
    """``1e28`` for 1e28, ``3e27`` for 3e27, ``2.5e26`` for 2.5e26 (no ``+``, no padding);
    ``digits`` significant digits at most (``flop_label(5.83e28, 2)`` is ``5.8e28``)."""
    mantissa, exponent = f"{float(threshold):.{max(digits, 1) - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def format_number(value: float, digits: int = 3, *, year: bool = False) -> str:
    """Any other number of a table or plot, as the prior files write it: ``0.4``, ``1.25``,
    ``365``, ``1470``, ``2028``, ``5e4``, ``1.5e-4`` (``digits`` significant digits, at least
    the whole number between 100 and 1e4, so a year is an integer; trailing zeros dropped;
    the exponent as :func:`flop_label` writes it); a ``year`` to a tenth (``2027.5``)."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    rounded = float(f"{value:.{digits - 1}e}")  # 0.00999999 -> 0.01
    if 100 <= abs(value) < 1e4 or 100 <= abs(rounded) < 1e4:  # whole numbers: 1470, 2028
        text = f"{value:.1f}" if year else f"{value:.0f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    magnitude = abs(rounded)
    if 1e-2 <= magnitude < 100:
        decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
        text = f"{rounded:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return flop_label(rounded, digits)


def decimals_for(mcse: float) -> int:
    """Decimal places of a percentage whose Monte Carlo standard error is ``mcse`` (a fraction).

    The last digit shown is the first one at or above the standard error: an MCSE of 1.1
    percentage points gives ``62%``, 0.16 gives ``62%``, 0.05 gives ``62.3%``. At most 3.
    """
    mcse_pct = 100 * float(mcse)
    if not math.isfinite(mcse_pct) or mcse_pct <= 0:
        return 0
    return int(min(max(math.floor(-math.log10(mcse_pct)), 0), _MAX_DECIMALS))


def format_percent(p: float, decimals: int) -> str:
    """``p`` (a fraction) as a percentage rounded to ``decimals``; never shows 0% or 100%
    for a probability that is not exactly 0 or 1 (``<0.1%``, ``>99.9%`` instead)."""
    p = float(p)
    step = 10.0 ** -decimals
    shown = round(100 * p, decimals)
    if 0 < p and shown <= 0:
        return f"<{step:.{decimals}f}%"
    if p < 1 and shown >= 100:
        return f">{100 - step:.{decimals}f}%"
    return f"{shown:.{decimals}f}%"


def _rule_of_three(n: int) -> float:
    """95% upper bound on a probability never seen in ``n`` draws, rounded up to 1 digit."""
    bound = 100 * 3 / n
    digits = -math.floor(math.log10(bound))
    return math.ceil(bound * 10**digits) / 10**digits


def format_probability(p: float, mcse: float, n: int, *, interval: bool = True) -> str:
    """``62% (90% CI of the Monte Carlo estimate 61-63%)``, digits set by ``mcse``.

    A probability of exactly 0 or 1 (no world, or every world) has no standard error; it is
    shown with the rule-of-three bound instead: ``below 0.2% (none of 2,000 worlds)``.
    """
    p, mcse = float(p), float(mcse)
    if p <= 0 or p >= 1:
        bound = _rule_of_three(n)
        if p <= 0:
            return f"below {bound:g}% (none of {n:,} worlds)" if interval else f"<{bound:g}%"
        return f"above {100 - bound:g}% (all {n:,} worlds)" if interval else f">{100 - bound:g}%"
    d = decimals_for(mcse)
    text = format_percent(p, d)
    if not interval:
        # never closer to 0% or 100% than a probability of none or all of the worlds
        # reads (">99.999%" beside an all-worlds ">99.997%" would read as a fall)
        bound = _rule_of_three(n)
        if 100 * p < bound and not text.startswith("<"):
            return f"<{bound:g}%" if round(100 * p, d) < bound else text
        if 100 * (1 - p) < bound and (text.startswith(">") or round(100 * p, d) > 100 - bound):
            return f">{100 - bound:g}%"
        return text
    half = mc_half_width(mcse)
    lo, hi = max(p - half, 0.0), min(p + half, 1.0)
    # the interval's ends get one more digit when the estimate's digits would make them equal
    for digits in (d, d + 1):
        lo_text, hi_text = (f"{round(100 * x, digits):.{digits}f}" for x in (lo, hi))
        if lo_text != hi_text:
            break
    return f"{text} ({MC_INTERVAL:.0%} CI of the Monte Carlo estimate {lo_text}-{hi_text}%)"


def probability_sentence(threshold: float, year: int, p: float, mcse: float, n: int) -> str:
    """``A 1e28 FLOP run by 2028: 62% (90% CI of the Monte Carlo estimate 61-63%).``"""
    return f"A {flop_label(threshold)} FLOP run by {year}: {format_probability(p, mcse, n)}."


def _year_text(year: float, *, first_year: int, last_year: int, short: bool = False) -> str:
    if not np.isfinite(year):
        return f"after {last_year}"
    if int(year) == first_year:  # the range starts there: the run may have happened before
        return f"≤{first_year}" if short else f"{first_year} or earlier"
    return str(int(year))


def crossing_texts(quantiles: Sequence[float], *, first_year: int, last_year: int) -> tuple[str, str]:
    """``("2029", "2027 to after 2035")``: the median first-crossing year and its 90% interval,
    from the 5th, 50th and 95th percentile (NaN: after the last year)."""
    lo, mid, hi = quantiles
    return (
        _year_text(mid, first_year=first_year, last_year=last_year),
        f"{_year_text(lo, first_year=first_year, last_year=last_year, short=True)} to "
        f"{_year_text(hi, first_year=first_year, last_year=last_year, short=True)}",
    )


def crossing_phrase(quantiles: Sequence[float], *, first_year: int, last_year: int) -> str:
    """``2029 (90% interval 2027 to after 2035)`` from the 5th, 50th and 95th percentile."""
    median, interval = crossing_texts(quantiles, first_year=first_year, last_year=last_year)
    return f"{median} (90% interval {interval})"


def crossing_sentence(threshold: float, quantiles: Sequence[float], *, first_year: int, last_year: int) -> str:
    """``First 1e28 FLOP run: median year 2029 (90% interval 2027 to after 2035).``"""
    phrase = crossing_phrase(quantiles, first_year=first_year, last_year=last_year)
    return f"First {flop_label(threshold)} FLOP run: median year {phrase}."


def headline_sentences(result: ForecastResult, *, years: Iterable[int] | None = None) -> list[str]:
    """For each threshold: one sentence per headline year, then its first-crossing year."""
    table = headline_table(result, years=years)
    n = result.n_samples
    first, last = table.attrs["first_year"], table.attrs["last_year"]
    sentences = []
    for threshold in table["threshold"].values:
        row = table.sel(threshold=threshold)
        for year in row["year"].values:
            cell = row.sel(year=year)
            sentences.append(
                probability_sentence(threshold, int(year), cell["probability"].item(), cell["mcse"].item(), n)
            )
        sentences.append(
            crossing_sentence(threshold, row["crossing_year"].values, first_year=first, last_year=last)
        )
    return sentences


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def conditioning_sentences(result: ForecastResult) -> list[str]:
    """What conditioning on the record did, in words: where each year's record sits in the
    prior forecast (the model check), and how reliable the importance weights were.
    Empty for a forecast that was not conditioned."""
    import json

    meta = result.metadata
    if not meta.get("conditioned_on"):
        return []
    lines = []
    for row in json.loads(meta["record_check"]):
        pct = row["percentile"]
        flag = " (beyond the 1st-99th percentiles: the model is surprised)" if row.get("surprised") else ""
        lab = row.get("lab") or "outside the labs"
        if row.get("kind", "estimate") == "none":
            flag = " (under 1%: the model is surprised)" if row.get("surprised") else ""
            lines.append(f"{lab} {row['year']}: no public estimate of its largest run; the prior "
                         f"forecast gave that {pct:.0f}%{flag}.")
            continue
        where = f"the {_ordinal(max(1, min(99, round(pct))))} percentile"
        what = {"estimate": "its largest run", "bound": "a run below its largest (a lower bound)",
                "frontier bound": "a lower bound on the frontier"}.get(row.get("kind", "estimate"), "")
        lines.append(f"{lab} {row['year']}: {row['model']} ({flop_label(10 ** row['log10_compute'], 2)} FLOP, {what}) "
                     f"sits at {where} of the prior forecast{flag}.")
    for note in json.loads(meta.get("record_notes") or "[]"):
        lines.append(f"Note: {note}.")
    k, ess = float(meta["pareto_k"]), float(meta["ess"])
    verdict = "reliable" if k <= 0.7 else "UNRELIABLE: draw more worlds or use forecast calibrate"
    lines.append(f"Conditioned on {meta['conditioned_on']}: Pareto k = {k:.2f} ({verdict}), "
                 f"effective sample size {ess:,.0f} of {result.n_samples:,} worlds.")
    return lines
