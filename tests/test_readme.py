"""The README's numbers come from ``docs/readme_numbers.py``: every marked number equals the
script's JSON, and the results sections hold no figure that is neither generated, measured
nor a stated input. Nothing here runs the model except the one small run at the end."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _script():
    spec = importlib.util.spec_from_file_location("readme_numbers", ROOT / "docs" / "readme_numbers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("readme_numbers", module)
    spec.loader.exec_module(module)
    return module


numbers = _script()

#: The results: each span runs from its first phrase to its second (None: the end). A new
#: section that prints results gets a span here.
RESULTS = (
    ("## The default forecast", "## What `forecast run` prints and writes"),
    ("## Write-ups", "## History"),  # the report's sentences; the app's timings
    ("## History", "## Writing priors"),
    ("Worked examples, each as a `--set`", "`forecast run --priors my_view.toml`"),
    ("## What would you need to believe?", "## The record, conditioning"),
    ("**Two quantities: true and published.**", "**Published forecasts on the fan chart.**"),
    ("## Speed and scale", "## Contributing"),
)

#: A figure that reads as a result: a percentage, a decimal, a number in scientific notation
#: (not a bare power of ten: ``1e28`` is a threshold, an input).
FIGURE = re.compile(r"(?<![\w.\-])[<>~]?(?:\d+(?:\.\d+)?%|\d+(?:\.\d+)?e[+-]?\d+|\d+\.\d+)(?![\w])")
POWER_OF_TEN = re.compile(r"^1e\d+$")
#: A percentage that names a level, not a result: ``90% interval``, ``50% and 90% intervals``,
#: ``90% CI``, ``10/50/90%``.
LEVEL = re.compile(r"\d+%\s+(?:and\s+\d+%\s+)?(?:interval|intervals|CI|band|bands|range|chance)\b"
                   r"|\d+/\d+/\d+%|\bat \d+%")

#: Inputs, quotations and data the README cites inside the results sections: each is what
#: someone wrote or a setting, not an output of the model, so the script does not make it.
#: Every entry must still occur in README.md (so the list cannot rot).
INPUTS = (
    "rank correlation 0.5 (judgement",
    "quoted about 50% for a true 1e27 run by 2026, 45-60% for 1e28 by 2028 and about 35% for",
    "year Epoch AI measured for frontier models (\"Training compute of frontier AI models grows\n  by 4-5x per year\"",
    "(2025: Grok 4 5e26, GPT-4.5 3.8e26)",
    "uniform 0.2-0.6 (judgement)",
    "Epoch's 6e28-2e32 (median 2e30,",
    "m uniform 0.3-0.8",
    "P(8-bit by 2025) = 0.7, MFU mean 0.35 (0.20-0.50),\n  post-training 5-50% of pretraining",
    "mean 0.4.",
    "AlphaGo Zero reads 3.4e23 FLOP (self-play included), its value until Epoch AI's current\n  6.5e20",
    "(0.15 OOM/yr,\n  sd 0.5:",
    "(May 2018, 3.4-month doubling, 1.06 OOM/yr)",
    "al. (February 2022, 0.36 OOM/yr)",
    "the record then held AlphaGo Zero at 3.4e23 and the published growth was a 3.4-month\ndoubling",
    "Pareto k exceeds 0.7",
    "AlphaGo Zero's stale 3.4e23",
    "0.001-dex histograms",
    "Gemini 1.0 Ultra",
    "127.0.0.1",
    "chip growth is 2.2x a year, and my 90% range\n  1.5 to 3.5",
    "the\n  5%..50% gap (0.1) and 50%..95% gap (8.9)",
    '"70% business as usual, 30% a crash program"',
    "puts 1.5 and 3.5 at the 10th and 90th",
    "growth from 0.5 to 0.9",
    "at 0.9 (",
    "at the default 0.5;",
)


def _readme() -> str:
    return README.read_text()


def _values() -> dict[str, str]:
    return numbers.load_values()


def test_every_marked_number_equals_the_scripts():
    problems = numbers.disagreements(_readme(), _values())
    assert not problems, ("README.md and docs/readme_numbers.json disagree (run `python docs/readme_numbers.py "
                          "--write`, or `--reuse --write` to copy the JSON):\n" + "\n".join(problems))


def test_the_readme_marks_every_number_of_the_json_and_the_json_says_where_each_came_from():
    data = json.loads(numbers.NUMBERS.read_text())
    assert data["how"] == "python docs/readme_numbers.py --write"
    shown = numbers.readme_markers(_readme())
    assert set(shown) <= set(data["numbers"])
    for name in shown:
        command = data["numbers"][name]["command"]
        assert command.startswith(("forecast ", "priors.")), (name, command)
    steps = {numbers.shown_command(step) for step in numbers.STEPS} | {"priors.spec.parse_spec(SPEC).ppf(q)"}
    assert {data["numbers"][name]["command"] for name in shown} <= steps


def _unmarked_figures(text: str, results=RESULTS) -> list[str]:
    """The figures of the :data:`RESULTS` spans of ``text`` that no marker, code span, code
    block or listed input holds (a level such as ``90% interval`` is no figure)."""
    spans = []
    for start, end in results:
        first = text.index(start)
        spans.append(text[first:text.index(end, first) if end else len(text)])
    text = "\n".join(spans)
    text = numbers.BLOCK.sub("", text)
    text = re.sub(r"^<!--mb:[^>]*-->\n.*?\n<!--/mb-->$", "", text, flags=re.DOTALL | re.MULTILINE)
    text = numbers.INLINE.sub("", numbers.MEASURED.sub("", text))
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("    "))  # indented code
    for snippet in INPUTS:
        text = text.replace(snippet, "")
    text = LEVEL.sub("", re.sub(r"`[^`]*`", "", text))
    found = []
    for line in text.splitlines():
        found += [f"{m.group(0)!r} in {line.strip()!r}" for m in FIGURE.finditer(line)
                  if not POWER_OF_TEN.match(m.group(0).lstrip("<>~"))]
    return found


def test_results_sections_hold_no_unmarked_figure():
    unmarked = _unmarked_figures(_readme())
    assert not unmarked, ("figures in README.md's results that docs/readme_numbers.py does not make: mark each "
                          "(<!--n:NAME-->, a measurement <!--m:SOURCE-->) or list an input in tests/test_readme.py:\n"
                          + "\n".join(unmarked))


def test_every_listed_input_is_still_in_the_readme():
    text = _readme()
    assert [snippet for snippet in INPUTS if snippet not in text] == []


def test_every_results_span_is_still_in_the_readme():
    text = _readme()
    for start, end in RESULTS:
        assert start in text and (end is None or end in text[text.index(start):]), (start, end)


def test_an_unmarked_result_is_caught_and_a_marked_one_is_not():
    def unmarked(body):
        return _unmarked_figures("## Results\n\n" + body, results=(("## Results", None),))

    assert unmarked("P(>= 1e28 by 2028) is 76%.\n") == ["'76%' in 'P(>= 1e28 by 2028) is 76%.'"]
    assert unmarked("a median of 4.2e26 and k = 0.15\n") == [
        "'4.2e26' in 'a median of 4.2e26 and k = 0.15'", "'0.15' in 'a median of 4.2e26 and k = 0.15'"]
    assert unmarked("P(>= 1e28 by 2028) is <!--n:x-->76%<!--/n--> (`--set mfu=0.45`).\n") == []
    assert unmarked("```\n76%\n```\n    0.5 s\n<!--m:bench/x.py-->2 s<!--/m-->\n") == []
    assert unmarked("its 50% and 90%\nintervals, a 90% CI, contours at 10/50/90%, a 10% chance\n") == []
    assert unmarked("<!--mb:bench/x.py-->\nit took 2.5 s\n<!--/mb-->\nthen 3.5 s\n") == ["'3.5' in 'then 3.5 s'"]


# --------------------------------------------------------------------------- the script's parts


RUN_OUTPUT = """Forecast of the largest training run: prior set default, 1,000 worlds, seed 1

year  median     90% interval  P>=1e27  P>=1e28  binding
----  ------  ---------------  -------  -------  -----------
2025  4.3e26    2.9e26 - 1e27       5%   <0.3%  supply 39%
2026  1.5e27  6.4e26 - 4.1e27      77%      2%  funding 52%

median and 90% interval in FLOP

What the largest run takes: cost

year  cost
----  ----
2025  $1bn

Which lab gets there first (2 labs).

lab     first 1e27
------  ----------
openai         60%
xai            40%

question               true          published
---------------------  ------------  ------------
>= 1e27 by 2026-12-31  76.9% +- 2.0  7.0% +- 0.3
true: a run that large has finished by the date

openai 2025: GPT-4.5 (3.8e26 FLOP, its largest run) sits at the 85th percentile of the prior
forecast.
Conditioned on the record as published by 2026-12-06: Pareto k = 0.03 (reliable), effective sample
size 420 of 1,000 worlds.
"""


def test_the_run_output_is_read_by_its_columns():
    table = numbers.year_table(RUN_OUTPUT)
    assert sorted(table) == [2025, 2026]
    assert table[2025]["90% interval"] == "2.9e26 - 1e27"
    assert table[2025]["P>=1e28"] == "<0.3%" and table[2026]["binding"] == "funding 52%"
    questions = numbers.question_table(RUN_OUTPUT)
    assert questions[">= 1e27 by 2026-12-31"]["published"] == "7.0% +- 0.3"
    assert numbers.model_check_percentile(RUN_OUTPUT, "GPT-4.5") == "85th"
    with pytest.raises(ValueError, match="Grok 4"):
        numbers.model_check_percentile(RUN_OUTPUT, "Grok 4")
    assert numbers.conditioning(RUN_OUTPUT) == ("0.03", "420")


def test_the_run_block_keeps_the_tables_and_marks_what_it_leaves_out():
    block = numbers.run_block(RUN_OUTPUT).splitlines()
    assert block[0] == block[-1] == "```"
    assert block[1].startswith("Forecast of") and block[2] == ""
    assert block.count("...") == 2  # for the cost table, and for the model check
    assert "What the largest run takes: cost" not in block and "lab     first 1e27" in block
    assert block[-2] == "size 420 of 1,000 worlds."


def test_numbers_are_formatted_as_the_tool_formats_them():
    assert numbers.share(0.6) == "60%" and numbers.share(0.0102) == "1.0%" and numbers.share(0.0067) == "0.67%"
    assert numbers.parse_percent("76.5%") == pytest.approx(0.765)
    assert numbers.number(2.3912) == "2.39"


def test_render_puts_values_in_the_markers_and_disagreements_name_them():
    text = "a <!--n:p-->1%<!--/n--> b\n<!--b:t-->\n| x |\n<!--/b-->\nc <!--m:bench/x.py-->3 s<!--/m-->\n"
    assert numbers.readme_markers(text) == {"p": "1%", "t": "| x |"}
    assert numbers.disagreements(text, {"p": "2%", "t": "| x |"}) == ["p: README '1%', script '2%'"]
    assert numbers.disagreements(text, {"p": "1%"}) == ["t: not in readme_numbers.json"]
    rendered = numbers.render(text, {"p": "2%", "t": "| y |\n| z |"})
    assert rendered == ("a <!--n:p-->2%<!--/n--> b\n<!--b:t-->\n| y |\n| z |\n<!--/b-->\n"
                        "c <!--m:bench/x.py-->3 s<!--/m-->\n")
    assert numbers.disagreements(rendered, {"p": "2%", "t": "| y |\n| z |"}) == []
    assert numbers.readme_markers("write `<!--n:NAME-->76%<!--/n-->` to mark one") == {}  # code, not a marker


def test_markdown_rows_read_a_table_with_escaped_bars():
    text = "x\n| method | err \\| (OOM) | n |\n|---|---:|---:|\n| trend | 1.5 | 3 |\n\nafter"
    assert numbers.markdown_rows(text, "| method ") == [{"method": "trend", "err | (OOM)": "1.5", "n": "3"}]


def test_a_small_default_run_gives_every_number_the_readme_takes_from_it(tmp_path):
    """The steps read what the commands print today: one small run through the default step."""
    step = numbers.Step("run", ["run", "--samples", "500", "--out", "{out}"],
                        numbers.extract_default)
    found = numbers.run_step(step, tmp_path)["numbers"]
    assert numbers.shown_command(step) == "forecast run --samples 500"
    assert found["run.block"].startswith("```\nForecast of the largest training run")
    for name in ("v3.median_2026", "v3.p1e27_2026", "v3.p1e28_2028", "v3.p1e29_2030", "v3.data_binds_2030",
                 "run.true_1e28_2028", "run.published_1e28_2028", "run.pareto_k", "run.ess"):
        assert found[name], name
    assert found["run.check_gpt45"].endswith(("st", "nd", "rd", "th"))
    assert re.fullmatch(r"\d+(\.\d+)?x", found["run.median_growth_2025_2028"])


def test_the_no_pairs_file_sets_every_default_pair_to_zero(tmp_path):
    import tomllib

    written = tomllib.loads(numbers.no_pairs_file(tmp_path).read_text())["correlations"]
    default = tomllib.loads((ROOT / "priors" / "default.toml").read_text())["correlations"]
    pairs = lambda table: {(a, b) for a, partners in table.items() for b in partners}  # noqa: E731
    assert pairs(written) == pairs(default) and len(pairs(written)) >= 7
    assert {value for partners in written.values() for value in partners.values()} == {0}


def test_the_worked_examples_quantiles_come_from_the_prior_language():
    found = numbers.prior_quantiles()
    # "lognormal 1.5 to 3.5 (80%)": log-normal with the 10th/90th percentiles at 1.5/3.5, so
    # its 5th/95th are exp(mu -+ 1.645 sigma), mu = ln(sqrt(1.5 * 3.5)), sigma = ln(3.5/1.5) / 2.563
    import math
    mu, sigma = math.log(math.sqrt(1.5 * 3.5)), math.log(3.5 / 1.5) / (2 * 1.2816)
    assert found["priors.coverage_p05"] == f"{math.exp(mu - 1.6449 * sigma):.3g}"
    assert found["priors.coverage_p95"] == f"{math.exp(mu + 1.6449 * sigma):.3g}"
    assert set(found) == {"priors.metalog_p25", "priors.metalog_p75", "priors.mixture_median",
                          "priors.mixture_p95", "priors.coverage_p05", "priors.coverage_p95"}
