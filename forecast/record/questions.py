"""The quantity forecasting questions resolve on (MODEL.md v3, "What gets published").

A question asks whether a run of at least ``t`` FLOP exists by a date ``d``. Two answers:

- **true**: P(a run >= t has finished by the end of day ``d``). A lab's largest run of a
  year finishes at a time uniform in the year (:mod:`models.evidence`), so in one world the
  answer is 1 if any year before ``d``'s has a run >= t, else ``1 - (1 - f)^m``, with ``f``
  the share of ``d``'s year gone by the end of ``d`` and ``m`` the number of labs whose run
  of that year is >= t.
- **published** (the resolvable one): P(a public estimate >= t exists by the end of day
  ``d`` for a run finished by then). In one world, lab ``k``'s run of year ``y`` has such an
  estimate with probability ``q = P_k(public by d) * Phi((log10 C_k(y) - log10 t) / s)``,
  ``s`` the world's ``estimate_sd_dex`` (the error of an estimate not yet published), and the
  lab-years are independent given the world: ``1 - prod (1 - q)``. Given the record as
  published by the as-of date ``a``: a lab-year that has its row by ``a`` has its estimate
  already (below ``t``, or the record resolves the question); one without a row by ``a``
  gets one by ``d`` with probability ``(P(d) - P(a)) / (1 - P(a))``. A row of the record
  already >= t, public by ``d`` and finished in ``d``'s year or before, resolves it: 1.

Each probability is a (weighted) mean over worlds, with its Monte Carlo error
``sqrt(sum w^2 (x - mean)^2) / sum w`` (the self-normalized importance-sampling error; with
equal weights, the standard error of a mean).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.conditioning import day_end
from models.evidence import NEVER_REACHED, DisclosureGrid, Evidence, published_since, share_at_least, world_arrays
from priors import InputError

__all__ = ["HEADLINE_QUESTIONS", "QUESTIONS_PATH", "Question", "answers_from_sums", "day_end", "load_questions", "parse_by", "question_sums",
           "record_resolves"]


@dataclass(frozen=True)
class Question:
    """A run of at least ``threshold`` FLOP by the end of day ``by``."""

    threshold: float
    by: dt.date

    @property
    def label(self) -> str:
        return f">= {self.threshold:.0e} by {self.by.isoformat()}"


#: The run's headline thresholds, each by the end of its year.
HEADLINE_QUESTIONS = (Question(1e27, dt.date(2026, 12, 31)), Question(1e28, dt.date(2028, 12, 31)),
                      Question(1e29, dt.date(2030, 12, 31)))


def parse_by(value, *, name: str = "by") -> dt.date:
    """A question's date: ``YYYY-MM-DD``, or a year (its last day)."""
    text = str(value).strip()
    if text.isdigit() and len(text) == 4:
        return dt.date(int(text), 12, 31)
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: expected a date YYYY-MM-DD or a year, got {value!r}") from None


def record_resolves(runs: pd.DataFrame | None, question: Question) -> bool:
    """Whether the record (already read as known by the as-of date) holds a row >= the
    threshold, public by the question's date, of a run finished in its year or before."""
    if runs is None or not len(runs):
        return False
    from forecast.record.lab_years import finish_years

    published = pd.to_datetime(runs["published"] if "published" in runs.columns else runs["date"])
    published = published.fillna(pd.to_datetime(runs["date"]))
    hit = ((runs["training_compute_flop"].to_numpy(dtype=float) >= question.threshold)
           & (published <= pd.Timestamp(question.by)).to_numpy()
           & (finish_years(runs).to_numpy() <= question.by.year))
    return bool(hit.any())


def _public_rows(evidence: Evidence | None, years, n_labs: int) -> np.ndarray:
    """``(lab, year)``: the lab-years of ``years`` with a public row by the as-of date."""
    public_row = np.zeros((n_labs, len(years)), dtype=bool)
    if evidence is not None:
        cells = evidence.cell_public & (evidence.cell_year < len(years))
        public_row[evidence.cell_lab[cells], evidence.cell_year[cells]] = True
    return public_row


def _world_answers(w, disclosure: DisclosureGrid, years, question: Question, evidence: Evidence | None,
                   public_row: np.ndarray, resolved: bool):
    """Per world: (true, published) probabilities of ``question``; ``w`` the worlds' arrays
    (:func:`~models.evidence.world_arrays`), ``disclosure`` their :class:`DisclosureGrid`
    (shared by the chunk's questions), ``public_row`` (:func:`_public_rows`)."""
    years = np.asarray(years, dtype=int)
    end = day_end(question.by)
    year = question.by.year
    log_t = math.log10(question.threshold)
    n = w.frontier.shape[0]
    before = years < year
    hit_before = (w.frontier[:, before] >= log_t).any(axis=1) if before.any() else np.zeros(n, bool)
    share = min(max(end - year, 0.0), 1.0)
    if year in years:
        m = (w.lab_compute[:, :, list(years).index(year)] >= log_t).sum(axis=1)
        # (1 - share) ** m from a table of its few values: the same pow, once per count of labs
        true = np.where(hit_before, 1.0, 1.0 - ((1.0 - share) ** np.arange(w.lab_compute.shape[1] + 1))[m])
    else:
        true = hit_before.astype(float)
    if resolved:
        return true, np.ones(n)
    upto = int(np.count_nonzero(years <= year))  # years ascending: the first ``upto``
    # P(public by the end of d), and for a lab-year begun by the as-of date a, given none by a
    # (a later one is surely not public by a: P(by d | not by a) = P(by d))
    public = disclosure.by(end, years[:upto])  # (n, lab, y)
    if evidence is not None:
        since = min(evidence.as_of, end)
        begun = int(np.count_nonzero(years[:upto] < since))
        public[..., :begun] = published_since(public[..., :begun], disclosure.by(since, years[:begun]))
    # a lab-year with a public row has its estimate out (below t, or the record resolves the
    # question): 1 - q = 1, left out of the product
    lab, y = np.nonzero(~public_row[:, :upto])
    compute = w.lab_compute[:, lab, y]  # (n, lab-year), a copy: the share is written over it
    q = public[:, lab, y] * share_at_least(compute, log_t, w.estimate_sd[:, None], out=compute, floor=NEVER_REACHED)
    np.subtract(1.0, q, out=q)
    return true, 1.0 - np.prod(q, axis=1)


def question_sums(out, labs, years, questions, *, weights=None, evidence: Evidence | None = None,
                  resolved=()) -> np.ndarray:
    """Streamed sums of a chunk for ``questions``: ``(question, answer, 3)`` with answer
    ``true``/``published`` and the sums ``w x``, ``w^2 x``, ``w^2 x^2``; then ``w`` and ``w^2``
    in a last row (``[-1, 0, :2]``)."""
    n = np.asarray(out["log10_training_compute"]).shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sums = np.zeros((len(questions) + 1, 2, 3))
    if questions:
        worlds = world_arrays(out, labs)
        disclosure = DisclosureGrid(worlds.probability, worlds.delay)
        public_row = _public_rows(evidence, years, len(labs))
    for i, question in enumerate(questions):
        answers = _world_answers(worlds, disclosure, years, question, evidence, public_row,
                                 bool(resolved[i]) if resolved else False)
        for j, x in enumerate(answers):
            sums[i, j] = [np.sum(w * x), np.sum(w * w * x), np.sum(w * w * x * x)]
    sums[-1, 0, :2] = [w.sum(), np.sum(w * w)]
    return sums


def answers_from_sums(sums: np.ndarray, questions) -> list[dict]:
    """The probabilities and Monte Carlo errors of ``questions`` from :func:`question_sums`."""
    total, total_sq = sums[-1, 0, 0], sums[-1, 0, 1]
    rows = []
    for i, question in enumerate(questions):
        row = {"threshold": float(question.threshold), "by": question.by.isoformat()}
        for j, name in enumerate(("true", "published")):
            wx, w2x, w2x2 = sums[i, j]
            mean = wx / total
            var = max(w2x2 - 2 * mean * w2x + mean * mean * total_sq, 0.0)
            row[f"{name}_probability"] = float(mean)
            row[f"{name}_mcse"] = float(math.sqrt(var) / total)
        rows.append(row)
    return rows


#: The shipped file of open forecasting questions.
QUESTIONS_PATH = __import__("pathlib").Path(__file__).parent / "data" / "questions.csv"
_QUESTION_COLUMNS = ("id", "source", "url", "question", "threshold", "by", "close", "resolves_on", "resolution_rule")


def load_questions(path=None) -> pd.DataFrame:
    """The open forecasting questions (``forecast/record/data/questions.csv``): one row each,
    with ``question_obj`` the :class:`Question` it asks. Bad input: one line naming the
    file, the line and the column."""
    import csv

    path = QUESTIONS_PATH if path is None else __import__("pathlib").Path(path)
    name = path.name
    with open(path, newline="", encoding="utf-8") as fh:
        numbered = [(i, line) for i, line in enumerate(fh, start=1) if not line.lstrip().startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    missing = [c for c in _QUESTION_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{name}: line {numbered[0][0] if numbered else 1}: missing column(s) {', '.join(missing)}")
    rows = []
    for (line, _), row in zip(numbered[1:], reader):
        try:
            threshold = float(row["threshold"])
            if not (math.isfinite(threshold) and threshold > 0):
                raise ValueError
        except ValueError:
            raise InputError(f"{name}: line {line}: threshold: not a positive number: {row['threshold']!r}") from None
        by = parse_by(row["by"], name=f"{name}: line {line}: by")
        if row["resolves_on"] not in ("true", "published"):
            raise InputError(f"{name}: line {line}: resolves_on: expected true or published, got {row['resolves_on']!r}")
        rows.append({**row, "threshold": threshold, "question_obj": Question(threshold, by)})
    return pd.DataFrame(rows)
