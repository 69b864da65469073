"""What the app's page shows, as text and JSON: its errors field by field, the headline's
words, the questions a run answers. Pure functions of a state or a result; no engine, no HTTP."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from forecast.settings import parse_years
from outputs.app.state import PAGE_TERMS, AppState, in_page_terms
from outputs.flags import in_flags
from outputs.text import flop_label

__all__ = ["FIELD_OF_FLAG", "MCSE_NOTE", "QUANTITIES_NOTE", "field_of", "finite_json", "headline_text",
           "page_error", "page_questions", "percent_text", "questions_payload", "with_valid_year"]

#: A message that starts with a flag belongs to that field of the page.
FIELD_OF_FLAG = {"--samples": "samples", "--seed": "seed", "--years": "years", "--thresholds": "threshold",
                  "--threshold": "threshold", "--target-year": "year", "--as-of": "as_of", "--priors": "priors",
                  "--correlate": "corr"}

def finite_json(value):
    """JSON has no NaN: None instead, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def field_of(message: str) -> str:
    """The field of the page a message is about: its flag (``--samples: ...``) or the
    field's label (``worlds: ...``, :data:`~outputs.app.state.PAGE_TERMS`)."""
    head = message.partition(":")[0]
    head = {label: flag for flag, label in PAGE_TERMS.items()}.get(head, head)
    return FIELD_OF_FLAG.get(head, "run")


def page_error(message: str) -> dict:
    """An error of the page: its field, and the message in the page's terms."""
    message = in_flags(message.splitlines()[0])
    return {"field": field_of(message), "message": in_page_terms(message)}


def with_valid_year(state: AppState) -> AppState:
    """A headline year outside the years (when one of them was refused) falls back to the
    fourth year of the range (2028 of 2025..2035)."""
    years = parse_years(state.years)
    return state if state.year in years else replace(state, year=years[min(len(years) - 1, 3)])


def percent_text(probability: float, mcse: float) -> str:
    """``43.2% ± 0.2%`` (± one Monte Carlo standard error)."""
    return f"{100 * probability:.1f}% ± {100 * mcse:.1f}%"


def headline_text(probability: float, mcse: float, threshold: float, year: int) -> str:
    """``P(≥1e28 FLOP by 2028) = 43.2% ± 0.2%`` (± one Monte Carlo standard error)."""
    return f"P(≥{flop_label(threshold)} FLOP by {year}) = {percent_text(probability, mcse)}"


#: What the two probabilities of the questions table are, and what "±" is (one line).
QUANTITIES_NOTE = ("True: a run that large has finished by the end of the year. Published: a public "
                   "estimate that large exists by then, which is what forecasting questions resolve on; "
                   "the two differ because a run's estimate appears late or never, and estimates err.")
#: What the "±" of every probability on the page is.
MCSE_NOTE = ("± one Monte Carlo standard error: the noise of drawing {samples} worlds rather than "
             "infinitely many (more worlds shrink it), not the uncertainty of the forecast")


def page_questions(state: AppState) -> tuple:
    """The questions a page's run answers, true and published: ``forecast run``'s headline
    ones (``HEADLINE_QUESTIONS`` its years cover) and the page's headline threshold by the
    end of its year, when it is not one of them (questions change no world)."""
    import datetime as dt

    from forecast.record.questions import HEADLINE_QUESTIONS, Question

    years = parse_years(state.years)
    questions = [q for q in HEADLINE_QUESTIONS if years[0] <= q.by.year <= years[-1]]
    own = Question(float(state.threshold), dt.date(int(state.year), 12, 31))
    if own not in questions:
        questions.append(own)
    return tuple(sorted(questions, key=lambda q: (q.by, q.threshold)))


def questions_payload(result, state: AppState) -> list[dict]:
    """The run's answers (``metadata["questions"]``), one row per question: the true and
    the published probability with their Monte Carlo errors, the page's headline marked."""
    rows = []
    for a in json.loads(result.metadata.get("questions") or "[]"):
        year = int(a["by"][:4])
        rows.append({
            "label": f"P(≥{flop_label(a['threshold'])} FLOP by {year})", "threshold": a["threshold"],
            "by": a["by"], "true": a["true_probability"], "true_mcse": a["true_mcse"],
            "published": a["published_probability"], "published_mcse": a["published_mcse"],
            "true_text": percent_text(a["true_probability"], a["true_mcse"]),
            "published_text": percent_text(a["published_probability"], a["published_mcse"]),
            "headline": a["threshold"] == state.threshold and year == state.year,
        })
    return rows
