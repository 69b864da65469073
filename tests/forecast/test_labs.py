"""Model v3's labs through the CLI: MODEL.md's identities on a prior file whose shared priors
are all fixed, worked out by hand, and the lab outputs a run writes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import forecast
from outputs.cli import main
from tests.worlds import NEUTRAL_WORLD

#: One lab-scoped prior is uncertain: chips_base, lognormal with 5th/95th percentiles 5e4, 2e5.
CHIPS_LOW, CHIPS_HIGH = 5e4, 2e5
#: The neutral world's run: 1e15 FLOP/s x 0.4 MFU x 120 days (no growth, no cap but supply).
FLOP_PER_CHIP = 1e15 * 0.4 * 120 * 86400
THRESHOLD = 6e26  # 1.45e5 chips: a run this size is the 68th percentile of one lab's
SAMPLES = 40_000


def _prior_file(path, *, labs: int, correlation: float = 0.0):
    lines = ['name = "identity"', 'inherit = "none"', "", "[priors]"]
    for name, value in NEUTRAL_WORLD.items():
        spec = f"lognormal {CHIPS_LOW:g} to {CHIPS_HIGH:g}" if name == "chips_base" else f"fixed {value!r}"
        lines.append(f'{name} = "{spec}"')
    names = ", ".join(f'"lab{i}"' for i in range(labs))
    lines += ["", "[labs]", f"names = [{names}]", f"correlation = {correlation}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _p_one_lab() -> float:
    """P(C >= THRESHOLD) for one lab: the lognormal's survival at THRESHOLD / FLOP_PER_CHIP."""
    mu = 0.5 * (math.log(CHIPS_LOW) + math.log(CHIPS_HIGH))
    sigma = (math.log(CHIPS_HIGH) - math.log(CHIPS_LOW)) / (2 * norm.ppf(0.95))
    return float(norm.sf((math.log(THRESHOLD / FLOP_PER_CHIP) - mu) / sigma))


def _reach(tmp_path, name: str, **kwargs) -> tuple[float, float]:
    """P(a run >= THRESHOLD in 2025) and its standard error, as timeline.csv gives them."""
    priors = _prior_file(tmp_path / f"{name}.toml", **kwargs)
    out = tmp_path / name
    code = main(["run", "--priors", str(priors), "--as-of", "none", "--samples", str(SAMPLES), "--years", "2025:2025",
                 "--thresholds", f"{THRESHOLD:g}", "--out", str(out), "--keep", "0"])
    assert code == 0
    row = pd.read_csv(out / "timeline.csv").iloc[0]
    return float(row["probability"]), float(row["mcse"])


def test_one_lab_gives_its_own_lognormal_probability(tmp_path):
    p, se = _reach(tmp_path, "one", labs=1)
    assert abs(p - _p_one_lab()) < 4 * math.sqrt(_p_one_lab() * (1 - _p_one_lab()) / SAMPLES)
    assert se == pytest.approx(math.sqrt(p * (1 - p) / SAMPLES), rel=1e-5)  # CSV keeps 6 digits


def test_independent_labs_give_one_minus_the_product_and_correlated_ones_fall_between(tmp_path):
    p1 = _p_one_lab()
    k = 4
    expected = 1 - (1 - p1) ** k  # 0.99: four independent draws, any above
    independent, _ = _reach(tmp_path, "independent", labs=k, correlation=0.0)
    assert abs(independent - expected) < 4 * math.sqrt(expected * (1 - expected) / SAMPLES)
    correlated, se = _reach(tmp_path, "correlated", labs=k, correlation=0.7)
    assert p1 + 4 * se < correlated < expected - 4 * se


def test_a_run_of_several_labs_writes_who_gets_there_first(tmp_path, capsys):
    out = tmp_path / "labs"
    code = main(["run", "--labs", "3", "--lab-correlation", "0.3", "--as-of", "none", "--samples", "3000",
                 "--years", "2025:2030", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Which lab gets there first" in printed and "lab3" in printed
    labs = pd.read_csv(out / "labs.csv", index_col="lab")
    assert list(labs.index) == ["lab1", "lab2", "lab3"]
    # being first is exclusive: the labs' shares and "not reached" add to one
    first = labs[[c for c in labs.columns if c.startswith("first to") and not c.endswith("mcse")]]
    assert (first.sum() <= 1 + 1e-12).all()
    assert labs["largest run 2026"].sum() == pytest.approx(1.0)
    counts = pd.read_csv(out / "lab_counts.csv")
    distribution = counts[[f"P({c} labs)" for c in range(4)]]
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0, rtol=1e-5)  # CSV keeps 6 digits
    np.testing.assert_allclose(counts["P(>= 2 labs)"], distribution[["P(2 labs)", "P(3 labs)"]].sum(axis=1), rtol=1e-5)
    assert (out / "labs.png").is_file()
    result = forecast.load(out)
    assert result.labs == ("lab1", "lab2", "lab3")
    lab_compute = result.samples["log10_lab_training_compute"]
    assert lab_compute.dims == ("sample", "lab", "year")
    # the frontier is the largest lab's run, and the leading lab is the one that ran it
    np.testing.assert_array_equal(lab_compute.max("lab"), result.samples["log10_training_compute"])
    leader = lab_compute.argmax("lab")
    np.testing.assert_array_equal(leader, result.samples["leading_lab"])


def test_the_lab_summary_counts_what_the_worlds_show():
    result = forecast.run(samples=3000, seed=3, years="2025:2030", labs=4, lab_correlation=0.5, keep="all")
    summary = result.lab_summary()
    best = result.samples["log10_lab_training_compute"].cumulative("year").max()
    reached = (best >= 28).sum("lab")
    for count in range(5):
        np.testing.assert_allclose(summary["labs_reached"].sel(threshold=1e28, count=count),
                                   (reached == count).mean("sample"), atol=1e-12)
    frontier = result.samples["log10_training_compute"].cumulative("year").max()
    crossed = frontier >= 27
    first_year = crossed.argmax("year")
    first_lab = result.samples["leading_lab"].isel(year=first_year)
    for k, lab in enumerate(result.labs):
        expected = float(((first_lab == k) & crossed.any("year")).mean())
        assert float(summary["first_probability"].sel(threshold=1e27, lab=lab)) == pytest.approx(expected)
