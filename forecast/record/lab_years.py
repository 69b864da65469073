"""The record by lab and year, as an observation model reads it (:mod:`forecast.conditioning`):
which modelled lab a row is (:func:`lab_from_organization`, :func:`lab_of`,
:func:`labs_of`), the year its run finished (:func:`finish_years`), which rows share one
independent estimate (:func:`derivation_roots`), and the measurement error of each
estimate (:func:`interval_sd`, :func:`measurement_sd`, :func:`estimate_sds`).

Measurement error of Epoch's labels
-----------------------------------
Epoch AI's documentation ("AI Models Documentation", estimation page, section
"Estimating confidence", https://epoch.ai/data/ai-models-documentation/estimation) gives
each label as a 90% confidence interval around the estimate: Confident within a factor of
3, Likely within a factor of 10, Speculative within a factor of 31 (either way). The page
itself could not be retrieved here; the factors are as quoted from it by two independent
public projects. Read as a normal error in log10 FLOP with that 90% interval
(+-1.645 sd), :func:`measurement_sd` gives::

    Confident    log10(3)  / 1.645 = 0.290
    Likely       log10(10) / 1.645 = 0.608
    Speculative  log10(31) / 1.645 = 0.907

A row without an Epoch label is a stated judgement: a ``reported`` number counts as
Confident, an ``estimated`` one as Likely (:func:`measurement_sds`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from forecast.record.runs import EPOCH_CONFIDENCE_LEVELS
from priors.errors import InputError

__all__ = [
    "LAB_ALIASES", "derivation_roots", "estimate_sds", "finish_years", "interval_sd", "lab_from_organization",
    "lab_of", "labs_of", "measurement_sd", "measurement_sds",
]

#: Organization names (lower case, as Epoch AI and papers write them) -> lab name of the
#: default prior set. Microsoft is not OpenAI: a run Microsoft publishes (Megatron-Turing
#: NLG, Phi) is another organization's, though OpenAI trains on Microsoft's clusters.
#: Chinese developers are one ``china`` aggregate.
LAB_ALIASES = {
    "openai": "openai",
    "google": "google_deepmind", "deepmind": "google_deepmind", "google deepmind": "google_deepmind",
    "google brain": "google_deepmind", "google research": "google_deepmind",
    "xai": "xai", "x.ai": "xai",
    "anthropic": "anthropic",
    "meta": "meta", "meta ai": "meta", "facebook": "meta", "facebook ai research": "meta",
    "facebook ai": "meta", "fair": "meta",
    "deepseek": "china", "alibaba": "china", "qwen": "china", "alibaba cloud": "china",
    "moonshot": "china", "moonshot ai": "china", "zhipu ai": "china", "z.ai (zhipu ai)": "china",
    "z.ai": "china", "zhipu": "china", "bytedance": "china", "tencent": "china", "baidu": "china",
    "huawei": "china", "minimax": "china", "ant group": "china", "meituan inc": "china",
    "meituan": "china", "xiaomi corp": "china", "xiaomi": "china", "stepfun": "china",
    "01.ai": "china", "sensetime": "china", "iflytek": "china", "kuaishou": "china",
    "shanghai ai lab": "china", "china telecom": "china",
}

#: z of the upper end of a central 90% interval of a normal.
_Z90 = 1.6448536269514722
#: Epoch's 90% intervals, as a factor either way (see the module docstring).
_EPOCH_CI90_FACTOR = {"Confident": 3.0, "Likely": 10.0, "Speculative": 31.0}
#: The label a row without one is treated as, by its ``confidence``.
_UNLABELED_AS = {"reported": "Confident", "estimated": "Likely"}


def measurement_sd(confidence_label: str | None) -> float:
    """The sd in log10 FLOP of an estimate with Epoch AI's ``confidence_label``.

    ``Confident`` 0.290, ``Likely`` 0.608, ``Speculative`` 0.907: Epoch's 90% intervals
    (a factor of 3, 10, 31 either way) read as normal errors in log10. Case and surrounding
    space are ignored. A blank or ``None`` label (a row Epoch did not label) is treated as
    Likely; for a whole record prefer :func:`measurement_sds`, which counts a ``reported``
    row as Confident.

    Raises
    ------
    priors.InputError
        For any other label.
    """
    text = "" if confidence_label is None else str(confidence_label).strip()
    if not text:
        text = "Likely"
    for label, factor in _EPOCH_CI90_FACTOR.items():
        if text.lower() == label.lower():
            return math.log10(factor) / _Z90
    raise InputError(
        f"epoch_confidence: unknown label {confidence_label!r}; use "
        f"{', '.join(EPOCH_CONFIDENCE_LEVELS)} or leave it blank"
    )


def measurement_sds(runs: pd.DataFrame) -> np.ndarray:
    """The measurement sd (log10 FLOP) of every row of ``runs``, in order.

    Epoch's label where the row has one (:func:`measurement_sd`); otherwise a ``reported``
    number counts as Confident and an ``estimated`` one as Likely.
    """
    labels = runs["epoch_confidence"] if "epoch_confidence" in runs.columns else pd.Series([""] * len(runs))
    kinds = runs["confidence"] if "confidence" in runs.columns else pd.Series(["estimated"] * len(runs))
    out = []
    for label, kind in zip(labels.fillna("").astype(str), kinds.fillna("").astype(str)):
        label = label.strip() or _UNLABELED_AS.get(kind.strip(), "Likely")
        out.append(measurement_sd(label))
    return np.asarray(out, dtype=float)



def lab_from_organization(organization: str | None) -> str | None:
    """The default prior set's lab name of an organization, or None for another one.

    Aliases (:data:`LAB_ALIASES`, case and surrounding space ignored): Google, DeepMind,
    Google DeepMind, Google Brain and Google Research are ``google_deepmind``; Meta, Meta AI
    and Facebook AI Research are ``meta``; DeepSeek, Alibaba, Moonshot, Zhipu, ByteDance,
    Tencent, Baidu and other Chinese developers are ``china``. Several organizations
    (``"Microsoft/NVIDIA"``, ``"Google Research,DeepMind"``: separated by ``,``, ``/``, ``;``
    or ``&``) map to the first one that has a lab.
    """
    for part in re.split(r"[,/;&]", str(organization or "")):
        lab = LAB_ALIASES.get(" ".join(part.split()).lower())
        if lab is not None:
            return lab
    return None


def lab_of(row, labs) -> str | None:
    """The lab of a record row among ``labs`` (a prior set's lab names), or None.

    The row's ``lab`` column where given, else its organization read through
    :func:`lab_from_organization`. A row whose lab is not among ``labs`` (another
    organization, or a prior set with other labs) maps to None: it bounds the frontier, not
    a lab's run.
    """
    labs = tuple(labs)
    given = str(row.get("lab", "") or "").strip() if hasattr(row, "get") else ""
    lab = given or lab_from_organization(row.get("organization") if hasattr(row, "get") else None)
    return lab if lab in labs else None


def labs_of(runs: pd.DataFrame, labs) -> pd.Series:
    """:func:`lab_of` of every row of ``runs`` (None where not among ``labs``), indexed like it."""
    labs = tuple(labs)
    return pd.Series([lab_of(row, labs) for _, row in runs.iterrows()], index=runs.index,
                     name="lab", dtype=object)


def finish_years(runs: pd.DataFrame) -> pd.Series:
    """The year each run finished: its ``finish_year`` where given, else by
    :data:`~forecast.record.runs.FINISH_YEAR_RULE` (the publication year). Integers, indexed like ``runs``."""
    published_year = pd.to_datetime(runs["date"]).dt.year
    if "finish_year" not in runs.columns:
        return published_year.astype(int).rename("finish_year")
    given = pd.to_numeric(runs["finish_year"], errors="coerce")
    return given.fillna(published_year).astype(int).rename("finish_year")


def interval_sd(low: float, high: float) -> float:
    """The sd in log10 FLOP of a normal error whose central 90% interval is ``[low, high]``:
    ``(log10 high - log10 low) / (2 * 1.645)``. GPT-4.5's 2.7e26 to 5.4e26 gives 0.0915."""
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        raise ValueError(f"not a 90% interval of positive FLOP: [{low}, {high}]")
    return (math.log10(high) - math.log10(low)) / (2 * _Z90)


def estimate_sds(runs: pd.DataFrame) -> np.ndarray:
    """The sd (log10 FLOP) of each row's estimate, in order: from its stated 90% interval
    (:func:`interval_sd`) where it has one, else from its label (:func:`measurement_sds`).

    A stated interval is asymmetric in log10 where the estimate is not its geometric
    midpoint (GPT-5: 6.6e25 in 2e25 to 2e26); the sd takes the interval's width only.
    """
    fallback = measurement_sds(runs)
    if "flop_low_90" not in runs.columns or "flop_high_90" not in runs.columns:
        return fallback
    low = runs["flop_low_90"].to_numpy(dtype=float)
    high = runs["flop_high_90"].to_numpy(dtype=float)
    stated = np.isfinite(low) & np.isfinite(high)
    out = fallback.copy()
    out[stated] = (np.log10(high[stated]) - np.log10(low[stated])) / (2 * _Z90)
    return out


def derivation_roots(runs: pd.DataFrame) -> pd.Series:
    """For each row, the model its estimate ultimately derives from (following
    ``derived_from`` through chains; the row's own model where blank), indexed like ``runs``.

    Rows with the same root share one independent estimate: an observation model counts
    them once (Grok 4's estimate is Grok 3's pre-training plus RL, so both have root
    Grok 3). A ``derived_from`` naming no row of ``runs`` stops the chain there; a cycle
    raises ValueError.
    """
    parent = {}
    if "derived_from" in runs.columns:
        parent = {m: str(p).strip() for m, p in zip(runs["model"], runs["derived_from"].fillna(""))
                  if str(p).strip()}
    models = set(runs["model"])
    roots = []
    for model in runs["model"]:
        seen, current = {model}, model
        while current in parent and parent[current] in models:
            current = parent[current]
            if current in seen:
                raise ValueError(f"derived_from: a cycle through {model!r}")
            seen.add(current)
        roots.append(current)
    return pd.Series(roots, index=runs.index, name="derivation_root")
