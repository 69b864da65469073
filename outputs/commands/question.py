"""Answer one forecasting question: is there a run of at least THRESHOLD FLOP by a date?

Two probabilities, each with its Monte Carlo error: the true one (a run that large has
finished by the end of the day) and the published one (a public estimate that large exists
by then, for a run finished by then: what forecasting questions resolve on). The worlds
are those of `forecast run` with the same options, conditioned the same way; nothing is
written.
"""

from __future__ import annotations

import json
import sys

from forecast.settings import parse_threshold
from outputs.commands.common import add_forecast_options, forecast_settings
from outputs.text import flop_label


def add_arguments(parser) -> None:
    group = parser.add_argument_group("question")
    group.add_argument("--threshold", required=True, metavar="FLOP", help="the size asked about, e.g. 1e27")
    group.add_argument("--by", required=True, metavar="DATE", help="the date, YYYY-MM-DD (to the end of that day), or a year")
    group.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    add_forecast_options(parser, scale=False, keep=False, thresholds=False)


def question_line(answer: dict) -> list[str]:
    """The two answers in words."""
    t, by = answer["threshold"], answer["by"]
    return [
        f"true:      P(a run >= {flop_label(t)} FLOP has finished by {by}) = {100 * answer['true_probability']:.1f}% "
        f"(Monte Carlo error {100 * answer['true_mcse']:.1f} points)",
        f"published: P(a public estimate >= {flop_label(t)} FLOP exists by {by}) = "
        f"{100 * answer['published_probability']:.1f}% (Monte Carlo error {100 * answer['published_mcse']:.1f} points)",
    ]


def answer_question(settings, question: Question) -> tuple[dict, object]:
    """The answer and the run it came from (no worlds kept)."""
    from forecast.result import run_settings
    from outputs.checks import check_finite

    result = check_finite(run_settings(settings.replace(keep=0), progress=sys.stderr.isatty(),
                                       questions=[question]))
    answer = json.loads(result.metadata["questions"])[0]
    return answer, result


def main(args) -> int:
    from forecast.record.questions import Question, parse_by

    question = Question(parse_threshold(args.threshold), parse_by(args.by))
    settings = forecast_settings(args)
    answer, result = answer_question(settings, question)
    meta = result.metadata
    if args.json:
        print(json.dumps({**answer, "as_of": meta.get("as_of", "none"), "samples": result.n_samples,
                          "seed": result.seed, "priors": result.priors.name,
                          "pareto_k": meta.get("pareto_k"), "ess": meta.get("ess")}))
        return 0
    print(f"Question: a run of at least {flop_label(question.threshold)} FLOP by {question.by.isoformat()} "
          f"(prior set {result.name}, {result.n_samples:,} worlds, seed {result.seed})")
    print("\n".join(question_line(answer)))
    if meta.get("conditioned_on"):
        print(f"Conditioned on {meta['conditioned_on']}: Pareto k = {meta['pareto_k']:.2f}, "
              f"effective sample size {meta['ess']:,.0f}"
              + ("" if meta["pareto_k"] <= 0.7 else " (UNRELIABLE: use forecast calibrate)"))
    else:
        print("Not conditioned on the record (--as-of none).")
    return 0
