"""A question's two answers in a world (:func:`question_sums`), against the module
docstring's formulas worked out by hand for two labs and two years."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from forecast.record.questions import Question, question_sums
from models.evidence import Evidence

LABS = ("a", "b")
YEARS = (2025, 2026)
QUESTION = Question(1e27, dt.date(2026, 12, 31))  # ends at 2027.0
P = {"a": 0.5, "b": 0.8}
COMPUTE = {"a": (26.5, 27.2), "b": (26.0, 26.8)}  # log10 FLOP, 2025 and 2026
SD = 0.2


def _phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _world():
    """One world (repeated: the mean is its answer), every run public at once (delay 0)."""
    out = {"log10_training_compute": np.array([[26.5, 27.2]] * 3),
           "log10_lab_training_compute": np.array([[COMPUTE[lab] for lab in LABS]] * 3),
           "estimate_sd_dex": np.full(3, SD)}
    for k, lab in enumerate(LABS):
        out[f"disclosure_probability[{lab}]"] = np.full(3, P[lab])
        out[f"disclosure_delay_months[{lab}]"] = np.zeros(3)
    return out


def _answers(**kw):
    sums = question_sums(_world(), LABS, YEARS, [QUESTION], **kw)
    total = sums[-1, 0, 0]
    return sums[0, 0, 0] / total, sums[0, 1, 0] / total


def test_no_record_published_is_one_less_the_chance_no_lab_year_gets_an_estimate_above_t():
    true, published = _answers()
    # true: lab a's 2026 run (27.2) is >= 27 and the whole of 2026 is gone by the end of the day
    assert true == 1.0
    # published: each lab-year public by 2027.0 with probability p (delay 0), its estimate >= 27
    # with Phi((C - 27) / sd), independently
    none = 1.0
    for lab in LABS:
        for c in COMPUTE[lab]:
            none *= 1 - P[lab] * _phi((c - 27) / SD)
    assert published == pytest.approx(1 - none, rel=1e-7)


def test_given_the_record_a_public_row_is_out_and_the_rest_are_conditioned_on_none_by_then():
    # as of mid-2026: lab a's 2025 run has its row (below t); the other lab-years have none
    evidence = Evidence(as_of=2026.5, cell_lab=np.array([0, 0, 1, 1]), cell_year=np.array([0, 1, 0, 1]),
                        cell_finish=np.array([2025.0, 2026.0, 2025.0, 2026.0]),
                        cell_public=np.array([True, False, False, False]))
    _, published = _answers(evidence=evidence)
    # delay 0: a 2025 run not public by 2026.5 never will be, (p - p) / (1 - p) = 0; a 2026
    # run is public by 2026.5 with probability p / 2, by 2027.0 with p:
    # (p - p / 2) / (1 - p / 2)
    none = 1.0
    for lab in LABS:
        later = (P[lab] - P[lab] / 2) / (1 - P[lab] / 2)
        none *= 1 - later * _phi((COMPUTE[lab][1] - 27) / SD)
    assert published == pytest.approx(1 - none, rel=1e-6)
