"""Our probability for each open forecasting question on training compute in
forecast/record/data/questions.csv (its source, resolution rule and close date): the
true probability and the published one (a public estimate by the date, what most such
questions resolve on), each with its Monte Carlo error. One run answers them all; nothing
is written."""

from __future__ import annotations

import json
import sys


def add_arguments(parser) -> None:
    from outputs.commands.common import add_forecast_options

    parser.add_argument("--json", action="store_true", help="print the answers as a JSON list")
    add_forecast_options(parser, scale=False, keep=False, thresholds=False)


def main(args) -> int:
    from forecast.record.questions import load_questions
    from forecast.result import run_settings
    from outputs.checks import check_finite
    from outputs.commands.common import forecast_settings
    from outputs.commands.question import question_line

    settings = forecast_settings(args, keep=0)
    table = load_questions()
    result = check_finite(run_settings(settings, progress=sys.stderr.isatty(),
                                       questions=list(table["question_obj"])))
    answers = json.loads(result.metadata["questions"])
    if args.json:
        print(json.dumps([{**{k: v for k, v in row.items() if k != "question_obj"}, **answer}
                          for row, answer in zip(table.to_dict("records"), answers)]))
        return 0
    meta = result.metadata
    print(f"Open questions on training compute (prior set {result.name}, {result.n_samples:,} worlds, "
          f"seed {result.seed}; conditioned on {meta.get('conditioned_on', 'nothing: --as-of none')})")
    for row, answer in zip(table.to_dict("records"), answers):
        ours = answer[f"{row['resolves_on']}_probability"]
        print(f"\n{row['id']} ({row['source']}, closes {row['close']}): {row['question']}\n  {row['url']}\n"
              f"  resolves on: {row['resolution_rule']}\n  ours ({row['resolves_on']}): {100 * ours:.1f}%")
        print("\n".join("  " + line for line in question_line(answer)))
    return 0
